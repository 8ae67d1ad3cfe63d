"""The media engine over real UDP sockets on 127.0.0.1, on stock asyncio and uvloop."""

import asyncio
import itertools
import socket
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvloop

from firmware.media import g711
from firmware.media.codecs import Codec
from firmware.media.engine import MediaEngine, NoMediaPorts, RtpLeg
from firmware.media.recorder import StereoRecorder
from firmware.media.rtcp import RR, parse_rtcp
from firmware.media.rtp import RtpPacket, build_rtp, parse_rtp, parse_telephone_event
from firmware.media.session import RtpSession

HOST = "127.0.0.1"
LOOPS = ["asyncio", "uvloop"]
# Each test gets its own slice of ports so a slow close elsewhere cannot interfere.
_ranges = itertools.count(41000, 40)


def run(loop_kind: str, main: Callable[[], Awaitable[None]]) -> None:
    factory = uvloop.new_event_loop if loop_kind == "uvloop" else asyncio.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(asyncio.wait_for(main(), 10))


class Phone(asyncio.DatagramProtocol):
    """A plain UDP endpoint standing in for an IP phone."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.inbox.put_nowait(data)

    def send(self, data: bytes, leg: RtpLeg) -> None:
        assert self.transport is not None
        self.transport.sendto(data, (HOST, leg.local_port))

    async def expect(self, count: int, timeout: float = 2.0) -> list[RtpPacket]:
        out = []
        for _ in range(count):
            packet = parse_rtp(await asyncio.wait_for(self.inbox.get(), timeout))
            assert packet is not None
            out.append(packet)
        return out

    async def silent(self, wait: float = 0.15) -> bool:
        await asyncio.sleep(wait)
        return self.inbox.empty()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def phone(port: int = 0) -> Phone:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(Phone, local_addr=(HOST, port))
    protocol.transport = transport
    protocol.port = transport.get_extra_info("sockname")[1]
    return protocol


async def engine_with(pairs: int = 8) -> MediaEngine:
    first = next(_ranges)
    engine = MediaEngine(HOST, first, first + 2 * pairs - 1)
    await engine.start()
    return engine


async def call(
    engine: MediaEngine,
    codec_a: Codec = Codec.PCMU,
    codec_b: Codec = Codec.PCMU,
    recorder: StereoRecorder | None = None,
) -> tuple[Phone, RtpLeg, Phone, RtpLeg]:
    """Two phones, each with its leg, the legs bridged, SDP addresses exact."""
    pa, pb = await phone(), await phone()
    a, b = await engine.allocate(), await engine.allocate()
    a.set_codec(codec_a, codec_a.payload_type, 101)
    b.set_codec(codec_b, codec_b.payload_type, 101)
    a.set_remote(HOST, pa.port)
    b.set_remote(HOST, pb.port)
    engine.bridge(a, b, recorder)
    return pa, a, pb, b


def voice(i: int, length: int = 160) -> bytes:
    return bytes((i * 7 + k) & 0xFF for k in range(length))


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_same_codec_relays_untouched(loop_kind: str) -> None:
    async def main() -> None:
        engine = await engine_with()
        pa, a, pb, b = await call(engine)
        sent_ab = [build_rtp(0, 100 + i, 1000 + 160 * i, 0xAAAA, voice(i)) for i in range(5)]
        sent_ba = [build_rtp(0, 7 + i, 50 + 160 * i, 0xBBBB, voice(i + 50)) for i in range(5)]
        for x, y in zip(sent_ab, sent_ba, strict=True):
            pa.send(x, a)
            pb.send(y, b)
        got_b = await pb.expect(5)
        got_a = await pa.expect(5)
        # Byte for byte: the far end sees the sender's own stream.
        assert sorted(p.seq for p in got_b) == list(range(100, 105))
        assert {(p.ssrc, p.payload_type) for p in got_b} == {(0xAAAA, 0)}
        for packet in got_b:
            assert (
                build_rtp(0, packet.seq, packet.timestamp, packet.ssrc, packet.payload) in sent_ab
            )
        for packet in got_a:
            assert (
                build_rtp(0, packet.seq, packet.timestamp, packet.ssrc, packet.payload) in sent_ba
            )
        assert a.stats.packets_received == 5 and b.stats.packets_sent == 5
        assert a.stats.lost == 0
        await engine.stop()
        pa.close()
        pb.close()

    run(loop_kind, main)


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_pcmu_pcma_are_translated(loop_kind: str) -> None:
    async def main() -> None:
        engine = await engine_with()
        pa, a, pb, b = await call(engine, Codec.PCMU, Codec.PCMA)
        ulaw = bytes(range(256))[:160]
        alaw = bytes(range(96, 256))
        pa.send(build_rtp(0, 1, 160, 1, ulaw, marker=True), a)
        (to_b,) = await pb.expect(1)
        assert to_b.payload_type == 8 and to_b.marker
        assert to_b.payload == ulaw.translate(g711.transcode_table(Codec.PCMU, Codec.PCMA))
        pb.send(build_rtp(8, 1, 160, 2, alaw), b)
        (to_a,) = await pa.expect(1)
        assert to_a.payload_type == 0 and not to_a.marker
        assert to_a.payload == alaw.translate(g711.transcode_table(Codec.PCMA, Codec.PCMU))
        await engine.stop()

    run(loop_kind, main)


def test_payload_type_numbers_are_mapped() -> None:
    async def main() -> None:
        engine = await engine_with()
        pa, pb = await phone(), await phone()
        a, b = await engine.allocate(), await engine.allocate()
        a.set_codec(Codec.PCMU, 0, 101)
        b.set_codec(Codec.PCMU, 96, 97)  # odd but legal dynamic numbers
        a.set_remote(HOST, pa.port)
        b.set_remote(HOST, pb.port)
        engine.bridge(a, b)
        pa.send(build_rtp(0, 1, 160, 1, voice(1)), a)
        (packet,) = await pb.expect(1)
        assert packet.payload_type == 96 and packet.payload == voice(1)
        pb.send(build_rtp(97, 1, 160, 2, bytes([5, 0x80 | 10, 0, 160])), b)
        (packet,) = await pa.expect(1)
        assert packet.payload_type == 101
        await engine.stop()

    run("asyncio", main)


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_latching_to_the_actual_source_port(loop_kind: str) -> None:
    async def main() -> None:
        engine = await engine_with()
        pa, pb = await phone(), await phone()
        a, b = await engine.allocate(), await engine.allocate()
        for leg in (a, b):
            leg.set_codec(Codec.PCMA, 8, None)
        # The SDP names a port nobody listens on: the phone is behind a NAT.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((HOST, 0))
            wrong = s.getsockname()[1]
        a.set_remote(HOST, wrong)
        b.set_remote(HOST, pb.port)
        engine.bridge(a, b)
        pb.send(build_rtp(8, 1, 160, 2, voice(1)), b)
        assert await pa.silent()  # nothing from A yet: nowhere to send but the SDP port
        pa.send(build_rtp(8, 1, 160, 1, voice(2)), a)
        await pb.expect(1)
        pb.send(build_rtp(8, 2, 320, 2, voice(3)), b)
        (packet,) = await pa.expect(1)
        assert packet.payload == voice(3)
        assert a.stats.latched and a.stats.remote == (HOST, pa.port)
        await engine.stop()

    run(loop_kind, main)


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_dtmf_reported_once_and_relayed(loop_kind: str) -> None:
    async def main() -> None:
        engine = await engine_with()
        pa, a, pb, _ = await call(engine)
        heard: list[str] = []
        a.on_dtmf = heard.append
        keypad = RtpSession()
        keypad.configure(0, 101)
        packets = [p for digit in "1#" for p in keypad.dtmf_packets(digit, 100)]
        for packet in packets:
            pa.send(packet, a)
        relayed = await pb.expect(len(packets))
        await asyncio.sleep(0.05)
        assert heard == ["1", "#"]
        events = [parse_telephone_event(p.payload) for p in relayed]
        assert {e.event for e in events if e} == {1, 11}
        assert all(p.payload_type == 101 for p in relayed)
        await engine.stop()

    run(loop_kind, main)


def test_dtmf_dropped_towards_a_leg_without_telephone_event() -> None:
    async def main() -> None:
        engine = await engine_with()
        pa, a, pb, b = await call(engine)
        b.set_codec(Codec.PCMU, 0, None)
        heard: list[str] = []
        a.on_dtmf = heard.append
        keypad = RtpSession()
        for packet in keypad.dtmf_packets("9", 60):
            pa.send(packet, a)
        assert await pb.silent()
        assert heard == ["9"]
        await engine.stop()

    run("asyncio", main)


def test_unbridged_leg_reports_dtmf_and_forwards_nothing() -> None:
    async def main() -> None:
        engine = await engine_with()
        pa, a, pb, b = await call(engine)
        bridge = a.bridge
        assert bridge is not None
        bridge.stop()
        assert a.bridge is None and not a.closed and not b.closed
        heard: list[str] = []
        a.on_dtmf = heard.append
        for packet in RtpSession().dtmf_packets("4", 60):
            pa.send(packet, a)
        pa.send(build_rtp(0, 1, 1, 1, voice(0)), a)
        assert await pb.silent()
        assert heard == ["4"]
        assert a.stats.packets_received == 6
        # And the legs can be bridged again.
        engine.bridge(b, a)
        pa.send(build_rtp(0, 2, 161, 1, voice(1)), a)
        await pb.expect(1)
        await engine.stop()

    run("asyncio", main)


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_directions(loop_kind: str) -> None:
    async def main() -> None:
        engine = await engine_with()
        pa, a, pb, b = await call(engine)
        seq = itertools.count(1)

        async def exchange(a_hears: bool, b_hears: bool) -> None:
            """Both phones talk; check who hears whom."""
            n = next(seq)
            pa.send(build_rtp(0, n, n * 160, 1, voice(n)), a)
            pb.send(build_rtp(0, n, n * 160, 2, voice(n)), b)
            for listener, hears in ((pa, a_hears), (pb, b_hears)):
                if hears:
                    (packet,) = await listener.expect(1)
                    assert packet.seq == n
            assert await pa.silent() and await pb.silent(0.0)

        await exchange(True, True)
        b.set_direction("sendonly")  # B said sendonly: it talks, we must not send to it
        await exchange(True, False)
        b.set_direction("recvonly")  # B only listens: what it sends is ignored
        await exchange(False, True)
        b.set_direction("inactive")
        await exchange(False, False)
        a.set_direction("inactive")
        b.set_direction("sendrecv")
        await exchange(False, False)
        a.set_direction("sendrecv")
        await exchange(True, True)
        with pytest.raises(ValueError):
            a.set_direction("sideways")
        await engine.stop()

    run(loop_kind, main)


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_recording_left_and_right(loop_kind: str, tmp_path: Path) -> None:
    async def main() -> None:
        engine = await engine_with()
        recorder = StereoRecorder(tmp_path / "rec" / "call.wav", engine.now())
        pa, a, pb, b = await call(engine, Codec.PCMU, Codec.PCMA, recorder)
        t = np.arange(160 * 15) / 8000
        loud = (8000 * np.sin(2 * np.pi * 500 * t)).astype(np.int16)
        # 0.3 s of the caller, 0.2 s of nobody, 0.3 s of the callee.
        for i in range(15):
            pa.send(build_rtp(0, i, i * 160, 1, g711.encode(Codec.PCMU, loud[i * 160 :][:160])), a)
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        for i in range(15):
            pb.send(build_rtp(8, i, i * 160, 2, g711.encode(Codec.PCMA, loud[i * 160 :][:160])), b)
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.05)
        await engine.stop()
        seconds = recorder.close(engine.now())
        assert 0.75 < seconds < 1.5
        with wave.open(str(tmp_path / "rec" / "call.wav")) as w:
            assert w.getnchannels() == 2
            audio = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
        energy = np.sqrt(np.mean(audio.astype(np.float64) ** 2, axis=0))
        assert energy[0] > 1000 and energy[1] > 1000
        left = np.flatnonzero(np.abs(audio[:, 0]) > 1000)
        right = np.flatnonzero(np.abs(audio[:, 1]) > 1000)
        # The caller comes first, left only; the callee after the pause, right only.
        assert left[-1] < right[0]
        assert (right[0] - left[-1]) / 8000 > 0.15
        assert abs((left[-1] - left[0]) / 8000 - 0.3) < 0.05
        assert abs((right[-1] - right[0]) / 8000 - 0.3) < 0.05

    run(loop_kind, main)


def test_rtcp_reports_to_the_remote() -> None:
    async def main() -> None:
        engine = await engine_with()
        # A phone with its RTCP socket on the port above its RTP one.
        for _ in range(20):
            pa = await phone()
            try:
                rtcp_phone = await phone(pa.port + 1)
                break
            except OSError:
                pa.close()
        else:
            pytest.fail("no adjacent port pair free")
        pb = await phone()
        a, b = await engine.allocate(), await engine.allocate()
        for leg, ph in ((a, pa), (b, pb)):
            leg.set_codec(Codec.PCMU, 0, 101)
            leg.set_remote(HOST, ph.port)
        engine.bridge(a, b)
        for i in range(3):
            pa.send(build_rtp(0, i, i * 160, 0x1234, voice(i)), a)
        await pb.expect(3)
        engine._tick(engine.legs.index(a))  # the slot that reports for leg a
        packets = parse_rtcp(await asyncio.wait_for(rtcp_phone.inbox.get(), 2))
        assert packets is not None and packets[0].packet_type == RR
        assert packets[0].reports[0].ssrc == 0x1234
        assert packets[0].reports[0].highest_seq == 2
        # The phone's own report is taken for stats.
        assert rtcp_phone.transport is not None
        rtcp_phone.transport.sendto(RtpSession().build_rtcp(0.0, 0.0), (HOST, a.local_port + 1))
        await asyncio.sleep(0.05)
        assert a.stats.rtcp_received == 1
        await engine.stop()

    run("asyncio", main)


@pytest.mark.parametrize("loop_kind", LOOPS)
def test_port_exhaustion_and_release(loop_kind: str) -> None:
    async def main() -> None:
        engine = await engine_with(pairs=2)
        legs = [await engine.allocate(), await engine.allocate()]
        assert sorted(leg.local_port % 2 for leg in legs) == [0, 0]
        assert legs[1].local_port == legs[0].local_port + 2
        with pytest.raises(NoMediaPorts):
            await engine.allocate()
        port = legs[0].local_port
        legs[0].close()
        legs[0].close()  # twice is fine
        await asyncio.sleep(0.05)
        again = await engine.allocate()
        assert again.local_port == port
        # The freed sockets are really gone: the RTCP port is bindable by others.
        again.close()
        await asyncio.sleep(0.05)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((HOST, port + 1))
        await engine.stop()

    run(loop_kind, main)


def test_busy_ports_are_skipped() -> None:
    async def main() -> None:
        engine = await engine_with(pairs=3)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
            squatter.bind((HOST, engine.port_min + 1))  # someone holds the first RTCP port
            leg = await engine.allocate()
            assert leg.local_port == engine.port_min + 2
        await engine.stop()

    run("asyncio", main)


def test_stock_loop_reads_small() -> None:
    async def main() -> None:
        engine = await engine_with()
        leg = await engine.allocate()
        assert leg._rtp is not None and getattr(leg._rtp, "max_size", None) == 2048
        await engine.stop()

    run("asyncio", main)


def test_bridge_misuse() -> None:
    async def main() -> None:
        engine = await engine_with()
        a, b, c = await engine.allocate(), await engine.allocate(), await engine.allocate()
        with pytest.raises(ValueError):
            engine.bridge(a, a)
        engine.bridge(a, b)
        with pytest.raises(ValueError):
            engine.bridge(a, c)
        c.close()
        with pytest.raises(ValueError):
            engine.bridge(b, c)
        # Closing one side unbridges the other, which stays usable.
        a.close()
        assert b.bridge is None and not b.closed
        assert engine.status() == {
            "legs": 1,
            "bridges": 0,
            "recording": 0,
            "port_pairs": 8,
            "port_pairs_free": 5,  # closed sockets free their ports when the loop turns
        }
        await engine.stop()
        assert b.closed and engine.legs == ()
        await asyncio.sleep(0.05)
        assert engine.status()["port_pairs_free"] == 8

    run("asyncio", main)


def test_allocate_before_start() -> None:
    async def main() -> None:
        engine = MediaEngine(HOST, 45000, 45010)
        with pytest.raises(RuntimeError):
            await engine.allocate()

    run("asyncio", main)
