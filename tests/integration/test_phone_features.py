"""Phone features on the real box with sipp phones: forwarding, DND, ring groups,
one-number through the simulated E1, voicemail with message waiting, BLF lamps, and the
feature codes (agent codes changing who a queue rings).

Settings are changed the way a user or an installer does (feature codes from the phone,
`ccbox ext set` / `ccbox group add` on the running box) and must take effect on the next
call."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from firmware.media.codecs import Codec
from firmware.media.player import load_encoded
from firmware.media.prompt_gen import write_wav
from tests.integration.box import CCBOX, Box, _env, ccbox
from tests.integration.keys import keys_scenario
from tests.integration.phones import SipPhones
from tests.integration.test_ivr_calls import RtpSink
from tests.integration.test_pri_sim import control
from tests.integration.test_sip_box import cdr_for, check
from tests.peers.sipp import G711A_SECONDS, SipMessage, SippResult
from tests.peers.wav import active_seconds, clips_not_heard, read_wav

pytestmark = pytest.mark.peers

PIN = "2468"


def ext_set(box: Box, number: str, *args: str, stdin: str | None = None) -> str:
    """`ccbox ext set` on the running box (it reloads switchd)."""
    cmd = [str(CCBOX), "ext", "set", number, *args, "--data", str(box.data)]
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=30,
                          env=_env(), check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "switchd reloaded" in proc.stdout, proc.stdout  # live, not at the next start
    return proc.stdout


def stamp(msg: SipMessage) -> float:
    """Seconds since midnight of a sipp trace line's time."""
    m = re.search(r"(\d\d):(\d\d):(\d\d(?:\.\d+)?)", msg.stamp)
    assert m, msg.stamp
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


def first_invite(result: SippResult) -> SipMessage:
    invites = result.requests("INVITE")
    assert invites, f"{result.name} was never rung\n" + result.report()
    return invites[0]


def never_rang(phone: Any) -> None:
    phone.kill()
    result = phone._collect()
    assert not result.requests("INVITE"), "this phone must not ring:\n" + result.report()


def feature_call(phones: SipPhones, sipp_dir: Path, caller: str, number: str,
                 keys: list[tuple[int, str]] | None = None, sink: RtpSink | None = None,
                 timeout: float = 30) -> SippResult:
    """A phone dials a code the box answers; it types `keys` (SIP INFO), the box hangs
    up."""
    scenario = keys_scenario(sipp_dir, f"keys_{number.strip('*')}_{time.monotonic_ns()}",
                             keys or [])
    port = sink.port if sink is not None else RtpSink().port
    result = phones.call(str(scenario), caller, number, keys={"rtp_sink_port": port},
                         timeout=timeout)
    check(result)
    return result


def heard(sink: RtpSink) -> bytes:
    return b"".join(p for _, p in sink.audio(pt=8))


def prompt_heard(prompt: bytes, got: bytes, frames: int = 25, share: float = 0.8) -> bool:
    """Whether the phone heard the start (`frames` 20 ms frames) of `prompt` (A-law)."""
    return not clips_not_heard(got, [prompt[:frames * 160]], share)


# -- forwarding ---------------------------------------------------------------------------
def test_forward_always_set_live_then_cancelled(box: Box, phones: SipPhones) -> None:
    desk = phones.registered_phone("9002", "uas_busy", timeout=60)
    other = phones.registered_phone("9003", "uas_answer", {"ring_ms": 200})
    ext_set(box, "9002", "--forward-always", "9003")
    check(phones.call("uac_call", "9001", "9002", keys={"talk_ms": 1000}))
    answered = other.wait(timeout=20)
    check(answered)
    assert "9001" in (first_invite(answered).header("From") or "")
    row = cdr_for(box, "9001")
    assert (str(row["called"]), str(row["callee"])) == ("9002", "9003"), row
    assert json.loads(row["extra"])["forward"] == "always:9002>9003"
    # cancelled: the next call rings the desk phone itself (which says busy)
    ext_set(box, "9002", "--forward-always", "off")
    refused = phones.call("uac_reject", "9001", "9002")
    check(refused, desk.wait(timeout=20))
    assert refused.final_responses()[-1] == 486
    assert desk.result is not None and desk.result.requests("INVITE")


def test_forward_on_busy_rings_the_target_after_the_busy_phone(
        box: Box, phones: SipPhones) -> None:
    busy = phones.registered_phone("9002", "uas_busy")
    target = phones.registered_phone("9003", "uas_answer", {"ring_ms": 200})
    ext_set(box, "9002", "--forward-busy", "9003")
    check(phones.call("uac_call", "9001", "9002", keys={"talk_ms": 1000}))
    b, t = busy.wait(timeout=20), target.wait(timeout=20)
    check(b, t)
    assert stamp(first_invite(b)) <= stamp(first_invite(t))
    row = cdr_for(box, "9001")
    assert str(row["callee"]) == "9003" and row["talk_seconds"] > 0.5, row
    assert json.loads(row["extra"])["forward"] == "busy:9002>9003"


def test_forward_on_no_answer_set_by_feature_code_with_keys(
        box: Box, phones: SipPhones, sipp_dir: Path) -> None:
    # *92, the box asks for the number, the phone types 9003#
    with RtpSink() as sink:
        feature_call(phones, sipp_dir, "9002", "*92",
                     [(1500, "9"), (150, "0"), (150, "0"), (150, "3"), (150, "#")], sink)
    stock = box.data / "prompts" / "stock"
    confirm = load_encoded(stock / "fwd_no_answer_on.wav", Codec.PCMA)
    assert prompt_heard(confirm, heard(sink), 40), "the box must confirm with its prompt"
    shown = ccbox(["ext", "show", "9002", "--data", str(box.data)]).stdout
    assert re.search(r"forward no answer\s+9003", shown), shown
    ext_set(box, "9002", "--no-answer-timeout", "5")

    ringing = phones.registered_phone("9002", "uas_ring_only")
    target = phones.registered_phone("9003", "uas_answer", {"ring_ms": 200})
    check(phones.call("uac_call", "9001", "9002", keys={"talk_ms": 1000}, timeout=40))
    r, t = ringing.wait(timeout=30), target.wait(timeout=30)
    check(r, t)
    waited = stamp(first_invite(t)) - stamp(first_invite(r))
    assert 4.5 < waited < 8.0, f"9003 rang {waited:.1f} s after 9002 (no-answer time 5 s)"
    assert r.requests("CANCEL"), "the unanswered desk phone must stop ringing"
    row = cdr_for(box, "9001")
    assert str(row["callee"]) == "9003"
    assert json.loads(row["extra"])["forward"] == "no-answer:9002>9003"


def test_dnd_on_and_off_by_feature_codes(box: Box, phones: SipPhones, sipp_dir: Path) -> None:
    with RtpSink() as sink:
        feature_call(phones, sipp_dir, "9002", "*78", sink=sink)
    stock = box.data / "prompts" / "stock"
    assert prompt_heard(load_encoded(stock / "dnd_on.wav", Codec.PCMA), heard(sink))
    desk = phones.registered_phone("9002", "uas_answer", {"ring_ms": 200}, timeout=60)
    refused = phones.call("uac_reject", "9001", "9002")
    check(refused)
    assert refused.final_responses()[-1] == 486  # busy: no voicemail configured
    assert box.wait_status(lambda st: True)["active_calls"] == []
    feature_call(phones, sipp_dir, "9002", "*79")
    check(phones.call("uac_call", "9001", "9002", keys={"talk_ms": 500}))
    check(desk.wait(timeout=20))
    rows = box.wait_cdrs(4)
    assert [str(r["called"]) for r in rows] == ["*78", "9002", "*79", "9002"], rows
    assert [json.loads(r["extra"]).get("feature_result") for r in rows[::2]] == [
        "dnd:on", "dnd:off"]
    assert str(rows[-1]["callee"]) == "9002"


# -- ring groups and one-number -------------------------------------------------------------
def test_simultaneous_ring_group_rings_everyone_first_answer_wins(
        box: Box, phones: SipPhones) -> None:
    out = ccbox(["group", "add", "5000", "--members", "9002,9003", "--strategy",
                 "simultaneous", "--ring-timeout", "15", "--data", str(box.data)]).stdout
    assert "switchd reloaded" in out, out
    first = phones.registered_phone("9002", "uas_answer", {"ring_ms": 1500})
    second = phones.registered_phone("9003", "uas_ring_only")
    check(phones.call("uac_call", "9001", "5000", keys={"talk_ms": 1000}))
    a, b = first.wait(timeout=20), second.wait(timeout=20)
    check(a, b)
    assert abs(stamp(first_invite(a)) - stamp(first_invite(b))) < 0.5  # at once
    assert b.requests("CANCEL")
    row = cdr_for(box, "9001")
    assert (str(row["called"]), str(row["callee"])) == ("5000", "9002"), row
    assert json.loads(row["extra"])["ring_group"] == "5000"


def test_sequential_ring_group_rings_members_in_order(box: Box, phones: SipPhones) -> None:
    ccbox(["group", "add", "5001", "--members", "9003:5,9004,9002", "--strategy",
           "sequential", "--data", str(box.data)])
    first = phones.registered_phone("9003", "uas_ring_only")
    # 9004 is not registered: skipped at once
    last = phones.registered_phone("9002", "uas_answer", {"ring_ms": 200})
    check(phones.call("uac_call", "9001", "5001", keys={"talk_ms": 1000}, timeout=40))
    a, b = first.wait(timeout=30), last.wait(timeout=30)
    check(a, b)
    gap = stamp(first_invite(b)) - stamp(first_invite(a))
    assert 4.5 < gap < 8.0, f"9002 rang {gap:.1f} s after 9003 (9003's turn: 5 s)"
    assert a.requests("CANCEL")
    assert str(cdr_for(box, "9001")["callee"]) == "9002"


def test_one_number_rings_the_desk_then_the_mobile_through_the_e1(
        box: Box, phones: SipPhones) -> None:
    ext_set(box, "9002", "--mobile", "013800138000", "--mobile-delay", "2")
    desk = phones.registered_phone("9002", "uas_ring_only")
    caller = phones.call("uac_call", "9001", "9002", keys={"talk_ms": 3000}, timeout=40)
    check(caller, desk.wait(timeout=30))
    assert caller.final_responses()[-1] == 200  # the PSTN simulator answered the mobile
    row = cdr_for(box, "9001")
    assert str(row["callee"]).startswith("span1/"), row
    sims = control(box, {"cmd": "pstn_status"})["simulators"]
    (last,) = sims[0]["recent"]
    assert (last["number"], last["caller"], last["direction"]) == (
        "13800138000", "9001", "from-box")
    assert last["heard_dbfs"] is not None and last["heard_dbfs"] > -45  # the caller's speech
    invite = first_invite(desk.result) if desk.result else None
    assert invite is not None and desk.result is not None and desk.result.requests("CANCEL")


# -- voicemail, message waiting ----------------------------------------------------------------
def prompt_seconds(box: Box, *names: str) -> float:
    stock = box.data / "prompts" / "stock"
    return sum(read_wav(stock / f"{n}.wav").seconds for n in names)


def greeting_seconds(box: Box, box_number: str) -> float:
    """您拨打的分机 9002 暂时无人接听。请在提示音后留言… and the tone."""
    digits = ["yao" if d == "1" else d for d in box_number]
    return prompt_seconds(box, "vm_extension", *digits, "vm_unavailable", "vm_leave_message",
                          "beep")


def messages(box: Box, mailbox: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{box.db_path}?mode=ro", uri=True, timeout=5)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(
            "SELECT * FROM voicemail_message WHERE mailbox = ? ORDER BY id", (mailbox,))]
    finally:
        conn.close()


def wait_messages(box: Box, mailbox: str, pred: Any, timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    rows = messages(box, mailbox)
    while not pred(rows) and time.monotonic() < deadline:
        time.sleep(0.2)
        rows = messages(box, mailbox)
    return rows


def summaries(result: SippResult) -> list[tuple[str, str]]:
    out = []
    for m in result.requests("NOTIFY"):
        waiting = re.search(r"Messages-Waiting: (\w+)", m.body)
        counts = re.search(r"Voice-Message: (\d+/\d+)", m.body)
        if waiting and counts:
            out.append((waiting.group(1), counts.group(1)))
    return out


def test_voicemail_left_lamp_lit_listened_to_with_pin_lamp_off(
        box: Box, phones: SipPhones, sipp_dir: Path) -> None:
    ext_set(box, "9002", "--voicemail", "on", "--voicemail-pin-stdin", stdin=PIN + "\n")
    lamp = phones.dial("sub_mwi", "9002", "9002", timeout=90)  # its own mailbox
    # 9002 is not registered: straight to voicemail; the caller talks after the tone
    lead = greeting_seconds(box, "9002")
    caller = phones.call("uac_call", "9001", "9002", timeout=40,
                         keys={"pre_play_ms": int(lead * 1000) + 800,
                               "talk_ms": int(G711A_SECONDS * 1000) + 500})
    check(caller)
    assert caller.final_responses() == [407, 200]  # the box answered
    (row,) = wait_messages(box, "9002", lambda rows: len(rows) == 1)
    assert (row["folder"], row["caller"]) == ("new", "9001"), row
    wav = read_wav(box.data / row["path"])
    assert (wav.rate, wav.channels) == (8000, 1)
    assert active_seconds(wav, 0) > 3.0, wav.describe()  # g711a.pcap's speech
    assert json.loads(cdr_for(box, "9001")["extra"])["voicemail"] == "9002"

    # *97 from the phone: PIN, 1 (new messages): the envelope, the message; *, *
    envelope = prompt_seconds(box, "vm_message_no", "yao", "vm_message_unit", "vm_from",
                              "9", "0", "0", "yao")
    listen = int((envelope + row["seconds"]) * 1000) + 2500
    with RtpSink() as sink:
        feature_call(phones, sipp_dir, "9002", "*97",
                     [(1500, "2"), (150, "4"), (150, "6"), (150, "8"), (150, "#"),
                      (2500, "1"), (listen, "*"), (800, "*")], sink, timeout=60)
    message = load_encoded(box.data / row["path"], Codec.PCMA)
    middle = message[len(message) // 2:len(message) // 2 + 50 * 160]
    assert middle in heard(sink), "the message itself must be played to its owner"
    (row,) = wait_messages(box, "9002", lambda rows: rows and rows[0]["folder"] == "saved")
    assert row["folder"] == "saved"

    mwi = lamp.wait(timeout=30)
    check(mwi)
    seen = summaries(mwi)
    assert seen[0] == ("no", "0/0"), seen
    assert ("yes", "1/0") in seen and seen[-1] == ("no", "0/1"), seen
    assert seen.index(("yes", "1/0")) < len(seen) - 1
    assert "terminated" in (mwi.requests("NOTIFY")[-1].header("Subscription-State") or "")


def test_wrong_pin_and_other_mailbox_without_pin_are_refused(
        box: Box, phones: SipPhones, sipp_dir: Path) -> None:
    ext_set(box, "9003", "--voicemail", "on")  # no PIN: only from its own phone
    ext_set(box, "9002", "--voicemail", "on", "--voicemail-pin-stdin", stdin=PIN + "\n")
    with RtpSink() as sink:
        feature_call(phones, sipp_dir, "9001", "*989003", sink=sink)
    stock = box.data / "prompts" / "stock"
    assert prompt_heard(load_encoded(stock / "vm_no_pin.wav", Codec.PCMA), heard(sink))
    wrong = [(1200, "1"), (100, "1"), (100, "1"), (100, "2"), (100, "#")]
    with RtpSink() as sink:
        feature_call(phones, sipp_dir, "9001", "*989002", wrong * 3, sink, timeout=40)
    assert prompt_heard(load_encoded(stock / "vm_wrong_pin.wav", Codec.PCMA), heard(sink))
    rows = box.wait_cdrs(2)
    assert "mailbox" not in json.loads(rows[-1]["extra"]), "wrong PINs must not let anyone in"
    assert PIN not in box.log_text() and "1112" not in box.log_text()  # PINs never logged


def test_unsolicited_mwi_to_a_phone_that_never_subscribed(
        box: Box, phones: SipPhones) -> None:
    ext_set(box, "9003", "--voicemail", "on", "--dnd", "on")
    # the owner's own greeting (half a second of tone) replaces the stock one
    greeting = box.data / "voicemail" / "9003" / "greeting.wav"
    write_wav(greeting, (np.sin(np.arange(4000) * 0.3) * 6000).astype(np.int16))
    port, reg = phones.register("9003")
    check(reg)
    # two NOTIFYs, two "calls" for sipp: one after the REGISTER, one for the message
    phone = phones.sipp("uas_notify", remote=None, local_port=port, keys={"user": "9003"},
                        calls=2, timeout=40).start().wait_ready()
    lead = 0.5 + prompt_seconds(box, "beep")
    check(phones.call("uac_call", "9001", "9003", timeout=40,
                      keys={"pre_play_ms": int(lead * 1000) + 800, "talk_ms": 2000}))
    (msg,) = wait_messages(box, "9003", lambda rows: len(rows) == 1)
    assert msg["seconds"] > 1.0, msg
    got = phone.wait(timeout=20)
    check(got)
    notifies = got.requests("NOTIFY")
    # after the REGISTER (retransmitted until the phone's UAS was up to answer it) the
    # lamp is off; the message lights it
    assert summaries(got)[0] == ("no", "0/0") and summaries(got)[-1] == ("yes", "1/0")
    assert all(n.header("Subscription-State") == "active" for n in notifies)
    assert all("sip:9003@" in (n.header("To") or "") for n in notifies)
    assert len({n.header("Call-ID") for n in notifies}) >= 2  # each out of any dialog


# -- BLF --------------------------------------------------------------------------------------
def dialog_states(result: SippResult) -> list[list[str]]:
    return [re.findall(r"<state[^>]*>(\w+)</state>", m.body) for m in result.requests("NOTIFY")]


def test_blf_lamp_follows_a_call_confirmed_then_terminated(box: Box, phones: SipPhones) -> None:
    lamp = phones.dial("sub_dialog", "9001", "9002", timeout=60)
    deadline = time.monotonic() + 10
    while not box.status().get("subscriptions") and time.monotonic() < deadline:
        time.sleep(0.1)
    desk = phones.registered_phone("9002", "uas_answer", {"ring_ms": 500})
    check(phones.call("uac_call", "9004", "9002", keys={"talk_ms": 1500}),
          desk.wait(timeout=20))
    result = lamp.wait(timeout=20)
    check(result)
    states = dialog_states(result)
    assert states[0] == [], f"idle first: {states}"
    flat = [s for one in states for s in one]
    assert "confirmed" in flat and flat[-1] == "terminated", states
    assert flat.index("confirmed") < len(flat) - 1
    bodies = [m.body for m in result.requests("NOTIFY")]
    assert all('entity="sip:9002@' in b for b in bodies[:-1]), bodies
    assert any('direction="recipient"' in b and "sip:9004@" in b for b in bodies), bodies
    versions = [int(v) for b in bodies for v in re.findall(r'version="(\d+)"', b)]
    assert versions == sorted(versions) and len(set(versions)) == len(versions), versions
