"""`R2Trunk`: an MFC/R2 span (China No.1 by default) on DAHDI CAS channels via openr2.

openr2 owns each channel's fd while the line is idle or signalling: it reads the audio
for the MF tones, writes its own, and reads/writes the ABCD bits. We call
`openr2_chan_process_event` when the fd is readable and when openr2's timer is due; its
callbacks only queue what happened, and the queue is handled after openr2 returns
(never re-entering the switch from inside C).

Once a call is accepted (the group B signal is through, MF is over) the channel's
audio is ours: openr2's reading stops and an `R2Leg` (a `FrameLeg`) carries the
frames; line signals still arrive as DAHDI events (ELAST on read), which go to
`openr2_chan_handle_cas`. At the end of the call openr2 reads again.

Inbound: seizure, ANI/DNIS and the calling party's category, then `Offered` -> an
`R2Channel` for the switch; ring() accepts (B-6, with charge), answer() answers.
Outbound: `originate()` seizes the highest free channel and sends DNIS/ANI.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from drivers.dahdi import io
from drivers.dahdi import openr2 as r2
from drivers.dahdi.channels import DahdiChannel
from firmware.media.codecs import Codec
from firmware.media.frame_leg import FrameLeg
from firmware.media.leg import MediaLeg
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelListener, ChannelState, Direction, Party

log = logging.getLogger(__name__)

DEFAULTS = {"variant": "china", "max_ani": 11, "max_dnis": 8,
            "category": "national_subscriber", "get_ani_first": False, "mf_threshold_ms": 0,
            "hunt": "high"}


class R2Leg(FrameLeg):
    """The call's audio; silent towards the line until the call is accepted (before
    that the channel carries openr2's MF tones)."""

    live = False

    def write(self, payload: bytes) -> None:
        if self.live:
            super().write(payload)


@dataclass(eq=False)
class R2Line:
    ts: int
    ch: DahdiChannel
    chan: int  # openr2_chan_t *
    call: R2Channel | None = None
    timer: asyncio.TimerHandle | None = None
    reading: bool = False  # openr2 reads the fd (idle, MF) vs. our leg (in a call)
    ani: list[str] = field(default_factory=list)
    dnis: list[str] = field(default_factory=list)


class R2Channel(Channel):
    tech = "r2"

    def __init__(self, trunk: R2Trunk, line: R2Line, direction: Direction, caller: Party,
                 called: str, category: int) -> None:
        super().__init__(direction, caller, called)
        self.trunk = trunk
        self.line = line
        self.timeslot = line.ts
        self.category = category
        self.peer_name = f"{trunk.name}/{line.ts}"
        self.accepted = False
        self._answer_when_accepted = False
        self.leg = R2Leg(line.ch.fd, trunk.codec, owns_fd=False,
                         name=f"{trunk.name}/{line.ts}", dtmf=True)
        self.leg.on_dtmf = self._dtmf
        self.leg.on_event_pending = lambda: trunk.in_call_events(line)
        line.call = self

    @property
    def media(self) -> MediaLeg | None:
        return None if self.leg.closed else self.leg

    # commands from the switch ---------------------------------------------------------
    def ring(self) -> None:
        if self.direction is Direction.INBOUND and self.state is ChannelState.OFFERED:
            self.state = ChannelState.RINGING
            self.trunk.accept(self)

    def progress(self) -> None:
        self.ring()  # R2 has no early media without accepting the call

    def answer(self) -> None:
        if self.direction is not Direction.INBOUND or self.state in (ChannelState.UP,
                                                                     ChannelState.ENDED):
            return
        if not self.accepted:
            self._answer_when_accepted = True
            self.ring()
            return
        self.state = ChannelState.UP
        self.trunk.call_lib("openr2_chan_answer_call", self.line)

    def hangup(self, cause: Cause) -> None:
        if self.state is ChannelState.ENDED:
            return
        self.state = ChannelState.ENDED
        q850 = Cause.NORMAL_CLEARING if cause is Cause.ORIGINATOR_CANCEL else cause
        self.trunk.call_lib("openr2_chan_disconnect_call", self.line, r2.from_q850(int(q850)))
        self.leg.live = False

    def hold(self, held: bool) -> None:
        pass

    # from the trunk -------------------------------------------------------------------
    def was_accepted(self) -> None:
        self.accepted = True
        self.trunk.take_audio(self.line)
        if self.direction is Direction.OUTBOUND:
            if self.state is ChannelState.DIALING:
                self.state = ChannelState.RINGING
                if self.listener:
                    self.listener.channel_ringing(self)
        elif self._answer_when_accepted:
            self.answer()

    def far_end_answered(self) -> None:
        if self.direction is Direction.OUTBOUND and self.state is not ChannelState.ENDED:
            self.state = ChannelState.UP
            if self.listener:
                self.listener.channel_answered(self)

    def far_end_hangup(self, q850: int) -> None:
        if self.state is ChannelState.ENDED:
            return
        self.state = ChannelState.ENDED
        self.leg.live = False
        if self.listener:
            self.listener.channel_hungup(self, _cause(q850))

    def _dtmf(self, digit: str) -> None:
        if self.listener is not None and not self.ended:
            self.listener.channel_dtmf(self, digit)


def _cause(value: int) -> Cause:
    try:
        return Cause(value)
    except ValueError:
        return Cause.NORMAL_UNSPECIFIED


class R2Trunk:
    def __init__(self, name: str, channels: dict[int, DahdiChannel], cfg: dict[str, Any],
                 *, codec: Codec = Codec.PCMA) -> None:
        self.name = name
        self.codec = codec
        self.cfg = {**DEFAULTS, **cfg}
        self.variant = r2.variant(str(self.cfg["variant"]))
        self.category = r2.category(str(self.cfg["category"]))
        self.on_incoming: Callable[[Channel], None] | None = None
        self.counters = {"inbound": 0, "outbound": 0, "refused": 0, "protocol_errors": 0}
        self._lib = r2.load()
        self._pending: list[tuple[str, R2Line, tuple[Any, ...]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._iface = self._interface()  # C keeps pointers into it: keep it alive
        self._ctx = self._lib.openr2_context_new(None, ctypes.byref(self._iface), None,
                                                 self.variant, int(self.cfg["max_ani"]),
                                                 int(self.cfg["max_dnis"]))
        if not self._ctx:
            raise RuntimeError(f"{name}: openr2_context_new failed")
        self._lib.openr2_context_set_log_level(self._ctx, r2.LOG_ERROR | r2.LOG_WARNING)
        # DNIS first, then category and ANI. openr2 defaults to asking for the ANI after
        # the first DNIS digit, but in the China variant "next ANI digit" and "next DNIS
        # digit" are the same signal (A-1), and openr2's forward side answers A-1 with
        # DNIS while it has any: asking for ANI early breaks the call (seen in the VM).
        self._lib.openr2_context_set_ani_first(self._ctx, 1 if self.cfg["get_ani_first"] else 0)
        # A tone (or its end) counts only once it has lasted this long: a reader that
        # lost a block of audio must not see a digit twice (seen in the VM under load).
        self._lib.openr2_context_set_mf_threshold(self._ctx, int(self.cfg["mf_threshold_ms"]))
        self.lines: dict[int, R2Line] = {}
        self._by_chan: dict[int, R2Line] = {}
        for ts, ch in sorted(channels.items()):
            chan = self._lib.openr2_chan_new_from_fd(self._ctx, ch.fd, None, None)
            if not chan:
                err = self._lib.openr2_context_get_last_error(self._ctx)
                raise RuntimeError(f"{name}/{ts}: openr2 refused DAHDI channel {ch.channo}: "
                                   f"{r2.text(self._lib.openr2_context_error_string(err))}")
            self._lib.openr2_chan_set_logging_func(chan, _chan_log_cb)
            self._lib.openr2_chan_set_log_level(
                chan, r2.LOG_ALL if _TRACE else r2.LOG_ERROR | r2.LOG_WARNING)
            line = R2Line(ts, ch, chan)
            self.lines[ts] = line
            self._by_chan[chan] = line

    def __repr__(self) -> str:
        variant = r2.text(self._lib.openr2_proto_get_variant_string(self.variant))
        return f"<R2Trunk {self.name} {variant}>"

    # -- openr2 callbacks (queue only) --------------------------------------------------
    def _interface(self) -> r2.EventInterface:
        def q(kind: str) -> Callable[..., None]:
            def cb(chan: int | None, *args: Any) -> None:
                line = self._by_chan.get(chan or 0)
                if line is not None:
                    self._pending.append((kind, line, args))
            return cb

        def dnis_digit(chan: int | None, digit: bytes) -> int:
            line = self._by_chan.get(chan or 0)
            if line is not None:
                line.dnis.append(digit.decode("ascii", "replace"))
            return 1  # ask for more while openr2's max DNIS allows

        def ani_digit(chan: int | None, digit: bytes) -> None:
            line = self._by_chan.get(chan or 0)
            if line is not None:
                line.ani.append(digit.decode("ascii", "replace"))

        def context_log(_ctx: int | None, level: int, fmt: bytes | None, _ap: int | None
                        ) -> None:
            log.log(logging.ERROR if level & r2.LOG_ERROR else logging.DEBUG,
                    "openr2: %s", _format(fmt, _ap).strip())

        self._keep = [
            r2.ChanCb(q("init")), r2.OfferedCb(q("offered")), r2.IntArgCb(q("accepted")),
            r2.ChanCb(q("answered")), r2.IntArgCb(q("disconnect")), r2.ChanCb(q("end")),
            r2.ReadCb(lambda *_: None), r2.IntArgCb(q("alarm")), r2.IntArgCb(q("os_error")),
            r2.IntArgCb(q("protocol_error")), r2.ChanCb(q("blocked")), r2.ChanCb(q("idle")),
            r2.ContextLogCb(context_log), r2.DigitCb(dnis_digit), r2.AniDigitCb(ani_digit),
            r2.ChanCb(lambda *_: None),
        ]
        return r2.EventInterface(*self._keep)

    # -- driving openr2 -----------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for line in self.lines.values():
            self._read_by_openr2(line)
            self.call_lib("openr2_chan_set_idle", line)

    def stop(self) -> None:
        for line in self.lines.values():
            if line.call is not None and not line.call.ended:
                line.call.hangup(Cause.NORMAL_UNSPECIFIED)
            if line.timer is not None:
                line.timer.cancel()
            if line.call is not None:
                line.call.leg.close()
            self._stop_reading(line)
        # openr2_context_delete frees the context's channels too (deleting them first
        # is a double free)
        self.lines.clear()
        self._by_chan.clear()
        if self._ctx:
            self._lib.openr2_context_delete(self._ctx)
            self._ctx = None
        self._loop = None

    def call_lib(self, fn: str, line: R2Line, *args: Any) -> int:
        """One openr2 call on a line, then what it caused."""
        rc = int(getattr(self._lib, fn)(line.chan, *args) or 0)
        if rc < 0:
            log.warning("%s/%d: %s failed", self.name, line.ts, fn)
        self._drain()
        self._arm(line)
        return rc

    def _process(self, line: R2Line) -> None:
        line.timer = None
        if line.chan in self._by_chan:
            self.call_lib("openr2_chan_process_event", line)

    def _arm(self, line: R2Line) -> None:
        if self._loop is None or line.chan not in self._by_chan:
            return
        if line.timer is not None:
            line.timer.cancel()
            line.timer = None
        ms = self._lib.openr2_chan_get_time_to_next_event(line.chan)
        if ms >= 0:
            line.timer = self._loop.call_later(ms / 1000 + 0.001, self._process, line)

    def _read_by_openr2(self, line: R2Line) -> None:
        assert self._loop is not None
        self._lib.openr2_chan_enable_read(line.chan)
        if not line.reading:
            self._loop.add_reader(line.ch.fd, self._process, line)
            line.reading = True

    def _stop_reading(self, line: R2Line) -> None:
        if line.reading and self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(line.ch.fd)
        line.reading = False

    def take_audio(self, line: R2Line) -> None:
        """MF is over: the call's leg reads the channel from now on."""
        call = line.call
        if call is None or call.leg.closed:
            return
        self._lib.openr2_chan_disable_read(line.chan)
        self._stop_reading(line)
        call.leg.live = True
        call.leg.start(self._loop)

    def in_call_events(self, line: R2Line) -> None:
        """The leg's read failed with ELAST: line signals (CAS bits) or alarms."""
        for ev in line.ch.events():
            if ev == io.EVENT_BITSCHANGED:
                self.call_lib("openr2_chan_handle_cas", line)
            elif ev in (io.EVENT_ALARM, io.EVENT_NOALARM):
                (log.error if ev == io.EVENT_ALARM else log.info)(
                    "%s/%d: DAHDI %s", self.name, line.ts, io.event_name(ev))

    def _drain(self) -> None:
        while self._pending:
            kind, line, args = self._pending.pop(0)
            try:
                self._event(kind, line, args)
            except Exception:
                log.exception("%s/%d: handling openr2 %s failed", self.name, line.ts, kind)

    def _event(self, kind: str, line: R2Line, args: tuple[Any, ...]) -> None:
        call = line.call
        if kind == "init":
            line.ani.clear()
            line.dnis.clear()
        elif kind == "offered":
            ani, dnis, category = args
            self._offered(line, r2.text(ani), r2.text(dnis), int(category))
        elif kind == "accepted":
            if call is not None:
                call.was_accepted()
        elif kind == "answered":
            if call is not None:
                call.far_end_answered()
        elif kind == "disconnect":
            cause = r2.to_q850(int(args[0]))
            if call is not None:
                call.far_end_hangup(cause)
            # openr2 waits for us to clear our side too
            self.call_lib("openr2_chan_disconnect_call", line, r2.CAUSE_NORMAL_CLEARING)
        elif kind == "end":
            self._ended(line, 16)
        elif kind == "protocol_error":
            self.counters["protocol_errors"] += 1
            err = r2.text(self._lib.openr2_proto_get_error(int(args[0])))
            log.warning("%s/%d: R2 protocol error: %s", self.name, line.ts, err)
            self._ended(line, 41)
        elif kind == "alarm":
            log.error("%s/%d: hardware alarm %s", self.name, line.ts, args[0])
        elif kind == "os_error":
            log.error("%s/%d: OS error %s", self.name, line.ts, args[0])

    def _ended(self, line: R2Line, q850: int) -> None:
        call = line.call
        line.call = None
        if call is not None:
            call.far_end_hangup(q850)
            call.leg.close()
        if self._loop is not None and line.chan in self._by_chan:
            self._read_by_openr2(line)

    def _offered(self, line: R2Line, ani: str, dnis: str, category: int) -> None:
        if line.call is not None:
            log.warning("%s/%d: offer on a busy line refused", self.name, line.ts)
            self.call_lib("openr2_chan_disconnect_call", line, r2.CAUSE_NETWORK_CONGESTION)
            return
        ch = R2Channel(self, line, Direction.INBOUND, Party(ani), dnis, category)
        self.counters["inbound"] += 1
        log.info("%s/%d: R2 call from %s (category %s) to %s", self.name, line.ts, ani,
                 r2.text(self._lib.openr2_proto_get_category_string(category)), dnis)
        if self.on_incoming is None:
            self.counters["refused"] += 1
            ch.hangup(Cause.TEMPORARY_FAILURE)
            return
        self.on_incoming(ch)

    def accept(self, ch: R2Channel) -> None:
        self.call_lib("openr2_chan_accept_call", ch.line, r2.CALL_WITH_CHARGE)

    # -- outbound -----------------------------------------------------------------------
    def free_timeslots(self) -> list[int]:
        return [ts for ts, line in self.lines.items() if line.call is None]

    def originate(self, target: str, caller: Party, listener: ChannelListener | None,
                  codecs: Sequence[Codec] | None = None) -> list[Channel]:
        free = self.free_timeslots()
        if not free or not target.isdigit():
            return []
        # From the top by default: exchanges usually hunt from the bottom, so both ends
        # seldom seize the same idle line at once (glare).
        line = self.lines[free[0] if self.cfg["hunt"] == "low" else free[-1]]
        ani = caller.number if caller.number.isdigit() else ""
        ch = R2Channel(self, line, Direction.OUTBOUND, caller, target, self.category)
        ch.listener = listener
        rc = self.call_lib("openr2_chan_make_call", line, ani.encode(), target.encode(),
                           self.category)
        if rc < 0:
            line.call = None
            ch.leg.close()
            return []
        self.counters["outbound"] += 1
        return [ch]

    # -- status -------------------------------------------------------------------------
    def line_state(self, ts: int) -> str:
        """openr2's view of one line: call state, R2 state, CAS bits rx/tx."""
        line = self.lines[ts]
        lib = self._lib
        return (f"{r2.text(lib.openr2_chan_get_call_state_string(line.chan))} "
                f"{r2.text(lib.openr2_chan_get_r2_state_string(line.chan))} "
                f"rx {r2.text(lib.openr2_chan_get_rx_cas_string(line.chan))} "
                f"tx {r2.text(lib.openr2_chan_get_tx_cas_string(line.chan))}")

    def status(self) -> dict[str, object]:
        busy: dict[str, str] = {}
        for ts, line in self.lines.items():
            if line.call is not None:
                c = line.call
                busy[str(ts)] = f"{c.state.value} {c.direction.value} {c.caller.number}->{c.called}"
        alarmed = any(line.ch.alarmed for line in self.lines.values())
        return {
            "name": self.name, "signalling": "r2", "driver": "dahdi",
            "variant": r2.text(self._lib.openr2_proto_get_variant_string(self.variant)),
            "alarm": "DAHDI alarm" if alarmed else None,
            "idle": len(self.lines) - len(busy), "b_channels": busy,
            "counters": dict(self.counters),
        }


_libc = ctypes.CDLL(None)
_vsnprintf = _libc.vsnprintf
_vsnprintf.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_void_p]
_vsnprintf.restype = ctypes.c_int
# CCBOX_R2_TRACE=1: every openr2 message (MF and CAS traces too) at INFO
_TRACE = os.environ.get("CCBOX_R2_TRACE") == "1"


def _format(fmt: bytes | None, ap: int | None) -> str:
    """openr2's printf-style message with its va_list (a pointer on x86-64 and arm64)."""
    if not fmt:
        return ""
    if ap is None:
        return r2.text(fmt)
    buf = ctypes.create_string_buffer(512)
    _vsnprintf(buf, len(buf), fmt, ap)
    return buf.value.decode("utf-8", "replace")


def _chan_log(chan: int | None, level: int, fmt: bytes | None, ap: int | None) -> None:
    if _TRACE:
        log.info("openr2: %s", _format(fmt, ap).strip())
    elif level & (r2.LOG_ERROR | r2.LOG_WARNING):
        log.warning("openr2: %s", _format(fmt, ap).strip())


_chan_log_cb = r2.ChanLogCb(_chan_log)
