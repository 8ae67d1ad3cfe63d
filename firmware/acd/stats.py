"""Contact-centre figures computed exactly from queue-log records.

Definitions (also in docs/decisions/0009-acd.md):

- offered: ENTERQUEUE records. A call belongs to the period of its ENTERQUEUE; a
  CONNECT/ABANDON/EXIT whose ENTERQUEUE is not in the records is ignored.
- outcome of each visit (call id + queue, the last ENTERQUEUE wins a re-entry): the last
  of CONNECT (answered), ABANDON, EXITWITHTIMEOUT, EXITEMPTY, EXITWITHKEY — so a callback
  request (EXITWITHKEY) that an agent later takes (CONNECT) counts as answered, with its
  hold time measured from the original ENTERQUEUE (the caller kept their place).
- short abandon: ABANDON with wait < `short_abandon` seconds (misdials, impatient
  hang-ups before anyone could answer).
- service level = answered with hold <= T / (offered − short abandons)
- ASA = Σ CONNECT hold / answered
- AHT = (Σ talk of COMPLETECALLER/COMPLETEAGENT/TRANSFER + Σ WRAPUPEND wrap) / completed
- abandonment rate = (abandoned − short abandons) / (offered − short abandons)
- occupancy (per agent) = (talk + wrap) / (logged-in time − not-ready time), intervals
  from AGENTLOGIN/AGENTLOGOFF and PAUSE/UNPAUSE, still-open ones closed at `until`.
A ratio whose denominator is zero is None ("no calls"), never 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from firmware.acd.queuelog import (
    Abandon,
    AgentLogin,
    AgentLogoff,
    CompleteAgent,
    CompleteCaller,
    Connect,
    EnterQueue,
    ExitEmpty,
    ExitWithKey,
    ExitWithTimeout,
    Pause,
    QueueLogRecord,
    Transfer,
    Unpause,
    WrapUpEnd,
)


@dataclass(frozen=True)
class QueueStats:
    offered: int
    answered: int
    answered_within: int  # hold <= service-level threshold
    abandoned: int  # short abandons included
    short_abandoned: int
    timed_out: int
    exited_empty: int
    exited_with_key: int  # still unserved at the end (callbacks taken count as answered)
    completed: int
    service_level: float | None
    asa: float | None
    aht: float | None
    abandonment_rate: float | None


@dataclass(frozen=True)
class AgentStats:
    logged_in: float
    not_ready: float
    talk: float
    wrap: float
    completed: int
    occupancy: float | None


@dataclass
class _Visit:
    outcome: str = "waiting"
    hold: float = 0.0
    wait: float = 0.0


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def _chronological(records: Iterable[QueueLogRecord]) -> list[QueueLogRecord]:
    return sorted(records, key=lambda r: r.time)  # stable: same-time order is kept


def queue_stats(
    records: Iterable[QueueLogRecord],
    *,
    queue: str | None = None,
    sl_threshold: float = 20.0,
    short_abandon: float = 5.0,
) -> QueueStats:
    """Figures for one queue, or all queues together when `queue` is None."""
    visits: dict[tuple[str, str], _Visit] = {}
    offered: list[_Visit] = []
    talk = wrap = 0.0
    completed = 0
    for r in _chronological(records):
        if queue is not None and r.queue != queue:
            continue
        key = (r.call_id, r.queue)
        if isinstance(r, EnterQueue):
            visits[key] = _Visit()
            offered.append(visits[key])
            continue
        if isinstance(r, CompleteCaller | CompleteAgent | Transfer):
            completed += 1
            talk += r.talk
        elif isinstance(r, WrapUpEnd):
            wrap += r.wrap
        v = visits.get(key)
        if v is None:
            continue
        match r:
            case Connect():
                v.outcome, v.hold = "answered", r.hold
            case Abandon():
                v.outcome, v.wait = "abandoned", r.wait
            case ExitWithTimeout():
                v.outcome = "timeout"
            case ExitEmpty():
                v.outcome = "empty"
            case ExitWithKey():
                v.outcome = "key"

    answered = [v for v in offered if v.outcome == "answered"]
    abandoned = [v for v in offered if v.outcome == "abandoned"]
    short = sum(1 for v in abandoned if v.wait < short_abandon)
    within = sum(1 for v in answered if v.hold <= sl_threshold)
    base = len(offered) - short
    return QueueStats(
        offered=len(offered),
        answered=len(answered),
        answered_within=within,
        abandoned=len(abandoned),
        short_abandoned=short,
        timed_out=sum(1 for v in offered if v.outcome == "timeout"),
        exited_empty=sum(1 for v in offered if v.outcome == "empty"),
        exited_with_key=sum(1 for v in offered if v.outcome == "key"),
        completed=completed,
        service_level=_ratio(within, base),
        asa=_ratio(sum(v.hold for v in answered), len(answered)),
        aht=_ratio(talk + wrap, completed),
        abandonment_rate=_ratio(len(abandoned) - short, base),
    )


@dataclass
class _Session:
    logged_in: float = 0.0
    not_ready: float = 0.0
    talk: float = 0.0
    wrap: float = 0.0
    completed: int = 0
    login_at: float | None = None
    pause_at: float | None = None

    def close_pause(self, t: float) -> None:
        if self.pause_at is not None:
            self.not_ready += t - self.pause_at
            self.pause_at = None

    def close_login(self, t: float) -> None:
        self.close_pause(t)
        if self.login_at is not None:
            self.logged_in += t - self.login_at
            self.login_at = None


def agent_stats(
    records: Iterable[QueueLogRecord], *, until: float | None = None
) -> dict[str, AgentStats]:
    """Per-agent time split and occupancy; `until` closes sessions still open (default:
    the last record's time)."""
    ordered = _chronological(records)
    end = until if until is not None else (ordered[-1].time if ordered else 0.0)
    sessions: dict[str, _Session] = {}
    for r in ordered:
        if r.agent == "NONE":
            continue
        s = sessions.setdefault(r.agent, _Session())
        match r:
            case AgentLogin():
                if s.login_at is None:  # a second login is a move to another device
                    s.login_at = r.time
            case AgentLogoff():
                s.close_login(r.time)
            case Pause():
                if s.login_at is not None and s.pause_at is None:  # a new reason continues
                    s.pause_at = r.time
            case Unpause():
                s.close_pause(r.time)
            case CompleteCaller() | CompleteAgent() | Transfer():
                s.talk += r.talk
                s.completed += 1
            case WrapUpEnd():
                s.wrap += r.wrap
    out = {}
    for agent, s in sessions.items():
        s.close_login(end)
        out[agent] = AgentStats(s.logged_in, s.not_ready, s.talk, s.wrap, s.completed,
                                _ratio(s.talk + s.wrap, s.logged_in - s.not_ready))
    return out
