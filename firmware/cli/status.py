"""`ccbox status`: ask the running switchd how it is doing, over its status socket."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from firmware.cli.errors import CliError

NOT_RUNNING = 3
NO_ANSWER = 4
TIMEOUT = 5.0


def switchd_socket(data_dir: Path) -> Path:
    return data_dir / "run" / "switchd.sock"


def query(path: Path, request: dict[str, object], timeout: float = TIMEOUT) -> dict[str, object]:
    """Send one JSON line, read one JSON line back."""
    not_running = CliError(f"switchd is not running (no {path})", NOT_RUNNING)
    if not path.exists():
        raise not_running
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            # A socket file nobody listens on is what a crashed switchd leaves behind.
            raise not_running from None
        except OSError as exc:
            raise CliError(f"cannot connect to {path}: {exc}", NOT_RUNNING) from None
        try:
            sock.sendall(json.dumps(request).encode() + b"\n")
            reply = _read_line(sock)
        except TimeoutError:
            raise CliError(f"switchd did not answer within {timeout:.0f} s", NO_ANSWER) from None
        except OSError as exc:
            raise CliError(f"switchd closed the status connection: {exc}", NO_ANSWER) from None
    try:
        decoded = json.loads(reply)
    except ValueError:
        raise CliError(f"switchd replied with non-JSON: {reply[:200]!r}", NO_ANSWER) from None
    if not isinstance(decoded, dict):
        raise CliError(f"switchd sent {type(decoded).__name__}, expected an object", NO_ANSWER)
    return decoded


def _read_line(sock: socket.socket) -> bytes:
    buf = bytearray()
    while b"\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            if buf:
                break
            raise ConnectionResetError("no reply")
        buf += chunk
    return bytes(buf.split(b"\n", 1)[0])


def format_duration(seconds: float) -> str:
    s = int(seconds)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days}d {hours}h {minutes:02d}m {s:02d}s"
    if hours:
        return f"{hours}h {minutes:02d}m {s:02d}s"
    if minutes:
        return f"{minutes}m {s:02d}s"
    return f"{s}s"


# Shown first and in this order; any other key follows, so a newer switchd's additions
# show up without a CLI change.
_KNOWN = ("version", "uptime", "registrations", "active_calls", "calls")


def _label(key: str) -> str:
    return key.replace("_", " ")


def _inline(item: object) -> str:
    if isinstance(item, dict):
        return ", ".join(f"{_label(str(k))}={v}" for k, v in item.items())
    return str(item)


def _lines(key: str, value: object, indent: str, width: int) -> list[str]:
    label = indent + _label(key).ljust(width)
    if key == "uptime" and isinstance(value, int | float) and not isinstance(value, bool):
        return [f"{label} : {format_duration(value)}"]
    if isinstance(value, dict) and not value:
        return [f"{label} : -"]
    if isinstance(value, dict):
        inner = max((len(_label(str(k))) for k in value), default=0)
        out = [f"{label} :"]
        for k, v in value.items():
            out += _lines(str(k), v, indent + "    ", inner)
        return out
    if isinstance(value, list):
        return [f"{label} : {len(value)}"] + [f"{indent}    - {_inline(v)}" for v in value]
    return [f"{label} : {value}"]


def format_status(status: dict[str, object]) -> str:
    # "ok" is protocol framing, not news: failures are reported before formatting.
    shown = {k: v for k, v in status.items() if k != "ok"}
    keys = [k for k in _KNOWN if k in shown] + [k for k in shown if k not in _KNOWN]
    width = max((len(_label(k)) for k in keys), default=0)
    lines: list[str] = []
    for key in keys:
        lines += _lines(key, shown[key], "  ", width)
    return "\n".join(lines)


def status(data_dir: Path) -> int:
    path = switchd_socket(data_dir)
    reply = query(path, {"cmd": "status"})
    if reply.get("ok") is False or "error" in reply:
        raise CliError(f"switchd: {reply.get('error', 'status failed')}", NO_ANSWER)
    print(f"switchd ({path})")
    print(format_status(reply))
    return 0


def tell_switchd_reload(data_dir: Path) -> str | None:
    """Ask a running switchd to re-read the extensions now; a note for the user, or None
    when switchd is not running (it reads the database when it starts)."""
    try:
        reply = query(switchd_socket(data_dir), {"cmd": "reload"}, timeout=2.0)
    except CliError as exc:
        if exc.status == NOT_RUNNING:
            return None
        return f"switchd did not confirm the reload ({exc}); it re-reads extensions shortly"
    if reply.get("ok") is False or "error" in reply:
        return f"switchd could not reload: {reply.get('error', 'unknown error')}"
    return "switchd reloaded the extensions"
