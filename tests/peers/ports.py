"""Free local ports for tests: single SIP/web ports, small blocks, and RTP ranges.

Everything is handed out from 10000-32000, below Linux's ephemeral range (32768-60999), so
a port we pick cannot be taken a moment later by some process's outgoing socket. A port is
only handed out if it binds right now (UDP and TCP), and never twice in one process.
Under pytest-xdist every worker has its own slice of the range; other pytest processes
running at once are kept apart by random starting points and the bind check.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from pathlib import Path


def _worker_range(low: int, high: int) -> tuple[int, int]:
    """This pytest-xdist worker's own slice of low-high (the whole range without xdist).
    Each worker process keeps its own record of what it handed out; a port a worker has
    reserved but whose box has not bound it yet would look free to another worker's
    bind check, so the workers must not share ports at all."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    if not worker.startswith("gw") or count <= 1:
        return low, high
    index = int(worker[2:])
    size = (high - low) // count
    return low + index * size, low + (index + 1) * size


LOW, HIGH = _worker_range(10000, 32000)

_lock = threading.Lock()
_taken: set[int] = set()


def _binds(port: int, host: str = "0.0.0.0", tcp: bool = True) -> bool:
    kinds = [socket.SOCK_DGRAM, socket.SOCK_STREAM] if tcp else [socket.SOCK_DGRAM]
    for kind in kinds:
        s = socket.socket(socket.AF_INET, kind)
        try:
            s.bind((host, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def free_block(count: int = 1, *, align: int = 1, tcp: bool = True) -> int:
    """First port of `count` consecutive free ports; the first is a multiple of `align`.

    The search starts at a random port (several pytest processes stay apart) and walks the
    whole range once, jumping past any port already handed out, so it finds a block
    whenever one exists however scattered the earlier ones are."""
    span = HIGH - LOW - count
    start = random.Random().randrange(span)
    with _lock:
        offset = 0
        while offset < span:
            base = LOW + (start + offset) % span
            base -= base % align
            block = range(base, base + count)
            clash = max((p for p in block if p in _taken), default=None)
            if clash is not None:
                offset += clash - base + 1
                continue
            # TCP matters for SIP listeners; RTP blocks only need UDP.
            busy = next((p for p in block if not _binds(p, tcp=tcp)), None)
            if busy is None:
                _taken.update(block)
                return base
            offset += busy - base + 1
    raise RuntimeError(f"no block of {count} free ports found in {LOW}-{HIGH}")


def release_block(base: int, count: int) -> None:
    """Hand a block back once its user is gone (the bind check still guards reuse).
    A session starts dozens of boxes with 200-port RTP ranges each; never giving them
    back fragments 10000-32000 until no 200-port block is left."""
    with _lock:
        _taken.difference_update(range(base, base + count))


def free_port() -> int:
    """A port free for both UDP and TCP."""
    return free_block(1)


def rtp_range(size: int = 200) -> tuple[int, int]:
    """An even-based range of `size` UDP ports (inclusive bounds), not shared with others."""
    base = free_block(size, align=2, tcp=False)
    return base, base + size - 1


def tcp_listening(port: int, host: str = "127.0.0.1") -> bool:
    """Whether some socket listens on TCP `port` on `host` or on the wildcard address."""
    return _in_socket_table("/proc/net/tcp", port, host, state="0A")  # 0A = LISTEN


def udp_bound(port: int, host: str = "127.0.0.1") -> bool:
    """Whether some socket is bound to UDP `port` on `host` or on the wildcard address."""
    return _in_socket_table("/proc/net/udp", port, host)


def _in_socket_table(table: str, port: int, host: str, state: str | None = None) -> bool:
    targets = {_hexaddr(host, port), _hexaddr("0.0.0.0", port)}
    try:
        lines = Path(table).read_text().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        listed = len(fields) > 3 and fields[1].upper() in targets
        if listed and (state is None or fields[3] == state):
            return True
    return False


def _hexaddr(host: str, port: int) -> str:
    packed = socket.inet_aton(host)
    return f"{int.from_bytes(packed, 'little'):08X}:{port:04X}"
