"""Rooms and ring groups as call targets: the router's group:/conference: targets and
internal numbers (IVR transfers), and the room PIN checked against its argon2id hash off
the loop, with the per-room lockout."""

from __future__ import annotations

import asyncio
import json
import textwrap
import time
from pathlib import Path

import pytest

from firmware.siteconfig import validate
from firmware.siteconfig.model import CallTarget, DidRoute
from firmware.siteconfig.yamlio import load
from firmware.switch.callcontrol_setup import install
from firmware.switch.causes import Cause
from firmware.switch.directory import ExtensionDirectory, ExtensionInfo
from firmware.switch.features.pin import PinGuard, hash_pin
from firmware.switch.router import Reject, Route, Router
from tests.unit.test_switch_callcontrol import Phone, Rig
from tests.unit.test_switch_router_trunk import Leg

SITE = """\
extensions: [{number: "9002"}, {number: "9003"}]
ring_groups: [{number: "5000", members: ["9002", "9003"]}]
conference_rooms: [{number: "6001", pin: "480913"}]
dids:
  - {number: "96100", target: group:5000}
  - {number: "96200", target: conference:6001}
"""


def routed(r: Router, called: str) -> Route | Reject:
    leg = Leg("pri", called)
    leg.peer_name = "span1/3"
    return r.route(leg)


def test_did_targets_a_ring_group_and_a_room() -> None:
    data, _ = load(textwrap.dedent(SITE))
    site = validate(data).raise_for_errors()
    d = ExtensionDirectory()
    d.replace([ExtensionInfo("9002", "", "pw", True), ExtensionInfo("9003", "", "pw", True)])
    r = Router(d)
    r.routes, r.rooms = site.dids, frozenset(site.rooms)
    groups = {"5000"}
    r.plugins.append(lambda n, _t: Route("group", n) if n in groups else None)
    assert routed(r, "96100") == Route("group", "5000")
    assert routed(r, "96200") == Route("conference", "6001")
    room = routed(r, "96200")
    assert isinstance(room, Route) and room.note == "DID 96200 default"
    # an IVR transfer to an internal number: room, group or extension
    assert r.internal("6001") == Route("conference", "6001")
    assert r.internal("5000") == Route("group", "5000")
    assert r.internal("9002") == Route("extension", "9002")
    # the group was disabled (PhoneFeatures' plugin no longer routes it): refused
    groups.clear()
    refused = routed(r, "96100")
    assert isinstance(refused, Reject) and refused.cause is Cause.UNALLOCATED_NUMBER


def pin_rig(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Rig, list[tuple[str, str]]]:
    r = Rig(tmp)
    install(r.switch)
    r.cc.room_pins = {"6001": hash_pin("480913")}
    joined: list[tuple[str, str]] = []
    monkeypatch.setattr(r.cc.conference_rooms, "_join",
                        lambda call, number: joined.append((call.id, number)))
    return r, joined


async def settle(r: Rig, phone: Phone) -> None:
    """Until the PIN being checked in a thread came back."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        entries = [e for cid, e in r.cc.conference_rooms._entries.items()
                   if cid in r.switch.calls and r.switch.calls[cid].a is phone]
        if not entries or not entries[0].checking:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("PIN check never finished")


def test_room_pin_is_checked_against_its_hash(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        r, joined = pin_rig(tmp_path, monkeypatch)
        a = r.dial("8001", "6001")
        assert a.log == ["answer"]
        a.keys("111111#")
        await settle(r, a)
        assert joined == []
        a.keys("480913#")
        await settle(r, a)
        [call] = [c for c in r.switch.calls.values() if c.a is a]
        assert joined == [(call.id, "6001")]
        # a call routed to the room (a DID conference:6001) asks the PIN the same way
        r.switch.router.routes = {"96200": DidRoute("96200", "", CallTarget("conference",
                                                                            "6001"))}
        r.switch.router.rooms = frozenset({"6001"})
        b = r.dial("8002", "96200")
        assert b.log == ["answer"]
        b.keys("4809")
        b.keys("13#")
        await settle(r, b)
        assert [n for _, n in joined] == ["6001", "6001"]

    asyncio.run(main())


def test_repeated_wrong_pins_lock_the_room_for_new_callers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        r, joined = pin_rig(tmp_path, monkeypatch)
        r.cc.conference_rooms.guard = PinGuard(limit=3, window=600, lock=900)
        a = r.dial("8001", "6001")
        [first] = [c for c in r.switch.calls.values() if c.a is a]
        for _ in range(3):  # three tries: the box says goodbye
            a.keys("999999#")
            await settle(r, a)
        assert first.extra.get("conference_refused") == "6001"
        # the room is locked now: even the right PIN is refused, without a check
        b = r.dial("8002", "6001")
        [second] = [c for c in r.switch.calls.values() if c.a is b]
        b.keys("480913#")
        assert joined == [] and second.extra.get("conference_refused") == "6001"
        assert "480913" not in json.dumps(second.extra)

    asyncio.run(main())
