"""`FrameLeg`: the media of a TDM channel (E1 B-channel, FXO port) as 20 ms G.711 frames
read from and written to one file descriptor.

A DAHDI channel with a 160-sample block size hands out one 160-byte frame every 20 ms,
clocked by the span; the PSTN simulator's B-channel socketpairs behave the same. The
line's clock is the only clock here: a frame read is passed on at once (to a bridge
through `on_frame`), and whatever the bridge writes goes out as it comes, DAHDI's (or
the socket's) buffer absorbing the jitter of the other side.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
from collections.abc import Callable

from firmware.media.codecs import SAMPLES_PER_FRAME, Codec
from firmware.media.dtmf_detect import InbandDtmf
from firmware.media.leg import MediaLeg

log = logging.getLogger(__name__)

FRAME_BYTES = SAMPLES_PER_FRAME  # G.711: one byte per sample
# Reads drain what is there; a frame never exceeds this (DAHDI's block size max is 8 kB,
# ours is 160).
_READ_MAX = 2048
# A wedged far end must not make us spin: at most this many reads per wake-up.
_READS_PER_WAKEUP = 16
# DAHDI fails a read or write with this errno while an event (hook, alarm, CAS bits)
# waits on the channel; `on_event_pending` fetches it, then the I/O is retried.
ELAST = 500


class FrameLeg(MediaLeg):
    codec: Codec  # a TDM line always has its law

    def __init__(self, fd: int, codec: Codec = Codec.PCMA, *, owns_fd: bool = True,
                 name: str = "", dtmf: bool = False) -> None:
        """`dtmf`: listen for in-band key presses (reported through `on_dtmf`)."""
        self.fd = fd
        self.codec = codec
        self.on_dtmf = None
        self._dtmf: InbandDtmf | None = None
        if dtmf:
            try:
                self._dtmf = InbandDtmf(codec)
            except OSError as e:
                log.warning("%s: no in-band DTMF detection: %s", name or f"fd{fd}", e)
        self.name = name or f"fd{fd}"
        # Set by a bridge: called with each frame read from the line.
        self.on_frame: Callable[[bytes], None] | None = None
        self.frames_in = 0
        self.frames_out = 0
        self.dropped_out = 0  # writes refused because the line's buffer was full
        # Set by a DAHDI driver: drains the channel's pending events (see ELAST).
        self.on_event_pending: Callable[[], None] | None = None
        self._owns_fd = owns_fd
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"<FrameLeg {self.name} {self.codec.encoding}>"

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Start reading frames (from the running loop unless one is given)."""
        if self._loop is not None or self._closed:
            return
        self._loop = loop or asyncio.get_running_loop()
        os.set_blocking(self.fd, False)
        self._loop.add_reader(self.fd, self._readable)

    def write(self, payload: bytes) -> None:
        """Send audio towards the line; dropped (and counted) if the line cannot take it."""
        if self._closed or not payload:
            return
        try:
            try:
                os.write(self.fd, payload)
            except OSError as e:
                if e.errno != ELAST or self.on_event_pending is None:
                    raise
                self.on_event_pending()
                os.write(self.fd, payload)
            self.frames_out += 1
        except BlockingIOError:
            self.dropped_out += 1
        except OSError as e:
            if e.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                log.warning("%s: write failed: %s", self, e)
            self.dropped_out += 1

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.on_frame = None
        if self._dtmf is not None:
            self._dtmf.close()
            self._dtmf = None
        if self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.fd)
        if self._owns_fd:
            with contextlib.suppress(OSError):
                os.close(self.fd)

    def detach(self) -> None:
        """Stop reading but keep the fd (a B-channel outlives each call on it)."""
        if self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.fd)
            self._loop = None
        self.on_frame = None

    def _readable(self) -> None:
        for _ in range(_READS_PER_WAKEUP):
            try:
                frame = os.read(self.fd, _READ_MAX)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno == ELAST and self.on_event_pending is not None:
                    self.on_event_pending()
                    continue
                log.warning("%s: read failed: %s", self, e)
                self.detach()
                return
            if not frame:
                # the far end closed the line
                self.detach()
                return
            self.frames_in += 1
            frame = self._received(frame)
            if self._dtmf is not None:
                for digit in self._dtmf.feed(frame):
                    # from the loop, not mid-read: the switch may tear this leg down
                    assert self._loop is not None
                    self._loop.call_soon(self._deliver_dtmf, digit)
            sink = self.on_frame
            if sink is not None:
                sink(frame)

    def _received(self, frame: bytes) -> bytes:
        """Each frame read, before DTMF detection and the bridge; a subclass may listen
        to or clean the line's audio here (FXO: echo cancelling, tone detection)."""
        return frame

    def _deliver_dtmf(self, digit: str) -> None:
        callback = self.on_dtmf
        if callback is not None and not self._closed:
            callback(digit)
