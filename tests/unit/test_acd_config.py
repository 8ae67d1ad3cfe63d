"""Configuration errors name the queue or agent and the field."""

from __future__ import annotations

from typing import Any

import pytest

from firmware.acd import (
    AcdConfig,
    AgentConfig,
    ConfigError,
    Member,
    QueueConfig,
    SkillStep,
    Target,
    TargetKind,
)


def build(agents: tuple[AgentConfig, ...] = (AgentConfig("a1"),), **queue: Any) -> AcdConfig:
    queue.setdefault("members", (Member("a1"),))
    return AcdConfig(queues=(QueueConfig("q", **queue),), agents=agents)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"members": (Member("ghost"),)}, "queue 'q': member 'ghost' is not a configured agent"),
        ({"members": (Member("a1"), Member("a1"))}, "duplicate queue 'q': member 'a1'"),
        ({"members": (Member("a1", penalty=-1),)}, "member 'a1' penalty must be >= 0"),
        ({"members": (Member("a1", weight=0),)}, "member 'a1' weight must be > 0"),
        ({"ring_timeout": 0}, "queue 'q': ring_timeout out of range (0)"),
        ({"max_wait": 60.0}, "queue 'q': max_wait needs a timeout_target"),
        ({"max_wait": 60.0, "timeout_target": Target(TargetKind.QUEUE, "nope")},
         "queue 'q': timeout_target names unknown queue 'nope'"),
        ({"empty_target": Target(TargetKind.QUEUE, "q")},
         "queue 'q': empty_target loops back to the same queue"),
        ({"callback_key": "12"}, "callback_key '12' is not one DTMF digit"),
        ({"callback_key": "1", "exit_keys": {"1": Target(TargetKind.HANGUP)}},
         "callback_key '1' is also an exit key"),
        ({"exit_keys": {"x": Target(TargetKind.HANGUP)}}, "exit key 'x' is not one DTMF digit"),
        ({"skill_steps": (SkillStep(5.0),)}, "skill_steps must start with a step at 0 s"),
        ({"skill_steps": (SkillStep(0.0), SkillStep(30.0), SkillStep(30.0))},
         "increasing 'after'"),
        ({"skill_steps": (SkillStep(0.0, min_level=11),)}, "min_level 11 not in 1..10"),
        ({"periodic_prompt": "promo"}, "periodic_prompt needs periodic_frequency > 0"),
    ],
)
def test_queue_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(**kwargs)


def test_agent_and_global_errors() -> None:
    with pytest.raises(ConfigError, match="duplicate agent 'a1'"):
        build(agents=(AgentConfig("a1"), AgentConfig("a1")))
    with pytest.raises(ConfigError, match=r"agent 'a1': skill 'gas' level 0 not in 1\.\.10"):
        build(agents=(AgentConfig("a1", skills={"gas": 0}),))
    with pytest.raises(ConfigError, match="agent 'a1': wrap_up must be >= 0"):
        build(agents=(AgentConfig("a1", wrap_up=-1.0),))
    with pytest.raises(ConfigError, match="max_missed_offers must be >= 0"):
        AcdConfig(max_missed_offers=-1)
    with pytest.raises(ConfigError, match="invalid name"):
        AcdConfig(queues=(QueueConfig("NONE"),))


def test_a_valid_configuration() -> None:
    cfg = build(max_wait=120.0, timeout_target=Target(TargetKind.CALLBACK), callback_key="1")
    assert cfg.queue("q").max_wait == 120.0
    assert "no answer" in cfg.reasons() and "lunch" in cfg.reasons()
    with pytest.raises(ConfigError, match="no queue 'x'"):
        cfg.queue("x")
