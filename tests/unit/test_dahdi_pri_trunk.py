"""The box's `PriTrunk` against the PSTN simulator, both in one event loop over the real
socketpairs (D-channel SEQPACKET, one socketpair per B-channel): signalling, causes,
calling numbers and audio both ways, without the switch."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import uvloop

from drivers.dahdi import libpri as lp
from drivers.dahdi.pri_channel import PriChannel
from drivers.dahdi.pri_span import PriSpan
from drivers.dahdi.pri_trunk import PriTrunk
from drivers.sim.audio import dtmf, rms_dbfs, tone
from drivers.sim.pstn import PstnSimulator
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelState, Party

Scenario = Callable[[PstnSimulator, PriTrunk], Awaitable[None]]
CALLER = "13800138000"


def run(scenario: Scenario, *, overlap: bool = False, timers: dict[int, int] | None = None,
        timeout: float = 20.0) -> None:
    async def main() -> None:
        sim = PstnSimulator(answer_after=0.05)
        span = PriSpan("cpe", "euroisdn", name="box", overlap=overlap)
        for s in (sim.span, span):
            for k, v in (timers or {}).items():
                s.set_timer(k, v)
        trunk = PriTrunk(span, sim.box_dchannel_fd, sim.box_bchannel_fds, name="span1",
                         overlap_timeout=0.3)
        sim.start()
        trunk.start()
        try:
            await until(lambda: span.dchannel_up and sim.span.dchannel_up)
            await asyncio.wait_for(scenario(sim, trunk), timeout)
        finally:
            trunk.stop()
            await sim.stop()

    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(main())
    finally:
        loop.close()


async def until(cond: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@dataclass
class Listener:
    """Records what a channel tells the switch."""

    seen: list[str] = field(default_factory=list)
    causes: list[Cause] = field(default_factory=list)

    def channel_ringing(self, ch: Channel) -> None:
        self.seen.append("ringing")

    def channel_progress(self, ch: Channel) -> None:
        self.seen.append("progress")

    def channel_answered(self, ch: Channel) -> None:
        self.seen.append("answered")

    def channel_hungup(self, ch: Channel, cause: Cause) -> None:
        self.seen.append("hungup")
        self.causes.append(cause)

    def channel_dtmf(self, ch: Channel, digit: str) -> None:
        self.seen.append(f"dtmf {digit}")

    def channel_hold(self, ch: Channel, held: bool) -> None:
        self.seen.append(f"hold {held}")


def test_inbound_call_numbers_answer_audio_and_box_release() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        offered: list[Channel] = []
        trunk.on_incoming = offered.append
        heard = bytearray()
        task = asyncio.ensure_future(
            sim.call("9002", "13800138000", audio=tone(1000, 0.6), seconds=None))
        await until(lambda: bool(offered))
        ch = offered[0]
        assert isinstance(ch, PriChannel)
        assert (ch.caller.number, ch.called, ch.caller_ton) == (
            "13800138000", "9002", lp.PRI_TON_NATIONAL)
        assert ch.media is not None and ch.media.codec is not None
        leg = ch.leg
        leg.on_frame = heard.extend  # what the caller says
        ch.ring()
        ch.answer()
        # the box talks back: a 400 Hz tone for the caller
        for _ in range(25):
            leg.write(tone(400, 0.02))
            await asyncio.sleep(0.02)
        await until(lambda: len(heard) >= 8000 * 0.5)
        ch.hangup(Cause.USER_BUSY)
        report = await task
        assert report["cause"] == 17 and report["released_by"] == "box"
        assert report["answer_ms"] is not None and report["answer_ms"] < 200
        assert report["heard_dbfs"] > -40
        assert rms_dbfs(bytes(heard)) > -30
        assert trunk.channels == {}
        await until(lambda: trunk.free_timeslots() == trunk.span.timeslots)

    run(scenario)


def test_inbound_call_released_by_the_caller() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        offered: list[Channel] = []
        trunk.on_incoming = offered.append
        listener = Listener()
        task = asyncio.ensure_future(sim.call("9002", "13800138000", seconds=0.2))
        await until(lambda: bool(offered))
        offered[0].listener = listener
        offered[0].answer()
        report = await task
        await until(lambda: "hungup" in listener.seen)
        assert listener.causes == [Cause.NORMAL_CLEARING]
        assert report["released_by"] == "pstn" and report["cause"] == 16
        assert offered[0].state is ChannelState.ENDED

    run(scenario)


def test_unanswered_inbound_call_rejected_with_a_cause() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        trunk.on_incoming = lambda ch: ch.hangup(Cause.UNALLOCATED_NUMBER)
        report = await sim.call("5555", "13800138000", seconds=1)
        assert report["cause"] == 1 and report["answer_ms"] is None

    run(scenario)


def test_outbound_call_ringing_answer_audio_release() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        listener = Listener()
        legs = trunk.originate("13800138000", Party("9001", "Agent"), listener)
        assert len(legs) == 1
        ch = legs[0]
        assert isinstance(ch, PriChannel) and ch.timeslot == 31  # hunts from the top
        heard = bytearray()
        ch.leg.on_frame = heard.extend
        await until(lambda: "answered" in listener.seen)
        assert listener.seen[:2] == ["ringing", "answered"]
        await until(lambda: len(heard) >= 8000 * 0.3)
        assert rms_dbfs(bytes(heard)) > -30  # the simulated party's tone
        (sim_call,) = sim.calls.values()
        assert (sim_call.number, sim_call.caller) == ("13800138000", "9001")
        ch.hangup(Cause.NORMAL_CLEARING)
        await until(lambda: not sim.calls)
        assert sim.history[-1]["released_by"] == "box" and sim.history[-1]["cause"] == 16

    run(scenario)


def test_outbound_to_a_busy_number() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        sim.busy_numbers.add("13900000000")
        listener = Listener()
        trunk.originate("13900000000", Party("9001"), listener)
        await until(lambda: "hungup" in listener.seen)
        assert listener.causes == [Cause.USER_BUSY]

    run(scenario)


def test_all_thirty_b_channels_busy() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        listeners = [Listener() for _ in range(31)]
        legs = [trunk.originate(f"1380013{i:04d}", Party("9001"), lst)
                for i, lst in enumerate(listeners[:30])]
        assert all(len(x) == 1 for x in legs)
        await until(lambda: all("answered" in lst.seen for lst in listeners[:30]))
        assert trunk.free_timeslots() == []
        assert trunk.originate("13800000031", Party("9001"), listeners[30]) == []
        # a call into the box finds no channel either
        try:
            sim.place("9002", "13800138000")
        except RuntimeError as e:
            assert "busy" in str(e)
        else:
            raise AssertionError("the simulator placed a 31st call")
        for group in legs:
            group[0].hangup(Cause.NORMAL_CLEARING)
        await until(lambda: len(trunk.free_timeslots()) == 30)

    run(scenario, timeout=30)


def test_overlap_receiving_collects_digits_before_offering() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        offered: list[Channel] = []
        trunk.on_incoming = offered.append
        sim.span.overlap = True
        call = sim.span.call(1, "96", "13800138000", complete=False)
        sim.link.flush()
        await asyncio.sleep(0.1)
        assert offered == []  # waiting for more digits
        sim.span.send_digits(call, "777")
        sim.link.flush()
        await until(lambda: bool(offered))
        assert offered[0].called == "96777"
        offered[0].hangup(Cause.NORMAL_CLEARING)

    run(scenario, overlap=True)


# Short enough to keep the tests quick, long enough that a loaded machine's scheduling
# stall (a few hundred ms) is not taken for a dead link: loss is seen after
# T203 + N200 x T200 = 1.2 s.
SHORT_LINK_TIMERS = {lp.PRI_TIMER_T200: 300, lp.PRI_TIMER_N200: 2, lp.PRI_TIMER_T203: 600}


def test_dchannel_loss_and_recovery_keeps_the_trunk_usable() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        changes: list[bool] = []
        trunk.on_dchannel = changes.append
        sim.link.connected = False
        await until(lambda: changes[-1:] == [False], timeout=8)
        assert trunk.status()["dchannel"] == "down"
        assert trunk.originate("1", Party("9001"), Listener()) == []
        sim.link.connected = True
        # Usable once both ends have re-established the link: a SETUP sent while the
        # exchange still resets its side is cleared by Q.931 (cause 127), as on a real span.
        await until(lambda: changes[-1:] == [True] and sim.span.dchannel_up, timeout=8)
        listener = Listener()
        assert trunk.originate("13800138000", Party("9001"), listener)
        await until(lambda: "answered" in listener.seen)

    run(scenario, timers=SHORT_LINK_TIMERS)


def test_status_lists_busy_b_channels() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        trunk.originate("13800138000", Party("9001"), Listener())
        st = trunk.status()
        assert st["dchannel"] == "up" and st["alarm"] is None and st["idle"] == 29
        assert st["b_channels"] == {"31": "dialing out 9001->13800138000"}

    run(scenario)


def test_calls_survive_a_dchannel_outage_shorter_than_t309() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        changes: list[bool] = []
        trunk.on_dchannel = changes.append
        listener = Listener()
        (ch,) = trunk.originate("13800138000", Party("9001"), listener)
        await until(lambda: "answered" in listener.seen)
        heard = bytearray()
        assert isinstance(ch, PriChannel)
        ch.leg.on_frame = heard.extend
        sim.link.connected = False
        await until(lambda: changes[-1:] == [False], timeout=8)
        sim.link.connected = True
        await until(lambda: changes[-1:] == [True] and sim.span.dchannel_up, timeout=8)
        assert ch.state is ChannelState.UP and "hungup" not in listener.seen
        before = len(heard)
        await asyncio.sleep(0.2)
        assert len(heard) > before  # the B-channel never stopped
        ch.hangup(Cause.NORMAL_CLEARING)
        await until(lambda: not sim.calls)
        assert sim.history[-1]["cause"] == 16

    run(scenario, timers={**SHORT_LINK_TIMERS, lp.PRI_TIMER_T309: 3000})


def test_calls_are_cleared_when_the_dchannel_stays_down_past_t309() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        listener = Listener()
        trunk.originate("13800138000", Party("9001"), listener)
        await until(lambda: "answered" in listener.seen)
        sim.link.connected = False
        await until(lambda: "hungup" in listener.seen, timeout=5)
        assert trunk.channels == {}
        assert listener.causes == [Cause.DESTINATION_OUT_OF_ORDER]  # libpri's T309 cause

    run(scenario, timers={**SHORT_LINK_TIMERS, lp.PRI_TIMER_T309: 500})


def test_in_band_dtmf_from_the_pstn_caller_reaches_the_switch() -> None:
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        offered: list[Channel] = []
        trunk.on_incoming = offered.append
        listener = Listener()
        task = asyncio.ensure_future(sim.call(
            "9002", CALLER, audio=tone(425, 0.3, 0.05) + dtmf("1590#"), seconds=2))
        await until(lambda: bool(offered))
        offered[0].listener = listener
        offered[0].answer()
        await until(lambda: len([s for s in listener.seen if s.startswith("dtmf")]) == 5)
        assert [s for s in listener.seen if s.startswith("dtmf")] == [
            "dtmf 1", "dtmf 5", "dtmf 9", "dtmf 0", "dtmf #"]
        await task

    run(scenario)


def test_looped_audio_and_the_simulators_cpu_meter() -> None:
    """`loop` keeps the caller talking past the end of its audio; the meter counts the
    simulator's own work (clock, B-channel reads, D-channel) only while it is on."""
    async def scenario(sim: PstnSimulator, trunk: PriTrunk) -> None:
        offered: list[Channel] = []
        trunk.on_incoming = offered.append
        heard = bytearray()
        task = asyncio.ensure_future(
            sim.call("9002", CALLER, audio=tone(1000, 0.1), loop=True, seconds=None))
        await until(lambda: bool(offered))
        ch = offered[0]
        assert isinstance(ch, PriChannel)
        ch.leg.on_frame = heard.extend
        ch.answer()
        assert sim.stop_meter() is None  # never started
        sim.start_meter()
        for _ in range(25):  # 0.5 s of the box talking back
            ch.leg.write(tone(400, 0.02))
            await asyncio.sleep(0.02)
        await until(lambda: len(heard) >= 8000 * 0.5)
        meter = sim.stop_meter()
        assert meter is not None
        assert meter["sections"] >= 20 and meter["cpu_ns"] > 0
        assert 0.4 < meter["seconds"] < 5
        assert meter["buffered_bytes"] >= 8000 * 0.3  # what it heard of the box
        # five times the 0.1 s of audio, all of it tone: the loop, not silence
        assert rms_dbfs(bytes(heard[-4000:])) > -20
        ch.hangup(Cause.NORMAL_CLEARING)
        await task
        assert sim.stop_meter() is None

    run(scenario)
