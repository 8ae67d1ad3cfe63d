"""Where a call goes: forwarding, DND, one-number, ring groups, voicemail (no call)."""

from __future__ import annotations

from firmware.switch.causes import Cause
from firmware.switch.features.hunt import MAX_FORWARDS, GiveUp, Hunt, Leg, Ring, ToVoicemail
from firmware.switch.features.settings import (
    ExtFeatures,
    FeatureTable,
    GroupMember,
    RingGroupInfo,
)

EXTS = {str(n) for n in range(8001, 8010)}


def hunt(exts: dict[str, ExtFeatures], groups: dict[str, RingGroupInfo] | None = None) -> Hunt:
    return Hunt(FeatureTable(exts, groups or {}), EXTS.__contains__, default_timeout=60)


def ext(n: str) -> tuple[Leg, ...]:
    return (Leg("extension", n),)


def test_plain_extension_rings_as_long_as_any_call() -> None:
    h = hunt({})
    assert h.start("8001") == Ring("8001", ext("8001"), 60)
    assert h.failed(Cause.NO_ANSWER) == GiveUp(Cause.NO_ANSWER)


def test_forward_always_is_followed_and_recorded() -> None:
    h = hunt({"8001": ExtFeatures(forward_always="8002")})
    assert h.start("8001") == Ring("8002", ext("8002"), 60)
    assert [str(d) for d in h.diversions] == ["always:8001>8002"]


def test_forward_busy_and_no_answer() -> None:
    table = {"8001": ExtFeatures(forward_busy="8002", forward_no_answer="8003",
                                 no_answer_timeout=15)}
    busy = hunt(table)
    assert busy.start("8001") == Ring("8001", ext("8001"), 15)
    assert busy.failed(Cause.USER_BUSY) == Ring("8002", ext("8002"), 60)
    assert [str(d) for d in busy.diversions] == ["busy:8001>8002"]
    quiet = hunt(table)
    quiet.start("8001")
    assert quiet.failed(Cause.NO_ANSWER) == Ring("8003", ext("8003"), 60)
    unregistered = hunt(table)
    unregistered.start("8001")
    assert unregistered.failed(Cause.SUBSCRIBER_ABSENT) == Ring("8003", ext("8003"), 60)
    assert [str(d) for d in unregistered.diversions] == ["no-answer:8001>8003"]


def test_dnd_is_busy_then_voicemail_when_on() -> None:
    assert hunt({"8001": ExtFeatures(dnd=True)}).start("8001") == GiveUp(Cause.USER_BUSY)
    vm = hunt({"8001": ExtFeatures(dnd=True, voicemail=True)})
    assert vm.start("8001") == ToVoicemail("8001", "busy")
    fwd = hunt({"8001": ExtFeatures(dnd=True, forward_busy="8004", voicemail=True)})
    assert fwd.start("8001") == Ring("8004", ext("8004"), 60)
    assert [str(d) for d in fwd.diversions] == ["dnd:8001>8004"]


def test_voicemail_after_no_answer_and_busy() -> None:
    table = {"8001": ExtFeatures(voicemail=True, no_answer_timeout=12)}
    h = hunt(table)
    assert h.start("8001") == Ring("8001", ext("8001"), 12)
    assert h.failed(Cause.NO_ANSWER) == ToVoicemail("8001", "unavailable")
    b = hunt(table)
    b.start("8001")
    assert b.failed(Cause.USER_BUSY) == ToVoicemail("8001", "busy")


def test_forward_loops_are_not_followed() -> None:
    loop = hunt({"8001": ExtFeatures(forward_always="8002"),
                 "8002": ExtFeatures(forward_always="8001")})
    assert loop.start("8001") == Ring("8002", ext("8002"), 60)  # 8002 rings itself
    chain = {str(n): ExtFeatures(forward_always=str(n + 1)) for n in range(8001, 8009)}
    long = hunt(chain)
    step = long.start("8001")
    assert len(long.diversions) == MAX_FORWARDS
    assert step == Ring(str(8001 + MAX_FORWARDS), ext(str(8001 + MAX_FORWARDS)), 60)
    # busy back to the caller's first extension: its voicemail, not another ring
    back = hunt({"8001": ExtFeatures(forward_no_answer="8002", voicemail=True),
                 "8002": ExtFeatures(forward_busy="8001")})
    back.start("8001")
    assert back.failed(Cause.NO_ANSWER) == Ring("8002", ext("8002"), 60)
    assert back.failed(Cause.USER_BUSY) == ToVoicemail("8001", "unavailable")


def test_one_number_rings_desk_then_mobile_through_the_trunk() -> None:
    h = hunt({"8001": ExtFeatures(mobile="013800138000", mobile_delay=8,
                                  no_answer_timeout=20, voicemail=True)})
    assert h.start("8001") == Ring("8001", ext("8001"), 28, (Leg("trunk", "13800138000"),), 8)
    assert h.failed(Cause.NO_ANSWER) == ToVoicemail("8001", "unavailable")


def test_forward_to_an_outside_number() -> None:
    h = hunt({"8001": ExtFeatures(forward_always="013800138000")})
    assert h.start("8001") == Ring("013800138000", (Leg("trunk", "13800138000"),), 60)
    assert h.failed(Cause.NO_ANSWER) == GiveUp(Cause.NO_ANSWER)


def test_simultaneous_group_skips_dnd_members_and_falls_back() -> None:
    g = RingGroupInfo("5000", strategy="simultaneous", ring_timeout=15, fallback="vm:8009",
                      members=(GroupMember("8001"), GroupMember("8002"), GroupMember("8003")))
    h = hunt({"8002": ExtFeatures(dnd=True), "8001": ExtFeatures(forward_always="8005")},
             {"5000": g})
    assert h.start("5000") == Ring("5000", ext("8001") + ext("8003"), 15)
    assert h.failed(Cause.NO_ANSWER) == ToVoicemail("8009", "unavailable")
    assert [str(d) for d in h.diversions] == ["group-fallback:5000>vm:8009"]


def test_sequential_group_rings_members_in_order_with_their_timeouts() -> None:
    g = RingGroupInfo("5001", strategy="sequential", ring_timeout=10, fallback="8007",
                      members=(GroupMember("8003"), GroupMember("8001", 4),
                               GroupMember("8002")))
    h = hunt({}, {"5001": g})
    assert h.start("5001") == Ring("5001", ext("8003"), 10)
    assert h.failed(Cause.NO_ANSWER) == Ring("5001", ext("8001"), 4)
    assert h.failed(Cause.USER_BUSY) == Ring("5001", ext("8002"), 10)
    assert h.failed(Cause.SUBSCRIBER_ABSENT) == Ring("8007", ext("8007"), 60)
    assert h.failed(Cause.NO_ANSWER) == GiveUp(Cause.NO_ANSWER)


def test_forward_to_a_group_and_disabled_or_empty_groups() -> None:
    g = RingGroupInfo("5002", members=(GroupMember("8002"),), ring_timeout=9)
    h = hunt({"8001": ExtFeatures(forward_always="5002")}, {"5002": g})
    assert h.start("8001") == Ring("5002", ext("8002"), 9)
    off = RingGroupInfo("5003", members=(GroupMember("8002"),), enabled=False)
    assert hunt({}, {"5003": off}).start("5003") == GiveUp(Cause.UNALLOCATED_NUMBER)
    empty = RingGroupInfo("5004", members=(GroupMember("8002"),))
    assert hunt({"8002": ExtFeatures(dnd=True)}, {"5004": empty}).start("5004") == GiveUp(
        Cause.USER_BUSY)
