"""Findings about a site configuration: each names the object, the field and, when the
configuration came from a file, the line.

An installer fixing a 600-line site.yaml needs "site.yaml:212: queues[3] (queue
'repair') ring_timeout: must be more than 0", not "invalid configuration". So every
check appends a finding with the path of the value it is about, and the whole document
is checked before anything is reported or applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# A path into the document: section name, list index, field, nested keys ...
DocPath = tuple[str | int, ...]


def format_path(path: DocPath) -> str:
    """("queues", 3, "members", 0, "agent") -> "queues[3].members[0].agent"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(document)"


@dataclass(frozen=True)
class SiteError:
    path: DocPath
    message: str
    label: str = ""  # the object in words: "queue 'repair'"
    line: int | None = None  # 1-based line in the file, when there is one
    file: str = ""

    def where(self) -> str:
        text = format_path(self.path)
        return f"{text} ({self.label})" if self.label else text

    def __str__(self) -> str:
        prefix = ""
        if self.line is not None:
            prefix = f"{self.file or 'line'}:{self.line}: " if self.file else f"line {self.line}: "
        return f"{prefix}{self.where()}: {self.message}"

    def as_dict(self) -> dict[str, object]:
        """For the web UI (JSON): the form field to highlight and the message."""
        return {"path": list(self.path), "where": self.where(), "message": self.message,
                "line": self.line}


@dataclass
class Findings:
    errors: list[SiteError] = field(default_factory=list)
    warnings: list[SiteError] = field(default_factory=list)

    def error(self, path: DocPath, message: str, label: str = "") -> None:
        self.errors.append(SiteError(path, message, label))

    def warn(self, path: DocPath, message: str, label: str = "") -> None:
        self.warnings.append(SiteError(path, message, label))


class SiteInvalid(ValueError):
    """The configuration must not be applied; `errors` says every reason."""

    def __init__(self, errors: Sequence[SiteError],
                 warnings: Sequence[SiteError] = ()) -> None:
        self.errors = tuple(errors)
        self.warnings = tuple(warnings)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"site configuration is invalid ({len(self.errors)} "
                         f"error{'s' if len(self.errors) != 1 else ''}):\n{lines}")
