"""webd's side of switchd's CTI socket: one-shot commands and event subscriptions.

Commands open a connection, send one JSON line and read the reply: a unix-socket
connect costs tens of microseconds, and no state is shared between requests. A
subscription (one per browser event stream) keeps its connection: the snapshot comes
first, then every event in order.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from firmware.cti.protocol import UNAVAILABLE, CtiError

TIMEOUT = 3.0
KEEPALIVE = 15.0  # a subscription yields None this often while nothing happens


def socket_path(data_dir: Path) -> Path:
    return data_dir / "run" / "cti.sock"


def _connect(data_dir: Path, timeout: float) -> socket.socket:
    path = socket_path(data_dir)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(path))
    except FileNotFoundError:
        s.close()
        raise CtiError(UNAVAILABLE, "switchd is not running") from None
    except OSError as e:
        s.close()
        raise CtiError(UNAVAILABLE, f"switchd does not answer ({e.strerror})") from None
    return s


def _readline(f: Any) -> dict[str, Any]:
    line = f.readline()
    if not line:
        raise CtiError(UNAVAILABLE, "switchd closed the CTI connection")
    value = json.loads(line)
    if not isinstance(value, dict):
        raise CtiError(UNAVAILABLE, "switchd sent something else than a JSON object")
    return value


def command(data_dir: Path, cmd: str, timeout: float = TIMEOUT, **params: Any) -> dict[str, Any]:
    """Run one CTI command; the reply without "ok", or CtiError(code, message)."""
    with _connect(data_dir, timeout) as s:
        s.sendall(json.dumps({"cmd": cmd, **params}).encode() + b"\n")
        try:
            reply = _readline(s.makefile("rb"))
        except TimeoutError:
            raise CtiError(UNAVAILABLE, "switchd did not answer in time") from None
    if not reply.pop("ok", False):
        raise CtiError(str(reply.get("code", "refused")), str(reply.get("error", "refused")))
    reply.pop("id", None)
    return reply


class Subscription:
    """`snapshot` at once; iterate for events (None every KEEPALIVE of silence)."""

    def __init__(self, data_dir: Path) -> None:
        self._sock = _connect(data_dir, TIMEOUT)
        self._buf = b""
        self._sock.sendall(b'{"cmd":"Subscribe"}\n')
        try:
            reply = self._next(TIMEOUT)
        except (TimeoutError, OSError, ValueError):
            self.close()
            raise CtiError(UNAVAILABLE, "switchd did not send a snapshot") from None
        if reply is None or not reply.get("ok"):
            self.close()
            raise CtiError(str((reply or {}).get("code", UNAVAILABLE)),
                           str((reply or {}).get("error", "no snapshot")))
        self.snapshot: dict[str, Any] = reply.get("snapshot") or {}

    def _next(self, timeout: float) -> dict[str, Any] | None:
        """The next JSON line; None when the connection ended. TimeoutError after
        `timeout` seconds without a whole line (what was read so far is kept: a socket
        timeout does not lose data this way, unlike a file object's)."""
        self._sock.settimeout(timeout)
        while b"\n" not in self._buf:
            chunk = self._sock.recv(65536)
            if not chunk:
                return None
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        value = json.loads(line)
        return value if isinstance(value, dict) else {}

    def __iter__(self) -> Iterator[dict[str, Any] | None]:
        while True:
            try:
                event = self._next(KEEPALIVE)
            except TimeoutError:
                yield None
                continue
            except (OSError, ValueError):
                return
            if event is None:
                return
            yield event

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
