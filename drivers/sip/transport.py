"""asyncio adapter for SIP over UDP and TCP: bytes in, bytes out, nothing else.

Inbound datagrams and framed TCP messages go to one callback with their source
`Address`; replies over TCP reuse the connection the request came in on (RFC 3261 18.2.2),
and new TCP destinations are connected on demand.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import cast

from drivers.sip.addr import Address
from drivers.sip.message import Message
from drivers.sip.parser import SipParseError, StreamFramer

log = logging.getLogger(__name__)

OnData = Callable[[bytes, Address], None]

# A burst of call set-ups (a trunk after an outage, a campaign) can outrun the loop for a
# moment; the kernel default (~208 KiB, a few hundred INVITEs) then drops datagrams and
# the retransmissions that follow make the overload worse. 4 MiB rides out a few seconds.
UDP_RCVBUF = 4 * 1024 * 1024


def _grow_rcvbuf(sock: socket.socket, size: int) -> int:
    """Ask for `size`; as root past net.core.rmem_max (SO_RCVBUFFORCE). The size we got."""
    force = getattr(socket, "SO_RCVBUFFORCE", None)
    try:
        if force is None:
            raise PermissionError
        sock.setsockopt(socket.SOL_SOCKET, force, size)
    except OSError:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        except OSError as e:
            log.warning("cannot grow the SIP UDP receive buffer: %s", e)
    got = int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    if got < size:  # the kernel reports double what it grants
        log.warning("SIP UDP receive buffer is %d KiB (wanted %d KiB): raise "
                    "net.core.rmem_max", got // 2048, size // 1024)
    return got


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, on_data: OnData) -> None:
        self.on_data = on_data
        self.transport: asyncio.DatagramTransport | None = None
        self.rcvbuf = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's UDP transport does not inherit from asyncio.DatagramTransport
        self.transport = cast(asyncio.DatagramTransport, transport)
        # Stock asyncio reads datagrams with a 256 KiB buffer, costing an mmap per packet.
        if hasattr(transport, "max_size"):
            transport.max_size = 65536
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self.rcvbuf = _grow_rcvbuf(sock, UDP_RCVBUF)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if len(data) < 4 or data.strip(b"\r\n\x00") == b"":
            return  # NAT keep-alives
        self.on_data(data, Address("udp", addr[0], addr[1]))

    def error_received(self, exc: Exception) -> None:
        log.debug("UDP error: %s", exc)


class _Tcp(asyncio.Protocol):
    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer: Address | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        host, port = transport.get_extra_info("peername")[:2]
        self.peer = Address("tcp", str(host), int(port))
        self.owner._tcp[(self.peer.host, self.peer.port)] = self

    def data_received(self, data: bytes) -> None:
        assert self.peer is not None and self.transport is not None
        try:
            messages = self.framer.feed(data)
        except SipParseError as e:
            log.warning("closing TCP connection from %s: %s", self.peer, e.reason)
            self.transport.close()
            return
        for m in messages:
            self.owner.on_data(m, self.peer)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.peer is not None:
            self.owner._tcp.pop((self.peer.host, self.peer.port), None)


class SipTransport:
    def __init__(self, on_data: OnData) -> None:
        self.on_data = on_data
        self._udp: _Udp | None = None
        self._server: asyncio.base_events.Server | None = None
        self._tcp: dict[tuple[str, int], _Tcp] = {}
        self._connecting: dict[tuple[str, int], list[bytes]] = {}
        self.local_port = 0

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        _, proto = await loop.create_datagram_endpoint(
            lambda: _Udp(self.on_data), local_addr=(host, port)
        )
        self._udp = proto
        self._server = await loop.create_server(lambda: _Tcp(self), host, port, reuse_address=True)
        self.local_port = port

    async def stop(self) -> None:
        if self._udp and self._udp.transport:
            self._udp.transport.close()
        if self._server:
            self._server.close()
        for conn in list(self._tcp.values()):
            if conn.transport:
                conn.transport.close()
        if self._server:
            await self._server.wait_closed()

    def send(self, msg: Message, dest: Address) -> None:
        self.send_bytes(msg.serialize(), dest)

    def send_bytes(self, data: bytes, dest: Address) -> None:
        if dest.transport == "udp":
            if self._udp and self._udp.transport:
                self._udp.transport.sendto(data, (dest.host, dest.port))
            return
        key = (dest.host, dest.port)
        conn = self._tcp.get(key)
        if conn is not None and conn.transport is not None:
            conn.transport.write(data)
            return
        if key in self._connecting:
            self._connecting[key].append(data)
            return
        self._connecting[key] = [data]
        asyncio.get_running_loop().create_task(self._connect(key))

    async def _connect(self, key: tuple[str, int]) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.create_connection(lambda: _Tcp(self), key[0], key[1])
        except OSError as e:
            log.warning("cannot connect to %s:%s over TCP: %s", key[0], key[1], e)
            self._connecting.pop(key, None)
            return
        pending = self._connecting.pop(key, [])
        conn = self._tcp.get(key)
        if conn is not None and conn.transport is not None:
            for data in pending:
                conn.transport.write(data)

    @property
    def udp_rcvbuf(self) -> int:
        return self._udp.rcvbuf if self._udp is not None else 0

    def tcp_connections(self) -> int:
        return len(self._tcp)
