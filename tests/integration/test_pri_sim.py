"""E1 PRI on board `sim`: calls between the simulated PSTN (libpri in NET mode at the far
end of the emulated span) and sipp phones, through the real box (`ccbox run`)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import wave
from pathlib import Path
from typing import Any

import numpy as np

from tests.integration.box import CCBOX, Box, _env
from tests.integration.phones import SipPhones
from tests.peers.wav import active_seconds, read_wav

CALLER = "13800138000"


def control(box: Box, request: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    """One JSON command on switchd's control socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(box.status_socket))
        s.sendall(json.dumps(request).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    reply = json.loads(buf)
    assert isinstance(reply, dict)
    return reply


def pstn_call(box: Box, number: str, **kw: Any) -> dict[str, Any]:
    reply = control(box, {"cmd": "pstn_call", "number": number, "from": CALLER, **kw})
    assert reply.get("ok"), reply
    report = reply["call"]
    assert isinstance(report, dict)
    return report


def tone_wav(path: Path, seconds: float = 8.0, freq: float = 700.0) -> Path:
    t = np.arange(int(8000 * seconds)) / 8000
    pcm = (6000 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm.tobytes())
    return path


def span_status(box: Box) -> dict[str, Any]:
    spans = box.status()["spans"]
    assert isinstance(spans, list) and len(spans) == 1
    span = spans[0]
    assert isinstance(span, dict)
    return span


def test_pstn_call_reaches_a_sip_phone_with_caller_number_and_audio_both_ways(
    box: Box, phones: SipPhones, tmp_path: Path
) -> None:
    assert span_status(box)["dchannel"] == "up"
    uas = phones.registered_phone("9002", "uas_answer", keys={"ring_ms": 200})
    wav = tone_wav(tmp_path / "caller.wav")
    # through the CLI verb, as an installer would
    cli = subprocess.run(
        [str(CCBOX), "pstn", "call", "9002", "--from", CALLER, "--play", str(wav),
         "--seconds", "4", "--data", str(box.data)],
        capture_output=True, text=True, timeout=60, env=_env(), check=False)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert "answered after" in cli.stdout and "released by pstn, cause 16" in cli.stdout
    result = uas.wait(timeout=20)
    assert result.ok, result.report()
    invite = result.received("INVITE")[0]
    assert CALLER in (invite.header("From") or "")
    assert "sip:9002@" in invite.start_line

    (cdr,) = box.wait_cdrs(1)
    assert (cdr["caller"], cdr["called"], cdr["callee"]) == (CALLER, "9002", "9002")
    assert cdr["direction"] == "inbound"
    assert cdr["cause"] == 16 and cdr["released_by"] == "caller"
    rec = read_wav(box.wait_recording(box.data / cdr["recording"]))
    # left: the E1 caller's tone; right: the phone's g711a.pcap speech
    assert active_seconds(rec, 0) > 3.0, rec.describe()
    assert active_seconds(rec, 1) > 2.0, rec.describe()


def test_the_phone_hangs_up_and_the_pstn_hears_normal_clearing(
    box: Box, phones: SipPhones
) -> None:
    uas = phones.registered_phone("9002", "uas_hangup", keys={"ring_ms": 100, "talk_ms": 1500})
    report = pstn_call(box, "9002", seconds=20)
    assert uas.wait(timeout=20).ok
    assert report["released_by"] == "box" and report["cause"] == 16
    assert report["answer_ms"] is not None
    assert report["heard_seconds"] > 1.0 and report["heard_dbfs"] > -45  # the phone's speech
    (cdr,) = box.wait_cdrs(1)
    assert cdr["released_by"] == "callee" and cdr["cause"] == 16


def test_a_busy_phone_gives_the_pstn_cause_17(box: Box, phones: SipPhones) -> None:
    uas = phones.registered_phone("9002", "uas_busy")
    report = pstn_call(box, "9002", seconds=5)
    assert uas.wait(timeout=20).ok
    assert report["cause"] == 17 and report["answer_ms"] is None


def test_unknown_number_and_unregistered_extension(box: Box) -> None:
    assert pstn_call(box, "5555", seconds=1)["cause"] == 1  # unallocated number
    assert pstn_call(box, "9003", seconds=1)["cause"] == 20  # subscriber absent


def test_post_dial_delay_of_an_answering_phone(box: Box, phones: SipPhones) -> None:
    """Figure for issue 4: SETUP to CONNECT when the phone answers at once (ring_ms 0)."""
    uas = phones.registered_phone("9002", "uas_answer", keys={"ring_ms": 0})
    report = pstn_call(box, "9002", seconds=1)
    assert uas.wait(timeout=20).ok
    print(f"post-dial delay SETUP->CONNECT: {report['answer_ms']} ms "
          f"(CALL PROCEEDING after {report['proceeding_ms']} ms)")
    assert report["proceeding_ms"] is not None and report["proceeding_ms"] < 50
    assert report["answer_ms"] is not None and report["answer_ms"] < 500


def test_sip_phone_calls_out_through_the_e1(box: Box, phones: SipPhones) -> None:
    result = phones.call("uac_call", "9001", "013800138000", keys={"talk_ms": 2000})
    assert result.ok, result.report()
    assert 200 in result.final_responses()
    (cdr,) = box.wait_cdrs(1)
    assert cdr["direction"] == "outbound" and cdr["called"] == "013800138000"
    assert cdr["callee"] == "span1/31"
    sims = control(box, {"cmd": "pstn_status"})["simulators"]
    (last,) = sims[0]["recent"]
    assert (last["number"], last["caller"], last["direction"]) == (CALLER, "9001", "from-box")
    assert last["released_by"] == "box" and last["cause"] == 16
    assert last["heard_seconds"] > 1.0 and last["heard_dbfs"] > -45  # g711a.pcap speech
    rec = read_wav(box.wait_recording(box.data / cdr["recording"]))
    assert active_seconds(rec, 0) > 1.0, rec.describe()  # the phone
    assert active_seconds(rec, 1) > 1.0, rec.describe()  # the PSTN party's tone


def test_thirty_one_outbound_calls_the_last_gets_no_circuit(
    box: Box, phones: SipPhones
) -> None:
    # 30 calls fill the span (the simulated PSTN answers and keeps them), the 31st finds
    # no B-channel: Q.850 34, i.e. 503 to the phone.
    sipp = phones.sipp("uac_call", service="013800138000", user="9001",
                       password="S3cret-9001x", keys={"user": "9001", "talk_ms": 8000},
                       calls=30, timeout=40, extra_args=["-l", "30", "-r", "30"])
    sipp.start()
    try:
        box_ok = False
        for _ in range(100):
            span = span_status(box)
            if span["idle"] == 0:
                box_ok = True
                break
            time.sleep(0.1)
        assert box_ok, span
        one = phones.sipp("uac_call", service="013800138000", user="9001",
                          password="S3cret-9001x", keys={"user": "9001"}, timeout=10).run()
        assert one.final_responses() == [407, 503], one.report()
    finally:
        thirty = sipp.wait(timeout=60)
    assert thirty.ok, thirty.report()
    cdrs = box.wait_cdrs(31, timeout=10)
    assert sorted(c["cause"] for c in cdrs).count(34) == 1
