"""The whole box under SIP load: sipp places calls through a real ccbox-switchd.

    python -m bench.box_load                 # the full run (about 15 minutes)
    python -m bench.box_load --quick         # a 1-2 minute smoke run
    python -m bench.box_load --steps 50,100 --hold 20 --skip-rate

Starts a switchd of its own on a private data directory (extensions 9001 and 9002,
recording every call), on a loopback address of its own (127.0.0.77 by default), with the
production unit's priority (nice -10). 9002 is registered from a port where a sipp UAS
(bench/sipp/uas_load.xml) then answers every call; 9001 is a sipp UAC
(bench/sipp/uac_load.xml) that places the calls with digest authentication.

1. Concurrent recorded calls, in steps (50, 100, 150, 200, 250, 300, 400, 500 by default,
   stopping at the first step that fails `--attempts` times in a row). Each step first
   measures the baseline: bench/rtp_probe.py sending the same packet rate to itself (no
   box). Then N calls are placed at
   `--setup-rate` cps and held; the SDPs of both sides carry rtp_probe ports (sipp -inf),
   so rtp_probe plays both phones of every call (20 ms PCMA both ways, send time in the
   payload) and measures one-way latency, loss and jitter through the box over `--hold`
   seconds once every call is up. A step passes with every call set up and ended, no
   packet lost, p99 latency minus minimum latency <= `--jitter-limit` ms, and one
   recording per call. CPU (utime+stime from /proc/PID/stat) and RSS of switchd are
   sampled over the same window.
2. Call setup time at a modest rate (`--setup-calls` at `--setup-cps`): first INVITE sent
   -> 200 OK received at the caller, from sipp's message trace (microseconds); also
   split into the authenticated INVITE -> 200 (through the box) and the callee's own time.
3. Highest call rate with no failed call: `--rate-seconds` of short calls (1 s) at each
   rate of `--rates`, stopping at the first rate with a failed call (sipp statistics and
   exit code).

Prints one summary table; `--json FILE` also writes every figure. All processes are
started in their own process groups and killed on exit, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import wave
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SIPP_DIR = Path(__file__).resolve().parent / "sipp"
SIPP = "sipp"
CALLER, CALLEE = "9001", "9002"
PASSWORDS = {CALLER: "S3cret-9001x", CALLEE: "S3cret-9002x"}
CLK_TCK = os.sysconf("SC_CLK_TCK")
DEFAULT_STEPS = (50, 100, 150, 200, 250, 300, 400, 500)
DEFAULT_RATES = (50, 100, 150, 200, 250, 300, 400, 500)
QUICK_STEPS = (50, 100)
QUICK_RATES = (50, 100)


class BenchError(RuntimeError):
    """Something the run cannot go on from (the box died, sipp could not register...)."""


# -- processes --------------------------------------------------------------------------


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    stop_signal: int = signal.SIGTERM

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None


class Processes:
    """Everything the run started, each in its own process group, stopped on exit."""

    def __init__(self) -> None:
        self._procs: list[Proc] = []

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        stdout: IO[bytes] | int | None = subprocess.DEVNULL,
        stderr: IO[bytes] | int | None = subprocess.DEVNULL,
        stop_signal: int = signal.SIGTERM,
    ) -> Proc:
        popen = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        proc = Proc(name, popen, stop_signal)
        self._procs.append(proc)
        return proc

    def stop(self, proc: Proc, grace: float = 5.0) -> int | None:
        """Signal the process group, wait `grace`, then kill it."""
        if proc.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, proc.stop_signal)
            try:
                proc.popen.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.popen.wait(5)
        # whatever the leader did, leave nothing of its group behind
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ValueError):
            self._procs.remove(proc)
        return proc.popen.returncode

    def stop_all(self) -> None:
        for proc in reversed(list(self._procs)):
            self.stop(proc, grace=3.0)


def set_autogroup_nice(pid: int, nice: int) -> None:
    """With autogroups (Debian's default) a nice value only ranks threads within their
    session: our processes each have a session of their own, so the session gets the
    same niceness, or everything else on the machine gets an equal share with it."""
    if not nice:
        return
    try:
        Path(f"/proc/{pid}/autogroup").write_text(str(nice))
    except OSError as e:
        log(f"cannot set the autogroup niceness of pid {pid}: {e}")


def wait_exit(proc: Proc, timeout: float) -> int | None:
    try:
        return proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


# -- /proc sampling ---------------------------------------------------------------------


def cpu_ticks(pid: int) -> tuple[int, int]:
    """(utime, stime) of a process (all its threads), in clock ticks; 0s if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0, 0
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[11]), int(fields[12])


def proc_status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def system_ticks() -> tuple[int, int, int, int]:
    """(busy, steal, total, irq) ticks of all cores from /proc/stat; irq is hard and soft
    interrupt time (loopback packet delivery), which no process is charged with."""
    values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    steal = values[7]  # taken by the hypervisor: neither busy here nor idle
    total = sum(values[:8])  # guest time is already in user
    return total - idle - steal, steal, total, values[5] + values[6]


def all_process_ticks() -> dict[tuple[int, int], int]:
    """utime + stime of every process by (pid, start time), in clock ticks. Not cutime and
    cstime: a child reaped in the window would bring its whole life's CPU with it."""
    out: dict[tuple[int, int], int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        f = text[text.rindex(")") + 2 :].split()
        out[(int(entry.name), int(f[19]))] = int(f[11]) + int(f[12])
    return out


@dataclass
class CpuSample:
    wall: float
    procs: dict[str, tuple[int, int]]
    system: tuple[int, int, int, int]
    everyone: dict[tuple[int, int], int]
    ours: set[int]


def sample_cpu(pids: dict[str, int]) -> CpuSample:
    ours = {os.getpid(), *pids.values()}
    return CpuSample(
        time.monotonic(),
        {n: cpu_ticks(p) for n, p in pids.items()},
        system_ticks(),
        all_process_ticks(),
        ours,
    )


def cpu_percent(a: CpuSample, b: CpuSample) -> dict[str, float]:
    """% of one core per process over a..b (and its kernel part, NAME_sys); `machine`, % of
    all cores busy; `steal`, % of all cores' time the hypervisor took; `irq`, interrupt
    time in % of one core; `others`, what every other process and kernel thread alive at
    both samples used, in % of one core (a lower bound: processes that came and went in
    between are not seen)."""
    wall = max(b.wall - a.wall, 1e-6)
    out: dict[str, float] = {}
    for name, (user, system) in b.procs.items():
        user0, system0 = a.procs.get(name, (0, 0))
        if user + system < user0 + system0:
            continue  # gone before the second sample
        out[name] = round(100.0 * (user + system - user0 - system0) / CLK_TCK / wall, 1)
        out[name + "_sys"] = round(100.0 * (system - system0) / CLK_TCK / wall, 1)
    busy = b.system[0] - a.system[0]
    total = max(b.system[2] - a.system[2], 1)
    irq = 100.0 * (b.system[3] - a.system[3]) / CLK_TCK / wall
    out["machine"] = round(100.0 * busy / total, 1)
    out["steal"] = round(100.0 * (b.system[1] - a.system[1]) / total, 1)
    out["irq"] = round(irq, 1)
    others = sum(
        ticks - a.everyone[key]
        for key, ticks in b.everyone.items()
        if key in a.everyone and key[0] not in b.ours
    )
    out["others"] = round(100.0 * others / CLK_TCK / wall, 1)
    return out


def udp_drops(host: str) -> dict[int, int]:
    """Datagrams dropped for a full receive buffer, per local UDP port on `host`
    (the last column of /proc/net/udp)."""
    want = f"{int.from_bytes(socket.inet_aton(host), 'little'):08X}"
    out: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
            f = line.split()
            ip, _, port = f[1].partition(":")
            if ip == want:
                out[int(port, 16)] = out.get(int(port, 16), 0) + int(f[-1])
    return out


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


# -- ports ------------------------------------------------------------------------------


def port_free(host: str, port: int, tcp: bool = False) -> bool:
    kinds = [socket.SOCK_DGRAM, socket.SOCK_STREAM] if tcp else [socket.SOCK_DGRAM]
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def pick_port(host: str, preferred: int, tcp: bool = False) -> int:
    for port in range(preferred, preferred + 200):
        if port_free(host, port, tcp):
            return port
    raise BenchError(f"no free port near {preferred} on {host}")


# -- sipp output ------------------------------------------------------------------------


def read_sipp_stats(path: Path) -> dict[str, str]:
    """The last line of a -trace_stat CSV, by column name."""
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return {}
    if len(lines) < 2:
        return {}
    head = lines[0].rstrip(";").split(";")
    last = lines[-1].rstrip(";").split(";")
    return dict(zip(head, last, strict=False))


def stat_int(stats: dict[str, str], key: str) -> int:
    try:
        return int(stats.get(key, "0") or 0)
    except ValueError:
        return 0


def read_rtt_ms(directory: Path) -> list[float]:
    """Response times (ms) from sipp's -trace_rtt files in `directory`."""
    values: list[float] = []
    for path in directory.glob("*_rtt.csv"):
        for line in path.read_text(errors="replace").splitlines()[1:]:
            parts = line.split(";")
            if len(parts) >= 2:
                with contextlib.suppress(ValueError):
                    values.append(float(parts[1]))
    return values


_TRACE_SEP = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*$", re.M)


@dataclass
class TracedMessage:
    t: float
    sent: bool
    first_line: str
    call_id: str
    cseq_method: str
    authorized: bool


def parse_message_trace(path: Path) -> list[TracedMessage]:
    """The messages of a sipp -trace_msg file, with their timestamps (microseconds)."""
    text = path.read_text(errors="replace")
    out: list[TracedMessage] = []
    marks = list(_TRACE_SEP.finditer(text))
    for i, m in enumerate(marks):
        body = text[m.end() : marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        lines = body.strip("\n").split("\n")
        if len(lines) < 3:
            continue
        sent = "message sent" in lines[0]
        msg = [ln.strip() for ln in lines[1:] if ln.strip()]
        if not msg:
            continue
        call_id = method = ""
        authorized = False
        for ln in msg[1:]:
            name, _, value = ln.partition(":")
            key = name.strip().lower()
            if key in ("call-id", "i"):
                call_id = value.strip()
            elif key == "cseq":
                method = value.split()[-1] if value.split() else ""
            elif key == "proxy-authorization":
                authorized = True
        stamp = dt.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        out.append(TracedMessage(stamp, sent, msg[0], call_id, method, authorized))
    return out


def percentiles_ms(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    arr = np.asarray(values, dtype=np.float64)
    p50, p99 = np.percentile(arr, [50, 99])
    return {
        "n": len(values),
        "p50": round(float(p50), 2),
        "p99": round(float(p99), 2),
        "max": round(float(arr.max()), 2),
    }


# -- the run ----------------------------------------------------------------------------


@dataclass
class Options:
    host: str
    steps: list[int]
    hold: float
    baseline_seconds: float
    setup_rate: float
    jitter_limit: float
    attempts: int
    setup_calls: int
    setup_cps: float
    rates: list[int]
    rate_seconds: float
    rtp_ports: str
    box_nice: int
    probe_nice: int
    workdir: Path
    keep: bool
    skip_concurrent: bool
    skip_setup: bool
    skip_rate: bool
    json_out: Path | None
    dump_media: bool


@dataclass
class Results:
    meta: dict[str, Any] = field(default_factory=dict)
    concurrent: list[dict[str, Any]] = field(default_factory=list)
    setup: dict[str, Any] = field(default_factory=dict)
    rates: list[dict[str, Any]] = field(default_factory=list)
    box_log: list[str] = field(default_factory=list)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class LoadRun:
    def __init__(self, opts: Options, procs: Processes) -> None:
        self.o = opts
        self.procs = procs
        self.host = opts.host
        self.data = opts.workdir / "data"
        self.box_log = opts.workdir / "switchd.log"
        self.box: Proc | None = None
        self.sip_port = 0
        self.uas_port = 0
        self.sink: list[socket.socket] = []
        self.sink_port = 0
        self.results = Results()
        self._log_pos = 0
        self._seq = 0

    # -- box ----------------------------------------------------------------------------

    def ccbox(self, *args: str) -> None:
        cmd = [sys.executable, "-m", "firmware.cli.main", *args, "--data", str(self.data)]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise BenchError(f"{' '.join(cmd)} failed: {done.stderr.strip() or done.stdout}")

    def start_box(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        for ext in (CALLER, CALLEE):
            self.ccbox("ext", "add", ext, "--password", PASSWORDS[ext])
        self.launch_box()

    def launch_box(self) -> None:
        """Start switchd on the configured data directory and wait until it is ready."""
        self.sip_port = pick_port(self.host, 15060, tcp=True)
        argv = [
            sys.executable,
            "-m",
            "firmware.switch.daemon",
            "--data",
            str(self.data),
            "--sip-port",
            str(self.sip_port),
            "--rtp-ports",
            self.o.rtp_ports,
            "--bind",
            self.host,
            "--advertise",
            self.host,
        ]
        if self.o.box_nice:
            argv = ["nice", "-n", str(self.o.box_nice), *argv]
        out = self.box_log.open("ab")
        self.box = self.procs.start(
            "switchd", argv, cwd=ROOT, stdout=out, stderr=out, stop_signal=signal.SIGINT
        )
        out.close()
        set_autogroup_nice(self.box.pid, self.o.box_nice)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if not self.box.alive():
                raise BenchError(f"switchd exited at start: {self.box_log.read_text()[-2000:]}")
            if "switchd ready" in self.box_log.read_text(errors="replace"):
                break
            time.sleep(0.1)
        else:
            raise BenchError("switchd did not get ready in 30 s")
        log(
            f"switchd pid {self.box.pid} on {self.host}:{self.sip_port}, "
            f"RTP {self.o.rtp_ports}, nice {self.o.box_nice}"
        )

    def box_pid(self) -> int:
        assert self.box is not None
        if not self.box.alive():
            raise BenchError(
                f"switchd died (exit {self.box.popen.returncode}); "
                f"log tail: {self.box_log.read_text(errors='replace')[-3000:]}"
            )
        return self.box.pid

    def box_log_news(self) -> list[str]:
        """Warnings, errors and tracebacks the box logged since the last call."""
        with self.box_log.open("rb") as f:
            f.seek(self._log_pos)
            text = f.read().decode(errors="replace")
            self._log_pos = f.tell()
        out = [
            ln
            for ln in text.splitlines()
            if " WARNING: " in ln or " ERROR: " in ln or "Traceback" in ln or " CRITICAL: " in ln
        ]
        return out

    def wait_box_idle(self, timeout: float = 60.0) -> int:
        """Wait until the box has no call and every RTP port pair is free again."""
        deadline = time.monotonic() + timeout
        busy = -1
        while time.monotonic() < deadline:
            busy = self.active_calls()
            if busy == 0:
                return 0
            time.sleep(0.5)
        return busy

    def box_status(self) -> dict[str, Any]:
        """The switchd status command over its control socket (one JSON line each way)."""
        path = self.data / "run" / "switchd.sock"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(str(path))
            sock.sendall(b'{"cmd": "status"}\n')
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
        reply = json.loads(buf)
        return reply if isinstance(reply, dict) else {}

    def active_calls(self) -> int:
        try:
            calls = self.box_status().get("active_calls")
        except (OSError, ValueError):
            return -1
        return len(calls) if isinstance(calls, list) else -1

    def drops(self, before: dict[int, int], after: dict[int, int]) -> dict[str, int]:
        """Receive-buffer drops between two `udp_drops` samples, by owner of the socket."""
        lo, _, hi = self.o.rtp_ports.partition("-")
        out = {"box_sip": 0, "box_rtp": 0, "sipp": 0, "probe": 0}
        for port, count in after.items():
            n = max(0, count - before.get(port, 0))
            if port == self.sip_port:
                out["box_sip"] += n
            elif int(lo) <= port <= int(hi):
                out["box_rtp"] += n
            elif port == self.uas_port or 17060 <= port < 17260:
                out["sipp"] += n
            elif port in (self.sink_port, self.sink_port + 1):
                continue  # the media sink of the rate test is never read, by design
            else:
                out["probe"] += n
        return out

    def recordings(self) -> list[Path]:
        return sorted((self.data / "recordings").rglob("*.wav"))

    def cdr_count(self) -> int:
        db = self.data / "ccbox.db"
        try:
            with contextlib.closing(
                sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
            ) as con:
                row = con.execute("select count(*) from cdr").fetchone()
        except sqlite3.Error:
            return -1
        return int(row[0])

    # -- sipp ---------------------------------------------------------------------------

    def step_dir(self, name: str) -> Path:
        self._seq += 1
        d = self.o.workdir / f"{self._seq:02d}-{name}"
        d.mkdir(parents=True)
        return d

    def sipp(
        self, name: str, scenario: str, port: int, cwd: Path, extra: Sequence[str], remote: bool
    ) -> Proc:
        argv = [
            SIPP,
            "-sf",
            str(SIPP_DIR / scenario),
            "-i",
            self.host,
            "-p",
            str(port),
            "-nostdin",
            "-trace_err",
            "-error_file",
            str(cwd / f"{name}_errors.log"),
            "-trace_screen",
            "-screen_file",
            str(cwd / f"{name}_screen.log"),
            "-trace_stat",
            "-stf",
            str(cwd / f"{name}_stat.csv"),
            "-fd",
            "5",
            *extra,
        ]
        if remote:
            argv.append(f"{self.host}:{self.sip_port}")
        return self.procs.start(name, argv, cwd=cwd)

    def uac_args(self, calls: int, rate: float, hold_ms: int, inf: Path) -> list[str]:
        return [
            "-m",
            str(calls),
            "-r",
            f"{rate:g}",
            "-rp",
            "1000",
            "-l",
            str(calls + 10),
            "-d",
            str(hold_ms),
            "-s",
            CALLEE,
            "-key",
            "user",
            CALLER,
            "-au",
            CALLER,
            "-ap",
            PASSWORDS[CALLER],
            "-auth_uri",
            f"{CALLEE}@{self.host}:{self.sip_port}",
            "-inf",
            str(inf),
            # every wait of the scenario has its own timeout; this one catches the rest,
            # so that a call fails rather than hangs
            "-recv_timeout",
            "20000",
        ]

    def uas_args(self, calls: int, inf: Path, longest_s: float) -> list[str]:
        # -recv_timeout: a call whose BYE never comes fails rather than hangs
        return [
            "-m",
            str(calls),
            "-key",
            "user",
            CALLEE,
            "-inf",
            str(inf),
            "-recv_timeout",
            str(int((longest_s + 30) * 1000)),
        ]

    def register(self) -> None:
        self.uas_port = pick_port(self.host, 16060)
        d = self.step_dir("register")
        proc = self.sipp(
            "register",
            "register.xml",
            self.uas_port,
            d,
            [
                "-m",
                "1",
                "-key",
                "user",
                CALLEE,
                "-key",
                "expires",
                "7200",
                "-au",
                CALLEE,
                "-ap",
                PASSWORDS[CALLEE],
                "-timeout",
                "20s",
                "-timeout_error",
            ],
            remote=True,
        )
        rc = wait_exit(proc, 30)
        self.procs.stop(proc)
        if rc != 0:
            raise BenchError(
                f"registering {CALLEE} from port {self.uas_port} failed (sipp exit {rc}); see {d}"
            )
        log(f"{CALLEE} registered from {self.host}:{self.uas_port}")

    def open_sink(self) -> Path:
        """An RTP/RTCP port pair that nobody reads, for calls that need an SDP port only."""
        if not self.sink:
            for port in range(39000, 39990, 2):
                if port_free(self.host, port) and port_free(self.host, port + 1):
                    for p in (port, port + 1):
                        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        s.bind((self.host, p))
                        self.sink.append(s)
                    self.sink_port = port
                    break
            else:
                raise BenchError("no free port pair for the media sink")
        path = self.o.workdir / "sink.csv"
        path.write_text(f"SEQUENTIAL\n{self.sink_port}\n")
        return path

    def sipp_verdict(self, d: Path, name: str, rc: int | None, expected: int) -> dict[str, Any]:
        stats = read_sipp_stats(d / f"{name}_stat.csv")
        ok = stat_int(stats, "SuccessfulCall(C)")
        failed = stat_int(stats, "FailedCall(C)")
        out: dict[str, Any] = {
            "exit": rc,
            "successful": ok,
            "failed": failed,
            "retransmissions": stat_int(stats, "Retransmissions(C)"),
            "unexpected": stat_int(stats, "FailedUnexpectedMessage(C)"),
            "timeouts": stat_int(stats, "FailedTimeoutOnRecv(C)"),
            "max_retrans": stat_int(stats, "FailedMaxUDPRetrans(C)"),
        }
        out["unfinished"] = max(0, expected - ok - failed)
        out["clean"] = rc == 0 and ok == expected and failed == 0
        errors = d / f"{name}_errors.log"
        if errors.exists() and errors.stat().st_size:
            out["errors_head"] = errors.read_text(errors="replace").splitlines()[:4]
        return out

    # -- 1. concurrent calls ------------------------------------------------------------

    def probe(
        self,
        d: Path,
        calls: int,
        mode: str,
        hold: float,
        call_seconds: float,
        map_timeout: float,
        extra: Sequence[str] = (),
    ) -> Proc:
        argv = [
            sys.executable,
            "-m",
            "bench.rtp_probe",
            "--host",
            self.host,
            "--calls",
            str(calls),
            "--mode",
            mode,
            "--workdir",
            str(d),
            "--hold",
            f"{hold:g}",
            "--map-timeout",
            f"{map_timeout:g}",
            "--call-seconds",
            f"{call_seconds:g}",
            *extra,
        ]
        if self.o.dump_media:
            argv += ["--dump", str(d / f"media_{mode}.npz")]
        if self.o.probe_nice:
            argv = ["nice", "-n", str(self.o.probe_nice), *argv]
        err = (d / f"probe_{mode}.err").open("wb")
        proc = self.procs.start(f"probe-{mode}", argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=err)
        err.close()
        set_autogroup_nice(proc.pid, self.o.probe_nice)
        return proc

    @staticmethod
    def probe_events(proc: Proc, timeout: float) -> Iterator[dict[str, Any]]:
        """The probe's JSON lines as they come; stops at its exit or at the timeout."""
        out = proc.popen.stdout
        assert out is not None
        deadline = time.monotonic() + timeout
        buf = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([out], [], [], 0.5)
            if not ready:
                if not proc.alive():
                    return
                continue
            chunk = os.read(out.fileno(), 65536)
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                with contextlib.suppress(ValueError):
                    yield json.loads(line)
        raise BenchError(f"rtp_probe ({proc.name}) gave no result in {timeout:.0f} s")

    def baseline(self, n: int) -> dict[str, Any]:
        d = self.step_dir(f"baseline-{n}")
        hold = self.o.baseline_seconds
        proc = self.probe(d, n, "direct", hold, 0, 10)
        result: dict[str, Any] = {}
        start: CpuSample | None = None
        pids = {"probe": proc.pid}
        for ev in self.probe_events(proc, hold + 60):
            if ev["event"] == "ready":
                pids["probe_rx"] = int(ev["receiver_pid"])
            elif ev["event"] == "window_start":
                start = sample_cpu(pids)
            elif ev["event"] == "window_end" and start is not None:
                result["cpu"] = cpu_percent(start, sample_cpu(pids))
            elif ev["event"] == "result":
                result.update(ev)
        self.procs.stop(proc)
        return result

    def concurrent_step(self, n: int) -> dict[str, Any]:
        o = self.o
        base = self.baseline(n)
        bcpu = base.get("cpu", {})
        log(
            f"  baseline {n} calls (probe to probe): loss {base.get('lost')}, "
            f"p99-min {base.get('jitter_p99_ms')} ms, probe CPU send "
            f"{bcpu.get('probe')}% receive {bcpu.get('probe_rx')}%"
        )
        d = self.step_dir(f"concurrent-{n}")
        ramp = n / o.setup_rate
        call_seconds = ramp + 1.0 + o.hold + 5.0
        rec_before = len(self.recordings())
        cdr_before = self.cdr_count()
        self.box_log_news()
        box_pid = self.box_pid()
        rss_idle = proc_status_kb(box_pid, "VmRSS")
        probe = self.probe(d, n, "box", o.hold, call_seconds, ramp + 20)
        events = self.probe_events(probe, call_seconds + 120)
        first = next(events)
        if first.get("event") != "ready":
            raise BenchError(f"rtp_probe did not start: {first}")
        drops0 = udp_drops(self.host)
        uas = self.sipp(
            "uas",
            "uas_load.xml",
            self.uas_port,
            d,
            [
                *self.uas_args(n, d / "b.csv", call_seconds + ramp),
                "-trace_logs",
                "-log_file",
                str(d / "b.log"),
                "-timeout",
                f"{call_seconds + ramp + 90:.0f}s",
            ],
            remote=False,
        )
        time.sleep(0.3)
        uac_port = pick_port(self.host, 17060)
        uac = self.sipp(
            "uac",
            "uac_load.xml",
            uac_port,
            d,
            [
                *self.uac_args(n, o.setup_rate, int(call_seconds * 1000), d / "a.csv"),
                "-trace_logs",
                "-log_file",
                str(d / "a.log"),
                "-timeout",
                f"{call_seconds + ramp + 90:.0f}s",
            ],
            remote=True,
        )
        pids = {
            "switchd": box_pid,
            "probe": probe.pid,
            "probe_rx": int(first["receiver_pid"]),
            "sipp_uac": uac.pid,
            "sipp_uas": uas.pid,
        }
        result: dict[str, Any] = {"calls": n, "baseline": base}
        start: CpuSample | None = None
        for ev in events:
            kind = ev["event"]
            if kind == "mapped":
                log(
                    f"  {n} calls: media of {ev['streams']}/{ev['of']} streams mapped"
                    + (" (timed out)" if ev.get("timeout") else "")
                )
            elif kind == "window_start":
                start = sample_cpu(pids)
                result["active_calls_at_start"] = self.active_calls()
                log(
                    f"  {n} calls up ({result['active_calls_at_start']} active in the box), "
                    f"measuring {ev['hold']:.0f} s"
                )
            elif kind == "window_end" and start is not None:
                result["cpu"] = cpu_percent(start, sample_cpu(pids))
                result["rss_kb"] = proc_status_kb(box_pid, "VmRSS")
                result["rss_idle_kb"] = rss_idle
                result["load_avg"] = load_average()
                result["drops"] = self.drops(drops0, udp_drops(self.host))
            elif kind == "result":
                result["media"] = ev
        self.procs.stop(probe)
        rc_uac = wait_exit(uac, call_seconds + ramp + 100)
        rc_uas = wait_exit(uas, 30)
        self.procs.stop(uac)
        self.procs.stop(uas)
        result["uac"] = self.sipp_verdict(d, "uac", rc_uac, n)
        result["uas"] = self.sipp_verdict(d, "uas", rc_uas, n)
        result["left_active"] = self.wait_box_idle()
        result["sip_drops"] = self.drops(drops0, udp_drops(self.host))["box_sip"]
        time.sleep(1.5)  # CDRs are written behind
        recs = self.recordings()
        new_recs = recs[rec_before:] if rec_before <= len(recs) else recs
        result["recordings"] = len(recs) - rec_before
        picks = [
            new_recs[i] for i in sorted({0, len(new_recs) // 2, len(new_recs) - 1}) if new_recs
        ]
        result["recording_check"] = [check_recording(p) for p in picks]
        result["cdrs"] = self.cdr_count() - cdr_before
        result["box_log"] = self.box_log_news()
        self.judge_concurrent(result)
        # The recordings are checked: free the disk for the next step.
        for path in recs:
            with contextlib.suppress(OSError):
                path.unlink()
        return result

    def judge_concurrent(self, r: dict[str, Any]) -> None:
        n = r["calls"]
        media = r.get("media", {})
        why: list[str] = []
        if not r["uac"]["clean"]:
            why.append(
                f"caller: {r['uac']['successful']}/{n} calls ok, {r['uac']['failed']} failed, "
                f"{r['uac']['unfinished']} never finished"
            )
        if not r["uas"]["clean"]:
            why.append(f"callee: {r['uas']['successful']}/{n} calls ok")
        drops = r.get("drops", {})
        if drops.get("box_rtp"):
            why.append(f"the box's RTP sockets dropped {drops['box_rtp']} datagrams")
        if drops.get("probe"):
            why.append(
                f"rtp_probe's sockets dropped {drops['probe']} datagrams "
                "(the probe, not the box, was too slow)"
            )
        if media.get("streams_mapped", 0) < 2 * n:
            why.append(f"media up on {media.get('streams_mapped', 0)}/{2 * n} streams")
        if media.get("lost", 1) != 0:
            why.append(
                f"{media.get('lost')} packets lost ({media.get('streams_with_loss')} streams)"
            )
        jitter = media.get("jitter_p99_ms")
        if jitter is None or jitter > self.o.jitter_limit:
            why.append(f"p99-min latency {jitter} ms > {self.o.jitter_limit} ms")
        if r["recordings"] != n:
            why.append(f"{r['recordings']} recordings for {n} calls")
        # Media flowed for the settle second plus the window: so much sound, both sides.
        want = 0.9 * media.get("window_s", self.o.hold)
        for check in r["recording_check"]:
            heard = min(check.get("left_voiced_s", 0.0), check.get("right_voiced_s", 0.0))
            if heard < want:
                why.append(
                    f"recording {check['file']} holds {heard:.1f} s of sound per "
                    f"channel, {want:.1f} s expected"
                )
        if r.get("left_active"):
            why.append(f"{r['left_active']} calls still active in the box afterwards")
        r["pass"] = not why
        r["why"] = why

    # -- 2. setup time -------------------------------------------------------------------

    def setup_time(self) -> dict[str, Any]:
        o = self.o
        d = self.step_dir("setup")
        sink = self.open_sink()
        self.box_log_news()
        uas = self.sipp(
            "uas",
            "uas_load.xml",
            self.uas_port,
            d,
            [
                *self.uas_args(o.setup_calls, sink, 5),
                "-trace_msg",
                "-message_file",
                str(d / "uas_messages.log"),
                "-timeout",
                "300s",
            ],
            remote=False,
        )
        time.sleep(0.3)
        uac = self.sipp(
            "uac",
            "uac_load.xml",
            pick_port(self.host, 17060),
            d,
            [
                *self.uac_args(o.setup_calls, o.setup_cps, 500, sink),
                "-trace_msg",
                "-message_file",
                str(d / "uac_messages.log"),
                "-timeout",
                "300s",
            ],
            remote=True,
        )
        box_pid = self.box_pid()
        a = sample_cpu({"switchd": box_pid})
        rc_uac = wait_exit(uac, o.setup_calls / o.setup_cps + 120)
        b = sample_cpu({"switchd": box_pid})
        rc_uas = wait_exit(uas, 30)
        self.procs.stop(uac)
        self.procs.stop(uas)
        out: dict[str, Any] = {
            "calls": o.setup_calls,
            "cps": o.setup_cps,
            "uac": self.sipp_verdict(d, "uac", rc_uac, o.setup_calls),
            "uas": self.sipp_verdict(d, "uas", rc_uas, o.setup_calls),
            "cpu": cpu_percent(a, b),
        }
        out.update(setup_figures(d / "uac_messages.log", d / "uas_messages.log"))
        self.wait_box_idle()
        out["box_log"] = self.box_log_news()
        return out

    # -- 3. call rate --------------------------------------------------------------------

    def rate_step(self, rate: int) -> dict[str, Any]:
        o = self.o
        d = self.step_dir(f"rate-{rate}")
        calls = int(rate * o.rate_seconds)
        sink = self.open_sink()
        self.box_log_news()
        rec_before = len(self.recordings())
        cdr_before = self.cdr_count()
        limit = f"{o.rate_seconds + 90:.0f}s"
        uas = self.sipp(
            "uas",
            "uas_load.xml",
            self.uas_port,
            d,
            [*self.uas_args(calls, sink, 5), "-timeout", limit],
            remote=False,
        )
        time.sleep(0.3)
        uac = self.sipp(
            "uac",
            "uac_load.xml",
            pick_port(self.host, 17060),
            d,
            [
                *self.uac_args(calls, rate, 1000, sink),
                "-trace_rtt",
                "-rtt_freq",
                "1",
                "-timeout",
                limit,
            ],
            remote=True,
        )
        box_pid = self.box_pid()
        drops0 = udp_drops(self.host)
        pids = {"switchd": box_pid, "sipp_uac": uac.pid, "sipp_uas": uas.pid}
        a = sample_cpu(pids)
        # CPU over the placing (the last calls end a second later), sipp still running
        rc_uac = wait_exit(uac, o.rate_seconds)
        b = sample_cpu(pids)
        if rc_uac is None:
            rc_uac = wait_exit(uac, 100)
        rc_uas = wait_exit(uas, 30)
        self.procs.stop(uac)
        self.procs.stop(uas)
        out: dict[str, Any] = {
            "rate": rate,
            "calls": calls,
            "uac": self.sipp_verdict(d, "uac", rc_uac, calls),
            "uas": self.sipp_verdict(d, "uas", rc_uas, calls),
            "cpu": cpu_percent(a, b),
            "setup_ms": percentiles_ms(read_rtt_ms(d)),
        }
        out["left_active"] = self.wait_box_idle()
        out["drops"] = self.drops(drops0, udp_drops(self.host))
        time.sleep(1.5)
        recs = self.recordings()
        out["recordings"] = len(recs) - rec_before
        out["cdrs"] = self.cdr_count() - cdr_before
        out["box_log"] = self.box_log_news()
        why = []
        if not out["uac"]["clean"]:
            why.append(
                f"caller: {out['uac']['successful']}/{calls} ok, {out['uac']['failed']} failed, "
                f"{out['uac']['unfinished']} never finished"
            )
        if not out["uas"]["clean"]:
            why.append(
                f"callee: {out['uas']['successful']}/{calls} ok, {out['uas']['failed']} failed"
            )
        if out["recordings"] != calls:
            why.append(f"{out['recordings']} recordings for {calls} calls")
        if out["left_active"]:
            why.append(f"{out['left_active']} calls still active afterwards")

        out["pass"] = not why
        out["why"] = why
        for path in recs:
            with contextlib.suppress(OSError):
                path.unlink()
        return out

    # -- all ------------------------------------------------------------------------------

    def run(self) -> Results:
        o = self.o
        r = self.results
        r.meta = {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "command": "python -m bench.box_load " + " ".join(sys.argv[1:]),
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "load_avg_start": load_average(),
            "python": platform.python_version(),
            "sipp": sipp_version(),
            "git": git_state(),
            "host": o.host,
            "box_nice": o.box_nice,
            "probe_nice": o.probe_nice,
            "rtp_ports": o.rtp_ports,
        }
        log(
            f"load average at start: {r.meta['load_avg_start']}; tree {r.meta['git']}; "
            f"{r.meta['cores']} x {r.meta['cpu']}; sipp {r.meta['sipp']}"
        )
        self.start_box()
        self.register()
        if not o.skip_concurrent:
            log("1. concurrent recorded calls")
            for n in o.steps:
                for attempt in range(1, o.attempts + 1):
                    step = self.concurrent_step(n)
                    step["attempt"] = attempt
                    r.concurrent.append(step)
                    log(
                        f"  {n} calls: {'PASS' if step['pass'] else 'FAIL'} "
                        + summarize_concurrent(step)
                    )
                    if step["pass"]:
                        break
                if not step["pass"]:
                    break
        if not o.skip_setup:
            log(f"2. call setup time: {o.setup_calls} calls at {o.setup_cps:g} cps")
            r.setup = self.setup_time()
            log("  " + summarize_setup(r.setup))
        if not o.skip_rate:
            log(f"3. call rate: {o.rate_seconds:g} s of 1 s calls per rate")
            for rate in o.rates:
                step = self.rate_step(rate)
                r.rates.append(step)
                log(f"  {rate} cps: {'PASS' if step['pass'] else 'FAIL'} " + summarize_rate(step))
                if not step["pass"]:
                    break
        r.meta["load_avg_end"] = load_average()
        return r

    def close(self) -> None:
        for s in self.sink:
            s.close()
        if self.box is not None:
            rc = self.procs.stop(self.box, grace=10)
            self.results.box_log = self.box_log_news() if self.box_log.exists() else []
            if rc not in (0, -signal.SIGINT, None):
                self.results.box_log.append(f"switchd exit status {rc}")


def git_state() -> str:
    """HEAD and whether the working tree differs from it (the box measured is the tree)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
    except OSError:
        return "unknown"
    return head + (" + uncommitted changes" if dirty.strip() else "")


def sipp_version() -> str:
    try:
        done = subprocess.run([SIPP, "-v"], capture_output=True, text=True, timeout=10)
    except OSError:
        return "missing"
    m = re.search(r"SIPp v?([\w.\-]+)", done.stdout + done.stderr)
    return m.group(1).rstrip(".") if m else "unknown"


def setup_figures(uac_trace: Path, uas_trace: Path) -> dict[str, Any]:
    """Setup times from the two message traces.

    total: the caller's first INVITE sent -> its 200 OK received (includes the 407 round
    trip and sipp's own delay before the authenticated INVITE); through_box: the
    authenticated INVITE -> 200 OK; callee: the UAS's INVITE received -> 200 sent;
    box: through_box minus callee for the same call (the callee's INVITE is matched by
    time, which is unambiguous at a modest rate).
    """
    calls: dict[str, dict[str, float]] = {}
    for m in parse_message_trace(uac_trace):
        c = calls.setdefault(m.call_id, {})
        if m.sent and m.first_line.startswith("INVITE "):
            c.setdefault("inv2" if m.authorized else "inv1", m.t)
        elif not m.sent and m.first_line.startswith("SIP/2.0 200") and m.cseq_method == "INVITE":
            c.setdefault("ok", m.t)
    callee: dict[str, dict[str, float]] = {}
    for m in parse_message_trace(uas_trace):
        c = callee.setdefault(m.call_id, {})
        if not m.sent and m.first_line.startswith("INVITE "):
            c.setdefault("inv", m.t)
        elif m.sent and m.first_line.startswith("SIP/2.0 200") and m.cseq_method == "INVITE":
            c.setdefault("ok", m.t)
    uas = sorted((c["inv"], c["ok"]) for c in callee.values() if "inv" in c and "ok" in c)
    uas_starts = [u[0] for u in uas]
    total, through, own, box = [], [], [], []
    for c in calls.values():
        if "inv1" not in c or "ok" not in c:
            continue
        total.append((c["ok"] - c["inv1"]) * 1000)
        if "inv2" not in c:
            continue
        through.append((c["ok"] - c["inv2"]) * 1000)
        i = bisect_left(uas_starts, c["inv2"])
        if i < len(uas) and uas[i][0] <= c["ok"]:
            callee_ms = (uas[i][1] - uas[i][0]) * 1000
            own.append(callee_ms)
            box.append((c["ok"] - c["inv2"]) * 1000 - callee_ms)
    return {
        "total_ms": percentiles_ms(total),
        "through_box_ms": percentiles_ms(through),
        "callee_ms": percentiles_ms(own),
        "box_ms": percentiles_ms(box),
    }


def check_recording(path: Path) -> dict[str, Any]:
    """Length and how much of each channel holds sound, of one recording."""
    try:
        with wave.open(str(path), "rb") as w:
            frames = w.getnframes()
            rate = w.getframerate()
            channels = w.getnchannels()
            data = np.frombuffer(w.readframes(frames), dtype="<i2")
    except (OSError, wave.Error, EOFError) as e:
        return {"file": path.name, "error": str(e)}
    out: dict[str, Any] = {
        "file": path.name,
        "seconds": round(frames / max(rate, 1), 1),
        "channels": channels,
    }
    if channels == 2 and frames >= 320:
        usable = (frames // 160) * 160
        blocks = data[: usable * 2].reshape(-1, 160, 2)
        voiced = np.any(blocks != 0, axis=1).sum(axis=0) * 160 / rate
        out["left_voiced_s"] = round(float(voiced[0]), 2)
        out["right_voiced_s"] = round(float(voiced[1]), 2)
    return out


# -- reporting -----------------------------------------------------------------------------


def summarize_concurrent(s: dict[str, Any]) -> str:
    m = s.get("media", {})
    cpu = s.get("cpu", {})
    text = (
        f"loss {m.get('lost')}, latency p50 {m.get('lat_p50_ms')} ms, "
        f"p99-min {m.get('jitter_p99_ms')} ms, switchd CPU {cpu.get('switchd')}%, "
        f"probe send {cpu.get('probe')}% receive {cpu.get('probe_rx')}%, "
        f"others {cpu.get('others')}%, steal {cpu.get('steal')}%"
    )
    if s.get("why"):
        text += " | " + "; ".join(s["why"])
    return text


def summarize_setup(s: dict[str, Any]) -> str:
    t, b = s.get("total_ms", {}), s.get("box_ms", {})
    return (
        f"first INVITE -> 200 p50 {t.get('p50')} ms p99 {t.get('p99')} ms; box share "
        f"p50 {b.get('p50')} ms p99 {b.get('p99')} ms; failed {s['uac']['failed']}"
    )


def summarize_rate(s: dict[str, Any]) -> str:
    text = (
        f"{s['uac']['successful']}/{s['calls']} ok, {s['uac']['failed']} failed, "
        f"{s['uac']['retransmissions']} retransmissions, "
        f"{s.get('drops', {}).get('box_sip')} SIP drops, setup p99 "
        f"{s.get('setup_ms', {}).get('p99')} ms, switchd CPU {s['cpu'].get('switchd')}%"
    )
    if s.get("why"):
        text += " | " + "; ".join(s["why"])
    return text


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def summary(r: Results) -> str:
    m = r.meta
    out: list[str] = [
        f"{m.get('date')}: {m.get('command')}",
        f"machine: {m.get('cores')} x {m.get('cpu')}; load average {m.get('load_avg_start')} "
        f"at start, {m.get('load_avg_end')} at the end; tree {m.get('git')}; "
        f"sipp {m.get('sipp')}; switchd nice {m.get('box_nice')}, rtp_probe nice "
        f"{m.get('probe_nice')}",
        "",
    ]
    if r.concurrent:
        rows = [
            [
                "calls",
                "result",
                "loss",
                "lat p50 ms (base)",
                "p99-min ms (base)",
                "added p50 ms",
                "switchd CPU %",
                "CPU %/call",
                "RSS MB",
                "RSS KB/call",
                "probe CPU % tx+rx",
                "softirq %",
                "others CPU %",
                "steal %",
            ]
        ]
        for s in r.concurrent:
            m, b, cpu = s.get("media", {}), s.get("baseline", {}), s.get("cpu", {})
            n = s["calls"]
            rss = s.get("rss_kb", 0)
            per_call_rss = (rss - s.get("rss_idle_kb", 0)) / n if rss else None
            added = (
                m["lat_p50_ms"] - b["lat_p50_ms"]
                if "lat_p50_ms" in m and "lat_p50_ms" in b
                else None
            )
            sw = cpu.get("switchd")
            rows.append(
                [
                    str(n) + (f" #{s['attempt']}" if s.get("attempt", 1) > 1 else ""),
                    "pass" if s["pass"] else "FAIL",
                    _fmt(m.get("lost")),
                    f"{_fmt(m.get('lat_p50_ms'), 3)} ({_fmt(b.get('lat_p50_ms'), 3)})",
                    f"{_fmt(m.get('jitter_p99_ms'), 2)} ({_fmt(b.get('jitter_p99_ms'), 2)})",
                    _fmt(added, 3),
                    _fmt(sw, 1),
                    _fmt(sw / n if sw is not None else None, 3),
                    _fmt(rss / 1024 if rss else None, 1),
                    _fmt(per_call_rss, 1),
                    f"{_fmt(cpu.get('probe'), 1)}+{_fmt(cpu.get('probe_rx'), 1)}",
                    _fmt(cpu.get("irq"), 1),
                    _fmt(cpu.get("others"), 1),
                    _fmt(cpu.get("steal"), 1),
                ]
            )
        out.append("Concurrent recorded calls (2 RTP streams per call, 20 ms PCMA)")
        out.append(table(rows))
        passed = [s["calls"] for s in r.concurrent if s["pass"]]
        out.append(f"highest passing step: {max(passed) if passed else 'none'}")
        for s in r.concurrent:
            if s.get("why"):
                out.append(
                    f"  {s['calls']} calls (try {s.get('attempt', 1)}) failed: "
                    + "; ".join(s["why"])
                )
    if r.setup:
        s = r.setup
        rows = [["measure", "n", "p50 ms", "p99 ms", "max ms"]]
        for key, label in (
            ("total_ms", "first INVITE -> 200 OK (caller)"),
            ("through_box_ms", "authenticated INVITE -> 200 OK"),
            ("callee_ms", "callee (sipp UAS) INVITE -> 200"),
            ("box_ms", "box share (through box - callee)"),
        ):
            p = s.get(key, {})
            rows.append(
                [
                    label,
                    _fmt(p.get("n")),
                    _fmt(p.get("p50")),
                    _fmt(p.get("p99")),
                    _fmt(p.get("max")),
                ]
            )
        out.append("")
        out.append(
            f"Call setup time: {s['calls']} calls at {s['cps']:g} cps, {s['uac']['failed']} failed"
        )
        out.append(table(rows))
    if r.rates:
        rows = [
            [
                "cps",
                "result",
                "calls ok/placed",
                "failed",
                "retrans",
                "SIP drops",
                "setup p50 ms",
                "setup p99 ms",
                "setup max ms",
                "switchd CPU %",
                "others CPU %",
                "steal %",
            ]
        ]
        for s in r.rates:
            rows.append(
                [
                    str(s["rate"]),
                    "pass" if s["pass"] else "FAIL",
                    f"{s['uac']['successful']}/{s['calls']}",
                    str(s["uac"]["failed"]),
                    str(s["uac"]["retransmissions"]),
                    _fmt(s.get("drops", {}).get("box_sip")),
                    _fmt(s["setup_ms"].get("p50")),
                    _fmt(s["setup_ms"].get("p99")),
                    _fmt(s["setup_ms"].get("max")),
                    _fmt(s["cpu"].get("switchd"), 1),
                    _fmt(s["cpu"].get("others"), 1),
                    _fmt(s["cpu"].get("steal"), 1),
                ]
            )
        out.append("")
        out.append("Call rate (1 s calls)")
        out.append(table(rows))
        clean = [s["rate"] for s in r.rates if s["pass"]]
        out.append(f"highest clean rate: {max(clean) if clean else 'none'} cps")
        for s in r.rates:
            if s.get("why"):
                out.append(f"  {s['rate']} cps failed: " + "; ".join(s["why"]))
    logged = [ln for s in [*r.concurrent, r.setup, *r.rates] for ln in s.get("box_log", [])]
    logged += r.box_log
    out.append("")
    out.append(f"switchd warnings/errors logged: {len(logged)}")
    for ln in logged[:10]:
        out.append("  " + ln)
    return "\n".join(out)


# -- entry point ------------------------------------------------------------------------


def int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse_args(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(
        prog="box_load", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: steps 50,100, 10 s holds, 60 setup calls, rates 50,100",
    )
    p.add_argument(
        "--steps",
        type=int_list,
        default=None,
        help="concurrent call steps (default 50,100,150,200,250,300,400,500)",
    )
    p.add_argument(
        "--hold", type=float, default=None, help="seconds measured with all calls up (default 60)"
    )
    p.add_argument(
        "--baseline-seconds",
        type=float,
        default=None,
        help="seconds of the probe-to-probe baseline per step (default 20)",
    )
    p.add_argument(
        "--setup-rate",
        type=float,
        default=50.0,
        help="cps at which the concurrent calls are placed",
    )
    p.add_argument(
        "--jitter-limit",
        type=float,
        default=5.0,
        help="pass limit of p99 latency minus minimum, ms",
    )
    p.add_argument(
        "--attempts",
        type=int,
        default=2,
        help="tries of a concurrent step before it counts as failed: on a shared "
        "or virtual machine one try can fail on a stall the box did not "
        "cause (every try is reported)",
    )
    p.add_argument("--setup-calls", type=int, default=None, help="default 200")
    p.add_argument("--setup-cps", type=float, default=20.0)
    p.add_argument(
        "--rates",
        type=int_list,
        default=None,
        help="call rates to try (default 50,100,150,200,250,300,400,500)",
    )
    p.add_argument("--rate-seconds", type=float, default=None, help="default 10")
    p.add_argument(
        "--host", default="127.0.0.77", help="loopback address for the box, sipp and the probe"
    )
    p.add_argument("--rtp-ports", default="22000-27999")
    p.add_argument(
        "--box-nice",
        type=int,
        default=-10,
        help="niceness of switchd (the systemd unit's Nice=-10; 0 to leave it)",
    )
    p.add_argument(
        "--probe-nice",
        type=int,
        default=-10,
        help="niceness of rtp_probe: it plays phones that would have CPUs of their "
        "own, so it must not fall behind either (0 to leave it)",
    )
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    p.add_argument("--skip-concurrent", action="store_true")
    p.add_argument("--skip-setup", action="store_true")
    p.add_argument("--skip-rate", action="store_true")
    p.add_argument("--json", type=Path, default=None, dest="json_out")
    p.add_argument(
        "--dump-media",
        action="store_true",
        help="keep every packet's latency per step (media_*.npz; implies --keep)",
    )
    a = p.parse_args(argv)
    quick = a.quick
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="ccbox-box-load-", dir="/var/tmp"))
    return Options(
        host=a.host,
        steps=a.steps or list(QUICK_STEPS if quick else DEFAULT_STEPS),
        hold=a.hold if a.hold is not None else (10.0 if quick else 60.0),
        baseline_seconds=(
            a.baseline_seconds if a.baseline_seconds is not None else (5.0 if quick else 20.0)
        ),
        setup_rate=a.setup_rate,
        jitter_limit=a.jitter_limit,
        attempts=max(1, a.attempts),
        setup_calls=a.setup_calls or (60 if quick else 200),
        setup_cps=a.setup_cps,
        rates=a.rates or list(QUICK_RATES if quick else DEFAULT_RATES),
        rate_seconds=a.rate_seconds if a.rate_seconds is not None else (5.0 if quick else 10.0),
        rtp_ports=a.rtp_ports,
        box_nice=a.box_nice,
        probe_nice=a.probe_nice,
        workdir=workdir,
        keep=a.keep or a.workdir is not None or a.dump_media,
        skip_concurrent=a.skip_concurrent,
        skip_setup=a.skip_setup,
        skip_rate=a.skip_rate,
        json_out=a.json_out,
        dump_media=a.dump_media,
    )


def _raise_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    if shutil.which(SIPP) is None:
        print("box_load: sipp is missing (Debian package sip-tester)", file=sys.stderr)
        return 2
    opts.workdir.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    procs = Processes()
    run = LoadRun(opts, procs)
    status = 0
    try:
        log(f"work directory {opts.workdir}")
        run.run()
    except BenchError as e:
        log(f"stopped: {e}")
        status = 1
    except KeyboardInterrupt:
        log("interrupted")
        status = 130
    finally:
        run.close()
        procs.stop_all()
    results = run.results
    print()
    print(summary(results))
    if opts.json_out is not None:
        opts.json_out.write_text(json.dumps(results.__dict__, indent=1, default=str))
    if opts.keep:
        log(f"kept {opts.workdir}")
    else:
        shutil.rmtree(opts.workdir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
