"""JSON -> Flow, collecting every structural error (missing, mistyped, unknown fields).

Node fields are read generically from the dataclass type hints in flow.py, so adding a
field to a node is one line there. Unknown fields are errors, not ignored: a typo such
as "timout" would otherwise silently leave the default in force on a live hotline.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import MISSING, fields
from enum import StrEnum
from typing import Any, Union, get_args, get_origin, get_type_hints

from firmware.ivr.errors import Findings
from firmware.ivr.flow import NODE_TYPES, SCHEMA, CallerRule, Flow, Node
from firmware.ivr.timerules import HolidayCalendar, WeeklySchedule, parse_calendar, parse_schedule

NODE_ID_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,63}")
_FLOW_FIELDS = {"schema", "id", "version", "name", "entry", "nodes", "schedules", "calendars",
                "lists", "max_steps"}


class _Bad:
    """Marker for a value that failed to parse (its error is already recorded)."""


_BAD = _Bad()


def _type_name(hint: Any) -> str:
    if hint is str:
        return "a string"
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is bool:
        return "true or false"
    return str(hint)


def _coerce(value: object, hint: Any, node: str | None, path: str, found: Findings) -> object:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):  # only "X | None" occurs in the model
        if value is None:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(value, inner, node, path, found)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif isinstance(hint, type) and issubclass(hint, StrEnum):
        if value in {m.value for m in hint}:
            return hint(value)
        found.error(node, path, f"expected one of {', '.join(m.value for m in hint)}")
        return _BAD
    elif origin is tuple and args[0] is str:
        # A single prompt may be written as a string; stored as a one-element tuple.
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        found.error(node, path, "expected a string or a list of strings")
        return _BAD
    elif origin is tuple and args[0] is CallerRule:
        if not isinstance(value, list):
            found.error(node, path, "expected a list of rules")
            return _BAD
        rules = [_parse_record(CallerRule, v, node, f"{path}.{i}", found, {})
                 for i, v in enumerate(value)]
        return _BAD if any(isinstance(r, _Bad) for r in rules) else tuple(rules)
    elif origin is Mapping:
        if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
            return dict(value)
        found.error(node, path, "expected an object of strings")
        return _BAD
    found.error(node, path, f"expected {_type_name(hint)}, got {type(value).__name__}")
    return _BAD


def _parse_record(cls: type[Any], raw: object, node: str | None, prefix: str,
                  found: Findings, extra: Mapping[str, object]) -> object:
    """Build a dataclass from a JSON object, or _BAD after recording the errors."""
    if not isinstance(raw, dict):
        found.error(node, prefix or "node", "expected an object")
        return _BAD
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    kwargs: dict[str, object] = dict(extra)
    ok = True
    dot = f"{prefix}." if prefix else ""
    for key in raw:
        if (key not in names or key in extra) and key != "kind":
            found.error(node, f"{dot}{key}", "unknown field")
            ok = False
    for f in fields(cls):
        if f.name in extra:
            continue
        if f.name not in raw:
            if f.default is MISSING and f.default_factory is MISSING:
                found.error(node, f"{dot}{f.name}", "required field missing")
                ok = False
            continue
        value = _coerce(raw[f.name], hints[f.name], node, f"{dot}{f.name}", found)
        if isinstance(value, _Bad):
            ok = False
        else:
            kwargs[f.name] = value
    return cls(**kwargs) if ok else _BAD


def parse_node(nid: str, raw: object, found: Findings) -> Node | None:
    if not isinstance(raw, dict):
        found.error(nid, "node", "expected an object")
        return None
    kind = raw.get("kind")
    cls = NODE_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        found.error(nid, "kind", f"expected one of {', '.join(NODE_TYPES)}, got {kind!r}")
        return None
    node = _parse_record(cls, raw, nid, "", found, {"id": nid})
    return None if isinstance(node, _Bad) else node  # type: ignore[return-value]


def _parse_int(data: Mapping[str, object], key: str, default: int | None,
               found: Findings) -> int:
    value = data.get(key, default)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    found.error(None, key, "required integer missing" if value is None else "expected an integer")
    return default or 0


def _parse_str(data: Mapping[str, object], key: str, default: str | None,
               found: Findings) -> str:
    value = data.get(key, default)
    if isinstance(value, str):
        return value
    found.error(None, key, "required string missing" if value is None else "expected a string")
    return default or ""


def parse_flow(data: object, found: Findings) -> tuple[Flow | None, frozenset[str]]:
    """Returns the flow (with the nodes that parsed) and the ids of nodes that did not.

    Broken nodes keep their id so that branches to them are not also reported as
    dangling: one mistake, one error.
    """
    if not isinstance(data, dict):
        found.error(None, "flow", "expected a JSON object")
        return None, frozenset()
    for key in data:
        if key not in _FLOW_FIELDS:
            found.error(None, key, "unknown field")
    schema = _parse_int(data, "schema", SCHEMA, found)
    if schema != SCHEMA:
        found.error(None, "schema", f"unsupported schema {schema} (this box reads {SCHEMA})")
    flow_id = _parse_str(data, "id", None, found)
    if flow_id and not NODE_ID_RE.fullmatch(flow_id):
        found.error(None, "id", "use letters, digits, '_' and '-' (up to 64)")
    version = _parse_int(data, "version", None, found)
    if version < 1:
        found.error(None, "version", "must be 1 or more")
    name = _parse_str(data, "name", "", found)
    entry = _parse_str(data, "entry", None, found)
    max_steps = _parse_int(data, "max_steps", 200, found)
    if not 10 <= max_steps <= 10_000:
        found.error(None, "max_steps", "must be between 10 and 10000")

    nodes: dict[str, Node] = {}
    broken: set[str] = set()
    raw_nodes = data.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        found.error(None, "nodes", "required: an object of node id -> node")
        raw_nodes = {}
    for nid, raw in raw_nodes.items():
        if not NODE_ID_RE.fullmatch(nid):
            found.error(nid, "id", "use letters, digits, '_' and '-' (up to 64)")
        node = parse_node(nid, raw, found)
        if node is None:
            broken.add(nid)
        else:
            nodes[nid] = node

    schedules: dict[str, WeeklySchedule] = {}
    for key, raw in _section(data, "schedules", found).items():
        sched = parse_schedule(raw, f"schedules.{key}", found)
        if sched is not None:
            schedules[key] = sched
    calendars: dict[str, HolidayCalendar] = {}
    for key, raw in _section(data, "calendars", found).items():
        cal = parse_calendar(raw, f"calendars.{key}", found)
        if cal is not None:
            calendars[key] = cal
    lists: dict[str, tuple[str, ...]] = {}
    for key, raw in _section(data, "lists", found).items():
        if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
            lists[key] = tuple(raw)
        else:
            found.error(None, f"lists.{key}", "expected a list of numbers")

    flow = Flow(id=flow_id, version=version, name=name, entry=entry, nodes=nodes,
                schedules=schedules, calendars=calendars, lists=lists, max_steps=max_steps,
                schema=schema)
    return flow, frozenset(broken)


def _section(data: Mapping[str, object], key: str, found: Findings) -> dict[str, object]:
    raw = data.get(key, {})
    if isinstance(raw, dict):
        return raw
    found.error(None, key, "expected an object")
    return {}
