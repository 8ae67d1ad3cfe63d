"""The admin pages end to end: an admin configures a running box in headless Chromium
and sipp callers get what was configured.

The box is the integration tier's (`ccbox run --board sim`: switchd + webd, extensions
9001-9004). The scenario tests/browser/admin_site.mjs builds an extension, an agent, a
queue, an IVR flow (first with an error shown on its node, then fixed) and the DID that
runs it; a caller dialling the DID presses 1 and the extension the admin chose rings
and answers. Then the admin blacklists a caller, whose next call is rejected.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

from tests.browser.test_webui_browser import ROOT, SHOTS, _require_browser
from tests.integration.box import Box
from tests.integration.phones import SipPhones
from tests.integration.test_sip_box import cdr_for, check
from tests.peers.ports import free_block

pytestmark = pytest.mark.peers

ADMIN, PASSWORD = "admin", "Browser-Passw0rd-Site-9"
EXT, DID, BLOCKED = "8123", "96888", "9002"
CCBOX = str(Path(sys.executable).parent / "ccbox")


def _wav(path: Path, rate: int, channels: int, seconds: float) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = int(rate * seconds)
        w.writeframes(b"".join((((i * 37) % 2000) - 1000).to_bytes(2, "little", signed=True)
                               * channels for i in range(frames)))
    return path


def _run(phase: str, url: str, tmp: Path, **env: str) -> str:
    """One phase of admin_site.mjs; fails the test with its output if it fails."""
    full = {**os.environ, "CCBOX_URL": url, "CCBOX_USER": ADMIN, "CCBOX_PASSWORD": PASSWORD,
            "CCBOX_SHOTS": str(SHOTS), "CCBOX_PROFILE_ROOT": str(tmp), "CCBOX_PHASE": phase,
            "CCBOX_EXT": EXT, "CCBOX_DID": DID, **env}
    started = time.monotonic()
    run = subprocess.run(["node", str(ROOT / "tests" / "browser" / "admin_site.mjs")],
                         env=full, cwd=ROOT, capture_output=True, text=True, timeout=240)
    print(f"admin_site.mjs {phase}: {time.monotonic() - started:.1f} s\n{run.stdout}")
    assert run.returncode == 0, f"{phase} failed:\n{run.stdout}\n{run.stderr}"
    assert run.stdout.strip().endswith("ok")
    return run.stdout


def _oplog(box: Box) -> list[tuple[str, str, str]]:
    with sqlite3.connect(box.db_path) as db:
        return [tuple(r) for r in db.execute("SELECT actor, action, target FROM oplog")]


def test_admin_builds_a_hotline_in_the_browser_and_callers_get_it(
        box: Box, phones: SipPhones, tmp_path: Path) -> None:
    _require_browser()
    add = subprocess.run([CCBOX, "user", "add", ADMIN, "--role", "admin", "--password-stdin",
                          "--data", str(box.data)], input=PASSWORD + "\n", text=True,
                         capture_output=True, timeout=30)
    assert add.returncode == 0, add.stderr
    url = f"http://127.0.0.1:{box.ports.web}"
    out = _run("build", url, tmp_path, CCBOX_WAV=str(_wav(tmp_path / "hello.wav", 8000, 1, 2.0)),
               CCBOX_BAD_WAV=str(_wav(tmp_path / "cd.wav", 44100, 2, 0.5)))
    m = re.search(r"^ext-password=(\S+)$", out, re.M)
    assert m, out
    password = m.group(1)

    # a caller dials the DID, presses 1: the extension the admin wired to key 1 answers
    port, reg = phones.register(EXT, password=password)
    check(reg)
    callee = phones.answer("uas_answer", EXT, port, {"ring_ms": 200})
    caller = phones.dial("uac_ivr_dtmf", "9001", DID,
                         keys={"rtp_sink_port": free_block(2, align=2), "pre_dtmf_ms": 1500,
                               "talk_ms": 1000}, timeout=40)
    check(caller.wait(timeout=40), callee.wait(timeout=30))
    row = cdr_for(box, "9001")
    assert row["callee"] == EXT and row["called"] == DID, row

    # the admin blacklists 9002: its call to the DID is rejected, and says why
    _run("blacklist", url, tmp_path, CCBOX_BLOCK=BLOCKED)
    rejected = phones.call("uac_reject", BLOCKED, DID)
    check(rejected)
    assert rejected.final_responses("INVITE")[-1] == 603, rejected.final_responses("INVITE")
    assert json.loads(cdr_for(box, BLOCKED)["extra"])["route"] == f"blacklist {BLOCKED}"

    log = _oplog(box)
    for action, target in (("extension.add", EXT), ("site.agents.add", "web1"),
                           ("site.queues.add", "webq"), ("site.ivr_flows.add", "webflow"),
                           ("site.dids.add", DID), ("prompt.upload", "web_hello"),
                           ("site.blacklist.add", BLOCKED)):
        assert (ADMIN, action, target) in log, (action, target, log)
    assert not any(password in json.dumps(r) for r in log)
    for lang in ("zh", "en"):
        for name in ("index", "queues", "flow", "hardware", "prompts", "blacklist", "site"):
            assert (SHOTS / f"{lang}-admin-{name}.png").stat().st_size > 1000
