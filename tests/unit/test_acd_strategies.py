"""Each strategy distributes calls as specified: which agent is offered, in what order,
over several calls through the engine; plus the pure ordering functions."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Mapping, Sequence

import pytest

from firmware.acd import (
    AcdConfig,
    AcdEngine,
    Action,
    AgentConfig,
    CallEnded,
    EndedBy,
    Member,
    Offer,
    OfferAnswered,
    OfferFailed,
    OfferFailure,
    QueueConfig,
    SkillStep,
    Strategy,
)
from firmware.acd import strategies as st


def offered(actions: Sequence[Action]) -> list[str]:
    return [a.agent for a in actions if isinstance(a, Offer)]


def engine(
    strategy: Strategy,
    members: Sequence[Member],
    skills: Mapping[str, Mapping[str, int]] | None = None,
    steps: tuple[SkillStep, ...] = (SkillStep(0.0),),
    seed: int = 7,
    retry: float = 0.0,
) -> AcdEngine:
    skills = skills or {}
    cfg = AcdConfig(
        queues=(QueueConfig("q", strategy, tuple(members), retry=retry, skill_steps=steps),),
        agents=tuple(AgentConfig(m.agent, skills=skills.get(m.agent, {})) for m in members),
        seed=seed,
    )
    e = AcdEngine(cfg)
    for i, m in enumerate(members):
        e.agent_login(m.agent, f"80{i + 1}", now=0.0)
    return e


def run_calls(e: AcdEngine, n: int, start: float = 100.0) -> list[str]:
    """n calls one after another, each answered by the agent offered and ended."""
    who = []
    for i in range(n):  # call ids repeat across runs; each call is over before the next
        t = start + 100.0 * i
        # A fresh number each time, so smart routing never steps in.
        (agent,) = offered(e.join(f"c{i}", "q", f"{t:.0f}-{i}", now=t))
        e.handle(OfferAnswered(f"c{i}", agent, t + 1))
        e.handle(CallEnded(f"c{i}", agent, EndedBy.CALLER, t + 10))
        who.append(agent)
    return who


AGENTS = [Member("a1"), Member("a2"), Member("a3")]


def test_linear_always_starts_from_the_top() -> None:
    e = engine(Strategy.LINEAR, AGENTS)
    assert run_calls(e, 3) == ["a1", "a1", "a1"]
    # Top busy: the next one down; a miss moves the same caller further down.
    e.join("x1", "q", "x1", now=1000.0)
    e.handle(OfferAnswered("x1", "a1", 1001.0))
    assert offered(e.join("x2", "q", "x2", now=1002.0)) == ["a2"]
    assert offered(e.handle(OfferFailed("x2", "a2", OfferFailure.NO_ANSWER, 1003.0))) == ["a3"]


def test_ring_all_offers_the_lowest_penalty_tier() -> None:
    e = engine(Strategy.RING_ALL, [Member("a1", 1), Member("a2"), Member("a3")])
    assert offered(e.join("c1", "q", "1", now=1.0)) == ["a2", "a3"]


def test_round_robin_remembers_across_calls_and_missers_go_to_the_back() -> None:
    e = engine(Strategy.ROUND_ROBIN, AGENTS)
    assert run_calls(e, 4) == ["a1", "a2", "a3", "a1"]
    # a2 misses the next call; the caller moves on to a3, and the round goes on after a3.
    assert offered(e.join("m1", "q", "m1", now=1000.0)) == ["a2"]
    assert offered(e.handle(OfferFailed("m1", "a2", OfferFailure.NO_ANSWER, 1015.0))) == ["a3"]
    e.handle(OfferAnswered("m1", "a3", 1016.0))
    e.handle(CallEnded("m1", "a3", EndedBy.CALLER, 1020.0))
    assert run_calls(e, 3, start=2000.0) == ["a1", "a2", "a3"]


def test_round_robin_skips_busy_agents_without_losing_its_place() -> None:
    e = engine(Strategy.ROUND_ROBIN, AGENTS)
    e.agent_not_ready("a2", "break", now=1.0)
    assert run_calls(e, 3) == ["a1", "a3", "a1"]
    e.agent_ready("a2", now=1000.0)
    assert run_calls(e, 2, start=2000.0) == ["a2", "a3"]


def test_round_robin_survives_removing_the_last_offered_member() -> None:
    e = engine(Strategy.ROUND_ROBIN, AGENTS)
    assert run_calls(e, 2) == ["a1", "a2"]
    e.remove_member("q", "a2", now=500.0)
    assert run_calls(e, 2, start=1000.0) == ["a3", "a1"]


def test_least_calls_counts_answered_calls_per_queue() -> None:
    e = engine(Strategy.LEAST_CALLS, AGENTS)
    e.agent_not_ready("a3", "break", now=1.0)
    assert run_calls(e, 3) == ["a1", "a2", "a1"]  # counts 2, 1, 0
    e.agent_ready("a3", now=900.0)
    assert run_calls(e, 4, start=1000.0) == ["a3", "a2", "a3", "a1"]
    # A missed offer is not a call: the count only moves on answers.
    # Counts now a1 3, a2 2, a3 2: the tie goes to member order.
    assert offered(e.join("m", "q", "m", now=5000.0)) == ["a2"]
    assert offered(e.handle(OfferFailed("m", "a2", OfferFailure.NO_ANSWER, 5001.0))) == ["a3"]


def test_longest_idle_uses_the_end_of_the_last_call() -> None:
    e = engine(Strategy.LONGEST_IDLE, AGENTS)
    assert [offered(e.join(f"x{i}", "q", f"x{i}", now=1.0)) for i in (1, 2, 3)] == [
        ["a1"], ["a2"], ["a3"]]  # all idle since login: member order breaks the tie
    for i, agent in ((1, "a1"), (2, "a2"), (3, "a3")):
        e.handle(OfferAnswered(f"x{i}", agent, 2.0))
    for i, agent, end in ((2, "a2", 20.0), (3, "a3", 30.0), (1, "a1", 40.0)):
        e.handle(CallEnded(f"x{i}", agent, EndedBy.CALLER, end))
    assert run_calls(e, 4) == ["a2", "a3", "a1", "a2"]


def test_longest_idle_prefers_agents_who_had_no_call_since_login() -> None:
    e = engine(Strategy.LONGEST_IDLE, AGENTS)
    assert run_calls(e, 3) == ["a1", "a2", "a3"]


def test_random_is_seeded_and_reaches_everyone() -> None:
    picks = run_calls(engine(Strategy.RANDOM, AGENTS, seed=3), 60)
    assert picks == run_calls(engine(Strategy.RANDOM, AGENTS, seed=3), 60)
    counts = Counter(picks)
    assert set(counts) == {"a1", "a2", "a3"}
    assert all(10 <= n <= 30 for n in counts.values())


def test_weighted_random_follows_the_weights() -> None:
    cands = [st.Candidate("a1", weight=1.0), st.Candidate("a2", weight=2.0, index=1),
             st.Candidate("a3", weight=7.0, index=2)]
    rng = random.Random(2024)
    n = 20000
    firsts = Counter(st.order(Strategy.WEIGHTED_RANDOM, cands, st.Context(), rng)[0]
                     for _ in range(n))
    for agent, share in (("a1", 0.1), ("a2", 0.2), ("a3", 0.7)):
        assert firsts[agent] / n == pytest.approx(share, abs=0.015)


def test_weighted_random_through_the_engine_uses_member_weights() -> None:
    e = engine(Strategy.WEIGHTED_RANDOM, [Member("a1", weight=1.0), Member("a2", weight=9.0)])
    counts = Counter(run_calls(e, 200))
    assert 160 <= counts["a2"] <= 195


def test_penalty_tiers_apply_to_every_plain_strategy() -> None:
    members = [Member("a1", 2), Member("a2", 1), Member("a3", 1)]
    for strategy in (Strategy.LINEAR, Strategy.ROUND_ROBIN, Strategy.LEAST_CALLS,
                     Strategy.LONGEST_IDLE, Strategy.RANDOM, Strategy.WEIGHTED_RANDOM):
        e = engine(strategy, members)
        assert set(run_calls(e, 6)) <= {"a2", "a3"}, strategy
        e.agent_not_ready("a2", "break", now=5000.0)
        e.agent_not_ready("a3", "break", now=5000.0)
        assert run_calls(e, 1, start=6000.0) == ["a1"], strategy


# --- skills ------------------------------------------------------------------------------

WIDENING = (SkillStep(0.0, max_penalty=0, min_level=8), SkillStep(30.0, max_penalty=1),
            SkillStep(60.0))
SKILLED = [Member("expert", 0), Member("good", 1), Member("junior", 2), Member("other", 0)]
LEVELS = {"expert": {"gas": 9, "water": 2}, "good": {"gas": 5}, "junior": {"gas": 2},
          "other": {"water": 9}}


def test_skills_widen_the_pool_as_the_caller_waits() -> None:
    e = engine(Strategy.SKILLS, SKILLED, LEVELS, WIDENING, retry=60.0)
    e.agent_not_ready("expert", "break", now=1.0)
    assert offered(e.join("c1", "q", "1", skills={"gas": 1}, now=100.0)) == []
    assert e.next_timer() == 130.0
    assert offered(e.handle_timer(129.9)) == []
    assert offered(e.handle_timer(130.0)) == ["good"]  # penalty <= 1, any level
    e.handle(OfferFailed("c1", "good", OfferFailure.REJECTED, 131.0))
    assert e.next_timer() == 160.0
    assert offered(e.handle_timer(160.0)) == ["junior"]  # anyone with the skill
    # "other" lacks the skill: never offered, even after the last step. Once everyone
    # qualified has refused, a new round starts after the retry pause, best first.
    assert offered(e.handle(OfferFailed("c1", "junior", OfferFailure.REJECTED, 161.0))) == []
    assert e.next_timer() == 221.0
    assert offered(e.handle_timer(221.0)) == ["good"]


def test_skills_prefer_the_best_match_and_respect_the_call_s_own_level() -> None:
    e = engine(Strategy.SKILLS, SKILLED, LEVELS, (SkillStep(0.0),))
    assert offered(e.join("c1", "q", "1", skills={"gas": 1}, now=1.0)) == ["expert"]
    assert offered(e.join("c2", "q", "1", skills={"gas": 1}, now=2.0)) == ["good"]
    # A call needing gas >= 4 never goes to the junior, however long it waits.
    e2 = engine(Strategy.SKILLS, SKILLED, LEVELS, WIDENING)
    e2.agent_not_ready("expert", "break", now=0.0)
    e2.agent_not_ready("good", "break", now=0.0)
    e2.join("c1", "q", "1", skills={"gas": 4}, now=1.0)
    assert offered(e2.handle_timer(100.0)) == []


def test_skills_without_requirements_use_penalty_steps_only() -> None:
    e = engine(Strategy.SKILLS, SKILLED, LEVELS, WIDENING)
    assert offered(e.join("c1", "q", "1", now=1.0)) == ["expert"]
    assert offered(e.join("c2", "q", "1", now=2.0)) == ["other"]


def test_pure_orderings() -> None:
    cands = [st.Candidate("a", idle_since=50.0, calls=3, index=0),
             st.Candidate("b", idle_since=10.0, calls=1, index=1),
             st.Candidate("c", idle_since=30.0, calls=1, index=2)]
    rng = random.Random(1)
    ctx = st.Context(member_order=["a", "b", "c"], rr_last="b")
    assert st.order(Strategy.LINEAR, cands, ctx, rng) == ["a", "b", "c"]
    assert st.order(Strategy.LONGEST_IDLE, cands, ctx, rng) == ["b", "c", "a"]
    assert st.order(Strategy.LEAST_CALLS, cands, ctx, rng) == ["b", "c", "a"]
    assert st.order(Strategy.ROUND_ROBIN, cands, ctx, rng) == ["c", "a", "b"]
    assert st.order(Strategy.RING_ALL, cands, ctx, rng) == ["a", "b", "c"]
    assert sorted(st.order(Strategy.RANDOM, cands, ctx, rng)) == ["a", "b", "c"]
    assert st.next_widening(WIDENING, 10.0) == 30.0
    assert st.next_widening(WIDENING, 60.0) is None
    assert st.active_step(WIDENING, 45.0) == WIDENING[1]
