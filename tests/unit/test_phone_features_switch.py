"""Phone features on a `Switch` with fake legs: forwards, one-number timing, groups,
feature codes changing the next call, the lamps' device states (no sockets)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from firmware.db.connection import open_db
from firmware.media.codecs import Codec
from firmware.media.engine import MediaEngine
from firmware.switch.bus import EventBus
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelListener, Direction, Party
from firmware.switch.core import Switch
from firmware.switch.directory import ExtensionDirectory, ExtensionInfo
from firmware.switch.events import CallEnded, Diverted, Event
from firmware.switch.features.service import PhoneFeatures
from firmware.switch.features.settings import ExtFeatures, FeatureTable, GroupMember, RingGroupInfo
from firmware.switch.router import Reject, Route, Router
from tests.unit.test_switch_call import FakeLeg


class Net:
    """Fake originators: extensions (registered ones ring) and a trunk."""

    def __init__(self, registered: set[str]) -> None:
        self.registered = registered
        self.placed: list[FakeLeg] = []

    def originate(self, aor: str, caller: Party, listener: ChannelListener,
                  codecs: list[Codec] | None = None) -> Sequence[Channel]:
        if aor not in self.registered:
            return []
        leg = FakeLeg(Direction.OUTBOUND, aor)
        leg.listener = listener
        self.placed.append(leg)
        return [leg]

    def rang(self) -> list[str]:
        return [leg.peer_name for leg in self.placed]


class Trunk(Net):
    def originate(self, aor: str, caller: Party, listener: ChannelListener,
                  codecs: list[Codec] | None = None) -> Sequence[Channel]:
        leg = FakeLeg(Direction.OUTBOUND, "span1/1")
        leg.called = aor
        leg.listener = listener
        self.placed.append(leg)
        return [leg]


async def box(tmp_path: Path, registered: set[str],
              table: FeatureTable) -> tuple[Switch, PhoneFeatures, Net, Trunk, list[Event]]:
    open_db(tmp_path)
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(events.append)
    d = ExtensionDirectory()
    d.replace([ExtensionInfo(str(n), "", "pw", True) for n in range(8001, 8006)])
    net, trunk = Net(registered), Trunk(set())
    sw = Switch(bus, MediaEngine("127.0.0.1", 30000, 30100), Router(d), tmp_path, net,
                record=False)
    sw.trunks = trunk
    features = PhoneFeatures(sw, tmp_path)
    await features.start(None)
    features.store.finish_reload(features.store.begin_reload(), table)
    return sw, features, net, trunk, events


def ended(events: list[Event]) -> list[CallEnded]:
    return [e for e in events if isinstance(e, CallEnded)]


def test_busy_forward_rings_the_target_and_the_record_says_so(tmp_path: Path) -> None:
    async def main() -> None:
        table = FeatureTable({"8002": ExtFeatures(forward_busy="8003")})
        sw, feats, net, _, events = await box(tmp_path, {"8002", "8003"}, table)
        caller = FakeLeg(Direction.INBOUND, "8001", "8002")
        caller.peer_name = "8001"
        sw.incoming(caller)
        assert net.rang() == ["8002"]
        call = next(iter(sw.calls.values()))
        busy = net.placed[0]
        busy.hangup(Cause.USER_BUSY)
        call.channel_hungup(busy, Cause.USER_BUSY)
        assert net.rang() == ["8002", "8003"]
        target = net.placed[1]
        call.channel_answered(target)
        assert call.b is target
        call.channel_hungup(caller, Cause.NORMAL_CLEARING)
        (rec,) = ended(events)
        assert (rec.called, rec.callee) == ("8002", "8003")
        assert rec.extra["forward"] == "busy:8002>8003", rec.extra
        div = [e for e in events if isinstance(e, Diverted)]
        assert [(e.from_device, e.to_device, e.kind) for e in div] == [
            ("8002", "8003", "forward-busy")]
        feats.stop()

    asyncio.run(main())


def test_no_answer_timeout_then_one_number_mobile_through_the_trunk(tmp_path: Path) -> None:
    async def main() -> None:
        table = FeatureTable({"8002": ExtFeatures(mobile="013800138000", mobile_delay=0,
                                                  no_answer_timeout=5,
                                                  forward_no_answer="8004")})
        sw, feats, net, trunk, _events = await box(tmp_path, {"8002", "8004"}, table)
        sw.incoming(FakeLeg(Direction.INBOUND, "8001", "8002"))
        await asyncio.sleep(0.05)
        # desk and, after 0 s, the mobile through the trunk
        assert net.rang() == ["8002"] and [leg.called for leg in trunk.placed] == [
            "13800138000"]
        call = next(iter(sw.calls.values()))
        assert len(call.forks) == 2
        first = [*net.placed, *trunk.placed]
        call.ring_timeout()  # what the 5 s no-answer timer does
        assert all(leg.ended for leg in first)
        assert net.rang() == ["8002", "8004"] and not net.placed[1].ended
        assert call.extra["forward"] == "no-answer:8002>8004"
        feats.stop()

    asyncio.run(main())


def test_unregistered_desk_rings_the_mobile_at_once(tmp_path: Path) -> None:
    async def main() -> None:
        table = FeatureTable({"8002": ExtFeatures(mobile="013900139000", mobile_delay=10)})
        sw, feats, _net, trunk, _ = await box(tmp_path, set(), table)
        sw.incoming(FakeLeg(Direction.INBOUND, "8001", "8002"))
        assert [leg.called for leg in trunk.placed] == ["13900139000"]
        feats.stop()

    asyncio.run(main())


def test_sequential_group_order_and_feature_code_route(tmp_path: Path) -> None:
    async def main() -> None:
        g = RingGroupInfo("5000", strategy="sequential", ring_timeout=9,
                          members=(GroupMember("8003"), GroupMember("8002"),
                                   GroupMember("8004")))
        sw, feats, net, _, events = await box(tmp_path, {"8002", "8004"},
                                              FeatureTable({}, {"5000": g}))
        sw.incoming(FakeLeg(Direction.INBOUND, "8001", "5000"))
        assert net.rang() == ["8002"]  # 8003 is not registered: skipped at once
        call = next(iter(sw.calls.values()))
        call.ring_timeout()
        assert net.rang() == ["8002", "8004"]
        call.ring_timeout()
        (rec,) = ended(events)
        assert rec.cause is Cause.NO_ANSWER and rec.extra["ring_group"] == "5000"
        # feature codes are routes of their own, never the trunk; others' codes pass
        router = sw.router
        for code in ("*728002", "*78"):
            assert router.route(FakeLeg(Direction.INBOUND, "8001", code)) == Route("feature",
                                                                                    code)
        assert isinstance(router.route(FakeLeg(Direction.INBOUND, "8001", "*5")), Reject)
        assert isinstance(router.route(FakeLeg(Direction.INBOUND, "8001", "*788")), Reject)
        feats.stop()

    asyncio.run(main())


def test_lamps_follow_sip_leg_states(tmp_path: Path) -> None:
    async def main() -> None:
        _sw, feats, _net, _, _ = await box(tmp_path, {"8002"}, FeatureTable())
        leg = FakeLeg(Direction.OUTBOUND, "8002")
        leg.tech = "sip"
        leg.watchers.append(feats.lamps.channel_changed)
        feats.lamps.channel_changed(leg)
        assert [v.state for v in feats.lamps.dialogs("8002")] == ["trying"]
        from firmware.switch.channel import ChannelState

        leg.state = ChannelState.RINGING
        assert [(v.state, v.direction) for v in feats.lamps.dialogs("8002")] == [
            ("early", "recipient")]
        leg.state = ChannelState.UP
        leg.state = ChannelState.ENDED
        assert [v.state for v in feats.lamps.dialogs("8002")] == ["terminated"]
        await asyncio.sleep(0.01)  # told, then forgotten
        assert feats.lamps.dialogs("8002") == []
        feats.stop()

    asyncio.run(main())


def test_presence_lamp_follows_the_acd_state(tmp_path: Path) -> None:
    from drivers.sip import pidf
    from drivers.sip.subscribe import Subscription
    from firmware.acd import AcdConfig, AcdEngine, AgentConfig, Member, QueueConfig, Strategy
    from firmware.switch.features.lamps import PRESENCE

    class Acd:
        def __init__(self) -> None:
            q = QueueConfig("q", Strategy("ring-all"), (Member("a1"),))
            self.engine = AcdEngine(AcdConfig((q,), (AgentConfig("a1"),)))

    async def main() -> None:
        _, feats, *_ = await box(tmp_path, set(), FeatureTable())
        acd = Acd()
        feats.lamps.acd = lambda: acd  # type: ignore[assignment, return-value]
        pkg = feats.lamps.packages()[PRESENCE]
        assert pkg.resolve("8001", "a1") == "a1" and pkg.resolve("8001", "zz") == 404
        sub = Subscription(PRESENCE, "a1", "8001", "c", "t", "r", "<sip:a1@box>",
                           "<sip:8001@box>", "sip:8001@p", [], None, None, 0.0)  # type: ignore[arg-type]
        assert pidf.parse(pkg.render(sub)) == ("sip:a1@box", False, "logged-out")
        acd.engine.agent_login("a1", "8003", now=1.0)
        assert pidf.parse(pkg.render(sub))[1:] == (True, "ready")
        acd.engine.agent_not_ready("a1", "lunch", now=2.0)
        assert pidf.parse(pkg.render(sub))[1:] == (False, "not-ready: lunch")
        assert pkg.resolve("8001", "8003") == "8003"
        desk = Subscription(PRESENCE, "8003", "8001", "c", "t", "r", "<sip:8003@box>",
                            "<sip:8001@box>", "sip:8001@p", [], None, None, 0.0)  # type: ignore[arg-type]
        # the phone the agent sits at shows the agent
        assert pidf.parse(pkg.render(desk)) == ("sip:8003@box", False, "not-ready: lunch")
        feats.stop()

    asyncio.run(main())
