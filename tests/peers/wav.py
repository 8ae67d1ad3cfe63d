"""Look at recordings: where each channel carries sound and where it is silent.

The box records every call as 8 kHz 16-bit stereo WAV, left = caller, right = callee.
These helpers turn a file into per-channel RMS levels over fixed windows and find the
spans of activity, so tests can say "the callee's channel is loud from 0.6 s to 7 s and
the caller's is silent there" without caring about exact sample positions.

Levels are in linear 16-bit units: A-law digital silence decodes to +-8, the speech in
g711a.pcap sits at 200-4000 RMS per 200 ms, a -12 dBFS tone at ~5800.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float64]

# Above this RMS a window counts as "sound"; below SILENCE as silent. Between the two is
# a grey zone that neither assertion claims.
ACTIVE = 100.0
SILENCE = 40.0


@dataclass(frozen=True)
class Wav:
    path: Path
    rate: int
    channels: int
    sampwidth: int
    data: Samples  # shape (frames, channels), 16-bit sample values as floats

    @property
    def frames(self) -> int:
        return int(self.data.shape[0])

    @property
    def seconds(self) -> float:
        return self.frames / self.rate

    def channel(self, index: int) -> Samples:
        return self.data[:, index]

    def segment(self, index: int, start: float, end: float) -> Samples:
        a = max(0, int(start * self.rate))
        b = min(self.frames, int(end * self.rate))
        return self.data[a:b, index]

    def describe(self, window: float = 0.5) -> str:
        """A compact per-channel level profile, for assertion messages."""
        levels = rms_windows(self, window)
        rows = [
            f"{self.path.name}: {self.rate} Hz, {self.channels} ch, {self.sampwidth * 8} bit, "
            f"{self.seconds:.2f} s; RMS per {window:g} s window:"
        ]
        for ch in range(self.channels):
            rows.append(f"  ch{ch}: " + " ".join(f"{v:.0f}" for v in levels[:, ch]))
        return "\n".join(rows)


def read_wav(path: Path) -> Wav:
    """Read a PCM WAV (8/16/32-bit) into float samples of shape (frames, channels)."""
    with wave.open(str(path), "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    elif width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) * 256.0
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.float64) / 65536.0
    else:
        raise ValueError(f"{path}: unsupported sample width {width}")
    usable = len(data) - len(data) % channels
    return Wav(path, rate, channels, width, data[:usable].reshape(-1, channels))


def rms(x: Samples) -> float:
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def rms_windows(wav: Wav, window: float = 0.1) -> Samples:
    """RMS per channel in consecutive windows: shape (windows, channels)."""
    n = max(1, int(window * wav.rate))
    usable = wav.frames - wav.frames % n
    if usable == 0:
        return np.zeros((0, wav.channels))
    blocks = wav.data[:usable].reshape(-1, n, wav.channels)
    return np.asarray(np.sqrt(np.mean(np.square(blocks), axis=1)), dtype=np.float64)


def active_spans(
    wav: Wav,
    channel: int,
    *,
    window: float = 0.1,
    threshold: float = ACTIVE,
    bridge: float = 0.5,
) -> list[tuple[float, float]]:
    """(start, end) seconds where `channel` is above `threshold`.

    Gaps shorter than `bridge` seconds are closed, so pauses between words do not split
    one burst of speech into many.
    """
    levels = rms_windows(wav, window)[:, channel]
    spans: list[tuple[float, float]] = []
    start: int | None = None
    for i, level in enumerate(levels):
        if level >= threshold and start is None:
            start = i
        elif level < threshold and start is not None:
            spans.append((start * window, i * window))
            start = None
    if start is not None:
        spans.append((start * window, len(levels) * window))
    merged: list[tuple[float, float]] = []
    for s, e in spans:
        if merged and s - merged[-1][1] < bridge:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def sound_onset(wav: Wav, channel: int, **kw: float) -> float | None:
    """Start of the first activity on `channel` (seconds), or None if it never sounds."""
    spans = active_spans(wav, channel, **kw)
    return spans[0][0] if spans else None


def sound_end(wav: Wav, channel: int, **kw: float) -> float | None:
    """End of the last activity on `channel` (seconds), or None if it never sounds."""
    spans = active_spans(wav, channel, **kw)
    return spans[-1][1] if spans else None


def active_seconds(
    wav: Wav, channel: int, *, window: float = 0.1, threshold: float = ACTIVE
) -> float:
    levels = rms_windows(wav, window)[:, channel]
    return float(np.count_nonzero(levels >= threshold)) * window


def dominant_frequency(x: Samples, rate: int) -> float:
    """Frequency (Hz) of the strongest spectral peak of `x`, DC excluded."""
    if len(x) < 16:
        return 0.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    spectrum[0] = 0.0
    return float(np.argmax(spectrum)) * rate / len(x)


def band_fraction(x: Samples, rate: int, low: float, high: float) -> float:
    """Share of the signal's energy between `low` and `high` Hz (0..1)."""
    if len(x) < 16:
        return 0.0
    power = np.square(np.abs(np.fft.rfft(x * np.hanning(len(x)))))
    freqs = np.fft.rfftfreq(len(x), 1.0 / rate)
    power[0] = 0.0
    total = float(np.sum(power))
    if total == 0.0:
        return 0.0
    return float(np.sum(power[(freqs >= low) & (freqs <= high)])) / total


def clips_not_heard(got: bytes, clips: Sequence[bytes], share: float = 0.9,
                    frame: int = 160) -> list[int]:
    """Indexes of the encoded prompts in `clips` that a phone did not hear, in order, in
    the payloads `got`: of each clip's 20 ms frames that are not silence, `share` must
    arrive byte for byte after the previous clip's. Not the whole reading verbatim: a
    player behind a stalled loop drops late frames by design (firmware/media/player.py),
    and a loaded test machine stalls it now and then."""
    missing: list[int] = []
    pos = 0
    for index, clip in enumerate(clips):
        frames = [clip[i:i + frame] for i in range(0, len(clip) - frame + 1, frame)]
        sound = [f for f in frames if len(set(f)) > 4]
        assert sound, f"clip {index} is silence: nothing to recognise it by"
        found = 0
        for f in sound:
            at = got.find(f, pos)
            if at >= 0:
                found += 1
                pos = at + frame
        if found < share * len(sound):
            missing.append(index)
    return missing
