"""The runner's vocabulary: events in (what happened on the call), actions out (what
the switch must do). This is the whole seam between the IVR logic and the call.

Correlation ids: every `Play` and `Lookup` carries an id and its completion event must
echo it. Races are normal on a live call (a digit and the end of a prompt in the same
20 ms frame; a billing answer arriving after its timeout); with ids the runner drops
the stale completion instead of wrongly finishing the next prompt or lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from firmware.ivr.flow import TransferKind
from firmware.switch.causes import Cause

# --- events (switch -> runner) -----------------------------------------------------


@dataclass(frozen=True)
class PromptDone:
    """The prompt list of `Play(play_id)` finished playing (not sent after StopPlayback,
    and if sent anyway it is ignored). Also sent when a file is missing or unreadable:
    the runner has no timer on prompts and would otherwise wait forever."""

    play_id: int


@dataclass(frozen=True)
class Digit:
    """One DTMF key, from RFC 4733, SIP INFO or the in-band detector, already deduped."""

    digit: str


@dataclass(frozen=True)
class LookupResult:
    request_id: int
    variables: Mapping[str, str] | None = None  # on success
    error: str | None = None  # on failure (adapter raised, backend down ...)


@dataclass(frozen=True)
class TransferFailed:
    """The transfer target could not take the call (busy, no answer, unreachable)."""

    cause: Cause


@dataclass(frozen=True)
class Hangup:
    """The caller hung up."""


Event = PromptDone | Digit | LookupResult | TransferFailed | Hangup


# --- actions (runner -> switch) ----------------------------------------------------


@dataclass(frozen=True)
class Play:
    """Play the prompts one after the other, then send PromptDone(play_id)."""

    play_id: int
    prompts: tuple[str, ...]
    barge_in: bool


@dataclass(frozen=True)
class StopPlayback:
    """A barge-in digit arrived: cut the current prompt now."""


@dataclass(frozen=True)
class StartCollect:
    """The runner now waits for caller input. Digits are forwarded at all times anyway
    (type-ahead needs them during prompts); this tells the switch input matters now,
    e.g. to make sure the in-band detector runs. Timing is the runner's job."""

    max_digits: int
    terminator: str
    timeout: float


@dataclass(frozen=True)
class Transfer:
    """Leave the IVR: hand the call to a queue, an extension or an outside number.

    `variables` is what the IVR learnt (account number, ...) for screen pop and CDR."""

    kind: TransferKind
    target: str
    priority: int = 0
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Lookup:
    """Run adapter `adapter` with `params`; answer with LookupResult(request_id). The
    runner gives up after `timeout` seconds by itself; the switch may cancel then."""

    request_id: int
    adapter: str
    params: Mapping[str, str]
    timeout: float


@dataclass(frozen=True)
class Voicemail:
    box: str


@dataclass(frozen=True)
class HangupCall:
    cause: Cause


LogValue = str | int | float | bool | None


@dataclass(frozen=True)
class Log:
    """A line for the IVR/queue log: node entered, digit, branch taken, ..."""

    event: str
    data: Mapping[str, LogValue] = field(default_factory=dict)


Action = Play | StopPlayback | StartCollect | Transfer | Lookup | Voicemail | HangupCall | Log
