"""IVR and queues on real calls.

A sipp caller dials an IVR number, hears the prompt (captured by a plain UDP socket
given as the caller's SDP media port), presses 1 with RFC 4733, and the flow transfers
the call to a sipp UAS registered as extension 9002 (7000), or to the `repair` queue
whose agents 9002 and 9003 are sipp UASes (7001). The E1 test calls 7001 from the PSTN
simulator with an in-band 1."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import numpy as np
import pytest

from firmware.media import g711
from firmware.media.codecs import Codec
from firmware.media.player import load_encoded
from tests.integration.box import Box, clone_data_dir
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.integration.test_sip_box import cdr_for, check
from tests.peers.ports import free_block

pytestmark = pytest.mark.peers

IVR_NUMBER = "7000"
QUEUE_NUMBER = "7001"
WAIT_NUMBER = "7002"
CALLBACK_NUMBER = "7003"
TEST_FLOW = {
    "schema": 1, "id": "test_menu", "version": 3, "entry": "welcome",
    "nodes": {
        "welcome": {"kind": "play", "prompts": ["gas_welcome"], "barge_in": True,
                    "next": "menu"},
        "menu": {"kind": "menu", "prompt": ["gas_main_menu"], "branches": {"1": "agent"},
                 "timeout": 5, "retries": 1, "on_invalid": "bye", "on_timeout": "bye"},
        "agent": {"kind": "transfer", "to": "extension", "target": "9002",
                  "on_fail": "bye"},
        "bye": {"kind": "play", "prompts": ["goodbye"], "next": "end"},
        "end": {"kind": "hangup", "cause": 16},
    },
}
QUEUE_FLOW = {
    "schema": 1, "id": "test_queue", "version": 1, "entry": "welcome",
    "nodes": {
        "welcome": {"kind": "play", "prompts": ["gas_welcome"], "barge_in": True,
                    "next": "menu"},
        "menu": {"kind": "menu", "prompt": ["gas_main_menu"], "branches": {"1": "repair"},
                 "timeout": 5, "retries": 1, "on_invalid": "bye", "on_timeout": "bye"},
        "repair": {"kind": "transfer", "to": "queue", "target": "repair", "on_fail": "bye"},
        "bye": {"kind": "play", "prompts": ["goodbye"], "next": "end"},
        "end": {"kind": "hangup", "cause": 16},
    },
}
WAIT_FLOW = {
    "schema": 1, "id": "test_wait", "version": 1, "entry": "queue",
    "nodes": {"queue": {"kind": "transfer", "to": "queue", "target": "waiting"}},
}
CALLBACK_FLOW = {
    "schema": 1, "id": "test_callback", "version": 1, "entry": "queue",
    "nodes": {"queue": {"kind": "transfer", "to": "queue", "target": "cbq"}},
}
SITE = {
    "dids": [{"number": IVR_NUMBER, "target": "flow:test_menu"},
             {"number": QUEUE_NUMBER, "target": "flow:test_queue"},
             {"number": WAIT_NUMBER, "target": "flow:test_wait"},
             {"number": CALLBACK_NUMBER, "target": "flow:test_callback"}],
    # smart routing off: every test call comes from 9001, and 智能路由 would send it back
    # to the agent who served 9001 last instead of taking the round-robin turn
    "queues": [{"name": "repair", "strategy": "round-robin", "members": ["9002", "9003"],
                "ring_timeout": 8, "smart_routing": False},
               # nobody logged in: callers wait with announcements and music on hold
               {"name": "waiting", "members": ["9004"], "announce_frequency": 30},
               {"name": "cbq", "members": ["9004"], "callback_key": "1"}],
    "agents": [{"id": "9002", "login": "9002"}, {"id": "9003", "login": "9003"},
               {"id": "9004"}],
    "ivr_flows": [TEST_FLOW, QUEUE_FLOW, WAIT_FLOW, CALLBACK_FLOW],
}
PSTN_CALLER = "13800138000"


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path) -> Path:
    """The usual data dir with the test site imported (read by the box at start)."""
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    import_site(data, SITE)
    return data


class RtpSink:
    """A UDP socket standing in for the caller's RTP port: keeps (arrival, packet)."""

    def __init__(self) -> None:
        self.port = free_block(2, align=2)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.settimeout(0.2)
        self.packets: list[tuple[float, bytes]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RtpSink:
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            self.packets.append((time.monotonic(), data))

    def audio(self, pt: int) -> list[tuple[float, bytes]]:
        return [(t, p[12:]) for t, p in self.packets if len(p) > 12 and p[1] & 0x7F == pt]


def test_ivr_plays_prompt_and_rfc4733_key_transfers_to_extension(
        box: Box, phones: SipPhones) -> None:
    callee = phones.registered_phone("9002", "uas_answer", {"ring_ms": 500})
    with RtpSink() as sink:
        call = phones.dial("uac_ivr_dtmf", "9001", IVR_NUMBER,
                           keys={"rtp_sink_port": sink.port, "pre_dtmf_ms": 2500,
                                 "talk_ms": 4000})
        caller = call.wait(timeout=40)
        answered = callee.wait(timeout=20)
    check(caller, answered)

    # The welcome prompt reached the caller as paced 20 ms PCMA frames with speech in it.
    audio = sink.audio(pt=8)
    assert len(audio) >= 80, f"expected >= 1.6 s of prompt audio, got {len(audio)} packets"
    assert all(len(p) == 160 for _, p in audio), {len(p) for _, p in audio}
    # byte for byte the stock prompt: the player sends the file's frames unaltered
    welcome = load_encoded(box.data / "prompts" / "stock" / "gas_welcome.wav", Codec.PCMA)
    assert b"".join(p for _, p in audio[:25]) == welcome[:25 * 160]
    first = [(t, p) for t, p in audio if t - audio[0][0] < 2.0]
    span = first[-1][0] - first[0][0]
    assert span >= 0.02 * (len(first) - 1) * 0.8, f"{len(first)} frames in {span:.2f}s: a burst"
    pcm = g711.decode(Codec.PCMA, b"".join(p for _, p in first)).astype(np.float64)
    rms = float(np.sqrt(np.mean(pcm**2)))
    assert rms > 300, f"prompt audio too quiet to be speech: rms {rms:.0f}"

    # Key 1 took the call to 9002.
    assert answered.requests("INVITE"), "the IVR transfer must ring 9002"
    assert caller.final_responses("INVITE") == [407, 200]

    row = cdr_for(box, "9001")
    assert str(row["called"]) == IVR_NUMBER and str(row["callee"]) == "9002", row
    extra = json.loads(row["extra"])
    assert extra["ivr_flow"] == "test_menu@3", extra
    assert extra["ivr_transfer"] == "extension:9002", extra
    path = extra["ivr_path"].split(",")
    assert path[:2] == ["welcome", "key:1"] or "key:1" in path, path
    assert "agent" in path, path


def queue_log(box: Box, until: str = "COMPLETE") -> list[list[str]]:
    path = box.data / "logs" / "queue_log"
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        if path.exists() and until in path.read_text():
            break
        time.sleep(0.1)
    return [line.split("|") for line in path.read_text().splitlines()] if path.exists() else []


def dial_queue(phones: SipPhones) -> None:
    call = phones.dial("uac_ivr_dtmf", "9001", QUEUE_NUMBER,
                       keys={"rtp_sink_port": free_block(2, align=2), "pre_dtmf_ms": 1500,
                             "talk_ms": 2500})
    check(call.wait(timeout=40))


def test_queue_round_robin_offers_agents_in_turn(box: Box, phones: SipPhones) -> None:
    agents = {ext: phones.registered_phone(ext, "uas_answer", {"ring_ms": 300})
              for ext in ("9002", "9003")}
    dial_queue(phones)
    first = cdr_for(box, "9001")
    dial_queue(phones)
    second = cdr_for(box, "9001", count=2)
    check(*(a.wait(timeout=20) for a in agents.values()))
    assert (str(first["callee"]), str(second["callee"])) == ("9002", "9003"), (first, second)
    for row, agent in ((first, "9002"), (second, "9003")):
        extra = json.loads(row["extra"])
        assert extra["queue"] == "repair" and extra["agent"] == agent, extra
        assert extra["ivr_transfer"] == "queue:repair", extra
        assert row["recording"], row

    events = [(r[2], r[3], r[4]) for r in queue_log(box)]
    assert ("repair", "NONE", "ENTERQUEUE") in events, events
    connects = [agent for q, agent, ev in events if ev == "CONNECT"]
    assert connects == ["9002", "9003"], events


def test_agent_not_ready_is_skipped_via_control_socket(box: Box, phones: SipPhones) -> None:
    from tests.integration.test_pri_sim import control

    reply = control(box, {"cmd": "agent", "agent": "9002", "action": "notready",
                          "reason": "break"})
    assert reply.get("ok") and reply["state"] == "not-ready", reply
    agent = phones.registered_phone("9003", "uas_answer", {"ring_ms": 300})
    dial_queue(phones)
    check(agent.wait(timeout=20))
    assert str(cdr_for(box, "9001")["callee"]) == "9003"


def test_e1_caller_presses_1_in_band_and_reaches_the_queue_agent(
        box: Box, phones: SipPhones) -> None:
    from tests.integration.test_pri_sim import pstn_call

    agent = phones.registered_phone("9002", "uas_answer", {"ring_ms": 300})
    report = pstn_call(box, QUEUE_NUMBER, dtmf="1", seconds=6)
    check(agent.wait(timeout=20))
    assert report["answer_ms"] is not None and report["answer_ms"] < 2000, report
    # the welcome prompt (then the agent's audio) reached the PSTN caller
    assert report["heard_dbfs"] is not None and report["heard_dbfs"] > -45, report
    row = cdr_for(box, PSTN_CALLER)
    extra = json.loads(row["extra"])
    assert str(row["callee"]) == "9002" and extra["queue"] == "repair", (row, extra)
    assert extra["direction"] == "inbound" and "key:1" in extra["ivr_path"], extra


def test_waiting_caller_hears_position_then_music_and_abandon_is_logged(
        box: Box, phones: SipPhones) -> None:
    with RtpSink() as sink:
        call = phones.dial("uac_ivr_dtmf", "9001", WAIT_NUMBER,
                           keys={"rtp_sink_port": sink.port, "pre_dtmf_ms": 6000,
                                 "talk_ms": 300})
        check(call.wait(timeout=30))
    audio = sink.audio(pt=8)
    stock = box.data / "prompts" / "stock"
    # 您当前排在第 | 一 | 位。 then music on hold, each file byte for byte
    expected = b"".join(load_encoded(stock / f"{n}.wav", Codec.PCMA)
                        for n in ("queue_position_is", "1", "queue_position_unit"))
    got = b"".join(p for _, p in audio)
    assert got[:len(expected)] == expected, f"{len(got)} bytes, want announcement first"
    moh = load_encoded(stock / "moh.wav", Codec.PCMA)
    assert got[len(expected):len(expected) + 50 * 160] == moh[:50 * 160], "then MOH"

    abandons = [r for r in queue_log(box, "ABANDON") if r[4] == "ABANDON"]
    assert len(abandons) == 1 and abandons[0][2] == "waiting", abandons
    position, orig_position, wait = abandons[0][5:8]
    assert (position, orig_position) == ("1", "1") and 4.0 < float(wait) < 9.0, abandons


def test_callback_key_then_agent_login_rings_agent_and_calls_the_customer_back(
        box: Box, phones: SipPhones) -> None:
    from tests.integration.test_pri_sim import control

    with RtpSink() as sink:
        call = phones.dial("uac_ivr_dtmf_box_hangs_up", "9001", CALLBACK_NUMBER,
                           keys={"rtp_sink_port": sink.port, "pre_dtmf_ms": 1500})
        check(call.wait(timeout=30))  # confirmation played, then the box hung up
    # MOH until the key; the box then latches onto sipp's own RTP port (the DTMF's
    # source), so the confirmation is not captured here
    assert len(sink.audio(pt=8)) > 50, "music on hold while waiting"
    first = cdr_for(box, "9001")
    assert json.loads(first["extra"])["queue"] == "cbq", first

    # The customer (9001) and the agent (9004) as phones; the agent logs in: callback.
    customer = phones.registered_phone("9001", "uas_hangup", {"ring_ms": 300, "talk_ms": 2000})
    agent = phones.registered_phone("9004", "uas_answer", {"ring_ms": 300})
    reply = control(box, {"cmd": "agent", "agent": "9004", "action": "login",
                          "device": "9004"})
    assert reply.get("ok"), reply
    check(agent.wait(timeout=30), customer.wait(timeout=30))
    rows = box.wait_cdrs(2, timeout=15)
    back = rows[-1]
    extra = json.loads(back["extra"])
    assert (str(back["caller"]), str(back["called"]), str(back["callee"])) == (
        "9004", "9001", "9001"), back
    assert extra["callback"] == "1" and extra["agent"] == "9004", extra
    events = [r[4] for r in queue_log(box, "COMPLETE")]
    assert "EXITWITHKEY" in events and "CONNECT" in events, events


def test_agent_busy_on_a_direct_call_is_not_offered(box: Box, phones: SipPhones) -> None:
    """Ring in use is off: 9002, talking to 9004 outside the queue, is skipped."""
    desk = phones.registered_phone("9002", "uas_answer", {"ring_ms": 100}, timeout=40)
    direct = phones.dial("uac_call", "9004", "9002", keys={"talk_ms": 9000}, timeout=40)
    box.wait_status(lambda st: any(c.get("state") == "up"
                                   for c in st.get("active_calls", [])))
    agent = phones.registered_phone("9003", "uas_answer", {"ring_ms": 300})
    dial_queue(phones)
    check(agent.wait(timeout=20), direct.wait(timeout=40), desk.wait(timeout=40))
    queued = [r for r in box.wait_cdrs(2, timeout=15) if str(r["called"]) == QUEUE_NUMBER]
    assert [str(r["callee"]) for r in queued] == ["9003"], queued
    offered_9002 = [r for r in queue_log(box) if r[3] == "9002" and r[4] != "AGENTLOGIN"]
    assert offered_9002 == [], f"9002 was busy but offered: {offered_9002}"
