"""RTP (RFC 3550) packets and RFC 4733 telephone-events, as plain values.

This is the general-purpose codec for tests, IVR and tools. The relay path in
`session.py` reads the same header fields straight from the datagram instead of
building an `RtpPacket`, because an object per packet is measurable at 500 calls.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

RTP_VERSION = 2
RTP_HEADER_LEN = 12

_HEADER = struct.Struct("!BBHII")
_EVENT = struct.Struct("!BBH")

# RFC 4733 §3.2: events 0-15 are the DTMF keys, in this order.
DTMF_DIGITS = "0123456789*#ABCD"
_DIGIT_TO_EVENT = {d: i for i, d in enumerate(DTMF_DIGITS)}
_DIGIT_TO_EVENT.update({d.lower(): i for i, d in enumerate(DTMF_DIGITS) if d.isalpha()})


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes
    marker: bool = False
    version: int = RTP_VERSION
    csrc: tuple[int, ...] = ()
    # (profile-defined 16 bits, extension data) when the X bit was set.
    extension: tuple[int, bytes] | None = None


def rtp_payload_bounds(data: bytes | bytearray | memoryview) -> tuple[int, int] | None:
    """(start, end) of the payload of an RTP v2 datagram, or None if it is not one.

    Skips CSRCs and the header extension and excludes padding; never raises.
    """
    n = len(data)
    if n < RTP_HEADER_LEN:
        return None
    b0 = data[0]
    if b0 >> 6 != RTP_VERSION:
        return None
    start = RTP_HEADER_LEN + (b0 & 0x0F) * 4
    if b0 & 0x10:
        if n < start + 4:
            return None
        start += 4 + ((data[start + 2] << 8) | data[start + 3]) * 4
    end = n
    if b0 & 0x20:
        pad = data[n - 1]
        # A zero pad count is malformed: the count byte itself is padding.
        if pad == 0:
            return None
        end = n - pad
    if end < start:
        return None
    return start, end


def parse_rtp(data: bytes | bytearray | memoryview) -> RtpPacket | None:
    """Decode an RTP v2 datagram; None for anything else or anything truncated."""
    bounds = rtp_payload_bounds(data)
    if bounds is None:
        return None
    start, end = bounds
    b0, b1, seq, timestamp, ssrc = _HEADER.unpack_from(data, 0)
    cc = b0 & 0x0F
    csrc = struct.unpack_from(f"!{cc}I", data, RTP_HEADER_LEN) if cc else ()
    extension: tuple[int, bytes] | None = None
    if b0 & 0x10:
        ext_at = RTP_HEADER_LEN + cc * 4
        profile = (data[ext_at] << 8) | data[ext_at + 1]
        extension = (profile, bytes(data[ext_at + 4 : start]))
    return RtpPacket(
        payload_type=b1 & 0x7F,
        seq=seq,
        timestamp=timestamp,
        ssrc=ssrc,
        payload=bytes(data[start:end]),
        marker=bool(b1 & 0x80),
        version=b0 >> 6,
        csrc=tuple(csrc),
        extension=extension,
    )


def build_rtp(
    payload_type: int,
    seq: int,
    timestamp: int,
    ssrc: int,
    payload: bytes,
    marker: bool = False,
    csrc: tuple[int, ...] = (),
    extension: tuple[int, bytes] | None = None,
) -> bytes:
    """Encode an RTP v2 packet (no padding: G.711 and events never need it)."""
    if not 0 <= payload_type <= 127:
        raise ValueError(f"payload type {payload_type} out of range")
    if len(csrc) > 15:
        raise ValueError("at most 15 CSRCs")
    b0 = (RTP_VERSION << 6) | len(csrc)
    tail = b""
    if extension is not None:
        profile, ext = extension
        if len(ext) % 4:
            raise ValueError("header extension length must be a multiple of 4")
        b0 |= 0x10
        tail = struct.pack("!HH", profile, len(ext) // 4) + ext
    header = _HEADER.pack(
        b0,
        (0x80 if marker else 0) | payload_type,
        seq & 0xFFFF,
        timestamp & 0xFFFFFFFF,
        ssrc & 0xFFFFFFFF,
    )
    if csrc:
        header += struct.pack(f"!{len(csrc)}I", *csrc)
    return header + tail + payload


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """An RFC 4733 event payload. `volume` is in -dBm0 (0..63), `duration` in samples."""

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0

    @property
    def digit(self) -> str | None:
        return event_to_digit(self.event)

    def to_bytes(self) -> bytes:
        if not 0 <= self.event <= 255:
            raise ValueError(f"event {self.event} out of range")
        if not 0 <= self.volume <= 63:
            raise ValueError(f"volume {self.volume} out of range")
        if not 0 <= self.duration <= 0xFFFF:
            raise ValueError(f"duration {self.duration} out of range")
        return _EVENT.pack(self.event, (0x80 if self.end else 0) | self.volume, self.duration)


def parse_telephone_event(payload: bytes | bytearray | memoryview) -> TelephoneEvent | None:
    """Decode the first event block of an RFC 4733 payload; None if too short."""
    if len(payload) < 4:
        return None
    event, flags, duration = _EVENT.unpack_from(payload, 0)
    return TelephoneEvent(
        event=event, end=bool(flags & 0x80), volume=flags & 0x3F, duration=duration
    )


def build_telephone_event(event: TelephoneEvent) -> bytes:
    return event.to_bytes()


def digit_to_event(digit: str) -> int:
    """The RFC 4733 event code of a DTMF key; ValueError for anything else."""
    try:
        return _DIGIT_TO_EVENT[digit]
    except KeyError:
        raise ValueError(f"not a DTMF digit: {digit!r}") from None


def event_to_digit(event: int) -> str | None:
    """The DTMF key of an event code, or None for non-DTMF events (flash, tones…)."""
    return DTMF_DIGITS[event] if 0 <= event < len(DTMF_DIGITS) else None
