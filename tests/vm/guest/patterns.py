"""Per-channel audio patterns for the VM tests: each B-channel carries its own
pseudo-random G.711 byte stream in 160-byte frames, so the receiving end can tell that
it got that channel's frames, unchanged and in order (no cross-talk, no corruption).

A frame that never arrives, or idle bytes DAHDI inserts when a writer is late (an
underrun), are timing artefacts, not corruption: they are counted, not fatal, because
under qemu's TCG the guest's scheduling is not real time. Pure functions; the host's
unit tests check them too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME = 160
# Checked in pieces smaller than a frame: when the reader falls behind, DAHDI drops whole
# 160-byte receive blocks, which are not aligned with the sender's frames, so a frame
# often survives only in part. 32 random bytes never match by chance.
PIECE = 32


def stream(seed: int, frames: int) -> bytes:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=frames * FRAME, dtype=np.uint8).tobytes()


@dataclass(frozen=True)
class Match:
    frames: int  # 32-byte pieces sent
    intact: int  # of them, found unchanged in what was received
    in_order: bool  # the ones found arrived in the order they were sent
    received: int  # bytes received

    def as_dict(self) -> dict[str, object]:
        return {"frames": self.frames, "intact": self.intact, "in_order": self.in_order,
                "received": self.received}


def check(sent: bytes, received: bytes) -> Match:
    """Find each piece of `sent` in `received` (which may hold idle bytes and gaps)."""
    frames = [sent[i:i + PIECE] for i in range(0, len(sent) - PIECE + 1, PIECE)]
    last = -1
    intact = 0
    in_order = True
    for f in frames:
        at = received.find(f, last + 1)
        if at < 0:
            anywhere = received.find(f)
            if anywhere >= 0:
                intact += 1
                in_order = False
            continue
        intact += 1
        last = at
    return Match(len(frames), intact, in_order, len(received))
