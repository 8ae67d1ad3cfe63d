"""site.yaml in and out: a YAML loader that keeps line numbers and phone numbers as typed.

PyYAML's default (YAML 1.1) rules are a trap for a telephony file: `0571` is octal 377,
`yes`/`no`/`on`/`off` are booleans, `2025-10-01` becomes a date object. This loader
reads booleans only as true/false, leaves dates as text, and keeps the text of every
integer next to its value (`RawInt.raw`), so a number field gets "0571" back exactly as
the installer typed it. The node tree gives each value's line, so errors can name it;
duplicate keys, which PyYAML silently resolves to the last one, are errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from firmware.siteconfig.errors import DocPath, SiteError

Marks = dict[tuple[str, ...], int]

_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class RawInt(int):
    """An integer from the file that remembers how it was written ("0571", "96777")."""

    raw: str

    def __new__(cls, value: int, raw: str) -> RawInt:
        obj = super().__new__(cls, value)
        obj.raw = raw
        return obj


class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_int(loader: SafeConstructor, node: ScalarNode) -> RawInt:
    value = SafeConstructor.construct_yaml_int(loader, node)
    return RawInt(int(value), str(node.value))


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)  # type: ignore[type-var]


class YamlError(ValueError):
    def __init__(self, errors: list[SiteError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def load(text: str, filename: str = "") -> tuple[Any, Marks]:
    """(data, marks) where marks maps a path (all parts as text) to its 1-based line.

    Raises YamlError for syntax errors and duplicate keys, with their lines."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = e.problem or e.context or "syntax error"
        raise YamlError([SiteError((), f"YAML syntax: {problem}", line=line,
                                   file=filename)]) from None
    except yaml.YAMLError as e:
        raise YamlError([SiteError((), f"YAML: {e}", file=filename)]) from None
    marks: Marks = {}
    dups: list[SiteError] = []
    if node is not None:
        _walk(node, (), marks, dups, filename)
    if dups:
        raise YamlError(dups)
    return data, marks


def _walk(node: Node, path: tuple[str, ...], marks: Marks, dups: list[SiteError],
          filename: str) -> None:
    marks.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            sub = (*path, name)
            if name in seen:
                typed = tuple(int(p) if p.isdigit() else p for p in sub)
                dups.append(SiteError(typed, "duplicate key (YAML keeps only "
                                      "the last one; remove the other)",
                                      line=key.start_mark.line + 1, file=filename))
                continue
            seen.add(name)
            marks[sub] = key.start_mark.line + 1
            _walk(value, sub, marks, dups, filename)
            marks[sub] = key.start_mark.line + 1  # the key's line, not the value's
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, str(i)), marks, dups, filename)


def line_of(marks: Mapping[tuple[str, ...], int], path: DocPath) -> int | None:
    """The line of `path`, or of the nearest enclosing value the file has."""
    parts = tuple(str(p) for p in path)
    while True:
        if parts in marks:
            return marks[parts]
        if not parts:
            return None
        parts = parts[:-1]


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # list items indented under their key, as people write YAML by hand
        super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(data: Any) -> str:
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=1000, indent=2)
    return str(text)
