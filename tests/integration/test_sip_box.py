"""The box's SIP side as a user relies on it: real phones (sipp, baresip) through a real box.

Each test starts its own `ccbox run --board sim` (fixture `box`) with extensions
9001-9004, registers sipp phones, makes calls and then checks what a user would check:
the responses the phones got, the `status` view, the CDR row and the recording.

Audio: sipp plays /usr/share/sip-tester/g711a.pcap (7.08 s of A-law speech, the first
~0.6 s near-silent). In the main call test the callee starts talking at once and the
caller 2.5 s later, so the recording has a stretch where only the callee talks, one
where only the caller talks, and a tail where nobody does.

The scenario pairs are proven sipp to sipp in test_peers_selfcheck.py: when those pass
and these fail, look at the box.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.box import (
    EXTENSIONS,
    Box,
    active_calls,
    bindings_for,
    locked_sources,
)
from tests.integration.phones import SipPhones
from tests.peers import digest
from tests.peers.baresip import Baresip, BaresipError
from tests.peers.sipp import G711A_SECONDS, SipMessage, SippResult
from tests.peers.wav import (
    ACTIVE,
    SILENCE,
    Wav,
    active_seconds,
    band_fraction,
    read_wav,
    rms,
    sound_end,
    sound_onset,
)

pytestmark = pytest.mark.peers

CALLER, CALLEE = 0, 1  # recording channels: left = caller, right = callee
Q850_NORMAL_CLEARING = 16
Q850_USER_BUSY = 17
ORIGINATOR_CANCEL = 487  # the box's cause for "caller gave up before answer"


# -- helpers ------------------------------------------------------------------------
def auth_hint(result: SippResult) -> str:
    """Explain the classic reasons a sipp run dies on the box's digest challenge."""
    hints = []
    for msg in result.received():
        if msg.status in (401, 407):
            name = "WWW-Authenticate" if msg.status == 401 else "Proxy-Authenticate"
            challenges = msg.header_values(name)
            algos = [digest.algorithm(digest.parse_params(c)) for c in challenges]
            if algos and algos[0] != "MD5":
                hints.append(
                    f"{msg.status} lists {algos}: sipp 3.6.1 answers only the first challenge "
                    "and only MD5 (it exits 255); baresip 1.0.0 gives up if any is not MD5"
                )
            break
    return ("\nHINT: " + "\n".join(hints)) if hints else ""


def check(*results: SippResult) -> None:
    for r in results:
        assert r.ok, r.report() + auth_hint(r)


def unique(msgs: Iterable[SipMessage]) -> list[SipMessage]:
    """Drop retransmissions (same start line and CSeq)."""
    seen: set[tuple[str, str | None]] = set()
    out = []
    for m in msgs:
        key = (m.start_line, m.header("CSeq"))
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out


def expiry_of(ok: SipMessage, contact_port: int) -> int | None:
    """Expiry granted to our binding: ;expires= on our Contact, else the Expires header."""
    for contact in ok.header_values("Contact"):
        for one in contact.split(","):
            if f":{contact_port}" in one:
                m = re.search(r";\s*expires\s*=\s*(\d+)", one, re.I)
                if m:
                    return int(m.group(1))
    value = ok.header("Expires")
    return int(value) if value and value.strip().isdigit() else None


def cdr_for(box: Box, caller: str, *, count: int = 1, timeout: float = 6.0) -> dict[str, Any]:
    rows = box.wait_cdrs(count, where=lambda r: str(r.get("caller")) == caller, timeout=timeout)
    assert len(rows) >= count, (
        f"expected {count} CDR(s) for caller {caller} within {timeout}s; table has: {box.cdrs()}"
    )
    return rows[-1]


def assert_recording_path(box: Box, row: dict[str, Any]) -> Path:
    rel = row.get("recording")
    assert rel, f"CDR has no recording: {row}"
    assert not Path(str(rel)).is_absolute(), f"recording must be relative to DIR: {rel}"
    assert re.fullmatch(r"recordings/\d{4}/\d\d/\d\d/[^/]+\.wav", str(rel)), rel
    path = box.data / str(rel)
    box.wait_recording(path)
    assert path in box.recordings()
    return path


def assert_g711_stereo(wav: Wav) -> None:
    assert (wav.rate, wav.channels, wav.sampwidth) == (8000, 2, 2), (
        f"recording must be 8 kHz 16-bit stereo: {wav.rate} Hz {wav.channels} ch "
        f"{wav.sampwidth * 8} bit"
    )


def box_media(msg: SipMessage, box: Box) -> tuple[str, int, list[int]]:
    """The box's SDP in `msg`: it must exist and use a port from the box's RTP range."""
    audio = msg.sdp_audio()
    assert audio is not None, f"no audio SDP in\n{msg.text}"
    _, port, _ = audio
    lo, hi = box.ports.rtp
    assert lo <= port <= hi, f"box media port {port} is outside its RTP range {lo}-{hi}"
    return audio


def assert_sdp_reachable(*msgs: SipMessage) -> None:
    """The box's SDP must carry the address the peer talks to: 127.0.0.1 for our peers.

    Checked last in each test: an address that only works because it is local to this
    host (e.g. eth0's) is a defect, but a smaller one than broken audio or CDRs.
    """
    bad = {}
    for m in msgs:
        audio = m.sdp_audio()
        if audio is not None and audio[0] != "127.0.0.1":
            bad[m.start_line] = audio[0]
    assert not bad, f"box SDP must use 127.0.0.1 towards peers on 127.0.0.1: {bad}"


def approx(value: Any, expected: float, tolerance: float) -> bool:
    return value is not None and abs(float(value) - expected) <= tolerance


# -- registration -------------------------------------------------------------------
def test_register_with_digest_and_binding_shows_in_status(box: Box, phones: SipPhones) -> None:
    port, result = phones.register("9001", expires=300)
    check(result)

    challenge = result.received("REGISTER", 401)[0]
    offers = [digest.parse_params(c) for c in challenge.header_values("WWW-Authenticate")]
    assert offers, challenge.text
    md5 = [o for o in offers if digest.algorithm(o) == "MD5"]
    assert md5, f"no MD5 challenge: {offers}"
    assert all(o.get("realm") and o.get("nonce") for o in offers), offers
    assert "auth" in md5[0].get("qop", "").split(","), f"qop=auth expected: {md5[0]}"

    ok = result.received("REGISTER", 200)[-1]
    contacts = " ".join(ok.header_values("Contact"))
    assert f"127.0.0.1:{port}" in contacts, f"200 must list our binding: {contacts!r}"
    expiry = expiry_of(ok, port)
    assert expiry is not None and 0 < expiry <= 300, f"granted expiry {expiry}\n{ok.text}"

    status = box.status()
    assert bindings_for(status, "9001", port), f"no binding for 9001 at :{port} in {status}"
    assert "9001" in box.status_cli()

    _, gone = phones.register("9001", port=port, scenario="unregister")
    check(gone)
    assert gone.final_responses("REGISTER")[-1] == 200
    status = box.status()
    assert not bindings_for(status, "9001", port), (
        f"binding still listed after Expires: 0: {status}"
    )


def test_wrong_password_then_lockout_per_source_address(box: Box, phones: SipPhones) -> None:
    finals = []
    stale = []
    for attempt in range(5):
        _, r = phones.register("9001", password="not-the-password", scenario="register_wrong")
        check(r)
        final = r.final_responses("REGISTER")[-1]
        finals.append(final)
        if final == 401:
            nonces = [
                digest.parse_params(m.header("WWW-Authenticate") or "").get("nonce")
                for m in unique(r.received("REGISTER", 401))
            ]
            if len(set(nonces)) != 2:
                stale.append(f"attempt {attempt + 1}: {nonces}")
    assert finals[:4] == [401] * 4, f"wrong passwords must get 401 until lockout: {finals}"
    assert finals[4] in (401, 403), finals

    # Locked out: even the right password from 127.0.0.1 gets 403.
    _, probe = phones.register("9001", scenario="register_probe")
    check(probe)
    refused = probe.received("REGISTER")[-1]
    assert refused.status == 403, f"expected 403 during lockout, got {refused.start_line}"
    assert "lock" in refused.reason.lower(), (
        f"403 reason should mention the lockout: {refused.reason!r}"
    )
    status = box.status()
    assert not bindings_for(status, "9001")
    assert any("127.0.0.1" in s for s in locked_sources(status)), status
    assert not any("127.0.0.2" in s for s in locked_sources(status)), status

    # Another source address is not locked out.
    port, other = phones.register("9001", local_ip="127.0.0.2")
    check(other)
    assert other.final_responses("REGISTER")[-1] == 200
    assert bindings_for(box.status(), "9001", port)

    # After a wrong password the 401 carries a fresh challenge (a new nonce).
    assert not stale, "401 after a wrong password reused the nonce: " + "; ".join(stale)


# -- calls --------------------------------------------------------------------------
PRE_PLAY = 2.5  # the caller starts talking 2.5 s after the callee
TAIL = 1.5  # both silent for 1.5 s before the caller hangs up
TALK = PRE_PLAY + G711A_SECONDS + TAIL


def test_call_through_box_records_both_directions_bye_from_caller(
    box: Box, phones: SipPhones
) -> None:
    callee = phones.registered_phone("9002", "uas_answer", {"ring_ms": 1000})
    call = phones.dial(
        "uac_call", "9001", "9002",
        keys={"pre_play_ms": int(PRE_PLAY * 1000), "talk_ms": int((G711A_SECONDS + TAIL) * 1000)},
    )  # fmt: skip
    time.sleep(2.5)  # ringing 1 s, then talking
    during = active_calls(box.status())
    caller = call.wait()
    answered = callee.wait(timeout=15)
    check(caller, answered)
    assert len(during) == 1, f"status during the call: {during}"
    assert (during[0].get("caller"), during[0].get("called")) == ("9001", "9002"), during

    # Signalling as the caller saw it.
    codes = caller.responses("INVITE")
    assert caller.final_responses("INVITE") == [407, 200], codes
    assert 100 in codes and 180 in codes, f"box must send 100 and relay 180: {codes}"
    ok = caller.received("INVITE", 200)[-1]
    caller_side = box_media(ok, box)
    assert 8 in caller_side[2], f"answer must keep PCMA (offered 8 101): {caller_side}"

    # What the box sent to the callee.
    invite = answered.requests("INVITE")[0]
    assert invite.header("Authorization") is None and invite.header("Proxy-Authorization") is None
    callee_side = box_media(invite, box)
    assert {0, 8, 101} <= set(callee_side[2]), f"box offer must have PCMU, PCMA, 101: {callee_side}"
    assert callee_side[1] != caller_side[1], "each leg needs its own media port"
    assert answered.requests("BYE"), "the caller's BYE must reach the callee"
    after = box.wait_status(lambda st: not active_calls(st))
    assert active_calls(after) == [], f"the call must be gone from status: {after}"

    # The CDR.
    row = cdr_for(box, "9001")
    assert (row["caller"], str(row["called"]), str(row["callee"])) == ("9001", "9002", "9002"), row
    assert row["answer"] is not None, row
    assert row["cause"] == Q850_NORMAL_CLEARING, row
    assert row["released_by"] == "caller", row
    assert approx(row["talk_seconds"], TALK, 1.5), f"talk {row['talk_seconds']} vs ~{TALK:.1f}"
    assert approx(row["ring_seconds"], 1.0, 0.8), f"ring {row['ring_seconds']} vs ~1.0"

    # The recording: who spoke when.
    wav = read_wav(assert_recording_path(box, row))
    assert_g711_stereo(wav)
    profile = wav.describe()
    assert approx(wav.seconds, TALK, 1.5), profile
    callee_on, caller_on = sound_onset(wav, CALLEE), sound_onset(wav, CALLER)
    callee_off, caller_off = sound_end(wav, CALLEE), sound_end(wav, CALLER)
    assert None not in (callee_on, caller_on, callee_off, caller_off), profile
    assert callee_on is not None and caller_on is not None
    assert callee_off is not None and caller_off is not None
    assert callee_on < 2.5, f"callee audio should start right after answer\n{profile}"
    assert 1.8 <= caller_on - callee_on <= 3.3, f"caller starts ~{PRE_PLAY}s later\n{profile}"
    assert 1.8 <= caller_off - callee_off <= 3.3, f"and stops ~{PRE_PLAY}s later\n{profile}"
    for ch in (CALLER, CALLEE):
        assert active_seconds(wav, ch) >= 4.0, f"channel {ch} carries too little audio\n{profile}"
    # Only the callee talks, then only the caller, then nobody: no crosstalk, no echo.
    callee_only = (callee_on + 0.3, caller_on - 0.3)
    assert rms(wav.segment(CALLER, *callee_only)) < SILENCE, f"{callee_only}\n{profile}"
    assert rms(wav.segment(CALLEE, *callee_only)) > ACTIVE, f"{callee_only}\n{profile}"
    caller_only = (callee_off + 0.3, caller_off - 0.3)
    assert rms(wav.segment(CALLEE, *caller_only)) < SILENCE, f"{caller_only}\n{profile}"
    assert rms(wav.segment(CALLER, *caller_only)) > ACTIVE, f"{caller_only}\n{profile}"
    tail = (caller_off + 0.3, wav.seconds - 0.1)
    assert tail[1] - tail[0] >= 0.5, f"expected ~{TAIL}s of silence at the end\n{profile}"
    for ch in (CALLER, CALLEE):
        assert rms(wav.segment(ch, *tail)) < SILENCE, f"channel {ch} not silent {tail}\n{profile}"
    assert_sdp_reachable(ok, invite)


def test_bye_from_callee(box: Box, phones: SipPhones) -> None:
    callee = phones.registered_phone("9002", "uas_hangup", {"ring_ms": 300, "talk_ms": 3000})
    caller = phones.call("uac_call_callee_hangs_up", "9001", "9002")
    hung_up = callee.wait(timeout=15)
    check(caller, hung_up)
    assert caller.requests("BYE"), "the callee's BYE must be forwarded to the caller"
    assert hung_up.received("BYE", 200), "the box must answer the callee's BYE"

    row = cdr_for(box, "9001")
    assert row["released_by"] == "callee", row
    assert row["cause"] == Q850_NORMAL_CLEARING, row
    assert approx(row["talk_seconds"], 3.0, 1.0), row
    wav = read_wav(assert_recording_path(box, row))
    assert_g711_stereo(wav)
    for ch in (CALLER, CALLEE):  # both played the pcap from the answer on
        assert active_seconds(wav, ch) >= 1.5, wav.describe()


def test_a_recording_that_cannot_be_written_does_not_stop_the_call(
    box: Box, phones: SipPhones
) -> None:
    # Where the day's recording directory would go, a file: creating it fails like a
    # broken or read-only data partition does.
    recordings = box.data / "recordings"
    if recordings.exists():
        for p in sorted(recordings.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        recordings.rmdir()
    recordings.write_text("not a directory")
    callee = phones.registered_phone("9002", "uas_hangup", {"ring_ms": 300, "talk_ms": 2000})
    caller = phones.call("uac_call_callee_hangs_up", "9001", "9002")
    check(caller, callee.wait(timeout=15))
    row = cdr_for(box, "9001")
    assert row["answer"] is not None and row["cause"] == Q850_NORMAL_CLEARING, row
    assert row["recording"] is None, f"no recording exists, the CDR must not claim one: {row}"
    assert "recording" in box.log_text() and "failed" in box.log_text(), box.log_text(40)
    # and the next call is fine too
    callee = phones.registered_phone("9002", "uas_hangup", {"ring_ms": 300, "talk_ms": 1000})
    check(phones.call("uac_call_callee_hangs_up", "9001", "9002"), callee.wait(timeout=15))
    cdr_for(box, "9001", count=2)


def test_cancel_before_answer(box: Box, phones: SipPhones) -> None:
    callee = phones.registered_phone("9002", "uas_ring_only")
    caller = phones.call("uac_cancel", "9001", "9002", keys={"ring_ms": 1500})
    rang = callee.wait(timeout=10)
    check(caller, rang)
    assert caller.final_responses("INVITE")[-1] == 487
    assert rang.requests("CANCEL"), "the CANCEL must be forwarded to the ringing phone"

    row = cdr_for(box, "9001")
    assert row["cause"] == ORIGINATOR_CANCEL, row
    assert row["answer"] is None, row
    assert not row["talk_seconds"], row
    assert approx(row["ring_seconds"], 1.5, 0.8), row
    rec = row.get("recording")
    if rec:
        path = box.data / str(rec)
        assert not path.exists() or path.stat().st_size <= 44, f"unanswered call recorded: {rec}"
    assert all(p.stat().st_size <= 44 for p in box.recordings()), box.recordings()


def test_hold_and_resume_from_caller(box: Box, phones: SipPhones) -> None:
    callee = phones.registered_phone("9002", "uas_hold")
    caller = phones.call(
        "uac_hold", "9001", "9002",
        keys={"pre_hold_ms": 800, "held_ms": 1500, "talk_ms": 800},
    )  # fmt: skip
    held = callee.wait(timeout=15)
    check(caller, held)

    answers = [m for m in unique(caller.received("INVITE", 200)) if m.sdp_direction()]
    assert [m.sdp_direction() for m in answers] == ["sendrecv", "recvonly", "sendrecv"], [
        m.body for m in answers
    ]
    reinvites = unique(held.requests("INVITE"))[1:]
    assert [m.sdp_direction() for m in reinvites] == ["sendonly", "sendrecv"], [
        m.body for m in reinvites
    ]
    for m in reinvites:
        box_media(m, box)
    row = cdr_for(box, "9001")
    assert row["answer"] is not None and row["cause"] == Q850_NORMAL_CLEARING, row
    assert_sdp_reachable(*answers, *reinvites)


def test_unknown_number_gets_404(box: Box, phones: SipPhones) -> None:
    caller = phones.call("uac_reject", "9001", "7777")
    check(caller)
    assert caller.final_responses("INVITE") == [407, 404]


def test_known_but_unregistered_extension_gets_480(box: Box, phones: SipPhones) -> None:
    caller = phones.call("uac_reject", "9001", "9004")
    check(caller)
    assert caller.final_responses("INVITE") == [407, 480]


def test_busy_callee_486_is_passed_to_caller(box: Box, phones: SipPhones) -> None:
    callee = phones.registered_phone("9002", "uas_busy")
    caller = phones.call("uac_reject", "9001", "9002")
    busy = callee.wait(timeout=10)
    check(caller, busy)
    assert caller.final_responses("INVITE") == [407, 486]
    row = cdr_for(box, "9001")
    assert row["cause"] == Q850_USER_BUSY and row["answer"] is None, row
    assert not row.get("recording") or not (box.data / str(row["recording"])).exists(), row


def test_from_must_be_the_authenticated_extension(box: Box, phones: SipPhones) -> None:
    phones.registered_phone("9002", "uas_answer")
    # From: 9003, but credentials of 9001.
    caller = phones.call("uac_reject", "9003", "9002", auth_user="9001")
    check(caller)
    assert caller.final_responses("INVITE") == [407, 403]


# -- a real softphone ---------------------------------------------------------------
def test_baresip_calls_through_box(box: Box, phones: SipPhones, peers_dir: Path) -> None:
    callee = phones.registered_phone("9002", "uas_answer", {"ring_ms": 300})
    with Baresip(peers_dir / "baresip", box.uri("9003"), password=EXTENSIONS["9003"]) as phone:
        phone.start()
        problem = None
        try:
            phone.wait_registered(timeout=10)
        except BaresipError as e:
            problem = (
                f"{e}\nHINT: baresip 1.0.0 fails with 'Function not implemented' when any "
                "offered challenge is not MD5 (see test_peers_selfcheck)"
            )
        if problem:
            pytest.fail(problem, pytrace=False)
        assert bindings_for(box.status(), "9003"), box.status()
        mark = len(phone.events)
        phone.dial(box.uri("9002"))
        try:
            phone.wait_event("CALL_ESTABLISHED", timeout=10, since=mark)
        except BaresipError as e:
            problem = f"{e}\n{phone.log()}"
        if problem:
            pytest.fail(problem, pytrace=False)
        time.sleep(4)
        phone.hangup()
        phone.wait_event("CALL_CLOSED", timeout=5, since=mark)
        _, heard = phone.dumps()
    answered = callee.wait(timeout=10)
    check(answered)

    row = cdr_for(box, "9003")
    assert str(row["called"]) == "9002" and row["answer"] is not None, row
    assert row["released_by"] == "caller" and row["cause"] == Q850_NORMAL_CLEARING, row
    wav = read_wav(assert_recording_path(box, row))
    assert_g711_stereo(wav)
    profile = wav.describe()
    assert active_seconds(wav, CALLER) >= 2.5, profile
    assert active_seconds(wav, CALLEE) >= 2.0, profile
    # baresip sends a 700 Hz tone: it belongs on the caller's channel only.
    assert band_fraction(wav.channel(CALLER), wav.rate, 650, 750) > 0.8, profile
    assert band_fraction(wav.channel(CALLEE), wav.rate, 650, 750) < 0.2, profile
    # And baresip heard the callee's speech through the box.
    assert heard is not None
    assert active_seconds(read_wav(heard), 0) >= 2.0


# -- restart ------------------------------------------------------------------------
def test_restart_keeps_bindings_and_cdrs(box: Box, phones: SipPhones) -> None:
    port, reg = phones.register("9002", expires=600)
    check(reg)
    callee = phones.answer("uas_answer", "9002", port, {"ring_ms": 200})
    first = phones.call("uac_call", "9001", "9002", keys={"talk_ms": 2000})
    check(first, callee.wait(timeout=10))
    before = cdr_for(box, "9001")

    code = box.restart()
    assert code == 0, f"SIGINT must stop the box cleanly, exit code was {code}"

    assert bindings_for(box.status(), "9002", port), f"binding lost on restart: {box.status()}"
    assert before["call_id"] in [r["call_id"] for r in box.cdrs()], "CDR lost on restart"

    # The phone did not register again: the box still knows where it is.
    callee = phones.answer("uas_answer", "9002", port, {"ring_ms": 200})
    second = phones.call("uac_call", "9001", "9002", keys={"talk_ms": 2000})
    check(second, callee.wait(timeout=10))
    after = cdr_for(box, "9001", count=2)
    assert after["call_id"] != before["call_id"]
    assert after["answer"] is not None
    assert_recording_path(box, after)
