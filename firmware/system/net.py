"""Which address to tell phones and browsers to use."""

from __future__ import annotations

import socket

# TEST-NET-1 (RFC 5737): never routed, and a UDP connect() sends nothing; it only makes
# the kernel pick the source address of the default route.
_PROBE = ("192.0.2.1", 9)


def guess_advertise_host(bind_host: str = "0.0.0.0") -> str:
    """The box's address as seen from the LAN: the bound address if specific, else the
    source address of the default route, else loopback."""
    if bind_host not in ("", "0.0.0.0", "::"):
        return bind_host
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(_PROBE)
            addr: str = s.getsockname()[0]
            return addr
    except OSError:
        return "127.0.0.1"


def bind_problem(host: str, port: int, kind: socket.SocketKind) -> str | None:
    """Why a daemon could not bind (host, port), e.g. "Address already in use"; None if it
    could right now. Lets a launcher say so before starting anything."""
    with socket.socket(socket.AF_INET, kind) as s:
        if kind == socket.SOCK_STREAM:
            # Daemons set this too, so a port in TIME_WAIT from the last run is no problem.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def accepts_tcp(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
