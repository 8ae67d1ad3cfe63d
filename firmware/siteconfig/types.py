"""Field types of the site document: each checks one value and returns its canonical
form, or records a finding at the value's path.

The same types serve the YAML import, the database (its rows are turned into the same
document) and the web UI's forms, so a value is judged the same way wherever it was
typed. Canonical values are plain YAML/JSON values (str, int, float, bool, None,
lists, dicts): the document is what `ccbox config export` prints.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from firmware.siteconfig.errors import DocPath, Findings
from firmware.siteconfig.yamlio import RawInt


class _Bad:
    def __repr__(self) -> str:
        return "BAD"


BAD: Any = _Bad()  # a value that did not check (its finding is already recorded)


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class FieldType:
    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


def _got(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return f"{value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


@dataclass(frozen=True)
class Str(FieldType):
    pattern: str | None = None
    hint: str = ""
    allow_empty: bool = False
    max_len: int = 200
    what: str = ""  # short name of the type, for the documentation

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if isinstance(value, RawInt):
            value = value.raw  # a name like 8001 typed without quotes
        if not isinstance(value, str):
            found.error(path, f"expected text, got {_got(value)}", label)
            return BAD
        if not value.strip() and not self.allow_empty:
            found.error(path, "must not be empty", label)
            return BAD
        if len(value) > self.max_len:
            found.error(path, f"too long ({len(value)} characters, at most {self.max_len})",
                        label)
            return BAD
        if self.pattern is not None and value and not re.fullmatch(self.pattern, value):
            found.error(path, f"{value!r} is not valid ({self.hint or self.pattern})", label)
            return BAD
        return value

    def describe(self) -> str:
        if self.what:
            return self.what
        return f"text ({self.hint})" if self.hint else "text"


NAME = Str(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}",
           "letters, digits, '_', '-', '.', up to 64, no spaces", what="name")


@dataclass(frozen=True)
class Number(FieldType):
    """A dialled or calling number, kept as text. Unquoted YAML integers are taken as
    typed (the loader keeps their text), so 0571 stays 0571."""

    prefix: bool = False  # allow a trailing '*': a prefix ("0571*")
    min_len: int = 1
    max_len: int = 32

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if isinstance(value, RawInt):
            value = value.raw
        elif isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            found.error(path, f"expected a number as text, got {_got(value)}", label)
            return BAD
        text = value.strip()
        body = text[:-1] if self.prefix and text.endswith("*") else text
        if not re.fullmatch(r"\+?[0-9*#]+", body or "x") or not (
                self.min_len <= len(body) <= self.max_len):
            what = "a number or a prefix ending in '*'" if self.prefix else "a number"
            found.error(path, f"{value!r} is not {what} ({self.min_len}-{self.max_len} "
                        "digits, * or #)", label)
            return BAD
        return text

    def describe(self) -> str:
        return "number or prefix* (text)" if self.prefix else "number (text)"


@dataclass(frozen=True)
class Int(FieldType):
    min: int | None = None
    max: int | None = None

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            found.error(path, f"expected a whole number, got {_got(value)}", label)
            return BAD
        v = int(value)
        if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
            found.error(path, f"{v} is out of range ({self.range_text()})", label)
            return BAD
        return v

    def range_text(self) -> str:
        if self.min is not None and self.max is not None:
            return f"{self.min}..{self.max}"
        if self.min is not None:
            return f">= {self.min}"
        return f"<= {self.max}"

    def describe(self) -> str:
        return "whole number" + (f", {self.range_text()}" if (self.min, self.max) != (None,
                                                                                     None) else "")


@dataclass(frozen=True)
class Float(FieldType):
    min: float | None = None
    max: float | None = None
    positive: bool = False  # strictly more than 0

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            found.error(path, f"expected a number, got {_got(value)}", label)
            return BAD
        v = float(value)
        if self.positive and v <= 0:
            found.error(path, f"must be more than 0 (got {v:g})", label)
            return BAD
        if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
            lo = "" if self.min is None else f"{self.min:g}"
            hi = "" if self.max is None else f"{self.max:g}"
            found.error(path, f"{v:g} is out of range ({lo}..{hi})", label)
            return BAD
        # whole numbers stay ints in the document, so `15` exports as 15, not 15.0
        return int(v) if v.is_integer() else v

    def describe(self) -> str:
        return "seconds" if self.min == 0 or self.positive else "number"


@dataclass(frozen=True)
class Bool(FieldType):
    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if not isinstance(value, bool):
            found.error(path, f"expected true or false, got {_got(value)}", label)
            return BAD
        return value

    def describe(self) -> str:
        return "true/false"


@dataclass(frozen=True)
class Enum(FieldType):
    values: tuple[str, ...]

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if not isinstance(value, str) or value not in self.values:
            found.error(path, f"expected one of {', '.join(self.values)}, got {_got(value)}",
                        label)
            return BAD
        return value

    def describe(self) -> str:
        return " / ".join(f"`{v}`" for v in self.values)


@dataclass(frozen=True)
class Nullable(FieldType):
    inner: FieldType

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if value is None:
            return None
        return self.inner.check(value, path, found, label)

    def describe(self) -> str:
        return f"{self.inner.describe()}, or null"


@dataclass(frozen=True)
class ListOf(FieldType):
    item: FieldType
    unique: bool = False

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if not isinstance(value, list):
            found.error(path, f"expected a list, got {_got(value)}", label)
            return BAD
        out = [self.item.check(v, (*path, i), found, label) for i, v in enumerate(value)]
        if any(v is BAD for v in out):
            return BAD
        if self.unique:
            seen: set[str] = set()
            for i, v in enumerate(out):
                if repr(v) in seen:
                    found.error((*path, i), f"{v!r} is listed twice", label)
                    return BAD
                seen.add(repr(v))
        return out

    def describe(self) -> str:
        return f"list of {self.item.describe()}"


@dataclass(frozen=True)
class MapOf(FieldType):
    key: FieldType
    value: FieldType

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if not isinstance(value, dict):
            found.error(path, f"expected a mapping, got {_got(value)}", label)
            return BAD
        out: dict[str, Any] = {}
        ok = True
        for k, v in value.items():
            key = self.key.check(k, (*path, str(k)), found, label)
            val = self.value.check(v, (*path, str(k)), found, label)
            if key is BAD or val is BAD:
                ok = False
            else:
                out[key] = val
        return out if ok else BAD

    def describe(self) -> str:
        return f"mapping of {self.key.describe()} -> {self.value.describe()}"


@dataclass(frozen=True)
class DateTime(FieldType):
    """An instant with its UTC offset: '2027-01-01T00:00:00+08:00'."""

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if isinstance(value, str):
            try:
                when = datetime.fromisoformat(value)
            except ValueError:
                when = None
            if when is not None and when.tzinfo is not None:
                return when.isoformat(timespec="seconds")
        found.error(path, f"expected a date and time with its offset, such as "
                    f"'2027-01-01T00:00:00+08:00', got {_got(value)}", label)
        return BAD

    def describe(self) -> str:
        return "date-time with offset (ISO 8601)"


@dataclass(frozen=True)
class Target(FieldType):
    """Where a call goes, as 'kind:value' ('queue:repair', 'flow:gas_hotline_96777') or
    a bare kind that needs no value ('hangup', 'callback')."""

    kinds: Mapping[str, bool]  # kind -> needs a value

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if isinstance(value, str):
            kind, sep, rest = value.partition(":")
            kind, rest = kind.strip(), rest.strip()
            needs = self.kinds.get(kind)
            if needs is not None and (bool(rest) == needs) and (sep != "" or not needs):
                return f"{kind}:{rest}" if needs else kind
        forms = ", ".join(f"'{k}:...'" if n else f"'{k}'" for k, n in self.kinds.items())
        found.error(path, f"expected a target ({forms}), got {_got(value)}", label)
        return BAD

    def describe(self) -> str:
        return "target: " + " / ".join(f"`{k}:…`" if n else f"`{k}`"
                                         for k, n in self.kinds.items())


@dataclass(frozen=True)
class AnyMapping(FieldType):
    """Checked elsewhere (an IVR flow is validated by the IVR's own parser)."""

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if not isinstance(value, dict):
            found.error(path, f"expected a mapping, got {_got(value)}", label)
            return BAD
        return _plain(value)

    def describe(self) -> str:
        return "mapping"


def _plain(value: Any) -> Any:
    """Loader types (RawInt) back to plain ones, for JSON storage."""
    if isinstance(value, RawInt):
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- objects -----------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    default: Any = REQUIRED
    doc: str = ""
    secret: bool = False  # left out of exports unless asked for


@dataclass(frozen=True)
class Obj(FieldType):
    """A mapping with known fields. Unknown fields are errors: a typo such as
    `ring_timout` must not silently leave the default in force on a live hotline."""

    kind: str  # "queue": used in labels
    fields: tuple[Field, ...]
    key: str | None = None  # the field that names the object (for labels)
    shorthand: str | None = None  # a bare scalar means {shorthand: value}
    extra: Callable[[dict[str, Any], DocPath, Findings, str], None] | None = None
    doc: str = ""
    by_name: dict[str, Field] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        self.by_name.update({f.name: f for f in self.fields})

    def label_of(self, value: object) -> str:
        if self.key is not None and isinstance(value, dict):
            name = value.get(self.key)
            if isinstance(name, RawInt):
                name = name.raw
            if isinstance(name, str | int) and not isinstance(name, bool):
                return f"{self.kind} {str(name)!r}"
        return ""

    def check(self, value: object, path: DocPath, found: Findings, label: str) -> Any:
        if self.shorthand is not None and not isinstance(value, dict | list):
            value = {self.shorthand: value}
        if not isinstance(value, dict):
            found.error(path, f"expected a mapping (a {self.kind}), got {_got(value)}", label)
            return BAD
        label = self.label_of(value) or label
        ok = True
        for key in value:
            if str(key) not in self.by_name:
                close = difflib.get_close_matches(str(key), list(self.by_name), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                found.error((*path, str(key)), f"unknown field{hint}", label)
                ok = False
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.name not in value:
                if f.default is REQUIRED:
                    found.error((*path, f.name), "required field missing", label)
                    ok = False
                else:
                    out[f.name] = _copy(f.default)
                continue
            v = f.type.check(value[f.name], (*path, f.name), found, label)
            if v is BAD:
                ok = False
            else:
                out[f.name] = v
        if ok and self.extra is not None:
            before = len(found.errors)
            self.extra(out, path, found, label)
            ok = len(found.errors) == before
        return out if ok else BAD

    def describe(self) -> str:
        return self.kind

    def export_item(self, value: Mapping[str, Any], *, secrets: bool) -> Any:
        """As strip_defaults, but an object left with only its shorthand field is
        written as that value ("- '8001'" rather than "- agent: '8001'")."""
        out = self.strip_defaults(value, secrets=secrets)
        if self.shorthand is not None and list(out) == [self.shorthand]:
            return out[self.shorthand]
        return out

    def strip_defaults(self, value: Mapping[str, Any], *, secrets: bool) -> dict[str, Any]:
        """The export form: fields at their default left out (the file stays readable)."""
        out: dict[str, Any] = {}
        for f in self.fields:
            if f.name not in value or (f.secret and not secrets):
                continue
            v = value[f.name]
            if f.default is not REQUIRED and v == f.default:
                continue
            if isinstance(f.type, ListOf) and isinstance(f.type.item, Obj):
                v = [f.type.item.export_item(x, secrets=secrets) for x in v]
            elif isinstance(f.type, Obj):
                v = f.type.strip_defaults(v, secrets=secrets)
            out[f.name] = v
        return out


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def unique_keys(items: Sequence[Mapping[str, Any]], key: str, path: DocPath,
                found: Findings, kind: str) -> None:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        if item.get(key) is None:
            continue  # missing: reported as such
        name = str(item.get(key))
        if name in seen:
            found.error((*path, i, key), f"duplicate {kind} {name!r} (also at "
                        f"{path[-1]}[{seen[name]}])", f"{kind} {name!r}")
        else:
            seen[name] = i
