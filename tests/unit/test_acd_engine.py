"""ACD engine scenarios with made-up times: offers, ring-all, wrap-up, not-ready, misses,
priority, overflow, EXITEMPTY, abandon, callback, smart routing, announcements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import pytest

from firmware.acd import (
    AcdConfig,
    AcdEngine,
    AcdError,
    Action,
    AgentBusy,
    AgentConfig,
    AgentNotReady,
    AgentReady,
    AgentRinging,
    AgentState,
    AgentWrapUp,
    Announce,
    CallEnded,
    CallServed,
    CancelOffer,
    Connect,
    DeviceInUse,
    EndedBy,
    Exit,
    ExitReason,
    KeyPressed,
    Member,
    Offer,
    OfferAnswered,
    OfferFailed,
    OfferFailure,
    OutboundCallMade,
    PlaceCallback,
    PlayPrompt,
    QueueConfig,
    QueueLog,
    StartMoh,
    Strategy,
    Target,
    TargetKind,
    TransitionError,
)
from firmware.acd import queuelog as ql

T = TypeVar("T")
DAY = 86400.0


def of(actions: Sequence[Action], kind: type[T]) -> list[T]:
    return [a for a in actions if isinstance(a, kind)]


def offered(actions: Sequence[Action]) -> list[str]:
    return [o.agent for o in of(actions, Offer)]


def records(actions: Sequence[Action]) -> list[ql.QueueLogRecord]:
    return [a.record for a in of(actions, QueueLog)]


def events(actions: Sequence[Action]) -> list[str]:
    return [r.event for r in records(actions)]


def engine(
    strategy: Strategy = Strategy.LINEAR,
    agents: Sequence[str] = ("a1", "a2", "a3"),
    *,
    login: bool = True,
    acd: dict[str, Any] | None = None,
    agent_wrap: dict[str, float] | None = None,
    extra_queues: Sequence[QueueConfig] = (),
    **queue: Any,
) -> AcdEngine:
    members = tuple(Member(a) for a in agents)
    qcfg = QueueConfig("q", strategy, members, **queue)
    wraps = agent_wrap or {}
    cfg = AcdConfig(
        queues=(qcfg, *extra_queues),
        agents=tuple(AgentConfig(a, wrap_up=wraps.get(a)) for a in agents),
        seed=7,
        **(acd or {}),
    )
    e = AcdEngine(cfg)
    if login:
        for i, a in enumerate(agents):
            e.agent_login(a, f"80{i + 1}", now=0.0)
    return e


def answer_and_end(e: AcdEngine, call: str, agent: str, t: float, talk: float = 10.0) -> None:
    e.handle(OfferAnswered(call, agent, t))
    e.handle(CallEnded(call, agent, EndedBy.CALLER, t + talk))


# --- a call through the queue -------------------------------------------------------------


def test_offer_connect_complete() -> None:
    e = engine()
    out = e.join("c1", "q", "13800000001", now=100.0)
    assert events(out) == ["ENTERQUEUE"]
    assert of(out, StartMoh) == [StartMoh("c1", "default")]
    assert of(out, Offer) == [Offer("c1", "a1", "801", 15.0, "q", "13800000001")]
    assert of(out, AgentRinging)[0].time == 100.0
    assert e.agent_status("a1").state is AgentState.RINGING

    out = e.handle(OfferAnswered("c1", "a1", 104.0))
    assert of(out, Connect) == [Connect("c1", "a1", "801", "q")]
    assert of(out, AgentBusy) == [AgentBusy("a1", 104.0, "c1", "q")]
    (connect,) = records(out)
    assert connect == ql.Connect(104.0, "c1", "q", "a1", 4.0, "801", 4.0)

    out = e.handle(CallEnded("c1", "a1", EndedBy.AGENT, 164.0))
    assert records(out) == [ql.CompleteAgent(164.0, "c1", "q", "a1", 4.0, 60.0, 1)]
    assert of(out, AgentReady) == [AgentReady("a1", 164.0)]
    assert e.agent_status("a1").state is AgentState.READY


def test_transfer_is_logged_with_target() -> None:
    e = engine()
    e.join("c1", "q", "1", now=0.0)
    e.handle(OfferAnswered("c1", "a1", 2.0))
    out = e.handle(CallEnded("c1", "a1", EndedBy.TRANSFER, 32.0, target="8100"))
    assert records(out) == [ql.Transfer(32.0, "c1", "q", "a1", "8100", 2.0, 30.0, 1)]


def test_ring_all_first_answer_wins_and_the_others_are_cancelled() -> None:
    e = engine(Strategy.RING_ALL)
    out = e.join("c1", "q", "1", now=10.0)
    assert offered(out) == ["a1", "a2", "a3"]
    out = e.handle(OfferAnswered("c1", "a2", 13.0))
    assert of(out, Connect) == [Connect("c1", "a2", "802", "q")]
    assert of(out, CancelOffer) == [CancelOffer("c1", "a1", "801"), CancelOffer("c1", "a3", "803")]
    assert events(out) == ["CONNECT", "RINGCANCELED", "RINGCANCELED"]
    for loser in ("a1", "a3"):
        status = e.agent_status(loser)
        assert status.state is AgentState.READY and status.missed == 0
    # A loser's answer crossing our cancel: the switch is told to drop that leg.
    assert e.handle(OfferAnswered("c1", "a1", 13.1)) == [CancelOffer("c1", "a1", "801")]


def test_ring_all_one_refusal_keeps_the_others_ringing() -> None:
    e = engine(Strategy.RING_ALL)
    e.join("c1", "q", "1", now=0.0)
    out = e.handle(OfferFailed("c1", "a1", OfferFailure.REJECTED, 2.0))
    assert events(out) == ["RINGNOANSWER"] and offered(out) == []
    assert e.agent_status("a2").state is AgentState.RINGING
    out = e.handle_timer(15.0)
    assert [c.agent for c in of(out, CancelOffer)] == ["a2", "a3"]


def test_ring_timeout_moves_on_to_the_next_agent() -> None:
    e = engine(ring_timeout=20.0)
    e.join("c1", "q", "1", now=0.0)
    assert e.next_timer() == 20.0
    out = e.handle_timer(20.0)
    assert of(out, CancelOffer) == [CancelOffer("c1", "a1", "801")]
    assert records(out)[0] == ql.RingNoAnswer(20.0, "c1", "q", "a1", 20000)
    assert offered(out) == ["a2"]
    assert e.agent_status("a1").missed == 1
    # The switch's own no-answer report arriving late changes nothing.
    assert e.handle(OfferFailed("c1", "a1", OfferFailure.NO_ANSWER, 20.1)) == []


def test_retry_delay_before_a_new_round() -> None:
    e = engine(agents=("a1",), retry=5.0, ring_timeout=10.0)
    e.join("c1", "q", "1", now=0.0)
    out = e.handle(OfferFailed("c1", "a1", OfferFailure.BUSY, 3.0))
    assert offered(out) == []
    assert e.next_timer() == 8.0
    assert offered(e.handle_timer(7.9)) == []
    assert offered(e.handle_timer(8.0)) == ["a1"]


def test_a_newly_ready_agent_takes_the_call_during_the_retry_pause() -> None:
    e = engine(agents=("a1", "a2"), retry=30.0)
    e.agent_not_ready("a2", "break", now=0.0)
    e.join("c1", "q", "1", now=1.0)
    e.handle(OfferFailed("c1", "a1", OfferFailure.NO_ANSWER, 5.0))
    assert offered(e.agent_ready("a2", now=6.0)) == ["a2"]


# --- agents: wrap-up, not ready, misses, ring in use, moves -------------------------------


def test_wrap_up_queue_default_and_agent_override() -> None:
    e = engine(agents=("a1", "a2"), wrap_up=30.0, agent_wrap={"a2": 5.0})
    e.join("c1", "q", "1", now=0.0)
    e.handle(OfferAnswered("c1", "a1", 1.0))
    out = e.handle(CallEnded("c1", "a1", EndedBy.CALLER, 61.0))
    assert of(out, AgentWrapUp) == [AgentWrapUp("a1", 61.0, "c1", "q", 91.0)]
    # In wrap-up a1 is not offered: the next call goes to a2.
    assert offered(e.join("c2", "q", "2", now=62.0)) == ["a2"]
    e.handle(OfferAnswered("c2", "a2", 63.0))
    out = e.handle(CallEnded("c2", "a2", EndedBy.CALLER, 73.0))
    assert of(out, AgentWrapUp)[0].until == 78.0  # the agent's own wrap-up
    assert offered(e.join("c3", "q", "3", now=74.0)) == []
    assert e.next_timer() == 78.0
    out = e.handle_timer(78.0)
    assert records(out)[0] == ql.WrapUpEnd(78.0, "c2", "q", "a2", 5.0)
    assert offered(out) == ["a2"]
    assert e.agent_status("a1").wrap_until == 91.0


def test_ready_ends_wrap_up_early() -> None:
    e = engine(agents=("a1",), wrap_up=60.0)
    e.join("c1", "q", "1", now=0.0)
    answer_and_end(e, "c1", "a1", 1.0)
    out = e.agent_ready("a1", now=20.0)
    assert records(out) == [ql.WrapUpEnd(20.0, "c1", "q", "a1", 9.0)]
    assert e.agent_status("a1").state is AgentState.READY


def test_not_ready_is_respected_and_logged_with_its_reason() -> None:
    e = engine()
    out = e.agent_not_ready("a1", "lunch", now=5.0)
    assert of(out, AgentNotReady) == [AgentNotReady("a1", 5.0, "lunch")]
    assert records(out) == [ql.Pause(5.0, "NONE", "NONE", "a1", "lunch")]
    assert offered(e.join("c1", "q", "1", now=6.0)) == ["a2"]
    out = e.agent_ready("a1", now=50.0)
    assert records(out) == [ql.Unpause(50.0, "NONE", "NONE", "a1", "lunch")]
    with pytest.raises(AcdError, match="unknown not-ready reason 'nap'"):
        e.agent_not_ready("a1", "nap", now=51.0)


def test_not_ready_during_a_call_applies_after_wrap_up() -> None:
    e = engine(agents=("a1",), wrap_up=10.0)
    e.join("c1", "q", "1", now=0.0)
    e.handle(OfferAnswered("c1", "a1", 1.0))
    assert e.agent_not_ready("a1", "meeting", now=2.0) == []
    e.handle(CallEnded("c1", "a1", EndedBy.CALLER, 30.0))
    out = e.handle_timer(40.0)
    assert events(out) == ["WRAPUPEND", "PAUSE"]
    assert e.agent_status("a1").reason == "meeting"


def test_not_ready_while_ringing_returns_the_call_without_a_miss() -> None:
    e = engine()
    e.join("c1", "q", "1", now=0.0)
    out = e.agent_not_ready("a1", "break", now=3.0)
    assert of(out, CancelOffer) == [CancelOffer("c1", "a1", "801")]
    assert events(out)[:2] == ["RINGCANCELED", "PAUSE"]
    assert offered(out) == ["a2"]
    assert e.agent_status("a1").missed == 0


def test_auto_not_ready_after_consecutive_misses() -> None:
    e = engine(agents=("a1",), acd={"max_missed_offers": 2}, retry=5.0, ring_timeout=15.0)
    e.join("c1", "q", "1", now=0.0)
    e.handle_timer(15.0)  # miss 1
    assert e.agent_status("a1").state is AgentState.READY
    assert offered(e.handle_timer(20.0)) == ["a1"]
    out = e.handle_timer(35.0)  # miss 2
    assert of(out, AgentNotReady) == [AgentNotReady("a1", 35.0, "no answer")]
    assert ql.Pause(35.0, "NONE", "NONE", "a1", "no answer") in records(out)
    assert e.next_timer() is None  # nobody to offer to; the caller waits


def test_an_answer_resets_the_miss_count() -> None:
    e = engine(agents=("a1",), acd={"max_missed_offers": 2}, retry=0.0, ring_timeout=15.0)
    e.join("c1", "q", "1", now=0.0)
    e.handle_timer(15.0)
    answer_and_end(e, "c1", "a1", 16.0)
    assert e.agent_status("a1").missed == 0
    e.join("c2", "q", "2", now=30.0)
    e.handle_timer(45.0)  # a first miss again, not the second in a row
    status = e.agent_status("a1")
    assert status.missed == 1 and status.state is AgentState.RINGING  # retry 0: again


def test_agent_on_another_call_is_not_offered_unless_ring_in_use() -> None:
    e = engine(agents=("a1", "a2"))
    e.handle(DeviceInUse("801", True, 1.0))
    assert offered(e.join("c1", "q", "1", now=2.0)) == ["a2"]
    e.handle(DeviceInUse("802", True, 3.0))
    e.handle(OfferFailed("c1", "a2", OfferFailure.BUSY, 3.0))
    assert offered(e.handle(DeviceInUse("801", False, 4.0))) == ["a1"]

    e2 = engine(agents=("a1",), ring_in_use=True)
    e2.handle(DeviceInUse("801", True, 1.0))
    assert offered(e2.join("c1", "q", "1", now=2.0)) == ["a1"]


def test_logout_while_ringing_requeues_and_logout_on_a_call_is_refused() -> None:
    e = engine(agents=("a1", "a2"))
    e.join("c1", "q", "1", now=0.0)
    out = e.agent_logout("a1", now=2.0)
    assert of(out, CancelOffer) == [CancelOffer("c1", "a1", "801")]
    assert records(out)[-1] == ql.AgentLogoff(2.0, "NONE", "NONE", "a1", "801", 2.0)
    assert offered(out) == ["a2"]
    e.handle(OfferAnswered("c1", "a2", 3.0))
    with pytest.raises(TransitionError, match="agent a2: cannot log out while on call c1"):
        e.agent_logout("a2", now=4.0)


def test_agent_moves_between_devices_and_devices_are_exclusive() -> None:
    e = engine(agents=("a1", "a2"))
    with pytest.raises(TransitionError, match="device 801 is in use by agent a1"):
        e.agent_login("a2", "801", now=1.0)
    out = e.agent_login("a1", "809", now=2.0)
    assert records(out) == [ql.AgentLogin(2.0, "NONE", "NONE", "a1", "809")]
    assert of(e.join("c1", "q", "1", now=3.0), Offer)[0].device == "809"
    e.agent_login("a2", "810", now=4.0)
    e.agent_not_ready("a1", "break", now=5.0)
    assert e.agent_login("a1", "801", now=6.0)  # the old device is free again


# --- queue order, priority, exits ---------------------------------------------------------


def test_priority_jumps_ahead_fifo_within_a_priority() -> None:
    e = engine(agents=("a1",))
    e.agent_not_ready("a1", "break", now=0.0)
    e.join("c1", "q", "1", now=1.0)
    e.join("c2", "q", "2", now=2.0)
    out = e.join("c3", "q", "3", priority=5, now=3.0)
    assert records(out)[0] == ql.EnterQueue(3.0, "c3", "q", "NONE", "3", 1)
    e.join("c4", "q", "4", priority=5, now=4.0)
    assert e.waiting("q") == ["c3", "c4", "c1", "c2"]
    assert [of(e.agent_ready("a1", now=5.0), Offer)[0].call_id] == ["c3"]


def test_overflow_on_max_wait() -> None:
    overflow = QueueConfig("q2", members=(Member("a1"),))
    e = engine(max_wait=60.0, timeout_target=Target(TargetKind.QUEUE, "q2"),
               extra_queues=(overflow,), ring_timeout=100.0, agents=("a1", "a2"))
    e.agent_not_ready("a2", "break", now=0.0)
    e.join("c0", "q", "0", now=5.0)  # rings a1 for 100 s
    e.join("c1", "q", "1", now=10.0)
    assert e.next_timer() == 65.0
    out = e.handle_timer(65.0)
    assert of(out, CancelOffer) == [CancelOffer("c0", "a1", "801")]
    assert of(out, Exit)[0] == Exit("c0", Target(TargetKind.QUEUE, "q2"), ExitReason.TIMEOUT)
    assert ql.ExitWithTimeout(65.0, "c0", "q", "NONE", 1, 1, 60.0) in records(out)
    assert offered(out) == ["a1"]  # a1 is free again: now for c1
    out = e.handle_timer(70.0)
    assert of(out, Exit) == [Exit("c1", Target(TargetKind.QUEUE, "q2"), ExitReason.TIMEOUT)]
    # The switch carries the call on: it joins the overflow queue.
    assert e.join("c1", "q2", "1", now=70.0)


def test_overflow_keeps_the_callers_priority() -> None:
    overflow = QueueConfig("q2", members=(Member("a1"),))
    e = engine(max_wait=10.0, timeout_target=Target(TargetKind.QUEUE, "q2"),
               extra_queues=(overflow,), agents=("a1",))
    e.agent_not_ready("a1", "break", now=0.0)
    e.join("c1", "q2", "1", now=1.0)
    e.join("c2", "q", "2", priority=7, now=2.0)
    (exit_,) = of(e.handle_timer(12.0), Exit)
    assert exit_ == Exit("c2", Target(TargetKind.QUEUE, "q2"), ExitReason.TIMEOUT, 7)
    e.join("c2", "q2", "2", priority=exit_.priority, now=12.0)
    assert e.waiting("q2") == ["c2", "c1"]  # ahead of the routine caller already there


def test_exit_empty_on_join_and_when_the_last_agent_leaves() -> None:
    vm = Target(TargetKind.VOICEMAIL, "9000")
    e = engine(agents=("a1", "a2"), login=False, empty_target=vm)
    out = e.join("c1", "q", "1", now=1.0)
    assert events(out) == ["ENTERQUEUE", "EXITEMPTY"]
    assert of(out, Exit) == [Exit("c1", vm, ExitReason.EMPTY)]
    assert e.waiting("q") == []

    e.agent_login("a1", "801", now=2.0)
    e.agent_login("a2", "802", now=2.0)
    e.agent_not_ready("a1", "break", now=3.0)
    e.agent_not_ready("a2", "break", now=3.0)
    e.join("c2", "q", "2", now=4.0)
    e.join("c3", "q", "3", now=5.0)
    assert of(e.agent_logout("a1", now=10.0), Exit) == []  # a2 is still logged in
    out = e.agent_logout("a2", now=20.0)
    assert [x.call_id for x in of(out, Exit)] == ["c2", "c3"]
    exits = [r for r in records(out) if isinstance(r, ql.ExitEmpty)]
    assert exits == [ql.ExitEmpty(20.0, "c2", "q", "NONE", 1, 1, 16.0),
                     ql.ExitEmpty(20.0, "c3", "q", "NONE", 1, 2, 15.0)]


def test_without_empty_treatment_callers_wait_for_agents() -> None:
    e = engine(agents=("a1",), login=False)
    e.join("c1", "q", "1", now=1.0)
    assert offered(e.agent_login("a1", "801", now=30.0)) == ["a1"]


def test_abandon_logs_position_original_position_and_wait() -> None:
    e = engine(agents=("a1",))
    e.agent_not_ready("a1", "break", now=0.0)
    for i, t in enumerate((10.0, 11.0, 12.0), start=1):
        e.join(f"c{i}", "q", str(i), now=t)
    e.join("c4", "q", "4", priority=1, now=13.0)  # jumps ahead: c2 is now third
    out = e.leave("c2", now=53.0)
    assert records(out) == [ql.Abandon(53.0, "c2", "q", "NONE", 3, 2, 42.0)]
    assert e.position("c3") == 3
    with pytest.raises(AcdError, match="c2 is not waiting"):
        e.leave("c2", now=54.0)


def test_abandon_while_ringing_cancels_the_offer_without_a_miss() -> None:
    e = engine(agents=("a1",))
    e.join("c1", "q", "1", now=0.0)
    out = e.leave("c1", now=4.0)
    assert of(out, CancelOffer) == [CancelOffer("c1", "a1", "801")]
    assert events(out) == ["RINGCANCELED", "ABANDON"]
    assert e.agent_status("a1").state is AgentState.READY
    assert e.agent_status("a1").missed == 0


def test_exit_key_sends_the_caller_to_its_target() -> None:
    op = Target(TargetKind.EXTENSION, "8000")
    e = engine(agents=("a1",), exit_keys={"0": op})
    e.agent_not_ready("a1", "break", now=0.0)
    e.join("c1", "q", "1", now=1.0)
    assert e.handle(KeyPressed("c1", "5", 2.0)) == []
    out = e.handle(KeyPressed("c1", "0", 3.0))
    assert records(out) == [ql.ExitWithKey(3.0, "c1", "q", "NONE", "0", 1, 1, 2.0)]
    assert of(out, Exit) == [Exit("c1", op, ExitReason.KEY)]
    assert e.waiting("q") == []


# --- callback -----------------------------------------------------------------------------


def test_callback_request_keeps_its_place() -> None:
    e = engine(agents=("a1",), callback_key="1", max_wait=300.0,
               timeout_target=Target(TargetKind.VOICEMAIL, "9000"))
    e.agent_not_ready("a1", "break", now=0.0)
    e.join("c1", "q", "13900000001", now=10.0)
    e.join("c2", "q", "13900000002", now=20.0)
    e.join("c3", "q", "13900000003", now=30.0)
    out = e.handle(KeyPressed("c2", "1", 50.0))
    assert records(out) == [ql.ExitWithKey(50.0, "c2", "q", "NONE", "1", 2, 2, 30.0)]
    assert of(out, Exit) == [Exit("c2", Target(TargetKind.CALLBACK), ExitReason.KEY)]
    assert e.waiting("q") == ["c1", "c2", "c3"]
    assert e.position("c3") == 3

    out = e.agent_ready("a1", now=60.0)
    assert [o.call_id for o in of(out, Offer)] == ["c1"]
    e.handle(OfferAnswered("c1", "a1", 61.0))
    out = e.handle(CallEnded("c1", "a1", EndedBy.CALLER, 90.0))
    # c2's turn: the agent is given the callback, not the caller waiting behind it.
    assert of(out, PlaceCallback) == [PlaceCallback("c2", "a1", "801", "13900000002", 15.0, "q")]
    assert of(out, Offer) == []
    assert e.waiting("q") == ["c2", "c3"]
    out = e.handle(OfferAnswered("c2", "a1", 95.0))
    assert of(out, Connect) == []  # the switch dials the number from the agent's leg
    assert records(out) == [ql.Connect(95.0, "c2", "q", "a1", 75.0, "801", 5.0)]
    out = e.handle(CallEnded("c2", "a1", EndedBy.AGENT, 155.0))
    assert records(out)[0] == ql.CompleteAgent(155.0, "c2", "q", "a1", 75.0, 60.0, 2)
    assert offered(out) == ["a1"]  # now c3
    assert e.handle(CallEnded("c2", "a1", EndedBy.AGENT, 156.0)) == []  # reported twice


def test_callback_requests_do_not_time_out_or_exit_empty() -> None:
    e = engine(agents=("a1",), callback_key="*", max_wait=60.0,
               timeout_target=Target(TargetKind.HANGUP),
               empty_target=Target(TargetKind.VOICEMAIL, "9000"))
    e.agent_not_ready("a1", "break", now=0.0)
    e.join("c1", "q", "1", now=1.0)
    e.handle(KeyPressed("c1", "*", 2.0))
    assert e.next_timer() is None
    assert of(e.handle_timer(500.0), Exit) == []
    e.agent_logout("a1", now=501.0)
    assert e.waiting("q") == ["c1"]
    assert [p.call_id for p in of(e.agent_login("a1", "801", now=600.0), PlaceCallback)] == ["c1"]


def test_no_callback_for_a_withheld_number() -> None:
    e = engine(agents=("a1",), callback_key="1")
    e.agent_not_ready("a1", "break", now=0.0)
    e.join("c1", "q", "", now=1.0)
    assert e.handle(KeyPressed("c1", "1", 2.0)) == []


def test_max_wait_to_callback_target_keeps_the_place() -> None:
    e = engine(agents=("a1",), max_wait=60.0, timeout_target=Target(TargetKind.CALLBACK))
    e.agent_not_ready("a1", "break", now=0.0)
    e.join("c1", "q", "1", now=0.0)
    e.join("c2", "q", "2", now=1.0)
    out = e.handle_timer(60.0)
    assert of(out, Exit) == [Exit("c1", Target(TargetKind.CALLBACK), ExitReason.TIMEOUT)]
    assert e.waiting("q") == ["c1", "c2"]
    assert of(e.agent_ready("a1", now=61.0), PlaceCallback)[0].call_id == "c1"


# --- smart routing ------------------------------------------------------------------------


def test_returning_caller_goes_to_the_agent_who_served_them_last() -> None:
    e = engine()
    e.handle(CallServed("13700000000", "a3", 1000.0 - 2 * DAY))
    assert offered(e.join("c1", "q", "13700000000", now=1000.0)) == ["a3"]
    # Not ready: normal strategy.
    e.handle(OfferAnswered("c1", "a3", 1001.0))
    assert offered(e.join("c2", "q", "13700000000", now=1002.0)) == ["a1"]


def test_smart_routing_forgets_after_the_window_and_learns_from_connects() -> None:
    e = engine(acd={"served_memory_days": 7.0})
    e.handle(CallServed("137", "a3", 0.0))
    assert offered(e.join("c1", "q", "137", now=8 * DAY)) == ["a1"]
    e.handle(OfferFailed("c1", "a1", OfferFailure.REJECTED, 8 * DAY + 1))  # -> a2
    answer_and_end(e, "c1", "a2", 8 * DAY + 2)
    assert offered(e.join("c2", "q", "137", now=8 * DAY + 100)) == ["a2"]


def test_call_back_to_the_main_number_reaches_the_agent_who_called_out() -> None:
    e = engine()
    e.handle(CallServed("139", "a2", 100.0))
    e.handle(OutboundCallMade("139", "a3", 200.0))  # more recent: a3 is who they expect
    assert offered(e.join("c1", "q", "139", now=300.0)) == ["a3"]


def test_smart_routing_can_be_switched_off_per_queue() -> None:
    e = engine(smart_routing=False, outbound_trace=False)
    e.handle(OutboundCallMade("139", "a3", 200.0))
    assert offered(e.join("c1", "q", "139", now=300.0)) == ["a1"]


# --- waiting experience -------------------------------------------------------------------


def test_position_and_ewt_announcements_and_periodic_prompt() -> None:
    e = engine(agents=("a1", "a2"), announce_frequency=30.0, default_aht=120.0,
               periodic_prompt="promo", periodic_frequency=45.0)
    e.join("x1", "q", "1", now=0.0)
    e.join("x2", "q", "2", now=0.0)
    e.handle(OfferAnswered("x1", "a1", 1.0))
    e.handle(OfferAnswered("x2", "a2", 1.0))
    out = e.join("c1", "q", "3", now=10.0)
    assert of(out, Announce) == [Announce("c1", 1, 60)]  # ceil(1 * 120 / 2)
    out = e.join("c2", "q", "4", now=11.0)
    assert of(out, Announce) == [Announce("c2", 2, 120)]
    assert e.next_timer() == 40.0
    assert of(e.handle_timer(40.0), Announce) == [Announce("c1", 1, 60)]
    out = e.handle_timer(55.0)
    assert of(out, PlayPrompt) == [PlayPrompt("c1", "promo")]
    # A late timer plays what is due once and moves on to the next slot.
    out = e.handle_timer(105.0)
    assert of(out, Announce) == [Announce("c1", 1, 60), Announce("c2", 2, 120)]
    assert e.next_timer() == 130.0


def test_ewt_uses_recent_handle_time_and_skips_callers_being_offered() -> None:
    e = engine(agents=("a1",), announce_frequency=20.0, wrap_up=20.0, default_aht=999.0,
               announce_position=False)
    e.join("c1", "q", "1", now=0.0)
    e.handle(OfferAnswered("c1", "a1", 1.0))
    e.handle(CallEnded("c1", "a1", EndedBy.CALLER, 101.0))  # talk 100
    out = e.join("c2", "q", "2", now=102.0)
    assert of(out, Announce) == [Announce("c2", None, 999)]  # AHT not known until wrap ends
    out = e.handle_timer(121.0)  # wrap-up over: handle time 120; c2 is offered
    assert offered(out) == ["a1"] and of(out, Announce) == []
    assert of(e.handle_timer(122.0), Announce) == []  # due, but an agent is ringing
    e.handle(OfferAnswered("c2", "a1", 123.0))
    out = e.join("c3", "q", "3", now=124.0)
    assert of(out, Announce) == [Announce("c3", None, 120)]


def test_no_ewt_without_working_agents() -> None:
    e = engine(agents=("a1",), announce_frequency=30.0)
    e.agent_not_ready("a1", "break", now=0.0)
    assert of(e.join("c1", "q", "1", now=1.0), Announce) == [Announce("c1", 1, None)]


# --- several queues -----------------------------------------------------------------------


def test_shared_agent_serves_the_greatest_need_across_queues() -> None:
    sales = QueueConfig("sales", members=(Member("a1"),))
    e = engine(agents=("a1",), extra_queues=(sales,))
    e.agent_not_ready("a1", "break", now=0.0)
    e.join("s1", "sales", "1", now=1.0)
    e.join("q1", "q", "2", now=2.0)
    e.join("q2", "q", "3", priority=2, now=3.0)
    assert of(e.agent_ready("a1", now=4.0), Offer)[0].call_id == "q2"
    answer_and_end(e, "q2", "a1", 5.0)
    assert of(e.handle_timer(15.0), Offer) == []  # nothing due; s1 was offered at hang-up
    assert e.agent_status("a1").call_id == "s1"


def test_members_can_be_added_and_removed() -> None:
    e = engine(agents=("a1", "a2"))
    e.agent_not_ready("a1", "break", now=0.0)
    e.join("c1", "q", "1", now=1.0)  # rings a2
    out = e.remove_member("q", "a2", now=2.0)
    assert events(out) == ["RINGCANCELED", "REMOVEMEMBER"]
    assert e.agent_status("a2").state is AgentState.READY
    out = e.add_member("q", "a2", penalty=1, now=3.0)
    assert events(out)[0] == "ADDMEMBER" and offered(out) == ["a2"]
    with pytest.raises(AcdError, match="already a member"):
        e.add_member("q", "a2", now=4.0)


def test_commands_with_unknown_names_fail_clearly() -> None:
    e = engine()
    with pytest.raises(AcdError, match="no queue 'nope'"):
        e.join("c1", "nope", "1", now=0.0)
    with pytest.raises(AcdError, match="no agent 'zz'"):
        e.agent_ready("zz", now=0.0)
    e.join("c1", "q", "1", now=0.0)
    with pytest.raises(AcdError, match="already in the ACD"):
        e.join("c1", "q", "1", now=0.0)


def test_a_clock_stepping_back_does_not_reorder_the_log() -> None:
    e = engine()
    e.join("c1", "q", "1", now=100.0)
    out = e.handle(OfferAnswered("c1", "a1", 99.0))
    assert records(out)[0].time == 100.0
