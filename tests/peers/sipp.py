"""Run sipp 3.6.1 scenarios from tests and read back what went over the wire.

A run writes everything into a per-test directory: the SIP message trace (`-trace_msg`),
unexpected messages (`-trace_err`), `<log>` actions (`-trace_logs`), the final statistics
screen and stdout. `SippResult` parses the message trace so tests can assert on the exact
responses the box sent, beyond what a scenario's own checks cover.

sipp exit codes: 0 every call succeeded, 1 at least one call failed, 97 stopped by an
internal command, 99 normal exit with no call processed, 255 fatal error (bad scenario,
unsupported digest algorithm, ...), 254 could not bind its sockets.

A UAS must bind its port before the box sends to it: `Sipp.start()` then
`wait_ready()` (polls /proc/net/udp for the port). A UAS cannot also register in the same
run: register with a short `register_auth.xml` run from the same port first.
"""

from __future__ import annotations

import itertools
import re
import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from tests.peers.ports import free_block, tcp_listening, udp_bound

SIPP = "/usr/bin/sipp"
SCENARIOS = Path(__file__).resolve().parents[1] / "sipp"
PCAP_DIR = Path("/usr/share/sip-tester")
G711A_PCAP = PCAP_DIR / "g711a.pcap"
# g711a.pcap: 236 packets of 240 bytes A-law (30 ms each, PT 8): 7.08 s of speech whose
# first ~0.6 s is near-silent. sipp sends it from its media port to the peer's SDP address.
G711A_SECONDS = 7.08
G711A_LEAD_IN = 0.6

_SEPARATOR = re.compile(r"^-{20,} \d{4}-\d\d-\d\d[ \t][\d:.]+\s*$", re.M)
_HEADLINE = re.compile(
    r"^(?P<transport>UDP|TCP|TLS|SCTP) message (?P<dir>sent|received)"
    r" (?:\(\d+ bytes\)|\[\d+\] bytes ?):\s*$",
    re.M,
)
_counter = itertools.count(1)

# Keys our scenarios use ([name] in tests/sipp/*.xml) and their defaults. A run passes
# the ones its scenario references; `keys=` overrides them.
DEFAULT_KEYS: dict[str, str | int | float] = {
    "user": "9001",
    "expires": 300,
    "challenge": "no",  # UAS scenarios: "yes" plays the box's 407 (validation only)
    "ring_ms": 500,
    "pre_play_ms": 0,
    "pre_dtmf_ms": 1000,
    "talk_ms": 3000,
    "pre_hold_ms": 1000,
    "held_ms": 1500,
    "auth_user": "9001",
    "auth_pass": "password",
    "realm": "sipp-mock",
}
_KEY_REF = re.compile(r"\[([a-z_]+)\]")


def scenario_keys(path: Path) -> set[str]:
    """The DEFAULT_KEYS names a scenario file references."""
    return {k for k in _KEY_REF.findall(path.read_text()) if k in DEFAULT_KEYS}


def scenario_path(name: str | Path) -> Path:
    """`uac_call` or `uac_call.xml` -> tests/sipp/uac_call.xml; paths are kept."""
    p = Path(name)
    if p.is_absolute() or p.exists():
        return p
    if p.suffix != ".xml":
        p = p.with_suffix(".xml")
    return SCENARIOS / p


@dataclass(frozen=True)
class SipMessage:
    direction: str  # "sent" or "received"
    transport: str
    stamp: str
    text: str

    @property
    def start_line(self) -> str:
        return self.text.split("\r\n", 1)[0].split("\n", 1)[0].strip()

    @property
    def is_response(self) -> bool:
        return self.start_line.startswith("SIP/2.0 ")

    @property
    def status(self) -> int | None:
        if not self.is_response:
            return None
        return int(self.start_line.split()[1])

    @property
    def reason(self) -> str:
        if not self.is_response:
            return ""
        parts = self.start_line.split(" ", 2)
        return parts[2] if len(parts) > 2 else ""

    @property
    def method(self) -> str:
        """Request method, or for a response the method named in its CSeq."""
        if not self.is_response:
            return self.start_line.split(" ", 1)[0]
        cseq = self.header("CSeq")
        return cseq.split()[-1] if cseq else ""

    def _split(self) -> tuple[list[str], str]:
        text = self.text.replace("\r\n", "\n")
        head, _, body = text.partition("\n\n")
        lines: list[str] = []
        for line in head.split("\n")[1:]:
            if line[:1] in (" ", "\t") and lines:
                lines[-1] += " " + line.strip()
            elif line.strip():
                lines.append(line)
        return lines, body

    @property
    def headers(self) -> list[tuple[str, str]]:
        out = []
        for line in self._split()[0]:
            name, _, value = line.partition(":")
            out.append((_COMPACT.get(name.strip().lower(), name.strip().lower()), value.strip()))
        return out

    def header_values(self, name: str) -> list[str]:
        key = _COMPACT.get(name.lower(), name.lower())
        return [v for n, v in self.headers if n == key]

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return values[0] if values else None

    @property
    def body(self) -> str:
        return self._split()[1].strip()

    def sdp_direction(self) -> str | None:
        """sendrecv/sendonly/recvonly/inactive for the first audio stream (None: no SDP)."""
        body = self.body
        if "m=audio" not in body:
            return None
        session, _, media = body.partition("m=audio")
        media = media.split("\nm=", 1)[0]
        for part in (media, session):
            m = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", part, re.M)
            if m:
                return m.group(1)
        return "sendrecv"

    def sdp_audio(self) -> tuple[str, int, list[int]] | None:
        """(connection address, port, payload types) of the first audio stream."""
        body = self.body
        m = re.search(r"^m=audio (\d+) RTP/AVP ([\d ]+)", body, re.M)
        if not m:
            return None
        session, _, media = body.partition("m=audio")
        c = re.search(r"^c=IN IP4 (\S+)", media, re.M) or re.search(
            r"^c=IN IP4 (\S+)", session, re.M
        )
        return (c.group(1) if c else "", int(m.group(1)), [int(x) for x in m.group(2).split()])

    def __str__(self) -> str:
        return f"[{self.direction} {self.stamp}] {self.start_line}"


_COMPACT = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
}


def parse_message_log(path: Path) -> list[SipMessage]:
    """The messages of a sipp `-trace_msg` file, in order."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return []
    out: list[SipMessage] = []
    marks = list(_SEPARATOR.finditer(text))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        chunk = text[mark.end() : end]
        head = _HEADLINE.search(chunk)
        if not head:
            continue
        stamp = mark.group(0).strip("-\n ").strip()
        msg = chunk[head.end() :].lstrip("\r\n").rstrip() + "\n"
        out.append(SipMessage(head.group("dir"), head.group("transport"), stamp, msg))
    return out


@dataclass
class SippResult:
    name: str
    command: list[str]
    returncode: int
    workdir: Path
    message_file: Path
    error_file: Path
    log_file: Path
    screen_file: Path
    stdout_file: Path
    duration: float
    messages: list[SipMessage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def received(self, method: str | None = None, status: int | None = None) -> list[SipMessage]:
        return _select(self.messages, "received", method, status)

    def sent(self, method: str | None = None, status: int | None = None) -> list[SipMessage]:
        return _select(self.messages, "sent", method, status)

    def responses(self, method: str = "INVITE") -> list[int]:
        """Status codes received for `method`, in order (retransmissions included)."""
        return [m.status for m in self.received(method) if m.status is not None]

    def final_responses(self, method: str = "INVITE") -> list[int]:
        return [s for s in self.responses(method) if s >= 200]

    def requests(self, method: str) -> list[SipMessage]:
        return [m for m in self.received(method) if not m.is_response]

    def report(self, tail: int = 12) -> str:
        """Everything needed to understand a failed run, for an assertion message."""
        parts = [
            f"sipp run {self.name!r}: exit {self.returncode} after {self.duration:.1f}s",
            "command: " + shlex.join(self.command),
            f"artifacts: {self.workdir}",
        ]
        for label, path in (("errors", self.error_file), ("logs", self.log_file)):
            if path.exists() and path.stat().st_size:
                parts.append(f"--- {label} ({path.name}) ---\n" + _tail(path, 40))
        if self.messages:
            parts.append("--- message flow ---")
            parts.extend(str(m) for m in self.messages)
            last = self.messages[-tail:]
            parts.append(f"--- last {len(last)} messages ---")
            parts.extend(m.text for m in last)
        if self.stdout_file.exists():
            out = self.stdout_file.read_text(errors="replace")
            # The statistics screen is noise; keep the warnings sipp printed before it.
            keep = [
                ln
                for ln in out.splitlines()
                if ln.strip() and not ln.startswith(("  ", "---", "==")) and "|" not in ln
            ]
            if keep:
                parts.append("--- stdout ---\n" + "\n".join(keep[-30:]))
        return "\n".join(parts)


def _select(
    msgs: Sequence[SipMessage], direction: str, method: str | None, status: int | None
) -> list[SipMessage]:
    return [
        m
        for m in msgs
        if m.direction == direction
        and (method is None or m.method == method)
        and (status is None or m.status == status)
    ]


def _tail(path: Path, lines: int) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


class Sipp:
    """One sipp process running one scenario.

    `run()` blocks until sipp exits. For a UAS: `start()`, `wait_ready()`, do the
    calling, then `wait()`. Used as a context manager it never outlives the block.
    """

    def __init__(
        self,
        scenario: str | Path,
        workdir: Path,
        *,
        remote: str | None = None,
        local_port: int | None = None,
        local_ip: str = "127.0.0.1",
        media_port: int | None = None,
        service: str | None = None,
        keys: Mapping[str, str | int | float] | None = None,
        user: str | None = None,
        password: str | None = None,
        calls: int = 1,
        timeout: float = 30.0,
        name: str | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.scenario = scenario_path(scenario)
        if not self.scenario.exists():
            raise FileNotFoundError(self.scenario)
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.remote = remote
        self.local_ip = local_ip
        self.local_port = local_port if local_port is not None else free_block(1)
        # sipp binds its media port and the next ports (RTCP, video): keep 4 to itself.
        self.media_port = media_port if media_port is not None else free_block(4, align=2)
        self.service = service
        self.keys = {k: DEFAULT_KEYS[k] for k in sorted(scenario_keys(self.scenario))}
        self.keys.update(keys or {})
        self.user = user
        self.password = password
        self.calls = calls
        self.timeout = timeout
        self.name = name or f"{next(_counter):02d}_{self.scenario.stem}"
        self.extra_args = list(extra_args)
        self.proc: subprocess.Popen[bytes] | None = None
        self._started = 0.0
        self._result: SippResult | None = None

    def _file(self, kind: str) -> Path:
        return self.workdir / f"{self.name}.{kind}"

    def command(self) -> list[str]:
        cmd = [
            SIPP,
            "-sf", str(self.scenario),
            "-i", self.local_ip,
            "-p", str(self.local_port),
            "-mp", str(self.media_port),
            "-m", str(self.calls),
            "-l", "1",  # one call at a time: the traces read in order
            "-nostdin",
            "-aa",  # answer OPTIONS/INFO/NOTIFY/UPDATE the box may send
            "-timeout", f"{self.timeout:g}s",
            "-timeout_error",
            "-trace_msg", "-message_file", str(self._file("messages.log")),
            "-trace_err", "-error_file", str(self._file("errors.log")),
            "-trace_logs", "-log_file", str(self._file("logs.log")),
            "-trace_screen", "-screen_file", str(self._file("screen.log")),
        ]  # fmt: skip
        if self.service is not None:
            cmd += ["-s", self.service]
        if self.user is not None:
            cmd += ["-au", self.user]
        if self.password is not None:
            cmd += ["-ap", self.password]
            if self.service is not None and self.remote is not None:
                # sipp's digest uri defaults to sip:HOST:PORT; make it the Request-URI.
                cmd += ["-auth_uri", f"{self.service}@{self.remote}"]
        for k, v in self.keys.items():
            cmd += ["-key", k, str(v)]
        cmd += self.extra_args
        if self.remote is not None:
            cmd.append(self.remote)
        return cmd

    def start(self) -> Sipp:
        if self.proc is not None:
            raise RuntimeError(f"{self.name} already started")
        for kind in ("messages.log", "errors.log", "logs.log", "screen.log"):
            self._file(kind).unlink(missing_ok=True)
        self._started = time.monotonic()
        with self._file("stdout.log").open("wb") as out:
            self.proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        return self

    def wait_ready(self, timeout: float = 5.0) -> Sipp:
        """Block until sipp has bound its SIP port (a UAS is then ready for INVITEs)."""
        assert self.proc is not None, "start() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"sipp {self.name} exited ({self.proc.returncode}) before binding "
                    f"{self.local_ip}:{self.local_port}\n" + self._collect().report()
                )
            tcp = "t1" in self.extra_args or "tn" in self.extra_args
            bound = tcp_listening if tcp else udp_bound
            if bound(self.local_port, self.local_ip):
                return self
            time.sleep(0.02)
        raise TimeoutError(f"sipp {self.name} did not bind {self.local_ip}:{self.local_port}")

    def wait(self, timeout: float | None = None) -> SippResult:
        """Wait for sipp to exit (killing it after `timeout`, default its own timeout + 10 s)."""
        assert self.proc is not None, "start() first"
        limit = timeout if timeout is not None else self.timeout + 10
        try:
            self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self.kill()
        return self._collect()

    def run(self) -> SippResult:
        self.start()
        return self.wait()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def _collect(self) -> SippResult:
        assert self.proc is not None
        rc = self.proc.poll()
        self._result = SippResult(
            name=self.name,
            command=self.command(),
            returncode=rc if rc is not None else -999,
            workdir=self.workdir,
            message_file=self._file("messages.log"),
            error_file=self._file("errors.log"),
            log_file=self._file("logs.log"),
            screen_file=self._file("screen.log"),
            stdout_file=self._file("stdout.log"),
            duration=time.monotonic() - self._started,
            messages=parse_message_log(self._file("messages.log")),
        )
        return self._result

    @property
    def result(self) -> SippResult | None:
        return self._result

    def __enter__(self) -> Sipp:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.kill()
