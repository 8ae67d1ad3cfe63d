"""What each principal may see of the CTI stream.

- oversight (live.view: admin, supervisor, auditor and their tokens): everything;
- an agent: their own agent's state, the calls at their extension or taken by them,
  and the queue figures; the screen pop (Delivered at their phone) carries the caller's
  record;
- a wallboard: queue figures and agent states, without caller numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webui.web import Ctx

JsonDict = dict[str, Any]
QUEUE_EVENTS = frozenset({"QueueChanged", "QueueStatistics"})
CALL_START = frozenset({"Offered", "Delivered", "Established", "Queued"})


class Viewer:
    def __init__(self, kind: str, agent: str | None = None, extension: str | None = None,
                 lookup: Callable[[str], JsonDict] | None = None) -> None:
        self.kind = kind  # all | agent | wallboard
        self.agent = agent
        self.extension = extension
        self.lookup = lookup
        self.calls: set[str] = set()  # an agent's calls, followed until they clear

    @classmethod
    def for_ctx(cls, ctx: Ctx, lookup: Callable[[str], JsonDict] | None = None) -> Viewer:
        if ctx.can("live.view"):
            return cls("all", ctx.agent_id, ctx.extension, lookup)
        if ctx.can("desk") or ctx.can("cti.control"):
            return cls("agent", ctx.agent_id, ctx.extension, lookup)
        return cls("wallboard")

    def _mine(self, ev: JsonDict) -> bool:
        return bool((self.extension and self.extension in (ev.get("device"), ev.get("held"),
                                                           ev.get("by"), ev.get("party")))
                    or (self.agent and ev.get("agent") == self.agent))

    def event(self, ev: JsonDict) -> JsonDict | None:
        """The event as this viewer may see it, or None."""
        name = ev.get("event")
        if name in QUEUE_EVENTS:
            return ev
        if self.kind == "wallboard":
            if name == "AgentState":
                return {**ev, "caller": None}
            return None
        if self.kind == "agent":
            if name == "AgentState":
                return ev if self.agent and ev.get("agent") == self.agent else None
            call = ev.get("call")
            if not isinstance(call, str):
                return None
            if call not in self.calls:
                if not (name in CALL_START and self._mine(ev)):
                    return None
                self.calls.add(call)
            if name == "CallCleared":
                self.calls.discard(call)
        if name == "Delivered" and self.lookup is not None and self._mine(ev):
            caller = ev.get("caller")
            if isinstance(caller, str) and caller:
                ev = {**ev, "customer": self.lookup(caller)}
        return ev

    def snapshot(self, snap: JsonDict) -> JsonDict:
        if self.kind == "all":
            return snap
        agents = snap.get("agents") or []
        if self.kind == "wallboard":
            return {**snap, "calls": [],
                    "agents": [{**a, "caller": None, "call": None} for a in agents]}
        mine = [c for c in snap.get("calls") or []
                if (self.extension and self.extension in (c.get("devices") or {}))
                or (self.agent and c.get("agent") == self.agent)
                or (self.extension and self.extension in (c.get("parties") or []))]
        self.calls = {str(c.get("call") or c.get("id")) for c in mine}
        return {**snap, "calls": mine,
                "agents": [a for a in agents if a.get("agent") == self.agent]}
