"""Free local ports for tests: single SIP/web ports, small blocks, and RTP ranges.

Everything is handed out from 10000-32000, below Linux's ephemeral range (32768-60999), so
a port we pick cannot be taken a moment later by some process's outgoing socket. A port is
only handed out if it binds right now (UDP and TCP), and never twice in one process.
Several pytest processes may run at once: random starting points keep them apart and the
bind check catches what randomness does not.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

LOW = 10000
HIGH = 32000

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
    """First port of `count` consecutive free ports; the first is a multiple of `align`."""
    rng = random.Random()
    with _lock:
        for _ in range(2000):
            base = rng.randrange(LOW, HIGH - count)
            base -= base % align
            block = range(base, base + count)
            if any(p in _taken for p in block):
                continue
            # TCP matters for SIP listeners; RTP blocks only need UDP.
            if all(_binds(p, tcp=tcp) for p in block):
                _taken.update(block)
                return base
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
