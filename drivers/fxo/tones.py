"""Call-progress tones on an analog line, frame by frame (20 ms of 8 kHz PCM).

China (YD/T 1001 / GF 002): every tone is 450 Hz; dial tone continuous, busy tone
0.35 s on / 0.35 s off, congestion 0.7 / 0.7, ringback 1 s / 4 s. A frame "has the tone"
when the Goertzel power at the frequency carries most of the frame's energy and the
level is above a floor, so speech and noise do not count; the cadence detector then
matches the on/off run lengths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RATE = 8000
FRAME_SECONDS = 0.02
TONE_HZ = 450.0
MIN_LEVEL_DBFS = -40.0  # CO tones are about -10 dBm0; a line's noise is below -55
MIN_SHARE = 0.6  # of the frame's energy at the tone frequency


def level_dbfs(pcm: npt.NDArray[np.int16]) -> float:
    if len(pcm) == 0:
        return float("-inf")
    x = pcm.astype(np.float64)
    rms = math.sqrt(float(np.mean(x * x)))
    return 20 * math.log10(rms / 32768) if rms > 0 else float("-inf")


def tone_share(pcm: npt.NDArray[np.int16], freq: float = TONE_HZ) -> float:
    """Fraction of the frame's energy at `freq` (Goertzel, as a projection on the
    sine/cosine pair, so it is 1.0 for a pure tone)."""
    x = pcm.astype(np.float64)
    total = float(np.dot(x, x))
    if total <= 0:
        return 0.0
    t = np.arange(len(x)) / RATE
    c = float(np.dot(x, np.cos(2 * np.pi * freq * t)))
    s = float(np.dot(x, np.sin(2 * np.pi * freq * t)))
    return min(1.0, 2 * (c * c + s * s) / (len(x) * total))


def has_tone(pcm: npt.NDArray[np.int16], freq: float = TONE_HZ) -> bool:
    return level_dbfs(pcm) >= MIN_LEVEL_DBFS and tone_share(pcm, freq) >= MIN_SHARE


@dataclass(frozen=True)
class Cadence:
    name: str
    on: float  # seconds
    off: float
    tolerance: float = 0.1  # seconds either way, per run


BUSY = Cadence("busy", 0.35, 0.35)
CONGESTION = Cadence("congestion", 0.7, 0.7)


class CadenceDetector:
    """Reports a cadenced tone once `cycles` on-runs in a row matched it."""

    def __init__(self, cadences: Sequence[Cadence] = (BUSY, CONGESTION), cycles: int = 3,
                 freq: float = TONE_HZ) -> None:
        self.cadences = tuple(cadences)
        self.cycles = cycles
        self.freq = freq
        self._on = False
        self._run = 0  # frames in the current run
        self._last_on = 0  # frames of the previous on-run
        self._matched: dict[str, int] = {c.name: 0 for c in self.cadences}

    def reset(self) -> None:
        self._on = False
        self._run = 0
        self._last_on = 0
        self._matched = {c.name: 0 for c in self.cadences}

    @staticmethod
    def _fits(frames: int, seconds: float, tolerance: float) -> bool:
        return abs(frames * FRAME_SECONDS - seconds) <= tolerance + 1e-9

    def feed(self, pcm: npt.NDArray[np.int16]) -> str | None:
        """One frame in; the cadence's name when it is confirmed with this frame."""
        on = has_tone(pcm, self.freq)
        if on == self._on:
            self._run += 1
            # a run far too long breaks every match (dial tone, a held note)
            longest = max(max(c.on, c.off) + c.tolerance for c in self.cadences)
            if self._run * FRAME_SECONDS > longest:
                self._matched = dict.fromkeys(self._matched, 0)
            return None
        ended, frames = self._on, self._run
        self._on, self._run = on, 1
        if ended:  # an on-run ended: remember it, judged when its off-run ends
            self._last_on = frames
            return None
        # an off-run ended: judge the cycle (previous on-run + this off-run)
        found = None
        for c in self.cadences:
            if (self._last_on and self._fits(self._last_on, c.on, c.tolerance)
                    and self._fits(frames, c.off, c.tolerance)):
                self._matched[c.name] += 1
                if self._matched[c.name] >= self.cycles - 1 and found is None:
                    found = c.name
            else:
                self._matched[c.name] = 0
        if found is not None:
            # confirmed at the start of the N-th on-run: N-1 full cycles seen
            self._matched = dict.fromkeys(self._matched, 0)
        return found


class ContinuousTone:
    """Dial tone: the tone present for `seconds` without a break."""

    def __init__(self, seconds: float = 0.3, freq: float = TONE_HZ) -> None:
        self.frames = max(1, round(seconds / FRAME_SECONDS))
        self.freq = freq
        self._run = 0

    def feed(self, pcm: npt.NDArray[np.int16]) -> bool:
        self._run = self._run + 1 if has_tone(pcm, self.freq) else 0
        return self._run >= self.frames


class SilenceDetector:
    """True once the line stayed below `threshold_dbfs` for `seconds`."""

    def __init__(self, seconds: float, threshold_dbfs: float = -50.0) -> None:
        self.frames = max(1, round(seconds / FRAME_SECONDS))
        self.threshold = threshold_dbfs
        self._run = 0

    def reset(self) -> None:
        self._run = 0

    @property
    def silent_seconds(self) -> float:
        return self._run * FRAME_SECONDS

    def feed(self, pcm: npt.NDArray[np.int16]) -> bool:
        self._run = self._run + 1 if level_dbfs(pcm) < self.threshold else 0
        return self._run >= self.frames
