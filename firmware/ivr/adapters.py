"""Lookup adapters: how a flow asks an outside system (billing, CRM) for data.

The runner never calls an adapter. It emits `Lookup(adapter, params)` and waits for a
`LookupResult` event; the switch runs the adapter off the call path (a task with the
node's timeout) and feeds the result back. This module holds the two halves of that
contract: `AdapterSpec`, what validation needs to know (name, params, the variables it
sets), and `LookupAdapter`, what the switch calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class AdapterSpec:
    name: str
    params: frozenset[str]  # required parameters
    outputs: frozenset[str]  # variables a successful lookup sets
    description: str = ""


class AdapterError(Exception):
    """An adapter's "no such account" / "backend down": the flow takes `on_fail`."""


class LookupAdapter(Protocol):
    spec: AdapterSpec

    async def lookup(self, params: Mapping[str, str]) -> Mapping[str, str]:
        """Return variables (names in spec.outputs), or raise AdapterError."""
        ...


class DemoBilling:
    """The 96777 demo's stand-in for a gas billing system: deterministic, no I/O.

    Any account of 6+ digits not starting with 0 exists; the amount due is derived
    from its digits so a demo caller hears a different figure per account.
    """

    spec = AdapterSpec(
        name="demo_billing",
        params=frozenset({"account"}),
        outputs=frozenset({"amount_due", "due_date"}),
        description="demo: amount due for a gas account",
    )

    def query(self, account: str) -> dict[str, str]:
        if not (account.isdigit() and len(account) >= 6 and not account.startswith("0")):
            raise AdapterError(f"no such account {account!r}")
        fen = int(account[-5:]) * 7 % 100_000  # up to 999.99 yuan
        return {"amount_due": str(Decimal(fen) / 100), "due_date": "2025-12-25"}

    async def lookup(self, params: Mapping[str, str]) -> Mapping[str, str]:
        return self.query(params.get("account", ""))


BUILTIN_ADAPTERS: Mapping[str, AdapterSpec] = {DemoBilling.spec.name: DemoBilling.spec}
