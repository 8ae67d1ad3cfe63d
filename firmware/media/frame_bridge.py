"""`FrameBridge`: a TDM channel (`FrameLeg`) and an RTP leg talking to each other, e.g. an
E1 caller and a SIP phone, optionally recorded.

Line -> phone: each frame from the line becomes the next packet of the RTP leg's own
stream (`RtpSession.next_packet`); the line clocks it, so no timer is involved.
Phone -> line: each RTP audio payload is translated to the line's law (one
`bytes.translate`) and written to the line as it arrives.
Both directions are fed to the recorder; the bridge flushes it once a second, at a
phase of its own so that many bridges do not flush in the same 20 ms slot.

DTMF from the phone (RFC 4733) is reported by the RTP leg's own `on_dtmf`; sending it
into the line as tones needs a tone generator (spandsp) and is not done here yet.
"""

from __future__ import annotations

import itertools
import logging
import time

from firmware.media.engine import RtpLeg
from firmware.media.frame_leg import FrameLeg
from firmware.media.g711 import transcode_table
from firmware.media.recorder import StereoRecorder

log = logging.getLogger(__name__)

FLUSH_EVERY = 50  # frames: once a second at 20 ms
_phases = itertools.count()
# The SSRC the recorder files the line's side under (it only compares them per channel).
_LINE_SSRC = 0x4C494E45


class FrameBridge:
    def __init__(
        self,
        line: FrameLeg,
        phone: RtpLeg,
        recorder: StereoRecorder | None = None,
        line_channel: int = 0,
    ) -> None:
        """`line_channel`: the recorder channel of the line's audio (0 left, 1 right)."""
        self.line = line
        self.phone = phone
        self.recorder = recorder
        self.line_channel = line_channel
        self._line_ts = 0
        self._frames = next(_phases) * 7 % FLUSH_EVERY
        self._active = True
        line.on_frame = self._from_line
        phone.audio_sink = self._from_phone

    @property
    def active(self) -> bool:
        return self._active

    def stop(self) -> None:
        """Unbridge; both legs stay open. The recorder is the caller's to close."""
        if not self._active:
            return
        self._active = False
        if self.line.on_frame == self._from_line:
            self.line.on_frame = None
        if self.phone.audio_sink == self._from_phone:
            self.phone.audio_sink = None

    def _from_line(self, frame: bytes) -> None:
        now = time.monotonic()
        rec = self.recorder
        if rec is not None:
            rec.feed(self.line_channel, self.line.codec, frame, self._line_ts, _LINE_SSRC, now)
            self._frames += 1
            if self._frames % FLUSH_EVERY == 0:
                try:
                    rec.flush(now)
                except OSError:
                    log.exception("recording to %s failed; no longer recording", rec.path)
                    self.recorder = None
        self._line_ts = (self._line_ts + len(frame)) & 0xFFFFFFFF
        codec = self.phone.codec
        if codec is None:
            return
        if codec is not self.line.codec:
            frame = frame.translate(transcode_table(self.line.codec, codec))
        self.phone.send_audio(frame)

    def _from_phone(self, payload: bytes, rtp_ts: int, ssrc: int, now: float) -> None:
        codec = self.phone.codec
        if codec is None:
            return
        rec = self.recorder
        if rec is not None:
            rec.feed(1 - self.line_channel, codec, payload, rtp_ts, ssrc, now)
        if codec is not self.line.codec:
            payload = payload.translate(transcode_table(codec, self.line.codec))
        self.line.write(payload)
