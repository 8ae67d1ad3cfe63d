"""Runs inside the VM test image (see image/testvm.py): configures DAHDI from the board
file, then runs each scenario and prints one `CCBOX-RESULT <name> <json>` line for it.

The box's side is `drivers.dahdi.telephony.DahdiTelephony` on board `vm-dahdi` (the
code switchd runs on a board with a card), or switchd itself; the far end is the same
driver code on the reserved loopback spans, in NET mode (PRI) / as the other R2 end.
The results are facts (numbers received, bytes matched, delays); the host's tests
(tests/vm/test_dahdi_vm.py) judge them.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from drivers.dahdi import io
from drivers.dahdi.ioctl import DahdiIoctl
from drivers.dahdi.system_conf import generate
from drivers.dahdi.telephony import DahdiTelephony
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, Party
from tests.vm.guest import patterns

SRC = Path(__file__).resolve().parents[3]
BOARD = SRC / "board" / "vm-dahdi" / "board.json"
log = logging.getLogger("vm-guest")


def result(name: str, value: dict[str, Any]) -> None:
    sys.stdout.write(f"CCBOX-RESULT {name} {json.dumps(value, ensure_ascii=False)}\n")
    sys.stdout.flush()


def board() -> dict[str, Any]:
    value = json.loads(BOARD.read_text())
    assert isinstance(value, dict)
    return value


def far_end_board(b: dict[str, Any]) -> dict[str, Any]:
    """The same spans seen from the far end: the reserved spans are its own."""
    far = copy.deepcopy(b)
    for span in far["telephony"]["spans"]:
        if span.get("reserved"):
            del span["reserved"]
            # the simulated exchange needs no key-press detection: CPU for the box
            span["inband_dtmf"] = False
            if "r2" in span:
                span["r2"] = {**span["r2"], "hunt": "low"}  # the box hunts from the top
        else:
            span["reserved"] = "the box's"
    return far


# -- a scripted endpoint: answers, records, talks ------------------------------------------
class Party_:
    """One side of one call in a scenario: the channel, what happened, the audio."""

    def __init__(self, ch: Channel, seed: int, frames: int) -> None:
        self.ch = ch
        self.events: list[tuple[float, str]] = []
        self.cause: int | None = None
        self.sent = patterns.stream(seed, frames)
        self.pos = 0
        self.rx = bytearray()
        self.answered = asyncio.Event()
        self.ended = asyncio.Event()
        ch.listener = self

    def talk(self) -> None:
        leg = self.ch.media
        assert leg is not None
        leg.on_frame = self._frame  # type: ignore[attr-defined]

    def _frame(self, frame: bytes) -> None:
        self.rx += frame
        if self.pos < len(self.sent):
            chunk = self.sent[self.pos:self.pos + len(frame)]
            self.pos += len(chunk)
            self.ch.media.write(chunk)  # type: ignore[union-attr]

    def check(self, other: Party_) -> dict[str, Any]:
        """What this side heard of what the other side sent."""
        return patterns.check(other.sent[:other.pos], bytes(self.rx)).as_dict()

    # ChannelListener
    def channel_ringing(self, ch: Channel) -> None:
        self.events.append((time.monotonic(), "ringing"))

    def channel_progress(self, ch: Channel) -> None:
        self.events.append((time.monotonic(), "progress"))

    def channel_answered(self, ch: Channel) -> None:
        self.events.append((time.monotonic(), "answered"))
        self.answered.set()

    def channel_hungup(self, ch: Channel, cause: Cause) -> None:
        self.events.append((time.monotonic(), "hungup"))
        self.cause = int(cause)
        self.ended.set()

    def channel_dtmf(self, ch: Channel, digit: str) -> None:
        self.events.append((time.monotonic(), f"dtmf {digit}"))

    def channel_hold(self, ch: Channel, held: bool) -> None:
        pass


class Side:
    """A DahdiTelephony with a queue of the calls offered to it."""

    def __init__(self, name: str, b: dict[str, Any]) -> None:
        self.name = name
        self.tel = DahdiTelephony(b, DahdiIoctl(), fxo_settings_loader=lambda names: {})
        self.offered: asyncio.Queue[Channel] = asyncio.Queue()

    def start(self) -> None:
        self.tel.start(self.offered.put_nowait)

    async def stop(self) -> None:
        await self.tel.stop()


async def wait_up(*sides: Side, timeout: float = 20.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        spans = [s for side in sides for s in side.tel.status()["spans"]
                 if s.get("signalling") == "pri"]
        if spans and all(s["dchannel"] == "up" for s in spans):
            return time.monotonic() - t0
        await asyncio.sleep(0.05)
    raise TimeoutError(f"D-channels not up after {timeout} s: "
                       f"{[s.tel.status() for s in sides]}")


def pri_trunk(side: Side) -> Any:
    return next(t for t in side.tel.trunks if t.status().get("signalling") == "pri")


# -- scenarios ------------------------------------------------------------------------------
async def dahdi_up(ctx: dict[str, Any]) -> dict[str, Any]:
    dahdi = DahdiIoctl()
    spans = []
    for n in range(1, 5):
        st = dahdi.span_status(n)
        spans.append({"span": st.span, "name": st.name, "alarms": st.alarms,
                      "numchans": st.numchans, "totalchans": st.totalchans})
    sig = {}
    for channo in (1, 16, 47, 63):
        fd = dahdi.open_channel(channo)
        try:
            sig[str(channo)] = hex(dahdi.params(fd).sigtype)
        finally:
            dahdi.close(fd)
    return {"spans": spans, "sigtypes": sig, "dahdi_cfg_s": ctx["dahdi_cfg_s"]}


async def pri_both_ways(ctx: dict[str, Any]) -> dict[str, Any]:
    b = board()
    box, far = Side("box", b), Side("far", far_end_board(b))
    box.start()
    far.start()
    out: dict[str, Any] = {}
    try:
        out["dchannel_up_s"] = round(await wait_up(box, far), 3)
        # inbound: the exchange calls the hotline
        t0 = time.monotonic()
        legs = pri_trunk(far).originate("96777", Party("13800138000"), None)
        assert legs, "far end could not place the call"
        caller = Party_(legs[0], 1, 150)
        ch = await asyncio.wait_for(box.offered.get(), 10)
        t_offer = time.monotonic()
        callee = Party_(ch, 2, 150)
        ch.answer()
        await asyncio.wait_for(caller.answered.wait(), 10)
        t_answer = time.monotonic()
        caller.talk()
        callee.talk()
        await asyncio.sleep(2.0)
        legs[0].hangup(Cause.NORMAL_CLEARING)
        await asyncio.wait_for(callee.ended.wait(), 10)
        out["inbound"] = {
            "caller": ch.caller.number, "called": ch.called, "tech": ch.tech,
            "caller_ton": getattr(ch, "caller_ton", None),
            "setup_to_offer_ms": round((t_offer - t0) * 1000, 1),
            "setup_to_answer_ms": round((t_answer - t0) * 1000, 1),
            "box_heard": callee.check(caller), "far_heard": caller.check(callee),
            "box_hangup_cause": callee.cause,
        }
        # outbound: the box calls out
        legs = pri_trunk(box).originate("13912345678", Party("88001234"), None)
        assert legs, "box could not place the call"
        caller = Party_(legs[0], 3, 150)
        ch = await asyncio.wait_for(far.offered.get(), 10)
        callee = Party_(ch, 4, 150)
        ch.ring()
        await asyncio.sleep(0.2)
        ch.answer()
        await asyncio.wait_for(caller.answered.wait(), 10)
        caller.talk()
        callee.talk()
        await asyncio.sleep(2.0)
        legs[0].hangup(Cause.NORMAL_CLEARING)
        await asyncio.wait_for(callee.ended.wait(), 10)
        out["outbound"] = {
            "caller": ch.caller.number, "called": ch.called,
            "events": [e for _, e in caller.events],
            "far_heard": callee.check(caller), "box_heard": caller.check(callee),
            "far_hangup_cause": callee.cause,
        }
        # busy: the far end refuses
        legs = pri_trunk(box).originate("13900000000", Party("88001234"), None)
        caller = Party_(legs[0], 5, 10)
        ch = await asyncio.wait_for(far.offered.get(), 10)
        ch.hangup(Cause.USER_BUSY)
        await asyncio.wait_for(caller.ended.wait(), 10)
        out["busy_cause"] = caller.cause
        out["status"] = box.tel.status()["spans"][0]
    finally:
        await box.stop()
        await far.stop()
    return out


def crosstalk(callers: dict[int, Party_], callees: dict[int, Party_]) -> list[str]:
    """Frames of another call found where they do not belong (neighbouring calls and
    the call's own other direction)."""
    found: list[str] = []
    for n in callers:
        for m in (n - 1, n + 1):
            if m in callers and patterns.check(callers[m].sent[:callers[m].pos],
                                               bytes(callees[n].rx)).intact:
                found.append(f"box side of call {n} heard call {m}")
        if patterns.check(callees[n].sent[:callees[n].pos], bytes(callees[n].rx)).intact:
            found.append(f"box side of call {n} heard itself")
    return found


async def pri_30_calls(ctx: dict[str, Any]) -> dict[str, Any]:
    b = board()
    box, far = Side("box", b), Side("far", far_end_board(b))
    box.start()
    far.start()
    seconds = float(ctx.get("seconds", 4.0))
    frames = int(seconds * 50)
    out: dict[str, Any] = {}
    try:
        await wait_up(box, far)
        t0 = time.monotonic()
        callers: dict[int, Party_] = {}
        for n in range(30):
            legs = pri_trunk(far).originate(f"9677{n % 10}", Party(f"1380013{n:04d}"), None)
            assert legs, f"call {n + 1}: far end has no free B-channel"
            callers[n] = Party_(legs[0], 1000 + n, frames)
        callees: dict[int, Party_] = {}
        while len(callees) < 30:
            ch = await asyncio.wait_for(box.offered.get(), 20)
            n = int(ch.caller.number[-4:])
            callees[n] = Party_(ch, 2000 + n, frames)
            ch.answer()
        await asyncio.wait_for(asyncio.gather(*(c.answered.wait() for c in callers.values())),
                               30)
        out["all_answered_s"] = round(time.monotonic() - t0, 3)
        status = box.tel.status()["spans"][0]
        out["busy_b_channels"] = len(status["b_channels"])
        out["refused_31st"] = not pri_trunk(far).originate("96777", Party("1"), None)
        cpu0 = os.times()
        w0 = time.monotonic()
        for n in range(30):
            callers[n].talk()
            callees[n].talk()
        await asyncio.sleep(seconds + 0.5)
        cpu1 = os.times()
        wall = time.monotonic() - w0
        out["cpu_percent_both_ends"] = round(
            100 * ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / wall, 1)
        per: dict[str, Any] = {}
        for n in range(30):
            ts = getattr(callees[n].ch, "timeslot", None)
            per[str(n)] = {"timeslot": ts, "box_heard": callees[n].check(callers[n]),
                           "far_heard": callers[n].check(callees[n])}
        out["calls"] = per
        out["crosstalk"] = crosstalk(callers, callees)
        for c in callers.values():
            c.ch.hangup(Cause.NORMAL_CLEARING)
        await asyncio.wait_for(asyncio.gather(*(c.ended.wait() for c in callees.values())),
                               20)
        await asyncio.sleep(0.5)
        out["idle_after"] = box.tel.status()["spans"][0]["idle"]
    finally:
        await box.stop()
        await far.stop()
    return out


def r2_trunk(side: Side) -> Any:
    trunks = [t for t in side.tel.trunks if t.status().get("signalling") == "r2"]
    if not trunks:
        raise RuntimeError(f"{side.name}: no R2 trunk: {side.tel.errors}")
    return trunks[0]


async def r2_call(caller_side: Side, callee_side: Side, number: str, ani: str
                  ) -> dict[str, Any]:
    t0 = time.monotonic()
    legs = r2_trunk(caller_side).originate(number, Party(ani), None)
    assert legs, f"{caller_side.name} could not seize an R2 line"
    caller = Party_(legs[0], 11, 150)
    ts = legs[0].timeslot
    try:
        ch = await asyncio.wait_for(callee_side.offered.get(), 20)
    except TimeoutError:
        raise RuntimeError(
            f"no offer at {callee_side.name}; caller line {ts}: "
            f"{r2_trunk(caller_side).line_state(ts)}; callee line {ts}: "
            f"{r2_trunk(callee_side).line_state(ts)}") from None
    t_offer = time.monotonic()
    callee = Party_(ch, 12, 150)
    ch.ring()
    await asyncio.sleep(0.3)
    ch.answer()
    await asyncio.wait_for(caller.answered.wait(), 20)
    t_answer = time.monotonic()
    caller.talk()
    callee.talk()
    await asyncio.sleep(2.0)
    legs[0].hangup(Cause.NORMAL_CLEARING)
    await asyncio.wait_for(callee.ended.wait(), 20)
    # the release guard: the line is usable again once both ends are idle
    for _ in range(100):
        if all(r2_trunk(s).line_state(ts).startswith("Idle Idle")
               and r2_trunk(s).lines[ts].call is None
               for s, ts in ((caller_side, ts), (callee_side, ch.timeslot))):  # type: ignore[attr-defined]
            break
        await asyncio.sleep(0.1)
    return {
        "ani": ch.caller.number, "dnis": ch.called, "tech": ch.tech,
        "category": getattr(ch, "category", None),
        "seize_to_offer_ms": round((t_offer - t0) * 1000, 1),
        "seize_to_answer_ms": round((t_answer - t0) * 1000, 1),
        "caller_events": [e for _, e in caller.events],
        "callee_heard": callee.check(caller), "caller_heard": caller.check(callee),
        "callee_hangup_cause": callee.cause,
    }


async def r2_both_ways(ctx: dict[str, Any]) -> dict[str, Any]:
    b = board()
    box, far = Side("box", b), Side("far", far_end_board(b))
    box.start()
    far.start()
    out: dict[str, Any] = {}
    try:
        await asyncio.sleep(1.0)  # both ends idle (ABCD 1001 seen) before seizing
        out["inbound"] = await r2_call(far, box, "96777", "13800138000")
        out["outbound"] = await r2_call(box, far, "12345", "88001234")
        out["status"] = r2_trunk(box).status()
    finally:
        await box.stop()
        await far.stop()
    return out


BOX_DATA = Path("/data/box")
_INIT_DB = (
    "import sys; from pathlib import Path; from firmware.db.connection import open_db; "
    "from firmware.db.demo import ensure_demo_data; d = Path(sys.argv[1]); "
    "d.mkdir(parents=True, exist_ok=True); db = open_db(d); demo = ensure_demo_data(db, d); "
    "db.close(); import json; print(json.dumps(demo))"
)


def dbfs(alaw: bytes) -> float:
    """Level of what the caller heard (A-law), dBFS; -inf for digital silence."""
    import math

    import numpy as np

    from firmware.media import g711
    from firmware.media.codecs import Codec

    if not alaw:
        return -math.inf
    pcm = g711.decode(Codec.PCMA, alaw).astype(np.float64)
    rms = float(np.sqrt(np.mean(pcm * pcm)))
    return 20 * math.log10(rms / 32768) if rms > 0 else -math.inf


def switchd_control(request: dict[str, Any], timeout: float = 20.0) -> dict[str, Any]:
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(BOX_DATA / "run" / "switchd.sock"))
        sock.sendall(json.dumps(request).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buf += chunk
    reply = json.loads(buf)
    assert isinstance(reply, dict)
    return reply


async def box_status(timeout: float) -> dict[str, Any]:
    """switchd's status once both its D-channel is up (it is the box's own view)."""
    loop = asyncio.get_running_loop()
    t0 = time.monotonic()
    last: dict[str, Any] = {}
    while time.monotonic() - t0 < timeout:
        try:
            last = await loop.run_in_executor(None, switchd_control, {"cmd": "status"})
            spans = last.get("spans") or []
            if spans and spans[0].get("dchannel") == "up":
                return last
        except (OSError, ValueError):
            pass
        await asyncio.sleep(0.5)
    raise TimeoutError(f"switchd not up with its D-channel after {timeout} s: {last}")


async def sip_phone_calls_out(far: Side, password: str) -> dict[str, Any]:
    """A SIP phone (sipp, extension 8001) dials 0 + number; the box takes a B-channel
    and the far end's exchange answers."""
    scenario = SRC / "tests" / "sipp" / "uac_call.xml"
    work = Path("/tmp/sipp")
    work.mkdir(exist_ok=True)
    number = "013912345678"
    cmd = ["sipp", "-sf", str(scenario), "-i", "127.0.0.1", "-p", "5071", "-mp", "6000",
           "-m", "1", "-l", "1", "-nostdin", "-aa", "-timeout", "90s", "-timeout_error",
           "-s", number, "-au", "8001", "-ap", password,
           "-auth_uri", f"{number}@127.0.0.1:5060",
           "-key", "user", "8001", "-key", "pre_play_ms", "0", "-key", "talk_ms", "3000",
           "-trace_err", "-error_file", str(work / "errors.log"), "127.0.0.1:5060"]
    # Under TCG switchd's loop is often late, and its overload guard answers 503 with
    # Retry-After; like a phone, try again (the refusals are reported).
    refused = 0
    for _attempt in range(10):
        t0 = time.monotonic()
        proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.PIPE)
        offered = asyncio.ensure_future(far.offered.get())
        done = asyncio.ensure_future(proc.wait())
        await asyncio.wait({offered, done}, timeout=60,
                           return_when=asyncio.FIRST_COMPLETED)
        if offered.done():
            ch = offered.result()
            break
        offered.cancel()
        if proc.returncode is None:
            proc.kill()
        _, err = await proc.communicate()
        if b"503 Service Unavailable" in err:
            refused += 1
            await asyncio.sleep(3.0)
            continue
        errors = (work / "errors.log").read_text(errors="replace")[-800:] \
            if (work / "errors.log").exists() else ""
        log_tail = (BOX_DATA / "switchd.log").read_text(errors="replace")[-1200:]
        raise RuntimeError(f"no SETUP reached the far end; sipp exit {proc.returncode}: "
                           f"{err.decode()[-400:]} {errors}; switchd: {log_tail}")
    else:
        raise RuntimeError(f"switchd refused the SIP call {refused} times (overloaded)")
    setup_s = time.monotonic() - t0
    callee = Party_(ch, 40, 300)
    ch.answer()
    callee.talk()
    _, err = await asyncio.wait_for(proc.communicate(), 90)
    await asyncio.wait_for(callee.ended.wait(), 20)
    return {"called": ch.called, "caller": ch.caller.number, "tech": ch.tech,
            "invite_to_setup_s": round(setup_s, 2), "sipp_exit": proc.returncode,
            "refused_overloaded": refused,
            "sipp_stderr": err.decode(errors="replace")[-300:],
            "far_heard_dbfs": round(dbfs(bytes(callee.rx)), 1),
            "far_hangup_cause": callee.cause}


async def box_ivr(ctx: dict[str, Any]) -> dict[str, Any]:
    """The real box (ccbox-switchd on board vm-dahdi, demo data) answers PRI calls from
    the far end at its 96777 IVR: post-dial delay SETUP -> CONNECT, the CDRs."""
    env = dict(os.environ)
    t_init = time.monotonic()
    init = subprocess.run([sys.executable, "-c", _INIT_DB, str(BOX_DATA)], check=True,
                          timeout=180, env=env, capture_output=True, text=True)
    passwords = {number: pw for number, _name, pw in json.loads(init.stdout.splitlines()[-1])}
    template = Path("/opt/ccbox/data-template/prompts")
    if template.is_dir():  # the stock prompts, synthesised on the host
        shutil.copytree(template, BOX_DATA / "prompts", dirs_exist_ok=True)
    out: dict[str, Any] = {"db_init_s": round(time.monotonic() - t_init, 1)}
    log_path = BOX_DATA / "switchd.log"
    t_start = time.monotonic()
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen(
            [sys.executable, "-m", "firmware.switch.daemon", "--data", str(BOX_DATA),
             "--board", "vm-dahdi", "--bind", "127.0.0.1", "--sip-port", "5060",
             "--rtp-ports", "20000-20999"], stdout=logf, stderr=subprocess.STDOUT, env=env)
    far = Side("far", far_end_board(board()))
    far.start()
    try:
        status = await box_status(120.0)
        await wait_up(far)  # both ends of the link, not just the box's
        out["switchd_up_s"] = round(time.monotonic() - t_start, 1)
        span = status["spans"][0]
        out["box_span"] = {k: span.get(k) for k in ("name", "driver", "signalling", "node",
                                                    "dchannel", "alarm", "idle")}
        out["telephony_errors"] = status.get("telephony_errors", [])
        delays = []
        heard = []
        for n in range(5):
            t0 = time.monotonic()
            legs = pri_trunk(far).originate("96777", Party(f"1380013800{n}"), None)
            assert legs, "far end could not place the call"
            caller = Party_(legs[0], 30 + n, 100)
            await asyncio.wait_for(caller.answered.wait(), 30)
            delays.append(round((time.monotonic() - t0) * 1000, 1))
            caller.talk()
            await asyncio.sleep(2.0)
            heard.append(round(dbfs(bytes(caller.rx)), 1))
            legs[0].hangup(Cause.NORMAL_CLEARING)
            await asyncio.sleep(1.0)
        out["setup_to_connect_ms"] = delays
        out["ivr_audio_dbfs"] = heard
        out["sip_out"] = await sip_phone_calls_out(far, passwords["8001"])
        await asyncio.sleep(2.0)  # CDRs are written behind
        import sqlite3

        conn = sqlite3.connect(f"file:{BOX_DATA / 'ccbox.db'}?mode=ro", uri=True, timeout=5)
        try:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT caller, called, direction, cause, answer IS NOT NULL"
                                " AS answered, extra FROM cdr ORDER BY id").fetchall()
        finally:
            conn.close()
        out["cdrs"] = [dict(r) for r in rows]
    finally:
        await far.stop()
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        out["switchd_exit"] = proc.returncode
        out["switchd_log_tail"] = log_path.read_text(errors="replace")[-1500:]
    return out


SCENARIOS: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "dahdi_up": dahdi_up,
    "pri_both_ways": pri_both_ways,
    "pri_30_calls": pri_30_calls,
    "r2_both_ways": r2_both_ways,
    "box_ivr": box_ivr,
}
TIMEOUTS = {"pri_30_calls": 120.0, "box_ivr": 300.0}


def configure_dahdi() -> float:
    conf = generate(board())
    Path("/etc/dahdi").mkdir(parents=True, exist_ok=True)
    Path("/etc/dahdi/system.conf").write_text(conf)
    t0 = time.monotonic()
    proc = subprocess.run(["dahdi_cfg", "-v"], capture_output=True, text=True, timeout=60,
                          check=False)
    took = time.monotonic() - t0
    if proc.returncode == 0:
        dummy = subprocess.run(["modprobe", "dahdi_dummy"], capture_output=True, text=True,
                               timeout=30, check=False)
        if dummy.returncode != 0:
            raise RuntimeError(f"modprobe dahdi_dummy: {dummy.stderr}")
    if proc.returncode != 0:
        spans = {p.name: p.read_text()[:400] for p in sorted(Path("/proc/dahdi").glob("*"))}
        dmesg = subprocess.run(["dmesg"], capture_output=True, text=True, check=False).stdout
        raise RuntimeError(f"dahdi_cfg failed ({proc.returncode}): {proc.stderr[-600:]}; "
                           f"/proc/dahdi: {spans}; dmesg: {dmesg[-1500:]}")
    return took


async def run(only: list[str]) -> int:
    ctx: dict[str, Any] = {}
    try:
        ctx["dahdi_cfg_s"] = round(configure_dahdi(), 3)
    except Exception as e:
        result("dahdi_cfg", {"error": str(e)})
        return 1
    failed = 0
    for name, fn in SCENARIOS.items():
        if only and name not in only:
            continue
        t0 = time.monotonic()
        try:
            value = await asyncio.wait_for(fn(ctx), TIMEOUTS.get(name, 60.0))
        except Exception as e:
            failed += 1
            value = {"error": f"{type(e).__name__}: {e}",
                     "traceback": traceback.format_exc()[-3000:]}
        value["seconds"] = round(time.monotonic() - t0, 2)
        result(name, value)
    return 1 if failed else 0


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--only", default="")
    args = p.parse_args()
    level = logging.INFO if os.environ.get("CCBOX_R2_TRACE") else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    only = [s for s in args.only.split(",") if s]
    _ = io  # the ABI constants module is part of what the guest exercises
    return asyncio.run(run(only))


if __name__ == "__main__":
    sys.exit(main())
