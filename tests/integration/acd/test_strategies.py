"""Every distribution strategy on a real box with real phones: whose phone rang, when.

Agents' phones are sipp UASes registered as extensions 9002-9004; callers are sipp UACs
from their own extensions (9011...), dialling 7100, a DID routed to queue q (round-robin
goes through an IVR flow that transfers to the queue). Each INVITE a phone received is
matched to its caller by the number it shows. Call timings are arranged so that each
strategy's choice differs from what the other strategies would have chosen; where the
arrangement depends on a call still being up or already over, the queue log is checked
for it first, so a slow machine fails loudly instead of passing by accident.
"""

from __future__ import annotations

from itertools import pairwise
from math import comb

import pytest

from tests.integration.acd.agents import (
    QUEUE,
    Callers,
    Clock,
    Desk,
    answered_by,
    by_caller,
    queue,
    queue_log,
    site,
    uses,
    wait_queue_log,
)
from tests.integration.box import Box
from tests.integration.test_sip_box import check

pytestmark = pytest.mark.peers

AGENTS = ["9002", "9003", "9004"]
DIDS = {QUEUE: "queue:q"}


def one_queue(strategy: str, members: list[object] | None = None,
              **options: object) -> dict[str, object]:
    return site([queue("q", strategy, list(members or AGENTS), **options)], AGENTS, dids=DIDS)


def times(box: Box, event: str) -> dict[str, float]:
    """call id -> time of `event` (ENTERQUEUE, COMPLETECALLER...) in the queue log."""
    return {r[1]: float(r[0]) for r in queue_log(box) if r[4] == event}


def call_ids_by_caller(box: Box) -> dict[str, str]:
    """caller number -> the box's call id, from ENTERQUEUE (url|callerid|position)."""
    return {r[6]: r[1] for r in queue_log(box) if r[4] == "ENTERQUEUE"}


def busy_at(box: Box, caller: str, when_caller: str) -> bool:
    """Was `caller`'s call still connected when `when_caller` entered the queue?"""
    ids = call_ids_by_caller(box)
    done = {r[1]: float(r[0]) for r in queue_log(box) if r[4].startswith("COMPLETE")}
    entered = times(box, "ENTERQUEUE")[ids[when_caller]]
    return done.get(ids[caller], float("inf")) > entered


# -- ring-all ---------------------------------------------------------------------------


@uses(one_queue("ring-all"))
def test_ring_all_rings_every_ready_agent_at_once_and_the_first_answer_wins(
        box: Box, desk: Desk, callers: Callers) -> None:
    desk.phone("9002", answer_after=0.3)
    desk.phone("9003", answer_after=1.2)
    desk.phone("9004", answer_after=None)
    callers.call("9011", QUEUE, hold=3.0)
    desk.wait_rings(1, answered=True)
    callers.call("9012", QUEUE, hold=2.0)  # while 9002 talks to 9011
    check(*callers.wait_all().values())

    calls = by_caller(desk.rings())
    a, b = calls["9011"], calls["9012"]
    # 9011: the three phones at once (a sequential hunt would be >= 4 s apart); 9002
    # answered first, the other two were cancelled after that answer
    assert {r.agent for r in a} == set(AGENTS), a
    assert max(r.at for r in a) - min(r.at for r in a) < 1.0, f"not at once: {a}"
    assert {r.agent: r.outcome for r in a} == {
        "9002": "answered", "9003": "cancelled", "9004": "cancelled"}, a
    won = next(r.ended_at for r in a if r.agent == "9002")
    assert won is not None and all(r.ended_at is not None and r.ended_at >= won for r in a), a
    # 9012: 9002 is on a call, so only the two free phones ring; 9003 answers this time
    assert {r.agent: r.outcome for r in b} == {"9003": "answered", "9004": "cancelled"}, b
    connects = [(r[3], r[4]) for r in wait_queue_log(box, "CONNECT", 2)]
    assert connects == [("9002", "CONNECT"), ("9003", "CONNECT")], connects
    # losing a ring-all race is not a missed offer (RINGCANCELED, not RINGNOANSWER)
    events = {(r[3], r[4]) for r in queue_log(box)}
    assert ("9004", "RINGCANCELED") in events and ("9004", "RINGNOANSWER") not in events


# -- longest-idle -----------------------------------------------------------------------


@uses(one_queue("longest-idle"))
def test_longest_idle_offers_the_agent_idle_longest(
        box: Box, desk: Desk, callers: Callers) -> None:
    for agent in AGENTS:
        desk.phone(agent, answer_after=0.2)
    clock = Clock()
    a = callers.call("9011", QUEUE, hold=3.0)  # 9002 (all idle since login: list order)
    clock.at(0.5)
    b = callers.call("9012", QUEUE, hold=0.8)  # 9003, free again from ~1.3 s
    clock.at(1.0)
    c = callers.call("9013", QUEUE, hold=4.5)  # 9004, the only one free
    check(b.wait(), a.wait())
    clock.at(3.6)
    # now 9003 (idle since ~1.3 s) and 9002 (idle since ~3 s) are free: 9003 has waited
    # longer. Linear, round-robin (after 9004 comes 9002) and least-calls (one call
    # each, list order) would all choose 9002.
    d = callers.call("9014", QUEUE, hold=0.5)
    check(d.wait(), c.wait())

    assert answered_by(desk.rings()) == {
        "9011": "9002", "9012": "9003", "9013": "9004", "9014": "9003"}, desk.rings()
    assert not busy_at(box, "9011", "9014") and busy_at(box, "9013", "9014"), queue_log(box)


# -- least-calls ------------------------------------------------------------------------


@uses(one_queue("least-calls"))
def test_least_calls_offers_the_agent_with_fewest_answered_calls(
        box: Box, desk: Desk, callers: Callers) -> None:
    for agent in AGENTS:
        desk.phone(agent, answer_after=0.2)
    clock = Clock()
    a = callers.call("9011", QUEUE, hold=0.6)  # 9002 (no calls yet: list order)
    clock.at(0.3)
    b = callers.call("9012", QUEUE, hold=5.0)  # 9003: long call, one call in total
    check(a.wait())
    check(callers.call("9013", QUEUE, hold=0.5).wait())  # 9004 (0 calls) over 9002 (1)
    check(callers.call("9014", QUEUE, hold=0.5).wait())  # 9002: 1 call each, list order
    check(callers.call("9015", QUEUE, hold=0.5).wait())  # 9004 (1) over 9002 (2)
    assert busy_at(box, "9012", "9015"), "9003 must still be on its call"
    check(b.wait())
    # 9003 has answered 1 call and just hung up; 9002 and 9004 have 2 each and have been
    # idle longer: longest-idle, linear and round-robin would all choose 9002
    check(callers.call("9016", QUEUE, hold=0.5).wait())

    assert answered_by(desk.rings()) == {
        "9011": "9002", "9012": "9003", "9013": "9004", "9014": "9002", "9015": "9004",
        "9016": "9003"}, desk.rings()


# -- round-robin (through an IVR transfer to the queue) ----------------------------------

TO_QUEUE_FLOW = {"id": "to_q", "entry": "q",
                 "nodes": {"q": {"kind": "transfer", "to": "queue", "target": "q"}}}


@uses(site([queue("q", "round-robin", AGENTS)], AGENTS, dids={QUEUE: "flow:to_q"},
           flows=[TO_QUEUE_FLOW]))
def test_round_robin_remembers_the_last_agent_across_calls(
        box: Box, desk: Desk, callers: Callers) -> None:
    for agent in AGENTS:
        desk.phone(agent, answer_after=0.2)
    order = []
    for caller in ("9011", "9012", "9013", "9014", "9015"):
        check(callers.call(caller, QUEUE, hold=0.5).wait())
        order.append(caller)
    rings = desk.rings()
    # one ring per call, each to the agent after the previous one, wrapping around
    assert [(r.caller, r.agent) for r in rings] == [
        ("9011", "9002"), ("9012", "9003"), ("9013", "9004"), ("9014", "9002"),
        ("9015", "9003")], rings
    assert all(r.outcome == "answered" for r in rings), rings
    entered = [r[2] for r in queue_log(box) if r[4] == "ENTERQUEUE"]
    assert entered == ["q"] * 5, entered


# -- linear -----------------------------------------------------------------------------


@uses(one_queue("linear"))
def test_linear_always_hunts_from_the_top(box: Box, desk: Desk, callers: Callers) -> None:
    for agent in AGENTS:
        desk.phone(agent, answer_after=0.2)
    for caller in ("9011", "9012", "9013"):
        check(callers.call(caller, QUEUE, hold=0.4).wait())  # 9002 every time
    clock = Clock()
    d = callers.call("9014", QUEUE, hold=3.0)  # 9002
    clock.at(0.6)
    e = callers.call("9015", QUEUE, hold=2.0)  # 9003: the top one is busy
    clock.at(1.2)
    f = callers.call("9016", QUEUE, hold=1.0)  # 9004
    check(d.wait(), e.wait(), f.wait())

    rings = desk.rings()
    assert [(r.caller, r.agent) for r in rings] == [
        ("9011", "9002"), ("9012", "9002"), ("9013", "9002"), ("9014", "9002"),
        ("9015", "9003"), ("9016", "9004")], rings
    assert busy_at(box, "9014", "9016") and busy_at(box, "9015", "9016"), queue_log(box)


# -- random and weighted random ----------------------------------------------------------


def binomial_interval(n: int, p: float, alpha: float) -> tuple[int, int]:
    """The central range [lo, hi] a Binomial(n, p) count leaves with probability at most
    alpha (alpha/2 on each side)."""
    pmf = [comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    lo, tail = 0, 0.0
    while tail + pmf[lo] <= alpha / 2:
        tail += pmf[lo]
        lo += 1
    hi, tail = n, 0.0
    while tail + pmf[hi] <= alpha / 2:
        tail += pmf[hi]
        hi -= 1
    return lo, hi


def binomial_mass(n: int, p: float, lo: int, hi: int) -> float:
    return sum(comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(lo, hi + 1))


RANDOM_CALLS = 45


@uses(one_queue("random"))
def test_random_spreads_calls_uniformly_in_no_fixed_order(
        box: Box, desk: Desk, callers: Callers) -> None:
    for agent in AGENTS:
        desk.phone(agent, answer_after=0.02, calls=RANDOM_CALLS + 5)
    n = callers.answered_calls("9011", QUEUE, RANDOM_CALLS, hold=0.1)

    # one offer per call (a caller who hangs up before the agent answers withdraws it,
    # and still counts: the strategy chose whose phone rang)
    rings = desk.rings()
    assert len(rings) == n, rings
    counts = {a: sum(1 for r in rings if r.agent == a) for a in AGENTS}
    # each agent's share is Binomial(n, 1/3); outside the interval with p <= 1e-4
    lo, hi = binomial_interval(n, 1 / 3, 1e-4)
    assert all(lo <= k <= hi for k in counts.values()), (counts, (lo, hi))
    # not a rotation: uniform picks repeat an agent back to back all the time (a
    # sequence of 45 without one repeat has probability (2/3)^44, about 2e-8)
    assert (2 / 3) ** (n - 1) < 1e-5, f"only {n} calls: too few to tell"
    sequence = [r.agent for r in rings]
    assert any(x == y for x, y in pairwise(sequence)), sequence


WEIGHTED_CALLS = 80
LIGHT, HEAVY = 1, 5


@uses(one_queue("weighted-random", [{"agent": "9002", "weight": LIGHT},
                                    {"agent": "9003", "weight": HEAVY}]))
def test_weighted_random_follows_the_weights(box: Box, desk: Desk, callers: Callers) -> None:
    for agent in ("9002", "9003"):
        desk.phone(agent, answer_after=0.02, calls=WEIGHTED_CALLS + 5)
    n = callers.answered_calls("9011", QUEUE, WEIGHTED_CALLS, hold=0.1)

    rings = desk.rings()
    assert len(rings) == n, rings  # one offer per call
    light = sum(1 for r in rings if r.agent == "9002")
    # 9002's count is Binomial(80, 1/6). The test fails a correct box with p <= 1e-3,
    # and would pass weights ignored (uniform, p = 1/2) with p < 1e-3 and weights taken
    # as "always the heaviest" (light = 0) essentially never.
    p = LIGHT / (LIGHT + HEAVY)
    lo, hi = binomial_interval(n, p, 1e-3)
    assert binomial_mass(n, 0.5, lo, hi) < 1e-3 and lo > 0, f"{n} calls: too few to tell"
    assert lo <= light <= hi, f"9002 got {light} of {n}, want {lo}..{hi}"


# -- skills -----------------------------------------------------------------------------

SKILLED = {"9002": {"skills": {"gas": 9}}, "9003": {"skills": {"gas": 6}},
           "9004": {"skills": {"water": 9}}}


@uses(site([queue("q", "skills", ["9004", "9003", "9002"], skills={"gas": 5})], AGENTS,
           dids=DIDS, agent_options=SKILLED))
def test_skills_offers_the_best_qualified_agent_first_and_never_the_unqualified(
        box: Box, desk: Desk, callers: Callers) -> None:
    for agent in AGENTS:
        desk.phone(agent, answer_after=0.2)
    clock = Clock()
    a = callers.call("9011", QUEUE, hold=3.0)  # 9002 (gas 9), though listed last
    clock.at(0.5)
    b = callers.call("9012", QUEUE, hold=2.5)  # 9003 (gas 6)
    clock.at(1.0)
    c = callers.call("9013", QUEUE, hold=1.2)  # waits: 9004 is free but has no gas skill
    check(a.wait(), b.wait(), c.wait())

    assert answered_by(desk.rings()) == {"9011": "9002", "9012": "9003"}, desk.rings()
    assert [r for r in desk.rings() if r.agent == "9004"] == []
    abandon = wait_queue_log(box, "ABANDON")
    assert len(abandon) == 1 and abandon[0][1] == call_ids_by_caller(box)["9013"], abandon


@uses(site([queue("q", "skills", AGENTS, skills={"gas": 5},
                  skill_steps=[{"after": 0, "min_level": 8}, {"after": 2}])],
           AGENTS, dids=DIDS, agent_options=SKILLED))
def test_skills_pool_widens_to_a_lower_level_after_the_configured_wait(
        box: Box, desk: Desk, callers: Callers) -> None:
    for agent in AGENTS:
        desk.phone(agent, answer_after=0.2)
    clock = Clock()
    a = callers.call("9011", QUEUE, hold=5.0)  # 9002: the only one at level >= 8
    desk.wait_rings(1, answered=True)
    clock.at(0.5)
    b = callers.call("9012", QUEUE, hold=3.5)  # 9003 (level 6) only after 2 s of waiting
    check(a.wait(), b.wait())

    rings = by_caller(desk.rings())
    assert [(r.agent, r.outcome) for r in rings["9012"]] == [("9003", "answered")], rings
    assert [r for r in desk.rings() if r.agent == "9004"] == []  # no gas skill at all
    entered = times(box, "ENTERQUEUE")[call_ids_by_caller(box)["9012"]]
    waited = rings["9012"][0].at - entered
    assert 1.9 <= waited <= 3.0, f"9003 rang {waited:.2f}s after 9012 joined; want ~2 s"
