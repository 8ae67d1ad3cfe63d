"""Random traffic against the engine, acting as the switch would: the switch's view built
from the actions alone must always agree with the agents' states, timers must never stay
in the past, and the queue log must stay in time order."""

from __future__ import annotations

import random

import pytest

from firmware.acd import (
    AcdConfig,
    AcdEngine,
    AcdError,
    Action,
    AgentConfig,
    AgentState,
    CallEnded,
    CancelOffer,
    DeviceInUse,
    EndedBy,
    Exit,
    KeyPressed,
    Member,
    Offer,
    OfferAnswered,
    OfferFailed,
    OfferFailure,
    OutboundCallMade,
    PlaceCallback,
    QueueConfig,
    QueueLog,
    SkillStep,
    Strategy,
    Target,
    TargetKind,
    TransitionError,
)

AGENTS = [f"a{i}" for i in range(5)]
SKILLS = {"a0": {"gas": 9}, "a1": {"gas": 5}, "a2": {"gas": 2, "water": 7}, "a3": {},
          "a4": {"water": 3}}


def config(strategy: Strategy) -> AcdConfig:
    main = QueueConfig(
        "main", strategy, tuple(Member(a, penalty=i % 3, weight=i + 1) for i, a in
                                enumerate(AGENTS)),
        ring_timeout=12.0, retry=3.0, wrap_up=5.0, max_wait=120.0,
        timeout_target=Target(TargetKind.CALLBACK), empty_target=Target(TargetKind.HANGUP),
        announce_frequency=20.0, periodic_prompt="promo", periodic_frequency=45.0,
        callback_key="1", exit_keys={"0": Target(TargetKind.QUEUE, "other")},
        skill_steps=(SkillStep(0.0, 0, 8), SkillStep(20.0, 1), SkillStep(40.0)),
    )
    other = QueueConfig("other", Strategy.RING_ALL, (Member("a3"), Member("a4")),
                        ring_timeout=8.0, retry=0.0)
    return AcdConfig(queues=(main, other),
                     agents=tuple(AgentConfig(a, skills=SKILLS[a]) for a in AGENTS),
                     max_missed_offers=2, seed=1)


class Switch:
    """What the switch knows, from actions only."""

    def __init__(self, engine: AcdEngine) -> None:
        self.e = engine
        self.ringing: set[tuple[str, str]] = set()
        self.talking: set[tuple[str, str]] = set()
        self.log_times: list[float] = []

    def take(self, actions: list[Action]) -> list[Action]:
        for a in actions:
            match a:
                case Offer() | PlaceCallback():
                    assert all(ag != a.agent for _, ag in self.ringing | self.talking)
                    self.ringing.add((a.call_id, a.agent))
                case CancelOffer():
                    self.ringing.discard((a.call_id, a.agent))
                case QueueLog():
                    self.log_times.append(a.record.time)
                case Exit():
                    assert not any(c == a.call_id for c, _ in self.ringing)
        return actions

    def check(self) -> None:
        assert self.log_times == sorted(self.log_times)
        for agent in AGENTS:
            state = self.e.agent_status(agent).state
            assert (state is AgentState.RINGING) == any(ag == agent for _, ag in self.ringing)
            assert (state is AgentState.ON_CALL) == any(ag == agent for _, ag in self.talking)


@pytest.mark.parametrize("strategy", list(Strategy))
def test_random_traffic_keeps_everything_consistent(strategy: Strategy) -> None:
    rnd = random.Random(strategy.value)
    e = AcdEngine(config(strategy))
    sw = Switch(e)
    now, calls = 0.0, 0
    for _ in range(600):
        now += rnd.choice((0.0, 0.5, 2.0, 7.0))
        due = e.next_timer()
        while due is not None and due <= now:
            sw.take(e.handle_timer(due))
            after = e.next_timer()
            assert after is None or after > due, "a timer stayed in the past"
            due = after
            sw.check()
        op = rnd.randrange(12)
        agent = rnd.choice(AGENTS)
        try:
            if op <= 2:
                calls += 1
                skills = rnd.choice(({}, {"gas": 1}, {"water": 2}))
                sw.take(e.join(f"c{calls}", rnd.choice(("main", "main", "other")),
                               f"1390000{rnd.randrange(8)}", rnd.randrange(3), skills,
                               now=now))
            elif op == 3:
                sw.take(e.agent_login(agent, f"8{agent}", now=now))
            elif op == 4:
                sw.take(e.agent_logout(agent, now=now))
            elif op == 5:
                sw.take(e.agent_ready(agent, now=now))
            elif op == 6:
                sw.take(e.agent_not_ready(agent, rnd.choice(("break", "lunch")), now=now))
            elif op == 7 and sw.ringing:
                call, ag = rnd.choice(sorted(sw.ringing))
                sw.ringing.discard((call, ag))
                out = sw.take(e.handle(OfferAnswered(call, ag, now)))
                assert CancelOffer(call, ag, f"8{ag}") not in out
                sw.talking.add((call, ag))
            elif op == 8 and sw.ringing:
                call, ag = rnd.choice(sorted(sw.ringing))
                sw.ringing.discard((call, ag))
                sw.take(e.handle(OfferFailed(call, ag, rnd.choice(list(OfferFailure)), now)))
            elif op == 9 and sw.talking:
                call, ag = rnd.choice(sorted(sw.talking))
                sw.talking.discard((call, ag))
                sw.take(e.handle(CallEnded(call, ag, rnd.choice(list(EndedBy)), now)))
            elif op == 10:
                waiting = e.waiting("main") + e.waiting("other")
                if waiting:
                    call = rnd.choice(waiting)
                    if rnd.random() < 0.5:
                        sw.take(e.handle(KeyPressed(call, rnd.choice("01"), now)))
                    else:
                        sw.take(e.leave(call, now=now))
            else:
                sw.take(e.handle(DeviceInUse(f"8{agent}", rnd.random() < 0.3, now)))
                e.handle(OutboundCallMade(f"1390000{rnd.randrange(8)}", agent, now))
        except (TransitionError, AcdError):
            pass  # refused commands change nothing
        sw.check()
