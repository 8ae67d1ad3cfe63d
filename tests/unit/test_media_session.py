import random

import pytest

from firmware.media.rtcp import RR, SR, parse_rtcp
from firmware.media.rtp import TelephoneEvent, build_rtp, parse_rtp, parse_telephone_event
from firmware.media.session import RX_AUDIO, RX_DROP, RX_DTMF, RtpSession

PCMU = 0
DTMF = 101
PHONE = ("192.0.2.10", 4000)


def make_session(pt: int = PCMU, dtmf: int | None = DTMF) -> RtpSession:
    session = RtpSession(rng=random.Random(1))
    session.configure(pt, dtmf)
    return session


def audio(seq: int, ts: int | None = None, ssrc: int = 0xABC, pt: int = PCMU) -> bytes:
    return build_rtp(pt, seq, seq * 160 if ts is None else ts, ssrc, b"\xff" * 160)


def event(code: int, ts: int, duration: int, end: bool = False, marker: bool = False) -> bytes:
    payload = TelephoneEvent(code, end, 10, duration).to_bytes()
    return build_rtp(
        DTMF, ts // 160 + duration // 160 + (1000 if end else 0), ts, 0xABC, payload, marker
    )


# -- latching ---------------------------------------------------------------------


def test_latches_to_actual_port_of_sdp_host() -> None:
    s = make_session()
    s.set_remote("203.0.113.5", 4000)
    assert s.remote_addr == ("203.0.113.5", 4000) and not s.latched
    assert s.receive(audio(1), ("203.0.113.5", 5000), 0.0) == RX_AUDIO
    assert s.latched and s.remote_addr == ("203.0.113.5", 5000)
    # Once latched, another source is an intruder, even on the same host.
    assert s.receive(audio(2), ("203.0.113.5", 6000), 0.02) == RX_DROP
    assert s.remote_addr == ("203.0.113.5", 5000)
    assert s.receive(audio(3), ("203.0.113.5", 5000), 0.04) == RX_AUDIO
    assert s.stats().dropped == 1


def test_public_sdp_host_rejects_other_hosts() -> None:
    s = make_session()
    s.set_remote("203.0.113.5", 4000)
    assert s.receive(audio(1), ("198.51.100.7", 4000), 0.0) == RX_DROP
    assert not s.latched


def test_private_sdp_behind_nat_latches_to_what_arrives() -> None:
    s = make_session()
    s.set_remote("192.168.1.20", 4000)
    assert s.receive(audio(1), ("198.51.100.7", 31000), 0.0) == RX_AUDIO
    assert s.remote_addr == ("198.51.100.7", 31000)
    # The SDP host itself turning up wins over a fallback latch...
    assert s.receive(audio(2), ("192.168.1.20", 4000), 0.02) == RX_AUDIO
    assert s.remote_addr == ("192.168.1.20", 4000)
    # ...after which nothing else may take over.
    assert s.receive(audio(3), ("198.51.100.7", 31000), 0.04) == RX_DROP
    assert s.remote_addr == ("192.168.1.20", 4000)


@pytest.mark.parametrize("host", ["0.0.0.0", "phone.example.com", "::"])
def test_unusable_sdp_address_latches_to_first_source(host: str) -> None:
    s = make_session()
    s.set_remote(host, 4000)
    assert s.remote_addr is None
    assert s.receive(audio(1), PHONE, 0.0) == RX_AUDIO
    assert s.remote_addr == PHONE


def test_no_sdp_yet_latches_to_first_source() -> None:
    s = make_session()
    assert s.receive(audio(1), PHONE, 0.0) == RX_AUDIO
    assert s.remote_addr == PHONE
    assert s.receive(audio(2), ("192.0.2.11", 4000), 0.02) == RX_DROP


def test_new_sdp_resets_latching() -> None:
    s = make_session()
    s.set_remote("203.0.113.5", 4000)
    s.receive(audio(1), ("203.0.113.5", 5000), 0.0)
    s.set_remote("203.0.113.5", 4002)
    assert s.remote_addr == ("203.0.113.5", 4002) and not s.latched
    assert s.receive(audio(2), ("203.0.113.5", 5002), 0.02) == RX_AUDIO
    assert s.remote_addr == ("203.0.113.5", 5002)


def test_same_sdp_again_keeps_the_latch() -> None:
    s = make_session()
    s.set_remote("192.168.1.20", 4000)
    s.receive(audio(1), ("198.51.100.7", 31000), 0.0)
    s.set_remote("192.168.1.20", 4000)  # a hold re-INVITE repeats the address
    assert s.latched and s.remote_addr == ("198.51.100.7", 31000)


def test_only_valid_negotiated_packets_latch() -> None:
    s = make_session()
    assert s.receive(b"\x00" * 172, PHONE, 0.0) == RX_DROP  # not RTP v2
    assert s.receive(audio(1)[:11], PHONE, 0.0) == RX_DROP
    assert s.receive(audio(1, pt=18), PHONE, 0.0) == RX_DROP  # G.729: not negotiated
    assert not s.latched
    assert s.receive(audio(1), PHONE, 0.0) == RX_AUDIO
    assert s.latched


def test_unconfigured_session_accepts_audio_but_not_rtcp() -> None:
    s = RtpSession()
    assert s.receive(audio(1, pt=8), PHONE, 0.0) == RX_AUDIO
    assert s.receive(build_rtp(72, 1, 1, 1, b"\x00" * 20), PHONE, 0.0) == RX_DROP


def test_payload_bounds_and_fields_exposed() -> None:
    s = make_session()
    data = build_rtp(PCMU, 7, 1234, 99, b"abc", csrc=(5,))
    assert s.receive(data, PHONE, 0.0) == RX_AUDIO
    assert data[s.last_start : s.last_end] == b"abc"
    assert (s.last_ts, s.last_ssrc) == (1234, 99)


# -- statistics -------------------------------------------------------------------


def test_loss_counting() -> None:
    s = make_session()
    for seq in range(100):
        if seq % 10 != 3:
            s.receive(audio(seq), PHONE, seq * 0.02)
    stats = s.stats()
    assert (stats.packets_received, stats.expected, stats.lost) == (90, 100, 10)
    assert stats.bytes_received == 90 * 160


def test_sequence_wrap() -> None:
    s = make_session()
    for i in range(200):
        s.receive(audio((65500 + i) & 0xFFFF, ts=i * 160), PHONE, i * 0.02)
    stats = s.stats()
    assert (stats.expected, stats.lost) == (200, 0)


def test_reordering_and_duplicates() -> None:
    s = make_session()
    for seq in [1, 2, 4, 3, 5, 5, 6]:
        s.receive(audio(seq), PHONE, seq * 0.02)
    stats = s.stats()
    assert stats.expected == 6
    assert stats.packets_received == 7
    assert stats.lost == -1


def test_sender_restart_needs_two_packets() -> None:
    s = make_session()
    for seq in range(10):
        s.receive(audio(seq), PHONE, seq * 0.02)
    # A lone wild sequence number is relayed but kept out of the stats...
    assert s.receive(audio(40000), PHONE, 0.2) == RX_AUDIO
    assert s.stats().packets_received == 10
    # ...two in a row mean the sender restarted.
    s.receive(audio(40001), PHONE, 0.22)
    s.receive(audio(40002), PHONE, 0.24)
    stats = s.stats()
    assert (stats.packets_received, stats.expected, stats.lost) == (12, 12, 0)


def test_ssrc_change_keeps_totals() -> None:
    s = make_session()
    for seq in range(10):
        s.receive(audio(seq, ssrc=1), PHONE, seq * 0.02)
    for seq in range(500, 510):
        if seq != 505:
            s.receive(audio(seq, ssrc=2), PHONE, 0.2 + seq * 0.02)
    stats = s.stats()
    assert (stats.packets_received, stats.expected, stats.lost) == (19, 20, 1)


def test_jitter_zero_for_perfect_pacing() -> None:
    s = make_session()
    for seq in range(50):
        s.receive(audio(seq), PHONE, 1.0 + seq * 0.02)
    assert s.stats().jitter_ms == pytest.approx(0.0, abs=1e-6)


def test_jitter_converges_to_the_delay_swing() -> None:
    s = make_session()
    for seq in range(400):
        delay = 0.01 if seq % 2 else 0.0
        s.receive(audio(seq), PHONE, seq * 0.02 + delay)
    # |D| is 10 ms every packet, so J tends to 10 ms (RFC 3550 A.8).
    assert s.stats().jitter_ms == pytest.approx(10.0, rel=0.01)


def test_jitter_handles_timestamp_wrap() -> None:
    s = make_session()
    for i in range(50):
        s.receive(audio(i, ts=(2**32 - 800 + i * 160) & 0xFFFFFFFF), PHONE, i * 0.02)
    assert s.stats().jitter_ms < 0.01


# -- DTMF ---------------------------------------------------------------------------


def press(code: int, ts: int, steps: int = 5) -> list[bytes]:
    """What a phone sends for one key: the start 3 times, updates, the end 3 times."""
    packets = [event(code, ts, 160, marker=True)] * 3
    packets += [event(code, ts, 160 * i) for i in range(2, steps)]
    packets += [event(code, ts, 160 * steps, end=True)] * 3
    return packets


def digits(s: RtpSession) -> list[str]:
    out = [e.digit for e in s.dtmf_events]
    s.dtmf_events.clear()
    return out


def test_each_press_reported_once() -> None:
    s = make_session()
    for packet in press(5, 8000) + press(5, 16000) + press(11, 24000):
        assert s.receive(packet, PHONE, 0.0) == RX_DTMF
    assert digits(s) == ["5", "5", "#"]


def test_press_reported_on_first_packet_seen() -> None:
    s = make_session()
    # The start packets were lost: the end packet alone is enough.
    s.receive(event(1, 800, 800, end=True), PHONE, 0.0)
    assert digits(s) == ["1"]
    s.receive(event(1, 800, 800, end=True), PHONE, 0.0)
    assert digits(s) == []


def test_straggler_of_an_earlier_press_is_ignored() -> None:
    s = make_session()
    s.receive(event(1, 800, 160, marker=True), PHONE, 0.0)
    s.receive(event(2, 4000, 160, marker=True), PHONE, 0.0)
    s.receive(event(1, 800, 800, end=True), PHONE, 0.0)
    assert digits(s) == ["1", "2"]


def test_long_event_segments_are_one_press() -> None:
    s = make_session()
    s.receive(event(0, 1000, 0xFFFF), PHONE, 0.0)
    s.receive(event(0, 1000 + 0xFFFF, 3200, end=True), PHONE, 0.0)
    assert digits(s) == ["0"]


def test_non_dtmf_events_are_relayed_not_reported() -> None:
    s = make_session()
    assert s.receive(event(16, 1000, 160), PHONE, 0.0) == RX_DTMF  # flash
    assert digits(s) == []


def test_dtmf_does_not_disturb_jitter() -> None:
    s = make_session()
    for seq in range(20):
        s.receive(audio(seq), PHONE, seq * 0.02)
    for i, packet in enumerate(press(3, 20 * 160)):
        s.receive(packet, PHONE, 0.4 + i * 0.02)
    assert s.stats().jitter_ms == pytest.approx(0.0, abs=1e-6)


# -- our own stream -------------------------------------------------------------------


def test_next_packet_sequence() -> None:
    s = make_session()
    first = parse_rtp(s.next_packet(b"\xff" * 160, PCMU, marker=True))
    second = parse_rtp(s.next_packet(b"\xff" * 160, PCMU))
    assert first is not None and second is not None
    assert first.marker and not second.marker
    assert second.seq == (first.seq + 1) & 0xFFFF
    assert second.timestamp == (first.timestamp + 160) & 0xFFFFFFFF
    assert first.ssrc == second.ssrc == s.ssrc
    s.advance(800)
    third = parse_rtp(s.next_packet(b"\xff" * 160, PCMU))
    assert third is not None and third.timestamp == (second.timestamp + 960) & 0xFFFFFFFF
    assert s.stats().packets_sent == 3


def test_dtmf_packets_layout() -> None:
    s = make_session()
    before = parse_rtp(s.next_packet(b"\xff" * 160, PCMU))
    packets = [parse_rtp(p) for p in s.dtmf_packets("7", 100)]
    after = parse_rtp(s.next_packet(b"\xff" * 160, PCMU))
    assert before is not None and after is not None
    assert all(p is not None and p.payload_type == DTMF for p in packets)
    events = [parse_telephone_event(p.payload) for p in packets if p is not None]
    assert [e.duration for e in events if e] == [160, 320, 480, 640, 800, 800, 800]
    assert [e.end for e in events if e] == [False] * 4 + [True] * 3
    assert all(e is not None and e.event == 7 for e in events)
    assert [p.marker for p in packets if p] == [True] + [False] * 6
    assert {p.timestamp for p in packets if p} == {before.timestamp + 160}
    seqs = [p.seq for p in packets if p]
    assert seqs == [(before.seq + 1 + i) & 0xFFFF for i in range(7)]
    assert after.timestamp == before.timestamp + 160 + 800


def test_generated_dtmf_is_detected_once() -> None:
    sender = make_session()
    receiver = make_session()
    for digit in "12#*A":
        for packet in sender.dtmf_packets(digit, 80):
            receiver.receive(packet, PHONE, 0.0)
    assert digits(receiver) == list("12#*A")


def test_short_dtmf_and_bad_input() -> None:
    s = make_session()
    packets = [parse_rtp(p) for p in s.dtmf_packets("1", 10)]
    assert len(packets) == 3 and all(
        p is not None and p.marker == (i == 0) for i, p in enumerate(packets)
    )
    with pytest.raises(ValueError):
        s.dtmf_packets("X", 100)
    with pytest.raises(ValueError):
        s.dtmf_packets("1", 0)


# -- RTCP -----------------------------------------------------------------------------


def test_receiver_report_describes_what_arrived() -> None:
    s = make_session()
    for seq in range(100):
        if seq not in (10, 11):
            s.receive(audio(seq, ssrc=0x5555), PHONE, seq * 0.02)
    packets = parse_rtcp(s.build_rtcp(2.0, 1_700_000_000.0))
    assert packets is not None and packets[0].packet_type == RR
    block = packets[0].reports[0]
    assert block.ssrc == 0x5555
    assert block.cumulative_lost == 2
    assert block.highest_seq == 99
    assert block.fraction_lost == (2 << 8) // 100
    # The next interval saw no loss.
    for seq in range(100, 150):
        s.receive(audio(seq, ssrc=0x5555), PHONE, seq * 0.02)
    packets = parse_rtcp(s.build_rtcp(3.0, 1_700_000_001.0))
    assert packets is not None and packets[0].reports[0].fraction_lost == 0


def test_sender_report_and_round_trip_time() -> None:
    box = make_session()
    phone = make_session()
    box.receive(audio(1), PHONE, 0.0)
    for _ in range(5):
        phone.receive(box.next_packet(b"\xff" * 160, PCMU), ("192.0.2.1", 10000), 0.0)
    sr = box.build_rtcp(now=10.0, wallclock=1_700_000_000.0)
    sr_packets = parse_rtcp(sr)
    assert sr_packets is not None and sr_packets[0].packet_type == SR
    assert sr_packets[0].sender_info is not None and sr_packets[0].sender_info.packet_count == 5
    # The phone holds the SR for 50 ms before its RR; the network adds 30 ms.
    assert phone.receive_rtcp(sr, ("192.0.2.1", 10001), 100.0, 1_700_000_000.015)
    rr = phone.build_rtcp(now=100.05, wallclock=1_700_000_000.065)
    assert box.receive_rtcp(rr, (PHONE[0], PHONE[1] + 1), 10.08, 1_700_000_000.08)
    stats = box.stats()
    assert stats.rtcp_received == 1
    assert stats.rtt_ms == pytest.approx(30.0, abs=0.1)
    assert stats.remote_fraction_lost == 0.0
    # Without new audio the next report is an RR again.
    again = parse_rtcp(box.build_rtcp(15.0, 1_700_000_005.0))
    assert again is not None and again[0].packet_type == RR


def test_rtcp_from_a_stranger_is_ignored() -> None:
    s = make_session()
    s.set_remote("203.0.113.5", 4000)
    assert not s.receive_rtcp(make_session().build_rtcp(0.0, 0.0), ("198.51.100.1", 4001), 0.0, 0.0)
    assert s.rtcp_remote == ("203.0.113.5", 4001)
    assert not s.receive_rtcp(b"garbage!", ("203.0.113.5", 4001), 0.0, 0.0)
    assert s.stats().rtcp_received == 0
