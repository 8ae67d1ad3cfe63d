"""An IVR flow asks the gas company's billing system over HTTP, on real calls.

The site file configures a `billing` lookup whose URL is a real HTTP server of the test
on 127.0.0.1 (tests/peers/billing_http.py). A sipp caller (9001) dials 7100; the flow
looks up the caller's account, reads the amount due out in Mandarin and hands the call
to 9002 (a sipp UAS). With the billing system down (HTTP 503) the flow takes its failure
branch: says goodbye and hangs up; the box log says why, without the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.ivr.say import say_amount
from firmware.media.codecs import Codec
from firmware.media.player import load_encoded
from tests.integration.box import Box, clone_data_dir
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.integration.test_ivr_calls import RtpSink
from tests.integration.test_sip_box import cdr_for, check
from tests.peers.billing_http import Billing
from tests.peers.wav import clips_not_heard

pytestmark = pytest.mark.peers

NUMBER = "7100"
TOKEN = "tok-3f9a-never-logged"
FLOW = {
    "id": "billing_check", "entry": "look",
    "nodes": {
        "look": {"kind": "lookup", "adapter": "billing", "params": {"account": "${caller}"},
                 "timeout": 3, "next": "amount", "on_fail": "unavailable"},
        "amount": {"kind": "say", "format": "amount", "value": "${amount_due}",
                   "before": ["gas_amount_due_is"], "next": "agent", "on_fail": "unavailable"},
        "agent": {"kind": "transfer", "to": "extension", "target": "9002",
                  "on_fail": "unavailable"},
        "unavailable": {"kind": "play", "prompts": ["goodbye"], "next": "end"},
        "end": {"kind": "hangup", "cause": 16},
    },
}


@pytest.fixture
def billing() -> Iterator[Billing]:
    b = Billing()
    yield b
    b.close()


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path, billing: Billing) -> Path:
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    import_site(data, {
        "dids": [{"number": NUMBER, "target": "flow:billing_check"}],
        "lookups": [{"name": "billing", "url": f"http://127.0.0.1:{billing.port}/api/due"
                     "?account={account}", "timeout": 2,
                     "outputs": {"amount_due": "amount", "due_date": "due.date"},
                     "bearer_token": TOKEN}],
        "ivr_flows": [FLOW],
    })
    return data


def test_caller_hears_the_amount_from_billing_then_reaches_an_agent(
        box: Box, phones: SipPhones, billing: Billing) -> None:
    billing.amount = 8.5  # a short reading: 您的应缴金额为 八点五元
    agent = phones.registered_phone("9002", "uas_answer", {"ring_ms": 300})
    with RtpSink() as sink:
        call = phones.dial("uac_ivr_dtmf", "9001", NUMBER,
                           keys={"rtp_sink_port": sink.port, "pre_dtmf_ms": 7500,
                                 "talk_ms": 1000}, timeout=40)
        check(call.wait(timeout=40), agent.wait(timeout=30))
    assert billing.seen.paths == ["/api/due?account=9001"]
    assert billing.seen.auth == [f"Bearer {TOKEN}"]

    # the billing system's figure, file by file
    stock = box.data / "prompts" / "stock"
    words = ["gas_amount_due_is", *say_amount("8.5")]
    clips = [load_encoded(stock / f"{w}.wav", Codec.PCMA) for w in words]
    got = b"".join(p for _, p in sink.audio(pt=8))
    missing = [words[i] for i in clips_not_heard(got, clips)]
    assert not missing, f"{len(got)} bytes heard; not heard in order: {missing} of {words}"

    row = cdr_for(box, "9001")
    extra = json.loads(row["extra"])
    assert str(row["callee"]) == "9002", row
    assert extra["ivr_transfer"] == "extension:9002", extra
    assert extra["ivr_path"].split(",")[:3] == ["look", "amount", "agent"], extra
    assert TOKEN not in box.log_text()


def test_billing_down_takes_the_failure_branch_and_logs_why(
        box: Box, phones: SipPhones, billing: Billing) -> None:
    billing.down = True
    call = phones.dial("uac_call_callee_hangs_up", "9001", NUMBER, timeout=30)
    check(call.wait(timeout=30))  # goodbye, then the box hung up
    assert billing.seen.paths == ["/api/due?account=9001"]
    row = cdr_for(box, "9001")
    extra = json.loads(row["extra"])
    assert extra["ivr_path"].split(",")[:3] == ["look", "unavailable", "end"], extra
    assert "ivr_transfer" not in extra, extra
    log = box.log_text()
    assert "lookup billing (GET http://127.0.0.1:" in log and "HTTP 503" in log, log[-3000:]
    assert TOKEN not in log
