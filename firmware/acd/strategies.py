"""Distribution strategies: given the agents free for a call, in which order to offer.

Pure functions over snapshots, so each strategy is tested on its own. The engine passes
only agents that are ready, reachable, members of the queue and not yet tried by this
call in this round; it offers the first agent returned, or all of them for ring-all.

Penalty works as in Asterisk: only the lowest penalty present among the free agents is
considered. The skills strategy replaces that with its widening steps.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from firmware.acd.config import SkillStep, Strategy


@dataclass(frozen=True)
class Candidate:
    agent: str
    penalty: int = 0
    weight: float = 1.0
    skills: Mapping[str, int] = field(default_factory=dict)
    idle_since: float = 0.0  # end of the last call (or login)
    calls: int = 0  # answered from this queue
    index: int = 0  # position in the queue's member list


@dataclass(frozen=True)
class Context:
    member_order: Sequence[str] = ()  # for round-robin
    rr_last: str | None = None
    call_skills: Mapping[str, int] = field(default_factory=dict)
    waited: float = 0.0
    steps: Sequence[SkillStep] = (SkillStep(0.0),)


def order(
    strategy: Strategy, candidates: Sequence[Candidate], ctx: Context, rng: random.Random
) -> list[str]:
    if strategy is Strategy.SKILLS:
        return _skills(candidates, ctx)
    tier = _lowest_penalty(candidates)
    match strategy:
        case Strategy.RING_ALL | Strategy.LINEAR:
            ranked = sorted(tier, key=lambda c: c.index)
        case Strategy.LONGEST_IDLE:
            ranked = sorted(tier, key=lambda c: (c.idle_since, c.index))
        case Strategy.LEAST_CALLS:
            ranked = sorted(tier, key=lambda c: (c.calls, c.index))
        case Strategy.ROUND_ROBIN:
            ranked = _round_robin(tier, ctx)
        case Strategy.RANDOM:
            ranked = rng.sample(sorted(tier, key=lambda c: c.index), len(tier))
        case Strategy.WEIGHTED_RANDOM:
            ranked = _weighted(tier, rng)
    return [c.agent for c in ranked]


def active_step(steps: Sequence[SkillStep], waited: float) -> SkillStep:
    current = steps[0]
    for step in steps:
        if step.after <= waited:
            current = step
    return current


def next_widening(steps: Sequence[SkillStep], waited: float) -> float | None:
    """Seconds of waiting at which the pool next widens, if it still will."""
    for step in steps:
        if step.after > waited:
            return step.after
    return None


def qualifies(c: Candidate, call_skills: Mapping[str, int], step: SkillStep) -> bool:
    if step.max_penalty is not None and c.penalty > step.max_penalty:
        return False
    for skill, need in call_skills.items():
        # The step's level bar only ever raises what the call itself demands, so
        # widening never sends a call to someone below its own requirement.
        floor = max(need, step.min_level or 0, 1)
        if c.skills.get(skill, 0) < floor:
            return False
    return True


def _skills(candidates: Sequence[Candidate], ctx: Context) -> list[str]:
    step = active_step(ctx.steps, ctx.waited)
    pool = [c for c in candidates if qualifies(c, ctx.call_skills, step)]

    def rank(c: Candidate) -> tuple[int, int, float, int]:
        # Best-suited first: lowest penalty, then strongest in the needed skills, then
        # the one idle longest (spreads work among equals).
        score = sum(c.skills.get(s, 0) for s in ctx.call_skills)
        return (c.penalty, -score, c.idle_since, c.index)

    return [c.agent for c in sorted(pool, key=rank)]


def _lowest_penalty(candidates: Sequence[Candidate]) -> list[Candidate]:
    if not candidates:
        return []
    best = min(c.penalty for c in candidates)
    return [c for c in candidates if c.penalty == best]


def _round_robin(tier: Sequence[Candidate], ctx: Context) -> list[Candidate]:
    members = list(ctx.member_order)
    start = members.index(ctx.rr_last) + 1 if ctx.rr_last in members else 0
    rotation = {agent: i for i, agent in enumerate(members[start:] + members[:start])}
    return sorted(tier, key=lambda c: (rotation.get(c.agent, len(members)), c.index))


def _weighted(tier: Sequence[Candidate], rng: random.Random) -> list[Candidate]:
    # Weighted order without replacement: sorting by u ** (1/w) (Efraimidis-Spirakis)
    # makes the first pick exactly proportional to the weights, with one draw per agent.
    keyed = [(rng.random() ** (1.0 / c.weight), c) for c in sorted(tier, key=lambda c: c.index)]
    keyed.sort(key=lambda kc: -kc[0])
    return [c for _, c in keyed]
