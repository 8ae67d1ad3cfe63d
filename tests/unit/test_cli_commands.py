"""`ccbox ext`, `ccbox cdr`, `ccbox status`, run as the installed command against a tmp dir."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from firmware.db.connection import open_db
from firmware.db.models import Cdr, Extension, Registration

CCBOX = str(Path(sys.executable).parent / "ccbox")


def ccbox(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CCBOX_DATA"}
    return subprocess.run(
        [CCBOX, *args, "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )


def _password(out: str) -> str:
    [line] = [ln for ln in out.splitlines() if ln.startswith("password: ")]
    return line.removeprefix("password: ")


def test_ext_add_generates_a_strong_password(tmp_path: Path) -> None:
    r = ccbox(tmp_path, "ext", "add", "8001", "--name", "坐席01")
    assert r.returncode == 0, r.stderr
    password = _password(r.stdout)
    assert len(password) >= 12 and password != "8001"
    open_db(tmp_path)
    ext = Extension.get(Extension.number == "8001")
    assert (ext.name, ext.sip_password, ext.enabled) == ("坐席01", password, True)


def test_ext_add_with_a_chosen_password(tmp_path: Path) -> None:
    r = ccbox(tmp_path, "ext", "add", "8002", "--password", "Good-Pass-42")
    assert r.returncode == 0, r.stderr
    assert _password(r.stdout) == "Good-Pass-42"


@pytest.mark.parametrize(
    ("number", "password", "message"),
    [
        ("8003", "short", "too short"),
        ("12345678", "12345678", "must not be the extension number"),
        ("8003", "has a space", "spaces"),
    ],
)
def test_ext_add_rejects_weak_passwords(
    tmp_path: Path, number: str, password: str, message: str
) -> None:
    r = ccbox(tmp_path, "ext", "add", number, "--password", password)
    assert r.returncode == 1
    assert message in r.stderr
    open_db(tmp_path)
    assert Extension.select().count() == 0


def test_ext_add_rejects_duplicates_and_bad_numbers(tmp_path: Path) -> None:
    assert ccbox(tmp_path, "ext", "add", "8001").returncode == 0
    r = ccbox(tmp_path, "ext", "add", "8001")
    assert r.returncode == 1 and "already exists" in r.stderr
    r = ccbox(tmp_path, "ext", "add", "80a1")
    assert r.returncode == 1 and "digits" in r.stderr


def test_ext_list_masks_secrets_and_shows_contacts(tmp_path: Path) -> None:
    password = _password(ccbox(tmp_path, "ext", "add", "8001", "--name", "坐席01").stdout)
    ccbox(tmp_path, "ext", "add", "8002")
    open_db(tmp_path)
    Registration.create(
        aor="8001",
        contact="sip:8001@10.1.2.3:5062",
        source="10.1.2.3:5062",
        transport="udp",
        expires_at=4_000_000_000.0,
    )
    Registration.create(
        aor="8002",
        contact="sip:8002@10.1.2.4:5060",
        source="10.1.2.4:5060",
        transport="tcp",
        expires_at=1.0,
    )  # long expired

    r = ccbox(tmp_path, "ext", "list")
    assert r.returncode == 0, r.stderr
    assert password not in r.stdout
    lines = r.stdout.splitlines()
    assert lines[0].split()[:2] == ["number", "name"]
    [row1] = [ln for ln in lines if ln.startswith("8001")]
    assert "坐席01" in row1 and "********" in row1 and "sip:8001@10.1.2.3:5062 (udp)" in row1
    [row2] = [ln for ln in lines if ln.startswith("8002")]
    assert "sip:8002" not in row2

    r = ccbox(tmp_path, "ext", "list", "--show-secrets")
    assert password in r.stdout


def test_ext_del(tmp_path: Path) -> None:
    ccbox(tmp_path, "ext", "add", "8001")
    open_db(tmp_path)
    Registration.create(
        aor="8001",
        contact="sip:8001@10.1.2.3:5062",
        source="10.1.2.3:5062",
        transport="udp",
        expires_at=4_000_000_000.0,
    )
    r = ccbox(tmp_path, "ext", "del", "8001")
    assert r.returncode == 0 and "deleted" in r.stdout
    assert Extension.select().count() == 0 and Registration.select().count() == 0
    r = ccbox(tmp_path, "ext", "del", "8001")
    assert r.returncode == 1 and "no extension 8001" in r.stderr


def test_cdr_list(tmp_path: Path) -> None:
    assert "no call records" in ccbox(tmp_path, "cdr", "list").stdout
    open_db(tmp_path)
    for i in range(5):
        start = 1_700_000_000.0 + i * 60
        Cdr.create(
            call_id=f"call-{i}",
            direction="in",
            caller="13800138000",
            called="8001",
            callee="8001",
            start=start,
            answer=start + 3,
            end=start + 33,
            ring_seconds=3.0,
            talk_seconds=30.0,
            cause=16,
            cause_text="NORMAL_CLEARING",
            released_by="caller",
            recording=f"recordings/2023/11/14/call-{i}.wav",
        )
    r = ccbox(tmp_path, "cdr", "list", "--limit", "3")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 4
    assert "call-4" in lines[1] and "call-2" in lines[3]  # newest first
    assert "16 NORMAL_CLEARING" in lines[1] and "recordings/2023/11/14/call-4.wav" in lines[1]


def test_status_without_switchd_exits_3(tmp_path: Path) -> None:
    r = ccbox(tmp_path, "status")
    assert r.returncode == 3
    assert f"switchd is not running (no {tmp_path}/run/switchd.sock)" in r.stderr


def test_status_with_a_stale_socket_file_exits_3(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(tmp_path / "run" / "switchd.sock"))
    s.close()  # the file stays, nobody listens: what a crashed switchd leaves
    r = ccbox(tmp_path, "status")
    assert r.returncode == 3 and "switchd is not running" in r.stderr


def test_status_prints_what_switchd_says(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(tmp_path / "run" / "switchd.sock"))
    server.listen(1)
    requests: list[dict[str, object]] = []

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            requests.append(json.loads(conn.makefile("rb").readline()))
            reply = {
                "ok": True,
                "uptime": 3725,
                "registrations": 2,
                "active_calls": 1,
                "trunks": {"e1_1": "up"},
            }
            conn.sendall(json.dumps(reply).encode() + b"\n")

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    r = ccbox(tmp_path, "status")
    t.join(5)
    server.close()
    assert r.returncode == 0, r.stderr
    assert requests == [{"cmd": "status"}]
    assert "uptime" in r.stdout and "1h 02m 05s" in r.stdout
    assert "registrations" in r.stdout and "active calls" in r.stdout
    assert "e1 1" in r.stdout and "up" in r.stdout


def test_data_dir_must_exist_except_for_run(tmp_path: Path) -> None:
    r = ccbox(tmp_path / "typo", "ext", "list")
    assert r.returncode == 1 and "does not exist" in r.stderr
    assert not (tmp_path / "typo").exists()
