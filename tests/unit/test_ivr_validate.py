"""Validation: every error names node and field, and all errors come back at once."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from firmware.ivr.adapters import AdapterSpec
from firmware.ivr.env import IvrEnv
from firmware.ivr.errors import FlowError, FlowInvalid
from firmware.ivr.validate import load_flow, validate


def base() -> dict[str, Any]:
    return {
        "id": "t",
        "version": 1,
        "entry": "menu1",
        "nodes": {
            "menu1": {
                "kind": "menu",
                "prompt": "gas_main_menu",
                "branches": {"1": "sales", "2": "bye"},
                "on_invalid": "bye",
                "on_timeout": "bye",
            },
            "sales": {"kind": "transfer", "to": "queue", "target": "sales"},
            "bye": {"kind": "hangup"},
        },
    }


def errors_of(data: object, env: IvrEnv | None = None) -> set[tuple[str | None, str]]:
    return {(e.node, e.field) for e in validate(data, env).errors}


def test_base_is_valid() -> None:
    report = validate(base())
    assert report.ok and not report.warnings


def test_dangling_branch_names_node_and_field() -> None:
    data = base()
    del data["nodes"]["sales"]
    report = validate(data)
    assert report.errors == (
        FlowError(node="menu1", field="branches.1", message="points to missing node 'sales'"),
    )
    assert str(report.errors[0]) == "node 'menu1' branches.1: points to missing node 'sales'"


def test_all_errors_are_returned() -> None:
    data = base()
    menu = data["nodes"]["menu1"]
    menu["branches"] = {"1": "sales", "x": "bye", "12": "bye", "3": "nowhere"}
    menu["timeout"] = 0
    menu["retries"] = 50
    data["nodes"]["sales"]["priority"] = 101
    data["entry"] = "start"
    assert errors_of(data) == {
        ("menu1", "branches.x"),
        ("menu1", "branches.12"),
        ("menu1", "branches.3"),
        ("menu1", "timeout"),
        ("menu1", "retries"),
        ("sales", "priority"),
        (None, "entry"),
    }


def test_types_and_required_fields() -> None:
    data = base()
    data["nodes"]["menu1"]["timeout"] = "5"
    data["nodes"]["menu1"]["barge_in"] = 1
    data["nodes"]["sales"] = {"kind": "transfer", "to": "moon", "priority": True}
    data["nodes"]["bye"] = {"kind": "hangup", "cuase": 16}
    data["nodes"]["x"] = {"kind": "teleport"}
    data["nodes"]["y"] = []
    data["version"] = "1"
    data["colour"] = "red"
    found = validate(data).errors
    assert {(e.node, e.field) for e in found} == {
        ("menu1", "timeout"),
        ("menu1", "barge_in"),
        ("sales", "to"),
        ("sales", "target"),
        ("sales", "priority"),
        ("bye", "cuase"),
        ("x", "kind"),
        ("y", "node"),
        (None, "version"),
        (None, "colour"),
    }
    by_field = {e.field: e.message for e in found}
    assert by_field["target"] == "required field missing"
    assert by_field["cuase"] == "unknown field"
    # Broken nodes still exist for branch checks: one mistake, one error.
    assert ("menu1", "branches.1") not in {(e.node, e.field) for e in found}


def test_not_an_object() -> None:
    assert errors_of([]) == {(None, "flow")}
    assert (None, "nodes") in errors_of({"id": "t", "version": 1, "entry": "a", "nodes": {}})
    assert (None, "schema") in errors_of({**base(), "schema": 2})


def test_unreachable_is_a_warning() -> None:
    data = base()
    data["nodes"]["orphan"] = {"kind": "hangup"}
    report = validate(data)
    assert report.ok
    assert [(w.node, w.field) for w in report.warnings] == [("orphan", "node")]


def test_loop_without_waiting_is_an_error() -> None:
    data = base()
    data["nodes"]["menu1"]["branches"]["3"] = "a"
    data["nodes"]["a"] = {"kind": "set", "var": "x", "value": "1", "next": "b"}
    data["nodes"]["b"] = {"kind": "caller", "rules": [], "anonymous": "a", "default": "a"}
    report = validate(data)
    assert len(report.errors) == 1
    err = report.errors[0]
    assert (err.node, err.field) == ("a", "next")
    assert "a -> b -> a" in err.message


def test_self_loop_and_barge_in_prompt_loop() -> None:
    data = base()
    data["nodes"]["menu1"]["branches"]["3"] = "s"
    data["nodes"]["s"] = {"kind": "set", "var": "n", "expr": "n + 1", "next": "s"}
    data["nodes"]["menu1"]["branches"]["4"] = "p1"
    # Type-ahead skips interruptible prompts, so a loop of them could spin too.
    data["nodes"]["p1"] = {"kind": "play", "prompts": "goodbye", "barge_in": True, "next": "p2"}
    data["nodes"]["p2"] = {"kind": "play", "prompts": "goodbye", "barge_in": True, "next": "p1"}
    assert errors_of(data) == {("s", "next"), ("p1", "next")}


def test_loops_that_wait_are_fine() -> None:
    data = base()
    data["nodes"]["menu1"]["branches"]["9"] = "menu1"  # repeat the menu
    data["nodes"]["menu1"]["on_timeout"] = "again"
    data["nodes"]["again"] = {"kind": "set", "var": "x", "value": "1", "next": "menu1"}
    report = validate(data)
    assert report.ok and not report.warnings


def test_closed_prompt_loop_is_a_warning() -> None:
    data = base()
    data["nodes"]["menu1"]["branches"]["3"] = "closed"
    data["nodes"]["closed"] = {"kind": "play", "prompts": "after_hours", "next": "closed"}
    report = validate(data)
    assert report.ok
    assert [(w.node, w.field) for w in report.warnings] == [("closed", "node")]


def test_collect_checks() -> None:
    data = base()
    data["nodes"]["menu1"]["branches"]["3"] = "c"
    data["nodes"]["c"] = {
        "kind": "collect", "var": "1bad", "min_digits": 5, "max_digits": 4,
        "terminator": "##", "allowed": "0123456789#", "first_timeout": 0,
        "inter_timeout": 61, "retries": -1, "next": "bye",
    }
    assert errors_of(data) == {
        ("c", "var"), ("c", "min_digits"), ("c", "terminator"),
        ("c", "first_timeout"), ("c", "inter_timeout"), ("c", "retries"),
    }
    data["nodes"]["c"] = {"kind": "collect", "var": "pin", "terminator": "#",
                          "allowed": "0123456789#", "next": "bye", "on_fail": "bye"}
    report = validate(data)
    assert [(e.node, e.field, e.message) for e in report.errors] == [
        ("c", "terminator", "is also an allowed digit")]


def test_missing_exit_branches_are_warnings() -> None:
    data = base()
    del data["nodes"]["menu1"]["on_timeout"]
    report = validate(data)
    assert report.ok
    assert [(w.node, w.field) for w in report.warnings] == [("menu1", "on_timeout")]


def test_references_resolve() -> None:
    data = base()
    data["nodes"]["menu1"]["branches"].update({"3": "t", "4": "c", "5": "l", "6": "p"})
    data["nodes"]["t"] = {"kind": "time", "schedule": "office", "calendar": "cn",
                          "open": "bye", "closed": "bye"}
    data["nodes"]["c"] = {"kind": "caller", "rules": [{"list": "vip", "next": "bye"},
                                                      {"next": "bye"}], "default": "bye"}
    data["nodes"]["l"] = {"kind": "lookup", "adapter": "crm", "next": "bye", "on_fail": "bye"}
    data["nodes"]["p"] = {"kind": "play", "prompts": ["welcome_custom", "../etc/passwd"],
                          "next": "bye"}
    assert errors_of(data) == {
        ("t", "schedule"), ("t", "calendar"), ("c", "rules.0.list"), ("c", "rules.1"),
        ("l", "adapter"), ("p", "prompts.0"), ("p", "prompts.1"),
    }
    env = IvrEnv(
        lists={"vip": ["13900000000"]},
        adapters={"crm": AdapterSpec("crm", frozenset({"caller"}), frozenset({"name"}))},
        uploaded_prompts=frozenset({"welcome_custom"}),
    )
    assert errors_of(data, env) == {
        ("t", "schedule"), ("t", "calendar"), ("c", "rules.1"), ("l", "params.caller"),
        ("p", "prompts.1"),
    }


def test_flow_local_definitions_are_parsed_and_checked() -> None:
    data = base()
    data["schedules"] = {"office": {"week": {"mon": ["8-18"]}}}
    data["calendars"] = {"cn": {"holidays": ["someday"]}}
    data["lists"] = {"vip": "13900000000"}
    assert errors_of(data) == {
        (None, "schedules.office.week.mon.0"), (None, "calendars.cn.holidays.0"),
        (None, "lists.vip"),
    }


def test_templates_and_expressions() -> None:
    data = base()
    data["nodes"]["menu1"]["branches"].update({"3": "s1", "4": "s2", "5": "say", "6": "ext"})
    data["nodes"]["s1"] = {"kind": "set", "var": "a", "value": "${caller", "next": "bye"}
    data["nodes"]["s2"] = {"kind": "set", "var": "b", "expr": "1 +", "value": "x",
                           "next": "bye"}
    data["nodes"]["say"] = {"kind": "say", "format": "amount", "value": "${balance}",
                            "next": "bye"}
    data["nodes"]["ext"] = {"kind": "transfer", "to": "extension", "target": "80 01",
                            "priority": 5}
    report = validate(data)
    assert {(e.node, e.field) for e in report.errors} == {
        ("s1", "value"), ("s2", "value"), ("ext", "target")}
    assert {(w.node, w.field) for w in report.warnings} == {
        ("say", "value"), ("ext", "priority")}


def test_hangup_cause_must_be_known() -> None:
    data = base()
    data["nodes"]["bye"]["cause"] = 999
    assert errors_of(data) == {("bye", "cause")}


def test_load_flow_raises_with_every_error() -> None:
    data = base()
    data["nodes"]["menu1"]["branches"] = {"1": "a", "2": "b"}
    with pytest.raises(FlowInvalid) as info:
        load_flow(data)
    assert [(e.node, e.field) for e in info.value.errors] == [
        ("menu1", "branches.1"), ("menu1", "branches.2")]
    assert "points to missing node 'a'" in str(info.value)


def test_round_trip_through_json_form() -> None:
    data = base()
    data["nodes"]["menu1"]["prompt"] = ["gas_main_menu"]
    flow = load_flow(copy.deepcopy(data))
    assert load_flow(flow.to_dict()) == flow
    assert json.loads(json.dumps(flow.to_dict()))["nodes"]["menu1"]["branches"] == {
        "1": "sales", "2": "bye"}
