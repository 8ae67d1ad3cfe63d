"""What a `PriSpan` reports: libpri events as small Python values, no ctypes in sight.

`PriCall` is the span's handle on one Q.931 call; events name the call they concern
and the B-channel (timeslot) it holds. Numbers come with their type of number (TON,
Q.931 table 4-9: 0 unknown, 1 international, 2 national, 4 subscriber) because the
router needs it to turn "13800138000, national" into a dialable string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class CallState(Enum):
    SETUP = "setup"  # SETUP sent or received, nothing more yet
    OVERLAP = "overlap"  # inbound, SETUP ACKNOWLEDGE sent, collecting digits
    PROCEEDING = "proceeding"
    RINGING = "ringing"
    UP = "up"
    CLEARING = "clearing"  # we sent DISCONNECT/RELEASE, waiting for the far end
    ENDED = "ended"


@dataclass(eq=False)
class PriCall:
    """One call on the span. Identity matters (eq=False): it is a handle, not a value."""

    ref: int  # libpri's q931_call pointer, an opaque key
    channel: int | None
    outbound: bool
    called: str = ""
    calling: str = ""
    state: CallState = CallState.SETUP
    cause: int | None = None
    tag: object = field(default=None, repr=False)  # for the owner (e.g. its Channel)

    @property
    def ended(self) -> bool:
        return self.state is CallState.ENDED


@dataclass(frozen=True)
class DChannelUp:
    pass


@dataclass(frozen=True)
class DChannelDown:
    pass


@dataclass(frozen=True)
class Ring:
    """An inbound SETUP. `complete` is False when more digits follow (overlap)."""

    call: PriCall
    channel: int | None
    calling: str
    calling_ton: int
    calling_pres: int
    called: str
    called_ton: int
    complete: bool
    calling_name: str = ""


@dataclass(frozen=True)
class Digits:
    """Overlap receiving: more called-number digits arrived in INFORMATION."""

    call: PriCall
    digits: str
    complete: bool


@dataclass(frozen=True)
class KeypadDigits:
    """Keypad digits in INFORMATION during a call (out-of-band DTMF, rarely used)."""

    call: PriCall
    digits: str


@dataclass(frozen=True)
class SetupAcknowledged:
    call: PriCall
    channel: int | None


@dataclass(frozen=True)
class Proceeding:
    call: PriCall
    channel: int | None


@dataclass(frozen=True)
class Progress:
    call: PriCall
    channel: int | None
    inband: bool  # the far end says in-band information (tones) is available


@dataclass(frozen=True)
class Ringing:
    call: PriCall
    channel: int | None
    inband: bool


@dataclass(frozen=True)
class Answered:
    call: PriCall
    channel: int | None


@dataclass(frozen=True)
class Hangup:
    """The far end cleared the call (or refused it); its B-channel is free again."""

    call: PriCall
    channel: int | None
    cause: int


@dataclass(frozen=True)
class Restarted:
    """The far end restarted a B-channel (None: the whole interface); calls on it are gone."""

    channel: int | None


@dataclass(frozen=True)
class RestartAcknowledged:
    channel: int | None


@dataclass(frozen=True)
class ConfigError:
    text: str


PriEvent = (
    DChannelUp
    | DChannelDown
    | Ring
    | Digits
    | KeypadDigits
    | SetupAcknowledged
    | Proceeding
    | Progress
    | Ringing
    | Answered
    | Hangup
    | Restarted
    | RestartAcknowledged
    | ConfigError
)
