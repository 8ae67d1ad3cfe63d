"""`FxoLine`: the loop-start FXO protocol of one analog line, sans I/O.

Inputs: line signals from the port (`signal`), 20 ms frames of the line's audio as
linear PCM (`audio`), commands from the channel (`answer`, `dial`, `hangup`) and the
clock (`timer`, with `next_timer` saying when it is due); every input carries `now`.
Outputs (drained with `outputs()`): port commands (`Hook`, `Dial`) and line events for
the channel (`Offered`, `Withdrawn`, `Progress`, `Connected`, `Disconnected`).

Inbound: caller ID may come before the first ring (DTMF) or after it (FSK); the call
is offered as soon as the number is known after the first ring, or when the second
ring starts, or `cid_timeout` after the first ring without one. A caller who hangs up
before the answer shows as rings that stop (`ring_timeout`).
Disconnect while up: polarity reversal, loop current drop, busy/congestion tone, or
`silence_timeout` of silence, whichever the exchange gives.
Outbound: seize, wait for dial tone, send DTMF; the far end's answer is a polarity
reversal when the exchange gives answer supervision (`answer_on_polarity`), else the
call counts as answered when the digits are out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import numpy.typing as npt

from drivers.fxo.callerid import CallerId, CallerIdReceiver
from drivers.fxo.port import LineSignal
from drivers.fxo.tones import CadenceDetector, ContinuousTone, SilenceDetector
from firmware.switch.causes import Cause


@dataclass(frozen=True)
class FxoConfig:
    cid_timeout: float = 4.5  # after the first ring: China rings 1 s on, 4 s off
    ring_timeout: float = 6.5  # no ring for this long: the caller gave up
    answer_on_polarity: bool = False
    hangup_on_polarity: bool = True
    polarity_guard: float = 0.6  # a reversal this soon after answer is the answer's own
    busy_detect: bool = True
    busy_cycles: int = 3
    silence_timeout: float = 30.0  # 0: never hang up on silence
    silence_dbfs: float = -50.0
    dialtone_timeout: float = 3.0
    guard: float = 0.5  # on hook at least this long between calls
    pre_ring_cid: float = 6.0  # a DTMF caller ID heard on hook stays valid this long


class LineState(Enum):
    IDLE = "idle"
    RINGING = "ringing"  # rings seen, caller ID window open, not offered yet
    OFFERED = "offered"  # the switch has the call, still ringing
    IGNORING = "ignoring"  # refused: let the rings run out
    UP = "up"
    SEIZING = "seizing"  # off hook for a call out, waiting for dial tone
    DIALING = "dialing"
    EARLY = "early"  # digits out, waiting for the answer reversal
    GUARD = "guard"  # just hung up


# -- outputs -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hook:
    offhook: bool


@dataclass(frozen=True)
class Dial:
    digits: str


@dataclass(frozen=True)
class Offered:
    caller: CallerId | None


@dataclass(frozen=True)
class Withdrawn:
    """The caller hung up before the box answered."""


@dataclass(frozen=True)
class Progress:
    """Digits sent: the exchange's tones (ringback, busy) are in-band from now on."""


@dataclass(frozen=True)
class Connected:
    pass


@dataclass(frozen=True)
class Disconnected:
    reason: str  # polarity, loop-drop, busy-tone, congestion-tone, silence, no-dial-tone
    cause: Cause


Output = Hook | Dial | Offered | Withdrawn | Progress | Connected | Disconnected

Pcm = npt.NDArray[np.int16]


@dataclass
class LineCounters:
    inbound: int = 0
    outbound: int = 0
    abandoned: int = 0
    no_dial_tone: int = 0
    disconnects: dict[str, int] = field(default_factory=dict)


class FxoLine:
    def __init__(self, config: FxoConfig | None = None,
                 cid: CallerIdReceiver | None = None) -> None:
        self.config = config or FxoConfig()
        self.state = LineState.IDLE
        self.caller: CallerId | None = None
        self.number = ""  # being dialled out
        self.rings = 0
        self.ringing = False  # ringing voltage on right now
        self.reversed = False  # line polarity
        self.last_disconnect = ""
        self.alarm: str | None = None
        self.counters = LineCounters()
        self._cid = cid if cid is not None else CallerIdReceiver()
        self._out: list[Output] = []
        self._since = 0.0  # when the current state began
        self._ring_off_at: float | None = None
        self._pre_cid: tuple[CallerId, float] | None = None
        self._busy = CadenceDetector(cycles=self.config.busy_cycles)
        self._dialtone = ContinuousTone()
        self._silence = SilenceDetector(self.config.silence_timeout or 1.0,
                                        self.config.silence_dbfs)
        self._dial_deadline: float | None = None

    # -- plumbing ------------------------------------------------------------------------
    def outputs(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def _go(self, state: LineState, now: float) -> None:
        self.state = state
        self._since = now

    @property
    def offhook(self) -> bool:
        return self.state in (LineState.UP, LineState.SEIZING, LineState.DIALING,
                              LineState.EARLY)

    def _offer(self, now: float) -> None:
        self.counters.inbound += 1
        self._go(LineState.OFFERED, now)
        self._out.append(Offered(self.caller))

    def _disconnect(self, reason: str, cause: Cause, now: float) -> None:
        self._out.append(Hook(False))
        self._out.append(Disconnected(reason, cause))
        self.last_disconnect = reason
        self.counters.disconnects[reason] = self.counters.disconnects.get(reason, 0) + 1
        self._go(LineState.GUARD, now)

    def _up(self, now: float) -> None:
        self._go(LineState.UP, now)
        self._busy.reset()
        self._silence.reset()

    # -- inputs from the port --------------------------------------------------------------
    def signal(self, sig: LineSignal, now: float) -> None:
        st = self.state
        if sig is LineSignal.RING_ON:
            self.ringing = True
            if st in (LineState.IDLE, LineState.GUARD):
                self.rings = 1
                self.caller = None
                if self._pre_cid is not None and now - self._pre_cid[1] <= \
                        self.config.pre_ring_cid:
                    self.caller = self._pre_cid[0]
                self._pre_cid = None
                self._ring_off_at = None
                self._go(LineState.RINGING, now)
            elif st in (LineState.RINGING, LineState.OFFERED, LineState.IGNORING):
                self.rings += 1
                if st is LineState.RINGING and self.rings >= 2:
                    self._offer(now)  # the caller-ID window is over
        elif sig is LineSignal.RING_OFF:
            self.ringing = False
            if st in (LineState.RINGING, LineState.OFFERED, LineState.IGNORING):
                self._ring_off_at = now
                if st is LineState.RINGING and self.caller is not None:
                    self._offer(now)
        elif sig is LineSignal.POLARITY:
            self.reversed = not self.reversed
            if st is LineState.UP and self.config.hangup_on_polarity \
                    and now - self._since >= self.config.polarity_guard:
                self._disconnect("polarity", Cause.NORMAL_CLEARING, now)
            elif st in (LineState.EARLY, LineState.DIALING) and self.config.answer_on_polarity:
                self._up(now)
                self._out.append(Connected())
        elif sig is LineSignal.LOOP_DROP:
            if st in (LineState.UP, LineState.EARLY, LineState.DIALING):
                self._disconnect("loop-drop", Cause.NORMAL_CLEARING, now)
        elif sig is LineSignal.DIAL_DONE and st is LineState.DIALING:
            self._digits_sent(now)

    def _digits_sent(self, now: float) -> None:
        self._dial_deadline = None
        self._out.append(Progress())
        if self.config.answer_on_polarity:
            self._go(LineState.EARLY, now)
            self._busy.reset()
        else:
            self._up(now)
            self._out.append(Connected())

    def audio(self, pcm: Pcm, now: float) -> None:
        st = self.state
        if st in (LineState.IDLE, LineState.RINGING, LineState.OFFERED, LineState.GUARD):
            for cid in self._cid.feed(pcm):
                self._caller_id(cid, now)
        elif st is LineState.SEIZING:
            if self._dialtone.feed(pcm):
                self._go(LineState.DIALING, now)
                self._dial_deadline = now + 3.0 + 0.25 * len(self.number)
                self.alarm = None
                self._out.append(Dial(self.number))
        elif st in (LineState.UP, LineState.EARLY):
            if self.config.busy_detect:
                tone = self._busy.feed(pcm)
                if tone is not None:
                    # before the answer the tone is the callee's state; after it, the
                    # exchange telling us the far party has gone
                    cause = (Cause.NORMAL_CLEARING if st is LineState.UP
                             else Cause.USER_BUSY if tone == "busy"
                             else Cause.SWITCH_CONGESTION)
                    self._disconnect(f"{tone}-tone", cause, now)
                    return
            if st is LineState.UP and self.config.silence_timeout > 0 \
                    and self._silence.feed(pcm):
                self._disconnect("silence", Cause.NORMAL_CLEARING, now)

    def _caller_id(self, cid: CallerId, now: float) -> None:
        if self.state in (LineState.IDLE, LineState.GUARD):
            self._pre_cid = (cid, now)  # DTMF before the first ring
        elif self.caller is None:
            self.caller = cid
            if self.state is LineState.RINGING and self._ring_off_at is not None:
                self._offer(now)
            # OFFERED already: too late for this call's routing; a late caller ID is
            # still better than none for the record
            elif self.state is LineState.OFFERED:
                self._out.append(Offered(cid))

    # -- commands from the channel ---------------------------------------------------------
    def answer(self, now: float) -> bool:
        if self.state not in (LineState.RINGING, LineState.OFFERED):
            return False
        self._out.append(Hook(True))
        self.ringing = False  # going off hook trips the exchange's ringing
        self._up(now)
        return True

    def dial(self, number: str, now: float) -> bool:
        """Seize the line to call `number`; False when the line is not idle."""
        if self.state is not LineState.IDLE or self.ringing or not number:
            return False
        self.number = number
        self.caller = None
        self.counters.outbound += 1
        self._dialtone = ContinuousTone()
        self._out.append(Hook(True))
        self._go(LineState.SEIZING, now)
        return True

    def hangup(self, now: float) -> None:
        st = self.state
        if st in (LineState.RINGING, LineState.OFFERED):
            self._go(LineState.IGNORING, now)  # never off hook: let the rings run out
        elif self.offhook:
            self._out.append(Hook(False))
            self._go(LineState.GUARD, now)

    # -- time ------------------------------------------------------------------------------
    def next_timer(self) -> float | None:
        st, c = self.state, self.config
        if st in (LineState.RINGING, LineState.OFFERED, LineState.IGNORING):
            if self.ringing:
                return self._since + 30.0  # stuck ringing voltage: re-check
            base = self._ring_off_at if self._ring_off_at is not None else self._since
            due = base + c.ring_timeout
            if st is LineState.RINGING and self._ring_off_at is not None:
                due = min(due, self._ring_off_at + c.cid_timeout)
            return due
        if st is LineState.SEIZING:
            return self._since + c.dialtone_timeout
        if st is LineState.DIALING:
            return self._dial_deadline
        if st is LineState.GUARD:
            return self._since + c.guard
        return None

    def timer(self, now: float) -> None:
        due = self.next_timer()
        if due is None or now < due:
            return
        st, c = self.state, self.config
        if st in (LineState.RINGING, LineState.OFFERED, LineState.IGNORING):
            if self.ringing:
                self._since = now
                return
            base = self._ring_off_at if self._ring_off_at is not None else self._since
            if now >= base + c.ring_timeout:
                if st is LineState.OFFERED:
                    self.counters.abandoned += 1
                    self._out.append(Withdrawn())
                self._reset(now)
            elif st is LineState.RINGING:
                self._offer(now)  # no caller ID came
        elif st is LineState.SEIZING:
            self.counters.no_dial_tone += 1
            self.alarm = "no dial tone"
            self._disconnect("no-dial-tone", Cause.NETWORK_OUT_OF_ORDER, now)
        elif st is LineState.DIALING:
            self._digits_sent(now)  # the port never confirmed: carry on
        elif st is LineState.GUARD:
            self._reset(now)

    def _reset(self, now: float) -> None:
        self._go(LineState.IDLE, now)
        self.rings = 0
        self.number = ""
        self._ring_off_at = None

    # -- status ----------------------------------------------------------------------------
    def status(self) -> dict[str, object]:
        c = self.caller
        return {
            "state": self.state.value,
            "hook": "off" if self.offhook else "on",
            "polarity": "reversed" if self.reversed else "normal",
            "rings": self.rings,
            "caller": (c.number or c.presentation) if c else None,
            "caller_id_format": c.format if c else None,
            "dialling": self.number or None,
            "alarm": self.alarm,
            "last_disconnect": self.last_disconnect or None,
            "counters": {"inbound": self.counters.inbound,
                         "outbound": self.counters.outbound,
                         "abandoned": self.counters.abandoned,
                         "no_dial_tone": self.counters.no_dial_tone,
                         **{f"disconnect_{k}": v
                            for k, v in sorted(self.counters.disconnects.items())}},
        }
