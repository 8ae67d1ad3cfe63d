"""Caller ID on an analog line: DTMF and FSK (Bell 202 and V.23), decoded by the box's
receiver from signals made independently of spandsp (numpy FSK, the sim's DTMF), with
line noise."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from drivers.fxo.callerid import (
    AVAILABLE,
    UNAVAILABLE,
    WITHHELD,
    CallerId,
    CallerIdReceiver,
    CallerIdSender,
    dtmf_message,
    mdmf,
    parse_dtmf,
    parse_fsk,
    sdmf,
)
from drivers.sim.audio import dtmf
from firmware.media import g711
from firmware.media.codecs import Codec

RATE = 8000
FSK = {"bell202": (1200.0, 2200.0), "v23": (1300.0, 2100.0)}  # mark, space


def fsk_signal(message: bytes, standard: str, level: float = 6000.0) -> npt.NDArray[np.float64]:
    """A GR-30 / EN 300 659 transmission: seizure, marks, message + checksum, marks."""
    mark, space = FSK[standard]
    bits: list[int] = [0, 1] * 150 + [1] * 180
    checksum = (-sum(message)) & 0xFF
    for byte in [*message, checksum]:
        bits += [0, *[(byte >> i) & 1 for i in range(8)], 1]
    bits += [1] * 10
    spb = RATE / 1200
    n = int(len(bits) * spb)
    idx = (np.arange(n) / spb).astype(int)
    freq = np.where(np.array(bits)[idx] == 1, mark, space)
    phase = 2 * np.pi * np.cumsum(freq) / RATE
    return level * np.sin(phase)


def decode(signal: npt.NDArray[np.float64], noise: float, seed: int = 7) -> list[CallerId]:
    rng = np.random.default_rng(seed)
    x = np.concatenate([np.zeros(1600), signal, np.zeros(3200)])
    x = np.clip(x + rng.normal(0, noise, len(x)), -32768, 32767).astype(np.int16)
    rx = CallerIdReceiver()
    found: list[CallerId] = []
    for i in range(0, len(x), 160):
        found += rx.feed(x[i:i + 160])
    rx.close()
    return found


@pytest.mark.parametrize("standard", ["bell202", "v23"])
def test_mdmf_with_noise(standard: str) -> None:
    msg = mdmf("13800138000", when="03151230", name="王芳")
    found = decode(fsk_signal(msg, standard), noise=600)  # about 20 dB SNR
    assert found, "nothing decoded"
    cid = found[0]
    assert (cid.number, cid.name, cid.when, cid.format) == ("13800138000", "王芳",
                                                            "03151230", "fsk")


def test_sdmf_bell202() -> None:
    (cid, *_) = decode(fsk_signal(sdmf("02588881234", "12312359"), "bell202"), noise=300)
    assert (cid.number, cid.when, cid.presentation) == ("02588881234", "12312359", AVAILABLE)


def test_withheld_number_in_mdmf() -> None:
    (cid, *_) = decode(fsk_signal(mdmf("", withheld=True), "v23"), noise=300)
    assert cid.number == "" and cid.presentation == WITHHELD


def test_corrupted_fsk_is_not_a_caller_id() -> None:
    sig = fsk_signal(mdmf("13800138000"), "bell202")
    sig[3500:3560] = 0  # a click wipes some bits: the checksum must catch it
    assert all(c.number in ("", "13800138000") for c in decode(sig, noise=100))


def test_dtmf_caller_id_with_noise() -> None:
    pcm = g711.decode(Codec.PCMA, dtmf(dtmf_message("13912345678"))).astype(np.float64)
    (cid, *_) = decode(pcm, noise=400)
    assert (cid.number, cid.format) == ("13912345678", "dtmf")


def test_noise_alone_decodes_nothing() -> None:
    assert decode(np.zeros(16000), noise=2000) == []


def test_sender_and_receiver_agree() -> None:
    for fmt, msg in (("bell202", mdmf("075512345678")), ("dtmf", b"D075512345678C")):
        pcm = CallerIdSender(fmt).render(msg).astype(np.float64)
        (cid, *_) = decode(pcm, noise=200)
        assert cid.number == "075512345678"


@pytest.mark.parametrize(("text", "number", "presentation"), [
    ("A13800138000C", "13800138000", AVAILABLE),
    ("D13800138000C", "13800138000", AVAILABLE),
    ("A13800138000#", "13800138000", AVAILABLE),
    ("A02588881234D13800138000C", "02588881234", AVAILABLE),  # then the redirecting no.
    ("13800138000#", "13800138000", AVAILABLE),
    ("D1#", "", WITHHELD),
    ("D3#", "", UNAVAILABLE),
    ("B10C", "", WITHHELD),
    ("B00C", "", UNAVAILABLE),
])
def test_dtmf_formats(text: str, number: str, presentation: str) -> None:
    cid = parse_dtmf(text)
    assert cid is not None and (cid.number, cid.presentation) == (number, presentation)


def test_dtmf_garbage() -> None:
    assert parse_dtmf("C") is None and parse_dtmf("A#") is None and parse_dtmf("*12#") is None


def test_fsk_parse_edge_cases() -> None:
    assert parse_fsk(b"") is None
    assert parse_fsk(bytes([0x82, 1, 0x0B])) is None  # message waiting, not caller ID
    truncated = mdmf("13800138000")[:-3]
    assert parse_fsk(truncated) is None
    cid = parse_fsk(sdmf("", withheld=False))
    assert cid is not None and cid.presentation == UNAVAILABLE
