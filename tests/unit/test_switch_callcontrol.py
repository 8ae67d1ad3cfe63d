"""Call control on the real switch with fake phones (no sockets): transfers, consultation,
3-way, feature codes, supervision, park, pickup, and what the call record says."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

from firmware.media.bridge import Bridge
from firmware.media.codecs import Codec
from firmware.media.engine import MediaEngine
from firmware.media.leg import MediaLeg
from firmware.media.mixer import Role
from firmware.switch.bus import EventBus
from firmware.switch.call import Call
from firmware.switch.callcontrol import CallControlError
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelListener, ChannelState, Direction, Party
from firmware.switch.core import Switch
from firmware.switch.directory import ExtensionDirectory, ExtensionInfo
from firmware.switch.events import (
    CallEnded,
    Conferenced,
    Diverted,
    Event,
    Held,
    MonitorChanged,
    Transferred,
)
from firmware.switch.router import Router

E = TypeVar("E", bound=Event)


class FakeMedia(MediaLeg):
    codec = Codec.PCMA

    def close(self) -> None:
        pass


class Phone(Channel):
    tech = "sip"

    def __init__(self, direction: Direction, caller: str, called: str, peer: str) -> None:
        super().__init__(direction, Party(caller), called)
        self.peer_name = peer
        self._media = FakeMedia()
        self.log: list[str] = []

    @property
    def media(self) -> MediaLeg:
        return self._media

    def ring(self) -> None:
        self.log.append("ring")

    def progress(self) -> None:
        pass

    def answer(self) -> None:
        self.state = ChannelState.UP
        self.log.append("answer")

    def hangup(self, cause: Cause) -> None:
        if self.state is not ChannelState.ENDED:
            self.state = ChannelState.ENDED
            self.log.append(f"hangup:{int(cause)}")

    def hold(self, held: bool) -> None:
        self.log.append(f"hold:{held}")

    # what the far end does
    def picks_up(self) -> None:
        self.state = ChannelState.UP
        assert self.listener is not None
        self.listener.channel_answered(self)

    def hangs_up(self) -> None:
        self.state = ChannelState.ENDED
        assert self.listener is not None
        self.listener.channel_hungup(self, Cause.NORMAL_CLEARING)

    def keys(self, digits: str) -> None:
        for d in digits:
            assert self.listener is not None
            self.listener.channel_dtmf(self, d)


class Phones:
    """The extension originator: every extension is registered once."""

    def __init__(self) -> None:
        self.rang: dict[str, list[Phone]] = {}

    def originate(self, aor: str, caller: Party, listener: ChannelListener,
                  codecs: list[Codec]) -> Sequence[Channel]:
        leg = Phone(Direction.OUTBOUND, caller.number, aor, aor)
        leg.listener = listener
        self.rang.setdefault(aor, []).append(leg)
        return [leg]

    def last(self, aor: str) -> Phone:
        return self.rang[aor][-1]


class Rig:
    def __init__(self, tmp: Path) -> None:
        directory = ExtensionDirectory()
        directory.replace([ExtensionInfo(str(n), "", "pw", True) for n in range(8001, 8010)]
                          + [ExtensionInfo("8101", "", "pw", True)])
        self.events: list[Event] = []
        bus = EventBus()
        bus.subscribe(self.events.append)
        self.phones = Phones()
        self.switch = Switch(bus, MediaEngine("127.0.0.1", 40000, 40100), Router(directory),
                             tmp, self.phones, record=False)
        self.cc = self.switch.cc
        self.cc.may_monitor = lambda sup, agent: sup == "8101" and agent != "8009"

    def dial(self, caller: str, number: str) -> Phone:
        leg = Phone(Direction.INBOUND, caller, number, caller)
        self.switch.incoming(leg)
        return leg

    def talk(self, caller: str, callee: str) -> tuple[Phone, Phone, str]:
        a = self.dial(caller, callee)
        b = self.phones.last(callee)
        b.picks_up()
        [call_id] = [c.id for c in self.switch.calls.values() if c.a is a]
        return a, b, call_id

    def ended(self) -> list[CallEnded]:
        return [e for e in self.events if isinstance(e, CallEnded)]

    def of(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]


def br(call: Call) -> Bridge:
    assert isinstance(call.bridge, Bridge), call.bridge
    return call.bridge


def run(test: Callable[[Rig], None], tmp: Path) -> None:
    async def main() -> None:
        test(Rig(tmp))

    asyncio.run(main())


def test_blind_transfer_keeps_one_call_record_with_both_agents(tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        a, b, cid = r.talk("8001", "8002")
        call = r.switch.calls[cid]
        r.cc.blind_transfer(cid, "8002", "8003")
        assert b.ended
        assert br(call).held(a.media), "the caller waits with music on hold"
        c = r.phones.last("8003")
        assert c.caller.number == "8001", "the transfer target sees the caller"
        c.picks_up()
        assert set(br(call).legs) == {a.media, c.media}
        assert not br(call).held(a.media)
        [t] = r.of(Transferred)
        assert (t.by, t.party, t.to, t.kind) == ("8002", "8001", "8003", "blind")
        c.hangs_up()
        [end] = r.ended()
        assert (end.caller, end.called, end.callee) == ("8001", "8002", "8003")
        assert end.extra["agents"] == "8002,8003" and end.extra["transfers"] == "blind:8003"

    run(body, tmp_path)


def test_impossible_requests_raise_and_change_nothing(tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        a, b, cid = r.talk("8001", "8002")
        with pytest.raises(CallControlError, match="not a number of this box"):
            r.cc.blind_transfer(cid, "8002", "5555")
        with pytest.raises(CallControlError, match="8004 is not on call"):
            r.cc.hold(cid, "8004")
        with pytest.raises(CallControlError, match="no call"):
            r.cc.hold("nope", "8002")
        with pytest.raises(CallControlError, match="not on hold"):
            r.cc.retrieve(cid, "8002")
        with pytest.raises(CallControlError, match="not consulting"):
            r.cc.complete_transfer(cid, "8002")
        assert not a.ended and not b.ended and r.ended() == []

    run(body, tmp_path)


def test_box_hold_and_retrieve(tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        a, _b, cid = r.talk("8001", "8002")
        bridge = br(r.switch.calls[cid])
        r.cc.hold(cid, "8002")
        assert bridge.held(a.media) and a.log[-1] == "hold:True"
        with pytest.raises(CallControlError, match="already on hold"):
            r.cc.hold(cid, "8002")
        r.cc.retrieve(None, "8002")
        assert not bridge.held(a.media) and a.log[-1] == "hold:False"
        assert [type(e).__name__ for e in r.of(Held)] == ["Held"]

    run(body, tmp_path)


def test_attended_transfer_by_feature_code_then_hang_up_completes(tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        a, b, cid = r.talk("8001", "8002")
        call = r.switch.calls[cid]
        b.keys("*28003#")
        c = r.phones.last("8003")
        assert br(call) is not None and br(call).held(a.media)
        assert b.media not in br(call), "the agent left the caller's bridge to consult"
        c.picks_up()
        cons = r.cc.consults[cid]
        assert cons.bridge is not None
        assert set(cons.bridge.legs) == {b.media, c.media}
        b.hangs_up()  # complete
        assert cid not in r.cc.consults
        assert set(br(call).legs) == {a.media, c.media} and not br(call).held(a.media)
        assert call.b is c and c.listener is call
        a.hangs_up()
        [end] = r.ended()
        assert end.callee == "8003" and end.extra["agents"] == "8002,8003"
        assert end.extra["transfers"] == "attended:8003"

    run(body, tmp_path)


def test_consult_then_three_way_then_cancel_paths(tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        a, b, cid = r.talk("8001", "8002")
        call = r.switch.calls[cid]
        b.keys("*28003#")
        c = r.phones.last("8003")
        c.picks_up()
        b.keys("*3")  # 3-way
        assert set(br(call).legs) == {a.media, b.media, c.media}
        assert br(call).mode == "mix"
        [conf] = r.of(Conferenced)
        assert conf.parties == ("8001", "8002", "8003")
        b.hangs_up()  # the agent leaves; caller and 8003 go on
        assert call.b is c and not a.ended
        assert set(br(call).legs) == {a.media, c.media}

        # a new consultation from 8003, cancelled with *0: back to the caller
        c.keys("*28004#")
        d = r.phones.last("8004")
        d.picks_up()
        c.keys("*0")
        assert d.ended and set(br(call).legs) == {a.media, c.media}
        assert not br(call).held(a.media)

    run(body, tmp_path)


def test_blind_transfer_by_feature_code(tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        _a, b, _cid = r.talk("8001", "8002")
        b.keys("##8005#")
        assert b.ended and r.phones.last("8005").caller.number == "8001"

    run(body, tmp_path)


def test_supervisor_whisper_barge_and_permission(tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        a, b, cid = r.talk("8001", "8002")
        call = r.switch.calls[cid]
        sup = r.dial("8101", "*528002")
        assert sup.log[0] == "answer"
        bridge = br(call)
        assert sup.media in bridge
        assert bridge.role(sup.media) is Role.WHISPER
        assert bridge.mixer is not None and bridge.mixer.hears(b.media, sup.media)
        assert not bridge.mixer.hears(a.media, sup.media), "the caller must not hear"
        sup.keys("6")  # barge
        assert bridge.role(sup.media) is Role.BARGE and bridge.mixer.hears(a.media, sup.media)
        sup.keys("4")  # listen
        assert bridge.role(sup.media) is Role.LISTEN
        modes = [e.mode for e in r.of(MonitorChanged)]
        assert modes == ["whisper", "barge", "listen"]
        sup.hangs_up()
        assert sup.media not in bridge and set(bridge.legs) == {a.media, b.media}

        # 8009 is nobody's agent here: refused without answering, and the record says why
        r.talk("8003", "8009")
        denied = r.dial("8101", "*518009")
        assert denied.log == [f"hangup:{int(Cause.CALL_REJECTED)}"]
        [end] = [e for e in r.ended() if e.caller == "8101" and e.called == "*518009"]
        assert "may not supervise" in end.extra["feature_error"]

    run(body, tmp_path)


def test_force_release_and_force_transfer(tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        a, b, _cid = r.talk("8001", "8002")
        r.cc.force_transfer("8101", "8002", "8006")
        assert b.ended and r.phones.last("8006").caller.number == "8001"
        r.phones.last("8006").picks_up()
        with pytest.raises(CallControlError, match="may not supervise"):
            r.cc.force_release("8005", "8006")
        r.cc.force_release("8101", "8006")
        [end] = r.ended()
        assert end.released_by == "supervisor" and end.extra["force_released_by"] == "8101"
        assert a.ended

    run(body, tmp_path)


def test_park_and_retrieve_from_another_phone(tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        a, b, cid = r.talk("8001", "8002")
        b.keys("##700#")
        call = r.switch.calls[cid]
        assert r.cc.parked == {"701": call} and br(call).held(a.media)
        picker = r.dial("8007", "701")
        assert picker.log == ["answer"] and call.b is picker
        assert not br(call).held(a.media)
        assert [e.kind for e in r.of(Diverted)] == ["park", "unpark"]
        picker.hangs_up()
        [end] = r.ended()
        assert end.extra["transfers"] == "park:701" and end.callee == "8007"

    run(body, tmp_path)


def test_group_and_directed_pickup(tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        a = r.dial("8001", "8002")
        ringing = r.phones.last("8002")
        picker = r.dial("8003", "*88002")
        assert ringing.ended and picker.log == ["answer"]
        [call] = r.switch.calls.values()
        assert call.b is picker and a.log[-1] == "answer"
        with pytest.raises(CallControlError, match="no call is ringing"):
            r.cc.pickup("8004")

    run(body, tmp_path)


def test_cti_monitor_pickup_and_unpark_ring_the_requesting_phone_first(
        tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        a, b, cid = r.talk("8001", "8002")
        out = r.cc.monitor("8101", "8002", "whisper")
        assert out == {"call": cid, "agent": "8002", "ringing": "8101"}
        sup = r.phones.last("8101")
        assert sup.caller.number == "*52", "the supervisor's phone shows what it is for"
        sup.picks_up()
        bridge = br(r.switch.calls[cid])
        assert sup.media in bridge and bridge.role(sup.media) is Role.WHISPER
        r.cc.set_monitor_mode("8101", "barge")
        assert bridge.role(sup.media) is Role.BARGE
        with pytest.raises(CallControlError, match="may not supervise"):
            r.cc.monitor("8003", "8002")
        with pytest.raises(CallControlError, match="mode must be"):
            r.cc.set_monitor_mode("8101", "shout")

        # park by CTI, then 8004 takes it by CTI: its phone rings, answering connects
        r.cc.stop_monitor("8101")
        assert sup.ended and sup.media not in bridge
        slot = r.cc.park(cid, "8002")
        assert slot == "701" and b.ended
        r.cc.retrieve_parked("8004", slot)
        taker = r.phones.last("8004")
        taker.picks_up()
        call = r.switch.calls[cid]
        assert call.b is taker and not br(call).held(a.media)

        # CTI pickup: 8005 takes a call ringing at 8006
        r.dial("8007", "8006")
        r.cc.pickup("8005", "8006")
        picker = r.phones.last("8005")
        picker.picks_up()
        assert r.phones.last("8006").ended
        [picked] = [c for c in r.switch.calls.values() if c.b is picker]
        assert picked.extra["picked_up_by"] == "8005"

    run(body, tmp_path)


def test_unclaimed_park_rings_the_parker_again(tmp_path: Path) -> None:
    async def main() -> None:
        r = Rig(tmp_path)
        r.cc.park_timeout = 0.05
        a, b, cid = r.talk("8001", "8002")
        r.cc.park(cid, "8002")
        await asyncio.sleep(0.15)
        assert r.cc.parked == {}
        again = r.phones.last("8002")
        assert again is not b and again.caller.number == "8001"
        again.picks_up()
        call = r.switch.calls[cid]
        assert call.b is again and not br(call).held(a.media)
        assert call.extra["park_timeout"] == "701"

    asyncio.run(main())


def test_conference_adds_a_party_when_it_answers(tmp_path: Path) -> None:
    def body(r: Rig) -> None:
        a, b, cid = r.talk("8001", "8002")
        with pytest.raises(CallControlError, match="not a number"):
            r.cc.conference(cid, "8002", "x!")
        r.cc.conference(cid, "8002", "8004")
        d = r.phones.last("8004")
        call = r.switch.calls[cid]
        assert set(br(call).legs) == {a.media, b.media}, "not before it answers"
        d.picks_up()
        assert set(br(call).legs) == {a.media, b.media, d.media} and br(call).mode == "mix"
        d.hangs_up()
        assert set(br(call).legs) == {a.media, b.media} and not a.ended

    run(body, tmp_path)
