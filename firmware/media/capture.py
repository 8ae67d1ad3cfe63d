"""`Capture`: what one leg hears from its far end, kept in memory as G.711 (a voicemail
message, a greeting).

It hooks the leg's receive path the way a bridge would (`RtpLeg.audio_sink`,
`FrameLeg.on_frame`), so it must only be attached to a leg that is in no bridge. The
packet path copies bytes into place; decoding to PCM happens once, at the end, with one
table lookup. RTP packets are placed by their timestamp within a stream (jitter and
reordering do not smear the audio, silence suppression leaves silence); a new SSRC
starts where the audio has got to.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from firmware.media.codecs import CLOCK_RATE, Codec
from firmware.media.engine import RtpLeg
from firmware.media.frame_leg import FrameLeg
from firmware.media.g711 import decode_table
from firmware.media.leg import MediaLeg


class Capture:
    def __init__(self, leg: MediaLeg, max_seconds: float,
                 on_full: Callable[[], None] | None = None) -> None:
        self.leg = leg
        self.codec = leg.codec or Codec.PCMU
        self.max_samples = int(max_seconds * CLOCK_RATE)
        self.on_full = on_full
        self._data = bytearray()
        self._ssrc = -1
        self._anchor_ts = 0
        self._anchor_pos = 0
        self._attached = False
        self._full = False

    @property
    def seconds(self) -> float:
        return len(self._data) / CLOCK_RATE

    def start(self) -> None:
        if isinstance(self.leg, RtpLeg):
            self.leg.audio_sink = self._rtp
        elif isinstance(self.leg, FrameLeg):
            self.leg.on_frame = self._frame
        else:
            raise TypeError(f"cannot capture from {self.leg!r}")
        self._attached = True

    def stop(self) -> None:
        if not self._attached:
            return
        self._attached = False
        if isinstance(self.leg, RtpLeg) and self.leg.audio_sink == self._rtp:
            self.leg.audio_sink = None
        elif isinstance(self.leg, FrameLeg) and self.leg.on_frame == self._frame:
            self.leg.on_frame = None

    def pcm(self, trim_end: float = 0.0) -> npt.NDArray[np.int16]:
        """The audio so far as 16-bit PCM, less `trim_end` seconds at the end (the key
        tone that stopped a recording)."""
        keep = max(0, len(self._data) - int(trim_end * CLOCK_RATE))
        codes = np.frombuffer(bytes(self._data[:keep]), dtype=np.uint8)
        return decode_table(self.codec)[codes].astype(np.int16)

    # --- receive path ---------------------------------------------------------------
    def _rtp(self, payload: bytes, ts: int, ssrc: int, arrival: float) -> None:
        if ssrc != self._ssrc:
            self._ssrc = ssrc
            self._anchor_ts = ts
            self._anchor_pos = len(self._data)
        offset = ((ts - self._anchor_ts + 0x80000000) & 0xFFFFFFFF) - 0x80000000
        self._put(self._anchor_pos + offset, payload)

    def _frame(self, frame: bytes) -> None:
        self._put(len(self._data), frame)

    def _put(self, pos: int, payload: bytes) -> None:
        if self._full or pos < 0:
            return
        if pos >= self.max_samples:
            self._fill()
            return
        payload = payload[:self.max_samples - pos]
        have = len(self._data)
        if pos > have:
            if pos - have > CLOCK_RATE * 2:
                # a sender restart without a new SSRC: go on from here, no long gap
                self._anchor_pos += have - pos
                pos = have
            else:
                self._data += bytes([self.codec.silence_byte]) * (pos - have)
        self._data[pos:pos + len(payload)] = payload
        if len(self._data) >= self.max_samples:
            self._fill()

    def _fill(self) -> None:
        if not self._full:
            self._full = True
            if self.on_full is not None:
                self.on_full()
