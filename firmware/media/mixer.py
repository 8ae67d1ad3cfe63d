"""`Mixer`: N parties, 20 ms frames of 8 kHz linear PCM, one matrix product per frame.

Sans I/O: parties `push()` the G.711 payloads they receive (any size: 20 or 30 ms
packets, E1 frames) and `mix()` returns one encoded 20 ms frame per party. Whoever
drives it (`firmware.media.bridge.Bridge`, on the media engine's 20 ms ticker) sends
those frames out through the party's leg.

Who hears whom is a gain matrix `M` (listener x speaker) derived from each party's role:
- PARTY and BARGE: everyone hears them;
- WHISPER: only the party it whispers to hears it (督导: the caller must not);
- LISTEN: nobody hears it (a silent monitor).
The diagonal is zero, so nobody hears themselves (mix-minus): out = M @ in.

Each party has a small jitter buffer of encoded bytes. It starts playing once two
frames are buffered (absorbs 30 ms packets against a 20 ms clock), plays silence on
an underrun and starts priming again, and drops the oldest audio when more than
`MAX_BUFFER` frames pile up (a sender faster than our clock, or a stalled loop), so
latency stays bounded.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from firmware.media.codecs import SAMPLES_PER_FRAME, Codec
from firmware.media.g711 import decode_table, encode

FRAME = SAMPLES_PER_FRAME
PRIME_FRAMES = 2
MAX_BUFFER = 8  # frames (160 ms)

Pcm = npt.NDArray[np.int16]


class Role(Enum):
    PARTY = "party"
    LISTEN = "listen"  # hears everyone, heard by nobody
    WHISPER = "whisper"  # hears everyone, heard by its target only
    BARGE = "barge"  # a full party that joined a call (强插)


@dataclass
class _Party:
    codec: Codec
    role: Role
    target: Hashable | None  # whom a WHISPER party speaks to
    buf: bytearray
    primed: bool = False
    underruns: int = 0
    dropped: int = 0  # frames thrown away because the buffer overflowed


class MixerError(ValueError):
    """An impossible request (unknown party, whisper without a target ...)."""


class Mixer:
    def __init__(self) -> None:
        self._parties: dict[Hashable, _Party] = {}
        self._order: list[Hashable] = []
        self._matrix: npt.NDArray[np.float32] | None = None
        self._inputs: npt.NDArray[np.int16] = np.zeros((0, FRAME), dtype=np.int16)
        self._outputs: npt.NDArray[np.int16] = np.zeros((0, FRAME), dtype=np.int16)
        self._announce: list[Pcm] = []  # heard by everyone (join/leave tones)
        self.frames = 0

    # -- membership --------------------------------------------------------------------
    def __contains__(self, key: Hashable) -> bool:
        return key in self._parties

    def __len__(self) -> int:
        return len(self._parties)

    @property
    def keys(self) -> tuple[Hashable, ...]:
        return tuple(self._order)

    def add(self, key: Hashable, codec: Codec, role: Role = Role.PARTY,
            target: Hashable | None = None) -> None:
        if key in self._parties:
            raise MixerError(f"{key!r} is already in the mix")
        self._check_role(key, role, target)
        self._parties[key] = _Party(codec, role, target, bytearray())
        self._order.append(key)
        self._matrix = None

    def remove(self, key: Hashable) -> None:
        if self._parties.pop(key, None) is None:
            return
        self._order.remove(key)
        self._matrix = None

    def set_role(self, key: Hashable, role: Role, target: Hashable | None = None) -> None:
        party = self._party(key)
        self._check_role(key, role, target)
        party.role = role
        party.target = target
        self._matrix = None

    def role(self, key: Hashable) -> Role:
        return self._party(key).role

    def codec(self, key: Hashable) -> Codec:
        return self._party(key).codec

    def set_codec(self, key: Hashable, codec: Codec) -> None:
        party = self._party(key)
        if party.codec is not codec:
            party.codec = codec
            party.buf.clear()
            party.primed = False

    def _check_role(self, key: Hashable, role: Role, target: Hashable | None) -> None:
        if role is Role.WHISPER and (target is None or target == key):
            raise MixerError(f"{key!r}: whisper needs another party to whisper to")

    def _party(self, key: Hashable) -> _Party:
        party = self._parties.get(key)
        if party is None:
            raise MixerError(f"{key!r} is not in the mix")
        return party

    def hears(self, listener: Hashable, speaker: Hashable) -> bool:
        """Does `listener` hear `speaker`? (the rule the matrix is built from)"""
        if listener == speaker:
            return False
        sp = self._party(speaker)
        self._party(listener)
        if sp.role is Role.LISTEN:
            return False
        if sp.role is Role.WHISPER:
            return sp.target == listener
        return True

    def matrix(self) -> npt.NDArray[np.float32]:
        if self._matrix is None:
            n = len(self._order)
            m = np.zeros((n, n), dtype=np.float32)
            for i, li in enumerate(self._order):
                for j, sp in enumerate(self._order):
                    if self.hears(li, sp):
                        m[i, j] = 1.0
            self._matrix = m
        return self._matrix

    # -- audio -------------------------------------------------------------------------
    def push(self, key: Hashable, payload: bytes | bytearray) -> None:
        """Audio received from `key`, in its codec (silently ignored for strangers:
        a packet may still arrive in the instant after a party left)."""
        party = self._parties.get(key)
        if party is None:
            return
        buf = party.buf
        buf += payload
        excess = len(buf) - MAX_BUFFER * FRAME
        if excess > 0:
            # keep the newest PRIME_FRAMES frames: latency back to the primed minimum
            cut = len(buf) - PRIME_FRAMES * FRAME
            del buf[:cut]
            party.dropped += cut // FRAME

    def announce(self, pcm: npt.ArrayLike) -> None:
        """Mix `pcm` (16-bit samples) into everyone's audio from the next frame on."""
        samples = np.asarray(pcm, dtype=np.int16)
        pad = -len(samples) % FRAME
        if pad:
            samples = np.concatenate([samples, np.zeros(pad, dtype=np.int16)])
        for i in range(0, len(samples), FRAME):
            frame = samples[i:i + FRAME]
            if i // FRAME < len(self._announce):
                mixed = self._announce[i // FRAME].astype(np.int32) + frame
                self._announce[i // FRAME] = np.clip(mixed, -32768, 32767).astype(np.int16)
            else:
                self._announce.append(frame)

    def _take(self, party: _Party) -> bytes | None:
        buf = party.buf
        if not party.primed:
            if len(buf) < PRIME_FRAMES * FRAME:
                return None
            party.primed = True
        if len(buf) < FRAME:
            party.primed = False
            party.underruns += 1
            return None
        frame = bytes(buf[:FRAME])
        del buf[:FRAME]
        return frame

    def mix(self) -> dict[Hashable, bytes]:
        """One 20 ms frame for every party, encoded in its codec."""
        order = self._order
        n = len(order)
        self.frames += 1
        if n == 0:
            self._announce[:1] = []
            return {}
        inputs = np.zeros((n, FRAME), dtype=np.int16)
        for i, key in enumerate(order):
            party = self._parties[key]
            frame = self._take(party)
            if frame is not None:
                inputs[i] = decode_table(party.codec)[np.frombuffer(frame, dtype=np.uint8)]
        mixed = self.matrix() @ inputs.astype(np.float32)
        if self._announce:
            mixed += self._announce.pop(0).astype(np.float32)
        outputs = np.clip(mixed, -32768, 32767).astype(np.int16)
        self._inputs = inputs
        self._outputs = outputs
        out: dict[Hashable, bytes] = {}
        for i, key in enumerate(order):
            out[key] = encode(self._parties[key].codec, outputs[i])
        return out

    def frame_in(self, key: Hashable) -> Pcm | None:
        """What `key` said in the last mixed frame (linear PCM)."""
        if key not in self._parties or len(self._inputs) != len(self._order):
            return None
        row: Pcm = self._inputs[self._order.index(key)]
        return row

    def frame_out(self, key: Hashable) -> Pcm | None:
        """What `key` heard in the last mixed frame (linear PCM)."""
        if key not in self._parties or len(self._outputs) != len(self._order):
            return None
        row: Pcm = self._outputs[self._order.index(key)]
        return row

    def stats(self, key: Hashable) -> dict[str, int]:
        p = self._party(key)
        return {"buffered": len(p.buf), "underruns": p.underruns, "dropped": p.dropped}


def tone(freqs: tuple[float, ...], seconds: float, level: float = 3000.0) -> Pcm:
    """A short tone (join/leave beeps), faded in and out so it does not click."""
    n = int(seconds * 8000)
    t = np.arange(n) / 8000
    wave = sum(np.sin(2 * np.pi * f * t) for f in freqs) / max(1, len(freqs))
    ramp = np.minimum(1.0, np.minimum(np.arange(n), n - 1 - np.arange(n)) / 80.0)
    return np.asarray(level * wave * ramp, dtype=np.float64).astype(np.int16)
