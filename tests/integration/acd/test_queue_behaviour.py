"""Agent states and the ways out of a queue, on a real box with real phones.

Wrap-up (per queue, per agent), not ready with a reason (also asked for during a call),
auto not-ready after unanswered offers, caller priority (from a DID and from an IVR
transfer), max wait to another queue (the caller keeps their priority), to a callback
request and to an extension, the no-agent treatment (on joining, and when the last agent
logs out), abandon with position and wait, and smart routing (the agent who served the
number last; the agent who called the number out, 总机溯源) also across a restart.

As in test_strategies.py: agents' phones and callers are sipp, each call from its own
extension; the box's queue log (DATA/logs/queue_log) says what the ACD did and when.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from tests.integration.acd.agents import (
    PASSWORDS,
    QUEUE,
    Callers,
    Clock,
    Desk,
    agent_command,
    answered_by,
    by_caller,
    queue,
    queue_log,
    site,
    stamp,
    uses,
    wait_queue_log,
)
from tests.integration.box import Box
from tests.integration.phones import SipPhones
from tests.integration.test_pri_sim import control
from tests.integration.test_sip_box import check

pytestmark = pytest.mark.peers

URGENT = "7101"  # the same queue q at priority 10
SECOND = "7102"  # queue q2
PSTN_NUMBER = "13800138000"


def entered(box: Box) -> dict[str, list[str]]:
    """caller number -> its ENTERQUEUE record (time|call|queue|NONE|ENTERQUEUE||num|pos)."""
    return {r[6]: r for r in queue_log(box) if r[4] == "ENTERQUEUE"}


def records(box: Box, event: str, call_id: str | None = None) -> list[list[str]]:
    return [r for r in queue_log(box) if r[4] == event and (call_id is None or r[1] == call_id)]


# -- wrap-up ----------------------------------------------------------------------------


@uses(site([queue("q", "linear", ["9002", "9003"], wrap_up=2.5)], ["9002", "9003"],
           dids={QUEUE: "queue:q"}, agent_options={"9003": {"wrap_up": 0}}))
def test_an_agent_in_wrap_up_is_offered_only_when_it_ends(
        box: Box, desk: Desk, callers: Callers) -> None:
    desk.phone("9002", answer_after=0.2)
    desk.phone("9003", answer_after=0.2)
    check(callers.call("9011", QUEUE, hold=0.8).wait())  # 9002, then 2.5 s of wrap-up
    b = callers.call("9012", QUEUE, hold=4.5)  # 9003: 9002 is wrapping up
    desk.wait_rings(2, answered=True)
    c = callers.call("9013", QUEUE, hold=3.5)  # waits for 9002's wrap-up to end
    check(c.wait())
    wrap = wait_queue_log(box, "WRAPUPEND")
    check(b.wait())
    d = callers.call("9014", QUEUE, hold=0.5)  # 9003 at once: its own wrap-up is 0
    check(d.wait())

    assert answered_by(desk.rings()) == {"9011": "9002", "9012": "9003", "9013": "9002",
                                         "9014": "9003"}, desk.rings()
    # 9002's wrap-up after 9011: the queue's 2.5 s; 9013 rang 9002 right as it ended
    first = wrap[0]
    assert first[3] == "9002" and 2.4 <= float(first[5]) <= 2.8, wrap
    ring_c = by_caller(desk.rings())["9013"]
    assert [r.agent for r in ring_c] == ["9002"], ring_c
    assert 0 <= ring_c[0].at - float(first[0]) < 0.5, (ring_c, first)
    assert ring_c[0].at - float(entered(box)["9013"][0]) > 1.0, "9013 had to wait"
    # 9003 has no wrap-up of its own (wrap_up 0 overrides the queue's)
    assert [r for r in records(box, "WRAPUPEND") if r[3] == "9003"] == []
    ring_d = by_caller(desk.rings())["9014"][0]
    assert ring_d.at - float(entered(box)["9014"][0]) < 0.5, ring_d


# -- not ready ----------------------------------------------------------------------------


@uses(site([queue("q", "linear", ["9002", "9003"])], ["9002", "9003"],
           dids={QUEUE: "queue:q"}))
def test_not_ready_with_a_reason_is_respected_and_logged(
        box: Box, desk: Desk, callers: Callers) -> None:
    desk.phone("9002", answer_after=0.2)
    desk.phone("9003", answer_after=0.2)
    reply = agent_command(box, "9002", "notready", reason="lunch")
    assert reply.get("ok") and (reply["state"], reply["reason"]) == ("not-ready", "lunch")
    bad = agent_command(box, "9002", "notready", reason="nap")
    assert not bad.get("ok") and "nap" in bad["error"] and "lunch" in bad["error"], bad
    check(callers.call("9011", QUEUE, hold=0.5).wait())  # 9003: the top agent is at lunch
    assert agent_command(box, "9002", "ready").get("ok")
    b = callers.call("9012", QUEUE, hold=2.0)  # 9002 again
    desk.wait_rings(2, answered=True)
    # asked for during the call: taken once the call is over
    reply = agent_command(box, "9002", "notready", reason="break")
    assert reply.get("ok") and reply["state"] == "on-call", reply
    check(b.wait())
    check(callers.call("9013", QUEUE, hold=0.5).wait())  # 9003

    assert answered_by(desk.rings()) == {"9011": "9003", "9012": "9002", "9013": "9003"}
    pauses = [(r[3], r[4], r[5]) for r in queue_log(box) if r[4] in ("PAUSE", "UNPAUSE")]
    assert pauses == [("9002", "PAUSE", "lunch"), ("9002", "UNPAUSE", "lunch"),
                      ("9002", "PAUSE", "break")], pauses
    complete_b = next(r for r in queue_log(box) if r[4].startswith("COMPLETE")
                      and r[1] == entered(box)["9012"][1])
    pause_break = records(box, "PAUSE")[-1]
    assert float(pause_break[0]) >= float(complete_b[0]), (pause_break, complete_b)


# -- auto not-ready ------------------------------------------------------------------------


@uses(site([queue("q", "linear", ["9002", "9003"], ring_timeout=1.0)], ["9002", "9003"],
           dids={QUEUE: "queue:q"}, acd={"max_missed_offers": 2}))
def test_an_agent_who_misses_offers_in_a_row_is_made_not_ready(
        box: Box, desk: Desk, callers: Callers) -> None:
    desk.phone("9002", answer_after=None)  # away from the desk
    desk.phone("9003", answer_after=0.2)
    for caller in ("9011", "9012", "9013"):
        check(callers.call(caller, QUEUE, hold=2.0).wait())

    calls = by_caller(desk.rings())
    # 9011 and 9012: 9002 (the top) rings for the 1 s ring timeout, then 9003 answers
    for caller in ("9011", "9012"):
        assert [(r.agent, r.outcome) for r in calls[caller]] == [
            ("9002", "cancelled"), ("9003", "answered")], calls
        missed = calls[caller][0]
        assert missed.ended_at is not None and 0.9 <= missed.ended_at - missed.at <= 1.6
        assert calls[caller][1].at - missed.ended_at < 0.5, "the next agent at once"
    # two misses in a row: 9002 is not ready ("no answer") and 9013 goes to 9003 at once
    assert [r.agent for r in calls["9013"]] == ["9003"], calls
    misses = [(r[3], r[4]) for r in queue_log(box) if r[4] == "RINGNOANSWER"]
    assert misses == [("9002", "RINGNOANSWER")] * 2, misses
    assert all(900 <= int(r[5]) <= 1600 for r in records(box, "RINGNOANSWER"))
    pause = [(r[3], r[5]) for r in records(box, "PAUSE")]
    assert pause == [("9002", "no answer")], pause
    reply = agent_command(box, "9002", "ready")  # back at the desk: ready resets the count
    assert reply.get("ok") and reply["state"] == "ready", reply


# -- caller priority -------------------------------------------------------------------

URGENT_FLOW = {"id": "urgent", "entry": "q", "nodes": {
    "q": {"kind": "transfer", "to": "queue", "target": "q", "priority": 10}}}


@uses(site([queue("q", "ring-all", ["9002"])], ["9002"],
           dids={QUEUE: "queue:q", URGENT: "flow:urgent"}, flows=[URGENT_FLOW]))
def test_a_higher_priority_caller_joining_later_is_served_first(
        box: Box, desk: Desk, callers: Callers) -> None:
    desk.phone("9002", answer_after=0.2)
    clock = Clock()
    x = callers.call("9011", QUEUE, hold=2.5)  # 9002 talks to 9011
    clock.at(0.5)
    low = callers.call("9012", QUEUE, hold=6.0)  # priority 0, waits
    clock.at(1.0)
    high = callers.call("9013", URGENT, hold=3.5)  # IVR transfer at priority 10, later
    check(x.wait(), high.wait(), low.wait())

    rings = desk.rings()
    assert [(r.caller, r.outcome) for r in rings] == [
        ("9011", "answered"), ("9013", "answered"), ("9012", "answered")], rings
    joined = entered(box)
    assert float(joined["9012"][0]) < float(joined["9013"][0])
    # the urgent caller went to the head of the line on joining
    assert (joined["9012"][7], joined["9013"][7]) == ("1", "1"), joined


# -- max wait ------------------------------------------------------------------------


@uses(site([queue("q", "ring-all", ["9004"], max_wait=1.0, timeout_target="queue:q2"),
            queue("q2", "ring-all", ["9003"])], ["9003", "9004"], logged_in=["9003"],
           dids={SECOND: "queue:q2", URGENT: "queue:q"}, priorities={URGENT: 10}))
def test_max_wait_overflows_to_another_queue_where_the_caller_keeps_their_priority(
        box: Box, desk: Desk, callers: Callers) -> None:
    desk.phone("9003", answer_after=0.2)
    clock = Clock()
    x = callers.call("9011", SECOND, hold=3.0)  # 9003 busy with 9011
    clock.at(0.5)
    low = callers.call("9012", SECOND, hold=7.0)  # waits in q2 at priority 0
    clock.at(0.8)
    high = callers.call("9013", URGENT, hold=4.5)  # q (nobody logged in) at priority 10
    check(x.wait(), high.wait(), low.wait())

    rings = desk.rings()
    assert [(r.caller, r.outcome) for r in rings] == [
        ("9011", "answered"), ("9013", "answered"), ("9012", "answered")], rings
    call_id = next(r for r in records(box, "ENTERQUEUE") if r[2] == "q")[1]
    (timeout,) = records(box, "EXITWITHTIMEOUT", call_id)
    assert timeout[2] == "q" and 0.9 <= float(timeout[7]) <= 1.4, timeout
    # the same call entered q2, ahead of 9012 who was already waiting there
    again = [r for r in records(box, "ENTERQUEUE", call_id) if r[2] == "q2"]
    assert len(again) == 1 and again[0][7] == "1", records(box, "ENTERQUEUE")
    (connect,) = records(box, "CONNECT", call_id)
    assert (connect[2], connect[3]) == ("q2", "9003"), connect
    # it overflowed while 9003 was still busy, so the order was the box's choice
    done = next(r for r in queue_log(box) if r[4].startswith("COMPLETE")
                and r[1] == entered(box)["9011"][1])
    assert float(again[0][0]) < float(done[0]), (again, done)


@uses(site([queue("cb", "ring-all", ["9002"], max_wait=1.5, timeout_target="callback"),
            queue("op", "ring-all", ["9004"], max_wait=1.5, timeout_target="extension:9005")],
           ["9002", "9004"], logged_in=["9002"],
           dids={QUEUE: "queue:cb", SECOND: "queue:op"}))
def test_max_wait_exits_to_a_callback_request_or_to_an_extension(
        box: Box, desk: Desk, callers: Callers) -> None:
    desk.phone("9002", answer_after=0.2)
    operator = desk.phone("9005", answer_after=0.2)  # an extension, not an agent
    customer = desk.other_phone("9012", "uas_hangup", {"ring_ms": 200, "talk_ms": 1000})
    clock = Clock()
    busy = callers.call("9011", QUEUE, hold=4.0)  # 9002 busy
    clock.at(0.5)
    waiting = callers.call_until_box_hangs_up("9012", QUEUE)  # callback after 1.5 s
    to_op = callers.call("9013", SECOND, hold=3.0)  # nobody logged in: 9005 after 1.5 s
    check(waiting.wait(), to_op.wait(), busy.wait())
    check(customer.wait(timeout=30))

    # 9012 left a callback request when its wait ran out; the box confirmed and hung up,
    # then rang 9002 showing 9012 once 9002 was free, and called 9012 back
    cb_id = entered(box)["9012"][1]
    (timeout,) = records(box, "EXITWITHTIMEOUT", cb_id)
    assert 1.4 <= float(timeout[7]) <= 1.9, timeout
    rings = by_caller(desk.rings())
    assert [(r.agent, r.outcome) for r in rings["9012"]] == [("9002", "answered")], rings
    done = [r for r in queue_log(box) if r[4].startswith("COMPLETE")
            and r[1] == entered(box)["9011"][1]]
    assert rings["9012"][0].at >= float(done[0][0]), "offered once 9002 was free"
    assert customer.result is not None and customer.result.requests("INVITE")
    back = box.wait_cdrs(1, where=lambda r: json.loads(r["extra"] or "{}").get("callback"))
    assert back and (str(back[0]["caller"]), str(back[0]["callee"])) == ("9002", "9012"), back
    # 9013 went to extension 9005 after its 1.5 s
    op_id = entered(box)["9013"][1]
    (op_timeout,) = records(box, "EXITWITHTIMEOUT", op_id)
    assert op_timeout[2] == "op", op_timeout
    (op_ring,) = operator.rings()
    assert op_ring.caller == "9013" and op_ring.outcome == "answered", op_ring
    assert 1.4 <= op_ring.at - float(entered(box)["9013"][0]) <= 2.2, op_ring


# -- nobody logged in ----------------------------------------------------------------


@uses(site([queue("q", "ring-all", ["9004"], empty_target="extension:9005"),
            queue("q2", "ring-all", ["9003"], empty_target="hangup")],
           ["9003", "9004"], logged_in=["9003"],
           dids={QUEUE: "queue:q", SECOND: "queue:q2"}))
def test_with_nobody_logged_in_callers_get_the_configured_treatment(
        box: Box, desk: Desk, callers: Callers) -> None:
    operator = desk.phone("9005", answer_after=0.2)
    desk.phone("9003", answer_after=None)
    # q: its only member is logged out, so a caller goes to 9005 at once
    check(callers.call("9011", QUEUE, hold=1.5).wait())
    (op_ring,) = operator.rings()
    assert op_ring.caller == "9011" and op_ring.outcome == "answered", op_ring
    (empty,) = records(box, "EXITEMPTY", entered(box)["9011"][1])
    assert (empty[2], empty[5], float(empty[7]) < 0.5) == ("q", "1", True), empty

    # q2: 9003 is logged in but not ready, so callers wait; when 9003 logs out the
    # waiting callers get q2's treatment (hang up)
    assert agent_command(box, "9003", "notready", reason="meeting").get("ok")
    first = callers.call_until_box_hangs_up("9012", SECOND, timeout=20)
    wait_queue_log(box, "ENTERQUEUE", 2)
    second = callers.call_until_box_hangs_up("9013", SECOND, timeout=20)
    wait_queue_log(box, "ENTERQUEUE", 3)
    assert agent_command(box, "9003", "logout").get("ok")
    check(first.wait(), second.wait())  # the box hung up on both
    # in line order; the second caller is first in line once the first has left
    exits = [(r[1], r[5], r[6]) for r in records(box, "EXITEMPTY") if r[2] == "q2"]
    joined = entered(box)
    assert exits == [(joined["9012"][1], "1", "1"), (joined["9013"][1], "1", "2")], exits
    logoff = records(box, "AGENTLOGOFF")
    assert len(logoff) == 1 and all(float(r[0]) >= float(logoff[0][0])
                                    for r in records(box, "EXITEMPTY") if r[2] == "q2")
    assert [r for r in desk.rings() if r.agent == "9003"] == []


# -- abandon ----------------------------------------------------------------------------


@uses(site([queue("q", "ring-all", ["9004"])], ["9004"], logged_in=[],
           dids={QUEUE: "queue:q"}))
def test_abandoned_calls_are_logged_with_position_and_wait(
        box: Box, callers: Callers) -> None:
    a = callers.call("9011", QUEUE, hold=3.0)  # first in line
    wait_queue_log(box, "ENTERQUEUE", 1)
    b = callers.call("9012", QUEUE, hold=4.0)  # second; first in line once 9011 left
    wait_queue_log(box, "ENTERQUEUE", 2)
    c = callers.call("9013", QUEUE, hold=0.5)  # third, and the first to hang up
    results = {"9011": a.wait(), "9012": b.wait(), "9013": c.wait()}
    check(*results.values())

    joined = entered(box)
    assert [joined[n][7] for n in ("9011", "9012", "9013")] == ["1", "2", "3"], joined
    abandons = wait_queue_log(box, "ABANDON", 3)
    order = {r[1]: i for i, r in enumerate(abandons)}
    ids = {n: joined[n][1] for n in results}
    assert order[ids["9013"]] < order[ids["9011"]] < order[ids["9012"]], abandons
    got = {r[1]: (r[5], r[6], float(r[7])) for r in abandons}
    expect = {"9011": ("1", "1"), "9012": ("1", "2"), "9013": ("3", "3")}
    for caller, (position, orig) in expect.items():
        pos, orig_pos, waited = got[ids[caller]]
        assert (pos, orig_pos) == (position, orig), (caller, got)
        # the wait is the caller's time in the queue: from the box's 200 OK to their BYE
        r = results[caller]
        held = stamp(r.sent("BYE")[0]) - stamp(r.received("INVITE", 200)[0])
        assert abs(waited - held) < 0.3, (caller, waited, held)


# -- smart routing ---------------------------------------------------------------------


@uses(site([queue("q", "linear", ["9002", "9003"], smart_routing=True)], ["9002", "9003"],
           dids={QUEUE: "queue:q"}))
def test_a_returning_caller_goes_to_the_agent_who_served_them_also_after_a_restart(
        box: Box, desk: Desk, callers: Callers) -> None:
    desk.phone("9002", answer_after=0.2)
    desk.phone("9003", answer_after=0.2)
    a = callers.call("9011", QUEUE, hold=2.0)  # 9002, the top
    desk.wait_rings(1, answered=True)
    check(callers.call("9012", QUEUE, hold=0.5).wait())  # 9003: 9002 is busy
    check(a.wait())
    check(callers.call("9012", QUEUE, hold=0.5).wait())  # 9003 again, though 9002 is free
    check(callers.call("9013", QUEUE, hold=0.5).wait())  # new number: the strategy (9002)
    assert [(r.caller, r.agent) for r in desk.rings()] == [
        ("9011", "9002"), ("9012", "9003"), ("9012", "9003"), ("9013", "9002")]
    box.restart()  # the agents log in again at start; the phones' bindings are restored
    box.wait_cdrs(4)
    check(callers.call("9012", QUEUE, hold=0.5).wait())
    assert [(r.caller, r.agent) for r in desk.rings()][-1] == ("9012", "9003"), desk.rings()


@uses(site([queue("q", "linear", ["9002", "9003"], outbound_trace=True)], ["9002", "9003"],
           dids={QUEUE: "queue:q"}))
def test_a_call_back_from_a_number_an_agent_called_out_goes_to_that_agent(
        box: Box, desk: Desk, callers: Callers, phones: SipPhones) -> None:
    desk.phone("9002", answer_after=0.2)
    desk.phone("9003", answer_after=0.2)
    # agent 9003 calls a customer out through the E1 (0 + number)
    out = phones.call("uac_call", "9003", "0" + PSTN_NUMBER, password=PASSWORDS["9003"],
                      keys={"talk_ms": 1000})
    assert out.ok, out.report()
    # the customer calls the hotline back from the PSTN: 9003, not the top agent 9002
    report: dict[str, Any] = {}
    pstn = threading.Thread(target=lambda: report.update(control(
        box, {"cmd": "pstn_call", "number": QUEUE, "from": PSTN_NUMBER, "seconds": 2.5})))
    pstn.start()
    pstn.join(30)
    assert report.get("ok"), report
    assert [(r.caller, r.agent, r.outcome) for r in desk.rings()] == [
        (PSTN_NUMBER, "9003", "answered")], desk.rings()
