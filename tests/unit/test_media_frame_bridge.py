"""`FrameBridge`: an E1 B-channel (a `FrameLeg` on a socketpair) and an RTP leg on real
UDP sockets, with the law translated between them and both sides recorded."""

from __future__ import annotations

import asyncio
import itertools
import socket
import wave
from pathlib import Path
from typing import Any

import numpy as np
import uvloop

from firmware.media import g711
from firmware.media.codecs import Codec
from firmware.media.engine import MediaEngine
from firmware.media.frame_bridge import FrameBridge
from firmware.media.frame_leg import FrameLeg
from firmware.media.recorder import StereoRecorder
from firmware.media.rtp import build_rtp, parse_rtp

HOST = "127.0.0.1"
_ranges = itertools.count(43000, 20)


class Phone(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.inbox.put_nowait(data)


def sine(freq: float, n: int = 160, level: float = 8000.0, start: int = 0) -> np.ndarray:
    t = (np.arange(n) + start) / 8000
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def test_line_and_phone_hear_each_other_in_their_own_law(tmp_path: Path) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        first = next(_ranges)
        engine = MediaEngine(HOST, first, first + 9)
        await engine.start()
        transport, phone = await loop.create_datagram_endpoint(Phone, local_addr=(HOST, 0))
        phone_port = transport.get_extra_info("sockname")[1]
        leg = await engine.allocate()
        leg.set_codec(Codec.PCMU, 0, 101)
        leg.set_remote(HOST, phone_port)
        box_end, far_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        far_end.setblocking(False)
        line = FrameLeg(box_end.fileno(), Codec.PCMA, owns_fd=False)
        line.start()
        rec = StereoRecorder(tmp_path / "call.wav", MediaEngine.now())
        bridge = FrameBridge(line, leg, rec, line_channel=0)

        # line -> phone: A-law frames become PCMU RTP of the leg's own stream
        for i in range(10):
            far_end.send(g711.encode(Codec.PCMA, sine(1000, start=160 * i)))
            await asyncio.sleep(0.02)
        got = [parse_rtp(await asyncio.wait_for(phone.inbox.get(), 2)) for _ in range(10)]
        assert all(p is not None and p.payload_type == 0 and len(p.payload) == 160
                   for p in got)
        seqs = [p.seq for p in got if p is not None]
        assert seqs == sorted(seqs)
        pcm = np.concatenate([g711.decode(Codec.PCMU, p.payload) for p in got if p])
        assert np.sqrt(np.mean(pcm.astype(float) ** 2)) > 3000

        # phone -> line: PCMU RTP becomes A-law on the B-channel
        for i in range(10):
            payload = g711.encode(Codec.PCMU, sine(500, start=160 * i))
            transport.sendto(build_rtp(0, 10 + i, 160 * i, 0x1234, payload),
                             (HOST, leg.local_port))
            await asyncio.sleep(0.02)
        heard = b""
        for _ in range(50):
            try:
                heard += far_end.recv(2048)
            except BlockingIOError:
                if len(heard) >= 1600:
                    break
                await asyncio.sleep(0.02)
        assert len(heard) == 1600
        pcm = g711.decode(Codec.PCMA, heard)
        assert np.sqrt(np.mean(pcm.astype(float) ** 2)) > 3000

        bridge.stop()
        assert line.on_frame is None and leg.audio_sink is None
        rec.close(MediaEngine.now())
        line.close()
        box_end.close()
        far_end.close()
        transport.close()
        await engine.stop()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(asyncio.wait_for(main(), 10))

    with wave.open(str(tmp_path / "call.wav")) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2)
    left, right = frames[:, 0].astype(float), frames[:, 1].astype(float)
    assert np.sqrt(np.mean(left**2)) > 500  # the line (caller) on the left
    assert np.sqrt(np.mean(right**2)) > 500  # the phone on the right
