"""Running the daemons as child processes on a dev machine (`ccbox run`).

On the box systemd supervises the daemons; here one terminal does: the children get
their own process groups (so a Ctrl-C reaches them exactly once, forwarded by us), die
with us if we are killed, and their stderr is shown live with a prefix and kept so a
crash can be explained. Nothing is restarted: a dead child ends the run.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import IO

PR_SET_PDEATHSIG = 1
TAIL_LINES = 20
POLL = 0.1

# Variables that belong to the service manager of *this* process; a child inheriting
# them would notify (or feed the watchdog of) the wrong unit.
_PARENT_ONLY_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID")


@dataclass(frozen=True)
class ChildSpec:
    name: str
    argv: list[str]
    is_ready: Callable[[], bool]


class _Child:
    def __init__(self, spec: ChildSpec, proc: subprocess.Popen[bytes]) -> None:
        self.spec = spec
        self.proc = proc
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.ready = False
        self._reader = threading.Thread(target=self._pump, name=f"{spec.name}-stderr", daemon=True)

    @property
    def name(self) -> str:
        return self.spec.name

    def start_reader(self) -> None:
        self._reader.start()

    def _pump(self) -> None:
        stream: IO[bytes] | None = self.proc.stderr
        if stream is None:
            return
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.tail.append(line)
            sys.stderr.write(f"[{self.name}] {line}\n")
            sys.stderr.flush()

    def join_reader(self, timeout: float = 1.0) -> None:
        if self._reader.is_alive():
            self._reader.join(timeout)


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: if `ccbox run` is SIGKILLed, the kernel
    # sends SIGTERM to the daemons instead of leaving them holding the ports.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def describe_status(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


class Supervisor:
    def __init__(
        self,
        specs: list[ChildSpec],
        *,
        ready_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        on_ready: Callable[[], None] = lambda: None,
        out: IO[str] | None = None,
    ) -> None:
        self.specs = specs
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.on_ready = on_ready
        self.out = out or sys.stderr
        self.children: list[_Child] = []
        self._signals = 0

    def _say(self, text: str) -> None:
        self.out.write(f"ccbox: {text}\n")
        self.out.flush()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1

    def run(self) -> int:
        """Start every child, report readiness, run until a signal or a child's death.

        0 after a signal (the normal way to stop), 1 when a child died or was not ready
        in time.
        """
        old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self._start()
            status = self._watch()
            self._stop()
            return status
        finally:
            for s, handler in old.items():
                signal.signal(s, handler)

    def _child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _PARENT_ONLY_ENV}
        env["PYTHONUNBUFFERED"] = "1"  # log lines must reach us as they happen
        return env

    def _start(self) -> None:
        env = self._child_env()
        for spec in self.specs:
            proc = subprocess.Popen(
                spec.argv,
                stdin=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
                process_group=0,
                preexec_fn=_die_with_parent,
            )
            self.children.append(_Child(spec, proc))
        # Reader threads only after every fork: preexec_fn is not safe with threads around.
        for child in self.children:
            child.start_reader()

    def _watch(self) -> int:
        deadline = time.monotonic() + self.ready_timeout
        all_ready = False
        while not self._signals:
            for child in self.children:
                if child.proc.poll() is not None:
                    return self._died(child)
            if not all_ready:
                for child in self.children:
                    if not child.ready and child.spec.is_ready():
                        child.ready = True
                if all(c.ready for c in self.children):
                    all_ready = True
                    self.on_ready()
                elif time.monotonic() > deadline:
                    waiting = ", ".join(c.name for c in self.children if not c.ready)
                    self._say(f"{waiting} not ready after {self.ready_timeout:.0f} s; stopping")
                    for child in self.children:
                        if not child.ready:
                            self._show_tail(child)
                    return 1
            time.sleep(POLL)
        return 0

    def _died(self, child: _Child) -> int:
        child.join_reader()
        self._say(f"{child.name} exited unexpectedly ({describe_status(child.proc.returncode)})")
        self._show_tail(child)
        return 1

    def _show_tail(self, child: _Child) -> None:
        if not child.tail:
            self._say(f"{child.name} wrote nothing to stderr")
            return
        self._say(f"last lines from {child.name}:")
        for line in child.tail:
            self.out.write(f"    {line}\n")
        self.out.flush()

    def _stop(self) -> None:
        alive = [c for c in self.children if c.proc.poll() is None]
        if not alive:
            return
        self._say("stopping " + ", ".join(c.name for c in alive))
        for child in alive:
            self._send(child, signal.SIGTERM)
        signals_before = self._signals
        deadline = time.monotonic() + self.stop_timeout
        while any(c.proc.poll() is None for c in alive):
            # A second Ctrl-C means "now".
            if time.monotonic() > deadline or self._signals > signals_before:
                for child in alive:
                    if child.proc.poll() is None:
                        self._say(f"{child.name} did not stop; killing it")
                        self._send(child, signal.SIGKILL)
                        child.proc.wait()
                break
            time.sleep(POLL)
        for child in alive:
            child.join_reader()
            code = child.proc.returncode
            if code not in (0, -signal.SIGTERM, -signal.SIGKILL):
                self._say(f"{child.name} stopped with {describe_status(code)}")

    @staticmethod
    def _send(child: _Child, sig: signal.Signals) -> None:
        try:
            child.proc.send_signal(sig)
        except ProcessLookupError:
            pass
