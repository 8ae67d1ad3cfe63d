"""Exact service level, ASA, AHT, abandonment and occupancy from a hand-built queue log."""

from __future__ import annotations

import pytest

from firmware.acd import (
    AcdConfig,
    AcdEngine,
    AgentConfig,
    CallEnded,
    EndedBy,
    Member,
    OfferAnswered,
    QueueConfig,
    QueueLog,
)
from firmware.acd import queuelog as ql
from firmware.acd.stats import AgentStats, agent_stats, queue_stats

N = "NONE"

LOG: list[ql.QueueLogRecord] = [
    ql.AgentLogin(0.0, N, N, "A", "8001"),
    ql.AgentLogin(0.0, N, N, "B", "8002"),
    # c1: answered in 10 s, talk 60, wrap 10
    ql.EnterQueue(0.0, "c1", "q", N, "131", 1),
    ql.Connect(10.0, "c1", "q", "A", 10.0, "8001", 2.0),
    ql.CompleteCaller(70.0, "c1", "q", "A", 10.0, 60.0, 1),
    ql.WrapUpEnd(80.0, "c1", "q", "A", 10.0),
    # c2: answered in 30 s (outside the 20 s target), talk 90, wrap 20
    ql.EnterQueue(5.0, "c2", "q", N, "132", 2),
    ql.RingNoAnswer(20.0, "c2", "q", "A", 15000),
    ql.Connect(35.0, "c2", "q", "B", 30.0, "8002", 3.0),
    ql.CompleteAgent(125.0, "c2", "q", "B", 30.0, 90.0, 2),
    ql.WrapUpEnd(145.0, "c2", "q", "B", 20.0),
    # c3: short abandon (3 s); c4: real abandon (60 s)
    ql.EnterQueue(20.0, "c3", "q", N, "133", 2),
    ql.Abandon(23.0, "c3", "q", N, 2, 2, 3.0),
    ql.EnterQueue(30.0, "c4", "q", N, "134", 2),
    ql.Abandon(90.0, "c4", "q", N, 3, 2, 60.0),
    # c5: max wait; c8: nobody logged in
    ql.EnterQueue(40.0, "c5", "q", N, "135", 3),
    # c6: asked for a callback, served later: answered with hold 150
    ql.EnterQueue(50.0, "c6", "q", N, "136", 4),
    ql.ExitWithKey(60.0, "c6", "q", N, "1", 4, 4, 10.0),
    # c7: answered in 15 s, transferred after 60 s, no wrap-up
    ql.EnterQueue(60.0, "c7", "q", N, "137", 5),
    ql.Connect(75.0, "c7", "q", "B", 15.0, "8002", 1.0),
    ql.EnterQueue(70.0, "c8", "q", N, "138", 5),
    ql.ExitEmpty(71.0, "c8", "q", N, 5, 5, 1.0),
    ql.EnterQueue(80.0, "c9", "q", N, "139", 5),
    ql.ExitWithKey(90.0, "c9", "q", N, "1", 5, 5, 10.0),  # callback not served yet
    ql.Pause(100.0, N, N, "A", "break"),
    ql.Transfer(135.0, "c7", "q", "B", "8100", 15.0, 60.0, 5),
    ql.Unpause(160.0, N, N, "A", "break"),
    ql.Connect(200.0, "c6", "q", "A", 150.0, "8001", 4.0),
    ql.CompleteAgent(230.0, "c6", "q", "A", 150.0, 30.0, 4),
    ql.Pause(300.0, N, N, "B", "lunch"),
    ql.ExitWithTimeout(340.0, "c5", "q", N, 1, 3, 300.0),
    ql.Pause(350.0, N, N, "B", "meeting"),  # a new reason: still one not-ready stretch
    ql.AgentLogoff(400.0, N, N, "A", "8001", 400.0),
    # another queue, kept apart
    ql.EnterQueue(10.0, "z1", "q2", N, "140", 1),
    ql.Connect(12.0, "z1", "q2", "B", 2.0, "8002", 1.0),
]


def test_queue_figures_are_exact() -> None:
    s = queue_stats(LOG, queue="q", sl_threshold=20.0, short_abandon=5.0)
    assert (s.offered, s.answered, s.answered_within) == (9, 4, 2)
    assert (s.abandoned, s.short_abandoned) == (2, 1)
    assert (s.timed_out, s.exited_empty, s.exited_with_key, s.completed) == (1, 1, 1, 4)
    assert s.service_level == 2 / 8  # answered within 20 s / (offered − short abandons)
    assert s.asa == (10 + 30 + 150 + 15) / 4
    assert s.aht == (60 + 90 + 30 + 60 + 10 + 20) / 4
    assert s.abandonment_rate == (2 - 1) / 8


def test_thresholds_are_configurable() -> None:
    s = queue_stats(LOG, queue="q", sl_threshold=30.0, short_abandon=0.0)
    assert s.answered_within == 3 and s.short_abandoned == 0
    assert s.service_level == 3 / 9
    assert s.abandonment_rate == 2 / 9


def test_all_queues_together_and_empty_input() -> None:
    s = queue_stats(LOG, sl_threshold=20.0, short_abandon=5.0)
    assert (s.offered, s.answered, s.answered_within) == (10, 5, 3)
    assert s.asa == (10 + 30 + 150 + 15 + 2) / 5
    empty = queue_stats([])
    assert empty.offered == 0
    assert empty.service_level is None and empty.asa is None and empty.aht is None


def test_records_without_their_enterqueue_belong_to_an_earlier_period() -> None:
    later = [r for r in LOG if r.time >= 100.0]
    s = queue_stats(later, queue="q")
    assert s.offered == 0 and s.answered == 0
    assert s.completed == 3  # work done in the period still counts for AHT


def test_agent_occupancy() -> None:
    stats = agent_stats(LOG, until=500.0)
    assert stats["A"] == AgentStats(logged_in=400.0, not_ready=60.0, talk=90.0, wrap=10.0,
                                    completed=2, occupancy=100.0 / 340.0)
    b = stats["B"]
    assert (b.logged_in, b.not_ready, b.talk, b.wrap) == (500.0, 200.0, 150.0, 20.0)
    assert b.occupancy == pytest.approx(170.0 / 300.0)


def test_the_text_log_gives_the_same_figures() -> None:
    parsed = [ql.parse_line(r.line()) for r in LOG]
    assert parsed == LOG
    assert queue_stats(parsed, queue="q") == queue_stats(LOG, queue="q")


def test_figures_from_an_engine_run() -> None:
    e = AcdEngine(AcdConfig(queues=(QueueConfig("q", members=(Member("A"),), wrap_up=10.0),),
                            agents=(AgentConfig("A"),)))
    out = e.agent_login("A", "8001", now=0.0)
    out += e.join("c1", "q", "131", now=0.0)
    out += e.handle(OfferAnswered("c1", "A", 5.0))
    out += e.join("c2", "q", "132", now=10.0)
    out += e.leave("c2", now=12.0)
    out += e.join("c3", "q", "133", now=20.0)
    out += e.handle(CallEnded("c1", "A", EndedBy.CALLER, 65.0))
    out += e.handle_timer(75.0)  # wrap-up over: c3 is offered
    out += e.handle(OfferAnswered("c3", "A", 80.0))
    out += e.handle(CallEnded("c3", "A", EndedBy.AGENT, 110.0))
    out += e.handle_timer(120.0)
    log = [a.record for a in out if isinstance(a, QueueLog)]

    s = queue_stats(log, queue="q", sl_threshold=20.0, short_abandon=5.0)
    assert (s.offered, s.answered, s.abandoned, s.short_abandoned) == (3, 2, 1, 1)
    assert s.service_level == 1 / 2
    assert s.asa == (5 + 60) / 2
    assert s.aht == (60 + 30 + 10 + 10) / 2
    assert s.abandonment_rate == 0.0
    assert agent_stats(log, until=120.0)["A"].occupancy == (90 + 20) / 120
