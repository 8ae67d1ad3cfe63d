"""The IVR flow editor's model: flow JSON <-> one form card per node, the graph drawn
next to the cards, and the validator's findings put on the node (and field) they name.

The node fields come from the dataclasses of firmware/ivr/flow.py through their type
hints (as the flow parser reads them), so a field added to a node kind appears in the
editor without touching this file. Values left at their default are left out of the
JSON, so a flow saved from the editor reads like one typed by hand.

Form names: `n.NODE.FIELD`, tables `n.NODE.FIELD.ROW.key|value`; node ids are limited
to [A-Za-z0-9_-], so the dots separate safely.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from typing import Any, Union, get_args, get_origin, get_type_hints

from firmware.ivr.flow import NODE_TYPES, CallerRule
from firmware.ivr.parse import NODE_ID_RE
from firmware.siteconfig.errors import SiteError

KINDS = tuple(NODE_TYPES)
_SPLIT = re.compile(r"[\s,，、]+")
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)")
# Flow keys the editor has no form for: kept as stored (advanced JSON edits them).
EXTRA_KEYS = ("schedules", "calendars", "lists", "max_steps")


@dataclass
class NodeField:
    name: str
    widget: str  # text | node | number | checkbox | select | list | rows | json
    value: Any
    required: bool
    choices: tuple[str, ...] = ()
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class NodeCard:
    id: str
    kind: str
    fields: list[NodeField]
    errors: list[str] = field(default_factory=list)  # about the node, not one field
    warnings: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(f.errors for f in self.fields)

    @property
    def has_warnings(self) -> bool:
        return bool(self.warnings) or any(f.warnings for f in self.fields)


def _plain_hint(hint: Any) -> tuple[Any, bool]:
    """(the type, whether None is allowed)."""
    if get_origin(hint) in (Union, types.UnionType):
        inner = [a for a in get_args(hint) if a is not type(None)]
        return inner[0], True
    return hint, False


def _widget(name: str, hint: Any, branch_fields: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    hint, _ = _plain_hint(hint)
    origin, args = get_origin(hint), get_args(hint)
    if name in branch_fields:
        return "node", ()
    if hint is bool:
        return "checkbox", ()
    if hint in (int, float):
        return "number", ()
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return "select", tuple(m.value for m in hint)
    if origin is tuple and args and args[0] is CallerRule:
        return "json", ()
    if origin is tuple:
        return "list", ()
    if origin is Mapping:
        return "rows", ()
    return "text", ()


def _specs(kind: str) -> list[tuple[str, Any, Any, bool]]:
    """(name, hint, default, required) of a node kind's fields."""
    cls = NODE_TYPES[kind]
    hints = get_type_hints(cls)
    out = []
    for f in fields(cls):
        if f.name == "id":
            continue
        if f.default is not MISSING:
            default: Any = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()
        else:
            default = MISSING
        out.append((f.name, hints[f.name], default, default is MISSING))
    return out


def _display(value: Any, widget: str) -> Any:
    if value is None:
        return "" if widget != "checkbox" else False
    if isinstance(value, StrEnum):
        return value.value
    if widget == "list":
        return ", ".join(str(v) for v in ([value] if isinstance(value, str) else value))
    if widget == "rows":
        rows = [{"key": str(k), "value": str(v)} for k, v in dict(value).items()]
        return rows + [{"key": "", "value": ""} for _ in range(2)]
    if widget == "json":
        return json.dumps(_jsonable(value), ensure_ascii=False)
    if widget == "checkbox":
        return bool(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, CallerRule):
        return {k: _jsonable(v) for k, v in vars(value).items() if v not in (None, ())}
    return value


def cards(flow: Mapping[str, Any]) -> list[NodeCard]:
    """One card per node of a flow JSON (known kinds; others get a kind selector)."""
    out = []
    nodes = flow.get("nodes") if isinstance(flow.get("nodes"), dict) else {}
    assert isinstance(nodes, dict)
    for nid, raw in nodes.items():
        raw = raw if isinstance(raw, dict) else {}
        kind = str(raw.get("kind", ""))
        if kind not in NODE_TYPES:
            out.append(NodeCard(str(nid), kind, []))
            continue
        branch = NODE_TYPES[kind].branch_fields
        fs = []
        for name, hint, default, required in _specs(kind):
            widget, choices = _widget(name, hint, branch)
            value = raw.get(name, None if default is MISSING else default)
            fs.append(NodeField(name, widget, _display(value, widget), required, choices))
        out.append(NodeCard(str(nid), kind, fs))
    return out


# Node field -> label msgid; the JSON key is shown next to it.
NODE_LABELS: dict[str, str] = {
    "prompts": "Prompts",
    "next": "Next",
    "barge_in": "Keys interrupt the prompt",
    "prompt": "Prompt",
    "branches": "Keys",
    "timeout": "Timeout (s)",
    "retries": "Retries",
    "retry_prompt": "Retry prompt",
    "invalid_prompt": "Invalid-key prompt",
    "timeout_prompt": "No-input prompt",
    "on_invalid": "After invalid keys",
    "on_timeout": "After no input",
    "var": "Variable",
    "min_digits": "Min digits",
    "max_digits": "Max digits",
    "terminator": "End key",
    "allowed": "Allowed keys",
    "first_timeout": "First digit timeout (s)",
    "inter_timeout": "Between digits (s)",
    "on_fail": "On failure",
    "secret": "Secret (masked in logs)",
    "schedule": "Schedule",
    "calendar": "Holiday calendar",
    "open": "When open",
    "closed": "When closed",
    "holiday": "On holidays",
    "rules": "Rules",
    "anonymous": "No caller ID",
    "default": "Otherwise",
    "value": "Value",
    "expr": "Expression",
    "adapter": "Adapter",
    "params": "Parameters",
    "format": "Read as",
    "style": "Amount style",
    "before": "Prompt before",
    "after": "Prompt after",
    "to": "Transfer kind",
    "target": "Destination",
    "priority": "Priority",
    "box": "Mailbox",
    "cause": "Release cause",
}


# --- form -> flow JSON -------------------------------------------------------------------


def _number(text: str) -> Any:
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        v = float(text)
        return int(v) if v.is_integer() else v
    return text  # the parser says "expected a number"


def node_from_form(nid: str, kind: str, form: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": kind}
    if kind not in NODE_TYPES:
        return out
    branch = NODE_TYPES[kind].branch_fields
    prefix = f"n.{nid}."
    for name, hint, default, _required in _specs(kind):
        widget, _ = _widget(name, hint, branch)
        key = prefix + name
        if widget == "checkbox":
            value: Any = form.get(key) == "1"
            if value != default:
                out[name] = value
            continue
        if widget == "rows":
            table: dict[str, str] = {}
            rows = sorted({int(k[len(key) + 1:].split(".")[0]) for k in form
                           if k.startswith(key + ".") and k[len(key) + 1:].split(".")[0]
                           .isdigit()})
            for i in rows:
                k = form.get(f"{key}.{i}.key", "").strip()
                v = form.get(f"{key}.{i}.value", "").strip()
                if k or v:
                    table[k] = v
            if table and table != default:
                out[name] = table
            continue
        text = form.get(key, "").strip()
        if not text:
            continue  # default (or "required field missing" from the parser)
        if widget == "number":
            value = _number(text)
        elif widget == "list":
            value = [p for p in _SPLIT.split(text) if p]
        elif widget == "json":
            try:
                value = json.loads(text)
            except ValueError:
                value = text  # the parser says what it expected
        else:
            value = text
        if isinstance(default, StrEnum):
            default = default.value
        if isinstance(default, tuple):
            default = list(default)
        if value != default:
            out[name] = value
    return out


def flow_from_form(form: Mapping[str, str], node_ids: Sequence[str],
                   stored: Mapping[str, Any] | None) -> dict[str, Any]:
    flow: dict[str, Any] = {"id": form.get("flow_id", "").strip()}
    name = form.get("flow_name", "").strip()
    if name:
        flow["name"] = name
    flow["entry"] = form.get("entry", "").strip()
    flow["nodes"] = {nid: node_from_form(nid, form.get(f"n.{nid}.kind", ""), form)
                     for nid in node_ids}
    for k in EXTRA_KEYS:
        if stored is not None and k in stored:
            flow[k] = stored[k]
    return flow


def new_node(kind: str) -> dict[str, Any]:
    """A node of `kind` with its required fields empty (the validator names them)."""
    return {"kind": kind}


def valid_node_id(nid: str) -> bool:
    return bool(NODE_ID_RE.fullmatch(nid))


# --- findings on the nodes -------------------------------------------------------------


def place_findings(node_cards: list[NodeCard], errors: Sequence[SiteError],
                   warnings: Sequence[SiteError], index: int
                   ) -> tuple[list[SiteError], list[SiteError]]:
    """Put each finding about flow `index` on its node and field; returns the rest
    (flow-level findings, and findings about other objects)."""
    by_id = {c.id: c for c in node_cards}
    rest: tuple[list[SiteError], list[SiteError]] = ([], [])
    for which, items in enumerate((errors, warnings)):
        for e in items:
            p = e.path
            if not (len(p) >= 2 and p[0] == "ivr_flows" and p[1] == index):
                rest[which].append(e)
                continue
            if len(p) >= 4 and p[2] == "nodes" and str(p[3]) in by_id:
                card = by_id[str(p[3])]
                fname = str(p[4]) if len(p) >= 5 else ""
                sub = "".join(f".{x}" for x in p[5:])
                text = f"{sub.lstrip('.')}: {e.message}" if sub else e.message
                target = next((f for f in card.fields if f.name == fname), None)
                if target is not None:
                    (target.errors if which == 0 else target.warnings).append(text)
                else:
                    msg = f"{fname}: {e.message}" if fname and fname != "node" else e.message
                    (card.errors if which == 0 else card.warnings).append(msg)
            else:
                rest[which].append(e)
    return rest


# --- the graph -----------------------------------------------------------------------------

BOX_W, BOX_H, GAP_X, GAP_Y = 150, 40, 70, 22


@dataclass
class GraphNode:
    id: str
    kind: str
    x: int
    y: int
    state: str  # ok | error | warn | entry


@dataclass
class GraphEdge:
    x1: int
    y1: int
    x2: int
    y2: int
    label: str
    missing: bool
    lx: int = 0  # where the label goes: edges leaving one node get their own rows
    ly: int = 0


def edges_of(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, target) of a node's branches, from its JSON (a broken node too)."""
    kind = raw.get("kind")
    out: list[tuple[str, str]] = []
    if kind not in NODE_TYPES:
        return out
    for name in NODE_TYPES[kind].branch_fields:
        t = raw.get(name)
        if isinstance(t, str) and t:
            out.append((name, t))
    for key in ("branches",):
        b = raw.get(key)
        if isinstance(b, dict):
            out += [(str(k), str(v)) for k, v in b.items()]
    rules = raw.get("rules")
    if isinstance(rules, list):
        out += [(f"rule {i + 1}", str(r.get("next"))) for i, r in enumerate(rules)
                if isinstance(r, dict) and r.get("next")]
    return out


def graph(flow: Mapping[str, Any], node_cards: Sequence[NodeCard]
          ) -> tuple[list[GraphNode], list[GraphEdge], int, int]:
    """Layers by distance from the entry (unreachable nodes in a last column)."""
    nodes = flow.get("nodes") if isinstance(flow.get("nodes"), dict) else {}
    assert isinstance(nodes, dict)
    entry = str(flow.get("entry", ""))
    depth: dict[str, int] = {}
    if entry in nodes:
        depth[entry] = 0
        queue = [entry]
        while queue:
            nid = queue.pop(0)
            for _, t in edges_of(nodes[nid] if isinstance(nodes[nid], dict) else {}):
                if t in nodes and t not in depth:
                    depth[t] = depth[nid] + 1
                    queue.append(t)
    last = max(depth.values(), default=-1) + 1
    columns: dict[int, list[str]] = {}
    for nid in nodes:
        columns.setdefault(depth.get(nid, last), []).append(nid)
    state = {c.id: "error" if c.has_errors else "warn" if c.has_warnings else "ok"
             for c in node_cards}
    pos: dict[str, tuple[int, int]] = {}
    gnodes = []
    for col, ids in sorted(columns.items()):
        for row, nid in enumerate(ids):
            x, y = 10 + col * (BOX_W + GAP_X), 10 + row * (BOX_H + GAP_Y)
            pos[nid] = (x, y)
            raw = nodes[nid] if isinstance(nodes[nid], dict) else {}
            s = state.get(nid, "ok")
            gnodes.append(GraphNode(nid, str(raw.get("kind", "?")), x, y,
                                    "entry" if nid == entry and s == "ok" else s))
    gedges = []
    for nid, raw in nodes.items():
        x, y = pos[nid]
        for i, (label, t) in enumerate(edges_of(raw if isinstance(raw, dict) else {})):
            if t in pos:
                tx, ty = pos[t]
                e = GraphEdge(x + BOX_W, y + BOX_H // 2, tx, ty + BOX_H // 2, label, False)
            else:
                e = GraphEdge(x + BOX_W, y + BOX_H // 2, x + BOX_W + GAP_X - 10,
                              y + BOX_H // 2, f"{label} → {t}?", True)
            e.lx, e.ly = x + BOX_W + 4, y + 9 + 10 * i
            gedges.append(e)
    width = 20 + (max(columns, default=0) + 1) * (BOX_W + GAP_X)
    height = 20 + max((len(v) for v in columns.values()), default=1) * (BOX_H + GAP_Y)
    return gnodes, gedges, width, height
