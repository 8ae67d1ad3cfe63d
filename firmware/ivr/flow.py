"""The flow model: an IVR flow is data, not code.

A flow is what the web UI edits and the database stores: a JSON object with an id, a
version, an entry node and nodes by id. This module holds the typed form the runner
walks; `parse.py` turns JSON into it (collecting every error), `validate.py` checks the
graph, `to_dict` turns it back into JSON for export (`ccbox config export`).

Branch fields (`next`, `on_fail`, menu `branches` ...) hold node ids. Optional
branches left out mean "hang up", which validation reports as a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import ClassVar

from firmware.ivr.say import AmountStyle, SayKind
from firmware.ivr.timerules import HolidayCalendar, WeeklySchedule

SCHEMA = 1  # bump with a migration in parse.py when the JSON shape changes
DTMF_KEYS = "0123456789*#ABCD"
PRIORITY_MAX = 100  # queue priority: higher is served first; the 96777 emergency uses max
INVALID_PROMPT = ("invalid_input",)
TIMEOUT_PROMPT = ("no_input",)


class TransferKind(StrEnum):
    QUEUE = "queue"
    EXTENSION = "extension"
    EXTERNAL = "external"


@dataclass(frozen=True, kw_only=True)
class BaseNode:
    id: str
    kind: ClassVar[str] = ""
    # Plays to the caller or waits for them: a loop through such a node takes caller
    # time, so it cannot spin. Barge-in prompts do not count (type-ahead skips them).
    waits: ClassVar[bool] = False

    # Names of the fields holding a node id / a list of prompt names.
    branch_fields: ClassVar[tuple[str, ...]] = ()
    prompt_fields: ClassVar[tuple[str, ...]] = ()

    def edges(self) -> list[tuple[str, str]]:
        """(field, target node id) for every branch that is set."""
        targets = ((name, getattr(self, name)) for name in self.branch_fields)
        return [(name, t) for name, t in targets if t is not None]

    def prompt_refs(self) -> list[tuple[str, str]]:
        """(field path, prompt name) for every prompt the node plays."""
        out: list[tuple[str, str]] = []
        for name in self.prompt_fields:
            out += [(f"{name}.{i}", p) for i, p in enumerate(getattr(self, name))]
        return out

    def takes_caller_time(self) -> bool:
        return self.waits


@dataclass(frozen=True, kw_only=True)
class PlayNode(BaseNode):
    kind: ClassVar[str] = "play"
    branch_fields = ("next",)
    prompt_fields = ("prompts",)
    prompts: tuple[str, ...] = ()
    next: str
    barge_in: bool = False  # announcements default to uninterruptible (Asterisk Playback)

    def takes_caller_time(self) -> bool:
        return not self.barge_in


@dataclass(frozen=True, kw_only=True)
class MenuNode(BaseNode):
    kind: ClassVar[str] = "menu"
    waits: ClassVar[bool] = True
    branch_fields = ("on_invalid", "on_timeout")
    prompt_fields = ("prompt", "retry_prompt", "invalid_prompt", "timeout_prompt")
    prompt: tuple[str, ...] = ()
    branches: Mapping[str, str] = field(default_factory=dict)  # DTMF key -> node id
    timeout: float = 5.0  # seconds after the prompt ends
    retries: int = 2  # further attempts after the first invalid or missing key
    retry_prompt: tuple[str, ...] = ()  # replayed on retry; empty: `prompt` again
    invalid_prompt: tuple[str, ...] = INVALID_PROMPT
    timeout_prompt: tuple[str, ...] = TIMEOUT_PROMPT
    on_invalid: str | None = None
    on_timeout: str | None = None
    barge_in: bool = True

    def edges(self) -> list[tuple[str, str]]:
        return [(f"branches.{k}", v) for k, v in self.branches.items()] + super().edges()


@dataclass(frozen=True, kw_only=True)
class CollectNode(BaseNode):
    kind: ClassVar[str] = "collect"
    waits: ClassVar[bool] = True
    branch_fields = ("next", "on_fail")
    prompt_fields = ("prompt", "invalid_prompt", "timeout_prompt")
    var: str
    prompt: tuple[str, ...] = ()
    min_digits: int = 1
    max_digits: int = 20
    terminator: str = "#"  # "" for none
    allowed: str = "0123456789"
    first_timeout: float = 8.0
    inter_timeout: float = 4.0
    retries: int = 0
    invalid_prompt: tuple[str, ...] = INVALID_PROMPT
    timeout_prompt: tuple[str, ...] = TIMEOUT_PROMPT
    next: str
    on_fail: str | None = None
    barge_in: bool = True
    secret: bool = False  # PINs: digits are masked in the IVR log


@dataclass(frozen=True, kw_only=True)
class TimeNode(BaseNode):
    kind: ClassVar[str] = "time"
    branch_fields = ("open", "closed", "holiday")
    schedule: str
    calendar: str | None = None
    open: str
    closed: str
    holiday: str | None = None  # absent: holidays take `closed`


@dataclass(frozen=True, kw_only=True)
class CallerRule:
    """Match the caller against a named list or inline numbers; 'prefix*' entries match
    by prefix (area codes like '0571*', mobile ranges like '139*')."""

    next: str
    list: str | None = None
    numbers: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CallerNode(BaseNode):
    kind: ClassVar[str] = "caller"
    branch_fields = ("anonymous", "default")
    rules: tuple[CallerRule, ...] = ()  # first match wins
    anonymous: str | None = None  # withheld / no caller ID
    default: str

    def edges(self) -> list[tuple[str, str]]:
        return [(f"rules.{i}.next", r.next) for i, r in enumerate(self.rules)] + super().edges()


@dataclass(frozen=True, kw_only=True)
class SetNode(BaseNode):
    kind: ClassVar[str] = "set"
    branch_fields = ("next", "on_fail")
    var: str
    value: str | None = None  # a template: "${caller}", "zh", ...
    expr: str | None = None  # arithmetic: "amount * 100"
    next: str
    on_fail: str | None = None  # absent: log and go on to `next`


@dataclass(frozen=True, kw_only=True)
class LookupNode(BaseNode):
    kind: ClassVar[str] = "lookup"
    branch_fields = ("next", "on_fail")
    adapter: str
    params: Mapping[str, str] = field(default_factory=dict)  # name -> template
    timeout: float = 5.0
    next: str
    on_fail: str


@dataclass(frozen=True, kw_only=True)
class SayNode(BaseNode):
    kind: ClassVar[str] = "say"
    branch_fields = ("next", "on_fail")
    prompt_fields = ("before", "after")
    format: SayKind
    value: str  # a template, usually "${some_var}"
    style: AmountStyle = AmountStyle.POINT
    before: tuple[str, ...] = ()  # e.g. "your balance is", in the same Play
    after: tuple[str, ...] = ()
    barge_in: bool = False
    next: str
    on_fail: str | None = None  # absent: skip the reading, go to `next`

    def takes_caller_time(self) -> bool:
        return not self.barge_in


@dataclass(frozen=True, kw_only=True)
class TransferNode(BaseNode):
    kind: ClassVar[str] = "transfer"
    branch_fields = ("on_fail",)
    to: TransferKind
    target: str  # a template: an extension may come from a collect node
    priority: int = 0  # queues only, 0..PRIORITY_MAX
    on_fail: str | None = None  # target busy/unreachable


@dataclass(frozen=True, kw_only=True)
class VoicemailNode(BaseNode):
    kind: ClassVar[str] = "voicemail"
    box: str  # a template


@dataclass(frozen=True, kw_only=True)
class HangupNode(BaseNode):
    kind: ClassVar[str] = "hangup"
    cause: int = 16  # Q.850 normal clearing


Node = (PlayNode | MenuNode | CollectNode | TimeNode | CallerNode | SetNode | LookupNode
        | SayNode | TransferNode | VoicemailNode | HangupNode)
NODE_TYPES: dict[str, type[Node]] = {
    t.kind: t for t in (PlayNode, MenuNode, CollectNode, TimeNode, CallerNode, SetNode,
                        LookupNode, SayNode, TransferNode, VoicemailNode, HangupNode)
}


@dataclass(frozen=True, kw_only=True)
class Flow:
    id: str
    version: int
    entry: str
    nodes: Mapping[str, Node]
    name: str = ""
    # Flow-local definitions; site-wide ones come from IvrEnv (flow-local win), so an
    # exported flow can carry what it needs and the shipped example runs standalone.
    schedules: Mapping[str, WeeklySchedule] = field(default_factory=dict)
    calendars: Mapping[str, HolidayCalendar] = field(default_factory=dict)
    lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    max_steps: int = 200  # node entries per call before the runner gives up
    schema: int = SCHEMA

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"schema": self.schema, "id": self.id, "version": self.version}
        if self.name:
            out["name"] = self.name
        out["entry"] = self.entry
        out["max_steps"] = self.max_steps
        out["nodes"] = {nid: node_to_dict(n) for nid, n in self.nodes.items()}
        if self.schedules:
            out["schedules"] = {k: s.to_dict() for k, s in self.schedules.items()}
        if self.calendars:
            out["calendars"] = {k: c.to_dict() for k, c in self.calendars.items()}
        if self.lists:
            out["lists"] = {k: list(v) for k, v in self.lists.items()}
        return out


def _json_value(value: object) -> object:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, CallerRule):
        return {k: _json_value(v) for k, v in vars(value).items() if v not in (None, ())}
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def node_to_dict(node: Node) -> dict[str, object]:
    out: dict[str, object] = {"kind": node.kind}
    for f in fields(node):
        value = getattr(node, f.name)
        if f.name != "id" and value is not None:
            out[f.name] = _json_value(value)
    return out
