"""The agent desk, supervisor view and recording player in real Chromium against a real
box (`ccbox run`: switchd + webd) with sipp phones: the screen pop before the agent
answers, the supervisor page within 1 s, hang-up and notes from the desk, playback."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.db.connection import open_db
from firmware.db.models import OpLog
from firmware.db.web_models import CallNote, Customer, CustomerNumber
from tests.browser.test_webui_browser import CHROMIUM, ROOT, SHOTS, _require_browser
from tests.integration.box import Box, BoxPorts, add_extensions, ccbox
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.peers.ports import free_block, free_port, release_block, rtp_range

pytestmark = pytest.mark.peers

PASSWORD = "Desk-Test-Passw0rd"
AGENT_EXT, SUP_EXT, CALLER = "9002", "9003", "9001"
CUSTOMER = "王阿姨"
NOTE = "厨房有燃气味，已派抢修"
SITE = {
    "dids": [{"number": "7500", "target": "queue:desk"}],
    "queues": [{"name": "desk", "members": [AGENT_EXT], "supervisors": [SUP_EXT],
                "ring_timeout": 30}],
    "agents": [{"id": AGENT_EXT, "login": AGENT_EXT}],
}


@pytest.fixture
def live_box(tmp_path: Path) -> Iterator[Box]:
    _require_browser()
    data = tmp_path / "data"
    add_extensions(data)
    import_site(data, SITE)
    for name, role, extra in (("agent1", "agent", ["--agent", AGENT_EXT]),
                              ("sup1", "supervisor", [])):
        subprocess.run([str(ROOT / ".venv" / "bin" / "ccbox"), "user", "add", name, "--role",
                        role, *extra, "--password-stdin", "--data", str(data)],
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    with open_db(data).connection_context():
        c = Customer.create(name=CUSTOMER, address="幸福小区 3 号楼 201")
        CustomerNumber.create(customer=c, number=CALLER)
    ports = BoxPorts(sip=free_port(), web=free_port(), rtp=rtp_range(100))
    box = Box(data, ports, tmp_path / "box.log")
    box.start(timeout=30)
    try:
        yield box
    finally:
        box.stop()
        release_block(ports.rtp[0], ports.rtp[1] - ports.rtp[0] + 1)


def test_screen_pop_supervisor_view_notes_and_playback(live_box: Box, tmp_path: Path) -> None:
    box = live_box
    workdir = tmp_path / "sipp"
    workdir.mkdir()
    phones = SipPhones(box, workdir)
    try:
        # the agent's phone rings 3 s before it is picked up: the pop must come first
        agent_phone = phones.registered_phone(AGENT_EXT, "party_uas", {
            "ring_ms": 3000, "rtp_sink_port": free_block(2, align=2)}, timeout=90)
        env = {**os.environ, "CCBOX_URL": f"http://127.0.0.1:{box.ports.web}",
               "CCBOX_AGENT": "agent1", "CCBOX_SUP": "sup1", "CCBOX_PASSWORD": PASSWORD,
               "CCBOX_AGENT_EXT": AGENT_EXT, "CCBOX_SUP_EXT": SUP_EXT,
               "CCBOX_CALLER": CALLER, "CCBOX_CUSTOMER": CUSTOMER, "CCBOX_NOTE": NOTE,
               "CCBOX_SHOTS": str(SHOTS), "CCBOX_PROFILE_ROOT": str(tmp_path),
               "CCBOX_CHROMIUM": CHROMIUM}
        node = subprocess.Popen(["node", str(ROOT / "tests" / "browser" / "desk_flow.mjs")],
                                env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        out: list[str] = []
        waiting = threading.Event()

        def read() -> None:
            assert node.stdout is not None
            for line in node.stdout:
                out.append(line)
                if line.startswith("step: waiting for call"):
                    waiting.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        started = time.monotonic()
        caller = None
        while not waiting.wait(0.2):
            if node.poll() is not None or time.monotonic() - started > 90:
                break
        if waiting.is_set():
            caller = phones.dial("party_uac", CALLER, "7500",
                                 keys={"rtp_sink_port": free_block(2, align=2)}, timeout=60)
        try:
            code = node.wait(timeout=120)
        except subprocess.TimeoutExpired:
            node.kill()
            code = -1
        reader.join(5)
        err = node.stderr.read() if node.stderr is not None else ""
        print("".join(out))
        assert code == 0 and "".join(out).rstrip().endswith("ok"), (
            f"desk_flow.mjs failed ({code}):\n{''.join(out)}\n{err}\n{box.log_text(tail=80)}")
        assert caller is not None
        # the desk's hang-up released both phones
        assert caller.wait(timeout=30).ok and agent_phone.wait(timeout=30).ok
    finally:
        phones.close()
    with open_db(box.data).connection_context():
        note = CallNote.get()
        assert (note.text, note.disposition, note.author) == (NOTE, "resolved", "agent1")
        assert note.customer is not None and note.customer.name == CUSTOMER
        plays = [o.actor for o in OpLog.select().where(OpLog.action == "recording.play")]
        assert "sup1" in plays
    for lang in ("zh", "en"):
        for page in ("desk", "live", "wallboard", "status", "cdr-player"):
            assert (SHOTS / f"{lang}-{page}.png").stat().st_size > 1000, (lang, page)
    assert (SHOTS / "zh-desk-pop.png").stat().st_size > 1000
    assert ccbox(["cdr", "list", "--data", str(box.data)]).returncode == 0
