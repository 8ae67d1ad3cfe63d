"""The simulated central office at the far end of each FXO port of board `sim`.

Like the E1 simulator (docs/decisions/0005) it runs in switchd's event loop and is the
line's clock: every 20 ms it writes one A-law frame into the port's audio socketpair
while the box is off hook (or while it sends caller ID on hook) and reads what the box
sent. Line signals (ring, polarity, loop current) reach the box through `SimFxoPort`,
the `FxoPort` the box's FXO trunk drives, as a DAHDI FXO channel's events would.

Calls into the box (`call()`, what `ccbox pstn call --line fxo1` sends): caller ID in
DTMF before the first ring or in FSK (Bell 202 or V.23, MDMF) after it, rings of 1 s on
/ 4 s off (China), then after `seconds` the far party hangs up and the exchange tells
the box the way the chosen exchange does: polarity reversal, busy tone (450 Hz,
0.35/0.35 s), silence, or loop current drop.
Calls from the box: dial tone (450 Hz) while off hook, DTMF digits collected until
2 s pass without one, ringback, then an answer after `answer_after` (a 425 Hz tone is
the far party), or busy tone for `busy_numbers`.
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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drivers.fxo.callerid import CallerIdSender, dtmf_message, mdmf
from drivers.fxo.port import LineSignal
from drivers.sim.audio import dtmf, rms_dbfs, tone
from firmware.media import g711
from firmware.media.codecs import SAMPLES_PER_FRAME, Codec
from firmware.media.dtmf_detect import InbandDtmf

log = logging.getLogger(__name__)

TICK = 0.02
SILENCE = bytes([Codec.PCMA.silence_byte]) * SAMPLES_PER_FRAME
RING_ON, RING_OFF = 1.0, 4.0  # China
FSK_DELAY = 0.5  # after the end of the first ring
DTMF_CID_GAP = 0.3  # between the DTMF caller ID and the first ring
INTERDIGIT = 2.0
MAX_HEARD_SECONDS = 120
HANGUP_METHODS = ("polarity", "busy", "silence", "loop")
CID_FORMATS = ("dtmf", "fsk", "fsk-v23", "none")
_ids = itertools.count(1)


def _cadence(on: float, off: float) -> bytes:
    # 450 Hz at about -10 dBm0, cut to a cadence, one period
    t = tone(450, on, level=0.25)
    return t + SILENCE * round(off / TICK)


DIAL_TONE = tone(450, 1.0, level=0.25)
BUSY_TONE = _cadence(0.35, 0.35)
RINGBACK = _cadence(1.0, 4.0)
FAR_PARTY = tone(425, 1.0, level=0.1)


class SimFxoPort:
    """The box's end of one simulated FXO line (implements drivers.fxo.port.FxoPort)."""

    def __init__(self, name: str, office: CentralOfficeLine, fd: int) -> None:
        self.name = name
        self.audio_fd = fd
        self.codec = Codec.PCMA
        self.on_signal: Callable[[LineSignal], None] | None = None
        self._office = office

    def set_hook(self, offhook: bool) -> None:
        self._office.loop.call_soon(self._office.hook, offhook)

    def dial(self, digits: str) -> None:
        # DTMF like a DAHDI_DIAL: the tones go down the line, DIAL_DONE when they are out
        audio = dtmf(digits)
        for i in range(0, len(audio), SAMPLES_PER_FRAME):
            with contextlib.suppress(BlockingIOError):
                os.write(self.audio_fd, audio[i:i + SAMPLES_PER_FRAME])
        self._office.loop.call_later(len(audio) / 8000, self.signal, LineSignal.DIAL_DONE)

    def signal(self, sig: LineSignal) -> None:
        if self.on_signal is not None:
            self.on_signal(sig)


@dataclass(eq=False)
class CoCall:
    direction: str  # "to-box" or "from-box"
    caller: str
    number: str = ""  # to-box: unused; from-box: the digits the exchange received
    cid: str = "fsk"
    hangup: str = "polarity"
    seconds: float | None = 10.0
    id: int = field(default_factory=lambda: next(_ids))
    started: float = field(default_factory=time.monotonic)
    rings: int = 0
    answered_at: float | None = None
    far_hangup_at: float | None = None
    ended_at: float | None = None
    released_by: str = ""
    result: str = ""  # answered, abandoned, busy, ...
    tx: bytearray = field(default_factory=bytearray)
    rx: bytearray = field(default_factory=bytearray)
    done: asyncio.Future[None] | None = None

    def report(self) -> dict[str, Any]:
        def ms(at: float | None) -> float | None:
            return None if at is None else round((at - self.started) * 1000, 1)
        detect = None
        if self.far_hangup_at is not None and self.ended_at is not None \
                and self.released_by == "pstn":
            detect = round((self.ended_at - self.far_hangup_at) * 1000, 1)
        return {
            "id": self.id,
            "direction": self.direction,
            "caller": self.caller,
            "number": self.number,
            "caller_id": self.cid,
            "hangup_method": self.hangup,
            "rings": self.rings,
            "answer_ms": ms(self.answered_at),
            "talk_seconds": (round((self.far_hangup_at or self.ended_at or time.monotonic())
                                   - self.answered_at, 2)
                             if self.answered_at is not None else None),
            "released_by": self.released_by,
            "result": self.result,
            # how long the box took to go on hook after the far party hung up
            "disconnect_detect_ms": detect,
            "heard_seconds": round(len(self.rx) / 8000, 2),
            "heard_dbfs": round(rms_dbfs(bytes(self.rx)), 1) if self.rx else None,
        }


class CentralOfficeLine:
    def __init__(self, name: str, *, answer_after: float = 1.0,
                 ring_timeout: float = 60.0) -> None:
        self.name = name
        self.box_sock, self.far_sock = socket.socketpair(socket.AF_UNIX,
                                                         socket.SOCK_SEQPACKET)
        for s in (self.box_sock, self.far_sock):
            s.setblocking(False)
        self.port = SimFxoPort(name, self, self.box_sock.fileno())
        self.answer_after = answer_after
        self.ring_timeout = ring_timeout
        self.busy_numbers: set[str] = set()
        self.offhook = False
        self.reversed = False
        self.call_: CoCall | None = None
        self.history: deque[dict[str, Any]] = deque(maxlen=50)
        self._tone = b""  # looped into the line while off hook
        self._tone_pos = 0
        self._onhook_tx = bytearray()  # caller ID sent on hook
        self._timers: list[asyncio.TimerHandle] = []
        self._digits = InbandDtmf(Codec.PCMA)
        self._digit_timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task[None] | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "central office not started"
        return self._loop

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.far_sock.fileno(), self._readable)
        self._ticker = self._loop.create_task(self._tick_forever(), name=f"{self.name}-co")

    async def stop(self) -> None:
        if self.call_ is not None:
            self._end(self.call_, "pstn", "shutdown")
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self._loop is not None:
            self._loop.remove_reader(self.far_sock.fileno())
        self._cancel_timers()
        self._digits.close()
        self.box_sock.close()
        self.far_sock.close()

    def _later(self, delay: float, fn: Callable[..., None], *args: Any) -> None:
        self._timers.append(self.loop.call_later(delay, fn, *args))

    def _cancel_timers(self) -> None:
        for t in self._timers:
            t.cancel()
        self._timers.clear()

    def _signal(self, sig: LineSignal) -> None:
        if sig is LineSignal.POLARITY:
            self.reversed = not self.reversed
        self.loop.call_soon(self.port.signal, sig)

    # -- calls into the box -------------------------------------------------------------------
    def place(self, caller: str, *, cid: str = "fsk", hangup: str = "polarity",
              seconds: float | None = 10.0, audio: bytes = b"") -> CoCall:
        if cid not in CID_FORMATS:
            raise ValueError(f"caller ID format must be one of {', '.join(CID_FORMATS)}")
        if hangup not in HANGUP_METHODS:
            raise ValueError(f"hangup method must be one of {', '.join(HANGUP_METHODS)}")
        if self.call_ is not None or self.offhook:
            raise RuntimeError(f"{self.name} is busy")
        call = CoCall("to-box", caller, cid=cid, hangup=hangup, seconds=seconds,
                      tx=bytearray(audio), done=self.loop.create_future())
        self.call_ = call
        first_ring = 0.2
        if cid == "dtmf":
            pcm = CallerIdSender("dtmf").render(dtmf_message(caller).encode())
            self._onhook_tx += g711.encode(Codec.PCMA, pcm)
            first_ring = len(pcm) / 8000 + DTMF_CID_GAP
        self._later(first_ring, self._ring, call)
        self._later(self.ring_timeout, self._give_up, call)
        log.info("%s: calling the box from %s (caller ID %s)", self.name, caller, cid)
        return call

    async def call(self, caller: str, **kw: Any) -> dict[str, Any]:
        call = self.place(caller, **kw)
        assert call.done is not None
        seconds = call.seconds if call.seconds is not None else 3600.0
        try:
            await asyncio.wait_for(asyncio.shield(call.done), self.ring_timeout + seconds + 60)
        except TimeoutError:
            self._end(call, "pstn", "timeout")
        return call.report()

    def _ring(self, call: CoCall) -> None:
        if self.call_ is not call or call.answered_at is not None:
            return
        call.rings += 1
        self._signal(LineSignal.RING_ON)
        self._later(RING_ON, self._ring_off, call)

    def _ring_off(self, call: CoCall) -> None:
        if self.call_ is not call or call.answered_at is not None:
            return
        self._signal(LineSignal.RING_OFF)
        if call.rings == 1 and call.cid in ("fsk", "fsk-v23"):
            sender = CallerIdSender("v23" if call.cid == "fsk-v23" else "bell202")
            when = time.strftime("%m%d%H%M")
            pcm = sender.render(mdmf(call.caller, when))
            self._later(FSK_DELAY, self._onhook_tx.extend, g711.encode(Codec.PCMA, pcm))
        self._later(RING_OFF, self._ring, call)

    def _give_up(self, call: CoCall) -> None:
        if self.call_ is call and call.answered_at is None:
            self._end(call, "pstn", "abandoned")

    def _answered(self, call: CoCall) -> None:
        self._cancel_timers()  # ring trip: no more rings, no ring timeout
        call.answered_at = time.monotonic()
        call.result = "answered"
        if call.seconds is not None:
            self._later(call.seconds, self._far_hangup, call)

    def _far_hangup(self, call: CoCall) -> None:
        if self.call_ is not call or call.ended_at is not None:
            return
        call.far_hangup_at = time.monotonic()
        call.tx.clear()
        log.info("%s: far party hung up; telling the box by %s", self.name, call.hangup)
        if call.hangup == "polarity":
            self._signal(LineSignal.POLARITY)
            self._tone = b""
        elif call.hangup == "busy":
            self._tone = BUSY_TONE
        elif call.hangup == "loop":
            self._signal(LineSignal.LOOP_DROP)
            self._tone = b""
        else:
            self._tone = b""  # silence
        self._tone_pos = 0

    # -- the box's hook --------------------------------------------------------------------
    def hook(self, offhook: bool) -> None:
        if offhook == self.offhook:
            return
        self.offhook = offhook
        call = self.call_
        if offhook:
            if call is not None and call.direction == "to-box":
                if call.answered_at is None:
                    self._answered(call)
                return
            # a call from the box: dial tone until the first digit
            call = CoCall("from-box", caller=self.name, cid="", hangup="",
                          seconds=None, done=self.loop.create_future())
            self.call_ = call
            self._set_tone(DIAL_TONE)
            return
        # on hook: the call is over
        if call is not None:
            self._end(call, "pstn" if call.far_hangup_at is not None else "box",
                      call.result or "cleared")
        if self.reversed:  # back to normal polarity when the line is idle
            self._signal(LineSignal.POLARITY)

    def _set_tone(self, t: bytes) -> None:
        self._tone, self._tone_pos = t, 0

    def _end(self, call: CoCall, by: str, result: str) -> None:
        if call.ended_at is not None:
            return
        call.ended_at = time.monotonic()
        call.released_by = by
        call.result = call.result or result
        if result in ("abandoned", "shutdown", "timeout"):
            call.result = result
        if self.call_ is call:
            self.call_ = None
        self._cancel_timers()
        self._set_tone(b"")
        self._onhook_tx.clear()
        if self._digit_timer is not None:
            self._digit_timer.cancel()
            self._digit_timer = None
        self.history.append(call.report())
        log.info("%s: call %d ended (%s, released by %s)", self.name, call.id,
                 call.result, by)
        if call.done is not None and not call.done.done():
            call.done.set_result(None)

    # -- digits from the box -----------------------------------------------------------------
    def _heard_digit(self, digit: str) -> None:
        call = self.call_
        if call is None or call.direction != "from-box" or call.result:
            return
        call.number += digit
        self._set_tone(b"")
        if self._digit_timer is not None:
            self._digit_timer.cancel()
        self._digit_timer = self.loop.call_later(INTERDIGIT, self._route, call)

    def _route(self, call: CoCall) -> None:
        self._digit_timer = None
        if self.call_ is not call:
            return
        if call.number in self.busy_numbers:
            call.result = "busy"
            self._set_tone(BUSY_TONE)
            return
        call.result = "ringing"
        self._set_tone(RINGBACK)
        self._later(self.answer_after, self._answer_out, call)

    def _answer_out(self, call: CoCall) -> None:
        if self.call_ is call:
            call.answered_at = time.monotonic()
            call.result = "answered"
            self._set_tone(FAR_PARTY)

    # -- the 20 ms clock -------------------------------------------------------------------------
    async def _tick_forever(self) -> None:
        due = time.monotonic()
        while True:
            due += TICK
            delay = due - time.monotonic()
            if delay < -5 * TICK:
                due, delay = time.monotonic(), 0.0
            await asyncio.sleep(max(delay, 0.0))
            try:
                self._tick()
            except Exception:
                log.exception("%s: clock tick failed", self.name)

    def _next_frame(self) -> bytes | None:
        call = self.call_
        if not self.offhook:
            if not self._onhook_tx:
                return None
            frame = bytes(self._onhook_tx[:SAMPLES_PER_FRAME])
            del self._onhook_tx[:SAMPLES_PER_FRAME]
            return frame + SILENCE[len(frame):]
        if call is not None and call.tx and call.far_hangup_at is None:
            frame = bytes(call.tx[:SAMPLES_PER_FRAME])
            del call.tx[:SAMPLES_PER_FRAME]
            return frame + SILENCE[len(frame):]
        if self._tone:
            t, pos = self._tone, self._tone_pos
            frame = (t[pos:] + t)[:SAMPLES_PER_FRAME]
            self._tone_pos = (pos + SAMPLES_PER_FRAME) % len(t)
            return frame
        return SILENCE

    def _tick(self) -> None:
        frame = self._next_frame()
        if frame is None:
            return
        try:
            os.write(self.far_sock.fileno(), frame)
        except BlockingIOError:
            pass  # the box is not reading: a line just goes on
        except OSError as e:
            log.warning("%s: write failed: %s", self.name, e)

    def _readable(self) -> None:
        for _ in range(32):
            try:
                data = self.far_sock.recv(2048)
            except (BlockingIOError, OSError):
                return
            if not data:
                return
            call = self.call_
            if call is None or not self.offhook:
                continue
            if call.direction == "from-box" and not call.answered_at:
                for d in self._digits.feed(data):
                    self._heard_digit(d)
            elif call.answered_at is not None and len(call.rx) < MAX_HEARD_SECONDS * 8000:
                call.rx += data

    # -- status ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "hook": "off" if self.offhook else "on",
            "polarity": "reversed" if self.reversed else "normal",
            "call": self.call_.report() if self.call_ is not None else None,
            "recent": list(self.history)[-10:],
        }
