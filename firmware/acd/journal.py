"""Queue-log records for what the engine does: agent session changes, exits, call ends.

Pure translation, kept apart from the engine so the vocabulary mapping reads in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.acd.actions import Action, EndedBy, ExitReason, QueueLog
from firmware.acd.agent import (
    Agent,
    AgentEvent,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    AgentState,
)
from firmware.acd.queuelog import (
    NONE,
    AgentLogin,
    AgentLogoff,
    CompleteAgent,
    CompleteCaller,
    ExitEmpty,
    ExitWithKey,
    ExitWithTimeout,
    Pause,
    QueueLogRecord,
    Transfer,
    Unpause,
)


@dataclass(frozen=True)
class Snapshot:
    """An agent's state before a transition: what the log needs to describe the change."""

    state: AgentState
    reason: str | None
    call_id: str | None
    queue: str | None
    wrap_started: float | None
    logged_in_at: float | None

    @classmethod
    def of(cls, a: Agent) -> Snapshot:
        return cls(a.state, a.reason, a.call_id, a.queue, a.wrap_started, a.logged_in_at)


def agent_actions(agent: str, before: Snapshot, events: list[AgentEvent]) -> list[Action]:
    """The agent's events, each followed by its queue-log record if it has one.
    PAUSE/UNPAUSE bracket not-ready time (a reason change is a new PAUSE); logins and
    logoffs are agent-wide ("NONE" queue), as in Asterisk."""
    out: list[Action] = []
    paused, reason = before.state is AgentState.NOT_READY, before.reason
    for ev in events:
        out.append(ev)
        record: QueueLogRecord | None = None
        match ev:
            case AgentLoggedIn():
                record = AgentLogin(ev.time, NONE, NONE, agent, ev.device)
            case AgentLoggedOut():
                # No UNPAUSE: the logoff closes a not-ready stretch as well.
                since = before.logged_in_at if before.logged_in_at is not None else ev.time
                record = AgentLogoff(ev.time, NONE, NONE, agent, ev.device, ev.time - since)
            case AgentNotReady():
                record = Pause(ev.time, NONE, NONE, agent, ev.reason)
                paused, reason = True, ev.reason
            case AgentReady():
                if paused:
                    record = Unpause(ev.time, NONE, NONE, agent, reason or "")
                paused = False
            case _:
                paused = False
        if record is not None:
            out.append(QueueLog(record))
    return out


def exit_record(
    reason: ExitReason,
    head: tuple[float, str, str, str],
    position: int,
    orig_position: int,
    wait: float,
    key: str = "",
) -> QueueLogRecord:
    match reason:
        case ExitReason.TIMEOUT:
            return ExitWithTimeout(*head, position, orig_position, wait)
        case ExitReason.EMPTY:
            return ExitEmpty(*head, position, orig_position, wait)
        case ExitReason.KEY:
            return ExitWithKey(*head, key, position, orig_position, wait)


def end_record(
    by: EndedBy,
    head: tuple[float, str, str, str],
    hold: float,
    talk: float,
    orig_position: int,
    target: str = "",
) -> QueueLogRecord:
    match by:
        case EndedBy.CALLER:
            return CompleteCaller(*head, hold, talk, orig_position)
        case EndedBy.AGENT:
            return CompleteAgent(*head, hold, talk, orig_position)
        case EndedBy.TRANSFER:
            return Transfer(*head, target, hold, talk, orig_position)
