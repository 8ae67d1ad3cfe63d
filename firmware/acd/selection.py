"""Which agents a waiting entry is offered to now: the free members of its queue, minus
those it already tried this round, smart routing first, then the queue's strategy.

Mutates only the entry's round bookkeeping and the queue's round-robin pointer.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Set

from firmware.acd import strategies
from firmware.acd.agent import Agent, AgentState
from firmware.acd.config import Strategy
from firmware.acd.queue import Queue, QueueEntry


def select_agents(
    q: Queue,
    e: QueueEntry,
    agents: Mapping[str, Agent],
    busy_devices: Set[str],
    now: float,
    rng: random.Random,
) -> list[str]:
    """Agents to offer `e` to (several for ring-all), or [] to keep waiting. Sets
    `e.retry_at` when the only agents free have already had the call this round, and
    `e.widen_at` when a skills pool will grow while the caller keeps waiting."""
    e.retry_at = e.widen_at = None
    chosen = _select(q, e, agents, busy_devices, now, rng)
    if not chosen and q.config.strategy is Strategy.SKILLS:
        after = strategies.next_widening(q.config.skill_steps, now - e.joined_at)
        e.widen_at = None if after is None else e.joined_at + after
    return chosen


def _select(
    q: Queue,
    e: QueueEntry,
    agents: Mapping[str, Agent],
    busy_devices: Set[str],
    now: float,
    rng: random.Random,
) -> list[str]:
    pool = _pool(q, e, agents, busy_devices, now)
    fresh = [c for c in pool if c.agent not in e.tried]
    if not fresh and pool:
        # Everyone who could take the call has had it this round: start a new round once
        # `retry` has passed since the last failed offer (Asterisk's "retry").
        due = e.last_fail_at + q.config.retry if e.last_fail_at is not None else now
        if now < due:
            e.retry_at = due
            return []
        e.tried.clear()
        fresh = pool
    if not fresh:
        return []
    if e.preferred is not None and any(c.agent == e.preferred for c in fresh):
        return [e.preferred]  # smart routing: straight to the agent they know
    ctx = strategies.Context(list(q.members), q.rr_last, e.skills, now - e.joined_at,
                             q.config.skill_steps)
    ranked = strategies.order(q.config.strategy, fresh, ctx, rng)
    chosen = ranked if q.config.strategy is Strategy.RING_ALL else ranked[:1]
    if chosen:
        q.rr_last = chosen[-1]  # a missed agent thereby goes to the back of the round
    return chosen


def _pool(
    q: Queue, e: QueueEntry, agents: Mapping[str, Agent], busy: Set[str], now: float
) -> list[strategies.Candidate]:
    """Free members who may take `e` now: ready, phone free (unless ring in use), and for
    the skills strategy qualified at the caller's current wait."""
    cfg = q.config
    step = strategies.active_step(cfg.skill_steps, now - e.joined_at)
    pool = []
    for index, m in enumerate(q.members.values()):
        a = agents[m.agent]
        if a.state is not AgentState.READY:
            continue
        if not cfg.ring_in_use and a.device in busy:
            continue
        c = strategies.Candidate(m.agent, m.penalty, m.weight, a.config.skills,
                                 a.idle_since(), q.calls[m.agent], index)
        if cfg.strategy is Strategy.SKILLS and not strategies.qualifies(c, e.skills, step):
            continue
        pool.append(c)
    return pool
