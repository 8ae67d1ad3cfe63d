"""The flow model: edges, prompt references, JSON form."""

from __future__ import annotations

import json

from firmware.ivr.examples import load_json
from firmware.ivr.flow import (
    CallerNode,
    CallerRule,
    MenuNode,
    PlayNode,
    SayNode,
    TransferKind,
    TransferNode,
    node_to_dict,
)
from firmware.ivr.say import AmountStyle, SayKind
from firmware.ivr.validate import load_flow


def test_edges_and_prompt_refs() -> None:
    menu = MenuNode(id="m", prompt=("a",), branches={"1": "x", "#": "y"}, on_timeout="z")
    assert menu.edges() == [("branches.1", "x"), ("branches.#", "y"), ("on_timeout", "z")]
    assert menu.prompt_refs() == [("prompt.0", "a"), ("invalid_prompt.0", "invalid_input"),
                                  ("timeout_prompt.0", "no_input")]
    caller = CallerNode(id="c", rules=(CallerRule(next="v", list="vip"),), default="d")
    assert caller.edges() == [("rules.0.next", "v"), ("default", "d")]
    assert TransferNode(id="t", to=TransferKind.QUEUE, target="q").edges() == []


def test_which_nodes_take_caller_time() -> None:
    assert MenuNode(id="m").takes_caller_time()
    assert PlayNode(id="p", prompts=("a",), next="x").takes_caller_time()
    assert not PlayNode(id="p", prompts=("a",), next="x", barge_in=True).takes_caller_time()
    assert not TransferNode(id="t", to=TransferKind.QUEUE, target="q").takes_caller_time()


def test_node_json_form() -> None:
    say = SayNode(id="s", format=SayKind.AMOUNT, value="${x}",
                  style=AmountStyle.YUAN_JIAO_FEN, next="n")
    assert node_to_dict(say) == {
        "kind": "say", "format": "amount", "value": "${x}", "style": "yuan_jiao_fen",
        "before": [], "after": [], "barge_in": False, "next": "n",
    }
    caller = CallerNode(id="c", rules=(CallerRule(next="v", numbers=("1*",)),), default="d")
    assert node_to_dict(caller)["rules"] == [{"next": "v", "numbers": ["1*"]}]


def test_example_round_trips_through_json_text() -> None:
    flow = load_flow(load_json())
    text = json.dumps(flow.to_dict(), ensure_ascii=False)
    assert load_flow(json.loads(text)) == flow
    assert flow.id == "gas_hotline_96777" and flow.version == 1
