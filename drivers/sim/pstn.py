"""The PSTN simulator of board `sim`: the exchange at the far end of an emulated E1.

The exchange runs libpri in NET mode (a `PriSpan` on a `PriLink`: the same code as the
box's CPE side) over an AF_UNIX SOCK_SEQPACKET socketpair, one datagram per Q.921
frame. Each B-channel is a socketpair of its own carrying 160-byte A-law frames. The
simulator is the span's clock, as an E1 card is: every 20 ms it writes one frame into
each B-channel that carries an answered call (silence when it has nothing to say) and
reads whatever the box wrote. It runs in the box's event loop; see
docs/decisions/0005-pstn-simulator.md.

Calls into the box: `call()` (the `ccbox pstn call` command). Calls from the box are
answered after `answer_after` seconds and hear a 425 Hz tone, unless the number is in
`busy_numbers` (refused with cause 17) or `unanswered_numbers` (left ringing).

Since the simulator shares switchd's process and thread, a benchmark of the box would
count its work as the box's: `meter` (off unless a benchmark turns it on) adds up the
thread CPU time spent in the simulator's own callbacks, so that share can be told apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from drivers.dahdi import libpri as lp
from drivers.dahdi.pri_events import (
    Answered,
    DChannelDown,
    DChannelUp,
    Hangup,
    PriCall,
    PriEvent,
    Proceeding,
    Ring,
    Ringing,
)
from drivers.dahdi.pri_link import PriLink
from drivers.dahdi.pri_span import PriSpan
from drivers.sim.audio import rms_dbfs, tone
from firmware.media.codecs import SAMPLES_PER_FRAME, Codec

log = logging.getLogger(__name__)

TICK = 0.02
SILENCE = bytes([Codec.PCMA.silence_byte]) * SAMPLES_PER_FRAME
MAX_HEARD_SECONDS = 120  # what a call keeps of the box's audio, for reports and tests
RING_TIMEOUT = 60.0  # a call into the box not answered by then is given up
_ids = itertools.count(1)


class CpuMeter:
    """CPU time (user + system, CLOCK_THREAD_CPUTIME_ID) spent in the simulator's own
    callbacks: its 20 ms clock, its B-channel reads, its D-channel (libpri NET side).

    Not in it: the event loop's dispatch of those callbacks (counted in `sections`, so
    that a reader can bound it) and the kernel's delivery of the frames to the box's end.
    Reading the thread clock costs two system calls per callback, so the meter is off
    unless a benchmark turns it on (`ccbox`'s `pstn_meter` control command)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.cpu_ns = 0
        self.sections = 0

    def run(self, fn: Callable[..., None], *args: Any) -> None:
        t0 = time.thread_time_ns()
        try:
            fn(*args)
        finally:
            self.cpu_ns += time.thread_time_ns() - t0
            self.sections += 1

    def report(self) -> dict[str, Any]:
        return {"seconds": round(time.monotonic() - self.started, 3),
                "cpu_ns": self.cpu_ns, "sections": self.sections}


class _FarEndLink(PriLink):
    """The exchange's D-channel: a `PriLink` whose work a `CpuMeter` can count."""

    meter: CpuMeter | None = None

    def _readable(self) -> None:
        if self.meter is None:
            super()._readable()
        else:
            self.meter.run(super()._readable)

    def _on_timer(self) -> None:
        if self.meter is None:
            super()._on_timer()
        else:
            self.meter.run(super()._on_timer)


class SimE1Line:
    """The wires of one E1: D-channel and B-channel socketpairs, box end and far end."""

    def __init__(self, timeslots: Sequence[int]) -> None:
        self.box_dchannel, self.far_dchannel = socket.socketpair(
            socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.box_b: dict[int, socket.socket] = {}
        self.far_b: dict[int, socket.socket] = {}
        for ts in timeslots:
            self.box_b[ts], self.far_b[ts] = socket.socketpair(
                socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for s in self.all():
            s.setblocking(False)

    def all(self) -> list[socket.socket]:
        return [self.box_dchannel, self.far_dchannel, *self.box_b.values(), *self.far_b.values()]

    def close(self) -> None:
        for s in self.all():
            s.close()


@dataclass(eq=False)
class SimCall:
    """One call as the exchange sees it."""

    pri: PriCall
    channel: int
    direction: str  # "to-box" (the PSTN calls the box) or "from-box"
    number: str
    caller: str
    id: int = field(default_factory=lambda: next(_ids))
    started: float = field(default_factory=time.monotonic)
    proceeding_at: float | None = None
    alerting_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    cause: int | None = None
    released_by: str = ""
    hangup_after: float | None = None  # seconds after answer; None: the box hangs up
    tx: bytearray = field(default_factory=bytearray)  # to play, A-law
    tone: bytes = b""  # looped when tx is exhausted (calls from the box; `loop`)
    rx: bytearray = field(default_factory=bytearray)  # heard from the box, A-law
    done: asyncio.Future[None] | None = None

    def ms(self, at: float | None) -> float | None:
        return None if at is None else round((at - self.started) * 1000, 1)

    def report(self) -> dict[str, Any]:
        talk = None
        if self.answered_at is not None:
            talk = round((self.ended_at or time.monotonic()) - self.answered_at, 2)
        return {
            "id": self.id,
            "direction": self.direction,
            "channel": self.channel,
            "number": self.number,
            "caller": self.caller,
            "proceeding_ms": self.ms(self.proceeding_at),
            "alerting_ms": self.ms(self.alerting_at),
            # post-dial delay: SETUP sent -> CONNECT received
            "answer_ms": self.ms(self.answered_at),
            "talk_seconds": talk,
            "cause": self.cause,
            "cause_text": lp.cause_text(self.cause) if self.cause is not None else None,
            "released_by": self.released_by,
            "heard_seconds": round(len(self.rx) / 8000, 2),
            "heard_dbfs": round(rms_dbfs(bytes(self.rx)), 1) if self.rx else None,
        }


class PstnSimulator:
    def __init__(
        self,
        switchtype: str | int = "euroisdn",
        channels: int | None = None,
        *,
        name: str = "pstn",
        answer_after: float = 0.2,
    ) -> None:
        self.span = PriSpan("net", switchtype, channels, name=name)
        self.name = name
        self.line = SimE1Line(self.span.timeslots)
        self.link = _FarEndLink(self.span, self.line.far_dchannel.fileno(), self._events)
        self.answer_after = answer_after
        self.busy_numbers: set[str] = set()
        self.unanswered_numbers: set[str] = set()
        self.calls: dict[int, SimCall] = {}  # timeslot -> call
        self.history: deque[dict[str, Any]] = deque(maxlen=100)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._meter: CpuMeter | None = None

    # -- the box's view of the line ----------------------------------------------------
    @property
    def box_dchannel_fd(self) -> int:
        return self.line.box_dchannel.fileno()

    @property
    def box_bchannel_fds(self) -> dict[int, int]:
        return {ts: s.fileno() for ts, s in self.line.box_b.items()}

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.link.start()
        for ts, s in self.line.far_b.items():
            self._loop.add_reader(s.fileno(), self._b_readable, ts, s)
        self._ticker = self._loop.create_task(self._tick_forever(), name=f"{self.name}-clock")

    async def stop(self) -> None:
        for call in list(self.calls.values()):
            self._hangup(call, 16, "pstn")
        self.link.stop()
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._loop is not None:
            for s in self.line.far_b.values():
                self._loop.remove_reader(s.fileno())
        self.span.close()
        self.line.close()

    # -- the CPU meter ---------------------------------------------------------------------
    def start_meter(self) -> None:
        self._meter = self.link.meter = CpuMeter()

    def stop_meter(self) -> dict[str, Any] | None:
        """Stop counting; what was counted since `start_meter`, and the audio the calls
        hold in memory (what they play and what they heard), which is the simulator's
        and not the box's in switchd's RSS."""
        meter, self._meter, self.link.meter = self._meter, None, None
        if meter is None:
            return None
        report = meter.report()
        report["buffered_bytes"] = sum(len(c.tx) + len(c.tone) + len(c.rx)
                                       for c in self.calls.values())
        return report

    # -- calls into the box ---------------------------------------------------------------
    def place(
        self,
        number: str,
        caller: str,
        *,
        audio: bytes = b"",
        loop: bool = False,
        hangup_after: float | None = None,
        caller_ton: int = lp.PRI_TON_NATIONAL,
        called_ton: int = lp.PRI_TON_UNKNOWN,
    ) -> SimCall:
        """Send SETUP to the box on the lowest free B-channel; once answered, play
        `audio` (over and over with `loop`), then silence."""
        if not self.span.dchannel_up:
            raise RuntimeError("the E1 D-channel is down")
        free = [ts for ts in self.span.free_channels() if ts not in self.calls]
        if not free:
            raise RuntimeError("all B-channels of the simulated E1 are busy")
        ts = free[0]
        pri = self.span.call(ts, number, caller, called_ton=called_ton,
                             calling_ton=caller_ton)
        assert self._loop is not None
        call = SimCall(pri, ts, "to-box", number, caller, hangup_after=hangup_after,
                       tx=bytearray(audio), tone=audio if loop else b"",
                       done=self._loop.create_future())
        pri.tag = call
        self.calls[ts] = call
        self.link.flush()
        log.info("%s: calling %s from %s on B-channel %d", self.name, number, caller, ts)
        return call

    async def call(self, number: str, caller: str, *, audio: bytes = b"",
                   loop: bool = False, seconds: float | None = 10.0,
                   ring_timeout: float = RING_TIMEOUT) -> dict[str, Any]:
        """Place a call, wait for it to end (our `seconds` after answer, or the box's
        hangup), and report what happened."""
        call = self.place(number, caller, audio=audio, loop=loop, hangup_after=seconds)
        assert call.done is not None
        limit = ring_timeout + (seconds if seconds is not None else 3600.0)
        try:
            await asyncio.wait_for(asyncio.shield(call.done), limit)
        except TimeoutError:
            self._hangup(call, 16, "pstn")
        return call.report()

    def hangup(self, channel: int, cause: int = 16) -> bool:
        call = self.calls.get(channel)
        if call is None:
            return False
        self._hangup(call, cause, "pstn")
        return True

    # -- libpri events ----------------------------------------------------------------------
    def _call_of(self, pri: PriCall) -> SimCall | None:
        call = pri.tag
        return call if isinstance(call, SimCall) else None

    def _events(self, events: Sequence[PriEvent]) -> None:
        now = time.monotonic()
        for ev in events:
            if isinstance(ev, (DChannelUp, DChannelDown)):
                log.info("%s: D-channel %s", self.name,
                         "up" if isinstance(ev, DChannelUp) else "down")
            elif isinstance(ev, Ring):
                self._from_box(ev)
            elif isinstance(ev, (Proceeding, Ringing, Answered, Hangup)):
                call = self._call_of(ev.call)
                if call is None:
                    continue
                if isinstance(ev, Proceeding):
                    call.proceeding_at = call.proceeding_at or now
                elif isinstance(ev, Ringing):
                    call.alerting_at = call.alerting_at or now
                elif isinstance(ev, Answered):
                    call.answered_at = now
                else:
                    self._ended(call, ev.cause, "box")

    def _from_box(self, ev: Ring) -> None:
        ts = ev.channel
        if ts is None or ts in self.calls:
            self.span.hangup(ev.call, 44)
            return
        call = SimCall(ev.call, ts, "from-box", ev.called, ev.calling,
                       tone=tone(425, 1.0, level=0.1))
        ev.call.tag = call
        self.calls[ts] = call
        if ev.called in self.busy_numbers:
            self._hangup(call, 17, "pstn")
            return
        self.span.proceeding(ev.call)
        self.span.ringing(ev.call, inband=False)
        call.alerting_at = time.monotonic()
        if ev.called not in self.unanswered_numbers and self._loop is not None:
            self._loop.call_later(self.answer_after, self._answer, call)

    def _answer(self, call: SimCall) -> None:
        if call.ended_at is None and call.answered_at is None:
            self.span.answer(call.pri)
            call.answered_at = time.monotonic()
            self.link.flush()

    def _hangup(self, call: SimCall, cause: int, by: str) -> None:
        if call.ended_at is not None:
            return
        self.span.hangup(call.pri, cause)
        self.link.flush()
        self._ended(call, cause, by)

    def _ended(self, call: SimCall, cause: int, by: str) -> None:
        if call.ended_at is not None:
            return
        call.ended_at = time.monotonic()
        call.cause = cause
        call.released_by = by
        if self.calls.get(call.channel) is call:
            del self.calls[call.channel]
        self.history.append(call.report())
        log.info("%s: call %d on B-channel %d ended by %s, cause %d", self.name, call.id,
                 call.channel, by, cause)
        if call.done is not None and not call.done.done():
            call.done.set_result(None)

    # -- the 20 ms clock and the B-channels --------------------------------------------------
    async def _tick_forever(self) -> None:
        due = time.monotonic()
        while True:
            due += TICK
            delay = due - time.monotonic()
            if delay < -5 * TICK:
                due = time.monotonic()  # far behind (suspended): do not burst
                delay = 0.0
            await asyncio.sleep(max(delay, 0.0))
            if self._meter is None:
                self._tick()
            else:
                self._meter.run(self._tick)

    def _tick(self) -> None:
        now = time.monotonic()
        for ts, call in list(self.calls.items()):
            if call.answered_at is None:
                continue
            if call.hangup_after is not None and now - call.answered_at >= call.hangup_after:
                self._hangup(call, 16, "pstn")
                continue
            if not call.tx and call.tone:
                call.tx += call.tone
            if call.tx:
                frame = bytes(call.tx[:SAMPLES_PER_FRAME])
                del call.tx[:SAMPLES_PER_FRAME]
                frame += SILENCE[len(frame):]
            else:
                frame = SILENCE
            try:
                os.write(self.line.far_b[ts].fileno(), frame)
            except BlockingIOError:
                pass  # the box is not reading: an E1 just overwrites, so do we
            except OSError as e:
                log.warning("%s: B-channel %d write failed: %s", self.name, ts, e)

    def _b_readable(self, ts: int, sock: socket.socket) -> None:
        if self._meter is None:
            self._read_b(ts, sock)
        else:
            self._meter.run(self._read_b, ts, sock)

    def _read_b(self, ts: int, sock: socket.socket) -> None:
        for _ in range(16):
            try:
                data = sock.recv(2048)
            except BlockingIOError:
                return
            except OSError:
                return
            if not data:
                return
            call = self.calls.get(ts)
            if call is not None and call.answered_at is not None \
                    and len(call.rx) < MAX_HEARD_SECONDS * 8000:
                call.rx += data

    # -- status -----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "node": "net",
            "dchannel": "up" if self.span.dchannel_up else "down",
            "calls": [c.report() for c in self.calls.values()],
            "recent": list(self.history)[-10:],
        }
