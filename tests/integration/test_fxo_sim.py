"""FXO lines on board `sim`: the simulated central office calls the box with caller ID
(DTMF before the first ring, FSK after it), a SIP phone (sipp) answers, the far party
hangs up and the exchange says so by polarity reversal, busy tone, silence or loop
current drop; the box dials out through an FXO line with DTMF; in-band DTMF through an
FXO call reaches the IVR of the demo hotline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from firmware.db.connection import open_db
from firmware.db.settings import set_setting
from tests.integration.box import Box, clone_data_dir
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.integration.test_ivr_demo_hotline import demo_site_with_test_agents, offset_to
from tests.integration.test_pri_sim import control, tone_wav
from tests.integration.test_sip_box import cdr_for, check
from tests.peers.wav import active_seconds, read_wav

pytestmark = pytest.mark.peers

CALLER = "13912345678"


def configure(data: Path, lines: dict[str, Any]) -> None:
    db = open_db(data)
    try:
        set_setting("fxo.ports", json.dumps(lines))
    finally:
        db.close()


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path) -> Path:
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    configure(data, {"fxo1": {"inbound": "9002", "silence_timeout": 4}})
    return data


def fxo_call(box: Box, **kw: Any) -> dict[str, Any]:
    reply = control(box, {"cmd": "pstn_call", "line": "fxo1", "from": CALLER, **kw},
                    timeout=90)
    assert reply.get("ok"), reply
    report = reply["call"]
    assert isinstance(report, dict)
    return report


def fxo_line(box: Box, name: str = "fxo1") -> dict[str, Any]:
    (line,) = [x for x in box.status()["fxo"] if x["name"] == name]
    assert isinstance(line, dict)
    return line


@pytest.mark.parametrize(("cid", "hangup", "reason"), [
    ("dtmf", "busy", "busy-tone"),
    ("fsk", "polarity", "polarity"),
    ("fsk-v23", "silence", "silence"),
    ("fsk", "loop", "loop-drop"),
])
def test_fxo_inbound_with_caller_id_reaches_the_phone_and_ends_by_the_line(
    cid: str, hangup: str, reason: str, box: Box, phones: SipPhones, tmp_path: Path
) -> None:
    assert fxo_line(box)["state"] == "idle"
    uas = phones.registered_phone("9002", "uas_answer", keys={"ring_ms": 200})
    wav = tone_wav(tmp_path / "caller.wav", seconds=3.0)
    report = fxo_call(box, cid=cid, hangup=hangup, play=str(wav), seconds=3)
    result = uas.wait(timeout=30)
    check(result)
    invite = result.received("INVITE")[0]
    assert f"sip:{CALLER}@" in (invite.header("From") or ""), invite.header("From")

    assert report["answer_ms"] is not None and report["released_by"] == "pstn", report
    # the box went on hook because it understood the line, not because of a timeout
    limit = {"busy": 3000, "silence": 5500}.get(hangup, 500)
    assert report["disconnect_detect_ms"] is not None
    assert report["disconnect_detect_ms"] < limit, report
    assert report["heard_seconds"] > 1.0 and report["heard_dbfs"] > -45, report  # the phone

    row = cdr_for(box, CALLER)
    assert (row["called"], row["callee"], row["direction"]) == ("9002", "9002", "inbound")
    assert row["cause"] == 16 and row["released_by"] == "caller", row
    assert json.loads(row["extra"])["fxo_disconnect"] == reason
    rec = read_wav(box.wait_recording(box.data / row["recording"]))
    assert active_seconds(rec, 0) > 2.0, rec.describe()  # the caller's tone from the line
    assert active_seconds(rec, 1) > 1.0, rec.describe()  # the phone
    line = fxo_line(box)
    assert line["last_disconnect"] == reason and line["counters"]["inbound"] == 1


@pytest.fixture
def fxo_only_board(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A box with analog lines only (no E1): what a small community centre has."""
    board = json.loads((Path(__file__).resolve().parents[2] / "board" / "sim" /
                        "board.json").read_text())
    board["telephony"]["spans"] = []
    d = tmp_path / "boards" / "sim"
    d.mkdir(parents=True)
    (d / "board.json").write_text(json.dumps(board))
    monkeypatch.setenv("CCBOX_BOARD_DIR", str(d.parent))


def test_phone_dials_out_through_an_fxo_line(fxo_only_board: None,
                                             request: pytest.FixtureRequest) -> None:
    box: Box = request.getfixturevalue("box")
    phones: SipPhones = request.getfixturevalue("phones")
    result = phones.call("uac_call", "9001", "088881234", keys={"talk_ms": 7000})
    check(result)
    row = cdr_for(box, "9001")
    assert (row["direction"], row["called"], row["callee"]) == ("outbound", "088881234",
                                                                "fxo1")
    offices = control(box, {"cmd": "pstn_status"})["central_offices"]
    (last,) = next(c for c in offices if c["name"] == "fxo1")["recent"]
    assert last["direction"] == "from-box" and last["number"] == "88881234", last
    assert last["result"] == "answered" and last["released_by"] == "box", last
    assert last["heard_seconds"] > 1.0 and last["heard_dbfs"] > -45, last  # the phone
    assert fxo_line(box)["counters"]["outbound"] == 1


def test_dtmf_through_an_fxo_call_reaches_the_ivr(
    box_data: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    import_site(box_data, demo_site_with_test_agents())
    configure(box_data, {"fxo1": {"inbound": "96777"}})  # the line goes to the hotline
    monkeypatch.setenv("CCBOX_CLOCK_OFFSET", str(offset_to(10, 2)))  # Wednesday 10:00
    box: Box = request.getfixturevalue("box")
    phones: SipPhones = request.getfixturevalue("phones")
    phone = phones.registered_phone("9002", "uas_answer", {"ring_ms": 300}, timeout=60)
    report = fxo_call(box, cid="dtmf", dtmf="2", seconds=8, hangup="polarity")
    check(phone.wait(timeout=60))
    assert report["answer_ms"] is not None, report
    row = cdr_for(box, CALLER)
    extra = json.loads(row["extra"])
    assert "key:2" in extra["ivr_path"] and extra["queue"] == "repair", extra
    assert str(row["callee"]) == "9002"
