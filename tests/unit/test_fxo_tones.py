"""Call-progress tones of Chinese exchanges, frame by frame: busy, congestion, dial tone,
silence; speech-like audio and other tones must not count."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from drivers.fxo.tones import CadenceDetector, ContinuousTone, SilenceDetector, has_tone

RATE = 8000
rng = np.random.default_rng(3)


def cadence(on: float, off: float, seconds: float, freq: float = 450.0,
            level: float = 8000.0, noise: float = 100.0) -> npt.NDArray[np.int16]:
    t = np.arange(int(seconds * RATE)) / RATE
    gate = (t % (on + off)) < on
    x = level * np.sin(2 * np.pi * freq * t) * gate + rng.normal(0, noise, len(t))
    return x.astype(np.int16)


def frames(x: npt.NDArray[np.int16]) -> list[npt.NDArray[np.int16]]:
    return [x[i:i + 160] for i in range(0, len(x) - 159, 160)]


def first_detection(det: CadenceDetector, x: npt.NDArray[np.int16]) -> tuple[int, str] | None:
    for i, f in enumerate(frames(x)):
        found = det.feed(f)
        if found:
            return i, found
    return None


def test_busy_tone_is_found_within_two_cycles() -> None:
    got = first_detection(CadenceDetector(), cadence(0.35, 0.35, 4.0))
    assert got is not None and got[1] == "busy"
    assert got[0] * 0.02 < 1.6  # 2 cycles = 1.4 s, plus a frame or two


def test_congestion_tone() -> None:
    got = first_detection(CadenceDetector(), cadence(0.7, 0.7, 6.0))
    assert got is not None and got[1] == "congestion"


def test_ringback_dial_tone_and_speech_are_not_busy() -> None:
    assert first_detection(CadenceDetector(), cadence(1.0, 4.0, 12.0)) is None  # ringback
    assert first_detection(CadenceDetector(), cadence(5.0, 0.0, 5.0)) is None  # dial tone
    # syllables of noise at a busy-like rhythm: no 450 Hz, no busy
    t = np.arange(4 * RATE) / RATE
    speech = (rng.normal(0, 4000, len(t)) * ((t % 0.7) < 0.35)).astype(np.int16)
    assert first_detection(CadenceDetector(), speech) is None
    # a 350/350 cadence at another frequency (not a Chinese busy tone)
    assert first_detection(CadenceDetector(), cadence(0.35, 0.35, 4.0, freq=1000)) is None


def test_quiet_busy_tone_below_the_floor_is_ignored() -> None:
    assert first_detection(CadenceDetector(), cadence(0.35, 0.35, 4.0, level=200)) is None


def test_dial_tone_detection() -> None:
    det = ContinuousTone(0.3)
    results = [det.feed(f) for f in frames(cadence(1.0, 0.0, 1.0))]
    assert not any(results[:14]) and all(results[15:])
    assert not has_tone(rng.normal(0, 3000, 160).astype(np.int16))


def test_silence_detector_needs_the_whole_period() -> None:
    det = SilenceDetector(1.0, -50.0)
    quiet = rng.normal(0, 20, 160 * 60).astype(np.int16)  # about -64 dBFS
    loud = rng.normal(0, 2000, 160).astype(np.int16)
    out = [det.feed(f) for f in frames(quiet[: 160 * 40])]
    assert not any(out)
    det.feed(loud)  # a word resets it
    out = [det.feed(f) for f in frames(quiet)]
    assert out.index(True) == 49
