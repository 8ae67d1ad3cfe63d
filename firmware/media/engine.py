"""The asyncio side of the media core: UDP sockets, the relay, and a 20 ms ticker.

`MediaEngine` hands out `RtpLeg`s (an RTP/RTCP socket pair each) and bridges two legs:
a packet arriving on one leg is accounted by that leg's `RtpSession` (latching,
stats, DTMF) and leaves through the other leg's socket towards its remote. The far
ends see the original stream (seq, timestamp, SSRC) with at most the payload type
byte rewritten, or the payload passed through one `bytes.translate` when the two legs
speak different G.711 laws.

The packet path is what limits calls per core (PEERS.md), so it does no logging, no
numpy, and builds nothing it does not send; everything else (recording to disk, RTCP)
runs on the ticker, spread over its 20 ms slots.

All times are `time.monotonic()` seconds; `MediaEngine.now()` gives the clock that a
`StereoRecorder`'s `start` must use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable

from firmware.media.codecs import Codec
from firmware.media.g711 import transcode_table
from firmware.media.leg import MediaLeg
from firmware.media.recorder import StereoRecorder
from firmware.media.session import RX_DROP, RX_DTMF, Address, RtpSession, RtpStats

log = logging.getLogger(__name__)

_monotonic = time.monotonic

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
# Directions as the remote negotiated them: may it send to us, may we send to it.
_REMOTE_SENDS = frozenset(("sendrecv", "sendonly"))
_REMOTE_RECEIVES = frozenset(("sendrecv", "recvonly"))

TICK = 0.02
# Each tick flushes the recorders whose index falls in its slot: every recorder once a
# second, never all in one tick (a bulk flush pushed p99 past 30 ms in PEERS.md).
RECORDER_SLOTS = 50
# RTCP every 5 s per leg (RFC 3550's minimum interval), likewise spread over the ticks.
RTCP_SLOTS = 250

# The stock loop's 256 KiB recvfrom costs an mmap per datagram; RTP never needs more.
DATAGRAM_MAX_SIZE = 2048
# DSCP EF, the class switches and routers give to voice.
_TOS_EF = 0xB8


class NoMediaPorts(RuntimeError):
    """Every RTP/RTCP port pair in the engine's range is taken or would not bind."""


class _RtpProtocol(asyncio.DatagramProtocol):
    def __init__(self, leg: RtpLeg) -> None:
        self._leg = leg

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._leg._rtp_in(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP unreachable from a phone that already hung up: nothing to do.
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        self._leg._transport_lost()


class _RtcpProtocol(asyncio.DatagramProtocol):
    def __init__(self, leg: RtpLeg) -> None:
        self._leg = leg

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._leg.session.receive_rtcp(data, addr, _monotonic(), time.time())

    def error_received(self, exc: Exception) -> None:
        pass

    def connection_lost(self, exc: Exception | None) -> None:
        self._leg._transport_lost()


class RtpLeg(MediaLeg):
    """One RTP endpoint of the box: an even RTP port and the RTCP port above it."""

    def __init__(self, engine: MediaEngine, loop: asyncio.AbstractEventLoop, port: int) -> None:
        self.local_host = engine.host
        self.local_port = port
        self.session = RtpSession()
        self.codec = None
        self.payload_type: int | None = None
        self.dtmf_pt: int | None = None
        self.direction = "sendrecv"
        self.on_dtmf = None
        self._engine = engine
        self._loop = loop
        self._rtp: asyncio.DatagramTransport | None = None
        self._rtcp: asyncio.DatagramTransport | None = None
        self._open_transports = 0
        self._closed = False
        self._bridge: MediaBridge | None = None
        # The relay plan, recomputed whenever codecs, directions or the bridge change.
        self._rx_open = True
        self._rec: StereoRecorder | None = None
        self._rec_channel = 0
        self._rec_codec = Codec.PCMU
        self._out_transport: asyncio.DatagramTransport | None = None
        self._out_session = self.session
        self._out_pt = -1  # -1: keep the payload type byte
        self._out_dtmf_pt = -1  # -1: the other leg takes no telephone-event
        self._xlate: bytes | None = None
        # Set by a bridge to a non-RTP leg (frame_bridge.FrameBridge): takes every audio
        # payload (payload, RTP timestamp, SSRC, arrival) instead of the RTP relay.
        self.audio_sink: Callable[[bytes, int, int, float], None] | None = None

    def __repr__(self) -> str:
        return f"<RtpLeg {self.local_host}:{self.local_port} {self.codec} {self.direction}>"

    # -- what the SIP driver and the switch call ------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def bridge(self) -> MediaBridge | None:
        return self._bridge

    @property
    def stats(self) -> RtpStats:
        return self.session.stats()

    def set_remote(self, host: str, port: int) -> None:
        """The media address from the remote's SDP (latching may override it)."""
        self.session.set_remote(host, port)

    def set_codec(self, codec: Codec, payload_type: int, dtmf_pt: int | None) -> None:
        """The negotiated codec, its payload type number, and telephone-event's (if any)."""
        self.codec = codec
        self.payload_type = payload_type
        self.dtmf_pt = dtmf_pt
        self.session.configure(payload_type, dtmf_pt)
        self._replan()

    def set_direction(self, direction: str) -> None:
        """What the remote may do as negotiated: sendrecv, sendonly, recvonly, inactive."""
        if direction not in DIRECTIONS:
            raise ValueError(f"unknown media direction {direction!r}")
        self.direction = direction
        self._replan()

    def send_audio(self, payload: bytes) -> None:
        """Send `payload` as the next packet of our own stream (audio not relayed from
        another RTP leg: an E1 B-channel's frames, later prompts)."""
        transport = self._rtp
        dst = self.session.remote_addr
        if transport is None or dst is None or self._closed or self.codec is None:
            return
        if self.direction not in _REMOTE_RECEIVES:
            return
        pt = self.codec.payload_type if self.payload_type is None else self.payload_type
        transport.sendto(self.session.next_packet(payload, pt), dst)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.audio_sink = None
        if self._bridge is not None:
            self._bridge.stop()
        self._rx_open = False
        self._out_transport = None
        self._rec = None
        # The ports go back to the pool when both sockets have really closed.
        for transport in (self._rtp, self._rtcp):
            if transport is not None:
                transport.close()
        self._rtp = self._rtcp = None
        self._engine._forget(self)

    # -- engine internals ---------------------------------------------------------

    def _attach(self, rtp: asyncio.DatagramTransport, rtcp: asyncio.DatagramTransport) -> None:
        self._rtp = rtp
        self._rtcp = rtcp
        self._open_transports = 2

    def _transport_lost(self) -> None:
        self._open_transports -= 1
        if self._open_transports == 0:
            self._engine._release_port(self.local_port)

    def _replan(self) -> None:
        if self._bridge is None:
            self._plan()
        else:
            self._bridge.a._plan()
            self._bridge.b._plan()

    def _plan(self) -> None:
        self._rx_open = not self._closed and self.direction in _REMOTE_SENDS
        self._rec = None
        self._out_transport = None
        self._out_pt = -1
        self._out_dtmf_pt = -1
        self._xlate = None
        bridge = self._bridge
        codec = self.codec
        if bridge is None or codec is None or self._closed:
            return
        first = bridge.a is self
        peer = bridge.b if first else bridge.a
        if bridge.recorder is not None:
            self._rec = bridge.recorder
            self._rec_channel = 0 if first else 1
            self._rec_codec = codec
        if peer.codec is None or peer._rtp is None or peer.direction not in _REMOTE_RECEIVES:
            return
        if peer.codec is not codec:
            self._xlate = transcode_table(codec, peer.codec)
            self._out_pt = (
                peer.codec.payload_type if peer.payload_type is None else peer.payload_type
            )
        elif peer.payload_type != self.payload_type and peer.payload_type is not None:
            self._out_pt = peer.payload_type
        if self.dtmf_pt is not None and peer.dtmf_pt is not None:
            self._out_dtmf_pt = peer.dtmf_pt
        self._out_session = peer.session
        self._out_transport = peer._rtp

    def _rtp_in(self, data: bytes, addr: Address) -> None:
        session = self.session
        now = _monotonic()
        kind = session.receive(data, addr, now)
        if kind == RX_DROP:
            return
        if not self._rx_open:
            # Negotiated not to send to us: counted and latched, otherwise ignored.
            if session.dtmf_events:
                session.dtmf_events.clear()
            return
        packet: bytes | bytearray
        if kind == RX_DTMF:
            if session.dtmf_events:
                self._report_dtmf()
            transport = self._out_transport
            out_pt = self._out_dtmf_pt
            if transport is None or out_pt < 0:
                return
            if data[1] & 0x7F == out_pt:
                packet = data
            else:
                packet = bytearray(data)
                packet[1] = (data[1] & 0x80) | out_pt
        else:
            rec = self._rec
            if rec is not None:
                rec.feed(
                    self._rec_channel,
                    self._rec_codec,
                    data[session.last_start : session.last_end],
                    session.last_ts,
                    session.last_ssrc,
                    now,
                )
            sink = self.audio_sink
            if sink is not None:
                sink(data[session.last_start : session.last_end], session.last_ts,
                     session.last_ssrc, now)
                return
            transport = self._out_transport
            if transport is None:
                return
            table = self._xlate
            if table is not None:
                start = session.last_start
                packet = bytearray(data[:start])
                packet[0] &= 0xDF  # padding is not carried over into the new payload
                packet[1] = (data[1] & 0x80) | self._out_pt
                packet += data[start : session.last_end].translate(table)
            elif self._out_pt >= 0:
                packet = bytearray(data)
                packet[1] = (data[1] & 0x80) | self._out_pt
            else:
                packet = data
        out = self._out_session
        dst = out.remote_addr
        if dst is None:
            return
        out.packets_sent += 1
        out.bytes_sent += session.last_end - session.last_start
        transport.sendto(packet, dst)

    def _report_dtmf(self) -> None:
        # Delivered from the loop, not from inside the packet path: the switch may
        # react by tearing down this very bridge.
        for event in self.session.dtmf_events:
            self._loop.call_soon(self._deliver_dtmf, event.digit)
        self.session.dtmf_events.clear()

    def _deliver_dtmf(self, digit: str) -> None:
        callback = self.on_dtmf
        if callback is not None and not self._closed:
            callback(digit)

    def _send_rtcp(self, now: float, wallclock: float) -> None:
        transport = self._rtcp
        dst = self.session.rtcp_remote
        if transport is not None and dst is not None:
            transport.sendto(self.session.build_rtcp(now, wallclock), dst)


class MediaBridge:
    """Two legs relaying to each other, optionally recorded (a left, b right)."""

    def __init__(
        self, engine: MediaEngine, a: RtpLeg, b: RtpLeg, recorder: StereoRecorder | None
    ) -> None:
        self.a = a
        self.b = b
        self.recorder = recorder
        self._engine = engine
        self._active = True

    @property
    def active(self) -> bool:
        return self._active

    def stop(self) -> None:
        """Unbridge; both legs stay open. The recorder is the caller's to close."""
        if not self._active:
            return
        self._active = False
        self.a._bridge = None
        self.b._bridge = None
        self.a._plan()
        self.b._plan()
        self._engine._bridge_stopped(self)


class MediaEngine:
    def __init__(self, host: str, port_min: int, port_max: int) -> None:
        if not 0 < port_min < port_max <= 65535:
            raise ValueError(f"bad media port range {port_min}-{port_max}")
        self.host = host
        self.port_min = port_min
        self.port_max = port_max
        self._family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # RTP on even ports with RTCP on the odd port above, both inside the range.
        self._ports = list(range(port_min + (port_min & 1), port_max, 2))
        self._next = 0
        self._in_use: set[int] = set()
        self._legs: list[RtpLeg] = []
        self._bridges: set[MediaBridge] = set()
        self._recorders: list[StereoRecorder] = []
        # Called every tick with the engine's clock (mixing bridges, bridge.py).
        self._tickers: list[Callable[[float], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None

    @staticmethod
    def now() -> float:
        """The engine's clock: what `StereoRecorder(start=...)` and `close(now)` take."""
        return _monotonic()

    @property
    def legs(self) -> tuple[RtpLeg, ...]:
        return tuple(self._legs)

    @property
    def port_pairs(self) -> int:
        return len(self._ports)

    def status(self) -> dict[str, int]:
        """Counters for the daemon's status command."""
        return {
            "legs": len(self._legs),
            "bridges": len(self._bridges),
            "recording": len(self._recorders),
            "port_pairs": len(self._ports),
            "port_pairs_free": len(self._ports) - len(self._in_use),
        }

    async def start(self) -> None:
        if self._ticker is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._ticker = self._loop.create_task(self._tick_forever(), name="media-ticker")

    async def stop(self) -> None:
        """Stop the ticker and close every leg. Recorders stay with their owners."""
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        for bridge in list(self._bridges):
            bridge.stop()
        for leg in list(self._legs):
            leg.close()

    async def allocate(self) -> RtpLeg:
        """Bind the next free RTP/RTCP port pair, round-robin over the range."""
        loop = self._loop
        if loop is None or self._ticker is None:
            raise RuntimeError("MediaEngine.start() first")
        count = len(self._ports)
        for _ in range(count):
            port = self._ports[self._next]
            self._next = (self._next + 1) % count
            if port in self._in_use:
                continue
            socks = self._bind_pair(port)
            if socks is None:
                continue
            self._in_use.add(port)
            try:
                return await self._open_leg(loop, port, *socks)
            except BaseException:
                self._in_use.discard(port)
                raise
        raise NoMediaPorts(
            f"no free RTP port pair in {self.port_min}-{self.port_max} on {self.host}"
        )

    def bridge(self, a: RtpLeg, b: RtpLeg, recorder: StereoRecorder | None = None) -> MediaBridge:
        """Relay a<->b; record a as the left channel and b as the right one."""
        if a is b:
            raise ValueError("cannot bridge a leg to itself")
        for leg in (a, b):
            if leg._engine is not self or leg.closed:
                raise ValueError(f"{leg!r} is closed or not from this engine")
            if leg.bridge is not None:
                raise ValueError(f"{leg!r} is already bridged")
        bridge = MediaBridge(self, a, b, recorder)
        a._bridge = bridge
        b._bridge = bridge
        self._bridges.add(bridge)
        if recorder is not None and recorder not in self._recorders:
            self._recorders.append(recorder)
        a._plan()
        b._plan()
        return bridge

    def add_ticker(self, fn: Callable[[float], None]) -> None:
        """Call `fn(now)` every 20 ms tick (a mixing bridge's clock)."""
        if fn not in self._tickers:
            self._tickers.append(fn)

    def remove_ticker(self, fn: Callable[[float], None]) -> None:
        with contextlib.suppress(ValueError):
            self._tickers.remove(fn)

    def track_recorder(self, recorder: StereoRecorder) -> None:
        """Flush `recorder` on the ticker although no relay bridge feeds it (a mixing
        bridge does)."""
        if recorder not in self._recorders:
            self._recorders.append(recorder)

    def untrack_recorder(self, recorder: StereoRecorder) -> None:
        if not any(b.recorder is recorder for b in self._bridges):
            with contextlib.suppress(ValueError):
                self._recorders.remove(recorder)

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    # -- internals ------------------------------------------------------------------

    def _bind(self, port: int) -> socket.socket:
        sock = socket.socket(self._family, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            if self._family == socket.AF_INET:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, _TOS_EF)
            sock.bind((self.host, port))
        except BaseException:
            sock.close()
            raise
        return sock

    def _bind_pair(self, port: int) -> tuple[socket.socket, socket.socket] | None:
        try:
            rtp = self._bind(port)
        except OSError:
            return None
        try:
            rtcp = self._bind(port + 1)
        except OSError:
            rtp.close()
            return None
        return rtp, rtcp

    async def _open_leg(
        self,
        loop: asyncio.AbstractEventLoop,
        port: int,
        rtp_sock: socket.socket,
        rtcp_sock: socket.socket,
    ) -> RtpLeg:
        leg = RtpLeg(self, loop, port)
        rtp: asyncio.DatagramTransport | None = None
        try:
            rtp, _ = await loop.create_datagram_endpoint(lambda: _RtpProtocol(leg), sock=rtp_sock)
            rtcp, _ = await loop.create_datagram_endpoint(
                lambda: _RtcpProtocol(leg), sock=rtcp_sock
            )
        except BaseException:
            if rtp is not None:
                rtp.close()
            else:
                rtp_sock.close()
            rtcp_sock.close()
            raise
        for transport in (rtp, rtcp):
            # Only the stock loop's transports have it; uvloop reads into its own buffer.
            if hasattr(transport, "max_size"):
                setattr(transport, "max_size", DATAGRAM_MAX_SIZE)  # noqa: B010
        leg._attach(rtp, rtcp)
        self._legs.append(leg)
        return leg

    def _forget(self, leg: RtpLeg) -> None:
        with contextlib.suppress(ValueError):
            self._legs.remove(leg)

    def _release_port(self, port: int) -> None:
        self._in_use.discard(port)

    def _bridge_stopped(self, bridge: MediaBridge) -> None:
        self._bridges.discard(bridge)
        recorder = bridge.recorder
        if recorder is not None and not any(b.recorder is recorder for b in self._bridges):
            with contextlib.suppress(ValueError):
                self._recorders.remove(recorder)

    async def _tick_forever(self) -> None:
        tick = 0
        due = _monotonic()
        while True:
            due += TICK
            delay = due - _monotonic()
            if delay < -5 * TICK:
                # Far behind (suspended, overloaded): skip the backlog, do not burst.
                due = _monotonic()
                delay = 0.0
            await asyncio.sleep(max(delay, 0.0))
            self._tick(tick)
            tick += 1

    def _tick(self, tick: int) -> None:
        now = _monotonic()
        for fn in list(self._tickers):
            try:
                fn(now)
            except Exception:
                # one broken bridge must not stop the clock of all the others
                log.exception("media ticker %r failed", fn)
                self.remove_ticker(fn)
        recorders = self._recorders
        if recorders:
            for recorder in recorders[tick % RECORDER_SLOTS :: RECORDER_SLOTS]:
                try:
                    recorder.flush(now)
                except OSError:
                    # Disk full or gone: the call goes on unrecorded rather than dropped.
                    log.exception("recording to %s failed; no longer recording", recorder.path)
                    self._recorders.remove(recorder)
                    self._stop_recording(recorder)
        legs = self._legs
        if legs:
            wallclock = time.time()
            for leg in legs[tick % RTCP_SLOTS :: RTCP_SLOTS]:
                leg._send_rtcp(now, wallclock)

    def _stop_recording(self, recorder: StereoRecorder) -> None:
        for bridge in self._bridges:
            if bridge.recorder is recorder:
                bridge.recorder = None
                bridge.a._plan()
                bridge.b._plan()
