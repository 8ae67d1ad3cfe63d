"""Queue dispatch latency and IVR answer time under call-center load (issue 3's figures).

    python -m bench.acd_dispatch                    # 3 runs of 30 s: 30 agents, 20 cps
    python -m bench.acd_dispatch --quick            # one 10 s run
    python -m bench.acd_dispatch --strategy ring-all --runs 2 --json /tmp/acd.json

Starts a switchd of its own (private data directory configured with `ccbox config
import` of a generated site file, its own loopback address 127.0.0.78, nice -10 as the
systemd unit) with:
- 30 agents (extensions 8201-8230) logged in and ready, members of queue `bench`
  (strategy --strategy, default longest-idle). Their desk phones are one sipp UAS
  (bench/sipp/acd_agent.xml) on the port all 30 registered from: it rings for
  --answer-ms and answers; the box's BYE ends the call.
- callers (extensions 8301-8340, one number per call in turn, bench/sipp/acd_caller.xml)
  placing --cps calls per second to DID 7100, which goes straight to the queue (the box
  answers and plays music on hold); each caller hangs up --hold s after the answer. With
  the defaults about 20 calls are up at once and 10 or more agents are always free, so
  every caller enters a queue with a ready agent.
- IVR probe callers (extensions 8401-8410) placing --ivr-cps calls per second to DID
  7200, an IVR flow that answers and plays the welcome prompt, at the same time.

Measured on the wire: dumpcap on the loopback interface records every SIP datagram to
and from the box's SIP port with kernel timestamps (µs), so "the agent's INVITE leaves
the box" is the moment the box sent it, whatever sipp's own scheduling. Figures:
- dispatch, wire: the caller's authenticated INVITE arrives -> the box's INVITE to an
  agent leaves (auth, answer, queue join, selection, the agent leg's INVITE);
- dispatch, queue log: the ENTERQUEUE record's time (the ACD's clock when the caller
  joined, ms resolution) -> the agent's INVITE leaves;
- in the ACD itself, from the queue log's CONNECT (holdtime - ringtime): 0 when the
  offer was made at the join; a caller that had to wait is counted (and would be a
  sign that no agent was ready);
- IVR answer: the IVR caller's authenticated INVITE arrives -> the box's 200 OK leaves,
  before the load (baseline, the same probe alone) and under it.
Each run also reports switchd's CPU, the load average before and after, and what every
other process of the machine used meanwhile (other engineers run tests here).

Prints one table; --json FILE writes every figure. Performance is measured, never
asserted: nothing here fails on a number.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file (make bench): the repository on the path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml

from bench.box_load import (
    SIPP,
    BenchError,
    Processes,
    cpu_model,
    cpu_percent,
    git_state,
    load_average,
    log,
    percentiles_ms,
    pick_port,
    port_free,
    read_sipp_stats,
    sample_cpu,
    set_autogroup_nice,
    sipp_version,
    stat_int,
    wait_exit,
)

ROOT = Path(__file__).resolve().parent.parent
SIPP_DIR = Path(__file__).resolve().parent / "sipp"
QUEUE_DID, IVR_DID = "7100", "7200"
AGENTS = [f"82{n:02d}" for n in range(1, 31)]
CALLERS = [f"83{n:02d}" for n in range(1, 41)]
IVR_CALLERS = [f"84{n:02d}" for n in range(1, 11)]


def password(ext: str) -> str:
    return f"Bench-{ext}-pw"


@dataclass
class Options:
    host: str
    agents: int
    cps: float
    seconds: float
    runs: int
    hold: float
    answer_ms: int
    ivr_cps: float
    strategy: str
    box_nice: int
    workdir: Path
    keep: bool
    json_out: Path | None


@dataclass
class Packet:
    t: float
    sport: int
    dport: int
    method: str
    status: int | None
    call_id: str
    from_user: str
    cseq_method: str
    authorized: bool


@dataclass
class RunResult:
    name: str
    figures: dict[str, Any] = field(default_factory=dict)


def site_document(o: Options) -> dict[str, Any]:
    agents = AGENTS[: o.agents]
    exts = [{"number": e, "name": f"bench {e}", "password": password(e)}
            for e in [*agents, *CALLERS, *IVR_CALLERS]]
    return {
        "schema": 1,
        "extensions": exts,
        "dids": [{"number": QUEUE_DID, "target": "queue:bench"},
                 {"number": IVR_DID, "target": "flow:bench_ivr"}],
        "queues": [{"name": "bench", "strategy": o.strategy, "members": agents,
                    "ring_timeout": 10, "smart_routing": False, "outbound_trace": False}],
        "agents": [{"id": a, "login": a} for a in agents],
        "ivr_flows": [{"id": "bench_ivr", "entry": "hello", "nodes": {
            "hello": {"kind": "play", "prompts": ["gas_welcome"], "next": "bye"},
            "bye": {"kind": "hangup"}}}],
    }


class AcdBench:
    def __init__(self, o: Options, procs: Processes) -> None:
        self.o = o
        self.procs = procs
        self.data = o.workdir / "data"
        self.box_log = o.workdir / "switchd.log"
        self.sip_port = 0
        self.agent_port = 0
        self.sink: list[socket.socket] = []
        self.sink_port = 0
        self.box_pid = 0
        self._seq = 0

    # -- set-up ---------------------------------------------------------------------------

    def ccbox(self, *args: str) -> None:
        cmd = [sys.executable, "-m", "firmware.cli.main", *args, "--data", str(self.data)]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise BenchError(f"{' '.join(cmd)} failed: {done.stderr.strip() or done.stdout}")

    def configure(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        site = self.o.workdir / "site.yaml"
        site.write_text(yaml.safe_dump(site_document(self.o), allow_unicode=True,
                                       sort_keys=False))
        self.ccbox("config", "import", str(site))
        log(f"site imported: {self.o.agents} agents in queue bench ({self.o.strategy}), "
            f"{len(CALLERS)} callers, {len(IVR_CALLERS)} IVR callers")

    def start_box(self) -> None:
        self.sip_port = pick_port(self.o.host, 15160, tcp=True)
        argv = [sys.executable, "-m", "firmware.switch.daemon", "--data", str(self.data),
                "--sip-port", str(self.sip_port), "--rtp-ports", "40000-43999",
                "--bind", self.o.host, "--advertise", self.o.host]
        if self.o.box_nice:
            argv = ["nice", "-n", str(self.o.box_nice), *argv]
        out = self.box_log.open("ab")
        box = self.procs.start("switchd", argv, cwd=ROOT, stdout=out, stderr=out,
                               stop_signal=signal.SIGINT)
        out.close()
        set_autogroup_nice(box.pid, self.o.box_nice)
        deadline = time.monotonic() + 60
        while "switchd ready" not in self.box_log.read_text(errors="replace"):
            if not box.alive():
                raise BenchError(f"switchd exited: {self.box_log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise BenchError("switchd did not get ready in 60 s")
            time.sleep(0.1)
        self.box_pid = box.pid
        log(f"switchd pid {box.pid} on {self.o.host}:{self.sip_port}, nice {self.o.box_nice}")

    def open_sink(self) -> None:
        """An RTP port pair nobody reads: music on hold and prompts end up there (a full
        receive buffer drops them silently; no ICMP goes back to the box)."""
        for port in range(39000, 39990, 2):
            if port_free(self.o.host, port) and port_free(self.o.host, port + 1):
                for p in (port, port + 1):
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    s.bind((self.o.host, p))
                    self.sink.append(s)
                self.sink_port = port
                return
        raise BenchError("no free RTP sink port pair")

    def step_dir(self, name: str) -> Path:
        self._seq += 1
        d = self.o.workdir / f"{self._seq:02d}-{name}"
        d.mkdir(parents=True)
        return d

    def inf(self, d: Path, name: str, extensions: list[str]) -> Path:
        path = d / f"{name}.csv"
        path.write_text("SEQUENTIAL\n" + "".join(
            f"{e};[authentication username={e} password={password(e)}];\n" for e in extensions))
        return path

    def sipp(self, name: str, scenario: Path, port: int, cwd: Path, extra: list[str],
             remote: bool) -> Any:
        argv = [SIPP, "-sf", str(scenario), "-i", self.o.host, "-p", str(port), "-nostdin",
                "-trace_err", "-error_file", str(cwd / f"{name}_errors.log"),
                "-trace_stat", "-stf", str(cwd / f"{name}_stat.csv"), "-fd", "1", *extra]
        if remote:
            argv.append(f"{self.o.host}:{self.sip_port}")
        return self.procs.start(name, argv, cwd=cwd)

    def start_agents(self) -> None:
        self.agent_port = pick_port(self.o.host, 16160)
        d = self.step_dir("agents")
        agents = AGENTS[: self.o.agents]
        reg = self.sipp("register", SIPP_DIR / "acd_register.xml", self.agent_port, d,
                        ["-m", str(len(agents)), "-l", "1", "-r", "50",
                         "-inf", str(self.inf(d, "agents", agents)),
                         "-key", "expires", "7200", "-timeout", "60s", "-timeout_error"],
                        remote=True)
        rc = wait_exit(reg, 90)
        self.procs.stop(reg)
        if rc != 0:
            raise BenchError(f"registering the agents failed (sipp exit {rc}); see {d}")
        scenario = d / "acd_agent.xml"
        scenario.write_text((SIPP_DIR / "acd_agent.xml").read_text()
                            .replace("@answer_ms@", str(self.o.answer_ms)))
        self.sipp("agents", scenario, self.agent_port, d,
                  ["-m", "10000000", "-key", "sink_port", str(self.sink_port),
                   "-recv_timeout", "60000"], remote=False)
        time.sleep(0.5)
        log(f"{len(agents)} agents registered from {self.o.host}:{self.agent_port}, answering "
            f"after {self.o.answer_ms} ms")

    # -- one run ---------------------------------------------------------------------------

    def callers(self, name: str, d: Path, number: str, users: list[str], cps: float,
                seconds: float, hold_s: float) -> Any:
        port = pick_port(self.o.host, 17160 if number == QUEUE_DID else 18160)
        calls = max(1, round(cps * seconds))
        proc = self.sipp(name, SIPP_DIR / "acd_caller.xml", port, d,
                         ["-s", number, "-auth_uri", f"{number}@{self.o.host}:{self.sip_port}",
                          "-inf", str(self.inf(d, name, users)), "-m", str(calls),
                          "-r", f"{cps:g}", "-rp", "1000", "-l", str(calls + 10),
                          "-d", str(round(hold_s * 1000)), "-key", "sink_port",
                          str(self.sink_port), "-recv_timeout", "30000"], remote=True)
        return proc, port, calls

    def run(self, name: str, with_load: bool) -> RunResult:
        d = self.step_dir(name)
        pcap = d / "sip.pcapng"
        cap = self.procs.start("dumpcap", ["dumpcap", "-q", "-i", "lo", "-f",
                                           f"udp and host {self.o.host} and port "
                                           f"{self.sip_port}", "-w", str(pcap)],
                               stop_signal=signal.SIGINT)
        time.sleep(1.0)  # dumpcap is capturing
        log_start = queue_log_size(self.data)
        before_load = load_average()
        cpu0 = sample_cpu({"switchd": self.box_pid})
        started = time.time()
        seconds = self.o.seconds
        ivr, ivr_port, ivr_calls = self.callers(f"{name}_ivr", d, IVR_DID, IVR_CALLERS,
                                                self.o.ivr_cps, seconds, 1.5)
        queue = None
        queue_port, queue_calls = 0, 0
        if with_load:
            queue, queue_port, queue_calls = self.callers(f"{name}_queue", d, QUEUE_DID,
                                                          CALLERS, self.o.cps, seconds,
                                                          self.o.hold)
        rcs = {"ivr": wait_exit(ivr, seconds + 60)}
        if queue is not None:
            rcs["queue"] = wait_exit(queue, seconds + 60)
        cpu1 = sample_cpu({"switchd": self.box_pid})
        after_load = load_average()
        time.sleep(1.0)
        self.procs.stop(cap, grace=10)
        for proc in (ivr, queue):
            if proc is not None:
                self.procs.stop(proc)
        packets = read_pcap(pcap, self.sip_port)
        failed = {}
        for kind in rcs:
            stats = read_sipp_stats(d / f"{name}_{kind}_stat.csv")
            failed[kind] = stat_int(stats, "FailedCall(C)")
        figures: dict[str, Any] = {
            "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
            "load_before": before_load, "load_after": after_load,
            "cpu": cpu_percent(cpu0, cpu1), "sipp_exit": rcs, "sipp_failed": failed,
            "ivr": answer_times(packets, ivr_port, ivr_calls),
        }
        if queue is not None:
            records = read_queue_log(self.data, log_start)
            figures["queue_answer"] = answer_times(packets, queue_port, queue_calls)
            figures.update(dispatch(packets, queue_port, self.agent_port, records,
                                    queue_calls))
        return RunResult(name, figures)


# -- reading what happened ---------------------------------------------------------------


def read_pcap(path: Path, sip_port: int) -> list[Packet]:
    fields = ["frame.time_epoch", "udp.srcport", "udp.dstport", "sip.Method",
              "sip.Status-Code", "sip.Call-ID", "sip.from.user", "sip.CSeq.method",
              "sip.Proxy-Authorization"]
    cmd = ["tshark", "-r", str(path), "-d", f"udp.port=={sip_port},sip", "-Y", "sip",
           "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise BenchError(f"tshark failed: {done.stderr[-2000:]}")
    out = []
    for line in done.stdout.splitlines():
        p = line.split("\t")
        if len(p) < len(fields):
            p += [""] * (len(fields) - len(p))
        out.append(Packet(float(p[0]), int(p[1]), int(p[2]), p[3],
                          int(p[4]) if p[4] else None, p[5], p[6], p[7], bool(p[8])))
    return out


def queue_log_size(data: Path) -> int:
    path = data / "logs" / "queue_log"
    return path.stat().st_size if path.exists() else 0


def read_queue_log(data: Path, start: int) -> list[list[str]]:
    path = data / "logs" / "queue_log"
    deadline = time.monotonic() + 10
    while True:  # the writer thread flushes after each burst
        with path.open("rb") as f:
            f.seek(start)
            lines = f.read().decode(errors="replace").splitlines()
        rows = [ln.split("|") for ln in lines if ln]
        if time.monotonic() > deadline or not rows or rows[-1][4] != "ENTERQUEUE":
            return rows
        time.sleep(0.2)


def answer_times(packets: list[Packet], caller_port: int, calls: int) -> dict[str, Any]:
    """Authenticated INVITE in -> the box's 200 OK out, and first INVITE -> 200 OK."""
    first: dict[str, float] = {}
    authed: dict[str, float] = {}
    ok: dict[str, float] = {}
    refused: set[str] = set()  # the box's overload guard turned the call away
    for p in packets:
        if p.method == "INVITE" and p.sport == caller_port:
            first.setdefault(p.call_id, p.t)
            if p.authorized:
                authed.setdefault(p.call_id, p.t)
        elif p.status == 200 and p.cseq_method == "INVITE" and p.dport == caller_port:
            ok.setdefault(p.call_id, p.t)
        elif p.status == 503 and p.dport == caller_port:
            refused.add(p.call_id)
    through = [(ok[c] - t) * 1000 for c, t in authed.items() if c in ok]
    total = [(ok[c] - t) * 1000 for c, t in first.items() if c in ok]
    return {"placed": calls, "answered": len(ok), "refused_503": len(refused),
            "invite_ms": percentiles_ms(through), "first_invite_ms": percentiles_ms(total)}


def dispatch(packets: list[Packet], caller_port: int, agent_port: int,
             records: list[list[str]], calls: int) -> dict[str, Any]:
    """Caller's INVITE in (and ENTERQUEUE) -> the box's first INVITE to an agent showing
    that caller's number. Each number calls again only after all the others (40 numbers
    at 20 cps: every 2 s), so the first agent INVITE with that number after the caller's
    is that caller's."""
    offers: dict[str, list[float]] = defaultdict(list)
    arrivals: list[tuple[str, float]] = []
    for p in packets:
        if p.method != "INVITE":
            continue
        if p.dport == agent_port:
            offers[p.from_user].append(p.t)
        elif p.sport == caller_port and p.authorized:
            arrivals.append((p.from_user, p.t))
    for times in offers.values():
        times.sort()

    def next_offer(number: str, after: float) -> float | None:
        times = offers.get(number, [])
        i = bisect_left(times, after)
        return times[i] if i < len(times) else None

    wire: list[float] = []
    seen: set[tuple[str, float]] = set()
    for number, t in arrivals:
        if (number, t) in seen:
            continue  # a retransmission
        seen.add((number, t))
        offer = next_offer(number, t)
        if offer is not None and offer - t < 1.5:
            wire.append((offer - t) * 1000)
    from_log: list[float] = []
    waited = 0
    connects = 0
    for r in records:
        if r[4] == "ENTERQUEUE":
            # the record's time has ms resolution: an offer up to 0.5 ms "before" it is
            # the same instant
            offer = next_offer(r[6], float(r[0]) - 0.0005)
            if offer is not None and offer - float(r[0]) < 1.5:
                from_log.append(max(0.0, offer - float(r[0])) * 1000)
        elif r[4] == "CONNECT":
            connects += 1
            if float(r[5]) - float(r[7]) > 0.0015:  # holdtime - ringtime
                waited += 1
    ring_all_invites = sum(len(v) for v in offers.values())
    return {"calls": calls, "matched": len(wire),
            "dispatch_wire_ms": percentiles_ms(wire),
            "dispatch_queue_log_ms": percentiles_ms(from_log),
            "connects": connects, "waited_for_an_agent": waited,
            "agent_invites": ring_all_invites}


# -- output ---------------------------------------------------------------------------------


def fmt(p: dict[str, Any]) -> str:
    if not p:
        return "-"
    return f"{p['p50']:.2f} / {p['p99']:.2f} / {p['max']:.2f}"


def summary(meta: dict[str, Any], baseline: RunResult, runs: list[RunResult]) -> str:
    lines = [
        "",
        f"ccbox ACD dispatch bench — {meta['when']}, tree {meta['git']}",
        f"machine: {meta['cpu']}, {meta['cores']} cores; sipp {meta['sipp']}; "
        f"Python {meta['python']}",
        f"load: {meta['agents']} agents, queue strategy {meta['strategy']}, {meta['cps']:g} "
        f"calls/s for {meta['seconds']:g} s per run, hold {meta['hold']:g} s, agents answer "
        f"after {meta['answer_ms']} ms; IVR probe {meta['ivr_cps']:g} calls/s",
        "",
        "times in ms as p50 / p99 / max; machine busy: % of both cores (everything on the "
        "machine, other engineers' tests included); switchd CPU: % of one core",
        "",
        "| run | load avg before → after | machine busy | switchd CPU | offers seen / calls "
        "| waited | dispatch: INVITE in → agent INVITE out | ENTERQUEUE → agent INVITE out | "
        "queue call answer | IVR answer (INVITE → 200) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in [baseline, *runs]:
        f = r.figures
        cpu = f["cpu"]
        ivr = f["ivr"]
        if "dispatch_wire_ms" in f:
            calls = f"{f['matched']} / {f['calls']}"
            if f["sipp_failed"].get("queue"):
                calls += (f" ({f['sipp_failed']['queue']} failed, "
                          f"{f['queue_answer']['refused_503']} of them 503)")
            waited = str(f["waited_for_an_agent"])
            wire, qlog = fmt(f["dispatch_wire_ms"]), fmt(f["dispatch_queue_log_ms"])
            qans = fmt(f["queue_answer"]["invite_ms"])
        else:
            calls = waited = wire = qlog = qans = "-"
        lines.append(
            f"| {r.name} | {f['load_before']} → {f['load_after']} | {cpu.get('machine', 0):.0f} % "
            f"| {cpu.get('switchd', 0):.0f} % | {calls} | {waited} | {wire} | {qlog} | {qans} | "
            f"{fmt(ivr['invite_ms'])} ({ivr['answered']}/{ivr['placed']}) |")
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> Options:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.78")
    ap.add_argument("--agents", type=int, default=30)
    ap.add_argument("--cps", type=float, default=20.0)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--hold", type=float, default=1.0, help="caller hangs up after (s)")
    ap.add_argument("--answer-ms", type=int, default=200, help="agents ring this long")
    ap.add_argument("--ivr-cps", type=float, default=2.0)
    ap.add_argument("--strategy", default="longest-idle")
    ap.add_argument("--box-nice", type=int, default=-10)
    ap.add_argument("--quick", action="store_true", help="one 10 s run")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--json", type=Path, dest="json_out")
    a = ap.parse_args(argv)
    if a.agents > len(AGENTS):
        ap.error(f"at most {len(AGENTS)} agents")
    if a.quick:
        a.runs, a.seconds = 1, 10.0
    workdir = a.workdir or Path(tempfile.mkdtemp(prefix="ccbox-acd-bench-"))
    return Options(a.host, a.agents, a.cps, a.seconds, a.runs, a.hold, a.answer_ms,
                   a.ivr_cps, a.strategy, a.box_nice, workdir, a.keep or a.workdir is not None,
                   a.json_out)


def main(argv: list[str] | None = None) -> int:
    o = parse_args(argv)
    for tool in (SIPP, "dumpcap", "tshark"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: run scripts/bootstrap.sh", file=sys.stderr)
            return 2
    procs = Processes()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    meta = {"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "git": git_state(),
            "cpu": cpu_model(), "cores": os.cpu_count(), "sipp": sipp_version(),
            "python": sys.version.split()[0], "agents": o.agents, "strategy": o.strategy,
            "cps": o.cps, "seconds": o.seconds, "hold": o.hold, "answer_ms": o.answer_ms,
            "ivr_cps": o.ivr_cps, "workdir": str(o.workdir)}
    try:
        bench = AcdBench(o, procs)
        bench.configure()
        bench.open_sink()
        bench.start_box()
        bench.start_agents()
        log("baseline: the IVR probe alone")
        baseline = bench.run("baseline", with_load=False)
        runs = []
        for i in range(o.runs):
            log(f"run {i + 1}/{o.runs}: {o.cps:g} cps to the queue + the IVR probe, "
                f"{o.seconds:g} s")
            runs.append(bench.run(f"run{i + 1}", with_load=True))
            time.sleep(3)  # the last calls end, agents free
    except BenchError as e:
        print(f"bench failed: {e}", file=sys.stderr)
        return 1
    finally:
        procs.stop_all()
        for s in getattr(bench, "sink", []):
            s.close()
    text = summary(meta, baseline, runs)
    print(text)
    if o.json_out is not None:
        o.json_out.write_text(json.dumps({"meta": meta, "baseline": baseline.figures,
                                          "runs": [r.figures for r in runs]}, indent=2))
    if not o.keep:
        with contextlib.suppress(OSError):
            shutil.rmtree(o.workdir)
    else:
        print(f"\nwork directory kept: {o.workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
