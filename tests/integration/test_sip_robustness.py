"""The box over TCP, and the box under abuse: garbage and torture messages fired at it
during a live call must not disturb the call or anyone else."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path

import pytest

from tests.integration.box import EXTENSIONS, Box
from tests.integration.phones import SipPhones
from tests.integration.test_sip_box import assert_recording_path, cdr_for, check
from tests.peers.ports import free_port
from tests.peers.wav import read_wav, rms

pytestmark = pytest.mark.peers

VECTORS = Path(__file__).parent.parent / "vectors" / "rfc4475"
TCP = ["-t", "t1"]


def test_register_and_call_over_tcp(box: Box, phones: SipPhones) -> None:
    port = free_port()
    reg = phones.sipp("register_auth", local_port=port, user="9002",
                      password=EXTENSIONS["9002"], keys={"user": "9002", "expires": 300},
                      extra_args=TCP).run()
    check(reg)
    [binding] = [b for b in box.status()["registrations"] if b["aor"] == "9002"]
    assert binding["source"].startswith("tcp:"), binding
    callee = phones.sipp("uas_answer", remote=None, local_port=port,
                         keys={"user": "9002", "challenge": "no", "ring_ms": 300},
                         extra_args=TCP).start().wait_ready()
    caller = phones.sipp("uac_call", service="9002", user="9001", password=EXTENSIONS["9001"],
                         keys={"user": "9001", "pre_play_ms": 200, "talk_ms": 3000},
                         extra_args=TCP).run()
    answered = callee.wait(timeout=15)
    check(caller, answered)
    assert all(m.transport == "TCP" for m in answered.messages), "the box must call over TCP"
    row = cdr_for(box, "9001")
    assert row["answer"] is not None and row["cause"] == 16, row
    wav = read_wav(assert_recording_path(box, row))
    for ch in (0, 1):
        assert rms(wav.segment(ch, 0.5, wav.seconds - 0.2)) > 100, wav.describe()


def _abuse(port: int, seconds: float) -> int:
    """Fire torture vectors, random bytes and oversized datagrams at the box."""
    vectors = [p.read_bytes() for p in sorted(VECTORS.glob("*.dat"))]
    rng = random.Random(4475)
    sent = 0
    end = time.monotonic() + seconds
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        while time.monotonic() < end:
            for payload in (
                rng.choice(vectors),
                rng.randbytes(rng.randint(1, 1400)),
                b"INVITE sip:9002@x SIP/2.0\r\n" + rng.randbytes(200) + b"\r\n\r\n",
                b"X" * 65000,
            ):
                s.sendto(payload, ("127.0.0.1", port))
                sent += 1
            # TCP: a connection that sends garbage and one that never finishes its headers
            with socket.create_connection(("127.0.0.1", port), timeout=2) as t:
                t.sendall(rng.randbytes(300) + b"\r\n\r\n")
            time.sleep(0.02)
    return sent


def test_garbage_during_a_call_disturbs_nobody(box: Box, phones: SipPhones) -> None:
    callee = phones.registered_phone("9002", "uas_answer", {"ring_ms": 300})
    call = phones.dial("uac_call", "9001", "9002", keys={"pre_play_ms": 200, "talk_ms": 5000})
    time.sleep(1.5)
    sent = _abuse(box.sip_port, 3.0)
    caller = call.wait()
    answered = callee.wait(timeout=15)
    check(caller, answered)
    row = cdr_for(box, "9001")
    assert row["answer"] is not None and row["cause"] == 16 and row["released_by"] == "caller"
    wav = read_wav(assert_recording_path(box, row))
    for ch in (0, 1):
        assert rms(wav.segment(ch, 1.0, wav.seconds - 0.5)) > 100, wav.describe()
    # still serving: a new registration works and status answers
    _, reg = phones.register("9003")
    check(reg)
    status = box.status()
    assert status["counters"]["parse_errors"] > 0, status["counters"]
    log = box.log_text()
    assert "malformed SIP" in log  # the box says what is wrong
    assert "Traceback" not in log and " ERROR" not in log, log[-3000:]
    assert sent > 100
