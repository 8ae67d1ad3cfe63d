"""The box under test as a subprocess: `ccbox run --board sim` on private ports and data.

`Box` starts it, waits for the `ccbox ready` line, and gives tests the views a user has
of it: the status socket, the `ccbox status` CLI, the CDR table and the recordings.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CCBOX = REPO / ".venv" / "bin" / "ccbox"

# Extensions every box under test gets, with known passwords.
EXTENSIONS: dict[str, str] = {
    "9001": "S3cret-9001x",
    "9002": "S3cret-9002x",
    "9003": "S3cret-9003x",
    "9004": "S3cret-9004x",
}

READY_LINE = "ccbox ready"
CDR_COLUMNS = (
    "call_id", "direction", "caller", "called", "callee", "start", "answer", "end",
    "ring_seconds", "talk_seconds", "cause", "cause_text", "released_by", "recording",
    "extra",
)  # fmt: skip

Row = dict[str, Any]


class BoxError(RuntimeError):
    pass


def ccbox(args: Sequence[str], *, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run the ccbox CLI; raise with its output if it fails."""
    if not CCBOX.exists():
        raise BoxError(f"{CCBOX} does not exist: the ccbox CLI is not installed in the venv")
    proc = subprocess.run(
        [str(CCBOX), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        check=False,
    )
    if proc.returncode != 0:
        raise BoxError(
            f"ccbox {' '.join(args)} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"  # the ready line must reach us through the pipe
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def add_extensions(data: Path, extensions: dict[str, str] = EXTENSIONS) -> None:
    data.mkdir(parents=True, exist_ok=True)  # `ext add` wants the directory to exist
    for ext, password in extensions.items():
        ccbox(["ext", "add", ext, "--password", password, "--name", "test", "--data", str(data)])


def clone_data_dir(template: Path, data: Path) -> None:
    """A fresh data dir from a template made by add_extensions() (saves CLI start-ups)."""
    shutil.copytree(template, data)


@dataclass(frozen=True)
class BoxPorts:
    sip: int
    web: int
    rtp: tuple[int, int]


class Box:
    def __init__(self, data: Path, ports: BoxPorts, log_path: Path) -> None:
        self.data = data
        self.ports = ports
        self.log_path = log_path
        self.proc: subprocess.Popen[str] | None = None
        self.exit_codes: list[int] = []
        self._lines: list[str] = []
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- addresses --------------------------------------------------------------
    @property
    def sip_port(self) -> int:
        return self.ports.sip

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def sip_addr(self) -> str:
        return f"{self.host}:{self.sip_port}"

    def uri(self, number: str) -> str:
        return f"sip:{number}@{self.sip_addr}"

    # -- lifecycle --------------------------------------------------------------
    def command(self) -> list[str]:
        lo, hi = self.ports.rtp
        return [
            str(CCBOX), "run", "--board", "sim", "--data", str(self.data),
            "--sip-port", str(self.ports.sip), "--web-port", str(self.ports.web),
            "--rtp-ports", f"{lo}-{hi}",
        ]  # fmt: skip

    def start(self, timeout: float = 20.0) -> Box:
        if self.proc is not None and self.proc.poll() is None:
            raise BoxError("box already running")
        if not CCBOX.exists():
            raise BoxError(f"{CCBOX} does not exist: the ccbox CLI is not installed")
        self._ready.clear()
        self._note(f"=== start: {' '.join(self.command())}")
        self.proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            env=_env(),
            cwd=self.data.parent,
            start_new_session=True,  # its own process group, so helpers die with it
        )
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None:
                self._reader.join(2)
                raise BoxError(
                    f"ccbox run exited with {self.proc.returncode} before '{READY_LINE}'\n"
                    + self.log_text()
                )
            if time.monotonic() > deadline:
                self.stop()
                raise BoxError(f"no '{READY_LINE}' line within {timeout:g}s\n" + self.log_text())
        return self

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._note(line.rstrip("\n"))
            if line.strip() == READY_LINE or line.strip().endswith(READY_LINE):
                self._ready.set()

    def _note(self, line: str) -> None:
        with self._lock:
            self._lines.append(line)
            with self.log_path.open("a") as f:
                f.write(line + "\n")

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGINT, then SIGKILL (whole process group) after `timeout`. Returns the exit code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._note(f"=== no exit {timeout:g}s after SIGINT: SIGKILL")
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)
        # Helpers the box left behind in its group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self._reader is not None:
            self._reader.join(2)
        code = proc.returncode
        self._note(f"=== exited with {code}")
        self.exit_codes.append(code)
        self.proc = None
        return code

    def restart(self, timeout: float = 20.0) -> int | None:
        code = self.stop()
        self.start(timeout)
        return code

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self, tail: int | None = None) -> str:
        with self._lock:
            lines = self._lines if tail is None else self._lines[-tail:]
            return "\n".join(lines)

    # -- views ------------------------------------------------------------------
    @property
    def status_socket(self) -> Path:
        return self.data / "run" / "switchd.sock"

    def status(self, timeout: float = 5.0) -> dict[str, Any]:
        """One `{"cmd":"status"}` round trip on DIR/run/switchd.sock."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.status_socket))
            s.sendall(b'{"cmd":"status"}\n')
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        try:
            value = json.loads(buf.decode())
        except ValueError as e:
            raise BoxError(f"status socket answered {buf[:500]!r}: not one JSON line") from e
        if not isinstance(value, dict):
            raise BoxError(f"status socket answered {value!r}: not a JSON object")
        return value

    def wait_status(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 3.0
    ) -> dict[str, Any]:
        """Poll status until `predicate` holds; returns the last status either way."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            if predicate(status) or time.monotonic() > deadline:
                return status
            time.sleep(0.1)

    def status_cli(self) -> str:
        return ccbox(["status", "--data", str(self.data)]).stdout

    @property
    def db_path(self) -> Path:
        return self.data / "ccbox.db"

    def cdrs(self) -> list[Row]:
        """All rows of the cdr table, oldest first."""
        if not self.db_path.exists():
            return []
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        try:
            conn.row_factory = sqlite3.Row
            try:
                rows = conn.execute("SELECT * FROM cdr ORDER BY rowid").fetchall()
            except sqlite3.OperationalError as e:
                if "no such table" in str(e):
                    return []
                raise
            return [dict(r) for r in rows]
        finally:
            conn.close()

    def wait_cdrs(
        self,
        count: int = 1,
        where: Callable[[Row], bool] | None = None,
        timeout: float = 6.0,
    ) -> list[Row]:
        """Poll until at least `count` CDRs match `where` (CDRs are written asynchronously)."""
        deadline = time.monotonic() + timeout
        rows: list[Row] = []
        while True:
            rows = [r for r in self.cdrs() if where is None or where(r)]
            if len(rows) >= count or time.monotonic() > deadline:
                return rows
            time.sleep(0.1)

    @property
    def recordings_dir(self) -> Path:
        return self.data / "recordings"

    def recordings(self) -> list[Path]:
        """Every WAV under DIR/recordings/YYYY/MM/DD/, oldest first."""
        if not self.recordings_dir.exists():
            return []
        files = [p for p in self.recordings_dir.rglob("*.wav") if p.is_file()]
        return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))

    def wait_recording(self, path: Path, timeout: float = 6.0) -> Path:
        """Wait until `path` exists and its size stops changing (the writer closed it)."""
        deadline = time.monotonic() + timeout
        last = -1
        while time.monotonic() < deadline:
            if path.exists():
                size = path.stat().st_size
                if size == last and size > 44:
                    return path
                last = size
            time.sleep(0.2)
        raise BoxError(f"recording {path} not complete within {timeout:g}s")


# -- reading status ---------------------------------------------------------------------
# {"registrations": [{"aor": "9002", "contact": "sip:9002@127.0.0.1:P", "source":
#   "udp:127.0.0.1:P", "expires_in": 298, ...}], "active_calls": [{"id", "caller",
#   "called", "callee", "state", ...}], "locked_sources": [...], ...}
def _list(status: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = status.get(key)
    if not isinstance(value, list):
        raise BoxError(f"status has no {key!r} list: {status}")
    return [v for v in value if isinstance(v, dict)]


def bindings_for(status: dict[str, Any], ext: str, port: int | None = None) -> list[Row]:
    """Registrations of extension `ext` (whose contact or source uses `port`, if given)."""
    out = []
    for reg in _list(status, "registrations"):
        aor = str(reg.get("aor", "")).removeprefix("sip:").split("@")[0]
        where = f"{reg.get('contact', '')} {reg.get('source', '')}"
        if aor == ext and (port is None or f":{port}" in where):
            out.append(reg)
    return out


def active_calls(status: dict[str, Any]) -> list[Row]:
    return _list(status, "active_calls")


def locked_sources(status: dict[str, Any]) -> list[str]:
    value = status.get("locked_sources")
    if not isinstance(value, list):
        raise BoxError(f"status has no 'locked_sources' list: {status}")
    return [str(v) for v in value]
