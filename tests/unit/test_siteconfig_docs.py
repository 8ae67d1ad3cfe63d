"""The site-config docs show the demo file as it is and document every field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from firmware.siteconfig.demo import DEMO_SITE
from firmware.siteconfig.schema import SECTIONS
from firmware.siteconfig.types import Obj

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_worked_example_is_the_demo_file(lang: str) -> None:
    text = (DOCS / lang / "site-config.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    assert DEMO_SITE.read_text(encoding="utf-8") in blocks


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_field_is_documented(lang: str) -> None:
    text = (DOCS / lang / "site-config.md").read_text(encoding="utf-8")
    objs: list[Obj] = []
    for kind in SECTIONS.values():
        obj = kind if isinstance(kind, Obj) else getattr(kind, "item", None)
        if isinstance(obj, Obj):
            objs.append(obj)
            for f in obj.fields:
                inner = getattr(f.type, "item", None)
                if isinstance(inner, Obj):
                    objs.append(inner)
    missing = [f"{o.kind}.{f.name}" for o in objs for f in o.fields
               if f"| `{f.name}` |" not in text]
    assert not missing, missing
    for name in SECTIONS:
        assert f"### `{name}`" in text, name
