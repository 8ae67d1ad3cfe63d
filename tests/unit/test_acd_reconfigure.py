"""Live reconfiguration of the ACD engine: nobody in the middle of something is dropped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from firmware.acd import (
    AcdConfig,
    AcdEngine,
    Action,
    AgentConfig,
    AgentState,
    CallEnded,
    CancelOffer,
    EndedBy,
    Exit,
    Member,
    Offer,
    OfferAnswered,
    QueueConfig,
    QueueLog,
    Strategy,
    Target,
    TargetKind,
)

T = TypeVar("T")


def of(actions: Sequence[Action], kind: type[T]) -> list[T]:
    return [a for a in actions if isinstance(a, kind)]


def events(actions: Sequence[Action]) -> list[tuple[str, str, str]]:
    return [(r.record.queue, r.record.agent, r.record.line().split("|")[4])
            for r in of(actions, QueueLog)]


def config(queues: Sequence[QueueConfig], agents: Sequence[str]) -> AcdConfig:
    return AcdConfig(tuple(queues), tuple(AgentConfig(a) for a in agents), seed=1)


def q(name: str, *members: str, **kw: object) -> QueueConfig:
    return QueueConfig(name, Strategy.LINEAR, tuple(Member(m) for m in members),
                       **kw)  # type: ignore[arg-type]


def test_waiting_caller_keeps_place_and_agents_stay_logged_in() -> None:
    eng = AcdEngine(config([q("repair", "a")], ["a", "b"]))
    eng.agent_login("a", "801", now=0)
    eng.agent_not_ready("a", "break", now=1)
    eng.join("c1", "repair", "139", now=2)
    eng.join("c2", "repair", "138", now=3)
    # the admin adds b to the queue and sets a max wait
    out = eng.reconfigure(config([q("repair", "a", "b", max_wait=60.0,
                                    timeout_target=Target(TargetKind.HANGUP))], ["a", "b"]),
                          now=10)
    assert ("repair", "b", "ADDMEMBER") in events(out)
    assert eng.waiting("repair") == ["c1", "c2"]
    assert eng.agent_status("a").state is AgentState.NOT_READY
    assert eng.agent_status("a").device == "801"
    eng.agent_login("b", "802", now=11)
    # max wait counts from when the caller joined, not from the reload
    out = eng.handle_timer(62)
    assert [e.call_id for e in of(out, Exit)] == ["c1"]


def test_removed_member_stops_ringing_without_a_miss() -> None:
    eng = AcdEngine(config([q("repair", "a", "b")], ["a", "b"]))
    eng.agent_login("a", "801", now=0)
    eng.join("c1", "repair", "139", now=1)
    out = eng.reconfigure(config([q("repair", "b")], ["a", "b"]), now=2)
    assert [(c.call_id, c.agent) for c in of(out, CancelOffer)] == [("c1", "a")]
    assert ("repair", "a", "REMOVEMEMBER") in events(out)
    assert eng.agent_status("a").missed == 0 and eng.agent_status("a").state is \
        AgentState.READY
    assert eng.waiting("repair") == ["c1"]


def test_removed_queue_serves_its_callers_then_disappears() -> None:
    eng = AcdEngine(config([q("old", "a"), q("new", "a")], ["a"]))
    eng.agent_login("a", "801", now=0)
    eng.agent_not_ready("a", "break", now=0)
    eng.join("c1", "old", "139", now=1)
    eng.reconfigure(config([q("new", "a")], ["a"]), now=2)
    assert eng.draining() == {"old": 1}
    try:
        eng.join("c2", "old", "138", now=3)
        raise AssertionError("a removed queue must not take new callers")
    except Exception as e:
        assert "removed" in str(e)
    # the former member still serves the waiting caller
    out = eng.agent_ready("a", now=4)
    assert [(o.call_id, o.queue) for o in of(out, Offer)] == [("c1", "old")]
    eng.handle(OfferAnswered("c1", "a", 5))
    assert eng.draining() == {"old": 0}
    eng.handle(CallEnded("c1", "a", EndedBy.CALLER, 9))
    assert eng.draining() == {}


def test_removed_queue_with_nobody_left_sends_callers_to_its_target() -> None:
    eng = AcdEngine(config([q("old", "a", empty_target=Target(TargetKind.QUEUE, "new")),
                            q("new", "b")], ["a", "b"]))
    eng.agent_login("a", "801", now=0)
    eng.agent_not_ready("a", "break", now=0)
    eng.join("c1", "old", "139", now=1)
    # queue and its only agent removed at once: the caller must not wait forever
    out = eng.reconfigure(config([q("new", "b")], ["b"]), now=2)
    assert [(e.call_id, e.target) for e in of(out, Exit)] == [
        ("c1", Target(TargetKind.QUEUE, "new"))]


def test_removed_agent_is_logged_out_after_the_call() -> None:
    eng = AcdEngine(config([q("repair", "a")], ["a", "b"]))
    eng.agent_login("a", "801", now=0)
    eng.agent_login("b", "802", now=0)
    eng.join("c1", "repair", "139", now=1)
    eng.handle(OfferAnswered("c1", "a", 2))
    out = eng.reconfigure(config([q("repair")], ["b"]), now=3)
    assert eng.agent_status("a").state is AgentState.ON_CALL  # never cut off
    out = eng.handle(CallEnded("c1", "a", EndedBy.CALLER, 9))
    assert ("NONE", "a", "AGENTLOGOFF") in events(out)
    assert "a" not in {ag.id for ag in eng.config.agents}
    # b, not in any queue change, is untouched
    assert eng.agent_status("b").state is AgentState.READY
