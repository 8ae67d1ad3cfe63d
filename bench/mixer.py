"""CPU cost of the conference mixer per mixed party (firmware/media/mixer.py).

1. The mixer alone: for rooms of N parties, push one 20 ms G.711 frame per party and
   mix, many times; time per 20 ms frame, per party, and the share of one core.
2. A live room: a `Bridge` in mixing mode on a running `MediaEngine` (uvloop), N RTP
   legs whose packets go out over real UDP to a drain process; each tick the parties'
   frames are handed to the mixer as the RTP path would. CPU of this process over a
   few seconds: mixing + encoding + one `sendto` per party per 20 ms.
Prints figures, asserts nothing.

    .venv/bin/python bench/mixer.py
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import numpy as np

from firmware.media import g711
from firmware.media.codecs import Codec
from firmware.media.mixer import FRAME, Mixer, Role

FRAMES = 500


def frames_for(n: int) -> list[bytes]:
    t = np.arange(FRAME) / 8000
    return [g711.encode(Codec.PCMA, (1000 * np.sin(2 * np.pi * (300 + 37 * i) * t))
                        .astype(np.int16)) for i in range(n)]


def bench_room(n: int, roles: dict[int, Role] | None = None) -> float:
    """Seconds of CPU per 20 ms frame for one room of n parties."""
    m = Mixer()
    for i in range(n):
        role = (roles or {}).get(i, Role.PARTY)
        m.add(i, Codec.PCMA if i % 2 else Codec.PCMU, role,
              target=1 if role is Role.WHISPER else None)
    payloads = frames_for(n)
    for _ in range(3):  # prime the jitter buffers
        for i in range(n):
            m.push(i, payloads[i])
    start = time.process_time()
    for _ in range(FRAMES):
        for i in range(n):
            m.push(i, payloads[i])
        m.mix()
    return (time.process_time() - start) / FRAMES


DRAIN = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
while True:
    s.recv(2048)
"""


async def live_room(n: int, seconds: float = 4.0) -> float:
    """CPU share of one core for one mixing room of n RTP parties."""
    from firmware.media.bridge import Bridge
    from firmware.media.engine import MediaEngine

    drain = subprocess.Popen([sys.executable, "-c", DRAIN], stdout=subprocess.PIPE,
                             text=True)
    assert drain.stdout is not None
    port = int(drain.stdout.readline())
    engine = MediaEngine("127.0.0.1", 47000, 47000 + 2 * n + 10)
    await engine.start()
    try:
        legs = []
        for _ in range(n):
            leg = await engine.allocate()
            leg.set_codec(Codec.PCMA, 8, None)
            leg.set_remote("127.0.0.1", port)
            legs.append(leg)
        bridge = Bridge(engine, always_mix=True)
        bridge.add_many(legs)
        mixer = bridge.mixer
        assert mixer is not None
        payloads = frames_for(n)

        def arrive(_now: float) -> None:  # the RTP path hands each party's frame over
            for leg, payload in zip(legs, payloads, strict=True):
                mixer.push(leg, payload)

        engine.add_ticker(arrive)
        await asyncio.sleep(0.5)
        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        share = (time.process_time() - cpu0) / (time.monotonic() - wall0)
        bridge.stop()
        return share
    finally:
        await engine.stop()
        drain.kill()


def main() -> None:
    print(f"mixer: {FRAMES} frames of 20 ms per room size (process CPU time)")
    print(f"{'parties':>8} {'us/frame':>10} {'us/party':>10} {'% core':>8} {'rooms/core':>11}")
    for n in (2, 3, 5, 10, 20, 30, 40, 60):
        per_frame = bench_room(n)
        share = per_frame / 0.020
        print(f"{n:>8} {per_frame * 1e6:>10.1f} {per_frame * 1e6 / n:>10.1f} "
              f"{share * 100:>7.2f}% {1 / share:>11.0f}")
    sup = bench_room(3, {2: Role.WHISPER})
    print(f"supervised call (caller, agent, whispering supervisor): {sup * 1e6:.1f} us "
          f"per frame = {sup / 0.02 * 100:.2f}% of a core")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        print("(no uvloop: stock asyncio)")
    print("live room on the media engine (mix + encode + sendto per party, 20 ms ticks)")
    print(f"{'parties':>8} {'% core':>8} {'us/party/frame':>15}")
    idle = asyncio.run(live_room(1))
    for n in (3, 10, 30, 60):
        share = asyncio.run(live_room(n))
        print(f"{n:>8} {share * 100:>7.1f}% {(share - idle) * 0.02 / n * 1e6:>15.1f}")
    print(f"(an engine with one leg and nothing to mix: {idle * 100:.1f}% of a core)")


if __name__ == "__main__":
    main()
