"""`Capture`: a leg's received audio placed by RTP timestamp, bounded, decoded once."""

from __future__ import annotations

import numpy as np

from firmware.media import g711
from firmware.media.capture import Capture
from firmware.media.codecs import Codec
from firmware.media.leg import MediaLeg


class Leg(MediaLeg):
    codec = Codec.PCMA

    def close(self) -> None:
        pass


def frame(value: int) -> bytes:
    return g711.encode(Codec.PCMA, np.full(160, value, dtype=np.int16))


def test_reordered_and_missing_packets_land_where_their_timestamps_say() -> None:
    cap = Capture(Leg(), max_seconds=10)
    cap._rtp(frame(1000), 8000, 7, 0.0)
    cap._rtp(frame(3000), 8320, 7, 0.04)  # arrives before the one at 8160
    cap._rtp(frame(2000), 8160, 7, 0.05)
    cap._rtp(frame(5000), 8640, 7, 0.1)  # 8480 never came: silence there
    pcm = cap.pcm()
    assert len(pcm) == 5 * 160
    means = [int(np.mean(pcm[i * 160:(i + 1) * 160])) for i in range(5)]
    assert [round(m, -3) for m in means] == [1000, 2000, 3000, 0, 5000]


def test_new_stream_continues_at_the_end_and_max_length_stops_it() -> None:
    full: list[bool] = []
    cap = Capture(Leg(), max_seconds=0.06, on_full=lambda: full.append(True))
    cap._rtp(frame(1000), 100, 1, 0.0)
    cap._rtp(frame(2000), 999999, 2, 0.02)  # another SSRC: right after the first
    assert len(cap.pcm()) == 320 and not full
    cap._rtp(frame(3000), 999999 + 160, 2, 0.04)
    cap._rtp(frame(4000), 999999 + 320, 2, 0.06)
    assert full == [True] and len(cap.pcm()) == 480  # 60 ms, no more
    assert abs(int(np.mean(cap.pcm(trim_end=0.02)[-160:])) - 2000) < 100


def test_a_jump_without_new_ssrc_does_not_leave_a_long_gap() -> None:
    cap = Capture(Leg(), max_seconds=60)
    cap._rtp(frame(1000), 0, 1, 0.0)
    cap._rtp(frame(2000), 8000 * 30, 1, 0.02)  # a sender restart with the same SSRC
    assert len(cap.pcm()) == 320
    cap._rtp(frame(3000), 8000 * 30 + 160, 1, 0.04)
    assert len(cap.pcm()) == 480
