"""The FXO loop-start state machine, driven by hand: rings, caller ID before and after
the first ring, answer, each disconnect method, abandoned calls, dialling out."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from drivers.fxo.callerid import CallerIdSender, dtmf_message, mdmf
from drivers.fxo.line import (
    Connected,
    Dial,
    Disconnected,
    FxoConfig,
    FxoLine,
    Hook,
    LineState,
    Offered,
    Output,
    Progress,
    Withdrawn,
)
from drivers.fxo.port import LineSignal as S
from firmware.switch.causes import Cause

RATE = 8000
QUIET = np.zeros(160, dtype=np.int16)


class Driver:
    """Feeds a line 20 ms at a time and runs its timer, like FxoTrunk does."""

    def __init__(self, config: FxoConfig | None = None) -> None:
        self.line = FxoLine(config)
        self.now = 1000.0
        self.out: list[Output] = []

    def _collect(self) -> None:
        due = self.line.next_timer()
        if due is not None and self.now >= due:
            self.line.timer(self.now)
        self.out += self.line.outputs()

    def play(self, pcm: npt.NDArray[np.int16]) -> None:
        pcm = np.concatenate([pcm, np.zeros(-len(pcm) % 160, dtype=np.int16)])
        for i in range(0, len(pcm), 160):
            self.line.audio(pcm[i:i + 160], self.now)
            self.now += 0.02
            self._collect()

    def wait(self, seconds: float) -> None:
        self.play(np.zeros(int(seconds * RATE), dtype=np.int16))

    def signal(self, sig: S) -> None:
        self.line.signal(sig, self.now)
        self._collect()

    def ring(self, on: float = 1.0) -> None:
        self.signal(S.RING_ON)
        self.wait(on)
        self.signal(S.RING_OFF)

    def take(self) -> list[Output]:
        out, self.out = self.out + self.line.outputs(), []
        return out


def state(d: Driver) -> LineState:
    return d.line.state  # a call, so mypy does not narrow across the driver's steps


def tone(freq: float, seconds: float, on: float | None = None, off: float = 0.0
         ) -> npt.NDArray[np.int16]:
    t = np.arange(int(seconds * RATE)) / RATE
    gate: npt.NDArray[np.bool_] = (t % (on + off)) < on if on else np.ones(len(t), bool)
    return (8000 * np.sin(2 * np.pi * freq * t) * gate).astype(np.int16)


def offered(outs: list[Output]) -> Offered:
    (o,) = [x for x in outs if isinstance(x, Offered)]
    return o


def test_fsk_after_the_first_ring_offers_the_call_with_the_number() -> None:
    d = Driver()
    d.ring()
    assert state(d) is LineState.RINGING and not d.take()
    d.wait(0.5)
    d.play(CallerIdSender("bell202").render(mdmf("13800138000", "03151230")))
    d.wait(0.1)
    o = offered(d.take())
    assert o.caller is not None and o.caller.number == "13800138000"
    assert state(d) is LineState.OFFERED
    assert d.line.rings == 1  # offered before the second ring: no wasted 4 s


def test_dtmf_before_the_first_ring_offers_at_the_end_of_the_ring() -> None:
    d = Driver()
    d.play(CallerIdSender("dtmf").render(dtmf_message("13912345678").encode()))
    d.wait(0.3)
    d.signal(S.RING_ON)
    d.wait(0.5)
    assert not d.take()
    d.signal(S.RING_OFF)
    o = offered(d.take())
    assert o.caller is not None and (o.caller.number, o.caller.format) == ("13912345678",
                                                                           "dtmf")


def test_without_caller_id_the_call_is_offered_at_the_second_ring() -> None:
    d = Driver()
    d.ring()
    d.wait(4.0)
    d.signal(S.RING_ON)
    assert offered(d.take()).caller is None


def test_caller_id_heard_long_before_a_ring_is_stale() -> None:
    d = Driver()
    d.play(CallerIdSender("dtmf").render(b"A13800138000C"))
    d.wait(8.0)
    d.ring()
    d.wait(4.6)  # the caller-ID window closes
    assert offered(d.take()).caller is None


def test_the_caller_gives_up_before_the_answer() -> None:
    d = Driver()
    d.ring()
    d.wait(4.0)
    d.ring()
    d.take()
    d.wait(7.0)
    assert any(isinstance(o, Withdrawn) for o in d.take())
    assert state(d) is LineState.IDLE and d.line.counters.abandoned == 1


def answered() -> Driver:
    d = Driver(FxoConfig(silence_timeout=5.0))
    d.ring()
    d.wait(4.6)
    d.take()
    assert d.line.answer(d.now)
    assert d.take() == [Hook(True)]
    return d


def disconnect(outs: list[Output]) -> Disconnected:
    assert Hook(False) in outs
    (x,) = [o for o in outs if isinstance(o, Disconnected)]
    return x


def test_polarity_reversal_ends_the_call() -> None:
    d = answered()
    d.signal(S.POLARITY)  # the answer's own reversal, within the guard: ignored
    assert not d.take()
    d.wait(2.0)
    d.signal(S.POLARITY)
    x = disconnect(d.take())
    assert (x.reason, x.cause) == ("polarity", Cause.NORMAL_CLEARING)
    assert state(d) is LineState.GUARD
    d.wait(1.0)
    assert state(d) is LineState.IDLE


def test_busy_tone_ends_the_call_speech_does_not() -> None:
    d = answered()
    rng = np.random.default_rng(5)
    d.play((rng.normal(0, 3000, 4 * RATE)).astype(np.int16))
    assert state(d) is LineState.UP
    d.play(tone(450, 3.0, on=0.35, off=0.35))
    x = disconnect(d.take())
    assert (x.reason, x.cause) == ("busy-tone", Cause.NORMAL_CLEARING)


def test_silence_ends_the_call() -> None:
    d = answered()
    d.wait(4.5)
    assert state(d) is LineState.UP
    d.wait(1.0)
    x = disconnect(d.take())
    assert x.reason == "silence"


def test_loop_current_drop_ends_the_call() -> None:
    d = answered()
    d.signal(S.LOOP_DROP)
    assert disconnect(d.take()).reason == "loop-drop"


def test_refused_call_never_goes_off_hook() -> None:
    d = Driver()
    d.ring()
    d.wait(4.6)
    d.take()
    d.line.hangup(d.now)
    d.ring()
    d.wait(7.0)
    assert not d.take() and state(d) is LineState.IDLE  # no Hook, no second offer


def test_dial_out_waits_for_dial_tone_then_sends_the_digits() -> None:
    d = Driver()
    assert d.line.dial("88881234", d.now)
    assert d.take() == [Hook(True)]
    d.wait(0.2)
    d.play(tone(450, 0.5))
    assert d.take() == [Dial("88881234")]
    d.signal(S.DIAL_DONE)
    assert d.take() == [Progress(), Connected()]
    assert state(d) is LineState.UP
    assert not d.line.dial("123", d.now)  # busy line


def test_no_dial_tone_is_an_alarm() -> None:
    d = Driver()
    d.line.dial("88881234", d.now)
    d.take()
    d.wait(3.1)
    x = disconnect(d.take())
    assert (x.reason, x.cause) == ("no-dial-tone", Cause.NETWORK_OUT_OF_ORDER)
    assert d.line.status()["alarm"] == "no dial tone"


def test_answer_supervision_by_polarity_and_busy_callee() -> None:
    d = Driver(FxoConfig(answer_on_polarity=True))
    d.line.dial("88881234", d.now)
    d.play(tone(450, 0.4))
    d.signal(S.DIAL_DONE)
    assert d.take() == [Hook(True), Dial("88881234"), Progress()]
    d.play(tone(450, 3.0, on=1.0, off=4.0))  # ringback: not busy
    assert state(d) is LineState.EARLY
    d.signal(S.POLARITY)
    assert d.take() == [Connected()]

    d = Driver(FxoConfig(answer_on_polarity=True))
    d.line.dial("88881234", d.now)
    d.play(tone(450, 0.4))
    d.signal(S.DIAL_DONE)
    d.take()
    d.play(tone(450, 2.0, on=0.35, off=0.35))
    x = disconnect(d.take())
    assert x.cause == Cause.USER_BUSY
