"""CPU cost of the conference mixer per mixed party (firmware/media/mixer.py).

For rooms of N parties, pushes one 20 ms G.711 frame per party and mixes, many times,
and prints the time per 20 ms frame, per party, and the share of one core that a
room of that size takes. Also the cost of one supervised call (3 parties). Prints
figures, asserts nothing.

    .venv/bin/python bench/mixer.py
"""

from __future__ import annotations

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


if __name__ == "__main__":
    main()
