"""docs/{en,zh}/queues.md stay true: every strategy is explained, and the examples are
site files the box accepts, with the meaning the page gives them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from firmware.acd import SkillStep, Strategy, TargetKind
from firmware.siteconfig import validate

DOCS = Path(__file__).resolve().parents[2] / "docs"
LANGS = ["en", "zh"]


def blocks(lang: str) -> list[Any]:
    text = (DOCS / lang / "queues.md").read_text(encoding="utf-8")
    return [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def with_extensions(doc: dict[str, Any]) -> dict[str, Any]:
    numbers = sorted({a["id"] for a in doc.get("agents", [])})
    return {"extensions": [{"number": n} for n in numbers], **doc}


@pytest.mark.parametrize("lang", LANGS)
def test_every_strategy_is_explained(lang: str) -> None:
    text = (DOCS / lang / "queues.md").read_text(encoding="utf-8")
    missing = [s.value for s in Strategy if f"| `{s.value}`" not in text]
    assert not missing, missing


@pytest.mark.parametrize("lang", LANGS)
def test_the_example_is_a_valid_site_file_that_means_what_the_page_says(lang: str) -> None:
    example = next(b for b in blocks(lang) if isinstance(b, dict) and "queues" in b)
    result = validate(with_extensions(example))
    assert result.ok, [str(e) for e in result.errors]
    assert result.site is not None
    acd = result.site.acd
    repair = acd.queue("repair")
    assert [(m.agent, m.penalty) for m in repair.members] == [
        ("8001", 0), ("8002", 0), ("8004", 1)]
    assert repair.timeout_target is not None
    assert repair.timeout_target.kind is TargetKind.CALLBACK
    assert acd.queue("emergency").strategy is Strategy.RING_ALL
    assert acd.max_missed_offers == 2
    assert {a.id: a.wrap_up for a in acd.agents}["8002"] == 60
    assert result.site.logins == {"8001": "8001", "8002": "8002", "8003": "8003"}


@pytest.mark.parametrize("lang", LANGS)
def test_the_skill_steps_example_is_valid(lang: str) -> None:
    snippet = next(b for b in blocks(lang) if isinstance(b, dict) and "skill_steps" in b)
    doc = {"queues": [{"name": "gas", "strategy": "skills", "skills": {"gas": 5},
                       "members": ["8001"], **snippet}],
           "agents": [{"id": "8001", "skills": {"gas": 9}}]}
    result = validate(with_extensions(doc))
    assert result.ok and result.site is not None, [str(e) for e in result.errors]
    assert result.site.acd.queue("gas").skill_steps == (
        SkillStep(0, None, 8), SkillStep(30, 1, None), SkillStep(60, None, None))
