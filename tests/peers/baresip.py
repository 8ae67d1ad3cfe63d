"""Drive baresip 1.0.0 (Debian baresip-core) headless through its ctrl_tcp module.

`Baresip` writes a private config directory (SIP on 127.0.0.1, a generated 8 kHz mono
tone as the microphone, the ALSA `null` device as the speaker, `sndfile` dumps of what
was sent and heard), starts `timeout -k 5 LIFETIME baresip -f DIR`, and speaks ctrl_tcp:
netstrings of JSON, commands `{"command": ..., "params": ..., "token": ...}` answered by
`{"response": true, "ok": ..., "data": ..., "token": ...}`, plus unsolicited events
`{"event": true, "type": "CALL_ESTABLISHED", ...}` collected by a reader thread.

Facts measured here: `dial`, `hangup`, `accept`, `reginfo` come from menu.so (without it
ctrl_tcp answers "command not found"); REGISTER_OK can fire before the control
connection is up, so `wait_registered()` polls `reginfo`; without `net_interface lo`
the SDP carries the host's eth0 address instead of 127.0.0.1; the aufile source hangs
up the call when the file ends, so the tone is made longer than the process lifetime;
on SIGTERM baresip tries to unregister and lingers if the registrar is gone, hence the
`timeout -k` wrapper and `quit` first.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import queue
import re
import signal
import socket
import struct
import subprocess
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from tests.peers.ports import free_block, free_port

BARESIP = "/usr/bin/baresip"
MODULE_PATH = "/usr/lib/baresip/modules"

Event = dict[str, Any]
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def write_tone(path: Path, seconds: float, freq: float = 700.0, amplitude: int = 8000) -> Path:
    """An 8 kHz mono 16-bit sine WAV (baresip's aufile source wants exactly this)."""
    rate = 8000
    frames = bytearray()
    step = 2 * math.pi * freq / rate
    for i in range(int(seconds * rate)):
        frames += struct.pack("<h", int(amplitude * math.sin(step * i)))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return path


class BaresipError(RuntimeError):
    pass


class Baresip:
    """One headless baresip with one account.

    aor: e.g. "sip:9003@127.0.0.1:5060" (the registrar is the AOR's host:port).
    password: digest password (auth_pass); regint: registration interval, 0 = never
    register. answermode: "manual" (use accept()) or "auto".
    """

    def __init__(
        self,
        workdir: Path,
        aor: str,
        *,
        password: str | None = None,
        regint: int = 60,
        answermode: str = "manual",
        sip_port: int | None = None,
        ctrl_port: int | None = None,
        rtp_ports: tuple[int, int] | None = None,
        tone_hz: float = 700.0,
        lifetime: int = 60,
        extra_config: str = "",
        sip_trace: bool = True,
    ) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.aor = aor
        self.password = password
        self.regint = regint
        self.answermode = answermode
        self.sip_port = sip_port if sip_port is not None else free_port()
        self.ctrl_port = ctrl_port if ctrl_port is not None else free_port()
        if rtp_ports is None:
            base = free_block(20, align=2, tcp=False)
            rtp_ports = (base, base + 19)
        self.rtp_ports = rtp_ports
        self.tone_hz = tone_hz
        self.lifetime = lifetime
        self.extra_config = extra_config
        self.sip_trace = sip_trace  # -s: every SIP message in baresip.log
        self.snd_dir = self.dir / "snd"
        self.tone = self.dir / "tone.wav"
        self.log_file = self.dir / "baresip.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        self._reader: threading.Thread | None = None
        self._tokens = itertools.count(1)
        self._responses: dict[str, queue.Queue[Event]] = {}
        self._send_lock = threading.Lock()
        self._cond = threading.Condition()
        self.events: list[Event] = []

    # -- setup ------------------------------------------------------------------
    def write_config(self) -> None:
        self.snd_dir.mkdir(exist_ok=True)
        # Longer than baresip can live: the end of the file would hang the call up.
        write_tone(self.tone, self.lifetime + 10, self.tone_hz)
        lines = [
            "poll_method epoll",
            f"sip_listen 127.0.0.1:{self.sip_port}",
            "net_interface 127.0.0.1",
            "audio_player alsa,null",
            "audio_alert alsa,null",
            f"audio_source aufile,{self.tone}",
            f"rtp_ports {self.rtp_ports[0]}-{self.rtp_ports[1]}",
            f"module_path {MODULE_PATH}",
            "module g711.so",
            "module aufile.so",
            "module alsa.so",
            "module sndfile.so",
            f"snd_path {self.snd_dir}",
            "module_app account.so",
            "module_app menu.so",
            "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
            self.extra_config,
        ]
        (self.dir / "config").write_text("\n".join(lines) + "\n")
        params = [f"regint={self.regint}", f"answermode={self.answermode}"]
        if self.password is not None:
            params.insert(0, f"auth_pass={self.password}")
        (self.dir / "accounts").write_text(f"<{self.aor}>;" + ";".join(params) + "\n")

    def start(self, connect_timeout: float = 10.0) -> Baresip:
        self.write_config()
        with self.log_file.open("wb") as log:
            self.proc = subprocess.Popen(
                ["timeout", "-k", "5", str(self.lifetime), BARESIP, "-f", str(self.dir)]
                + (["-s"] if self.sip_trace else []),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.dir,
                start_new_session=True,  # its own process group: stop() reaches baresip too
            )
        deadline = time.monotonic() + connect_timeout
        while True:
            if self.proc.poll() is not None:
                raise BaresipError(f"baresip exited ({self.proc.returncode})\n{self.log()}")
            try:
                self._sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise BaresipError(
                        f"ctrl_tcp 127.0.0.1:{self.ctrl_port} never came up\n{self.log()}"
                    ) from None
                time.sleep(0.05)
        self._sock.settimeout(None)
        self._reader = threading.Thread(target=self._read_loop, name="baresip-ctrl", daemon=True)
        self._reader.start()
        return self

    # -- ctrl_tcp ---------------------------------------------------------------
    def _read_loop(self) -> None:
        assert self._sock is not None
        buf = b""
        while True:
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            while True:
                head, colon, rest = buf.partition(b":")
                if not colon or not head.isdigit():
                    break
                n = int(head)
                if len(rest) < n + 1:
                    break
                payload, buf = rest[:n], rest[n + 1 :]  # skip the trailing ','
                try:
                    msg = json.loads(payload)
                except ValueError:
                    continue
                self._dispatch(msg)
        with self._cond:
            self.events.append({"event": True, "type": "CTRL_CLOSED", "time": time.monotonic()})
            self._cond.notify_all()

    def _dispatch(self, msg: Event) -> None:
        if msg.get("response"):
            q = self._responses.get(str(msg.get("token")))
            if q is not None:
                q.put(msg)
            return
        msg["time"] = time.monotonic()
        with self._cond:
            self.events.append(msg)
            self._cond.notify_all()

    def command(self, command: str, params: str | None = None, timeout: float = 5.0) -> Event:
        """Send one command and return its response (raises if it is not ok)."""
        if self._sock is None:
            raise BaresipError("not started")
        token = f"t{next(self._tokens)}"
        q: queue.Queue[Event] = queue.Queue()
        self._responses[token] = q
        body: dict[str, str] = {"command": command, "token": token}
        if params is not None:
            body["params"] = params
        data = json.dumps(body).encode()
        with self._send_lock:
            self._sock.sendall(str(len(data)).encode() + b":" + data + b",")
        try:
            resp = q.get(timeout=timeout)
        except queue.Empty:
            raise BaresipError(f"no response to {command!r} in {timeout}s\n{self.log()}") from None
        finally:
            self._responses.pop(token, None)
        if not resp.get("ok"):
            raise BaresipError(f"{command} {params or ''}: {resp.get('data')!r}")
        return resp

    def dial(self, uri: str) -> Event:
        return self.command("dial", uri)

    def hangup(self) -> Event:
        return self.command("hangup")

    def accept(self) -> Event:
        return self.command("accept")

    def reginfo(self) -> str:
        """The `reginfo` text without its ANSI colours (OK is printed in green)."""
        return _ANSI.sub("", str(self.command("reginfo").get("data", "")))

    def wait_event(
        self,
        etype: str,
        timeout: float = 10.0,
        where: Callable[[Event], bool] | None = None,
        since: int = 0,
    ) -> Event:
        """First event of `etype` (at index >= since) matching `where`; raises on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for ev in self.events[since:]:
                    if ev.get("type") == etype and (where is None or where(ev)):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [e.get("type") for e in self.events]
                    raise BaresipError(f"no {etype} within {timeout}s; events: {seen}")
                self._cond.wait(left)

    def event_types(self) -> list[str]:
        with self._cond:
            return [str(e.get("type")) for e in self.events]

    def wait_registered(self, timeout: float = 10.0) -> str:
        """Poll `reginfo` until the account shows OK (REGISTER_OK may predate our connection)."""
        deadline = time.monotonic() + timeout
        info = ""
        while time.monotonic() < deadline:
            if any(e.get("type") == "REGISTER_OK" for e in self.events):
                return self.reginfo()
            info = self.reginfo()
            if re.search(r"\bOK\b", info):
                return info
            if any(e.get("type") == "REGISTER_FAIL" for e in self.events):
                break
            time.sleep(0.2)
        raise BaresipError(
            f"{self.aor} not registered after {timeout}s: {info!r}; events "
            f"{self.event_types()}\n{self.log()}"
        )

    # -- results ----------------------------------------------------------------
    def dumps(self) -> tuple[Path | None, Path | None]:
        """(what baresip sent, what it heard) as written by sndfile, newest call."""
        enc = sorted(self.snd_dir.glob("dump-*-enc.wav"))
        dec = sorted(self.snd_dir.glob("dump-*-dec.wav"))
        return (enc[-1] if enc else None, dec[-1] if dec else None)

    def log(self, lines: int = 200) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return "(no baresip log)"
        # The call status line is redrawn in place with \r: keep the real lines.
        text = _ANSI.sub("", text)
        keep = [
            ln.split("\r")[-1] for ln in text.splitlines() if "audio=" not in ln or "\r" not in ln
        ]
        return "--- baresip log ---\n" + "\n".join(keep[-lines:])

    # -- teardown ---------------------------------------------------------------
    def stop(self, timeout: float = 8.0) -> int | None:
        """`quit` over ctrl_tcp, then SIGTERM, then SIGKILL. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None and self._sock is not None:
            with contextlib.suppress(BaresipError, OSError):
                self.command("quit", timeout=2)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout / 2)
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout / 2)
        if self.proc.poll() is None:
            self._signal(signal.SIGKILL)
            self.proc.wait(timeout=5)
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None
        return self.proc.returncode

    def _signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)  # the group we created: timeout and baresip

    def __enter__(self) -> Baresip:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
