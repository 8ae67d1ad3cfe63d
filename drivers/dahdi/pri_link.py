"""`PriLink`: a sans-I/O `PriSpan` driven by asyncio on one D-channel file descriptor.

It reads frames into the span, writes the span's frames out, keeps libpri's timer armed
on the event loop, and hands every resulting event to `on_events`. Used by the box's
trunks and by the PSTN simulator alike, so both ends run the same code.

The descriptor carries one Q.921 frame per read/write. With `fcs=True` (a DAHDI HDLC
channel) reads end in the 2 FCS bytes and writes must leave room for them; the
simulator's SEQPACKET socketpair carries bare frames (`fcs=False`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Sequence

from drivers.dahdi.pri_events import PriEvent
from drivers.dahdi.pri_span import PriSpan

log = logging.getLogger(__name__)

_FCS = b"\0\0"
_READ_MAX = 512  # Q.921: at most 260 octets of information (N201) plus header and FCS
_READS_PER_WAKEUP = 32
ELAST = 500  # DAHDI: an event (alarm, bad FCS, ...) waits on the channel


class PriLink:
    def __init__(
        self,
        span: PriSpan,
        fd: int,
        on_events: Callable[[Sequence[PriEvent]], None],
        *,
        fcs: bool = False,
    ) -> None:
        self.span = span
        self.fd = fd
        self.fcs = fcs
        self.on_events = on_events
        self.frames_in = 0
        self.frames_out = 0
        self.frames_lost = 0
        # Test hook and fault injection: while False, frames are dropped both ways
        # (a cut cable, as far as Q.921 can tell).
        self.connected = True
        # Set on a DAHDI channel: drains its pending events when I/O fails with ELAST.
        self.on_event_pending: Callable[[], None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        os.set_blocking(self.fd, False)
        self._loop.add_reader(self.fd, self._readable)
        self.flush()

    def stop(self) -> None:
        if self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.fd)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._loop = None

    def flush(self) -> None:
        """Send what libpri wrote and re-arm its timer; call after every span command."""
        for frame in self.span.frames_to_send():
            if not self.connected:
                self.frames_lost += 1
                continue
            try:
                self._write(frame + _FCS if self.fcs else frame)
                self.frames_out += 1
            except OSError as e:
                # Q.921 retransmits on T200: a lost frame is the protocol's business
                self.frames_lost += 1
                log.warning("%s: D-channel frame lost: %s", self.span.name, e)
        self._arm_timer()

    def _write(self, data: bytes) -> None:
        try:
            os.write(self.fd, data)
        except OSError as e:
            if e.errno != ELAST or self.on_event_pending is None:
                raise
            self.on_event_pending()
            os.write(self.fd, data)

    def _arm_timer(self) -> None:
        loop = self._loop
        if loop is None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.span.next_timer()
        if deadline is not None:
            # libpri's deadlines are wall-clock (gettimeofday); the loop's are monotonic.
            delay = max(0.0, deadline - time.time()) + 0.001
            self._timer = loop.call_at(loop.time() + delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._deliver(self.span.handle_timer())
        self.flush()

    def _readable(self) -> None:
        for _ in range(_READS_PER_WAKEUP):
            try:
                frame = os.read(self.fd, _READ_MAX)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno == ELAST and self.on_event_pending is not None:
                    self.on_event_pending()
                    continue
                log.error("%s: D-channel read failed: %s", self.span.name, e)
                break
            if not frame:
                log.error("%s: D-channel closed by the far end", self.span.name)
                if self._loop is not None:
                    self._loop.remove_reader(self.fd)
                break
            if not self.connected:
                self.frames_lost += 1
                continue
            self.frames_in += 1
            if self.fcs:
                frame = frame[: -len(_FCS)]
            self._deliver(self.span.receive_frame(frame))
        self.flush()

    def _deliver(self, events: Sequence[PriEvent]) -> None:
        if events:
            try:
                self.on_events(events)
            except Exception:
                log.exception("%s: event handler failed", self.span.name)
