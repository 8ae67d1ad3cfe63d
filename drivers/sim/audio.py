"""Audio the simulated PSTN plays into a B-channel: WAV files, tones, in-band DTMF,
all as 8 kHz A-law bytes, and a level meter for what it hears."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from firmware.media import g711
from firmware.media.codecs import CLOCK_RATE, Codec

# Q.23 DTMF frequency pairs (low, high) in Hz.
DTMF_FREQS: dict[str, tuple[int, int]] = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}  # fmt: skip
# Q.24 asks for >= 40 ms tones and pauses; 100/100 ms is what a phone's keypad sends.
DTMF_ON = 0.1
DTMF_OFF = 0.1
DTMF_LEVEL = 0.2  # per tone, of full scale (about -17 dBm0 each)


def _samples(seconds: float) -> npt.NDArray[np.float64]:
    return np.arange(round(seconds * CLOCK_RATE)) / CLOCK_RATE


def tone(freq: float, seconds: float, level: float = 0.3) -> bytes:
    """A sine tone as A-law."""
    pcm = level * 32767 * np.sin(2 * np.pi * freq * _samples(seconds))
    return g711.encode(Codec.PCMA, pcm)


def dtmf(digits: str) -> bytes:
    """In-band DTMF for `digits` (0-9 * # A-D) as A-law, each tone followed by a pause."""
    out = bytearray()
    silence = bytes([Codec.PCMA.silence_byte]) * int(DTMF_OFF * CLOCK_RATE)
    for d in digits.upper():
        if d not in DTMF_FREQS:
            raise ValueError(f"{d!r} is not a DTMF digit")
        low, high = DTMF_FREQS[d]
        t = _samples(DTMF_ON)
        pcm = DTMF_LEVEL * 32767 * (np.sin(2 * np.pi * low * t) + np.sin(2 * np.pi * high * t))
        out += g711.encode(Codec.PCMA, pcm)
        out += silence
    return bytes(out)


def load_wav(path: Path) -> bytes:
    """A WAV file (PCM 16-bit, any rate, mono or stereo) as 8 kHz mono A-law."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV files can be played")
        rate, channels = w.getframerate(), w.getnchannels()
        raw = w.readframes(w.getnframes())
    pcm = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1)
    if rate != CLOCK_RATE and len(pcm):
        # linear interpolation is enough for test prompts and tones
        n = int(len(pcm) * CLOCK_RATE / rate)
        pcm = np.interp(np.arange(n) * rate / CLOCK_RATE, np.arange(len(pcm)), pcm)
    return g711.encode(Codec.PCMA, pcm)


def rms_dbfs(alaw: bytes) -> float:
    """Level of A-law audio in dB below full scale (-inf for nothing)."""
    if not alaw:
        return float("-inf")
    pcm = g711.decode(Codec.PCMA, alaw).astype(np.float64)
    rms = float(np.sqrt(np.mean(pcm * pcm)))
    return 20 * np.log10(rms / 32768) if rms > 0 else float("-inf")
