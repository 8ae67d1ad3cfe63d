"""In-band DTMF detection (spandsp) on 20 ms A-law frames, as an E1 B-channel gives them."""

from __future__ import annotations

import numpy as np

from drivers.sim.audio import dtmf, tone
from firmware.media import g711
from firmware.media.codecs import Codec
from firmware.media.dtmf_detect import InbandDtmf


def detect(audio: bytes, codec: Codec = Codec.PCMA) -> str:
    d = InbandDtmf(codec)
    try:
        return "".join(d.feed(audio[i : i + 160]) for i in range(0, len(audio), 160))
    finally:
        d.close()


def test_every_key_is_detected_once() -> None:
    keys = "1234567890*#ABCD"
    assert detect(tone(440, 0.3, 0.05) + dtmf(keys) + tone(440, 0.3, 0.05)) == keys


def test_keys_survive_noise() -> None:
    rng = np.random.default_rng(4)
    pcm = g711.decode(Codec.PCMA, dtmf("159#")).astype(float)
    pcm += rng.normal(0, 300, len(pcm))
    assert detect(g711.encode(Codec.PCMA, pcm)) == "159#"


def test_no_digits_from_tones_speechlike_noise_or_silence() -> None:
    rng = np.random.default_rng(7)
    noise = g711.encode(Codec.PCMA, rng.normal(0, 2000, 16000))
    audio = tone(425, 1.0) + tone(1000, 0.5) + noise + bytes([0xD5]) * 8000
    assert detect(audio) == ""


def test_mu_law_lines() -> None:
    pcm = g711.decode(Codec.PCMA, dtmf("42"))
    assert detect(g711.encode(Codec.PCMU, pcm), Codec.PCMU) == "42"
