"""`Bridge` on real loopback RTP legs: relay for two, mixing for three (each hears the
other two, not itself), back to relay, hold with music, and one recording throughout."""

from __future__ import annotations

import asyncio
import itertools
import wave
from pathlib import Path
from typing import Any

import numpy as np

from firmware.media import g711
from firmware.media.bridge import Bridge
from firmware.media.codecs import Codec
from firmware.media.engine import MediaEngine, RtpLeg
from firmware.media.mixer import Role
from firmware.media.prompt_gen import moh_pcm, write_wav
from firmware.media.recorder import StereoRecorder
from firmware.media.rtp import build_rtp, parse_rtp

HOST = "127.0.0.1"
_ranges = itertools.count(44000, 20)


class Phone(asyncio.DatagramProtocol):
    """A far end that sends a tone every 20 ms and keeps what it hears."""

    def __init__(self, freq: float) -> None:
        self.freq = freq
        self.heard: list[tuple[float, bytes]] = []
        self.transport: Any = None
        self.seq = 0
        self.ssrc = int(freq)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        pkt = parse_rtp(data)
        if pkt is not None and pkt.payload_type == 8:
            self.heard.append((asyncio.get_running_loop().time(), pkt.payload))

    def send(self, dest: tuple[str, int]) -> None:
        t = (np.arange(160) + self.seq * 160) / 8000
        pcm = (3000 * np.sin(2 * np.pi * self.freq * t)).astype(np.int16)
        self.transport.sendto(build_rtp(8, self.seq, self.seq * 160, self.ssrc,
                                        g711.encode(Codec.PCMA, pcm)), dest)
        self.seq += 1

    def level(self, freq: float, since: float) -> float:
        pcm = np.concatenate([g711.decode(Codec.PCMA, p) for t, p in self.heard
                              if t >= since] or [np.zeros(1, np.int16)]).astype(float)
        tt = np.arange(len(pcm)) / 8000
        return float(2 * abs(np.sum(pcm * np.exp(-2j * np.pi * freq * tt))) / max(1, len(pcm)))


def test_relay_mix_relay_hold_and_one_recording(tmp_path: Path) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        first = next(_ranges)
        engine = MediaEngine(HOST, first, first + 19)
        await engine.start()
        phones: list[Phone] = []
        legs: list[RtpLeg] = []
        for freq in (500.0, 1100.0, 1700.0):
            transport, phone = await loop.create_datagram_endpoint(
                lambda f=freq: Phone(f), local_addr=(HOST, 0))  # type: ignore[misc]
            phone.transport = transport
            leg = await engine.allocate()
            leg.set_codec(Codec.PCMA, 8, None)
            leg.set_remote(HOST, transport.get_extra_info("sockname")[1])
            phones.append(phone)
            legs.append(leg)
        moh = tmp_path / "moh.wav"
        write_wav(moh, moh_pcm())
        rec = StereoRecorder(tmp_path / "call.wav", MediaEngine.now())
        bridge = Bridge(engine, rec, legs[0], moh=moh)
        bridge.add_many(legs[:2])

        async def talk(seconds: float, who: list[int]) -> float:
            start = loop.time()
            for _ in range(int(seconds / 0.02)):
                for i in who:
                    phones[i].send((HOST, legs[i].local_port))
                await asyncio.sleep(0.02)
            return start

        assert bridge.mode == "relay"
        t0 = await talk(0.6, [0, 1])
        assert phones[1].level(500.0, t0) > 1500 and phones[0].level(1100.0, t0) > 1500

        bridge.add(legs[2], Role.PARTY)
        assert bridge.mode == "mix"
        t1 = await talk(1.0, [0, 1, 2])
        t1 += 0.2  # past the jitter buffer's priming
        for i, phone in enumerate(phones):
            for j, other in enumerate(phones):
                amp = phone.level(other.freq, t1)
                if i == j:
                    assert amp < 100, f"phone {i} hears itself ({amp:.0f})"
                else:
                    assert amp > 800, f"phone {i} does not hear {j} ({amp:.0f})"

        bridge.remove(legs[2])
        assert bridge.mode == "relay"
        t2 = await talk(0.5, [0, 1])
        assert phones[0].level(1100.0, t2) > 1500

        bridge.hold(legs[0], True)  # the caller hears music on hold
        t3 = await talk(0.8, [0, 1])
        held = [p for t, p in phones[0].heard if t >= t3]
        rms = np.sqrt(np.mean(g711.decode(Codec.PCMA, b"".join(held)).astype(float) ** 2))
        assert len(held) > 20 and rms > 200, f"no music on hold ({len(held)} pkts, {rms:.0f})"
        assert phones[0].level(1100.0, t3 + 0.1) < 200, "nor the agent while held"
        bridge.hold(legs[0], False)
        await talk(0.4, [0, 1])
        bridge.stop()
        seconds = rec.close(MediaEngine.now())
        await engine.stop()

        with wave.open(str(tmp_path / "call.wav")) as w:
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
        assert seconds > 3.0
        # the caller's channel has the caller's tone in each stretch (relay, mix, relay)
        hold = pcm[int(2.3 * 8000):int(2.8 * 8000), 0].astype(float)
        assert np.sqrt(np.mean(hold**2)) > 1000, "the caller on hold is still recorded"
        for start, end in ((0.1, 0.5), (0.9, 1.5), (1.8, 2.0)):
            seg = pcm[int(start * 8000):int(end * 8000), 0].astype(float)
            assert np.sqrt(np.mean(seg**2)) > 1000, f"left silent at {start}-{end}s"
            right = pcm[int(start * 8000):int(end * 8000), 1].astype(float)
            assert np.sqrt(np.mean(right**2)) > 1000, f"right silent at {start}-{end}s"

    asyncio.run(main())


def test_a_line_and_two_phones_mix(tmp_path: Path) -> None:
    """An E1/FXO line (frames on a socketpair) in a 3-party mix with two RTP phones."""
    import socket

    from firmware.media.frame_leg import FrameLeg

    async def main() -> None:
        loop = asyncio.get_running_loop()
        first = next(_ranges)
        engine = MediaEngine(HOST, first, first + 19)
        await engine.start()
        phones, legs = [], []
        for freq in (700.0, 1300.0):
            transport, phone = await loop.create_datagram_endpoint(
                lambda f=freq: Phone(f), local_addr=(HOST, 0))  # type: ignore[misc]
            phone.transport = transport
            leg = await engine.allocate()
            leg.set_codec(Codec.PCMA, 8, None)
            leg.set_remote(HOST, transport.get_extra_info("sockname")[1])
            phones.append(phone)
            legs.append(leg)
        box_end, far_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        far_end.setblocking(False)
        line = FrameLeg(box_end.fileno(), Codec.PCMA, owns_fd=False)
        line.start()
        bridge = Bridge(engine)
        bridge.add_many([line, *legs])
        assert bridge.mode == "mix"
        got: list[bytes] = []
        start = loop.time()
        for n in range(75):
            t = (np.arange(160) + n * 160) / 8000
            far_end.send(g711.encode(Codec.PCMA, (3000 * np.sin(2 * np.pi * 2000 * t))
                                     .astype(np.int16)))
            for i, phone in enumerate(phones):
                phone.send((HOST, legs[i].local_port))
            await asyncio.sleep(0.02)
            try:
                while True:
                    got.append(far_end.recv(2048))
            except BlockingIOError:
                pass
        pcm = g711.decode(Codec.PCMA, b"".join(got[15:])).astype(float)
        tt = np.arange(len(pcm)) / 8000

        def amp(f: float) -> float:
            return float(2 * abs(np.sum(pcm * np.exp(-2j * np.pi * f * tt))) / len(pcm))

        assert amp(700.0) > 800 and amp(1300.0) > 800, "the line hears both phones"
        assert amp(2000.0) < 100, "and not itself"
        for phone in phones:
            assert phone.level(2000.0, start + 0.4) > 800, "each phone hears the line"
        bridge.stop()
        line.close()
        far_end.close()
        box_end.close()
        await engine.stop()

    asyncio.run(main())
