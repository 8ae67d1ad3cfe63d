"""ACD configuration: queues, members, agents, exit targets.

Plain frozen data, validated once when built (the web UI and `ccbox config import` show
the message as is, so every error names the queue or agent and the field).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from firmware.acd.errors import ConfigError

DTMF_DIGITS = frozenset("0123456789*#ABCD")

# Reasons the engine sets by itself; always accepted even if not configured.
NO_ANSWER = "no answer"
LOGIN = "login"
SYSTEM_REASONS = (NO_ANSWER, LOGIN)

MAX_SKILL_LEVEL = 10


class Strategy(StrEnum):
    RING_ALL = "ring-all"
    LONGEST_IDLE = "longest-idle"
    LEAST_CALLS = "least-calls"
    ROUND_ROBIN = "round-robin"
    LINEAR = "linear"
    RANDOM = "random"
    WEIGHTED_RANDOM = "weighted-random"
    SKILLS = "skills"


class TargetKind(StrEnum):
    QUEUE = "queue"
    VOICEMAIL = "voicemail"
    CALLBACK = "callback"  # the caller hangs up; the engine keeps their place and calls back
    EXTENSION = "extension"
    HANGUP = "hangup"


@dataclass(frozen=True)
class Target:
    """Where a caller goes when they leave a queue other than to an agent.

    The engine only names it in an `Exit` action; the switch carries the call there
    (joining another queue is the switch calling `join` again). CALLBACK is the one kind
    the engine acts on itself: the entry stays queued as a callback request.
    """

    kind: TargetKind
    value: str = ""  # queue name, voicemail box, extension; unused for callback/hangup


@dataclass(frozen=True)
class Member:
    agent: str
    penalty: int = 0  # lower is offered first (Asterisk sense)
    weight: float = 1.0  # weighted-random share


@dataclass(frozen=True)
class SkillStep:
    """From `after` seconds of waiting, the pool is members with penalty <= max_penalty
    whose level in every skill the call needs is >= min_level (None: no bound)."""

    after: float
    max_penalty: int | None = None
    min_level: int | None = None


@dataclass(frozen=True)
class AgentConfig:
    id: str
    name: str = ""
    skills: Mapping[str, int] = field(default_factory=dict)  # skill -> level 1..10
    wrap_up: float | None = None  # overrides the queue's wrap-up when set


@dataclass(frozen=True)
class QueueConfig:
    name: str
    strategy: Strategy = Strategy.RING_ALL
    members: tuple[Member, ...] = ()
    ring_timeout: float = 15.0  # per offer
    retry: float = 5.0  # pause before a caller's next round once every agent was tried
    wrap_up: float = 0.0
    ring_in_use: bool = False  # offer agents whose device is busy with another call
    max_wait: float | None = None
    timeout_target: Target | None = None  # required with max_wait
    empty_target: Target | None = None  # None: callers wait even with nobody logged in
    moh_class: str = "default"
    announce_frequency: float = 0.0  # 0: no position/EWT announcements
    announce_position: bool = True
    announce_ewt: bool = True
    announce_on_join: bool = True  # first announcement at once when not offered at join
    periodic_prompt: str | None = None
    periodic_frequency: float = 0.0
    callback_key: str | None = None  # DTMF digit that turns a waiting call into a callback
    exit_keys: Mapping[str, Target] = field(default_factory=dict)
    skill_steps: tuple[SkillStep, ...] = (SkillStep(0.0),)
    default_aht: float = 180.0  # used for EWT until calls have been handled
    aht_window: int = 20  # handled calls in the rolling AHT
    smart_routing: bool = True  # returning caller -> agent who served them last
    outbound_trace: bool = True  # call-back from a number an agent dialled -> that agent
    # skill -> minimum level a caller of this queue needs, when `join` names none
    skills: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AcdConfig:
    queues: tuple[QueueConfig, ...] = ()
    agents: tuple[AgentConfig, ...] = ()
    not_ready_reasons: tuple[str, ...] = ("break", "lunch", "meeting", "training")
    max_missed_offers: int = 3  # consecutive unanswered offers -> not ready; 0 disables
    ready_on_login: bool = True
    served_memory_days: float = 7.0
    outbound_memory_days: float = 3.0
    seed: int | None = None  # random strategies; fixed in tests

    def __post_init__(self) -> None:
        _validate(self)

    def queue(self, name: str) -> QueueConfig:
        for q in self.queues:
            if q.name == name:
                return q
        raise ConfigError(f"no queue {name!r}")

    def reasons(self) -> frozenset[str]:
        return frozenset(self.not_ready_reasons) | frozenset(SYSTEM_REASONS)


def _validate(cfg: AcdConfig) -> None:
    agent_ids = [a.id for a in cfg.agents]
    _unique(agent_ids, "agent")
    _unique([q.name for q in cfg.queues], "queue")
    if cfg.max_missed_offers < 0:
        raise ConfigError("max_missed_offers must be >= 0")
    if cfg.served_memory_days < 0 or cfg.outbound_memory_days < 0:
        raise ConfigError("memory days must be >= 0")
    for reason in cfg.not_ready_reasons:
        if not reason.strip():
            raise ConfigError("not_ready_reasons: empty reason code")
    for a in cfg.agents:
        if not a.id:
            raise ConfigError("agent with an empty id")
        where = f"agent {a.id!r}"
        if a.wrap_up is not None and a.wrap_up < 0:
            raise ConfigError(f"{where}: wrap_up must be >= 0")
        for skill, level in a.skills.items():
            if not 1 <= level <= MAX_SKILL_LEVEL:
                raise ConfigError(f"{where}: skill {skill!r} level {level} not in 1..10")
    known = set(agent_ids)
    names = {q.name for q in cfg.queues}
    for q in cfg.queues:
        _validate_queue(q, known, names)


def _validate_queue(q: QueueConfig, agents: set[str], queues: set[str]) -> None:
    where = f"queue {q.name!r}"
    if not q.name or q.name == "NONE":
        raise ConfigError(f"{where}: invalid name (NONE is the queue log's agent-wide queue)")
    _unique([m.agent for m in q.members], f"{where}: member")
    for m in q.members:
        if m.agent not in agents:
            raise ConfigError(f"{where}: member {m.agent!r} is not a configured agent")
        if m.penalty < 0:
            raise ConfigError(f"{where}: member {m.agent!r} penalty must be >= 0")
        if m.weight <= 0:
            raise ConfigError(f"{where}: member {m.agent!r} weight must be > 0")
    for name in ("ring_timeout", "retry", "wrap_up", "announce_frequency",
                 "periodic_frequency", "default_aht"):
        value = getattr(q, name)
        if value < 0 or (name in ("ring_timeout", "default_aht") and value == 0):
            raise ConfigError(f"{where}: {name} out of range ({value})")
    if q.aht_window < 1:
        raise ConfigError(f"{where}: aht_window must be >= 1")
    if q.max_wait is not None:
        if q.max_wait <= 0:
            raise ConfigError(f"{where}: max_wait must be > 0")
        if q.timeout_target is None:
            raise ConfigError(f"{where}: max_wait needs a timeout_target")
    if q.periodic_prompt is not None and q.periodic_frequency <= 0:
        raise ConfigError(f"{where}: periodic_prompt needs periodic_frequency > 0")
    targets: dict[str, Target | None] = {
        "timeout_target": q.timeout_target,
        "empty_target": q.empty_target,
    }
    for key, dest in q.exit_keys.items():
        if len(key) != 1 or key not in DTMF_DIGITS:
            raise ConfigError(f"{where}: exit key {key!r} is not one DTMF digit")
        targets[f"exit_keys[{key}]"] = dest
    if q.callback_key is not None:
        if len(q.callback_key) != 1 or q.callback_key not in DTMF_DIGITS:
            raise ConfigError(f"{where}: callback_key {q.callback_key!r} is not one DTMF digit")
        if q.callback_key in q.exit_keys:
            raise ConfigError(f"{where}: callback_key {q.callback_key!r} is also an exit key")
    for name, target in targets.items():
        if target is not None and target.kind is TargetKind.QUEUE:
            if target.value not in queues:
                raise ConfigError(f"{where}: {name} names unknown queue {target.value!r}")
            if target.value == q.name:
                raise ConfigError(f"{where}: {name} loops back to the same queue")
    for skill, level in q.skills.items():
        if not 1 <= level <= MAX_SKILL_LEVEL:
            raise ConfigError(f"{where}: skill {skill!r} level {level} not in 1..10")
    _validate_steps(q, where)


def _validate_steps(q: QueueConfig, where: str) -> None:
    steps = q.skill_steps
    if not steps or steps[0].after != 0:
        raise ConfigError(f"{where}: skill_steps must start with a step at 0 s")
    for prev, step in itertools.pairwise(steps):
        if step.after <= prev.after:
            raise ConfigError(f"{where}: skill_steps must have increasing 'after'")
    for step in steps:
        if step.min_level is not None and not 1 <= step.min_level <= MAX_SKILL_LEVEL:
            raise ConfigError(f"{where}: skill step min_level {step.min_level} not in 1..10")
        if step.max_penalty is not None and step.max_penalty < 0:
            raise ConfigError(f"{where}: skill step max_penalty must be >= 0")


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ConfigError(f"duplicate {what} {v!r}")
        seen.add(v)
