"""What the engine asks the switch to do, and what the switch tells the engine.

This file is the whole seam between the ACD and real calls. Actions go out, in order,
from every engine call; events come in with the time they happened. The switch executes
actions on channels and reports outcomes; the engine never touches a channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from firmware.acd.agent import AgentEvent
from firmware.acd.config import Target
from firmware.acd.queuelog import QueueLogRecord

# --- actions (engine -> switch) -----------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """Ring the agent's device for this waiting caller; report OfferAnswered/OfferFailed.
    The engine times the offer out itself after `ring_timeout` (CancelOffer follows)."""

    call_id: str
    agent: str
    device: str
    ring_timeout: float
    queue: str
    caller_number: str  # for the phone's display and the screen pop


@dataclass(frozen=True)
class CancelOffer:
    """Stop ringing the agent for this call (also: drop an agent leg answered too late)."""

    call_id: str
    agent: str
    device: str


@dataclass(frozen=True)
class Connect:
    """The agent answered: stop MOH/prompts and bridge the caller to the agent's leg."""

    call_id: str
    agent: str
    device: str
    queue: str


@dataclass(frozen=True)
class PlaceCallback:
    """A callback request's turn: ring the agent, and once they answer (report
    OfferAnswered) dial `number` from their leg. Fails like an Offer."""

    call_id: str
    agent: str
    device: str
    number: str
    ring_timeout: float
    queue: str


@dataclass(frozen=True)
class Announce:
    """Play position and/or estimated wait (None: leave that part out), then resume MOH."""

    call_id: str
    position: int | None
    ewt_seconds: int | None


@dataclass(frozen=True)
class PlayPrompt:
    """A periodic message, then resume MOH."""

    call_id: str
    prompt: str


@dataclass(frozen=True)
class StartMoh:
    call_id: str
    moh_class: str


class ExitReason(StrEnum):
    TIMEOUT = "timeout"  # max wait reached
    EMPTY = "empty"  # nobody logged in
    KEY = "key"  # the caller pressed an exit or callback key


@dataclass(frozen=True)
class Exit:
    """The caller leaves the queue for `target`. For a CALLBACK target the switch confirms
    and hangs up; the engine keeps the request queued and later emits PlaceCallback.
    `priority` is the caller's: overflowing into another queue, they keep it (an
    emergency caller must not fall behind routine ones in the overflow queue)."""

    call_id: str
    target: Target
    reason: ExitReason
    priority: int = 0


@dataclass(frozen=True)
class QueueLog:
    record: QueueLogRecord


Action = (
    Offer | CancelOffer | Connect | PlaceCallback | Announce | PlayPrompt | StartMoh | Exit
    | QueueLog | AgentEvent
)

# --- events (switch -> engine) ------------------------------------------------------------


class OfferFailure(StrEnum):
    NO_ANSWER = "no-answer"
    BUSY = "busy"
    REJECTED = "rejected"


class EndedBy(StrEnum):
    CALLER = "caller"  # COMPLETECALLER
    AGENT = "agent"  # COMPLETEAGENT
    TRANSFER = "transfer"  # TRANSFER: the agent passed the caller on


@dataclass(frozen=True)
class OfferAnswered:
    call_id: str
    agent: str
    now: float


@dataclass(frozen=True)
class OfferFailed:
    call_id: str
    agent: str
    reason: OfferFailure
    now: float


@dataclass(frozen=True)
class CallEnded:
    """A connected ACD call is over for the agent (hang-up or transfer away)."""

    call_id: str
    agent: str
    by: EndedBy
    now: float
    target: str = ""  # transfer destination, for TRANSFER


@dataclass(frozen=True)
class KeyPressed:
    call_id: str
    digit: str
    now: float


@dataclass(frozen=True)
class CallServed:
    """Memory for smart routing: `agent` served `number` (history replayed at start-up,
    or calls outside the ACD; the engine remembers its own connects by itself)."""

    number: str
    agent: str
    now: float


@dataclass(frozen=True)
class OutboundCallMade:
    """Memory for 总机溯源: `agent` called `number` out."""

    number: str
    agent: str
    now: float


@dataclass(frozen=True)
class DeviceInUse:
    """Device state from the switch (any call, ACD or not); gates offers unless ring in use."""

    device: str
    in_use: bool
    now: float


InputEvent = (
    OfferAnswered | OfferFailed | CallEnded | KeyPressed | CallServed | OutboundCallMade
    | DeviceInUse
)
