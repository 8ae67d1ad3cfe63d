import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from firmware.media import g711
from firmware.media.codecs import Codec

ALL_CODES = bytes(range(256))
ALL_LINEAR = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)


def _half_step(codec: Codec, code: int) -> int:
    """Half the quantisation interval that a code stands for, in 16-bit units."""
    if codec is Codec.PCMU:
        exponent = ((~code & 0xFF) >> 4) & 7
        return 4 << exponent
    exponent = ((code ^ 0x55) >> 4) & 7
    return 8 << max(exponent - 1, 0)


def test_known_mulaw_values() -> None:
    table = g711.decode_table(Codec.PCMU)
    assert table[0xFF] == 0
    assert table[0x7F] == 0  # negative zero
    assert table[0x80] == 32124  # full scale positive
    assert table[0x00] == -32124
    assert table[0xFE] == 8
    assert table[0x7E] == -8
    assert g711.encode(Codec.PCMU, np.array([0], dtype=np.int16)) == b"\xff"
    assert g711.encode(Codec.PCMU, np.array([32767, -32768], dtype=np.int16)) == b"\x80\x00"


def test_known_alaw_values() -> None:
    table = g711.decode_table(Codec.PCMA)
    assert table[0xD5] == 8
    assert table[0x55] == -8
    assert table[0xAA] == 32256  # full scale positive
    assert table[0x2A] == -32256
    assert g711.encode(Codec.PCMA, np.array([0], dtype=np.int16)) == b"\xd5"
    assert g711.encode(Codec.PCMA, np.array([32767, -32768], dtype=np.int16)) == b"\xaa\x2a"


def test_silence_bytes_decode_to_near_zero() -> None:
    for codec in Codec:
        assert abs(int(g711.decode(codec, bytes([codec.silence_byte]))[0])) <= 8


@pytest.mark.parametrize("codec", list(Codec))
def test_decode_is_monotonic_and_symmetric(codec: Codec) -> None:
    values = g711.decode(codec, ALL_CODES).astype(np.int32)
    positive = np.sort(values[values > 0])
    assert len(np.unique(positive)) == 128 if codec is Codec.PCMA else 127
    assert sorted(-values[values < 0]) == sorted(values[values > 0])


@pytest.mark.parametrize("codec", list(Codec))
def test_every_code_survives_decode_encode(codec: Codec) -> None:
    again = g711.encode(codec, g711.decode(codec, ALL_CODES))
    changed = [i for i in range(256) if again[i] != i]
    # Only µ-law's negative zero folds onto positive zero.
    assert changed == ([0x7F] if codec is Codec.PCMU else [])


@pytest.mark.parametrize("codec", list(Codec))
def test_linear_round_trip_within_half_a_step(codec: Codec) -> None:
    codes = np.frombuffer(g711.encode(codec, ALL_LINEAR), dtype=np.uint8)
    back = g711.decode_table(codec)[codes].astype(np.int32)
    error = np.abs(back - ALL_LINEAR.astype(np.int32))
    bound = np.array([_half_step(codec, c) for c in range(256)])[codes]
    top = int(g711.decode_table(codec).max())
    in_range = np.abs(ALL_LINEAR.astype(np.int32)) <= top
    assert np.all(error[in_range] <= bound[in_range])
    # Beyond the largest code the encoder clips.
    assert np.all(error[~in_range] <= 32768 - top)
    loud = np.abs(ALL_LINEAR.astype(np.int32)) >= 1024
    assert float(np.max(error[loud & in_range] / np.abs(ALL_LINEAR[loud & in_range]))) < 0.035


@given(arrays(np.int16, st.integers(0, 400)))
def test_encode_decode_property(samples: np.ndarray) -> None:
    for codec in Codec:
        encoded = g711.encode(codec, samples)
        assert len(encoded) == len(samples)
        back = g711.decode(codec, encoded).astype(np.int32)
        assert np.all(np.abs(back - samples.astype(np.int32)) <= 1024)
        assert np.all((back >= 0) | (samples < 0))


def test_encode_accepts_float_and_clips() -> None:
    assert g711.encode(Codec.PCMU, np.array([1e9, -1e9, 0.4])) == b"\x80\x00\xff"


def test_transcode_tables() -> None:
    u2a = g711.transcode_table(Codec.PCMU, Codec.PCMA)
    a2u = g711.transcode_table(Codec.PCMA, Codec.PCMU)
    assert len(u2a) == len(a2u) == 256
    assert g711.transcode_table(Codec.PCMU, Codec.PCMU) == ALL_CODES
    assert g711.transcode_table(Codec.PCMA, Codec.PCMA) == ALL_CODES
    assert u2a[0xFF] == 0xD5 and u2a[0x7F] == 0xD5  # silence stays silence
    assert u2a[0x80] == 0xAA and u2a[0x00] == 0x2A  # full scale stays full scale
    assert a2u[0xAA] == 0x80 and a2u[0x2A] == 0x00
    assert abs(int(g711.decode(Codec.PCMU, bytes([a2u[0xD5]]))[0])) <= 8


@pytest.mark.parametrize(("src", "dst"), [(Codec.PCMU, Codec.PCMA), (Codec.PCMA, Codec.PCMU)])
def test_transcode_lands_in_the_right_interval(src: Codec, dst: Codec) -> None:
    table = g711.transcode_table(src, dst)
    original = g711.decode(src, ALL_CODES).astype(np.int32)
    converted = g711.decode(dst, ALL_CODES.translate(table)).astype(np.int32)
    bound = np.array([_half_step(dst, c) for c in ALL_CODES.translate(table)])
    # Within half a destination step, except where the source exceeds the
    # destination's range (µ-law 32124 < A-law 32256 and vice versa).
    top = int(g711.decode_table(dst).max())
    clipped = np.abs(original) > top
    assert np.all(np.abs(converted - original)[~clipped] <= bound[~clipped])
    assert np.all(np.sign(converted) * np.sign(original) >= 0)
    # One translate equals decoding and re-encoding.
    assert ALL_CODES.translate(table) == g711.encode(dst, g711.decode(src, ALL_CODES))


def test_double_transcode_error_is_one_step_at_most() -> None:
    u2a = g711.transcode_table(Codec.PCMU, Codec.PCMA)
    a2u = g711.transcode_table(Codec.PCMA, Codec.PCMU)
    for src, there, back in ((Codec.PCMA, a2u, u2a), (Codec.PCMU, u2a, a2u)):
        again = ALL_CODES.translate(there).translate(back)
        original = g711.decode(src, ALL_CODES).astype(np.int32)
        final = g711.decode(src, again).astype(np.int32)
        # Each hop errs by half a step of its law; at segment edges the other law's
        # step can be twice ours.
        bound = np.array([3 * _half_step(src, c) for c in range(256)])
        assert np.all(np.abs(final - original) <= bound)


def test_tone_through_transcoding_keeps_its_level() -> None:
    t = np.arange(8000) / 8000
    tone = (10000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    ulaw = g711.encode(Codec.PCMU, tone)
    alaw = ulaw.translate(g711.transcode_table(Codec.PCMU, Codec.PCMA))
    decoded = g711.decode(Codec.PCMA, alaw).astype(np.float64)
    snr = 10 * np.log10(np.sum(tone.astype(np.float64) ** 2) / np.sum((decoded - tone) ** 2))
    assert snr > 30
