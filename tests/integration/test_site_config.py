"""Site configuration on a running box, with sipp: a site file imported while calls are
up (they survive; the next call follows the new file), the blacklist's treatments,
auto-lock after N calls and manual unlock, per-DID time rules with a shifted clock."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from firmware.media.codecs import Codec
from firmware.media.player import load_encoded
from tests.integration.box import CCBOX, Box, active_calls, ccbox, clone_data_dir
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.integration.test_ivr_calls import RtpSink
from tests.integration.test_ivr_demo_hotline import offset_to
from tests.integration.test_pri_sim import control
from tests.integration.test_sip_box import cdr_for, check
from tests.peers.ports import free_block

pytestmark = pytest.mark.peers

MENU = "7200"  # IVR: key 1 -> an extension
WAIT = "7201"  # straight into a queue
ANNOUNCE = "7300"  # IVR: goodbye, then the box hangs up
HOURS = "7400"  # per-DID time rule

SITE: dict[str, Any] = {
    "dids": [
        {"number": MENU, "target": "flow:menu"},
        {"number": WAIT, "target": "queue:waiting"},
        {"number": ANNOUNCE, "target": "flow:bye"},
        {"number": HOURS, "target": "extension:9003",
         "time_rules": [{"schedule": "office", "target": "extension:9002"}]},
    ],
    "queues": [{"name": "waiting", "members": ["9004"]}],
    "agents": [{"id": "9004"}],  # not logged in: callers wait
    "schedules": [{"name": "office", "week": {"mon-fri": ["08:00-18:00"]}}],
    "blacklist": [
        {"number": "9003", "treatment": "reject", "cause": 21, "note": "test"},
        {"number": "9004", "treatment": "prompt", "prompt": "number_restricted"},
    ],
    "autolock": [{"name": "nuisance", "calls": 2, "minutes": 10, "days": 1,
                  "dids": [ANNOUNCE], "treatment": "reject", "cause": 21}],
    "ivr_flows": [
        {"id": "menu", "entry": "menu", "nodes": {
            "menu": {"kind": "menu", "prompt": ["gas_main_menu"], "branches": {"1": "to"},
                     "timeout": 8, "retries": 0, "on_invalid": "end", "on_timeout": "end"},
            "to": {"kind": "transfer", "to": "extension", "target": "9002"},
            "end": {"kind": "hangup"}}},
        {"id": "bye", "entry": "bye", "nodes": {
            "bye": {"kind": "play", "prompts": ["goodbye"], "next": "end"},
            "end": {"kind": "hangup"}}},
    ],
}


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path) -> Path:
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    import_site(data, SITE)
    return data


def changed_site() -> dict[str, Any]:
    """The same site with the menu's key 1 going to 9003 and agent 9004 logged in."""
    site = copy.deepcopy(SITE)
    site["ivr_flows"][0]["nodes"]["to"]["target"] = "9003"
    site["agents"] = [{"id": "9004", "login": "9004"}]
    return site


def test_import_during_calls_keeps_them_and_applies_to_the_next(
        box: Box, phones: SipPhones) -> None:
    old_target = phones.registered_phone("9002", "uas_answer", {"ring_ms": 300})
    new_target = phones.registered_phone("9003", "uas_answer", {"ring_ms": 300})
    agent = phones.registered_phone("9004", "uas_answer", {"ring_ms": 300})
    # call 1 is in the IVR menu (it presses 1 after 6 s); call 2 waits in a queue nobody
    # is logged in to
    in_menu = phones.dial("uac_ivr_dtmf", "9001", MENU,
                          keys={"rtp_sink_port": free_block(2, align=2),
                                "pre_dtmf_ms": 8000, "talk_ms": 2000}, timeout=60)
    waiting = phones.dial("uac_ivr_dtmf", "9002", WAIT,
                          keys={"rtp_sink_port": free_block(2, align=2),
                                "pre_dtmf_ms": 10000, "talk_ms": 2000}, timeout=60)
    box.wait_status(lambda st: len(active_calls(st)) >= 2, timeout=10)
    out = import_site(box.data, changed_site(), "changed.yaml")
    assert "switchd applied it" in out, out
    states = {str(c["caller"]): c["state"] for c in active_calls(box.status())}
    # applied mid-call: both calls are still there; the queued one may already ring (or
    # talk to) the agent the import logged in, if the command returned more than the
    # phone's 300 ms ring later (a loaded machine); which agent answered is checked below
    assert states.get("9001") == "ivr" and states.get("9002") in ("queued", "ringing", "up"), \
        states
    assert "IVR flow menu: version 2 active" in out, out

    # call 1 keeps the flow version it started with: key 1 still goes to 9002
    check(in_menu.wait(timeout=60), old_target.wait(timeout=30))
    first = cdr_for(box, "9001")
    extra = json.loads(first["extra"])
    assert extra["ivr_flow"] == "menu@1" and str(first["callee"]) == "9002", (first, extra)
    # call 2 stayed queued through the reload and reached the agent logged in by it
    check(waiting.wait(timeout=60), agent.wait(timeout=30))
    queued = cdr_for(box, "9002")
    assert str(queued["callee"]) == "9004", queued
    assert json.loads(queued["extra"])["queue"] == "waiting"

    # the next call follows the new file
    again = phones.dial("uac_ivr_dtmf", "9001", MENU,
                        keys={"rtp_sink_port": free_block(2, align=2),
                              "pre_dtmf_ms": 1500, "talk_ms": 1500}, timeout=60)
    check(again.wait(timeout=60), new_target.wait(timeout=30))
    second = cdr_for(box, "9001", count=2)
    extra = json.loads(second["extra"])
    assert extra["ivr_flow"] == "menu@2" and str(second["callee"]) == "9003", (second, extra)


def test_invalid_import_into_a_running_box_changes_nothing(box: Box) -> None:
    bad = copy.deepcopy(SITE)
    bad["dids"][0]["target"] = "flow:missing"
    bad["queues"][0]["ring_timeout"] = 0
    path = box.data.parent / "bad.yaml"
    path.write_text(yaml.safe_dump(bad, sort_keys=False))
    proc = subprocess.run([str(CCBOX), "config", "import", str(path), "--data",
                           str(box.data)], capture_output=True, text=True, timeout=30,
                          check=False)
    assert proc.returncode == 2, proc
    lines = proc.stderr.splitlines()
    assert any("bad.yaml:" in ln and "queues[0].ring_timeout" in ln for ln in lines), lines
    assert "nothing was changed" in proc.stderr
    assert box.status()["site"]["flows"] == {"menu": 1, "bye": 1}


def test_blacklist_treatments(box: Box, phones: SipPhones) -> None:
    rejected = phones.call("uac_reject", "9003", ANNOUNCE)
    check(rejected)
    assert rejected.final_responses("INVITE")[-1] == 603, rejected.final_responses("INVITE")
    with RtpSink() as sink:
        played = phones.call("uac_ivr_dtmf_box_hangs_up", "9004", ANNOUNCE,
                             keys={"rtp_sink_port": sink.port, "pre_dtmf_ms": 1200},
                             timeout=30)
    check(played)
    # (sipp's RFC 4733 key comes from its own RTP port, where the box then sends: the
    # sink holds the first 1.2 s, which is what is compared)
    want = load_encoded(box.data / "prompts" / "stock" / "number_restricted.wav", Codec.PCMA)
    got = b"".join(p for _, p in sink.audio(pt=8))
    assert got[:40 * 160] == want[:40 * 160], "the caller hears number_restricted"
    row = cdr_for(box, "9004")
    assert json.loads(row["extra"])["route"] == "blacklist 9004", row
    assert json.loads(cdr_for(box, "9003")["extra"])["route"] == "blacklist 9003"


def announce(phones: SipPhones, caller: str = "9001") -> None:
    check(phones.call("uac_ivr_dtmf_box_hangs_up", caller, ANNOUNCE,
                      keys={"rtp_sink_port": free_block(2, align=2), "pre_dtmf_ms": 300},
                      timeout=30))


def test_auto_lock_after_n_calls_then_unlock(box: Box, phones: SipPhones) -> None:
    announce(phones)
    announce(phones)  # the second call within 10 minutes still passes, and locks 9001
    locked = phones.call("uac_reject", "9001", ANNOUNCE)
    check(locked)
    assert locked.final_responses("INVITE")[-1] == 603
    listing = ccbox(["blacklist", "list", "--data", str(box.data)]).stdout
    assert "9001" in listing and "nuisance" in listing, listing
    # the lock was written to the database (asynchronously) and survives a restart
    box.restart()
    check(phones.call("uac_reject", "9001", ANNOUNCE))
    out = ccbox(["blacklist", "unlock", "9001", "--data", str(box.data), "--by", "tester"])
    assert "9001 unlocked" in out.stdout, out.stdout
    announce(phones)  # passes again, and counting started from zero
    announce(phones)
    check(phones.call("uac_reject", "9001", ANNOUNCE))  # locked again by the new count
    routes = [json.loads(r["extra"]).get("route", "")[:6]
              for r in box.wait_cdrs(7, lambda r: str(r["caller"]) == "9001")]
    assert routes == ["DID 73", "DID 73", "locked", "locked", "DID 73", "DID 73",
                      "locked"], routes


@pytest.mark.parametrize(("hour", "callee"), [(10, "9002"), (22, "9003")])
def test_per_did_time_rule_follows_the_clock(hour: int, callee: str,
                                            monkeypatch: pytest.MonkeyPatch,
                                            request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv("CCBOX_CLOCK_OFFSET", str(offset_to(hour, 2)))  # a Wednesday
    box: Box = request.getfixturevalue("box")
    phones: SipPhones = request.getfixturevalue("phones")
    phone = phones.registered_phone(callee, "uas_answer", {"ring_ms": 300})
    check(phones.call("uac_call", "9001", HOURS, keys={"talk_ms": 1000}), phone.wait(30))
    row = cdr_for(box, "9001")
    assert str(row["callee"]) == callee, row
    assert json.loads(row["extra"])["route"] == (
        f"DID {HOURS} rule office" if hour == 10 else f"DID {HOURS} default")
    status = control(box, {"cmd": "status"})
    assert HOURS in status["site"]["dids"]
