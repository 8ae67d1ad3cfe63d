"""`PriTrunk`: a PRI span of the box on asyncio — the `PriSpan` (libpri) on its D-channel
file descriptor, one B-channel descriptor per timeslot, and the `PriChannel` of every
call. It is the E1 driver the switch sees: new inbound calls go to `on_incoming`, and
`originate()` places outbound ones.

The D-channel I/O is a `PriLink` (`fcs=True` for a DAHDI HDLC channel).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence

from drivers.dahdi.pri_channel import PriChannel
from drivers.dahdi.pri_events import (
    Answered,
    ConfigError,
    DChannelDown,
    DChannelUp,
    Digits,
    Hangup,
    PriCall,
    PriEvent,
    Progress,
    Restarted,
    Ring,
    Ringing,
)
from drivers.dahdi.pri_link import PriLink
from drivers.dahdi.pri_span import PriSpan
from firmware.media.codecs import Codec
from firmware.media.frame_leg import FrameLeg
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelListener, Direction, Party

log = logging.getLogger(__name__)

# Overlap receiving: hand the call to the switch when no digit came for this long.
OVERLAP_TIMEOUT = 3.0


class PriTrunk:
    def __init__(
        self,
        span: PriSpan,
        dchannel_fd: int,
        bchannels: Mapping[int, int],
        *,
        name: str = "span1",
        fcs: bool = False,
        codec: Codec = Codec.PCMA,
        overlap_timeout: float = OVERLAP_TIMEOUT,
        events: Callable[[int], None] | None = None,
        inband_dtmf: bool = True,
    ) -> None:
        """`events(fd)`: on DAHDI, drains the events pending on a channel (ELAST)."""
        self.span = span
        self.name = name
        self.bchannels = dict(bchannels)  # timeslot -> fd
        self.codec = codec
        self.overlap_timeout = overlap_timeout
        self.on_incoming: Callable[[Channel], None] | None = None
        # Told of every D-channel change (True: up), e.g. for alarms and the event bus.
        self.on_dchannel: Callable[[bool], None] | None = None
        self.channels: dict[int, PriChannel] = {}  # timeslot -> call on it
        self.dchannel_changed = time.time()
        self.counters = {"inbound": 0, "outbound": 0, "refused": 0, "dchannel_down": 0}
        self._collecting: dict[PriCall, asyncio.TimerHandle] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.link = PriLink(span, dchannel_fd, self._handle, fcs=fcs)
        self._events = events
        self.inband_dtmf = inband_dtmf  # off only for a test's far end (saves CPU)
        if events is not None:
            self.link.on_event_pending = functools.partial(events, dchannel_fd)

    def __repr__(self) -> str:
        return f"<PriTrunk {self.name} {self.span!r}>"

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.link.start()

    def stop(self) -> None:
        for ch in list(self.channels.values()):
            ch.hangup(Cause.NORMAL_UNSPECIFIED)
        self.link.flush()
        self.link.stop()
        for handle in self._collecting.values():
            handle.cancel()
        self._collecting.clear()
        self.span.close()
        self._loop = None

    def flush(self) -> None:
        """Send what libpri wrote and re-arm its timer; after every span command."""
        self.link.flush()

    # -- events -------------------------------------------------------------------------
    def _handle(self, events: Sequence[PriEvent]) -> None:
        for ev in events:
            try:
                self._event(ev)
            except Exception:
                log.exception("%s: handling %s failed", self.name, ev)

    def _event(self, ev: PriEvent) -> None:
        if isinstance(ev, Ring):
            self._ring(ev)
        elif isinstance(ev, Digits):
            self._digits(ev)
        elif isinstance(ev, (DChannelUp, DChannelDown)):
            up = isinstance(ev, DChannelUp)
            self.dchannel_changed = time.time()
            if not up:
                self.counters["dchannel_down"] += 1
            (log.info if up else log.error)("%s: D-channel %s", self.name,
                                            "up" if up else "DOWN")
            if self.on_dchannel is not None:
                self.on_dchannel(up)
        elif isinstance(ev, Restarted):
            log.info("%s: far end restarted %s", self.name,
                     f"B-channel {ev.channel}" if ev.channel else "the interface")
        elif isinstance(ev, ConfigError):
            log.error("%s: %s", self.name, ev.text)
        else:
            ch = getattr(ev, "call", None)
            target = ch.tag if isinstance(ch, PriCall) else None
            if not isinstance(target, PriChannel):
                if isinstance(ev, Hangup) and isinstance(ch, PriCall):
                    self._stop_collecting(ch)
                return
            if isinstance(ev, Ringing):
                if ev.inband:
                    target.far_end_progress()
                else:
                    target.far_end_ringing()
            elif isinstance(ev, Progress):
                if ev.inband:
                    target.far_end_progress()
            elif isinstance(ev, Answered):
                target.far_end_answered()
            elif isinstance(ev, Hangup):
                self._stop_collecting(ev.call)
                target.far_end_hangup(ev.cause)

    def _ring(self, ev: Ring) -> None:
        ts = ev.channel
        if ts is None or ts not in self.bchannels or ts in self.channels:
            log.warning("%s: SETUP for unusable B-channel %s refused", self.name, ts)
            self.counters["refused"] += 1
            self.span.hangup(ev.call, int(Cause.REQUESTED_CHAN_UNAVAIL))
            return
        self.counters["inbound"] += 1
        leg = self._leg(ts)
        ch = PriChannel(self, ev.call, Direction.INBOUND, Party(ev.calling, ev.calling_name),
                        ev.called, leg)
        ch.caller_ton = ev.calling_ton
        self.channels[ts] = ch
        leg.start()
        log.info("%s/%d: call from %s (ton %d) to %s%s", self.name, ts, ev.calling,
                 ev.calling_ton, ev.called, "" if ev.complete else " (more digits to come)")
        if not ev.complete and self.span.overlap:
            self.span.more_digits(ev.call)
            self._collect(ev.call)
            return
        # CALL PROCEEDING at once: the network stops T303 and we own the call.
        self.span.proceeding(ev.call)
        self._offer(ch)

    def _offer(self, ch: PriChannel) -> None:
        if self.on_incoming is None:
            ch.hangup(Cause.TEMPORARY_FAILURE)
            return
        self.on_incoming(ch)

    def _collect(self, call: PriCall) -> None:
        assert self._loop is not None
        old = self._collecting.pop(call, None)
        if old is not None:
            old.cancel()
        self._collecting[call] = self._loop.call_later(self.overlap_timeout,
                                                       self._digits_done, call)

    def _stop_collecting(self, call: PriCall) -> None:
        handle = self._collecting.pop(call, None)
        if handle is not None:
            handle.cancel()

    def _digits(self, ev: Digits) -> None:
        ch = ev.call.tag
        if not isinstance(ch, PriChannel) or ev.call not in self._collecting:
            return
        ch.called = ev.call.called
        if ev.complete:
            self._digits_done(ev.call)
        else:
            self._collect(ev.call)

    def _digits_done(self, call: PriCall) -> None:
        self._stop_collecting(call)
        ch = call.tag
        if not isinstance(ch, PriChannel) or ch.ended:
            return
        ch.called = call.called
        self.span.proceeding(call)
        self.flush()
        self._offer(ch)

    def _leg(self, ts: int) -> FrameLeg:
        # in-band DTMF detection: a PSTN caller's key presses arrive as tones
        fd = self.bchannels[ts]
        leg = FrameLeg(fd, self.codec, owns_fd=False, name=f"{self.name}/{ts}",
                       dtmf=self.inband_dtmf)
        if self._events is not None:
            leg.on_event_pending = functools.partial(self._events, fd)
        return leg

    # -- outbound -----------------------------------------------------------------------
    def free_timeslots(self) -> list[int]:
        busy = self.span.busy_channels() | set(self.channels)
        return [ts for ts in self.span.timeslots if ts not in busy and ts in self.bchannels]

    def originate(self, target: str, caller: Party, listener: ChannelListener,
                  codecs: Sequence[Codec] | None = None) -> list[Channel]:
        """Call `target` on a free B-channel; empty when none is free or the link is down."""
        if not self.span.dchannel_up:
            log.warning("%s: cannot call %s, D-channel down", self.name, target)
            return []
        free = self.free_timeslots()
        if not free:
            log.warning("%s: cannot call %s, all B-channels busy", self.name, target)
            return []
        # Hunt from the top: the network picks from the bottom, so glare stays rare.
        ts = free[-1] if self.span.node == "cpe" else free[0]
        try:
            call = self.span.call(ts, target, caller.number, calling_name=caller.name)
        except (RuntimeError, MemoryError, UnicodeEncodeError) as e:
            log.error("%s: SETUP to %s failed: %s", self.name, target, e)
            return []
        self.counters["outbound"] += 1
        leg = self._leg(ts)
        ch = PriChannel(self, call, Direction.OUTBOUND, caller, target, leg)
        ch.listener = listener
        self.channels[ts] = ch
        leg.start()
        self.flush()
        return [ch]

    def released(self, ch: PriChannel) -> None:
        if self.channels.get(ch.timeslot) is ch:
            del self.channels[ch.timeslot]

    # -- status -------------------------------------------------------------------------
    def status(self) -> dict[str, object]:
        """Span state for `ccbox status` and the UI: alarm, D-channel, and every B-channel
        that is not idle (timeslot -> "state direction caller->called")."""
        busy = self.span.busy_channels()
        b_channels: dict[str, str] = {}
        for ts in self.span.timeslots:
            ch = self.channels.get(ts)
            if ch is not None:
                b_channels[str(ts)] = (f"{ch.state.value} {ch.direction.value} "
                                       f"{ch.caller.number}->{ch.called}")
            elif ts in busy:
                b_channels[str(ts)] = "clearing"
        return {
            "name": self.name,
            "signalling": "pri",
            "node": self.span.node,
            "dchannel": "up" if self.span.dchannel_up else "down",
            "alarm": None if self.span.dchannel_up else "D-channel down",
            "since": round(self.dchannel_changed, 3),
            "idle": len(self.span.timeslots) - len(b_channels),
            "b_channels": b_channels,
            "counters": dict(self.counters),
        }
