"""`ccbox pstn call`: the request it sends to switchd and how it shows the report."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

CCBOX = str(Path(sys.executable).parent / "ccbox")

REPORT = {
    "id": 1, "direction": "to-box", "channel": 1, "number": "96777",
    "caller": "13800138000", "proceeding_ms": 0.9, "alerting_ms": 3.0, "answer_ms": 15.2,
    "talk_seconds": 4.0, "cause": 16, "cause_text": "Normal Clearing",
    "released_by": "pstn", "heard_seconds": 3.9, "heard_dbfs": -21.5,
}  # fmt: skip


def fake_switchd(data: Path, reply: dict[str, Any]) -> tuple[threading.Thread, list[Any]]:
    (data / "run").mkdir(parents=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(data / "run" / "switchd.sock"))
    server.listen(1)
    requests: list[Any] = []

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            requests.append(json.loads(conn.makefile("rb").readline()))
            conn.sendall(json.dumps(reply).encode() + b"\n")
        server.close()

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    return t, requests


def ccbox(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CCBOX_DATA"}
    return subprocess.run([CCBOX, *args, "--data", str(data)], capture_output=True,
                          text=True, timeout=30, env=env, check=False)


def test_pstn_call_sends_the_request_and_prints_the_report(tmp_path: Path) -> None:
    wav = tmp_path / "hello.wav"
    wav.write_bytes(b"RIFF")  # only its existence is checked here; switchd reads it
    t, requests = fake_switchd(tmp_path, {"ok": True, "call": REPORT})
    r = ccbox(tmp_path, "pstn", "call", "96777", "--from", "13800138000",
              "--play", str(wav), "--dtmf", "1", "--seconds", "4")
    t.join(5)
    assert r.returncode == 0, r.stderr
    assert requests == [{"cmd": "pstn_call", "number": "96777", "from": "13800138000",
                         "seconds": 4.0, "play": str(wav.resolve()), "dtmf": "1"}]
    assert "call 13800138000 -> 96777 on B-channel 1" in r.stdout
    assert "answered after 15 ms" in r.stdout
    assert "released by pstn, cause 16 (Normal Clearing)" in r.stdout


def test_pstn_call_not_answered_exits_1(tmp_path: Path) -> None:
    t, _ = fake_switchd(tmp_path, {"ok": True, "call": {
        **REPORT, "answer_ms": None, "cause": 17, "cause_text": "User busy",
        "released_by": "box", "heard_seconds": 0}})
    r = ccbox(tmp_path, "pstn", "call", "9002")
    t.join(5)
    assert r.returncode == 1
    assert "not answered" in r.stdout and "cause 17 (User busy)" in r.stdout


def test_pstn_call_with_a_missing_file(tmp_path: Path) -> None:
    r = ccbox(tmp_path, "pstn", "call", "9002", "--play", str(tmp_path / "nope.wav"))
    assert r.returncode == 1 and "no such file" in r.stderr


def test_pstn_call_error_from_switchd(tmp_path: Path) -> None:
    t, _ = fake_switchd(tmp_path, {"ok": False, "error": "unknown command 'pstn_call'"})
    r = ccbox(tmp_path, "pstn", "call", "9002")
    t.join(5)
    assert r.returncode == 4 and "unknown command" in r.stderr


def test_pstn_call_on_an_fxo_line(tmp_path: Path) -> None:
    report = {"id": 2, "direction": "to-box", "caller": "13912345678", "number": "",
              "caller_id": "dtmf", "hangup_method": "busy", "rings": 1, "answer_ms": 2100.0,
              "talk_seconds": 3.0, "released_by": "pstn", "result": "answered",
              "disconnect_detect_ms": 1420.0, "heard_seconds": 2.5, "heard_dbfs": -20.0}
    t, requests = fake_switchd(tmp_path, {"ok": True, "call": report})
    r = ccbox(tmp_path, "pstn", "call", "--line", "fxo1", "--from", "13912345678",
              "--cid", "dtmf", "--hangup", "busy", "--seconds", "3")
    t.join(5)
    assert r.returncode == 0, r.stderr
    assert requests == [{"cmd": "pstn_call", "number": "", "from": "13912345678",
                         "seconds": 3.0, "line": "fxo1", "cid": "dtmf", "hangup": "busy"}]
    assert "caller ID dtmf, 1 ring(s)" in r.stdout
    assert "the box noticed the busy after 1420 ms" in r.stdout
