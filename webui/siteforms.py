"""Web forms for objects of the site document, made from its schema (decision 0014: the
YAML file, the tables and the forms are three renderings of `siteconfig/schema.py`).

`fields(obj, item)` says what to draw for each field; `parse(obj, forms)` turns the
posted form back into a raw object that the site validator judges exactly as it would
judge the same object in a site.yaml. Numbers that do not parse are passed on as text,
so the validator's message ("expected a number, got 'abc'") reaches the field.

Form names: `FIELD` for a scalar, `FIELD.ROW.COLUMN` for a list of objects and for a
mapping (columns `key` and `value`), so a validator path such as
`queues[2].members[1].agent` lands on the input `members.1.agent`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from firmware.siteconfig.errors import SiteError
from firmware.siteconfig.types import (
    REQUIRED,
    Bool,
    Enum,
    FieldType,
    Float,
    Int,
    ListOf,
    MapOf,
    Nullable,
    Obj,
)
from firmware.siteconfig.types import Field as SchemaField

SPARE_ROWS = 2  # empty rows under a table, to add entries without JavaScript
_SPLIT = re.compile(r"[\s,，、;；]+")
_INT = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)")


@dataclass
class FormField:
    name: str  # form input name
    label: str  # msgid
    hint: str  # msgid (the schema's doc)
    widget: str  # text | number | checkbox | select | list | rows
    value: Any = ""  # text for inputs; list of row dicts for rows
    choices: tuple[str, ...] = ()
    required: bool = False
    columns: list[FormField] = field(default_factory=list)  # rows: one per column
    errors: list[str] = field(default_factory=list)


def _inner(t: FieldType) -> FieldType:
    return t.inner if isinstance(t, Nullable) else t


def _scalar_widget(t: FieldType) -> str:
    t = _inner(t)
    if isinstance(t, Bool):
        return "checkbox"
    if isinstance(t, Enum):
        return "select"
    if isinstance(t, Int | Float):
        return "number"
    if isinstance(t, ListOf):
        return "list"
    return "text"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _columns(t: FieldType, name: str) -> list[FormField] | None:
    """The columns of a table field (list of objects, or mapping), else None."""
    t = _inner(t)
    if isinstance(t, ListOf) and isinstance(t.item, Obj):
        return [FormField(f"{name}.{{row}}.{f.name}", label_of(f.name), f.doc,
                          _scalar_widget(f.type),
                          choices=_choices(f.type), required=f.default is REQUIRED)
                for f in t.item.fields]
    if isinstance(t, MapOf):
        key_label, value_label = MAP_COLUMNS.get(name, ("Key", "Value"))
        return [FormField(f"{name}.{{row}}.key", key_label, "", "text", required=True),
                FormField(f"{name}.{{row}}.value", value_label, "",
                          _scalar_widget(t.value), choices=_choices(t.value))]
    return None


def _choices(t: FieldType) -> tuple[str, ...]:
    t = _inner(t)
    return t.values if isinstance(t, Enum) else ()


def _rows(t: FieldType, value: Any) -> list[dict[str, str]]:
    t = _inner(t)
    rows: list[dict[str, str]] = []
    if isinstance(t, MapOf) and isinstance(value, Mapping):
        rows = [{"key": str(k), "value": _text(v)} for k, v in value.items()]
    elif isinstance(t, ListOf) and isinstance(t.item, Obj) and isinstance(value, list):
        for v in value:
            if isinstance(v, Mapping):
                rows.append({k: _text(x) if not isinstance(x, bool) else ("1" if x else "")
                             for k, x in v.items()})
            elif t.item.shorthand is not None:
                rows.append({t.item.shorthand: _text(v)})
    return rows


def fields(obj: Obj, item: Mapping[str, Any] | None, errors: Mapping[str, list[str]]
           | None = None, skip: Sequence[str] = ()) -> list[FormField]:
    """What to draw for each field of `obj`, filled from `item` (a canonical or a
    just-posted raw object), with the messages of `errors` (field name -> messages)."""
    out = []
    for f in obj.fields:
        if f.name in skip or f.secret:
            continue
        has = item is not None and f.name in item
        value = item.get(f.name) if item is not None and has else (
            None if f.default is REQUIRED else f.default)
        cols = _columns(f.type, f.name)
        ff = FormField(f.name, label_of(f.name), f.doc, "rows" if cols else
                       _scalar_widget(f.type), choices=_choices(f.type),
                       required=f.default is REQUIRED,
                       errors=list((errors or {}).get(f.name, [])))
        if cols is not None:
            ff.columns = cols
            rows = _rows(f.type, value)
            ff.value = rows + [{} for _ in range(SPARE_ROWS)]
        elif ff.widget == "checkbox":
            ff.value = bool(value)
        else:
            ff.value = _text(value)
        out.append(ff)
    return out


# --- form -> raw object ----------------------------------------------------------------


def _scalar(t: FieldType, text: str | None, default: Any) -> Any:
    """The raw value of a posted scalar. None means "leave the field out"."""
    nullable = isinstance(t, Nullable)
    inner = _inner(t)
    if isinstance(inner, Bool):
        return text == "1"
    text = (text or "").strip()
    if isinstance(inner, ListOf):
        return [p for p in _SPLIT.split(text) if p]
    if not text:
        if nullable:
            return None
        if default is REQUIRED and not isinstance(inner, Int | Float):
            return ""  # "must not be empty" from the validator
        return _OMIT
    if isinstance(inner, Int) and _INT.fullmatch(text):
        return int(text)
    if isinstance(inner, Float) and _FLOAT.fullmatch(text):
        v = float(text)
        return int(v) if v.is_integer() else v
    return text


class _Omit:
    pass


_OMIT: Any = _Omit()


def _row_indexes(forms: Mapping[str, str], name: str) -> list[int]:
    prefix = name + "."
    found = set()
    for key in forms:
        if key.startswith(prefix):
            part = key[len(prefix):].split(".", 1)[0]
            if part.isdigit():
                found.add(int(part))
    return sorted(found)


def _parse_table(f: SchemaField, forms: Mapping[str, str]) -> Any:
    t = _inner(f.type)
    rows = []
    for i in _row_indexes(forms, f.name):
        cells = {k.rsplit(".", 1)[1]: v for k, v in forms.items()
                 if k.startswith(f"{f.name}.{i}.")}
        if not any(str(v).strip() for k, v in cells.items()):
            continue  # a spare row left empty
        rows.append(cells)
    if isinstance(t, MapOf):
        out: dict[str, Any] = {}
        for cells in rows:
            value = _scalar(t.value, cells.get("value"), REQUIRED)
            out[cells.get("key", "").strip()] = None if value is _OMIT else value
        return out
    assert isinstance(t, ListOf) and isinstance(t.item, Obj)
    items = []
    for cells in rows:
        obj: dict[str, Any] = {}
        for sub in t.item.fields:
            if isinstance(_inner(sub.type), Bool):
                obj[sub.name] = cells.get(sub.name) == "1"
                continue
            if sub.name not in cells:
                continue
            v = _scalar(sub.type, cells[sub.name], sub.default)
            if v is not _OMIT:
                obj[sub.name] = v
        items.append(obj)
    return items


def parse(obj: Obj, forms: Mapping[str, str], skip: Sequence[str] = ()) -> dict[str, Any]:
    """The raw object a posted form describes (checkboxes: absent means false)."""
    out: dict[str, Any] = {}
    for f in obj.fields:
        if f.name in skip or f.secret:
            continue
        if _columns(f.type, f.name) is not None:
            value = _parse_table(f, forms)
            if value or f.default is REQUIRED or _row_indexes(forms, f.name):
                out[f.name] = value
            continue
        v = _scalar(f.type, forms.get(f.name), f.default)
        if v is not _OMIT:
            out[f.name] = v
    return out


# --- validator findings -> fields ---------------------------------------------------------


def sort_errors(errors: Sequence[SiteError], section: str, index: int
                ) -> tuple[dict[str, list[str]], list[SiteError]]:
    """Findings on object `section[index]` by field (with the row and column for
    tables); the others (another object, the document) for the top of the page."""
    by_field: dict[str, list[str]] = {}
    other: list[SiteError] = []
    for e in errors:
        p = e.path
        if len(p) >= 3 and p[0] == section and p[1] == index and isinstance(p[2], str):
            rest = " ".join(f"#{x + 1}" if isinstance(x, int) else str(x) for x in p[3:])
            by_field.setdefault(p[2], []).append(f"{rest}: {e.message}" if rest else e.message)
        else:
            other.append(e)
    return by_field, other


# --- labels --------------------------------------------------------------------------------

# Field name -> label msgid (translated by the catalogs). Every field of every admin
# form is here; tests/unit/test_webui_admin.py checks the catalogs hold them and the docs.
LABELS: dict[str, str] = {
    "number": "Number", "name": "Name", "kind": "Kind", "port": "Port",
    "description": "Description", "enabled": "Enabled", "trunk": "Trunk",
    "target": "Target", "time_rules": "Time rules", "calendar": "Holiday calendar",
    "holiday": "On holidays", "priority": "Priority", "schedule": "Schedule",
    "agent": "Agent", "penalty": "Penalty", "weight": "Weight", "after": "After (s)",
    "max_penalty": "Max penalty", "min_level": "Min level", "strategy": "Strategy",
    "members": "Members", "supervisors": "Supervisors", "skills": "Skills",
    "ring_timeout": "Ring timeout (s)", "retry": "Retry pause (s)", "wrap_up": "Wrap-up (s)",
    "ring_in_use": "Ring agents in use", "max_wait": "Max wait (s)",
    "timeout_target": "After max wait", "empty_target": "When nobody is logged in",
    "moh_class": "Music on hold", "announce_frequency": "Announce every (s)",
    "announce_position": "Announce position", "announce_ewt": "Announce estimated wait",
    "announce_on_join": "Announce on joining", "periodic_prompt": "Periodic prompt",
    "periodic_frequency": "Periodic prompt every (s)", "callback_key": "Callback key",
    "exit_keys": "Exit keys", "skill_steps": "Skill steps",
    "default_aht": "Default handle time (s)", "aht_window": "Handle time window (calls)",
    "smart_routing": "Smart routing", "outbound_trace": "Outbound trace", "id": "ID",
    "login": "Logged in at", "tz": "Time zone", "week": "Week",
    "makeup_as": "Make-up days as", "note": "Note", "holidays": "Holidays",
    "workdays": "Make-up working days (调休)", "date": "Date", "numbers": "Numbers",
    "treatment": "Treatment", "cause": "Cause", "prompt": "Prompt", "flow": "Flow",
    "expires": "Expires", "calls": "Calls", "minutes": "Minutes", "days": "Days",
    "dids": "DIDs", "exempt": "Exempt list", "text": "Text", "key": "Key", "value": "Value",
    "not_ready_reasons": "Not-ready reasons", "max_missed_offers": "Max missed offers",
    "ready_on_login": "Ready on login", "served_memory_days": "Smart routing memory (days)",
    "outbound_memory_days": "Outbound trace memory (days)",
}


# The two columns of a mapping field (msgids).
MAP_COLUMNS: dict[str, tuple[str, str]] = {
    "skills": ("Skill", "Level"), "week": ("Days", "Hours"),
    "exit_keys": ("Key", "Destination"),
}


def label_of(name: str) -> str:
    return LABELS.get(name, name)
