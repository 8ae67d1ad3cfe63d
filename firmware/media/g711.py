"""G.711 µ-law / A-law by lookup table.

Linear samples are 16-bit (µ-law's 14-bit and A-law's 13-bit codes shifted up), so
both laws and numpy-made audio share one scale. Every conversion is a table built
once at import: decoding is a 256-entry gather, encoding a 65536-entry gather indexed
by the sample's bit pattern, and µ-law<->A-law a 256-byte `bytes.translate` table.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from firmware.media.codecs import Codec

Int16Array = npt.NDArray[np.int16]

_MULAW_BIAS = 0x84
_MULAW_CLIP = 32635


def _build_mulaw_decode() -> Int16Array:
    code = np.arange(256, dtype=np.int32)
    u = ~code & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _MULAW_BIAS) << exponent) - _MULAW_BIAS
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def _build_alaw_decode() -> Int16Array:
    code = np.arange(256, dtype=np.int32)
    a = code ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    # Reconstruct at the middle of each quantisation interval (G.711 decision levels).
    magnitude = np.where(
        exponent == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0),
    )
    # A-law's sign bit is set for positive values, the opposite of µ-law.
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.int16)


def _all_int16() -> npt.NDArray[np.int32]:
    # Index i of an encode table is the int16 whose bit pattern is i.
    return np.arange(65536, dtype=np.uint16).view(np.int16).astype(np.int32)


def _build_mulaw_encode() -> npt.NDArray[np.uint8]:
    x = _all_int16()
    negative = x < 0
    magnitude = np.minimum(np.abs(x), _MULAW_CLIP) + _MULAW_BIAS
    # Segment = how many octaves above 256 the biased magnitude lies.
    exponent = np.searchsorted(
        np.array([256 << i for i in range(7)]), magnitude, side="right"
    ).astype(np.int32)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    u = np.where(negative, 0x80, 0) | (exponent << 4) | mantissa
    encoded: npt.NDArray[np.uint8] = (np.bitwise_not(u) & 0xFF).astype(np.uint8)
    return encoded


def _build_alaw_encode() -> npt.NDArray[np.uint8]:
    x = _all_int16()
    positive = x >= 0
    magnitude = np.minimum(np.abs(x), 32767)
    exponent = np.searchsorted(
        np.array([256 << i for i in range(7)]), magnitude, side="right"
    ).astype(np.int32)
    mantissa = np.where(exponent == 0, magnitude >> 4, (magnitude >> (exponent + 3)) & 0x0F)
    a = np.where(positive, 0x80, 0) | (exponent << 4) | mantissa
    encoded: npt.NDArray[np.uint8] = (a ^ 0x55).astype(np.uint8)
    return encoded


_DECODE: dict[Codec, Int16Array] = {
    Codec.PCMU: _build_mulaw_decode(),
    Codec.PCMA: _build_alaw_decode(),
}
_ENCODE: dict[Codec, npt.NDArray[np.uint8]] = {
    Codec.PCMU: _build_mulaw_encode(),
    Codec.PCMA: _build_alaw_encode(),
}
for _decode in _DECODE.values():
    _decode.flags.writeable = False
for _encode in _ENCODE.values():
    _encode.flags.writeable = False


def _build_transcode(src: Codec, dst: Codec) -> bytes:
    # Each source code goes to the destination code whose interval holds its decoded
    # value, which is what G.711's conversion tables tabulate.
    if src is dst:
        return bytes(range(256))
    linear = _DECODE[src].view(np.uint16)
    return bytes(_ENCODE[dst][linear])


_TRANSCODE: dict[tuple[Codec, Codec], bytes] = {
    (src, dst): _build_transcode(src, dst) for src in Codec for dst in Codec
}


def decode_table(codec: Codec) -> Int16Array:
    """The read-only 256-entry code -> linear table, for batch decoding elsewhere."""
    return _DECODE[codec]


def decode(codec: Codec, payload: bytes | bytearray | memoryview) -> Int16Array:
    """G.711 bytes to 16-bit linear samples."""
    return _DECODE[codec][np.frombuffer(payload, dtype=np.uint8)]


def encode(codec: Codec, pcm: npt.ArrayLike) -> bytes:
    """16-bit linear samples to G.711 bytes; anything wider is clipped first."""
    samples = np.asarray(pcm)
    if samples.dtype != np.int16:
        samples = np.clip(np.rint(samples), -32768, 32767).astype(np.int16)
    return _ENCODE[codec][samples.view(np.uint16)].tobytes()


def transcode_table(src: Codec, dst: Codec) -> bytes:
    """A `bytes.translate` table turning `src` payloads into `dst` payloads."""
    return _TRANSCODE[(src, dst)]
