"""Minimal RTCP (RFC 3550 §6): SR/RR with one report block plus CNAME, and a parser
that validates compound packets and reads what receive-quality stats need.

The box sends one report per leg every few seconds; nothing here is on the packet path.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

SR = 200
RR = 201
SDES = 202
BYE = 203
APP = 204

_SDES_CNAME = 1
# Seconds between the NTP epoch (1900) and the Unix epoch (1970).
_NTP_UNIX_OFFSET = 2_208_988_800

_HEADER = struct.Struct("!BBH")
_SENDER_INFO = struct.Struct("!QIII")
_BLOCK = struct.Struct("!IIIIII")


@dataclass(frozen=True, slots=True)
class ReportBlock:
    """Reception quality of one source. `jitter` is in timestamp units; `lsr`/`dlsr`
    are the middle 32 bits of the last SR's NTP time and the delay since, in 1/65536 s."""

    ssrc: int
    fraction_lost: int = 0
    cumulative_lost: int = 0
    highest_seq: int = 0
    jitter: int = 0
    lsr: int = 0
    dlsr: int = 0

    def to_bytes(self) -> bytes:
        # Cumulative loss is a signed 24-bit field: duplicates can make it negative.
        lost = max(-0x800000, min(0x7FFFFF, self.cumulative_lost)) & 0xFFFFFF
        return _BLOCK.pack(
            self.ssrc & 0xFFFFFFFF,
            ((self.fraction_lost & 0xFF) << 24) | lost,
            self.highest_seq & 0xFFFFFFFF,
            max(0, self.jitter) & 0xFFFFFFFF,
            self.lsr & 0xFFFFFFFF,
            self.dlsr & 0xFFFFFFFF,
        )

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview, offset: int) -> ReportBlock:
        ssrc, lost_word, highest, jitter, lsr, dlsr = _BLOCK.unpack_from(data, offset)
        lost = lost_word & 0xFFFFFF
        if lost & 0x800000:
            lost -= 0x1000000
        return cls(ssrc, lost_word >> 24, lost, highest, jitter, lsr, dlsr)


@dataclass(frozen=True, slots=True)
class SenderInfo:
    ntp_timestamp: int  # 64-bit NTP format
    rtp_timestamp: int
    packet_count: int
    octet_count: int


@dataclass(frozen=True, slots=True)
class RtcpPacket:
    """One packet of a compound RTCP datagram. `ssrc` is the sender's (0 if absent)."""

    packet_type: int
    count: int
    ssrc: int
    sender_info: SenderInfo | None = None
    reports: tuple[ReportBlock, ...] = ()


def ntp_timestamp(unix_time: float) -> int:
    """64-bit NTP timestamp for a Unix wall-clock time."""
    return int((unix_time + _NTP_UNIX_OFFSET) * (1 << 32)) & 0xFFFFFFFFFFFFFFFF


def ntp_middle(ntp: int) -> int:
    """The middle 32 bits of an NTP timestamp, as carried in LSR."""
    return (ntp >> 16) & 0xFFFFFFFF


def _header(packet_type: int, count: int, body_len: int) -> bytes:
    # The length field counts 32-bit words minus one, header included.
    return _HEADER.pack(0x80 | count, packet_type, (body_len + 4) // 4 - 1)


def _sdes_cname(ssrc: int, cname: str) -> bytes:
    text = cname.encode()[:255]
    chunk = struct.pack("!IBB", ssrc & 0xFFFFFFFF, _SDES_CNAME, len(text)) + text
    # The item list ends with a null octet, then pads to a 32-bit boundary.
    chunk += b"\x00" * (4 - len(chunk) % 4)
    return _header(SDES, 1, len(chunk)) + chunk


def build_sr(
    ssrc: int, info: SenderInfo, report: ReportBlock | None = None, cname: str | None = None
) -> bytes:
    body = struct.pack("!I", ssrc & 0xFFFFFFFF) + _SENDER_INFO.pack(
        info.ntp_timestamp & 0xFFFFFFFFFFFFFFFF,
        info.rtp_timestamp & 0xFFFFFFFF,
        info.packet_count & 0xFFFFFFFF,
        info.octet_count & 0xFFFFFFFF,
    )
    if report is not None:
        body += report.to_bytes()
    out = _header(SR, 1 if report is not None else 0, len(body)) + body
    return out + _sdes_cname(ssrc, cname) if cname else out


def build_rr(ssrc: int, report: ReportBlock | None = None, cname: str | None = None) -> bytes:
    body = struct.pack("!I", ssrc & 0xFFFFFFFF)
    if report is not None:
        body += report.to_bytes()
    out = _header(RR, 1 if report is not None else 0, len(body)) + body
    return out + _sdes_cname(ssrc, cname) if cname else out


def _parse_one(
    data: bytes | bytearray | memoryview, at: int, count: int, packet_type: int, end: int
) -> RtcpPacket | None:
    body = at + 4
    ssrc = struct.unpack_from("!I", data, body)[0] if end - body >= 4 else 0
    if packet_type not in (SR, RR):
        return RtcpPacket(packet_type, count, ssrc)
    blocks_at = body + 4
    info = None
    if packet_type == SR:
        if end - blocks_at < _SENDER_INFO.size:
            return None
        info = SenderInfo(*_SENDER_INFO.unpack_from(data, blocks_at))
        blocks_at += _SENDER_INFO.size
    if blocks_at + count * _BLOCK.size > end:
        return None
    reports = tuple(ReportBlock.from_bytes(data, blocks_at + i * _BLOCK.size) for i in range(count))
    return RtcpPacket(packet_type, count, ssrc, info, reports)


def parse_rtcp(data: bytes | bytearray | memoryview) -> list[RtcpPacket] | None:
    """Split and validate a compound RTCP datagram (RFC 3550 A.2); None if invalid.

    Valid means: version 2 throughout, the first packet an SR or RR, and the length
    fields adding up exactly to the datagram. Never raises.
    """
    n = len(data)
    if n < 8 or data[0] >> 6 != 2 or data[1] not in (SR, RR):
        return None
    packets: list[RtcpPacket] = []
    at = 0
    while at < n:
        if n - at < 4:
            return None
        b0, packet_type, words = _HEADER.unpack_from(data, at)
        end = at + (words + 1) * 4
        if b0 >> 6 != 2 or end > n:
            return None
        # Only the last packet of a compound may carry padding.
        if b0 & 0x20 and end != n:
            return None
        packet = _parse_one(data, at, b0 & 0x1F, packet_type, end)
        if packet is None:
            return None
        packets.append(packet)
        at = end
    return packets
