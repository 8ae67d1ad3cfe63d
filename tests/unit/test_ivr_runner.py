"""The sans-I/O runner: barge-in, type-ahead, retries, timeouts, lookups, step cap.

Time is a plain float the test advances; nothing sleeps.
"""

from __future__ import annotations

from typing import Any

import pytest

from firmware.ivr.actions import (
    Action,
    Digit,
    Hangup,
    HangupCall,
    Log,
    Lookup,
    LookupResult,
    Play,
    PromptDone,
    StartCollect,
    StopPlayback,
    Transfer,
    TransferFailed,
    Voicemail,
)
from firmware.ivr.env import IvrEnv
from firmware.ivr.flow import Flow, SetNode, TransferKind
from firmware.ivr.runner import STEP_CAP_CAUSE, IvrRunner
from firmware.ivr.validate import load_flow
from firmware.switch.causes import Cause

T0 = 1_741_053_600.0  # 2025-03-04 10:00 Asia/Shanghai, a Tuesday


def flow(nodes: dict[str, Any], entry: str = "start", **extra: Any) -> Flow:
    return load_flow({"id": "t", "version": 1, "entry": entry, "nodes": nodes, **extra},
                     IvrEnv(uploaded_prompts=frozenset({"p", "q", "menu", "again"})))


def real(actions: list[Action]) -> list[Action]:
    """Actions without the log lines."""
    return [a for a in actions if not isinstance(a, Log)]


def logs(actions: list[Action], event: str) -> list[dict[str, object]]:
    return [dict(a.data) for a in actions if isinstance(a, Log) and a.event == event]


BYE = {"kind": "hangup"}
Q = {"kind": "transfer", "to": "queue", "target": "q1"}


def menu(**over: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "kind": "menu", "prompt": "menu", "branches": {"1": "q", "2": "bye"},
        "timeout": 5, "retries": 2, "on_invalid": "bye", "on_timeout": "bye",
    }
    node.update(over)
    return node


def test_play_then_next_and_digits_during_uninterruptible_prompt_are_dropped() -> None:
    r = IvrRunner(flow({"start": {"kind": "play", "prompts": ["p", "q"], "next": "m"},
                        "m": menu(), "q": Q, "bye": BYE}), {}, T0)
    out = r.start(T0)
    assert real(out) == [Play(1, ("p", "q"), False)]
    assert logs(out, "ivr_start") == [{"flow": "t", "version": 1}]
    out = r.handle(Digit("1"), T0 + 1)
    assert real(out) == [] and logs(out, "digit_ignored") == [{"node": "start", "digit": "1"}]
    out = r.handle(PromptDone(1), T0 + 2)
    # The dropped "1" did not carry over: the menu plays its prompt.
    assert real(out) == [StartCollect(1, "", 5.0), Play(2, ("menu",), True)]
    assert r.next_timer() is None  # the menu timeout starts when its prompt ends


def test_barge_in_stops_prompt_and_menu_uses_the_digit() -> None:
    r = IvrRunner(flow({"start": {"kind": "play", "prompts": "p", "barge_in": True,
                                  "next": "m"}, "m": menu(), "q": Q, "bye": BYE}), {}, T0)
    r.start(T0)
    out = r.handle(Digit("1"), T0 + 0.5)
    assert real(out) == [StopPlayback(), StartCollect(1, "", 5.0),
                         Transfer(TransferKind.QUEUE, "q1", 0, {})]
    assert logs(out, "branch") == [{"node": "m", "key": "1", "to": "q"}]
    assert r.finished
    # A PromptDone for the stopped prompt arriving late changes nothing.
    assert real(r.handle(PromptDone(1), T0 + 0.6)) == []


def test_barge_in_during_menu_prompt() -> None:
    r = IvrRunner(flow({"start": menu(), "q": Q, "bye": BYE}), {}, T0)
    assert real(r.start(T0)) == [StartCollect(1, "", 5.0), Play(1, ("menu",), True)]
    out = r.handle(Digit("2"), T0 + 1)
    assert real(out) == [StopPlayback(), HangupCall(Cause.NORMAL_CLEARING)]
    assert r.finished


def test_menu_without_barge_in_waits_for_the_prompt() -> None:
    r = IvrRunner(flow({"start": menu(barge_in=False), "q": Q, "bye": BYE}), {}, T0)
    r.start(T0)
    assert real(r.handle(Digit("1"), T0 + 1)) == []
    r.handle(PromptDone(1), T0 + 3)
    assert r.next_timer() == T0 + 8
    assert isinstance(real(r.handle(Digit("1"), T0 + 4))[0], Transfer)


def test_invalid_key_retries_then_takes_on_invalid() -> None:
    nodes = {"start": menu(retry_prompt="again", on_invalid="q"), "q": Q, "bye": BYE}
    r = IvrRunner(flow(nodes), {}, T0)
    r.start(T0)
    r.handle(PromptDone(1), T0 + 3)
    out = r.handle(Digit("9"), T0 + 4)
    assert real(out) == [Play(2, ("invalid_input", "again"), True)]
    assert logs(out, "invalid") == [{"node": "start", "attempt": 1}]
    assert r.next_timer() is None  # no timeout while the retry prompt plays
    # Barge into the retry prompt with another wrong key.
    out = r.handle(Digit("8"), T0 + 5)
    assert real(out) == [StopPlayback(), Play(3, ("invalid_input", "again"), True)]
    r.handle(PromptDone(3), T0 + 8)
    out = r.handle(Digit("7"), T0 + 9)
    assert logs(out, "retries_exhausted") == [{"node": "start", "to": "q"}]
    assert real(out) == [Transfer(TransferKind.QUEUE, "q1", 0, {})]


def test_timeout_retries_then_takes_on_timeout() -> None:
    nodes = {"start": menu(retries=1, on_timeout="q"), "q": Q, "bye": BYE}
    r = IvrRunner(flow(nodes), {}, T0)
    r.start(T0)
    r.handle(PromptDone(1), T0 + 3)
    assert r.next_timer() == T0 + 8
    assert r.handle_timer(T0 + 7.9) == []  # early wake-ups are harmless
    out = r.handle_timer(T0 + 8)
    assert real(out) == [Play(2, ("no_input", "menu"), True)]
    assert logs(out, "timeout") == [{"node": "start", "attempt": 1}]
    assert r.next_timer() is None
    r.handle(PromptDone(2), T0 + 12)
    assert r.next_timer() == T0 + 17
    out = r.handle_timer(T0 + 17)
    assert real(out) == [Transfer(TransferKind.QUEUE, "q1", 0, {})]


def test_invalid_and_timeout_share_one_budget_and_a_key_still_works_late() -> None:
    nodes = {"start": menu(retries=2), "q": Q, "bye": BYE}
    r = IvrRunner(flow(nodes), {}, T0)
    r.start(T0)
    r.handle(PromptDone(1), T0 + 1)
    r.handle(Digit("5"), T0 + 2)  # invalid, attempt 1
    r.handle(PromptDone(2), T0 + 3)
    r.handle_timer(T0 + 8)  # timeout, attempt 2
    r.handle(PromptDone(3), T0 + 9)
    out = r.handle(Digit("1"), T0 + 10)  # the third try succeeds
    assert isinstance(real(out)[0], Transfer)


def test_exhausted_without_branch_hangs_up() -> None:
    nodes = {"start": menu(retries=0, on_invalid=None), "q": Q, "bye": BYE}
    r = IvrRunner(flow(nodes), {}, T0)
    r.start(T0)
    out = r.handle(Digit("7"), T0 + 1)
    assert real(out) == [StopPlayback(), HangupCall(Cause.NORMAL_CLEARING)]
    assert logs(out, "ivr_end")[0]["reason"] == "no_invalid_branch"


COLLECT = {"kind": "collect", "prompt": "p", "var": "acct", "min_digits": 3, "max_digits": 6,
           "terminator": "#", "first_timeout": 8, "inter_timeout": 4, "retries": 1,
           "next": "done", "on_fail": "bye"}
DONE = {"kind": "transfer", "to": "queue", "target": "q-${acct}"}


def collect_runner(**over: Any) -> IvrRunner:
    r = IvrRunner(flow({"start": {**COLLECT, **over}, "done": DONE, "bye": BYE}), {}, T0)
    assert real(r.start(T0)) == [StartCollect(over.get("max_digits", 6), "#", 8.0),
                                 Play(1, ("p",), True)]
    return r


def test_collect_with_terminator() -> None:
    r = collect_runner()
    assert real(r.handle(Digit("1"), T0 + 1)) == [StopPlayback()]
    assert r.next_timer() == T0 + 5  # inter-digit timeout runs from each key
    r.handle(Digit("2"), T0 + 2)
    r.handle(Digit("3"), T0 + 3)
    out = r.handle(Digit("#"), T0 + 4)
    assert real(out)[0] == Transfer(TransferKind.QUEUE, "q-123", 0, {"acct": "123"})
    assert logs(out, "collected") == [{"node": "start", "var": "acct", "value": "123"}]


def test_collect_ends_at_max_digits_and_by_inter_digit_timeout() -> None:
    r = collect_runner(max_digits=4)
    for d in "1234":
        out = r.handle(Digit(d), T0 + 1)
    assert r.variables["acct"] == "1234"
    r = collect_runner()
    r.handle(PromptDone(1), T0 + 2)
    assert r.next_timer() == T0 + 10  # first-digit timeout
    r.handle(Digit("5"), T0 + 3)
    r.handle(Digit("5"), T0 + 4)
    r.handle(Digit("5"), T0 + 5)
    out = r.handle_timer(T0 + 9)
    assert real(out)[0] == Transfer(TransferKind.QUEUE, "q-555", 0, {"acct": "555"})


def test_collect_too_short_disallowed_key_and_silence() -> None:
    r = collect_runner()
    r.handle(Digit("1"), T0 + 1)
    out = r.handle(Digit("#"), T0 + 2)  # fewer than min_digits
    assert real(out) == [Play(2, ("invalid_input", "p"), True)]
    r.handle(Digit("*"), T0 + 3)  # not an allowed key: second failure, retries 1
    assert r.finished
    r = collect_runner()
    r.handle(PromptDone(1), T0 + 2)
    out = r.handle_timer(T0 + 10)
    assert real(out) == [Play(2, ("no_input", "p"), True)]


def test_collect_min_zero_accepts_silence() -> None:
    r = collect_runner(min_digits=0)
    r.handle(PromptDone(1), T0 + 1)
    out = r.handle_timer(T0 + 9)
    assert real(out)[0] == Transfer(TransferKind.QUEUE, "q-", 0, {"acct": ""})


def test_secret_collect_masks_digits_in_the_log() -> None:
    r = collect_runner(secret=True)
    out: list[Action] = []
    for d in "4321#":
        out += r.handle(Digit(d), T0 + 1)
    assert {str(x["digit"]) for x in logs(out, "digit")} == {"*"}
    assert logs(out, "collected")[0]["value"] == "****"
    assert r.variables["acct"] == "4321"  # the flow itself still has the value


def test_keys_flow_through_greeting_menu_and_collect() -> None:
    nodes = {
        "start": {"kind": "play", "prompts": "p", "barge_in": True, "next": "m"},
        "m": menu(branches={"3": "acct", "0": "bye"}),
        "acct": {**COLLECT, "prompt": "q", "max_digits": 4, "next": "look"},
        "look": {"kind": "lookup", "adapter": "demo_billing",
                 "params": {"account": "${acct}"}, "next": "m2", "on_fail": "bye"},
        "m2": menu(branches={"5": "q"}),
        "q": Q, "bye": BYE,
    }
    r = IvrRunner(flow(nodes), {"caller": "13912345678"}, T0)
    r.start(T0)
    acts: list[Action] = []
    for d in "3123":
        acts += r.handle(Digit(d), T0 + 1)
    # The greeting is cut by "3", the menu prompt never starts, the collect prompt
    # starts and is cut by "1".
    assert [a for a in real(acts) if isinstance(a, Play | StopPlayback)] == [
        StopPlayback(), Play(2, ("q",), True), StopPlayback()]
    assert logs(acts, "branch") == [{"node": "m", "key": "3", "to": "acct"}]
    out = r.handle(Digit("4"), T0 + 2)  # the fourth digit completes the collect
    assert real(out) == [Lookup(1, "demo_billing", {"account": "1234"}, 5.0)]
    r.handle(Digit("5"), T0 + 2.5)  # typed while the lookup runs: kept for m2
    out = r.handle(LookupResult(1, {"amount_due": "12.05"}), T0 + 3)
    assert real(out) == [StartCollect(1, "", 5.0), Transfer(TransferKind.QUEUE, "q1", 0,
                                                            {"caller": "13912345678",
                                                             "acct": "1234",
                                                             "amount_due": "12.05"})]


def test_type_ahead_fills_a_collect_without_its_prompt_and_leaves_the_rest() -> None:
    nodes = {
        "start": {"kind": "lookup", "adapter": "demo_billing", "params": {"account": "1"},
                  "next": "acct", "on_fail": "acct"},
        "acct": {**COLLECT, "max_digits": 4, "next": "m"},
        "m": menu(branches={"9": "q"}),
        "q": Q, "bye": BYE,
    }
    r = IvrRunner(flow(nodes), {}, T0)
    r.start(T0)
    for d in "123459":  # typed while the lookup runs
        assert real(r.handle(Digit(d), T0 + 1)) == []
    out = r.handle(LookupResult(1, error="down"), T0 + 2)
    assert [a for a in out if isinstance(a, Play)] == [Play(1, ("invalid_input", "menu"), True)]
    assert logs(out, "collected") == [{"node": "acct", "var": "acct", "value": "1234"}]
    # "5" was left over after max_digits: invalid at the menu, so the rest ("9") is
    # flushed and the menu retries.
    assert logs(out, "invalid") == [{"node": "m", "attempt": 1}]


def test_type_ahead_skips_interruptible_prompt_and_is_flushed_on_error() -> None:
    nodes = {
        "start": menu(branches={"1": "news", "2": "bye"}),
        "news": {"kind": "play", "prompts": "q", "barge_in": True, "next": "m2"},
        "m2": menu(branches={"4": "q"}),
        "q": Q, "bye": BYE,
    }
    r = IvrRunner(flow(nodes), {}, T0)
    r.start(T0)
    out = r.handle(Digit("1"), T0 + 1)
    assert real(out)[-1] == Play(2, ("q",), True)
    r.handle(Digit("9"), T0 + 2)  # barges into news; 9 is typed ahead for m2
    out = r.handle(Digit("4"), T0 + 2.1)
    # 9 was invalid at m2: its retry prompt plays, the queued-up keys are dropped,
    # and the 4 pressed during the retry prompt barges in and is taken.
    assert logs(out, "branch") == [{"node": "m2", "key": "4", "to": "q"}]
    r2 = IvrRunner(flow(nodes), {}, T0)
    r2.start(T0)
    r2.handle(Digit("1"), T0 + 1)
    out = r2.handle(Digit("8"), T0 + 2)
    assert logs(out, "invalid") == [{"node": "m2", "attempt": 1}]


def test_lookup_failure_timeout_and_stale_results() -> None:
    nodes = {
        "start": {"kind": "lookup", "adapter": "demo_billing", "params": {"account": "${caller}"},
                  "timeout": 3, "next": "say", "on_fail": "sorry"},
        "say": {"kind": "say", "format": "amount", "value": "${amount_due}",
                "before": "p", "next": "q"},
        "sorry": {"kind": "transfer", "to": "queue", "target": "general"},
        "q": Q,
    }
    f = flow(nodes)
    r = IvrRunner(f, {"caller": "123456"}, T0)
    assert real(r.start(T0)) == [Lookup(1, "demo_billing", {"account": "123456"}, 3.0)]
    assert r.next_timer() == T0 + 3
    assert real(r.handle(LookupResult(99, {"amount_due": "1"}), T0 + 1)) == []  # not ours
    out = r.handle(LookupResult(1, {"amount_due": "12.05"}), T0 + 1)
    assert real(out) == [Play(1, ("p", "ten", "2", "point", "0", "5", "yuan"), False)]
    assert r.next_timer() is None

    r = IvrRunner(f, {"caller": "123456"}, T0)
    r.start(T0)
    out = r.handle(LookupResult(1, error="no such account"), T0 + 1)
    assert logs(out, "lookup_failed") == [{"node": "start", "error": "no such account"}]
    assert real(out)[0] == Transfer(TransferKind.QUEUE, "general", 0, {"caller": "123456"})

    r = IvrRunner(f, {"caller": "123456"}, T0)
    r.start(T0)
    out = r.handle_timer(T0 + 3)
    assert logs(out, "lookup_failed") == [{"node": "start", "error": "timeout"}]
    assert real(r.handle(LookupResult(1, {"amount_due": "1"}), T0 + 4)) == []


def test_say_failure_falls_through() -> None:
    nodes = {
        "start": {"kind": "say", "format": "number", "value": "${caller_name}", "next": "q",
                  "on_fail": "bye"},
        "q": Q, "bye": BYE,
    }
    r = IvrRunner(flow(nodes), {"caller_name": "王先生"}, T0)
    out = r.start(T0)
    assert logs(out, "say_failed") and real(out) == [HangupCall(Cause.NORMAL_CLEARING)]


def test_set_value_and_expression() -> None:
    nodes = {
        "start": {"kind": "set", "var": "fen", "expr": "(amount + 0.5) * 100", "next": "s2",
                  "on_fail": "bye"},
        "s2": {"kind": "set", "var": "who", "value": "${caller}/${fen}", "next": "s3"},
        "s3": {"kind": "set", "var": "x", "expr": "missing * 2", "next": "q"},
        "q": {"kind": "transfer", "to": "queue", "target": "${who}"}, "bye": BYE,
    }
    r = IvrRunner(flow(nodes), {"caller": "8001", "amount": "1.25"}, T0)
    out = r.start(T0)
    assert r.variables["fen"] == "175"
    assert logs(out, "set_failed")[0]["var"] == "x"  # no on_fail: logged, flow goes on
    transfer = real(out)[0]
    assert isinstance(transfer, Transfer) and transfer.target == "8001/175"
    r = IvrRunner(flow(nodes), {"caller": "8001", "amount": "abc"}, T0)
    assert real(r.start(T0)) == [HangupCall(Cause.NORMAL_CLEARING)]


def caller_flow() -> Flow:
    return flow({
        "start": {"kind": "caller", "rules": [
            {"list": "blacklist", "next": "block"},
            {"numbers": ["0571*", "0572*"], "next": "local"},
        ], "anonymous": "anon", "default": "other"},
        "block": {"kind": "hangup", "cause": 21},
        "local": {"kind": "transfer", "to": "queue", "target": "local"},
        "anon": {"kind": "transfer", "to": "queue", "target": "anon"},
        "other": {"kind": "transfer", "to": "queue", "target": "other"},
    }, lists={"blacklist": ["13800000000", "021 6666*"]})


@pytest.mark.parametrize(("caller", "expect"), [
    ("13800000000", "block"),
    ("+8613800000000", "block"),
    ("0086 138 0000 0000", "block"),
    ("02166661234", "block"),
    ("+86 21 6666 1234", "block"),
    ("057188881234", "local"),
    ("+8657188881234", "local"),
    ("13900000000", "other"),
    ("", "anon"),
    ("anonymous", "anon"),
    ("Restricted", "anon"),
])
def test_caller_rules(caller: str, expect: str) -> None:
    r = IvrRunner(caller_flow(), {"caller": caller}, T0)
    out = r.start(T0)
    taken = logs(out, "caller")[0]["to"]
    assert taken == expect
    if expect == "block":
        assert real(out) == [HangupCall(Cause.CALL_REJECTED)]


def test_site_wide_lists_come_from_the_env() -> None:
    nodes = {"start": {"kind": "caller", "rules": [{"list": "vip", "next": "v"}],
                       "default": "q"},
             "v": {"kind": "transfer", "to": "queue", "target": "vip", "priority": 50}, "q": Q}
    env = IvrEnv(lists={"vip": ["13912345678"]})
    f = load_flow({"id": "t", "version": 1, "entry": "start", "nodes": nodes}, env)
    out = IvrRunner(f, {"caller": "13912345678"}, T0, env=env).start(T0)
    assert real(out)[0] == Transfer(TransferKind.QUEUE, "vip", 50, {"caller": "13912345678"})


def test_transfer_failure_and_voicemail() -> None:
    nodes = {
        "start": {"kind": "transfer", "to": "extension", "target": "8001", "priority": 0,
                  "on_fail": "vm"},
        "vm": {"kind": "voicemail", "box": "${called}"},
    }
    r = IvrRunner(flow(nodes), {"called": "8001"}, T0)
    assert real(r.start(T0)) == [Transfer(TransferKind.EXTENSION, "8001", 0, {"called": "8001"})]
    assert r.finished
    out = r.handle(TransferFailed(Cause.USER_BUSY), T0 + 20)
    assert real(out) == [Voicemail("8001")]
    assert logs(out, "ivr_resume") == [{"node": "start"}]
    assert logs(out, "ivr_end")[0]["reason"] == "voicemail"
    assert r.finished and r.handle(Digit("1"), T0 + 21) == []


def test_transfer_failure_without_fallback_hangs_up_with_its_cause() -> None:
    nodes = {"start": {"kind": "transfer", "to": "external", "target": "013900000000"}}
    r = IvrRunner(flow(nodes), {}, T0)
    out = r.start(T0)
    assert logs(out, "ivr_end") == [{"reason": "transfer", "steps": 1, "seconds": 0.0}]
    assert real(r.handle(Digit("5"), T0 + 1)) == []  # keys now belong to the far end
    assert real(r.handle(TransferFailed(Cause.NO_ANSWER), T0 + 30)) == [
        HangupCall(Cause.NO_ANSWER)]


def test_hangup_after_a_transfer_is_not_an_ivr_abandon() -> None:
    r = IvrRunner(flow({"start": Q}), {}, T0)
    r.start(T0)
    assert r.handle(Hangup(), T0 + 60) == []
    assert r.handle(TransferFailed(Cause.NO_ANSWER), T0 + 61) == []


def test_secret_digits_are_not_handed_to_the_agent() -> None:
    nodes = {"start": {**COLLECT, "secret": True, "var": "pin", "next": "q"}, "q": Q,
             "bye": BYE}
    r = IvrRunner(flow(nodes), {"caller": "8001"}, T0)
    r.start(T0)
    out: list[Action] = []
    for d in "1234#":
        out += r.handle(Digit(d), T0 + 1)
    assert real(out)[-1] == Transfer(TransferKind.QUEUE, "q1", 0, {"caller": "8001"})


def test_caller_hangup_ends_everything() -> None:
    r = IvrRunner(flow({"start": menu(), "q": Q, "bye": BYE}), {}, T0)
    r.start(T0)
    r.handle(PromptDone(1), T0 + 1)
    out = r.handle(Hangup(), T0 + 2)
    assert real(out) == [] and logs(out, "caller_hangup") == [{"node": "start"}]
    assert logs(out, "ivr_end") == [{"reason": "caller_hangup", "steps": 1, "seconds": 2.0}]
    assert r.finished and r.next_timer() is None
    assert r.handle(Hangup(), T0 + 3) == []


def test_step_cap_stops_an_unvalidated_spinning_flow() -> None:
    broken = Flow(id="b", version=1, entry="a", max_steps=50, nodes={
        "a": SetNode(id="a", var="x", value="1", next="b"),
        "b": SetNode(id="b", var="y", value="2", next="a"),
    })
    r = IvrRunner(broken, {}, T0)
    out = r.start(T0)
    assert real(out) == [HangupCall(STEP_CAP_CAUSE)]
    assert logs(out, "step_cap") == [{"node": "a", "steps": 50}]
    assert len(logs(out, "node")) == 50


def test_step_cap_ends_a_dead_line_looping_through_menu_timeouts() -> None:
    # A menu whose timeout branch returns to itself is valid (it waits for the caller),
    # but an FXO line that never signals hang-up would loop forever without the cap.
    nodes = {"start": menu(retries=0, on_timeout="start"), "q": Q, "bye": BYE}
    r = IvrRunner(flow(nodes, max_steps=10), {}, T0)
    r.start(T0)
    now, play_id, ended = T0, 1, False
    for _ in range(100):
        r.handle(PromptDone(play_id), now)
        deadline = r.next_timer()
        assert deadline is not None
        now = deadline
        out = r.handle_timer(now)
        if HangupCall(STEP_CAP_CAUSE) in out:
            ended = True
            break
        play_id = next(a.play_id for a in out if isinstance(a, Play))
    assert ended and r.finished


def test_misuse_is_loud() -> None:
    r = IvrRunner(flow({"start": BYE}), {}, T0)
    with pytest.raises(RuntimeError):
        r.handle(Digit("1"), T0)
    assert real(r.start(T0)) == [HangupCall(Cause.NORMAL_CLEARING)]
    with pytest.raises(RuntimeError):
        r.start(T0)
