"""The CTI view of the switch, sans I/O: bus events in, CTI events (JSON-ready dicts,
CSTA vocabulary) out.

`CtiModel.handle(event)` keeps just what CTI clients need that the switch does not keep
itself: which device a call is alerting or connected at (an ACD offer has its own legs,
not the call's), since when an agent is in a state, when each waiting caller joined, and
today's queue-log records for the queue figures. It returns the CTI events the bus event
means, in order. Nothing here reads a clock, a socket or the database.

Event names follow CSTA where one exists (Offered, Delivered, Established, Held,
Retrieved, Transferred, Conferenced, Diverted, ConnectionCleared, CallCleared); agent
changes are one `AgentState` event carrying the whole state and the CSTA agent event
name in `kind` (AgentLoggedOn, AgentReady, AgentNotReady, AgentBusy,
AgentWorkingAfterCall, AgentLoggedOff); queue changes are `QueueChanged` (waiting
callers) and `QueueStatistics` (today's figures, see `stats`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from firmware.acd.queuelog import (
    Abandon,
    Connect,
    EnterQueue,
    ExitEmpty,
    ExitWithKey,
    ExitWithTimeout,
    QueueLogRecord,
)
from firmware.switch.events import (
    AgentStateChanged,
    CallEnded,
    Conferenced,
    ConnectionCleared,
    ConsultationStarted,
    Delivered,
    Diverted,
    Established,
    Event,
    Held,
    MonitorChanged,
    Originated,
    QueueLogged,
    Retrieved,
    Transferred,
)

JsonDict = dict[str, Any]

# CSTA agent event names for the ACD's event classes.
AGENT_KINDS = {
    "AgentLoggedIn": "AgentLoggedOn",
    "AgentLoggedOut": "AgentLoggedOff",
    "AgentReady": "AgentReady",
    "AgentNotReady": "AgentNotReady",
    "AgentRinging": "AgentBusy",  # CSTA has no ringing agent state: busy with an offer
    "AgentBusy": "AgentBusy",
    "AgentWrapUp": "AgentWorkingAfterCall",
}
_LEFT_QUEUE = {Connect: "answered", Abandon: "abandoned", ExitWithTimeout: "timeout",
               ExitEmpty: "empty", ExitWithKey: "key"}


@dataclass
class CallView:
    id: str
    caller: str
    called: str
    start: float
    tech: str = ""
    queue: str = ""
    agent: str = ""
    answered: float | None = None
    devices: dict[str, str] = field(default_factory=dict)  # device -> alerting|connected|held
    channels: dict[str, str] = field(default_factory=dict)  # channel id -> device

    def public(self) -> JsonDict:
        return {"call": self.id, "caller": self.caller, "called": self.called,
                "start": self.start, "answered": self.answered, "queue": self.queue,
                "agent": self.agent, "devices": dict(self.devices)}


@dataclass
class AgentView:
    agent: str
    state: str = "logged-out"
    since: float = 0.0
    device: str | None = None
    reason: str | None = None
    call: str | None = None
    queue: str | None = None
    wrap_until: float | None = None


def local_midnight(now: float) -> float:
    t = time.localtime(now)
    return time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))


class CtiModel:
    def __init__(self, started: float) -> None:
        self.started = started
        self.calls: dict[str, CallView] = {}
        self.agents: dict[str, AgentView] = {}
        self.waiting: dict[str, dict[str, float]] = {}  # queue -> call id -> joined at
        self.day_start = local_midnight(started)
        self.records: list[QueueLogRecord] = []  # today's, in arrival order
        self.records_version = 0  # bumped on every record: stats are recomputed when it moves

    # --- inputs ------------------------------------------------------------------------------
    def load_records(self, records: list[QueueLogRecord]) -> None:
        """Today's records from the queue-log file, read when switchd starts; callers
        still waiting then (a restart drops calls) are not reconstructed."""
        self.records = [r for r in records if r.time >= self.day_start] + self.records
        self.records_version += 1

    def roll_day(self, now: float) -> bool:
        """At local midnight the day's figures start from zero; True when it rolled."""
        midnight = local_midnight(now)
        if midnight <= self.day_start:
            return False
        self.day_start = midnight
        self.records = [r for r in self.records if r.time >= midnight]
        self.records_version += 1
        return True

    def handle(self, ev: Event) -> list[JsonDict]:
        match ev:
            case Originated():
                return self._originated(ev)
            case Delivered():
                return self._alerting(ev.call_id, ev.channel_id, ev.callee, ev.time)
            case Established():
                return self._established(ev)
            case Held() | Retrieved():
                return self._hold(ev)
            case ConnectionCleared():
                return self._cleared(ev)
            case CallEnded():
                return self._ended(ev)
            case Transferred():
                return [self._call_event("Transferred", ev.call_id, ev.time, by=ev.by,
                                         party=ev.party, to=ev.to, kind=ev.kind)]
            case Conferenced():
                return [self._call_event("Conferenced", ev.call_id, ev.time, by=ev.by,
                                         parties=list(ev.parties))]
            case Diverted():
                return [self._call_event("Diverted", ev.call_id, ev.time,
                                         device=ev.to_device, from_device=ev.from_device,
                                         kind=ev.kind)]
            case ConsultationStarted():
                return [self._call_event("ConsultationStarted", ev.call_id, ev.time,
                                         device=ev.by, to=ev.target)]
            case MonitorChanged():
                return [self._call_event("MonitorChanged", ev.call_id, ev.time,
                                         supervisor=ev.supervisor, agent=ev.agent,
                                         mode=ev.mode)]
            case AgentStateChanged():
                return self._agent(ev)
            case QueueLogged():
                return self._queue_record(ev.record)
        return []

    # --- calls -------------------------------------------------------------------------------
    def _call_event(self, name: str, call_id: str, at: float, **data: Any) -> JsonDict:
        out: JsonDict = {"event": name, "time": at, "call": call_id}
        view = self.calls.get(call_id)
        if view is not None:
            out.update(caller=view.caller, called=view.called, queue=view.queue,
                       agent=view.agent)
        out.update(data)
        return out

    def _originated(self, ev: Originated) -> list[JsonDict]:
        view = CallView(ev.call_id, ev.caller, ev.called, ev.time, ev.tech)
        self.calls[ev.call_id] = view
        device = ev.caller if ev.tech == "sip" else ""
        if device:
            view.devices[device] = "initiated"
            view.channels[ev.channel_id] = device
        return [self._call_event("Offered", ev.call_id, ev.time, device=device, tech=ev.tech)]

    def _alerting(self, call_id: str, channel_id: str, device: str, at: float,
                  **data: Any) -> list[JsonDict]:
        view = self.calls.get(call_id)
        if view is None or not device or view.devices.get(device) in ("alerting", "connected"):
            return []
        view.devices[device] = "alerting"
        if channel_id:
            view.channels[channel_id] = device
        return [self._call_event("Delivered", call_id, at, device=device, **data)]

    def _established(self, ev: Established) -> list[JsonDict]:
        view = self.calls.get(ev.call_id)
        if view is None:
            return []
        if view.answered is None:
            view.answered = ev.time
        device = ev.callee
        if device:
            view.devices[device] = "connected"
            view.channels[ev.channel_id] = device
        return [self._call_event("Established", ev.call_id, ev.time, device=device)]

    def _hold(self, ev: Held | Retrieved) -> list[JsonDict]:
        view = self.calls.get(ev.call_id)
        held = view.channels.get(ev.channel_id, "") if view is not None else ""
        name = "Held" if isinstance(ev, Held) else "Retrieved"
        if view is not None and held in view.devices:
            view.devices[held] = "held" if name == "Held" else "connected"
        return [self._call_event(name, ev.call_id, ev.time, device=ev.by, held=held)]

    def _cleared(self, ev: ConnectionCleared) -> list[JsonDict]:
        view = self.calls.get(ev.call_id)
        if view is None:
            return []
        device = view.channels.pop(ev.channel_id, "")
        if device:
            view.devices.pop(device, None)
        return [self._call_event("ConnectionCleared", ev.call_id, ev.time, device=device,
                                 cause=ev.cause.name, by=ev.by)]

    def _ended(self, ev: CallEnded) -> list[JsonDict]:
        view = self.calls.pop(ev.call_id, None)
        out: list[JsonDict] = []
        if view is not None:
            # devices still alerting or connected when the whole call ends (an offer the
            # caller abandoned, a forced release): each hears its connection cleared
            for device in list(view.devices):
                out.append({"event": "ConnectionCleared", "time": ev.time, "call": ev.call_id,
                            "caller": view.caller, "called": view.called,
                            "queue": view.queue, "agent": view.agent, "device": device,
                            "cause": ev.cause.name, "by": ev.released_by})
        for queue, waiting in self.waiting.items():
            if waiting.pop(ev.call_id, None) is not None:  # no queue record said it left
                out.append(self.queue_changed(queue, ev.time))
        talk = ev.end - ev.answer if ev.answer is not None else 0.0
        out.append({"event": "CallCleared", "time": ev.time, "call": ev.call_id,
                    "caller": ev.caller, "called": ev.called, "callee": ev.callee,
                    "queue": ev.extra.get("queue", view.queue if view else ""),
                    "agent": ev.extra.get("agent", view.agent if view else ""),
                    "cause": ev.cause.name, "by": ev.released_by,
                    "talk": round(max(0.0, talk), 1)})
        return out

    # --- agents ------------------------------------------------------------------------------
    def agent_view(self, agent: str) -> AgentView:
        view = self.agents.get(agent)
        if view is None:
            view = self.agents[agent] = AgentView(agent, since=self.started)
        return view

    def _agent(self, ev: AgentStateChanged) -> list[JsonDict]:
        a = self.agent_view(ev.agent)
        d = ev.data
        out: list[JsonDict] = []
        kind = ev.kind
        if kind == "AgentLoggedIn":
            a.device = str(d.get("device") or "") or None
            if a.state != "logged-out":
                # a move to another extension: same state, new device
                out.append(self.agent_event(a, ev.time, "AgentLoggedOn"))
            return out
        if kind == "AgentLoggedOut":
            a.state, a.device, a.reason, a.call, a.queue, a.wrap_until = (
                "logged-out", None, None, None, None, None)
        elif kind == "AgentReady":
            a.state, a.reason, a.call, a.queue, a.wrap_until = "ready", None, None, None, None
        elif kind == "AgentNotReady":
            a.state, a.reason, a.call, a.queue, a.wrap_until = (
                "not-ready", str(d.get("reason") or ""), None, None, None)
        elif kind == "AgentRinging":
            a.state, a.call, a.queue = "ringing", str(d.get("call_id")), str(d.get("queue"))
            view = self.calls.get(a.call)
            if view is not None:
                view.queue = a.queue
                view.agent = ev.agent
            if a.device:
                # the screen pop: the ACD rings the agent's phone for this caller now
                out += self._alerting(a.call, "", a.device, ev.time, agent=ev.agent)
        elif kind == "AgentBusy":
            a.state, a.call, a.queue = "on-call", str(d.get("call_id")), str(d.get("queue"))
            view = self.calls.get(a.call)
            if view is not None:
                view.agent = ev.agent
        elif kind == "AgentWrapUp":
            until = d.get("until")
            a.state, a.call, a.queue = "wrap-up", str(d.get("call_id")), str(d.get("queue"))
            a.wrap_until = float(until) if isinstance(until, int | float) else None
        else:
            return []
        a.since = ev.time
        out.append(self.agent_event(a, ev.time, AGENT_KINDS.get(kind, kind)))
        return out

    def agent_event(self, a: AgentView, at: float, kind: str) -> JsonDict:
        view = self.calls.get(a.call) if a.call else None
        return {"event": "AgentState", "time": at, "kind": kind, "agent": a.agent,
                "state": a.state, "since": a.since, "device": a.device, "reason": a.reason,
                "call": a.call, "queue": a.queue, "wrap_until": a.wrap_until,
                "caller": view.caller if view is not None else None}

    # --- queues ------------------------------------------------------------------------------
    def _queue_record(self, r: QueueLogRecord) -> list[JsonDict]:
        if r.time >= self.day_start:
            self.records.append(r)
            self.records_version += 1
        if isinstance(r, EnterQueue):
            self.waiting.setdefault(r.queue, {})[r.call_id] = r.time
            view = self.calls.get(r.call_id)
            if view is not None:
                view.queue = r.queue
            return [self._call_event("Queued", r.call_id, r.time, queue=r.queue,
                                     position=r.position), self.queue_changed(r.queue, r.time)]
        reason = _LEFT_QUEUE.get(type(r))
        if reason is None:
            return []
        waiting = self.waiting.get(r.queue, {})
        if waiting.pop(r.call_id, None) is None:
            return []
        return [self._call_event("Dequeued", r.call_id, r.time, queue=r.queue,
                                 reason=reason), self.queue_changed(r.queue, r.time)]

    def queue_changed(self, queue: str, at: float) -> JsonDict:
        waiting = self.waiting.get(queue, {})
        return {"event": "QueueChanged", "time": at, "queue": queue, "waiting": len(waiting),
                "oldest": min(waiting.values()) if waiting else None}
