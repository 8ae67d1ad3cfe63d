"""Validation findings: every one names the node and the field it is about.

An admin edits flows in the web UI; "the flow is invalid" is useless to them, "node
menu1, field branches.3: points to missing node 'sales'" is what lets them fix it. So
the parser and the validator collect every finding instead of stopping at the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FlowError:
    """One finding. `node` is None for flow-level fields (entry, schedules, ...)."""

    node: str | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.field if self.node is None else f"node {self.node!r} {self.field}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Report:
    """Errors block activation; warnings are shown to the admin but do not."""

    errors: tuple[FlowError, ...] = ()
    warnings: tuple[FlowError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Findings:
    """Mutable collector threaded through the parser and the checks."""

    errors: list[FlowError] = field(default_factory=list)
    warnings: list[FlowError] = field(default_factory=list)

    def error(self, node: str | None, field_: str, message: str) -> None:
        self.errors.append(FlowError(node, field_, message))

    def warn(self, node: str | None, field_: str, message: str) -> None:
        self.warnings.append(FlowError(node, field_, message))

    def report(self) -> Report:
        return Report(tuple(self.errors), tuple(self.warnings))


class FlowInvalid(ValueError):
    """Raised by `load_flow` when a flow must not be activated."""

    def __init__(self, errors: Sequence[FlowError]) -> None:
        self.errors = tuple(errors)
        lines = "\n".join(f"  {e}" for e in self.errors)
        super().__init__(f"flow is invalid ({len(self.errors)} errors):\n{lines}")
