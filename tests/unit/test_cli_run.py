"""`ccbox run` end to end with the real daemons, and webd on its own."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from firmware.db.connection import open_db
from firmware.db.demo import ensure_demo_data

CCBOX = str(Path(sys.executable).parent / "ccbox")


def _free_port() -> int:
    # Free for TCP and UDP alike, as the SIP port must be.
    for _ in range(50):
        with socket.socket() as t:
            t.bind(("0.0.0.0", 0))
            port: int = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("0.0.0.0", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port")


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.read().decode("utf-8")


def _wait_http(url: str, proc: subprocess.Popen[str], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"daemon exited: {proc.communicate()}")
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} never answered")


def test_webd_sends_anonymous_users_to_signin_and_stops_cleanly(tmp_path: Path) -> None:
    demo = ensure_demo_data(open_db(tmp_path))
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "webui.daemon",
            "--data",
            str(tmp_path),
            "--web-port",
            str(port),
            "--host",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, "ok")
        status, page = _get(f"http://127.0.0.1:{port}/")  # redirected to the sign-in page
        assert status == 200
        assert 'action="/signin"' in page and "登录" in page
        # No admin yet: the page says how to make the first one (there is no default).
        assert "ccbox user add NAME --role admin" in page
        assert "8101" not in page
        for _, _, password in demo:
            assert password not in page
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
    assert proc.returncode == 0


def test_ccbox_run_starts_both_daemons_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "run-data"  # run creates it
    sip, web = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    proc = subprocess.Popen(
        [
            CCBOX,
            "run",
            "--board",
            "sim",
            "--data",
            str(data),
            "--sip-port",
            str(sip),
            "--web-port",
            str(web),
            "--rtp-ports",
            "12000-12099",
            "--advertise",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    out = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        out.append(line)
        if line.strip() == "ccbox ready":
            break
    text = "".join(out)
    if "ccbox ready" not in text:
        proc.kill()
        pytest.fail(f"not ready:\n{text}\n{proc.communicate()[1]}")
    try:
        assert f"127.0.0.1:{sip}" in text and "UDP and TCP" in text
        assert f"http://127.0.0.1:{web}/" in text and "8001" in text and "坐席01" in text
        assert (data / "run" / "switchd.sock").is_socket()
        assert _get(f"http://127.0.0.1:{web}/healthz") == (200, "ok")
        status = subprocess.run(
            [CCBOX, "status", "--data", str(data)], capture_output=True, text=True, timeout=10
        )
        assert status.returncode == 0, status.stderr
        assert "uptime" in status.stdout
        assert "No web admin yet" in text and "ccbox user add NAME --role admin" in text
        _signed_in_dashboard_shows_switchd(data, web)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def _signed_in_dashboard_shows_switchd(data: Path, web: int) -> None:
    """The first admin from the CLI signs in; the dashboard has switchd's live status."""
    add = subprocess.run(
        [CCBOX, "user", "add", "boss", "--role", "admin", "--password-stdin", "--data", str(data)],
        input="Run-Test-Passw0rd\n", capture_output=True, text=True, timeout=30,
    )
    assert add.returncode == 0, add.stderr
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    base = f"http://127.0.0.1:{web}"
    with opener.open(f"{base}/signin", timeout=5) as r:
        token = re.search(r'name="csrf" value="([^"]+)"', r.read().decode()).group(1)  # type: ignore[union-attr]
    form = urllib.parse.urlencode(
        {"name": "boss", "password": "Run-Test-Passw0rd", "csrf": token}
    ).encode()
    with opener.open(f"{base}/signin", data=form, timeout=5) as r:
        page = r.read().decode()  # redirected to the dashboard
    assert 'id="status"' in page and 'id="registrations">0<' in page
    assert "<td>span1</td>" in page  # the sim board's E1 span


def test_webd_talks_sd_notify_under_systemd(tmp_path: Path) -> None:
    open_db(tmp_path).close()
    notify_path = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify_path))
    listener.settimeout(10)
    port = _free_port()
    env = dict(os.environ, NOTIFY_SOCKET=str(notify_path), WATCHDOG_USEC="400000")
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "webui.daemon",
            "--data",
            str(tmp_path),
            "--web-port",
            str(port),
            "--host",
            "127.0.0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    seen: list[str] = []
    try:
        while "WATCHDOG=1" not in seen:
            seen.append(listener.recv(4096).decode())
        assert seen[0] == "READY=1"
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, "ok")
        proc.send_signal(signal.SIGTERM)
        while "STOPPING=1" not in seen:
            seen.append(listener.recv(4096).decode())
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=10)
        listener.close()
    assert proc.returncode == 0
