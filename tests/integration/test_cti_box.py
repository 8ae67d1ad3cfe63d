"""The CTI socket of a running box, with sipp phones: the screen pop (Delivered at the
agent's phone) comes before the agent answers, call control and agent states through
CTI commands, click to dial, and today's queue figures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware.cti.protocol import CtiError
from tests.integration.box import Box, clone_data_dir
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.integration.test_pri_sim import control
from tests.integration.test_sip_box import cdr_for, check
from tests.peers.ports import free_block
from tests.peers.sipp import Sipp, parse_message_log
from webui import cti

pytestmark = pytest.mark.peers

HOTLINE = "7500"
SITE: dict[str, Any] = {
    "dids": [{"number": HOTLINE, "target": "queue:desk"}],
    "queues": [{"name": "desk", "members": ["9002"], "supervisors": ["9003"],
                "ring_timeout": 20}],
    "agents": [{"id": "9002", "login": "9002"}],
}


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path) -> Path:
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    import_site(data, SITE)
    return data


class Events:
    """Every CTI event of one subscription, gathered by a thread."""

    def __init__(self, data: Path) -> None:
        self.sub = cti.Subscription(data)
        self.got: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        for ev in self.sub:
            if ev is not None:
                ev["_seen"] = time.time()
                with self.cond:
                    self.got.append(ev)
                    self.cond.notify_all()

    def wait(self, pred: Callable[[dict[str, Any]], bool], timeout: float = 15.0
             ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for ev in self.got:
                    if pred(ev):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such event within {timeout}s; got "
                                         f"{json.dumps(self.got, ensure_ascii=False)[:3000]}")
                self.cond.wait(left)


def reinvites_settled(phone: Sipp, at_least: int = 1, timeout: float = 10.0) -> None:
    """Wait until `phone` answered every re-INVITE the box sent it (at least
    `at_least`) and no new one came for 0.3 s."""
    deadline = time.monotonic() + timeout
    quiet_since, last = time.monotonic(), -1
    while True:
        msgs = parse_message_log(phone._file("messages.log"))
        asked = sum(1 for m in msgs if m.direction == "received"
                    and m.start_line.startswith("INVITE"))
        answered = sum(1 for m in msgs if m.direction == "sent" and m.start_line.startswith(
            "SIP/2.0 200") and "INVITE" in (m.header("CSeq") or ""))
        if asked != last:
            quiet_since, last = time.monotonic(), asked
        if asked >= at_least and answered >= asked and time.monotonic() - quiet_since > 0.3:
            return
        assert time.monotonic() < deadline, f"{answered} of {asked} re-INVITEs answered"
        time.sleep(0.05)


@pytest.fixture
def events(box: Box) -> Iterator[Events]:
    ev = Events(box.data)
    yield ev
    ev.sub.close()


def test_screen_pop_before_answer_then_hold_retrieve_and_figures(
        box: Box, phones: SipPhones, events: Events) -> None:
    snap = events.sub.snapshot
    assert [(a["agent"], a["state"], a["device"]) for a in snap["agents"]] == [
        ("9002", "ready", "9002")]
    # phones that stay in the call through re-INVITEs (hold) until the box sends BYE
    agent = phones.registered_phone("9002", "party_uas", {
        "ring_ms": 1500, "rtp_sink_port": free_block(2, align=2)}, timeout=40)
    caller = phones.dial("party_uac", "9001", HOTLINE,
                         keys={"rtp_sink_port": free_block(2, align=2)}, timeout=40)
    pop = events.wait(lambda e: e["event"] == "Delivered" and e.get("device") == "9002")
    assert (pop["caller"], pop["queue"], pop["agent"]) == ("9001", "desk", "9002")
    up = events.wait(lambda e: e["event"] == "Established" and e.get("device") == "9002")
    # the pop came while the phone was still ringing: the agent answers after 1.5 s
    assert up["call"] == pop["call"] and up["time"] - pop["time"] > 1.0, (pop, up)
    busy = events.wait(lambda e: e["event"] == "AgentState" and e["state"] == "on-call")
    assert busy["caller"] == "9001"

    assert cti.command(box.data, "Hold", device="9002")["call"] == pop["call"]
    held = events.wait(lambda e: e["event"] == "Held")
    assert held["device"] == "9002" and held["call"] == pop["call"]
    cti.command(box.data, "Retrieve", device="9002")
    events.wait(lambda e: e["event"] == "Retrieved")
    with pytest.raises(CtiError) as refused:
        cti.command(box.data, "Retrieve", device="9002")
    assert refused.value.code == "refused" and "not on hold" in str(refused.value)

    # hold and retrieve are re-INVITEs to the caller's phone: let it answer both before
    # the hang-up (sipp cannot take a BYE in the middle of a re-INVITE; a phone can)
    reinvites_settled(caller, at_least=2)
    # the agent hangs up from the desk: the box releases both phones
    cti.command(box.data, "ClearConnection", device="9002")
    check(caller.wait(timeout=40), agent.wait(timeout=40))
    cleared = events.wait(lambda e: e["event"] == "CallCleared")
    assert cleared["call"] == pop["call"] and cleared["queue"] == "desk"
    figs = events.wait(lambda e: e["event"] == "QueueStatistics" and e["queue"] == "desk"
                       and e["answered"] == 1)
    assert figs["offered"] == 1 and figs["service_level"] == 1.0
    row = cdr_for(box, "9001")
    assert (row["queue"], row["agent"]) == ("desk", "9002")  # searchable columns


def test_click_to_dial_rings_the_agent_first(box: Box, phones: SipPhones,
                                             events: Events) -> None:
    mine = phones.registered_phone("9002", "uas_answer", {"ring_ms": 200}, timeout=30)
    far = phones.registered_phone("9004", "uas_answer", {"ring_ms": 800}, timeout=30)
    assert cti.command(box.data, "MakeCall", device="9002", to="9004") == {
        "ringing": "9002", "to": "9004"}
    offered = events.wait(lambda e: e["event"] == "Offered" and e.get("device") == "9002")
    assert offered["called"] == "9004"
    up = events.wait(lambda e: e["event"] == "Established" and e.get("device") == "9004")
    assert up["call"] == offered["call"]
    cti.command(box.data, "ClearConnection", device="9004")
    events.wait(lambda e: e["event"] == "CallCleared" and e["call"] == offered["call"])
    check(mine.wait(timeout=30), far.wait(timeout=30))
    row = cdr_for(box, "9002")
    assert row["called"] == "9004" and row["callee"] == "9004"
    assert json.loads(row["extra"])["cti"] == "MakeCall"


def test_agent_states_through_cti(box: Box, events: Events) -> None:
    with pytest.raises(CtiError) as bad:
        cti.command(box.data, "SetAgentState", agent="9002", state="notReady",
                    reason="nap")
    assert bad.value.code == "refused" and "unknown not-ready reason" in str(bad.value)
    out = cti.command(box.data, "SetAgentState", agent="9002", state="notReady",
                      reason="lunch")
    assert (out["state"], out["reason"]) == ("not-ready", "lunch")
    ev = events.wait(lambda e: e["event"] == "AgentState" and e["state"] == "not-ready")
    assert ev["reason"] == "lunch" and ev["kind"] == "AgentNotReady"
    cti.command(box.data, "SetAgentState", agent="9002", state="logout")
    events.wait(lambda e: e["event"] == "AgentState" and e["state"] == "logged-out")
    with pytest.raises(CtiError) as unknown:
        cti.command(box.data, "Dance")
    assert unknown.value.code == "unknown_command"
    with pytest.raises(CtiError) as answer:
        cti.command(box.data, "Answer", device="9002")
    assert answer.value.code == "not_supported"


def test_transfer_and_consultation_through_cti(box: Box, phones: SipPhones,
                                               events: Events) -> None:
    agent = phones.registered_phone("9002", "party_uas", {
        "ring_ms": 200, "rtp_sink_port": free_block(2, align=2)}, timeout=60)
    # 9004 is rung twice: for the consultation, then for the transfer
    port, reg = phones.register("9004")
    assert reg.ok, reg.report()
    expert = phones.sipp("party_uas", remote=None, local_port=port, calls=2, timeout=60,
                         keys={"user": "9004", "challenge": "no", "ring_ms": 300,
                               "rtp_sink_port": free_block(2, align=2)})
    expert.start().wait_ready()
    caller = phones.dial("party_uac", "9001", HOTLINE,
                         keys={"rtp_sink_port": free_block(2, align=2)}, timeout=60)
    up = events.wait(lambda e: e["event"] == "Established" and e.get("device") == "9002")
    # consult 9004 while the caller holds, go back, then hand the caller over blind
    cti.command(box.data, "ConsultationCall", device="9002", to="9004")
    events.wait(lambda e: e["event"] == "ConsultationStarted" and e["call"] == up["call"])
    with pytest.raises(CtiError) as busy:
        cti.command(box.data, "SingleStepTransfer", device="9002", to="9004")
    assert busy.value.code == "refused" and "consultation" in str(busy.value)
    # back to the caller once 9004 has answered the consultation
    deadline = time.monotonic() + 10
    while not any(c.get("answered") for c in control(box, {"cmd": "cc", "op": "status"})
                  .get("consultations", {}).values()):
        assert time.monotonic() < deadline, "the consultation was not answered"
        time.sleep(0.05)
    cti.command(box.data, "ReconnectCall", device="9002")
    out = cti.command(box.data, "SingleStepTransfer", device="9002", to="9004")
    assert out["to"] == "9004"
    moved = events.wait(lambda e: e["event"] == "Transferred" and e["call"] == up["call"])
    assert (moved["by"], moved["to"], moved["kind"]) == ("9002", "9004", "blind")
    events.wait(lambda e: e["event"] == "Established" and e.get("device") == "9004"
                and e["call"] == up["call"] and e["time"] > moved["time"])
    reinvites_settled(caller)
    cti.command(box.data, "ClearConnection", device="9004")
    events.wait(lambda e: e["event"] == "CallCleared" and e["call"] == up["call"])
    check(caller.wait(timeout=40), agent.wait(timeout=40), expert.wait(timeout=40))
    row = cdr_for(box, "9001")
    assert json.loads(row["extra"])["transfers"].startswith("blind:9004"), row
