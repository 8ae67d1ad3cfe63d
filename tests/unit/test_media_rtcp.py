import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.media.rtcp import (
    RR,
    SDES,
    SR,
    ReportBlock,
    SenderInfo,
    build_rr,
    build_sr,
    ntp_middle,
    ntp_timestamp,
    parse_rtcp,
)

BLOCK = ReportBlock(
    ssrc=0xCAFEBABE,
    fraction_lost=25,
    cumulative_lost=-3,
    highest_seq=70000,
    jitter=42,
    lsr=0x12345678,
    dlsr=65536,
)


def test_rr_round_trip() -> None:
    data = build_rr(0x11111111, BLOCK)
    assert len(data) == 32
    assert data[0] == 0x81 and data[1] == RR
    assert struct.unpack("!H", data[2:4])[0] == 7
    packets = parse_rtcp(data)
    assert packets is not None and len(packets) == 1
    assert packets[0].packet_type == RR
    assert packets[0].ssrc == 0x11111111
    assert packets[0].reports == (BLOCK,)


def test_sr_with_cname_is_a_valid_compound() -> None:
    info = SenderInfo(ntp_timestamp(1_700_000_000.5), 160, 10, 1600)
    data = build_sr(0x22222222, info, BLOCK, cname="ccbox@box")
    assert len(data) % 4 == 0
    packets = parse_rtcp(data)
    assert packets is not None
    assert [p.packet_type for p in packets] == [SR, SDES]
    assert packets[0].sender_info == info
    assert packets[0].reports == (BLOCK,)
    assert packets[1].ssrc == 0x22222222
    assert b"ccbox@box" in data


def test_empty_rr() -> None:
    packets = parse_rtcp(build_rr(5))
    assert packets is not None and packets[0].count == 0 and packets[0].reports == ()


@pytest.mark.parametrize("cname", ["", "a", "ab", "abc", "abcd", "x" * 300])
def test_cname_padding(cname: str) -> None:
    data = build_rr(1, None, cname=cname or None)
    assert len(data) % 4 == 0
    assert parse_rtcp(data) is not None


def test_invalid_compounds() -> None:
    good = build_rr(1, BLOCK, cname="c")
    assert parse_rtcp(good[:-4]) is None  # length mismatch
    assert parse_rtcp(good + b"\x00\x00\x00\x00") is None
    assert parse_rtcp(bytes([0x41]) + good[1:]) is None  # version 1
    sdes_first = good[32:] + good[:32]
    assert parse_rtcp(sdes_first) is None  # must start with SR/RR
    lying_count = bytes([0x83]) + good[1:]  # claims 3 blocks, carries 1
    assert parse_rtcp(lying_count) is None
    assert parse_rtcp(b"") is None
    assert parse_rtcp(b"\x80\xc8") is None


@given(st.binary(max_size=120))
def test_parse_never_raises(data: bytes) -> None:
    parse_rtcp(data)
    parse_rtcp(b"\x80\xc9" + data)


def test_ntp_helpers() -> None:
    ntp = ntp_timestamp(0.0)
    assert ntp >> 32 == 2_208_988_800
    assert ntp_timestamp(0.5) & 0xFFFFFFFF == 1 << 31
    assert ntp_middle(ntp_timestamp(0.5)) == ((2_208_988_800 & 0xFFFF) << 16) | 0x8000


def test_cumulative_lost_clamps() -> None:
    block = ReportBlock(ssrc=1, cumulative_lost=10**9)
    assert ReportBlock.from_bytes(block.to_bytes(), 0).cumulative_lost == 0x7FFFFF
    block = ReportBlock(ssrc=1, cumulative_lost=-(10**9))
    assert ReportBlock.from_bytes(block.to_bytes(), 0).cumulative_lost == -0x800000
