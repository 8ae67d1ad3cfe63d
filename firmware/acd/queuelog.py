"""Queue log records in the Asterisk queue_log vocabulary.

One record per step of a call through a queue and per agent session change. The event
names and data columns follow Asterisk's queue_log, so people and tools that read
queue_log read ours; `line()` gives `time|callid|queue|agent|EVENT|data...`. Differences:
times and durations keep milliseconds (reports recomputed from the file must be exact),
and WRAPUPEND is ours (Asterisk has no wrap-up, AHT needs it). Agent-wide records use
queue and call id "NONE", as Asterisk does for PAUSEALL and agent logins.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, get_type_hints

NONE = "NONE"


def fmt_number(value: float) -> str:
    """Milliseconds at most, no trailing zeros: 12, 12.5, 1700000000.125."""
    if isinstance(value, int):
        return str(value)
    text = f"{round(value, 3):.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@dataclass(frozen=True)
class QueueLogRecord:
    time: float
    call_id: str
    queue: str
    agent: str

    event: ClassVar[str] = ""
    # Field names in the order of Asterisk's data columns; "" is a column we leave empty.
    layout: ClassVar[tuple[str, ...]] = ()

    def data(self) -> tuple[str, ...]:
        out = []
        for name in self.layout:
            value = getattr(self, name) if name else ""
            out.append(value if isinstance(value, str) else fmt_number(value))
        return tuple(out)

    def line(self) -> str:
        head = (fmt_number(self.time), self.call_id, self.queue, self.agent, self.event)
        return "|".join(head + self.data())


@dataclass(frozen=True)
class EnterQueue(QueueLogRecord):
    caller_number: str
    position: int
    event = "ENTERQUEUE"
    layout = ("", "caller_number", "position")  # url|callerid|position


@dataclass(frozen=True)
class RingNoAnswer(QueueLogRecord):
    ring_ms: int
    event = "RINGNOANSWER"
    layout = ("ring_ms",)


@dataclass(frozen=True)
class RingCanceled(QueueLogRecord):
    ring_ms: int
    event = "RINGCANCELED"
    layout = ("ring_ms",)


@dataclass(frozen=True)
class Connect(QueueLogRecord):
    hold: float
    device: str
    ring: float
    event = "CONNECT"
    layout = ("hold", "device", "ring")  # holdtime|bridged channel|ringtime


@dataclass(frozen=True)
class CompleteCaller(QueueLogRecord):
    hold: float
    talk: float
    orig_position: int
    event = "COMPLETECALLER"
    layout = ("hold", "talk", "orig_position")


@dataclass(frozen=True)
class CompleteAgent(QueueLogRecord):
    hold: float
    talk: float
    orig_position: int
    event = "COMPLETEAGENT"
    layout = ("hold", "talk", "orig_position")


@dataclass(frozen=True)
class Transfer(QueueLogRecord):
    target: str
    hold: float
    talk: float
    orig_position: int
    event = "TRANSFER"
    layout = ("target", "", "hold", "talk", "orig_position")  # extension|context|...


@dataclass(frozen=True)
class Abandon(QueueLogRecord):
    position: int
    orig_position: int
    wait: float
    event = "ABANDON"
    layout = ("position", "orig_position", "wait")


@dataclass(frozen=True)
class ExitWithTimeout(QueueLogRecord):
    position: int
    orig_position: int
    wait: float
    event = "EXITWITHTIMEOUT"
    layout = ("position", "orig_position", "wait")


@dataclass(frozen=True)
class ExitEmpty(QueueLogRecord):
    position: int
    orig_position: int
    wait: float
    event = "EXITEMPTY"
    layout = ("position", "orig_position", "wait")


@dataclass(frozen=True)
class ExitWithKey(QueueLogRecord):
    key: str
    position: int
    orig_position: int
    wait: float
    event = "EXITWITHKEY"
    layout = ("key", "position", "orig_position", "wait")


@dataclass(frozen=True)
class Pause(QueueLogRecord):
    reason: str
    event = "PAUSE"
    layout = ("reason",)


@dataclass(frozen=True)
class Unpause(QueueLogRecord):
    reason: str
    event = "UNPAUSE"
    layout = ("reason",)


@dataclass(frozen=True)
class AddMember(QueueLogRecord):
    event = "ADDMEMBER"


@dataclass(frozen=True)
class RemoveMember(QueueLogRecord):
    event = "REMOVEMEMBER"


@dataclass(frozen=True)
class AgentLogin(QueueLogRecord):
    device: str
    event = "AGENTLOGIN"
    layout = ("device",)


@dataclass(frozen=True)
class AgentLogoff(QueueLogRecord):
    device: str
    logged_in: float
    event = "AGENTLOGOFF"
    layout = ("device", "logged_in")  # channel|logintime


@dataclass(frozen=True)
class WrapUpEnd(QueueLogRecord):
    wrap: float
    event = "WRAPUPEND"
    layout = ("wrap",)


RECORD_TYPES: dict[str, type[QueueLogRecord]] = {
    cls.event: cls
    for cls in (
        EnterQueue, RingNoAnswer, RingCanceled, Connect, CompleteCaller, CompleteAgent,
        Transfer, Abandon, ExitWithTimeout, ExitEmpty, ExitWithKey, Pause, Unpause,
        AddMember, RemoveMember, AgentLogin, AgentLogoff, WrapUpEnd,
    )
}


def parse_line(line: str) -> QueueLogRecord:
    """The inverse of `QueueLogRecord.line()` (for reports rebuilt from the file)."""
    parts = line.rstrip("\r\n").split("|")
    if len(parts) < 5:
        raise ValueError(f"queue log line has {len(parts)} columns, need at least 5: {line!r}")
    time, call_id, queue, agent, event, *data = parts
    cls = RECORD_TYPES.get(event)
    if cls is None:
        raise ValueError(f"unknown queue log event {event!r}")
    if len(data) < len(cls.layout):
        raise ValueError(f"{event} needs {len(cls.layout)} data columns, got {len(data)}")
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for name, text in zip(cls.layout, data, strict=False):
        if name:
            kwargs[name] = _convert(hints[name], text, event, name)
    base = {f.name for f in fields(QueueLogRecord)}
    missing = {f.name for f in fields(cls)} - base - kwargs.keys()
    if missing:
        raise ValueError(f"{event}: missing {sorted(missing)}")
    return cls(float(time), call_id, queue, agent, **kwargs)


def _convert(kind: Any, text: str, event: str, name: str) -> Any:
    try:
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
    except ValueError:
        raise ValueError(f"{event}: {name} is not a number: {text!r}") from None
    return text
