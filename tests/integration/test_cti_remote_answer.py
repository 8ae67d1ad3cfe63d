"""Remote answer through the CTI socket of a running box, with sipp phones: the desk
answers the agent's ringing phone (NOTIFY Event: talk, the phone then answers the
INVITE), click to dial makes the phone pick up by itself (Call-Info answer-after=0), and
an extension without the setting is refused with the reason.

The phone here (tests/sipp/uas_remote_answer.xml) rings and answers only after it got
the talk NOTIFY, so an answered call proves the box sent it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.cti.protocol import CtiError
from tests.integration.box import Box, clone_data_dir
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.integration.test_cti_box import HOTLINE, SITE, Events
from tests.integration.test_phone_features import ext_set, stamp
from tests.integration.test_sip_box import cdr_for, check
from tests.peers.ports import free_block
from webui import cti

pytestmark = pytest.mark.peers


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path) -> Path:
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    import_site(data, SITE)  # hotline 7500 -> queue desk, agent 9002
    return data


@pytest.fixture
def events(box: Box) -> Iterator[Events]:
    ev = Events(box.data)
    yield ev
    ev.sub.close()


def test_desk_answers_the_ringing_phone(box: Box, phones: SipPhones, events: Events) -> None:
    assert "remote answer" in ext_set(box, "9002", "--remote-answer", "on")
    port, reg = phones.register("9002")
    assert reg.ok, reg.report()
    # two sipp calls: the INVITE from the queue, and the NOTIFY (a Call-ID of its own)
    agent = phones.sipp("uas_remote_answer", remote=None, local_port=port, calls=2,
                        timeout=40, keys={"user": "9002"})
    agent.start().wait_ready()
    caller = phones.dial("party_uac", "9001", HOTLINE,
                         keys={"rtp_sink_port": free_block(2, align=2)}, timeout=40)
    pop = events.wait(lambda e: e["event"] == "Delivered" and e.get("device") == "9002")
    assert cti.command(box.data, "Answer", device="9002") == {
        "call": pop["call"], "answering": "9002"}
    up = events.wait(lambda e: e["event"] == "Established" and e.get("device") == "9002")
    assert up["call"] == pop["call"]
    cti.command(box.data, "ClearConnection", device="9002")
    phone = agent.wait(timeout=40)
    check(caller.wait(timeout=40), phone)

    notify = phone.requests("NOTIFY")
    assert len(notify) == 1, phone.report()
    n = notify[0]
    assert n.header("Event") == "talk" and n.body.strip() == "", n
    assert n.start_line == f"NOTIFY sip:9002@127.0.0.1:{port} SIP/2.0", n.start_line
    assert "<sip:9002@" in (n.header("To") or "") and ";tag=" not in (n.header("To") or "")
    assert "sip:9001@" in (n.header("From") or ""), n  # the caller the phone shows
    ringing = phone.sent(status=180)
    assert ringing and stamp(n) >= stamp(ringing[0]), "talk only once the phone rings"
    invite = phone.requests("INVITE")[0]
    assert n.header("Call-ID") != invite.header("Call-ID"), "out of dialog"
    answered = [m for m in phone.sent(status=200) if "INVITE" in (m.header("CSeq") or "")]
    assert answered and stamp(answered[0]) >= stamp(n), "answered only after the NOTIFY"

    row = cdr_for(box, "9001")
    assert (row["queue"], row["agent"], str(row["callee"])) == ("desk", "9002", "9002"), row
    assert row["answer"] is not None and row["talk_seconds"] > 0, row
    with pytest.raises(CtiError) as idle:  # nothing rings any more
        cti.command(box.data, "Answer", device="9002")
    assert idle.value.code == "refused" and "nothing rings at 9002" in str(idle.value)


def test_answer_refused_without_remote_answer(box: Box, phones: SipPhones,
                                              events: Events) -> None:
    callee = phones.registered_phone("9004", "uas_ring_only")
    caller = phones.dial("uac_cancel", "9001", "9004", keys={"ring_ms": 2500})
    events.wait(lambda e: e["event"] == "Delivered" and e.get("device") == "9004")
    with pytest.raises(CtiError) as refused:
        cti.command(box.data, "Answer", device="9004")
    assert refused.value.code == "not_supported"
    assert ("the phone at 9004 cannot be answered from here: enable remote answer"
            in str(refused.value))
    rang, gave_up = callee.wait(timeout=15), caller.wait(timeout=15)
    check(gave_up, rang)
    assert not rang.requests("NOTIFY"), "no talk event to a phone not marked for it"
    assert gave_up.final_responses("INVITE")[-1] == 487  # it kept ringing until cancelled


def test_click_to_dial_picks_up_by_itself(box: Box, phones: SipPhones,
                                          events: Events) -> None:
    ext_set(box, "9002", "--remote-answer", "on")
    mine = phones.registered_phone("9002", "uas_answer", {"ring_ms": 0}, timeout=30)
    far = phones.registered_phone("9004", "uas_answer", {"ring_ms": 300}, timeout=30)
    assert cti.command(box.data, "MakeCall", device="9002", to="9004") == {
        "ringing": "9002", "to": "9004", "auto_answer": True}
    up = events.wait(lambda e: e["event"] == "Established" and e.get("device") == "9004")
    cti.command(box.data, "ClearConnection", device="9004")
    events.wait(lambda e: e["event"] == "CallCleared" and e["call"] == up["call"])
    rang_me, rang_far = mine.wait(timeout=30), far.wait(timeout=30)
    check(rang_me, rang_far)
    info = rang_me.requests("INVITE")[0].header("Call-Info") or ""
    assert info.endswith(";answer-after=0") and info.startswith("<sip:127.0.0.1"), info
    assert rang_far.requests("INVITE")[0].header("Call-Info") is None, "only the agent's"
    row = cdr_for(box, "9002")
    assert row["callee"] == "9004" and json.loads(row["extra"])["cti"] == "MakeCall"
