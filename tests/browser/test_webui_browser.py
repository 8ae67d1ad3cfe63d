"""The web UI in real headless Chromium (Debian's), driven by Playwright scripts in Node.

pytest sets the box up -- webd on a free port, a data dir with an admin made by the CLI,
a call record with a real WAV -- and runs `node tests/browser/<scenario>.mjs`; the
scenario fails by exiting non-zero. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from firmware.db.connection import open_db
from firmware.db.models import Extension, OpLog, User
from tests.peers.ports import free_port
from tests.webtools.fixture import RECORDING, add_cdr, write_wav

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CCBOX = str(Path(sys.executable).parent / "ccbox")
ADMIN, ADMIN_PASSWORD = "admin", "Browser-Test-Passw0rd"


@dataclass
class Webd:
    url: str
    data_dir: Path
    tmp: Path


def _require_browser() -> None:
    missing = [p for p in (shutil.which("node"), CHROMIUM if os.path.exists(CHROMIUM) else None,
                           (ROOT / "node_modules" / "playwright-core").exists() or None)
               if not p]
    if missing:
        pytest.fail("browser tier needs node, Debian chromium and node_modules/playwright-core:"
                    " run scripts/bootstrap.sh (or make test)")


@pytest.fixture
def webd(tmp_path: Path) -> Iterator[Webd]:
    _require_browser()
    data = tmp_path / "data"
    data.mkdir()
    add = subprocess.run([CCBOX, "user", "add", ADMIN, "--role", "admin", "--password-stdin",
                          "--data", str(data)], input=ADMIN_PASSWORD + "\n", text=True,
                         capture_output=True, timeout=30)
    assert add.returncode == 0, add.stderr
    open_db(data)
    write_wav(data / RECORDING)
    add_cdr("call-1", time.time() - 3600, RECORDING)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "webui.daemon", "--data", str(data),
                             "--web-port", str(port), "--host", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"webd did not start: {proc.communicate()}")
            time.sleep(0.05)
    try:
        yield Webd(url, data, tmp_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert ADMIN_PASSWORD not in out + err  # secrets never logged


def _scenario(name: str, w: Webd) -> str:
    env = {**os.environ, "CCBOX_URL": w.url, "CCBOX_USER": ADMIN,
           "CCBOX_PASSWORD": ADMIN_PASSWORD, "CCBOX_SHOTS": str(SHOTS),
           "CCBOX_PROFILE_ROOT": str(w.tmp)}
    started = time.monotonic()
    run = subprocess.run(["node", str(ROOT / "tests" / "browser" / name)], env=env,
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    print(f"{name}: {time.monotonic() - started:.1f} s\n{run.stdout}")
    assert run.returncode == 0, f"{name} failed:\n{run.stdout}\n{run.stderr}"
    return run.stdout


def test_admin_signs_in_adds_extension_plays_recording_in_both_languages(webd: Webd) -> None:
    out = _scenario("admin_flow.mjs", webd)
    assert out.strip().endswith("ok")
    with open_db(webd.data_dir).connection_context():
        ext = Extension.get(Extension.number == "8123")
        assert ext.name == "测试分机"
        actions = [(o.action, o.target) for o in OpLog.select().order_by(OpLog.id)]
        assert ("extension.add", "8123") in actions
        assert ("recording.play", "call-1") in actions
        # The generated SIP password is on no log line.
        for o in OpLog.select():
            assert ext.sip_password not in json.dumps([o.before, o.after])
        assert User.get(User.name == ADMIN).language == "en"
    for lang in ("zh", "en"):
        for page in ("signin", "dashboard", "extensions", "cdrs", "cdr"):
            assert (SHOTS / f"{lang}-{page}.png").stat().st_size > 1000
