"""30 E1 B-channels bridged to SIP phones and recorded: switchd's CPU (issue 4's figure).

    python -m bench.e1_calls                 # 30 calls, 60 s windows (about 6 minutes)
    python -m bench.e1_calls --quick         # 10 s windows (about 1.5 minutes)
    python -m bench.e1_calls --calls 20 --hold 30 --skip-sip --json /tmp/e1.json

Starts a switchd of its own on board `sim` (private data directory configured with `ccbox
config import`, its own loopback address 127.0.0.79, nice -10 as the systemd unit,
recording every call). Extension 9002 is registered from the port where a sipp UAS
(bench/sipp/uas_load.xml) answers every call; DID 62001234 goes to 9002.

0. The box idle (`--idle` s, after registration): the simulator's clock ticking, no call.
1. SIP -> SIP, for the ratio: box_load's concurrent step (bench/box_load.py) with the
   same number of calls on the same box: 9001 (sipp UAC) calls 9002, bench/rtp_probe.py
   plays both phones (20 ms PCMA each way), switchd's CPU over `--hold` seconds.
2. E1 -> SIP: the PSTN simulator of the sim board (libpri in NET mode at the far end of
   the emulated E1, inside switchd: docs/decisions/0005-pstn-simulator.md) places the
   calls to the DID at `--setup-rate` (`pstn_call` control commands, one per call, as
   `ccbox pstn call` sends), each caller playing a looped 440 Hz tone into its B-channel;
   rtp_probe plays the SIP phones (`--sides b`). With every call up:
   - window 1 (`--hold` s): switchd's CPU (utime+stime from /proc/PID/stat, the kernel
     part separately, and per thread: the event loop thread against the others), RSS;
   - window 2 (`--meter-hold` s): the same, with the simulator's CPU meter on
     (`pstn_meter`: thread CPU time of its clock, B-channel reads and D-channel, counted
     around each of its callbacks), so that the far end's share can be taken out: the
     figure for the box is window 1 minus the far end's share measured in window 2.
     The meter cannot see the event loop's own work around each callback (epoll,
     uvloop's dispatch): the bench calibrates that per callback first, on the same
     pattern of socketpairs in its own process, and gives the far end as a range (what
     the meter counted; that plus its callbacks' dispatch).
   The simulator's calls hang up after the windows; then the bench checks that every
   call was answered and released normally, that the far end heard the phone, that
   there is one recording per call with sound on both channels, and one CDR per call.

Prints one table; `--json FILE` writes every figure. Performance is measured, never
asserted: nothing here fails on a number (a broken call path does fail the run).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: the repository on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import uvloop
import yaml

from bench.box_load import (
    CALLEE,
    CALLER,
    CLK_TCK,
    PASSWORDS,
    SIPP,
    BenchError,
    CpuSample,
    LoadRun,
    Processes,
    cpu_model,
    cpu_percent,
    git_state,
    load_average,
    log,
    proc_status_kb,
    sample_cpu,
    sipp_version,
    summarize_concurrent,
    table,
    wait_exit,
)
from bench.box_load import Options as LoadOptions
from drivers.sim.audio import tone
from firmware.cli.errors import CliError
from firmware.cli.status import query, switchd_socket
from firmware.media.codecs import Codec
from firmware.media.dtmf_detect import InbandDtmf
from tests.peers.wav import active_seconds, read_wav, rms

DID = "62001234"
FIRST_CALLER = 13800138000
TONE_HZ, TONE_LEVEL, TONE_SECONDS = 440.0, 0.25, 2.0  # 880 whole cycles: a seamless loop


@dataclass
class Options:
    host: str
    calls: int
    hold: float
    meter_hold: float
    idle: float
    setup_rate: float
    box_nice: int
    probe_nice: int
    rtp_ports: str
    workdir: Path
    keep: bool
    skip_sip: bool
    json_out: Path | None


def thread_ticks(pid: int) -> dict[int, tuple[int, int]]:
    """(utime, stime) per thread of a process, in clock ticks."""
    out: dict[int, tuple[int, int]] = {}
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                text = (task / "stat").read_text()
                f = text[text.rindex(")") + 2 :].split()
                out[int(task.name)] = (int(f[11]), int(f[12]))
    return out


def thread_split(pid: int, a: dict[int, tuple[int, int]], b: dict[int, tuple[int, int]],
                 seconds: float) -> dict[str, float]:
    """% of one core of the event loop thread (the process's first) and of all others
    (recording writers, CDR writer...), over two `thread_ticks` samples."""
    def used(tid: int) -> int:
        u1, s1 = b[tid]
        u0, s0 = a.get(tid, (0, 0))
        return u1 + s1 - u0 - s0

    main = used(pid) if pid in b else 0
    others = sum(used(t) for t in b if t != pid)
    scale = 100.0 / CLK_TCK / max(seconds, 1e-6)
    return {"loop_thread": round(main * scale, 2), "other_threads": round(others * scale, 2),
            "threads": len(b)}


def write_caller_audio(path: Path) -> None:
    """What every simulated caller says, looped: a steady 440 Hz tone (one tone cannot
    be taken for a DTMF key by the box's in-band detector)."""
    n = int(TONE_SECONDS * 8000)
    pcm = TONE_LEVEL * 32767 * np.sin(2 * np.pi * TONE_HZ * np.arange(n) / 8000)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm.astype("<i2").tobytes())


def dispatch_cost_us(seconds: float = 3.0, lines: int = 30) -> float:
    """What the simulator's CPU meter cannot see, per callback: the event loop's own work
    (epoll, uvloop's dispatch) around a callback, in µs. Measured here on the same
    pattern (a 20 ms clock writing a frame into each of `lines` socketpairs, a reader on
    each end), every callback metered as the simulator's are: thread CPU minus what the
    meters counted, over the number of callbacks."""
    frame = b"\xd5" * 160
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(lines)]
    counted = [0, 0]  # ns, callbacks

    def metered(fn: Any, *args: Any) -> None:
        t0 = time.thread_time_ns()
        fn(*args)
        counted[0] += time.thread_time_ns() - t0
        counted[1] += 1

    def drain(s: socket.socket, echo: bool) -> None:
        with contextlib.suppress(BlockingIOError):
            while s.recv(2048):
                if echo:
                    os.write(s.fileno(), frame)

    def tick() -> None:
        for a, _ in pairs:
            os.write(a.fileno(), frame)

    async def run() -> float:
        loop = asyncio.get_running_loop()
        for a, b in pairs:
            a.setblocking(False)
            b.setblocking(False)
            loop.add_reader(a.fileno(), metered, drain, a, False)
            loop.add_reader(b.fileno(), metered, drain, b, True)
        t0 = time.thread_time_ns()
        due = end = time.monotonic()
        end += seconds
        while due < end:
            due += 0.02
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            metered(tick)
        used = time.thread_time_ns() - t0
        for a, b in pairs:
            loop.remove_reader(a.fileno())
            loop.remove_reader(b.fileno())
        return (used - counted[0]) / max(counted[1], 1) / 1000

    try:
        return round(uvloop.run(run()), 2)
    finally:
        for a, b in pairs:
            a.close()
            b.close()


def dtmf_cost_us(frames: int = 5000) -> float:
    """CPU per 20 ms frame of the box's in-band DTMF detector (spandsp, which every
    E1 B-channel runs on what the caller says; a SIP leg gets RFC 4733 events instead),
    measured alone on the callers' tone, in µs."""
    detector = InbandDtmf(Codec.PCMA)
    frame = tone(TONE_HZ, 0.02, TONE_LEVEL)
    try:
        t0 = time.thread_time_ns()
        for _ in range(frames):
            detector.feed(frame)
        return round((time.thread_time_ns() - t0) / frames / 1000, 2)
    finally:
        detector.close()


class PstnCallers:
    """The simulated PSTN's callers: one `pstn_call` control command per call, each in
    a thread of its own (the command answers when the call has ended)."""

    def __init__(self, sock: Path, n: int, rate: float, audio: Path, seconds: float) -> None:
        self.sock = sock
        self.n = n
        self.rate = rate
        self.audio = audio
        self.seconds = seconds
        self.reports: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        for i in range(self.n):
            t = threading.Thread(target=self._call, args=(str(FIRST_CALLER + i),), daemon=True)
            t.start()
            self._threads.append(t)
            time.sleep(1.0 / self.rate)

    def _call(self, caller: str) -> None:
        req: dict[str, object] = {"cmd": "pstn_call", "number": DID, "from": caller,
                                  "play": str(self.audio), "loop": True,
                                  "seconds": self.seconds}
        try:
            reply = query(self.sock, req, timeout=self.seconds + 120)
        except CliError as e:
            with self._lock:
                self.errors.append(f"{caller}: {e}")
            return
        report = reply.get("call")
        with self._lock:
            if isinstance(report, dict):
                self.reports.append(report)
            else:
                self.errors.append(f"{caller}: {reply.get('error', reply)}")

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))


def check_recording(path: Path) -> dict[str, Any]:
    """Seconds of sound on each channel (left = the E1 caller, right = the SIP phone)."""
    try:
        wav = read_wav(path)
    except (OSError, wave.Error, EOFError, ValueError) as e:
        return {"file": path.name, "error": str(e)}
    out: dict[str, Any] = {"file": path.name, "seconds": round(wav.seconds, 1),
                           "channels": wav.channels}
    if wav.channels == 2:
        out["left_sound_s"] = round(active_seconds(wav, 0), 1)
        out["right_sound_s"] = round(active_seconds(wav, 1), 1)
        out["left_rms"] = round(rms(wav.channel(0)), 0)
    return out


class E1Run(LoadRun):
    def __init__(self, opts: Options, procs: Processes) -> None:
        super().__init__(load_options(opts), procs)
        self.e = opts
        self.idle: dict[str, Any] = {}
        self.sip: dict[str, Any] = {}
        self.e1: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}

    # -- set-up ---------------------------------------------------------------------------

    def start_box(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        site = {
            "schema": 1,
            "extensions": [{"number": e, "name": f"bench {e}", "password": PASSWORDS[e]}
                           for e in (CALLER, CALLEE)],
            "dids": [{"number": DID, "name": "bench E1 hotline", "target": f"extension:{CALLEE}"}],
        }
        path = self.e.workdir / "site.yaml"
        path.write_text(yaml.safe_dump(site, sort_keys=False))
        self.ccbox("config", "import", str(path))
        self.launch_box()

    def control(self, req: dict[str, object], timeout: float = 10.0) -> dict[str, object]:
        try:
            return query(switchd_socket(self.data), req, timeout=timeout)
        except CliError as e:
            raise BenchError(f"switchd control {req.get('cmd')}: {e}") from None

    def cdr_rows(self, after_id: int) -> list[dict[str, Any]]:
        db = self.data / "ccbox.db"
        try:
            with contextlib.closing(
                sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
            ) as con:
                con.row_factory = sqlite3.Row
                rows = con.execute(
                    "select id, caller, called, callee, answer, cause, recording, direction "
                    "from cdr where id > ? order by id", (after_id,)).fetchall()
        except sqlite3.Error:
            return []
        return [dict(r) for r in rows]

    def last_cdr_id(self) -> int:
        rows = self.cdr_rows(-1)
        return max((int(r["id"]) for r in rows), default=0)

    # -- 2. E1 -> SIP ------------------------------------------------------------------------

    def sample(self, pid: int) -> tuple[CpuSample, dict[int, tuple[int, int]]]:
        return sample_cpu({"switchd": pid}), thread_ticks(pid)

    def window(self, pid: int, seconds: float) -> dict[str, Any]:
        a, ta = self.sample(pid)
        time.sleep(seconds)
        b, tb = self.sample(pid)
        out: dict[str, Any] = {"seconds": round(b.wall - a.wall, 2), **cpu_percent(a, b)}
        out.update(thread_split(pid, ta, tb, b.wall - a.wall))
        out["rss_kb"] = proc_status_kb(pid, "VmRSS")
        out["active_calls"] = self.active_calls()
        return out

    def measure(self, pid: int, n: int) -> dict[str, Any]:
        """Window 1 as the box runs; window 2 with the simulator's CPU meter on."""
        o = self.e
        out: dict[str, Any] = {"plain": self.window(pid, o.hold)}
        log(f"  window 1: switchd {out['plain']['switchd']}% of a core "
            f"({out['plain']['switchd_sys']}% kernel), {out['plain']['active_calls']} calls")
        if o.meter_hold > 0:
            self.control({"cmd": "pstn_meter", "on": True})
            metered = self.window(pid, o.meter_hold)
            reply = self.control({"cmd": "pstn_meter", "on": False})
            found = reply.get("meters")
            meters = [m for m in found if isinstance(m, dict)] if isinstance(found, list) else []
            if meters:
                m = meters[0]
                secs = max(float(m["seconds"]), 1e-6)
                metered["far_end"] = round(100.0 * int(m["cpu_ns"]) / 1e9 / secs, 2)
                metered["far_end_callbacks_per_s"] = round(int(m["sections"]) / secs)
                metered["far_end_buffered_kb"] = round(int(m["buffered_bytes"]) / 1024)
            out["metered"] = metered
            log(f"  window 2 (meter on): switchd {metered['switchd']}%, of which the far "
                f"end {metered.get('far_end')}% in {metered.get('far_end_callbacks_per_s')} "
                "callbacks/s")
        return out

    def e1_step(self, n: int) -> dict[str, Any]:
        o = self.e
        d = self.step_dir(f"e1-{n}")
        ramp = n / o.setup_rate
        windows = o.hold + o.meter_hold + 3.0
        # each simulated caller hangs up this long after its answer: after the windows
        call_seconds = ramp + 2.0 + windows + 5.0
        audio = o.workdir / "caller.wav"
        write_caller_audio(audio)
        rec_before = set(self.recordings())
        cdr_before = self.last_cdr_id()
        self.box_log_news()
        pid = self.box_pid()
        rss_idle = proc_status_kb(pid, "VmRSS")
        probe = self.probe(d, n, "box", windows, call_seconds, ramp + 20,
                           extra=["--sides", "b"])
        events = self.probe_events(probe, call_seconds + 120)
        first = next(events)
        if first.get("event") != "ready":
            raise BenchError(f"rtp_probe did not start: {first}")
        uas = self.sipp(
            "uas", "uas_load.xml", self.uas_port, d,
            [*self.uas_args(n, d / "b.csv", call_seconds + ramp), "-trace_logs",
             "-log_file", str(d / "b.log"), "-timeout", f"{call_seconds + ramp + 90:.0f}s"],
            remote=False)
        time.sleep(0.3)
        callers = PstnCallers(switchd_socket(self.data), n, o.setup_rate, audio, call_seconds)
        callers.start()
        result: dict[str, Any] = {"calls": n, "rss_idle_kb": rss_idle,
                                  "call_seconds": round(call_seconds, 1)}
        for ev in events:
            kind = ev["event"]
            if kind == "mapped":
                log(f"  E1 {n} calls: media of {ev['streams']}/{ev['of']} SIP phones up"
                    + (" (timed out)" if ev.get("timeout") else ""))
            elif kind == "window_start":
                result["active_calls_at_start"] = self.active_calls()
                log(f"  E1 {n} calls up ({result['active_calls_at_start']} active in the "
                    f"box), measuring {o.hold:g} s + {o.meter_hold:g} s")
                result.update(self.measure(pid, n))
                result["load_avg"] = load_average()
            elif kind == "result":
                result["media"] = ev
        self.procs.stop(probe)
        callers.join(call_seconds + 60)
        rc_uas = wait_exit(uas, 30)
        self.procs.stop(uas)
        result["uas"] = self.sipp_verdict(d, "uas", rc_uas, n)
        result["pstn"] = summarize_pstn(callers.reports, callers.errors, n)
        result["left_active"] = self.wait_box_idle()
        time.sleep(1.5)  # CDRs and recordings are written behind
        new = sorted(set(self.recordings()) - rec_before)
        result["recordings"] = len(new)
        result["recording_check"] = [check_recording(p) for p in new]
        cdrs = self.cdr_rows(cdr_before)
        result["cdrs"] = len(cdrs)
        result["cdrs_ok"] = sum(1 for c in cdrs if c["called"] == DID and c["callee"] == CALLEE
                                and c["answer"] is not None and c["recording"])
        result["box_log"] = self.box_log_news()
        judge_e1(result, o)
        for path in new:
            with contextlib.suppress(OSError):
                path.unlink()
        return result

    # -- all -------------------------------------------------------------------------------------

    def run_all(self) -> None:
        o = self.e
        self.meta = {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "command": "python -m bench.e1_calls " + " ".join(sys.argv[1:]),
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "load_avg_start": load_average(),
            "git": git_state(),
            "sipp": sipp_version(),
            "host": o.host,
            "box_nice": o.box_nice,
        }
        log(f"load average at start: {self.meta['load_avg_start']}; tree {self.meta['git']}; "
            f"{self.meta['cores']} x {self.meta['cpu']}")
        if o.meter_hold > 0:
            self.meta["dispatch_us"] = dispatch_cost_us()
            log(f"event loop work around a callback, unseen by the meter: "
                f"{self.meta['dispatch_us']} µs")
        self.meta["dtmf_us"] = dtmf_cost_us()
        log(f"in-band DTMF detection: {self.meta['dtmf_us']} µs per frame")
        self.start_box()
        self.register()
        if o.idle > 0:
            time.sleep(2.0)  # registration and start-up writes settle
            self.idle = self.window(self.box_pid(), o.idle)
            log(f"0. idle box (the simulator's clock ticking, no call): switchd "
                f"{self.idle['switchd']}% of a core, RSS {self.idle['rss_kb'] // 1024} MB")
        if not o.skip_sip:
            log(f"1. SIP -> SIP: {o.calls} recorded calls (box_load's concurrent step)")
            self.sip = self.concurrent_step(o.calls)
            log(f"  {'PASS' if self.sip['pass'] else 'FAIL'} " + summarize_concurrent(self.sip))
            self.wait_box_idle()
        log(f"2. E1 -> SIP: {o.calls} calls from the simulated PSTN to DID {DID}")
        self.e1 = self.e1_step(o.calls)
        log(f"  {'PASS' if self.e1['pass'] else 'FAIL'}"
            + (": " + "; ".join(self.e1["why"]) if self.e1["why"] else ""))
        self.meta["load_avg_end"] = load_average()


def load_options(o: Options) -> LoadOptions:
    """box_load's options for its parts we use (box, registration, the SIP step)."""
    return LoadOptions(
        host=o.host, steps=[o.calls], hold=o.hold, baseline_seconds=5.0,
        setup_rate=o.setup_rate, jitter_limit=5.0, attempts=1, setup_calls=0, setup_cps=1.0,
        rates=[], rate_seconds=0.0, rtp_ports=o.rtp_ports, box_nice=o.box_nice,
        probe_nice=o.probe_nice, workdir=o.workdir, keep=o.keep, skip_concurrent=False,
        skip_setup=True, skip_rate=True, json_out=None, dump_media=False)


def summarize_pstn(reports: list[dict[str, Any]], errors: list[str], n: int) -> dict[str, Any]:
    answered = [r for r in reports if r.get("answer_ms") is not None]
    heard = [float(r["heard_dbfs"]) for r in reports if r.get("heard_dbfs") is not None]
    answer_ms = sorted(float(r["answer_ms"]) for r in answered)
    return {
        "placed": n,
        "reports": len(reports),
        "answered": len(answered),
        "released_by_pstn_normal": sum(1 for r in reports if r.get("released_by") == "pstn"
                                       and r.get("cause") == 16),
        "channels": len({r.get("channel") for r in reports}),
        "answer_ms_max": answer_ms[-1] if answer_ms else None,
        "answer_ms_p50": answer_ms[len(answer_ms) // 2] if answer_ms else None,
        "heard_dbfs_min": min(heard) if heard else None,
        "heard_seconds_min": min((float(r.get("heard_seconds") or 0) for r in reports),
                                 default=None),
        "causes": sorted({str(r.get("cause")) for r in reports}),
        "errors": errors[:5],
    }


def judge_e1(r: dict[str, Any], o: Options) -> None:
    n = r["calls"]
    why: list[str] = []
    p = r["pstn"]
    if p["answered"] != n:
        why.append(f"{p['answered']}/{n} E1 calls answered ({p['errors'] or p['causes']})")
    if p["released_by_pstn_normal"] != n:
        why.append(f"{p['released_by_pstn_normal']}/{n} E1 calls lasted until the caller "
                   f"hung up (causes {p['causes']})")
    if p["heard_dbfs_min"] is None or p["heard_dbfs_min"] < -50:
        why.append(f"an E1 caller heard the phone at {p['heard_dbfs_min']} dBFS only")
    if not r["uas"]["clean"]:
        why.append(f"SIP phones: {r['uas']['successful']}/{n} calls ok")
    media = r.get("media", {})
    if media.get("streams_mapped", 0) < n:
        why.append(f"media up on {media.get('streams_mapped', 0)}/{n} SIP phones")
    if r.get("plain", {}).get("active_calls") != n:
        why.append(f"{r.get('plain', {}).get('active_calls')} calls active in the box "
                   f"in the window, {n} expected")
    if r["recordings"] != n:
        why.append(f"{r['recordings']} recordings for {n} calls")
    want = 0.9 * (o.hold + o.meter_hold)
    for check in r["recording_check"]:
        heard = min(check.get("left_sound_s", 0.0), check.get("right_sound_s", 0.0))
        if heard < want:
            why.append(f"recording {check['file']} has {heard:.1f} s of sound on its "
                       f"quieter channel, {want:.1f} s expected")
            break
    if r["cdrs"] != n or r["cdrs_ok"] != n:
        why.append(f"{r['cdrs']} CDRs ({r['cdrs_ok']} answered by {CALLEE} with a "
                   f"recording) for {n} calls")
    if r.get("left_active"):
        why.append(f"{r['left_active']} calls still active afterwards")
    r["pass"] = not why
    r["why"] = why


# -- reporting --------------------------------------------------------------------------------


def _f(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def figures(run: E1Run) -> dict[str, Any]:
    """The headline numbers, from the two steps."""
    n = run.e.calls
    out: dict[str, Any] = {}
    idle = run.idle.get("switchd")
    if idle is not None:
        out["idle_switchd"] = idle
    e1 = run.e1
    plain = e1.get("plain", {})
    metered = e1.get("metered", {})
    total = plain.get("switchd")
    far = metered.get("far_end")
    if total is not None:
        out["e1_switchd"] = total
        out["e1_switchd_sys"] = plain.get("switchd_sys")
        out["e1_per_call"] = round(total / n, 3)
    if total is not None and far is not None:
        # the meter's count is a lower bound; the loop's dispatch of the far end's
        # callbacks (calibrated per callback) makes the upper one
        dispatch = run.meta.get("dispatch_us") or 0.0
        far_max = far + metered.get("far_end_callbacks_per_s", 0) * dispatch / 1e4
        out["e1_far_end"] = far
        out["e1_far_end_max"] = round(far_max, 2)
        out["e1_far_end_share"] = round(far / max(metered.get("switchd") or 0, 1e-6), 3)
        out["e1_box"] = round(total - far, 2)
        out["e1_box_min"] = round(total - far_max, 2)
        out["e1_box_per_call"] = round((total - far) / n, 3)
        out["e1_box_min_per_call"] = round((total - far_max) / n, 3)
    window = metered if metered.get("rss_kb") else plain
    rss = window.get("rss_kb")
    if rss:
        grown = rss - e1.get("rss_idle_kb", 0)
        out["e1_rss_mb"] = round(rss / 1024, 1)
        out["e1_rss_per_call_kb"] = round(grown / n)
        if "far_end_buffered_kb" in window:
            out["e1_rss_box_per_call_kb"] = round((grown - window["far_end_buffered_kb"]) / n)
    sip = run.sip.get("cpu", {}).get("switchd") if run.sip else None
    if sip is not None:
        out["sip_switchd"] = sip
        out["sip_per_call"] = round(sip / n, 3)
        box = out.get("e1_box", total)
        if box is not None and sip > 0:
            out["e1_box_over_sip"] = round(box / sip, 2)
            if "e1_box_min" in out:
                out["e1_box_min_over_sip"] = round(out["e1_box_min"] / sip, 2)
    dtmf = run.meta.get("dtmf_us")
    if dtmf is not None:
        out["e1_dtmf_detect"] = round(dtmf * 50 * n / 1e4, 2)  # % of a core, n lines
    if idle is not None:
        # what each call adds to an idle box
        for key, name in (("e1_box", "e1_added_per_call"), ("sip_switchd", "sip_added_per_call")):
            if key in out:
                out[name] = round((out[key] - idle) / n, 3)
    return out


def summary(run: E1Run) -> str:
    m = run.meta
    n = run.e.calls
    lines = [
        f"{m.get('date')}: {m.get('command')}",
        f"machine: {m.get('cores')} x {m.get('cpu')}; load average {m.get('load_avg_start')} "
        f"at start, {m.get('load_avg_end')} at the end; tree {m.get('git')}; switchd nice "
        f"{m.get('box_nice')}",
        "",
    ]
    rows = [["calls", "result", "window s", "switchd % core", "kernel %", "loop thread %",
             "other threads %", "far end %", "per call %", "RSS MB", "others %", "steal %"]]
    if run.idle:
        idle = run.idle
        rows.append(["idle", "-", _f(idle.get("seconds"), 1), _f(idle.get("switchd"), 1),
                     _f(idle.get("switchd_sys"), 1), _f(idle.get("loop_thread"), 1),
                     _f(idle.get("other_threads"), 1), "-", "-",
                     _f(idle.get("rss_kb", 0) / 1024, 1), _f(idle.get("others"), 1),
                     _f(idle.get("steal"), 1)])
    if run.sip:
        c = run.sip.get("cpu", {})
        sw = c.get("switchd")
        rows.append([f"{n} SIP->SIP", "pass" if run.sip.get("pass") else "FAIL",
                     _f(run.sip.get("media", {}).get("window_s"), 1), _f(sw, 1),
                     _f(c.get("switchd_sys"), 1), "-", "-", "-",
                     _f(sw / n if sw is not None else None, 3),
                     _f(run.sip.get("rss_kb", 0) / 1024, 1), _f(c.get("others"), 1),
                     _f(c.get("steal"), 1)])
    e1 = run.e1
    for key, label in (("plain", f"{n} E1->SIP"), ("metered", f"{n} E1->SIP, meter on")):
        w = e1.get(key)
        if not w:
            continue
        sw = w.get("switchd")
        rows.append([label, "pass" if e1.get("pass") else "FAIL", _f(w.get("seconds"), 1),
                     _f(sw, 1), _f(w.get("switchd_sys"), 1), _f(w.get("loop_thread"), 1),
                     _f(w.get("other_threads"), 1), _f(w.get("far_end"), 2),
                     _f(sw / n if sw is not None else None, 3), _f(w.get("rss_kb", 0) / 1024, 1),
                     _f(w.get("others"), 1), _f(w.get("steal"), 1)])
    lines.append(table(rows))
    f = figures(run)
    lines.append("")
    if "e1_box" in f:
        lines.append(
            f"E1 -> SIP, recorded: switchd {f['e1_switchd']}% of a core for {n} calls "
            f"({f['e1_per_call']}% per call); the simulated far end inside it "
            f"{f['e1_far_end']}-{f['e1_far_end_max']}% (meter; with the loop's dispatch "
            f"of its callbacks; {f['e1_far_end_share']:.0%} of switchd in window 2); the box "
            f"alone {f['e1_box_min']}-{f['e1_box']}% ({f['e1_box_min_per_call']}-"
            f"{f['e1_box_per_call']}% per call)")
    if "sip_per_call" in f:
        lines.append(f"SIP -> SIP, recorded, same box and run: {f['sip_switchd']}% "
                     f"({f['sip_per_call']}% per call); E1 (box alone) / SIP: "
                     f"{_f(f.get('e1_box_min_over_sip'))}-{_f(f.get('e1_box_over_sip'))}")
    if "e1_dtmf_detect" in f:
        lines.append(f"of the box's E1 share, in-band DTMF detection on {n} lines: "
                     f"{f['e1_dtmf_detect']}% ({run.meta.get('dtmf_us')} µs per frame, "
                     "measured alone)")
    if "idle_switchd" in f:
        lines.append(f"idle box {f['idle_switchd']}%; added per call over idle: E1 (box alone) "
                     f"{_f(f.get('e1_added_per_call'), 3)}%, SIP "
                     f"{_f(f.get('sip_added_per_call'), 3)}%")
    if "e1_rss_mb" in f:
        buffered = e1.get("metered", {}).get("far_end_buffered_kb")
        lines.append(f"RSS with {n} E1 calls up: {f['e1_rss_mb']} MB "
                     f"({f['e1_rss_per_call_kb']} KB per call more than before the calls; "
                     f"the simulator's call audio buffers {_f(buffered)} KB in all, so the "
                     f"box {_f(f.get('e1_rss_box_per_call_kb'))} KB per call)")
    p = e1.get("pstn", {})
    if p:
        checks = e1.get("recording_check", [])
        left = [c.get("left_sound_s", 0.0) for c in checks]
        right = [c.get("right_sound_s", 0.0) for c in checks]
        lines.append(
            f"checks: {p.get('answered')}/{n} answered (SETUP -> CONNECT p50 "
            f"{_f(p.get('answer_ms_p50'), 0)} ms, max {_f(p.get('answer_ms_max'), 0)} ms) on "
            f"{p.get('channels')} B-channels, {p.get('released_by_pstn_normal')} released "
            f"normally by the caller, quietest far end heard {p.get('heard_dbfs_min')} dBFS; "
            f"{e1.get('recordings')} recordings (sound s per channel min: caller "
            f"{_f(min(left) if left else None, 1)}, phone {_f(min(right) if right else None, 1)}); "
            f"{e1.get('cdrs')} CDRs ({e1.get('cdrs_ok')} complete)")
    if e1.get("why"):
        lines.append("E1 step FAILED: " + "; ".join(e1["why"]))
    if run.sip.get("why"):
        lines.append("SIP step FAILED: " + "; ".join(run.sip["why"]))
    logged = [*run.sip.get("box_log", []), *e1.get("box_log", []), *run.results.box_log]
    lines.append(f"switchd warnings/errors logged: {len(logged)}")
    lines.extend("  " + ln for ln in logged[:10])
    return "\n".join(lines)


# -- entry point ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(prog="e1_calls", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="10 s windows")
    p.add_argument("--calls", type=int, default=30, help="at most 30: one E1 (default 30)")
    p.add_argument("--hold", type=float, default=None,
                   help="seconds measured with every call up (default 60, --quick 10)")
    p.add_argument("--meter-hold", type=float, default=None,
                   help="seconds measured with the simulator's CPU meter on (default: "
                   "--hold; 0 to skip)")
    p.add_argument("--idle", type=float, default=None,
                   help="seconds measured with no call first (default 20, --quick 5; 0 to skip)")
    p.add_argument("--setup-rate", type=float, default=10.0, help="calls placed per second")
    p.add_argument("--host", default="127.0.0.79")
    p.add_argument("--rtp-ports", default="22000-27999")
    p.add_argument("--box-nice", type=int, default=-10,
                   help="niceness of switchd (the systemd unit's Nice=-10; 0 to leave it)")
    p.add_argument("--probe-nice", type=int, default=-10,
                   help="niceness of rtp_probe, which plays the phones (0 to leave it)")
    p.add_argument("--skip-sip", action="store_true", help="no SIP -> SIP step")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--json", type=Path, default=None, dest="json_out")
    a = p.parse_args(argv)
    if not 1 <= a.calls <= 30:
        p.error("--calls: 1 to 30 (the simulated E1 has 30 B-channels)")
    hold = a.hold if a.hold is not None else (10.0 if a.quick else 60.0)
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="ccbox-e1-calls-", dir="/var/tmp"))
    return Options(
        host=a.host, calls=a.calls, hold=hold,
        meter_hold=a.meter_hold if a.meter_hold is not None else hold,
        idle=a.idle if a.idle is not None else (5.0 if a.quick else 20.0),
        setup_rate=a.setup_rate, box_nice=a.box_nice, probe_nice=a.probe_nice,
        rtp_ports=a.rtp_ports, workdir=workdir, keep=a.keep or a.workdir is not None,
        skip_sip=a.skip_sip, json_out=a.json_out)


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if shutil.which(SIPP) is None:
        print("e1_calls: sipp is missing (Debian package sip-tester)", file=sys.stderr)
        return 2
    opts.workdir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    procs = Processes()
    run = E1Run(opts, procs)
    status = 0
    try:
        log(f"work directory {opts.workdir}")
        run.run_all()
    except BenchError as e:
        log(f"stopped: {e}")
        status = 1
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    finally:
        run.close()
        procs.stop_all()
    print()
    print(summary(run))
    if opts.json_out is not None:
        opts.json_out.write_text(json.dumps(
            {"meta": run.meta, "figures": figures(run), "idle": run.idle, "sip": run.sip,
             "e1": run.e1,
             "box_log": run.results.box_log}, indent=1, default=str))
    if opts.keep:
        log(f"kept {opts.workdir}")
    else:
        shutil.rmtree(opts.workdir, ignore_errors=True)
    if status == 0 and run.e1 and not run.e1.get("pass"):
        status = 1  # a broken call path (the E1 step judges no timing)
    return status


if __name__ == "__main__":
    sys.exit(main())
