"""Call logic with fake legs: what the switch does is independent of the driver."""

from __future__ import annotations

from pathlib import Path

from firmware.switch.call import Call
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelState, Direction, Party
from firmware.switch.events import CallEnded, Delivered, Established, Event, Held, Retrieved


class FakeLeg(Channel):
    tech = "fake"

    def __init__(self, direction: Direction, number: str, called: str = "") -> None:
        super().__init__(direction, Party(number), called)
        self.peer_name = number
        self.log: list[str] = []

    @property
    def media(self) -> None:
        return None

    def ring(self) -> None:
        self.log.append("ring")

    def progress(self) -> None:
        self.log.append("progress")

    def answer(self) -> None:
        self.state = ChannelState.UP
        self.log.append("answer")

    def hangup(self, cause: Cause) -> None:
        if self.state is not ChannelState.ENDED:
            self.state = ChannelState.ENDED
            self.log.append(f"hangup:{int(cause)}")

    def hold(self, held: bool) -> None:
        self.log.append(f"hold:{held}")


class FakeSwitch:
    def __init__(self) -> None:
        self.ended: list[Call] = []
        self.bridges: list[tuple[Channel, Channel, object]] = []

    def bridge_media(self, a: Channel, b: Channel, rec: object) -> object:
        self.bridges.append((a, b, rec))
        return object()

    def unbridge_media(self, bridge: object) -> None:
        pass

    def new_recorder(self, call_id: str, start: float) -> tuple[Path | None, object | None]:
        return Path(f"/rec/{call_id}.wav"), "recorder"

    def close_recorder(self, recorder: object, now: float) -> float:
        return 1.0

    def call_ended(self, call: Call) -> None:
        self.ended.append(call)


def _call() -> tuple[Call, FakeLeg, list[Event], FakeSwitch]:
    events: list[Event] = []
    sw = FakeSwitch()
    a = FakeLeg(Direction.INBOUND, "8001", "8002")
    call = Call(sw, a, events.append)  # type: ignore[arg-type]
    return call, a, events, sw


def test_first_answer_wins_and_other_forks_are_released() -> None:
    call, a, events, sw = _call()
    desk, soft = FakeLeg(Direction.OUTBOUND, "8002"), FakeLeg(Direction.OUTBOUND, "8002")
    call.dial([desk, soft])
    call.channel_ringing(desk)
    call.channel_ringing(soft)
    assert a.log == ["ring", "ring"]
    assert [type(e) for e in events] == [Delivered]  # one Delivered per call, not per fork
    soft.state = ChannelState.UP
    call.channel_answered(soft)
    assert desk.log == [f"hangup:{int(Cause.NON_SELECTED_USER_CLEARING)}"]
    assert a.log[-1] == "answer"
    assert any(isinstance(e, Established) for e in events)
    assert sw.bridges and sw.bridges[0][2] == "recorder"
    call.channel_hungup(a, Cause.NORMAL_CLEARING)
    assert soft.log[-1] == f"hangup:{int(Cause.NORMAL_CLEARING)}"
    [end] = [e for e in events if isinstance(e, CallEnded)]
    assert end.released_by == "caller" and end.callee == "8002" and end.answer is not None
    assert end.recording == f"/rec/{call.id}.wav"
    assert sw.ended == [call]


def test_busy_is_reported_when_all_forks_fail() -> None:
    call, a, events, _ = _call()
    f1, f2 = FakeLeg(Direction.OUTBOUND, "8002"), FakeLeg(Direction.OUTBOUND, "8002")
    call.dial([f1, f2])
    call.channel_hungup(f1, Cause.NO_USER_RESPONSE)
    assert a.state is not ChannelState.ENDED  # one fork still ringing
    call.channel_hungup(f2, Cause.USER_BUSY)
    assert a.log == [f"hangup:{int(Cause.USER_BUSY)}"]
    [end] = [e for e in events if isinstance(e, CallEnded)]
    assert end.cause is Cause.USER_BUSY and end.answer is None and end.recording is None


def test_hold_is_passed_to_the_other_party() -> None:
    call, a, events, _ = _call()
    b = FakeLeg(Direction.OUTBOUND, "8002")
    call.dial([b])
    b.state = ChannelState.UP
    call.channel_answered(b)
    call.channel_hold(a, True)
    call.channel_hold(a, False)
    assert b.log == ["hold:True", "hold:False"]
    assert [type(e) for e in events if isinstance(e, Held | Retrieved)] == [Held, Retrieved]
    call.channel_hungup(b, Cause.NORMAL_CLEARING)
    [end] = [e for e in events if isinstance(e, CallEnded)]
    assert end.released_by == "callee" and a.log[-1] == f"hangup:{int(Cause.NORMAL_CLEARING)}"


def test_cancel_before_answer_releases_the_ringing_leg() -> None:
    call, a, events, _ = _call()
    b = FakeLeg(Direction.OUTBOUND, "8002")
    call.dial([b])
    call.channel_ringing(b)
    a.state = ChannelState.ENDED
    call.channel_hungup(a, Cause.ORIGINATOR_CANCEL)
    assert b.log == [f"hangup:{int(Cause.ORIGINATOR_CANCEL)}"]
    [end] = [e for e in events if isinstance(e, CallEnded)]
    assert end.cause is Cause.ORIGINATOR_CANCEL and end.released_by == "caller"


def test_ring_timeout_gives_no_answer() -> None:
    call, a, _events, _ = _call()
    b = FakeLeg(Direction.OUTBOUND, "8002")
    call.dial([b])
    call.ring_timeout()
    assert b.log == [f"hangup:{int(Cause.NO_ANSWER)}"]
    assert a.log == [f"hangup:{int(Cause.NO_ANSWER)}"]
