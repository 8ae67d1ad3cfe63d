"""What the simulated PSTN plays: in-band DTMF at the Q.23 frequencies, tones, and WAV
files of any rate turned into 8 kHz A-law."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from drivers.sim.audio import DTMF_FREQS, dtmf, load_wav, rms_dbfs, tone
from firmware.media import g711
from firmware.media.codecs import Codec


def peaks(alaw: bytes) -> list[int]:
    pcm = g711.decode(Codec.PCMA, alaw).astype(float)
    spectrum = np.abs(np.fft.rfft(pcm))
    freqs = np.fft.rfftfreq(len(pcm), 1 / 8000)
    top = np.argsort(spectrum)[-2:]
    return sorted(int(round(freqs[i], -1)) for i in top)


@pytest.mark.parametrize("digit", ["1", "5", "9", "*", "0", "#"])
def test_dtmf_digit_is_its_two_frequencies(digit: str) -> None:
    audio = dtmf(digit)
    assert len(audio) == 1600  # 100 ms tone + 100 ms pause
    low, high = DTMF_FREQS[digit]
    assert peaks(audio[:800]) == [round(low, -1), round(high, -1)]
    assert rms_dbfs(audio[800:]) < -60


def test_dtmf_rejects_non_digits() -> None:
    with pytest.raises(ValueError):
        dtmf("1x")


def test_wav_of_another_rate_is_resampled(tmp_path: Path) -> None:
    path = tmp_path / "t.wav"
    t = np.arange(16000) / 16000
    stereo = np.repeat((8000 * np.sin(2 * np.pi * 500 * t)).astype("<i2"), 2)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(stereo.tobytes())
    audio = load_wav(path)
    assert len(audio) == 8000
    pcm = g711.decode(Codec.PCMA, audio).astype(float)
    assert int(np.argmax(np.abs(np.fft.rfft(pcm)))) == 500  # 1 Hz bins over 1 s
    assert -16 < rms_dbfs(audio) < -14.5  # 8000 peak: -12.3 dBFS peak, -15.3 rms
    assert -24 < rms_dbfs(tone(1000, 0.1, level=0.1)) < -22  # 0.1 peak: -23 dBFS rms
