"""Call features through a real box with real SIP peers (sipp, baresip): hold with music,
blind and attended transfer (DTMF codes, REFER, REFER with Replaces into a queue), 3-way,
conference rooms, supervisor listen/whisper/barge/force release, pickup, park.

Every party speaks its own tone (`parties.Voice`, on the port its sipp put in the SDP)
and keeps what the box sends it, so each check is about the audio a person would hear:
who hears whom, and what the call's one recording holds before and after a change.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.integration.box import Box, clone_data_dir
from tests.integration.parties import Voice, call_channels, wait_channel
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.integration.test_pri_sim import control
from tests.integration.test_sip_box import check
from tests.peers.baresip import Baresip
from tests.peers.sipp import Sipp
from tests.peers.wav import read_wav

pytestmark = pytest.mark.peers

CALLER, AGENT, TARGET, SUP = 500.0, 1100.0, 1700.0, 2300.0
HEARD, SILENT = 700.0, 120.0  # tone amplitudes (the tones are sent at 4000)
QUEUE_NUMBER = "7101"
ROOM, PIN = "6001", "2468"
QUEUE_FLOW = {"schema": 1, "id": "to_repair", "version": 1, "entry": "q",
              "nodes": {"q": {"kind": "transfer", "to": "queue", "target": "repair"}}}
SITE = {
    "dids": [{"number": QUEUE_NUMBER, "target": "flow:to_repair"}],
    # 9004 supervises the repair queue; 9003 is its logged-in agent; 9002 a member who
    # is not logged in (so the queue never offers it the consultation call)
    "queues": [{"name": "repair", "strategy": "linear", "members": ["9002", "9003"],
                "ring_timeout": 10, "smart_routing": False, "supervisors": ["9004"]}],
    "agents": [{"id": "9002"}, {"id": "9003", "login": "9003"}],
    "ivr_flows": [QUEUE_FLOW],
}


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path) -> Path:
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    import_site(data, SITE)
    (data / "conference.json").write_text(json.dumps({"rooms": {ROOM: PIN}}))
    return data


@pytest.fixture
def voices() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def voice(stack: ExitStack, freq: float) -> Voice:
    return stack.enter_context(Voice(freq))


def cc(box: Box, op: str, **kw: Any) -> dict[str, Any]:
    reply = control(box, {"cmd": "cc", "op": op, **kw})
    assert reply.get("ok"), reply
    return reply


def caller_dials(phones: SipPhones, v: Voice, ext: str, number: str,
                 scenario: str = "party_uac", **keys: Any) -> Sipp:
    return phones.dial(scenario, ext, number, timeout=60,
                       keys={"rtp_sink_port": v.port, **keys})


def phone_answers(phones: SipPhones, v: Voice, ext: str, scenario: str = "party_uas",
                  **keys: Any) -> Sipp:
    return phones.registered_phone(ext, scenario, {"rtp_sink_port": v.port,
                                                   "ring_ms": 200, **keys}, timeout=60)


def settle(seconds: float = 1.2) -> float:
    """Let audio flow; returns the start of the stretch to look at (after a re-plan)."""
    start = time.monotonic() + 0.3
    time.sleep(seconds)
    return start


def call_id_of(box: Box, peer: str) -> str:
    return str(wait_channel(box, peer)["call"])


def cdr(box: Box, called: str, count: int = 1) -> dict[str, Any]:
    rows = box.wait_cdrs(count, lambda r: str(r["called"]) == called, timeout=10)
    assert rows, box.cdrs()
    return rows[-1]


def recording_of(box: Box, row: dict[str, Any]) -> Any:
    path = box.data / str(row["recording"])
    if not path.exists():
        path = Path(str(row["recording"]))
    return read_wav(box.wait_recording(path))


def level(wav: Any, channel: int, freq: float, start: float, end: float) -> float:
    seg = wav.segment(channel, start, end)
    t = np.arange(len(seg)) / wav.rate
    return float(2 * abs(np.sum(seg * np.exp(-2j * np.pi * freq * t))) / max(1, len(seg)))


def two_party(box: Box, phones: SipPhones, st: ExitStack
              ) -> tuple[Voice, Voice, Sipp, Sipp, str]:
    """9001 (CALLER tone) calls 9002 (AGENT tone); both talking."""
    a, b = voice(st, CALLER), voice(st, AGENT)
    agent = phone_answers(phones, b, "9002")
    caller = caller_dials(phones, a, "9001", "9002")
    b.talk_to(box, "9002")
    a.talk_to(box, "9001")
    a.answered = time.monotonic()  # the recording starts at the answer, just before
    return a, b, caller, agent, call_id_of(box, "9001")


# -------------------------------------------------------------------------------------
def test_box_hold_plays_music_to_the_held_caller(box: Box, phones: SipPhones,
                                                 voices: ExitStack) -> None:
    a, b, caller, agent, call = two_party(box, phones, voices)
    t0 = settle()
    assert a.hears(AGENT, t0) > HEARD and b.hears(CALLER, t0) > HEARD, "talking first"

    cc(box, "hold", call=call, device="9002")
    t1 = settle(1.5)
    assert a.rms(t1) > 200 and a.packets(t1) > 40, "the held caller hears music on hold"
    assert a.hears(AGENT, t1) < SILENT, "not the agent"
    assert b.hears(CALLER, t1) < SILENT, "and the agent does not hear the held caller"

    cc(box, "retrieve", call=call, device="9002")
    t2 = settle()
    assert a.hears(AGENT, t2) > HEARD and b.hears(CALLER, t2) > HEARD
    cc(box, "clear_call", call=call)
    check(caller.wait(), agent.wait())
    reinvites = [m.sdp_direction() for m in caller.result.requests("INVITE")]  # type: ignore[union-attr]
    assert reinvites[:2] == ["sendonly", "sendrecv"], reinvites


def test_blind_transfer_by_dtmf_keeps_one_recording(box: Box, phones: SipPhones,
                                                    voices: ExitStack) -> None:
    a, b, caller, agent, call = two_party(box, phones, voices)
    c = voice(voices, TARGET)
    target = phone_answers(phones, c, "9003")
    settle(1.0)
    t_switch = time.monotonic()
    b.press("##9003#")
    c.talk_to(box, "9003")
    t1 = settle(1.5)
    assert a.hears(TARGET, t1) > HEARD and c.hears(CALLER, t1) > HEARD
    assert a.hears(AGENT, t1) < SILENT
    cc(box, "clear_call", call=call)
    check(caller.wait(), agent.wait(), target.wait())

    row = cdr(box, "9002")
    extra = json.loads(row["extra"])
    assert str(row["callee"]) == "9003" and extra["agents"] == "9002,9003", (row, extra)
    assert extra["transfers"] == "blind:9003", extra
    wav = recording_of(box, row)
    start = t_switch - a.answered  # the switch, on the file's clock (within ~0.3 s)
    assert level(wav, 0, CALLER, 0.3, start - 0.2) > HEARD, wav.describe()
    assert level(wav, 1, AGENT, 0.3, start - 0.2) > HEARD, "agent before: " + wav.describe()
    assert level(wav, 1, TARGET, start + 1.5, wav.seconds - 0.3) > HEARD, wav.describe()
    assert level(wav, 0, CALLER, start + 1.5, wav.seconds - 0.3) > HEARD, wav.describe()


def test_consult_three_way_then_agent_leaves(box: Box, phones: SipPhones,
                                            voices: ExitStack) -> None:
    a, b, caller, agent, call = two_party(box, phones, voices)
    c = voice(voices, TARGET)
    target = phone_answers(phones, c, "9003")
    settle(0.6)
    b.press("*29003#")
    c.talk_to(box, "9003")
    t1 = settle(1.5)
    assert b.hears(TARGET, t1) > HEARD and c.hears(AGENT, t1) > HEARD, "consulting"
    assert a.hears(AGENT, t1) < SILENT and a.hears(TARGET, t1) < SILENT, "caller waits"
    assert a.rms(t1) > 200, "with music"
    assert c.hears(CALLER, t1) < SILENT

    b.press("*3")
    t2 = settle(1.5)
    for me, others in ((a, (AGENT, TARGET)), (b, (CALLER, TARGET)), (c, (CALLER, AGENT))):
        for f in others:
            assert me.hears(f, t2) > HEARD, f"3-way: {me.freq} does not hear {f}"
        assert me.hears(me.freq, t2) < SILENT, f"{me.freq} hears itself"

    cc(box, "clear_connection", call=call, device="9002")  # the agent hangs up
    t3 = settle(1.2)
    assert a.hears(TARGET, t3) > HEARD and c.hears(CALLER, t3) > HEARD
    assert a.hears(AGENT, t3) < SILENT
    cc(box, "clear_call", call=call)
    check(caller.wait(), agent.wait(), target.wait())
    extra = json.loads(cdr(box, "9002")["extra"])
    assert extra["agents"] == "9002,9003", extra


def test_attended_transfer_completes_when_the_agent_hangs_up(
        box: Box, phones: SipPhones, voices: ExitStack) -> None:
    a, b, c = voice(voices, CALLER), voice(voices, AGENT), voice(voices, TARGET)
    agent = phone_answers(phones, b, "9002", "party_uas_bye", talk_ms=5000)
    target = phone_answers(phones, c, "9003")
    caller = caller_dials(phones, a, "9001", "9002")
    b.talk_to(box, "9002")
    a.talk_to(box, "9001")
    a.answered = time.monotonic()
    settle(1.0)
    t_switch = time.monotonic()
    b.press("*29003#")
    c.talk_to(box, "9003")
    check(agent.wait(timeout=20))  # its BYE completes the transfer
    t1 = settle(1.5)
    assert a.hears(TARGET, t1) > HEARD and c.hears(CALLER, t1) > HEARD
    call = call_id_of(box, "9001")
    cc(box, "clear_call", call=call)
    check(caller.wait(), target.wait())
    row = cdr(box, "9002")
    extra = json.loads(row["extra"])
    assert extra["transfers"] == "attended:9003" and str(row["callee"]) == "9003", extra
    wav = recording_of(box, row)
    start = t_switch - a.answered
    assert level(wav, 1, AGENT, 0.3, start - 0.2) > HEARD, wav.describe()
    # the caller kept being recorded while waiting on hold
    assert level(wav, 0, CALLER, start + 0.5, start + 2.0) > HEARD, wav.describe()
    assert level(wav, 1, TARGET, wav.seconds - 1.5, wav.seconds - 0.3) > HEARD, wav.describe()


def test_phone_attended_transfer_with_replaces_into_a_queue_keeps_the_recording(
        box: Box, phones: SipPhones, voices: ExitStack) -> None:
    """The anchor pain point: after an attended transfer to a queue the recording
    went missing. Here the agent's phone does it the SIP way: a second call (to the
    queue, answered by queue agent 9003), then REFER with Replaces on the first."""
    a, b, b2, c = (voice(voices, f) for f in (CALLER, AGENT, 900.0, TARGET))
    agent = phone_answers(phones, b, "9002")
    queue_agent = phone_answers(phones, c, "9003")
    caller = caller_dials(phones, a, "9001", "9002")
    b.talk_to(box, "9002")
    a.talk_to(box, "9001")
    a.answered = time.monotonic()
    settle(1.0)
    t_switch = time.monotonic()
    first = wait_channel(box, "9002")  # the agent's leg of call 1
    consult = caller_dials(phones, b2, "9002", QUEUE_NUMBER)
    c.talk_to(box, "9003")
    second = wait_channel(box, "9002", exclude=(first["rtp_port"],))
    b2.talk_to(box, "9002", exclude=(first["rtp_port"],))
    t_consult = settle(1.0)
    assert c.hears(900.0, t_consult) > HEARD, "agent and queue agent talk"

    refer_to = (f"<sip:9003@{box.sip_addr}?Replaces={second['sip_call_id']}%3Bto-tag%3D"
                f"{second['local_tag']}%3Bfrom-tag%3D{second['remote_tag']}>")
    ref = phones.sipp("refer_inject", keys={
        "ruri": f"sip:ccbox@{box.sip_addr}",
        "from_hdr": f"<sip:9002@127.0.0.1>;tag={first['remote_tag']}",
        "to_hdr": f"<sip:9001@127.0.0.1>;tag={first['local_tag']}",
        "refer_to": refer_to}, timeout=10,
        extra_args=["-cid_str", str(first["sip_call_id"])]).run()
    check(ref)
    check(agent.wait(timeout=15), consult.wait(timeout=15))  # both agent legs released
    t1 = settle(1.5)
    assert a.hears(TARGET, t1) > HEARD and c.hears(CALLER, t1) > HEARD, "transferred"
    notifies = [m.body for m in agent.result.requests("NOTIFY")]  # type: ignore[union-attr]
    assert any("SIP/2.0 200" in n for n in notifies), notifies

    call = call_id_of(box, "9001")
    cc(box, "clear_call", call=call)
    check(caller.wait(), queue_agent.wait())
    row = box.wait_cdrs(1, lambda r: str(r["called"]) == "9002"
                        and str(r["caller"]) == "9001", timeout=10)[-1]
    extra = json.loads(row["extra"])
    assert extra["queue"] == "repair" and extra["agents"].split(",")[-1] == "9003", extra
    assert str(row["callee"]) == "9003", row
    wav = recording_of(box, row)
    start = t_switch - a.answered
    assert level(wav, 1, AGENT, 0.3, start - 0.2) > HEARD, "before: " + wav.describe()
    assert level(wav, 1, TARGET, wav.seconds - 1.5, wav.seconds - 0.3) > HEARD, (
        "after: " + wav.describe())
    assert level(wav, 0, CALLER, wav.seconds - 1.5, wav.seconds - 0.3) > HEARD
    qlog = (box.data / "logs" / "queue_log").read_text()
    assert "|9003|CONNECT|" in qlog, qlog


def test_dtmf_consult_into_a_queue_then_hang_up_keeps_the_recording(
        box: Box, phones: SipPhones, voices: ExitStack) -> None:
    """The same anchor case from the box side: *2 + the queue's number, the agent waits
    in the queue (music), queue agent 9003 answers, the agent hangs up: transferred."""
    a, b, c = voice(voices, CALLER), voice(voices, AGENT), voice(voices, TARGET)
    agent = phone_answers(phones, b, "9002", "party_uas_bye", talk_ms=7000)
    queue_agent = phone_answers(phones, c, "9003")
    caller = caller_dials(phones, a, "9001", "9002")
    b.talk_to(box, "9002")
    a.talk_to(box, "9001")
    a.answered = time.monotonic()
    settle(1.0)
    t_switch = time.monotonic()
    b.press(f"*2{QUEUE_NUMBER}#")
    c.talk_to(box, "9003")
    t1 = settle(1.5)
    assert b.hears(TARGET, t1) > HEARD and c.hears(AGENT, t1) > HEARD, "consulting"
    assert a.hears(AGENT, t1) < SILENT and a.rms(t1) > 200, "the caller waits with music"
    check(agent.wait(timeout=20))  # the agent's BYE completes the transfer
    t2 = settle(1.5)
    assert a.hears(TARGET, t2) > HEARD and c.hears(CALLER, t2) > HEARD, "transferred"
    cc(box, "clear_call", call=call_id_of(box, "9001"))
    check(caller.wait(), queue_agent.wait())
    row = box.wait_cdrs(1, lambda r: str(r["called"]) == "9002"
                        and str(r["caller"]) == "9001", timeout=10)[-1]
    extra = json.loads(row["extra"])
    assert extra["queue"] == "repair" and extra["agents"] == "9002,9003", extra
    wav = recording_of(box, row)
    start = t_switch - a.answered
    assert level(wav, 1, AGENT, 0.3, start - 0.2) > HEARD, "before: " + wav.describe()
    assert level(wav, 1, TARGET, wav.seconds - 1.5, wav.seconds - 0.3) > HEARD, (
        "after: " + wav.describe())
    assert level(wav, 0, CALLER, start + 0.5, wav.seconds - 0.3) > HEARD, wav.describe()
    qlog = (box.data / "logs" / "queue_log").read_text()
    assert "|9003|CONNECT|" in qlog and "|9003|COMPLETE" in qlog, qlog


def test_blind_transfer_by_baresip_refer(box: Box, phones: SipPhones, voices: ExitStack,
                                         peers_dir: Path) -> None:
    from tests.integration.box import EXTENSIONS

    a, c = voice(voices, CALLER), voice(voices, TARGET)
    target = phone_answers(phones, c, "9003")
    with Baresip(peers_dir / "baresip", f"sip:9002@{box.sip_addr}",
                 password=EXTENSIONS["9002"], answermode="auto", tone_hz=AGENT) as bs:
        bs.start()
        bs.wait_registered()
        caller = caller_dials(phones, a, "9001", "9002")
        bs.wait_event("CALL_ESTABLISHED", timeout=10)
        a.talk_to(box, "9001")
        t0 = settle(1.5)
        assert a.hears(AGENT, t0) > HEARD, "baresip's tone reaches the caller"
        bs.command("transfer", "9003")
        c.talk_to(box, "9003")
        t1 = settle(1.5)
        assert a.hears(TARGET, t1) > HEARD and c.hears(CALLER, t1) > HEARD
        bs.wait_event("CALL_CLOSED", timeout=10)
    cc(box, "clear_call", call=call_id_of(box, "9001"))
    check(caller.wait(), target.wait())
    extra = json.loads(cdr(box, "9002")["extra"])
    assert extra["transfers"] == "blind:9003", extra


def test_conference_room_mixes_everyone_but_yourself(box: Box, phones: SipPhones,
                                                     voices: ExitStack) -> None:
    freqs = (CALLER, AGENT, TARGET, SUP)
    exts = ("9001", "9002", "9003", "9004")
    vs = [voice(voices, f) for f in freqs]
    runs = []
    for ext, v in zip(exts, vs, strict=True):
        runs.append(caller_dials(phones, v, ext, ROOM, "party_uac_bye", talk_ms=9000))
        v.talk_to(box, ext)
        v.speaking = False  # quiet while entering the PIN
        v.press(PIN + "#")
    time.sleep(2.5)
    for v in vs:
        v.speaking = True
    t0 = settle(2.0)
    for v in vs:
        for f in freqs:
            if f == v.freq:
                assert v.hears(f, t0) < SILENT, f"{v.freq} hears itself"
            else:
                assert v.hears(f, t0) > HEARD * 0.6, f"{v.freq} does not hear {f}"
    # a wrong PIN three times: refused, never mixed in
    intruder = voice(voices, 3100.0)
    bad = caller_dials(phones, intruder, "9001", ROOM)
    intruder.talk_to(box, "9001", exclude=tuple(int(c["rtp_port"]) for c in call_channels(box)))
    intruder.press("1111#1111#1111#")
    check(bad.wait(timeout=25))  # the box hung up on it
    t1 = time.monotonic() - 1.0
    assert vs[0].hears(3100.0, t0, t1) < SILENT
    check(*(r.wait(timeout=20) for r in runs))
    rows = box.wait_cdrs(5, lambda r: str(r["called"]) == ROOM, timeout=10)
    refused = [json.loads(r["extra"]) for r in rows if "conference_refused" in r["extra"]]
    assert len(refused) == 1, rows
    # each participant's call has its own recording: them left, the room right
    joined = [r for r in rows if "conference_refused" not in r["extra"]]
    assert len(joined) == 4 and all(r["recording"] for r in joined), joined
    for row in joined:
        wav = recording_of(box, row)
        me = freqs[exts.index(str(row["caller"]))]
        # everyone is in the room and speaking from ~4.5 s to the first one leaving
        end = wav.seconds - 2.0
        assert level(wav, 0, me, end - 1.5, end) > HEARD * 0.6, wav.describe()
        for f in freqs:
            if f != me:
                assert level(wav, 1, f, end - 1.5, end) > HEARD * 0.6, (f, wav.describe())
        assert level(wav, 1, me, end - 1.5, end) < SILENT, wav.describe()


def test_supervisor_whisper_barge_listen_and_force_release(
        box: Box, phones: SipPhones, voices: ExitStack) -> None:
    a, b, caller, agent, _call = two_party(box, phones, voices)
    s = voice(voices, SUP)
    sup = caller_dials(phones, s, "9004", "*529002")
    s.talk_to(box, "9004")
    t1 = settle(1.5)
    assert b.hears(SUP, t1) > HEARD, "the agent hears the whisper"
    assert a.hears(SUP, t1) < SILENT, "the caller must not hear the whisper"
    assert s.hears(CALLER, t1) > HEARD and s.hears(AGENT, t1) > HEARD
    assert a.hears(AGENT, t1) > HEARD and b.hears(CALLER, t1) > HEARD

    s.press("6")  # barge
    t2 = settle(1.5)
    assert a.hears(SUP, t2) > HEARD and b.hears(SUP, t2) > HEARD, "barge: both hear"
    s.press("4")  # listen
    t3 = settle(1.5)
    assert a.hears(SUP, t3) < SILENT and b.hears(SUP, t3) < SILENT, "listen is silent"
    assert s.hears(CALLER, t3) > HEARD

    # not 9004's group: refused
    denied = control(box, {"cmd": "cc", "op": "force_release", "supervisor": "9003",
                           "target": "9002"})
    assert not denied["ok"] and "may not supervise" in denied["error"], denied
    cc(box, "force_release", supervisor="9004", target="9002")
    check(caller.wait(), agent.wait(), sup.wait())
    row = cdr(box, "9002")
    assert row["released_by"] == "supervisor", row
    wav = recording_of(box, row)
    assert wav.seconds > 4


def test_group_pickup_and_park_retrieve(box: Box, phones: SipPhones,
                                        voices: ExitStack) -> None:
    a, p = voice(voices, CALLER), voice(voices, TARGET)
    ringing = phones.registered_phone("9002", "uas_ring_only", timeout=30)
    caller = caller_dials(phones, a, "9001", "9002")
    box.wait_status(lambda st: any(c.get("state") == "ringing"
                                   for c in st.get("active_calls", [])), timeout=5)
    picker = caller_dials(phones, p, "9003", "*8")
    p.talk_to(box, "9003")
    a.talk_to(box, "9001")
    t0 = settle(1.5)
    assert a.hears(TARGET, t0) > HEARD and p.hears(CALLER, t0) > HEARD, "picked up"
    check(ringing.wait(timeout=10))  # 9002 stopped ringing (CANCEL)

    # 9003 parks the caller with ##700#, 9004 takes it from slot 701
    p.press("##700#")
    check(picker.wait(timeout=20))  # the slot was announced, then the box hung up
    t1 = settle(1.0)
    assert a.rms(t1) > 200 and a.hears(TARGET, t1) < SILENT, "parked with music"
    st = control(box, {"cmd": "cc", "op": "status"})
    assert "701" in st["parked"], st
    r = voice(voices, SUP)
    retriever = caller_dials(phones, r, "9004", "701")
    r.talk_to(box, "9004")
    t2 = settle(1.5)
    assert a.hears(SUP, t2) > HEARD and r.hears(CALLER, t2) > HEARD, "retrieved"
    cc(box, "clear_call", call=call_id_of(box, "9001"))
    check(caller.wait(), retriever.wait())
    extra = json.loads(cdr(box, "9002")["extra"])
    assert extra["picked_up_by"] == "9003" and extra["transfers"] == "park:701", extra
