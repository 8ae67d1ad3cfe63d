import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.media.rtp import (
    DTMF_DIGITS,
    RtpPacket,
    TelephoneEvent,
    build_rtp,
    build_telephone_event,
    digit_to_event,
    event_to_digit,
    parse_rtp,
    parse_telephone_event,
    rtp_payload_bounds,
)


def test_build_and_parse_round_trip() -> None:
    data = build_rtp(0, 65535, 0xFFFFFFFF, 0x12345678, b"\xff" * 160, marker=True)
    assert len(data) == 172
    assert data[:2] == b"\x80\x80"
    packet = parse_rtp(data)
    assert packet == RtpPacket(
        payload_type=0,
        seq=65535,
        timestamp=0xFFFFFFFF,
        ssrc=0x12345678,
        payload=b"\xff" * 160,
        marker=True,
    )


def test_build_wraps_counters() -> None:
    packet = parse_rtp(build_rtp(8, 65536 + 5, 2**32 + 7, 2**32 + 9, b"x"))
    assert packet is not None
    assert (packet.seq, packet.timestamp, packet.ssrc) == (5, 7, 9)


def test_csrc_and_extension_are_skipped() -> None:
    data = build_rtp(8, 1, 2, 3, b"audio", csrc=(10, 11), extension=(0xBEDE, b"\x01\x02\x03\x04"))
    packet = parse_rtp(data)
    assert packet is not None
    assert packet.csrc == (10, 11)
    assert packet.extension == (0xBEDE, b"\x01\x02\x03\x04")
    assert packet.payload == b"audio"
    assert rtp_payload_bounds(data) == (12 + 8 + 8, len(data))


def test_padding_is_stripped() -> None:
    data = bytearray(build_rtp(0, 1, 2, 3, b"abcd" + b"\x00\x00\x00\x04"))
    data[0] |= 0x20
    packet = parse_rtp(bytes(data))
    assert packet is not None and packet.payload == b"abcd"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x80\x00",
        b"\x80" + b"\x00" * 10,  # 11 bytes
        b"\x40" + b"\x00" * 20,  # version 1
        b"\xc0" + b"\x00" * 20,  # version 3
        b"\x82" + b"\x00" * 15,  # 2 CSRCs announced, 1 present
        b"\x90" + b"\x00" * 13,  # extension header cut short
        b"\x90" + b"\x00" * 13 + b"\x00\x05" + b"\x00" * 4,  # extension longer than packet
        b"\xa0" + b"\x00" * 12,  # padding count zero
        b"\xa0" + b"\x00" * 11 + b"\x20",  # padding longer than the payload
    ],
)
def test_malformed_is_none(data: bytes) -> None:
    assert parse_rtp(data) is None
    assert rtp_payload_bounds(data) is None


def test_empty_payload_is_valid() -> None:
    packet = parse_rtp(build_rtp(0, 1, 2, 3, b""))
    assert packet is not None and packet.payload == b""


@given(st.binary(max_size=80))
def test_parse_never_raises(data: bytes) -> None:
    packet = parse_rtp(data)
    if packet is not None:
        assert packet.version == 2
        assert len(packet.payload) <= len(data) - 12


@given(st.binary(min_size=12, max_size=60))
def test_truncation_never_raises(data: bytes) -> None:
    data = bytes([0x80 | (data[0] & 0x3F)]) + data[1:]
    for cut in range(len(data) + 1):
        parse_rtp(data[:cut])


def test_build_rejects_bad_fields() -> None:
    with pytest.raises(ValueError):
        build_rtp(128, 0, 0, 0, b"")
    with pytest.raises(ValueError):
        build_rtp(0, 0, 0, 0, b"", extension=(1, b"abc"))


def test_telephone_event_round_trip() -> None:
    event = TelephoneEvent(event=11, end=True, volume=10, duration=800)
    data = build_telephone_event(event)
    assert data == bytes([11, 0x80 | 10]) + struct.pack("!H", 800)
    assert parse_telephone_event(data) == event
    assert parse_telephone_event(data + b"\x00" * 4) == event
    assert parse_telephone_event(data[:3]) is None
    assert event.digit == "#"


def test_telephone_event_rejects_bad_fields() -> None:
    with pytest.raises(ValueError):
        TelephoneEvent(event=1, volume=64).to_bytes()
    with pytest.raises(ValueError):
        TelephoneEvent(event=1, duration=70000).to_bytes()


def test_digit_mapping() -> None:
    assert [digit_to_event(d) for d in DTMF_DIGITS] == list(range(16))
    assert digit_to_event("*") == 10
    assert digit_to_event("#") == 11
    assert digit_to_event("a") == 12
    assert digit_to_event("D") == 15
    assert [event_to_digit(i) for i in range(16)] == list("0123456789*#ABCD")
    assert event_to_digit(16) is None  # flash
    assert event_to_digit(-1) is None
    with pytest.raises(ValueError):
        digit_to_event("E")
