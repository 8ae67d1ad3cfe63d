"""The dial plan: where does a dialled number go?

In order:
1. a DID of the site (the public numbers, from a trunk or dialled by an extension):
   screened first (blacklist, locks, auto-lock counting; screening.py), then its time
   rules choose the target (分时段): an IVR flow, a queue, an extension, a ring group,
   a conference room, an outside number, or a release;
2. a numbering plugin's number (feature codes, ring groups: `plugins`);
3. from a trunk: an extension number, else "unallocated";
4. from an extension: `0` + number out through the trunk, else an extension.

Everything a route needs is in memory (swapped whole on reload), so the call path
never reads the database. The switch core never learns about numbering.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from firmware.ivr import Flow
from firmware.siteconfig.model import CallTarget, DidRoute, Treatment
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel
from firmware.switch.directory import ExtensionDirectory
from firmware.switch.screening import Screener

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    # "extension", "trunk", "ivr" (target: a flow id), "queue", "group" (a ring group,
    # PhoneFeatures), "conference" (a room, call control), "feature" (a * code)
    kind: str
    target: str
    priority: int = 0  # queue priority
    flow: Flow | None = field(default=None, compare=False)  # a generated flow (treatment)
    note: str = field(default="", compare=False)  # why, for the log and the CDR


@dataclass(frozen=True)
class Reject:
    cause: Cause
    why: str


# Dialled by an extension, this prefix takes an outside line ("0" as on Chinese PBXs).
TRUNK_PREFIX = "0"
# Calls arriving from these channel techs are PSTN trunk calls (never sent back out).
TRUNK_TECHS = frozenset({"pri", "fxo"})


# A numbering plugin (feature codes, ring groups...): a route for the number dialled,
# or None to let the next plugin and then the built-in plan decide. Args: the number,
# and whether the call came in from a trunk.
NumberPlugin = Callable[[str, bool], "Route | Reject | None"]


def trunk_port(ch: Channel) -> str:
    """The driver's trunk name of a PSTN leg ("span1" for "span1/12"); "" otherwise."""
    return ch.peer_name.split("/", 1)[0] if ch.tech in TRUNK_TECHS else ""


class Router:
    def __init__(self, directory: ExtensionDirectory, trunk_prefix: str = TRUNK_PREFIX,
                 dids: dict[str, str] | None = None,
                 ivr_routes: dict[str, str] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """`dids` (DID -> extension) and `ivr_routes` (number -> flow id) are shorthands
        for tests; the box sets `routes` from the site configuration."""
        self.directory = directory
        self.trunk_prefix = trunk_prefix
        self.clock = clock
        routes = {n: DidRoute(n, "", CallTarget("extension", e)) for n, e in (dids or {}).items()}
        routes.update({n: DidRoute(n, "", CallTarget("flow", f))
                       for n, f in (ivr_routes or {}).items()})
        self.routes: Mapping[str, DidRoute] = routes
        self.screener: Screener | None = None
        self.treatment_flows: Mapping[str, Flow] = {}
        # consulted in order after the DIDs, before extensions and the trunk prefix
        self.plugins: list[NumberPlugin] = []
        self.rooms: frozenset[str] = frozenset()  # conference rooms of the site

    def route(self, ch: Channel) -> Route | Reject:
        called = ch.called.strip()
        if not called:
            return Reject(Cause.INVALID_NUMBER_FORMAT, "no number dialled")
        from_trunk = ch.tech in TRUNK_TECHS
        did = self.routes.get(called)
        if did is not None and did.accepts(trunk_port(ch)):
            return self._did(did, ch)
        found = self._plugin(called, from_trunk)
        if found is not None:
            return found
        if (not from_trunk and self.trunk_prefix and called.startswith(self.trunk_prefix)
                and len(called) > len(self.trunk_prefix)
                and self.directory.get(called) is None):
            return Route("trunk", called[len(self.trunk_prefix):])
        return self._extension(called)

    def _did(self, did: DidRoute, ch: Channel) -> Route | Reject:
        now = self.clock()
        if self.screener is not None:
            verdict = self.screener.check(did.number, ch.caller.number, now)
            if verdict is not None:
                return self._treat(verdict.treatment, verdict.why)
        target, why = did.choose(now)
        return self._to(target, f"DID {did.number} {why}")

    def _to(self, target: CallTarget, note: str) -> Route | Reject:
        if target.kind == "flow":
            return Route("ivr", target.value, note=note)
        if target.kind == "queue":
            return Route("queue", target.value, target.priority, note=note)
        if target.kind == "external":
            return Route("trunk", target.value, note=note)
        if target.kind in ("extension", "group", "conference"):
            found = self.internal(target.value, note)
            if isinstance(found, Route) and found.kind != target.kind and not (
                    target.kind == "extension" and found.kind == "group"):
                # the site changed under a stale target (validation keeps them apart)
                return Reject(Cause.UNALLOCATED_NUMBER, f"{note}: {target} is now a "
                              f"{found.kind}")
            return found
        return Reject(Cause.NORMAL_CLEARING, f"{note}: released")

    def internal(self, number: str, note: str = "") -> Route | Reject:
        """An internal number (a DID's target, an IVR transfer): a conference room, a
        ring group (a numbering plugin's route) or an extension."""
        if number in self.rooms:
            return Route("conference", number, note=note)
        found = self._plugin(number, False)
        if isinstance(found, Route) and found.kind == "group":
            return dataclasses.replace(found, note=note)
        return self._extension(number, note)

    def _treat(self, t: Treatment, why: str) -> Route | Reject:
        if t.kind == "flow" and t.flow is not None:
            return Route("ivr", t.flow, note=why)
        if t.kind == "prompt" and t.prompt is not None:
            flow = self.treatment_flows.get(t.prompt)
            if flow is not None:
                return Route("ivr", flow.id, flow=flow, note=why)
            log.error("no announcement flow for prompt %s: rejecting instead", t.prompt)
        try:
            cause = Cause(t.cause)
        except ValueError:
            cause = Cause.CALL_REJECTED
        return Reject(cause, why)

    def _plugin(self, number: str, from_trunk: bool) -> Route | Reject | None:
        for plugin in self.plugins:
            found = plugin(number, from_trunk)
            if found is not None:
                return found
        return None

    def _extension(self, number: str, note: str = "") -> Route | Reject:
        ext = self.directory.get(number)
        if ext is None:
            return Reject(Cause.UNALLOCATED_NUMBER, f"{number} is not a number of this box")
        if not ext.enabled:
            return Reject(Cause.SUBSCRIBER_ABSENT, f"extension {number} is disabled")
        return Route("extension", number, note=note)
