"""`RtpSession`: the sans-I/O state of one RTP leg.

It owns no socket and reads no clock. The engine hands it each datagram with its
source address and arrival time; it answers what kind of packet that was, and keeps:

* the remote address, with symmetric RTP latching: media is sent to where the remote's
  media comes from, because SDP addresses behind NAT are often unreachable;
* receive statistics per RFC 3550 (A.1 sequence tracking, A.8 interarrival jitter);
* RFC 4733 DTMF, each key press reported once however many times its packets repeat;
* the outbound sequence/timestamp/SSRC for audio the box generates itself (IVR).

`receive()` is on the relay path, so it parses the header inline and returns an int
kind with the parsed fields left in attributes, rather than building objects.
"""

from __future__ import annotations

import ipaddress
import math
import random
import struct
from dataclasses import dataclass
from typing import Any

from firmware.media.codecs import CLOCK_RATE, SAMPLES_PER_FRAME, TELEPHONE_EVENT_PT
from firmware.media.rtcp import (
    RR,
    SR,
    ReportBlock,
    SenderInfo,
    build_rr,
    build_sr,
    ntp_middle,
    ntp_timestamp,
    parse_rtcp,
)
from firmware.media.rtp import (
    RTP_HEADER_LEN,
    TelephoneEvent,
    digit_to_event,
    event_to_digit,
    rtp_payload_bounds,
)

Address = tuple[Any, ...]

RX_DROP = 0
RX_AUDIO = 1
RX_DTMF = 2

# RFC 3550 A.1: a forward jump up to MAX_DROPOUT is loss; a step back up to MAX_MISORDER
# is reordering; anything else is a sender restart, believed once two packets agree.
MAX_DROPOUT = 3000
MAX_MISORDER = 100

_HEADER = struct.Struct("!BBHII")
_SEQ_TS_SSRC = struct.Struct("!HII")

# Payload types 64-95 collide with RTCP packet types when multiplexed (RFC 5761).
_RTCP_MUX_PTS = range(64, 96)

# A long event is split into segments of at most 0xFFFF samples (RFC 4733 §2.5.1.3);
# these bound how a new segment's timestamp follows the last one.
_SEGMENT_FULL = 0xFFFF - 2 * SAMPLES_PER_FRAME
_SEGMENT_SLACK = 10 * SAMPLES_PER_FRAME


# SDP addresses that say nothing about where the packets will come from when the
# phone sits behind NAT: RFC 1918, carrier-grade NAT, link-local, loopback, ULA.
# (`ipaddress.is_private` would also count documentation and other reserved nets.)
_NAT_PRONE = tuple(
    ipaddress.ip_network(net)
    for net in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "169.254.0.0/16",
        "127.0.0.0/8",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


def _nat_prone(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(ip.version == net.version and ip in net for net in _NAT_PRONE)


def _signed32(value: int) -> int:
    return ((value + 0x80000000) & 0xFFFFFFFF) - 0x80000000


@dataclass(frozen=True, slots=True)
class DtmfEvent:
    digit: str
    timestamp: int
    ssrc: int
    arrival: float


@dataclass(frozen=True, slots=True)
class RtpStats:
    """A snapshot of one leg's media counters."""

    remote: tuple[str, int] | None
    latched: bool
    packets_received: int
    bytes_received: int  # payload octets
    expected: int
    lost: int  # expected - received; negative when duplicates arrived
    jitter_ms: float
    dropped: int  # not RTP, from a foreign source, or an unnegotiated payload type
    packets_sent: int
    bytes_sent: int
    rtcp_received: int
    remote_fraction_lost: float | None  # what the remote reports about our stream
    remote_jitter_ms: float | None
    rtt_ms: float | None


class RtpSession:
    def __init__(
        self, ssrc: int | None = None, cname: str = "ccbox", rng: random.Random | None = None
    ) -> None:
        gen = rng or random.SystemRandom()
        self.ssrc = gen.getrandbits(32) if ssrc is None else ssrc & 0xFFFFFFFF
        self.cname = cname
        self.audio_pt = -1
        self.dtmf_pt = -1

        # Where to send: the latched source once media arrived, else the SDP address.
        self.remote_addr: Address | None = None
        self._sdp_addr: tuple[str, int] | None = None
        self._expected_host: str | None = None
        self._any_host = True
        self._latched: Address | None = None
        # A fallback latch (source is not the SDP host) gives way to the SDP host.
        self._latched_strongly = False
        self._rtcp_addr: Address | None = None

        # Fields of the last accepted packet, read by the engine after receive().
        self.last_start = 0
        self.last_end = 0
        self.last_ts = 0
        self.last_ssrc = 0
        self.dtmf_events: list[DtmfEvent] = []

        self._src_ssrc = -1
        self._base_seq = 0
        self._max_seq = 0
        self._cycles = 0
        self._bad_seq = -1
        self._received = 0
        self._received_prior = 0  # for the next report block's fraction lost
        self._expected_prior = 0
        self._closed_expected = 0  # totals of earlier sources, kept across SSRC changes
        self._closed_received = 0
        self._octets = 0
        self._dropped = 0
        self._jitter = 0.0
        self._jitter_arrival = -1.0
        self._jitter_ts = 0

        self._ev_ssrc = -1
        self._ev_ts = 0
        self._ev_code = -1
        self._ev_duration = 0
        self._ev_ended = True

        self.packets_sent = 0
        self.bytes_sent = 0
        self._seq = gen.getrandbits(16)
        self._ts = gen.getrandbits(32)
        self._own_packets = 0
        self._own_octets = 0
        self._own_since_report = False

        self._rtcp_received = 0
        self._lsr = 0
        self._lsr_arrival = 0.0
        self._remote_fraction_lost: float | None = None
        self._remote_jitter_ms: float | None = None
        self._rtt: float | None = None

    # -- configuration -------------------------------------------------------------

    def configure(self, audio_pt: int | None, dtmf_pt: int | None) -> None:
        """The payload types negotiated for this leg (None: not negotiated)."""
        self.audio_pt = -1 if audio_pt is None else audio_pt
        self.dtmf_pt = -1 if dtmf_pt is None else dtmf_pt

    def set_remote(self, host: str, port: int) -> None:
        """The address from SDP. A new one resets latching: the media may have moved."""
        if (host, port) == self._sdp_addr:
            # A re-INVITE for hold or a session refresh: the latch is still right, and
            # dropping it would send to an unreachable NATed address until media returns.
            return
        self._sdp_addr = (host, port)
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None  # an FQDN cannot be matched against packet sources
        if ip is None or ip.is_unspecified or port == 0:
            # 0.0.0.0 / port 0 is old-style hold or a broken offer: only latching helps.
            self._expected_host = None
            self._any_host = True
            self.remote_addr = None
        else:
            self._expected_host = str(ip)
            # A private SDP address seen from elsewhere means a NAT in between.
            self._any_host = _nat_prone(ip)
            self.remote_addr = (self._expected_host, port)
        self._latched = None
        self._latched_strongly = False
        self._rtcp_addr = None

    @property
    def latched(self) -> bool:
        return self._latched is not None

    @property
    def rtcp_remote(self) -> Address | None:
        if self._rtcp_addr is not None:
            return self._rtcp_addr
        if self.remote_addr is None:
            return None
        return (self.remote_addr[0], self.remote_addr[1] + 1)

    def _take_source(self, addr: Address) -> bool:
        """Whether media from `addr` (not the latched address) is accepted; latches."""
        host = addr[0]
        expected = self._expected_host
        if expected is not None and host == expected:
            if self._latched is not None and self._latched_strongly:
                return False
            self._latched_strongly = True
        elif self._latched is not None or not (expected is None or self._any_host):
            return False
        self._latched = addr
        self.remote_addr = addr
        return True

    # -- receive path --------------------------------------------------------------

    def receive(self, data: bytes, addr: Address, now: float) -> int:
        """Account one datagram from the RTP socket; returns RX_DROP/RX_AUDIO/RX_DTMF.

        For an accepted packet, `last_start`/`last_end` bound the payload and
        `last_ts`/`last_ssrc` are its header fields; new key presses are appended
        to `dtmf_events`.
        """
        n = len(data)
        if n < RTP_HEADER_LEN:
            self._dropped += 1
            return RX_DROP
        b0 = data[0]
        if b0 & 0xC0 != 0x80:
            self._dropped += 1
            return RX_DROP
        if b0 & 0x30:
            bounds = rtp_payload_bounds(data)
            if bounds is None:
                self._dropped += 1
                return RX_DROP
            start, end = bounds
        else:
            start = RTP_HEADER_LEN + (b0 & 0x0F) * 4
            end = n
            if end < start:
                self._dropped += 1
                return RX_DROP
        pt = data[1] & 0x7F
        if pt == self.audio_pt:
            kind = RX_AUDIO
        elif pt == self.dtmf_pt:
            kind = RX_DTMF
        elif self.audio_pt < 0 and pt not in _RTCP_MUX_PTS:
            # Not negotiated yet (early media): still worth latching and counting.
            kind = RX_AUDIO
        else:
            self._dropped += 1
            return RX_DROP
        if addr != self._latched and not self._take_source(addr):
            self._dropped += 1
            return RX_DROP

        seq, ts, ssrc = _SEQ_TS_SSRC.unpack_from(data, 2)
        counted = True
        if ssrc != self._src_ssrc:
            self._start_source(ssrc, seq)
        else:
            udelta = (seq - self._max_seq) & 0xFFFF
            if udelta < MAX_DROPOUT:
                if seq < self._max_seq:
                    self._cycles += 0x10000
                self._max_seq = seq
            elif udelta <= 0x10000 - MAX_MISORDER:
                if seq == self._bad_seq:
                    self._start_source(ssrc, seq)
                else:
                    # Relayed anyway; only kept out of the stats until confirmed.
                    self._bad_seq = (seq + 1) & 0xFFFF
                    counted = False
        if counted:
            self._received += 1
            self._octets += end - start

        if kind == RX_AUDIO:
            if self._jitter_arrival >= 0.0:
                # RFC 3550 A.8, with the timestamp step taken as a signed 32-bit
                # difference so that wrap-around is a small step.
                step = ((ts - self._jitter_ts + 0x80000000) & 0xFFFFFFFF) - 0x80000000
                d = (now - self._jitter_arrival) * CLOCK_RATE - step
                if d < 0.0:
                    d = -d
                self._jitter += (d - self._jitter) * 0.0625
            self._jitter_arrival = now
            self._jitter_ts = ts
        else:
            self._dtmf(data, start, end, ts, ssrc, now)

        self.last_start = start
        self.last_end = end
        self.last_ts = ts
        self.last_ssrc = ssrc
        return kind

    def _start_source(self, ssrc: int, seq: int) -> None:
        if self._src_ssrc >= 0:
            self._closed_expected += self._cur_expected()
            self._closed_received += self._received
        self._src_ssrc = ssrc
        self._base_seq = seq
        self._max_seq = seq
        self._cycles = 0
        self._bad_seq = -1
        self._received = 0
        self._received_prior = 0
        self._expected_prior = 0
        self._jitter_arrival = -1.0

    def _cur_expected(self) -> int:
        return self._cycles + self._max_seq - self._base_seq + 1 if self._src_ssrc >= 0 else 0

    def _dtmf(self, data: bytes, start: int, end: int, ts: int, ssrc: int, now: float) -> None:
        if end - start < 4:
            return
        code = data[start]
        ended = bool(data[start + 1] & 0x80)
        duration = (data[start + 2] << 8) | data[start + 3]
        if ssrc == self._ev_ssrc:
            delta = _signed32(ts - self._ev_ts)
            if delta == 0:
                # A repeat of the current event: the timestamp is its identity.
                if duration > self._ev_duration:
                    self._ev_duration = duration
                self._ev_ended = self._ev_ended or ended
                return
            if delta < 0:
                return  # a straggler from an event already reported
            continuation = (
                code == self._ev_code
                and not self._ev_ended
                and self._ev_duration >= _SEGMENT_FULL
                and self._ev_duration - _SEGMENT_SLACK <= delta <= 0xFFFF + _SEGMENT_SLACK
            )
        else:
            continuation = False
        self._ev_ssrc = ssrc
        self._ev_ts = ts
        self._ev_code = code
        self._ev_duration = duration
        self._ev_ended = ended
        if continuation:
            return
        digit = event_to_digit(code)
        if digit is not None:
            self.dtmf_events.append(DtmfEvent(digit, ts, ssrc, now))

    # -- RTCP ----------------------------------------------------------------------

    def receive_rtcp(self, data: bytes, addr: Address, now: float, wallclock: float) -> bool:
        """Account one datagram from the RTCP socket; True if it was valid RTCP."""
        if addr != self._rtcp_addr:
            rtp_host = self.remote_addr[0] if self.remote_addr is not None else None
            if addr[0] != rtp_host and not self._any_host:
                return False
        packets = parse_rtcp(data)
        if packets is None:
            return False
        self._rtcp_addr = addr
        self._rtcp_received += 1
        for packet in packets:
            if packet.packet_type == SR and packet.sender_info is not None:
                self._lsr = ntp_middle(packet.sender_info.ntp_timestamp)
                self._lsr_arrival = now
            if packet.packet_type not in (SR, RR) or not packet.reports:
                continue
            block = next((b for b in packet.reports if b.ssrc == self.ssrc), packet.reports[0])
            self._remote_fraction_lost = block.fraction_lost / 256.0
            self._remote_jitter_ms = block.jitter * 1000.0 / CLOCK_RATE
            if block.lsr and block.ssrc == self.ssrc:
                rtt = (
                    (ntp_middle(ntp_timestamp(wallclock)) - block.lsr - block.dlsr) & 0xFFFFFFFF
                ) / 65536.0
                # A wrapped or skewed value is noise, not a 9-hour round trip.
                if rtt < 60.0:
                    self._rtt = rtt
        return True

    def _report_block(self, now: float) -> ReportBlock | None:
        if self._src_ssrc < 0:
            return None
        expected = self._cur_expected()
        expected_interval = expected - self._expected_prior
        received_interval = self._received - self._received_prior
        self._expected_prior = expected
        self._received_prior = self._received
        lost_interval = expected_interval - received_interval
        fraction = 0
        if expected_interval > 0 and lost_interval > 0:
            fraction = (lost_interval << 8) // expected_interval
        dlsr = int((now - self._lsr_arrival) * 65536) if self._lsr else 0
        return ReportBlock(
            ssrc=self._src_ssrc,
            fraction_lost=min(fraction, 255),
            cumulative_lost=expected - self._received,
            highest_seq=self._cycles + self._max_seq,
            jitter=int(self._jitter),
            lsr=self._lsr,
            dlsr=dlsr,
        )

    def build_rtcp(self, now: float, wallclock: float) -> bytes:
        """The periodic report: an SR if we generated audio since the last one, else RR."""
        block = self._report_block(now)
        if self._own_since_report:
            self._own_since_report = False
            info = SenderInfo(
                ntp_timestamp(wallclock), self._ts, self._own_packets, self._own_octets
            )
            return build_sr(self.ssrc, info, block, self.cname)
        return build_rr(self.ssrc, block, self.cname)

    # -- statistics ----------------------------------------------------------------

    def stats(self) -> RtpStats:
        expected = self._closed_expected + self._cur_expected()
        received = self._closed_received + self._received
        remote = None if self.remote_addr is None else (self.remote_addr[0], self.remote_addr[1])
        return RtpStats(
            remote=remote,
            latched=self._latched is not None,
            packets_received=received,
            bytes_received=self._octets,
            expected=expected,
            lost=expected - received,
            jitter_ms=self._jitter * 1000.0 / CLOCK_RATE,
            dropped=self._dropped,
            packets_sent=self.packets_sent,
            bytes_sent=self.bytes_sent,
            rtcp_received=self._rtcp_received,
            remote_fraction_lost=self._remote_fraction_lost,
            remote_jitter_ms=self._remote_jitter_ms,
            rtt_ms=None if self._rtt is None else self._rtt * 1000.0,
        )

    # -- generated audio -----------------------------------------------------------

    def next_packet(self, payload: bytes, pt: int, marker: bool = False) -> bytes:
        """The next packet of our own stream; the timestamp advances one per byte (G.711)."""
        packet = (
            _HEADER.pack(
                0x80, (0x80 if marker else 0) | (pt & 0x7F), self._seq, self._ts, self.ssrc
            )
            + payload
        )
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + len(payload)) & 0xFFFFFFFF
        self._count_own(len(payload))
        return packet

    def advance(self, samples: int) -> None:
        """Move our timestamp over a stretch we did not send (a pause in a prompt)."""
        self._ts = (self._ts + samples) & 0xFFFFFFFF

    def dtmf_packets(
        self, digit: str, duration_ms: int, pt: int | None = None, volume: int = 10
    ) -> list[bytes]:
        """The RFC 4733 packets of one key press, to be sent 20 ms apart.

        One timestamp for the whole event, growing durations, the end packet three
        times (it carries the only reliable duration), then our clock moves past it.
        """
        code = digit_to_event(digit)
        if not 0 < duration_ms <= 8000:
            raise ValueError(f"DTMF duration {duration_ms} ms out of range")
        if pt is None:
            pt = self.dtmf_pt if self.dtmf_pt >= 0 else TELEPHONE_EVENT_PT
        total = duration_ms * CLOCK_RATE // 1000
        steps = math.ceil(total / SAMPLES_PER_FRAME)
        ts = self._ts
        packets = []
        for i in range(1, steps):
            payload = TelephoneEvent(code, False, volume, i * SAMPLES_PER_FRAME).to_bytes()
            packets.append(self._event_packet(pt, i == 1, ts, payload))
        final = TelephoneEvent(code, True, volume, total).to_bytes()
        for i in range(3):
            packets.append(self._event_packet(pt, steps == 1 and i == 0, ts, final))
        self._ts = (ts + total) & 0xFFFFFFFF
        return packets

    def _event_packet(self, pt: int, marker: bool, ts: int, payload: bytes) -> bytes:
        packet = (
            _HEADER.pack(0x80, (0x80 if marker else 0) | (pt & 0x7F), self._seq, ts, self.ssrc)
            + payload
        )
        self._seq = (self._seq + 1) & 0xFFFF
        self._count_own(len(payload))
        return packet

    def _count_own(self, octets: int) -> None:
        self._own_packets += 1
        self._own_octets += octets
        self._own_since_report = True
        self.packets_sent += 1
        self.bytes_sent += octets
