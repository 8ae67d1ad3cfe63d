"""Events of the switch, in CSTA vocabulary where one exists.

Everything that happens to a call is one of these small frozen dataclasses published
on the bus. CDRs, the queue log, the wallboard, screen pop and reports all consume the
same stream; nothing polls the switch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from firmware.acd.queuelog import QueueLogRecord
from firmware.switch.causes import Cause


@dataclass(frozen=True)
class Event:
    time: float  # wall clock (time.time()) when it happened


@dataclass(frozen=True)
class Originated(Event):
    """A new call entered the switch (inbound leg offered)."""

    call_id: str
    channel_id: str
    caller: str
    called: str
    tech: str


@dataclass(frozen=True)
class Delivered(Event):
    """The destination is alerting (ringing)."""

    call_id: str
    channel_id: str
    callee: str


@dataclass(frozen=True)
class Established(Event):
    call_id: str
    channel_id: str
    callee: str


@dataclass(frozen=True)
class Held(Event):
    call_id: str
    channel_id: str
    by: str


@dataclass(frozen=True)
class Retrieved(Event):
    call_id: str
    channel_id: str
    by: str


@dataclass(frozen=True)
class DigitsReceived(Event):
    call_id: str
    channel_id: str
    digit: str


@dataclass(frozen=True)
class IvrLogged(Event):
    """One line of an IVR session's log (node entered, digit, branch, transfer ...)."""

    call_id: str
    event: str
    data: dict[str, str | int | float | bool | None] = field(default_factory=dict)


@dataclass(frozen=True)
class AgentStateChanged(Event):
    """An ACD agent event (AgentReady, AgentNotReady, AgentRinging, ...) for CTI,
    the wallboard and BLF; `kind` is the ACD's event class name."""

    agent: str
    kind: str
    data: dict[str, str | int | float | bool | None] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueLogged(Event):
    """One queue-log record (ENTERQUEUE, CONNECT, ABANDON, ...): queue figures, the
    wallboard and CTI queue events are computed from these, as reports are."""

    record: QueueLogRecord


@dataclass(frozen=True)
class RecordingStarted(Event):
    call_id: str
    path: str


@dataclass(frozen=True)
class RecordingStopped(Event):
    call_id: str
    path: str
    seconds: float


@dataclass(frozen=True)
class ConnectionCleared(Event):
    call_id: str
    channel_id: str
    cause: Cause
    by: str  # the party that released first: "caller", "callee" or "system"


@dataclass(frozen=True)
class CallEnded(Event):
    """The whole call is over; carries what a call record needs."""

    call_id: str
    caller: str
    called: str
    callee: str
    start: float
    answer: float | None
    end: float
    cause: Cause
    released_by: str
    recording: str | None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Registered(Event):
    aor: str
    contact: str
    source: str
    expires: int


@dataclass(frozen=True)
class Unregistered(Event):
    aor: str
    contact: str
    reason: str


@dataclass(frozen=True)
class AuthFailed(Event):
    source: str
    user: str
    locked: bool


# Call control (firmware/switch/callcontrol/), CSTA vocabulary --------------------------
@dataclass(frozen=True)
class Transferred(Event):
    """`by` passed `party` on to `to` (blind, attended, park retrieval, force transfer)."""

    call_id: str
    by: str
    party: str
    to: str
    kind: str  # blind | attended | replaces | forced


@dataclass(frozen=True)
class Conferenced(Event):
    """The call now mixes `parties` (3-way calling, a room)."""

    call_id: str
    by: str
    parties: tuple[str, ...]


@dataclass(frozen=True)
class Diverted(Event):
    """A ringing call was taken by another device (pickup), moved to a park slot, or
    forwarded on (features/dialing.py)."""

    call_id: str
    from_device: str
    to_device: str
    # pickup | park | unpark | forward-always | forward-busy | forward-no-answer |
    # forward-dnd | forward-group-fallback
    kind: str


@dataclass(frozen=True)
class ConsultationStarted(Event):
    call_id: str
    by: str
    target: str


@dataclass(frozen=True)
class MonitorChanged(Event):
    """A supervisor watches a call: mode listen | whisper | barge, or "" when it ends."""

    call_id: str
    supervisor: str
    agent: str
    mode: str
