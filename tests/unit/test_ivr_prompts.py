"""The stock prompt catalogue, prompt checks, and the demo lookup adapter."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

import pytest

from firmware.ivr.adapters import BUILTIN_ADAPTERS, AdapterError, DemoBilling
from firmware.ivr.flow import Flow, PlayNode, SayNode
from firmware.ivr.prompts import CATALOGUE, PROMPT_NAME_RE, check_prompts, queue_announcement
from firmware.ivr.say import SAY_PROMPTS, SayKind


def test_catalogue_is_complete_and_well_formed() -> None:
    for name, prompt in CATALOGUE.items():
        assert prompt.name == name
        assert PROMPT_NAME_RE.fullmatch(name), name
        assert prompt.text.strip(), name
    assert set(CATALOGUE) >= SAY_PROMPTS
    for needed in ("invalid_input", "no_input", "please_hold", "queue_position_is",
                   "goodbye", "gas_main_menu", "ten_thousand", "hundred_million"):
        assert needed in CATALOGUE
    assert CATALOGUE["liang"].text == "两" and CATALOGUE["yao"].text == "幺"


def test_check_prompts_stock_uploaded_and_unsafe_names() -> None:
    flow = Flow(id="f", version=1, entry="a", nodes={
        "a": PlayNode(id="a", prompts=("goodbye", "my_recording", "../x", "/abs"), next="b"),
        "b": SayNode(id="b", format=SayKind.NUMBER, value="1", before=("nope",), next="a"),
    })
    errs = check_prompts(flow)
    assert [(e.node, e.field) for e in errs] == [
        ("a", "prompts.1"), ("a", "prompts.2"), ("a", "prompts.3"), ("b", "before.0")]
    errs = check_prompts(flow, uploaded={"my_recording", "nope", "../x"})
    assert [(e.node, e.field) for e in errs] == [("a", "prompts.2"), ("a", "prompts.3")]
    assert "bad prompt name" in errs[0].message


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Drive a coroutine that never awaits anything (no event loop needed)."""
    with pytest.raises(StopIteration) as done:
        coro.send(None)
    return done.value.value


def test_demo_billing_adapter() -> None:
    adapter = DemoBilling()
    assert BUILTIN_ADAPTERS["demo_billing"] == adapter.spec
    result = run(adapter.lookup({"account": "1234567"}))
    assert set(result) == adapter.spec.outputs
    assert result["amount_due"] == "419.69"
    for bad in ("0123456", "12345", "12a456", ""):
        with pytest.raises(AdapterError):
            adapter.query(bad)


def test_queue_announcement() -> None:
    words = queue_announcement(2, 2)
    assert "".join(CATALOGUE[w].text for w in words) == "您当前排在第二位。预计等待时间约为两分钟"
    assert queue_announcement(None, 15) == ["queue_estimated_wait", "ten", "5", "minutes"]
    assert queue_announcement(0, None) == []
