"""Flows shipped with the box. `make run` loads the 96777 gas hotline as its demo."""

from __future__ import annotations

import json
from pathlib import Path

GAS_HOTLINE_96777 = Path(__file__).with_name("gas_hotline_96777.json")


def load_json(path: Path = GAS_HOTLINE_96777) -> object:
    """The stored (JSON) form; pass it to `load_flow` to validate and activate."""
    return json.loads(path.read_text(encoding="utf-8"))
