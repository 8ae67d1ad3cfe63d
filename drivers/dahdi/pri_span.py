"""`PriSpan`: one ISDN PRI D-channel (libpri in CPE or NET mode), sans I/O.

Frames in: `receive_frame(frame)`; frames out: `frames_to_send()`; time: `next_timer()`
and `handle_timer()`. Every input returns the libpri events it caused, as the values of
`drivers.dahdi.pri_events`. Frames are bare Q.921 frames (address, control, info): the
HDLC flags and FCS are the line's business (DAHDI adds and checks them in hardware;
the simulator's socketpair needs none), so the 2 FCS bytes libpri expects are added on
read and dropped on write here.

Time: libpri keeps its own scheduler on gettimeofday() (CLOCK_REALTIME) and cannot be
told the time. `next_timer()` is therefore a `time.time()` deadline, and `handle_timer()`
only runs what libpri itself finds due. Real time a span consumes: with a link up and
idle, T203 (10 s) polls the peer with RR every 10 s; a lost peer is declared down after
T200 (1 s) x N200 (3) retransmissions, i.e. ~13 s after the last frame; SABME is retried
every T200 while the link is down. Answered calls outlive a D-channel outage for
T309 (6 s), then are cleared with cause 27. Outgoing SETUPs wait T303 (4 s) for an
answer; clearing waits T305 (30 s) and T308 (4 s). Calls never need a timer in the
happy path.

Clearing follows Q.931 as chan_dahdi drives libpri: when the far end disconnects, the
span reports `Hangup` once and completes the release itself (RELEASE, then freeing the
call); a call we clear with `hangup()` reports nothing more. A B-channel counts as busy
until libpri has freed its call.
"""

from __future__ import annotations

import ctypes
import itertools
import logging
import time
from collections.abc import Sequence
from typing import Any

from drivers.dahdi import libpri as lp
from drivers.dahdi.pri_events import (
    Answered,
    CallState,
    ConfigError,
    DChannelDown,
    DChannelUp,
    Digits,
    Hangup,
    KeypadDigits,
    PriCall,
    PriEvent,
    Proceeding,
    Progress,
    RestartAcknowledged,
    Restarted,
    Ring,
    Ringing,
    SetupAcknowledged,
)

log = logging.getLogger(__name__)

NODES = {"cpe": lp.PRI_CPE, "net": lp.PRI_NETWORK}
_FCS = b"\x00\x00"
# Bounds one handle_timer() call even if libpri kept finding due timers.
_MAX_TIMER_EVENTS = 64
# A restarted channel's calls are gone: the cause chan_dahdi reports for them.
RESTART_CAUSE = 41  # temporary failure

# libpri calls our I/O callbacks with its `struct pri *`; its userdata is a key here,
# because pri_new_cb already writes (the first SABME) before it returns.
_spans: dict[int, PriSpan] = {}
_keys = itertools.count(1)


def e1_timeslots(channels: int = 30) -> list[int]:
    """B-channel timeslots of an E1 with CCS: 1-15 and 17-31 (16 carries the D-channel)."""
    if not 1 <= channels <= 30:
        raise ValueError(f"an E1 has 1..30 B-channels, not {channels}")
    return [ts for ts in range(1, 32) if ts != 16][:channels]


def t1_timeslots(channels: int = 23) -> list[int]:
    if not 1 <= channels <= 23:
        raise ValueError(f"a T1 PRI has 1..23 B-channels, not {channels}")
    return list(range(1, channels + 1))


_T1_SWITCHES = {
    lp.PRI_SWITCH_NI1, lp.PRI_SWITCH_NI2, lp.PRI_SWITCH_DMS100, lp.PRI_SWITCH_LUCENT5E,
    lp.PRI_SWITCH_ATT4ESS, lp.PRI_SWITCH_EUROISDN_T1,
}  # fmt: skip


def switch_type(value: str | int) -> int:
    if isinstance(value, int):
        return value
    try:
        return lp.SWITCH_TYPES[value.lower()]
    except KeyError:
        known = ", ".join(sorted(lp.SWITCH_TYPES))
        raise ValueError(f"unknown switch type {value!r} (known: {known})") from None


def _channel(raw: int) -> int | None:
    if raw == -1:
        return None
    ts = raw & lp.CHANNEL_MASK
    return None if ts in (0, lp.CHANNEL_ANY) else ts


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "replace")


def _read(pri: int | None, buf: int | None, buflen: int) -> int:
    try:
        span = _spans.get(load_lib().pri_get_userdata(pri) or 0)
        if span is None or span._rx is None or buf is None:
            return 0
        frame = span._rx + _FCS
        span._rx = None
        if len(frame) > buflen:
            log.warning("%s: %d-byte frame dropped, libpri reads at most %d",
                        span.name, len(frame), buflen)
            return 0
        ctypes.memmove(buf, frame, len(frame))
        return len(frame)
    except Exception:  # an exception must not unwind through C
        log.exception("libpri read callback failed")
        return 0


def _write(pri: int | None, buf: int | None, buflen: int) -> int:
    try:
        span = _spans.get(load_lib().pri_get_userdata(pri) or 0)
        if span is not None and buf is not None and buflen > len(_FCS):
            # libpri leaves room for the FCS after the frame; the line adds the real one.
            span._tx.append(ctypes.string_at(buf, buflen - len(_FCS)))
        return buflen
    except Exception:
        log.exception("libpri write callback failed")
        return -1


# Module lifetime: libpri keeps these pointers in every controller we create.
_read_cb = lp.IoCallback(_read)
_write_cb = lp.IoCallback(_write)


def load_lib() -> Any:
    return lp.load()


class PriSpan:
    def __init__(
        self,
        node: str,
        switchtype: str | int = "euroisdn",
        channels: int | Sequence[int] | None = None,
        *,
        name: str = "",
        debug: int = 0,
        overlap: bool = False,
    ) -> None:
        if node not in NODES:
            raise ValueError(f"node must be 'cpe' or 'net', not {node!r}")
        self.node = node
        self.switchtype = switch_type(switchtype)
        self.t1 = self.switchtype in _T1_SWITCHES  # mu-law, 23 B-channels
        if channels is None or isinstance(channels, int):
            # None: every B-channel of the span type
            if self.switchtype in _T1_SWITCHES:
                self.timeslots = t1_timeslots(channels or 23)
            else:
                self.timeslots = e1_timeslots(channels or 30)
        else:
            self.timeslots = sorted(channels)
        self.key = next(_keys)
        self.name = name or f"pri{self.key}-{node}"
        self.dchannel_up = False
        self.calls: dict[int, PriCall] = {}
        self._rx: bytes | None = None
        self._tx: list[bytes] = []
        self._lib = load_lib()
        _spans[self.key] = self
        self._closed = False
        self._pri: int = self._lib.pri_new_cb(
            -1, NODES[node], self.switchtype, _read_cb, _write_cb, ctypes.c_void_p(self.key)
        )
        if not self._pri:
            _spans.pop(self.key, None)
            raise RuntimeError(f"pri_new_cb failed for {self.name}")
        if debug:
            self._lib.pri_set_debug(self._pri, debug)
        self.overlap = overlap

    @property
    def overlap(self) -> bool:
        """Overlap dialling: SETUP without Sending Complete when a call asks for it, and
        the far end's digits after our SETUP ACKNOWLEDGE reported as `Digits`."""
        return self._overlap

    @overlap.setter
    def overlap(self, on: bool) -> None:
        self._overlap = on
        self._lib.pri_set_overlapdial(self._pri, 1 if on else 0)

    def __repr__(self) -> str:
        up = "up" if self.dchannel_up else "down"
        return f"<PriSpan {self.name} {self.node} D-channel {up}, {len(self.calls)} calls>"

    # -- I/O ------------------------------------------------------------------------------
    def receive_frame(self, frame: bytes) -> list[PriEvent]:
        """One Q.921 frame from the line (no flags, no FCS)."""
        if self._closed or not frame:
            return []
        self._rx = bytes(frame)
        ev = self._lib.pri_check_event(self._pri)
        self._rx = None
        return self._translate(ev) + self._sweep()

    def frames_to_send(self) -> list[bytes]:
        """Q.921 frames libpri wrote since the last call, oldest first."""
        out, self._tx = self._tx, []
        return out

    def next_timer(self) -> float | None:
        """libpri's next deadline as a `time.time()` value; None when nothing is scheduled."""
        if self._closed:
            return None
        tv = self._lib.pri_schedule_next(self._pri)
        if not tv:
            return None
        return float(tv.contents.tv_sec + tv.contents.tv_usec / 1e6)

    def handle_timer(self) -> list[PriEvent]:
        """Run what libpri finds due now (by its own clock)."""
        events: list[PriEvent] = []
        if self._closed:
            return events
        for _ in range(_MAX_TIMER_EVENTS):
            ev = self._lib.pri_schedule_run(self._pri)
            if not ev:
                break
            events += self._translate(ev)
        return events + self._sweep()

    def set_timer(self, timer: int, ms: int) -> None:
        """Change a Q.921/Q.931 timer (an `lp.PRI_TIMER_*` index) in milliseconds."""
        if self._lib.pri_set_timer(self._pri, timer, ms) != 0:
            raise ValueError(f"libpri refused timer {timer} = {ms} ms")

    def close(self) -> None:
        """Stop driving libpri (the C controller itself cannot be freed in libpri 1.6)."""
        self._closed = True
        _spans.pop(self.key, None)

    # -- commands -------------------------------------------------------------------------
    def call(
        self,
        channel: int,
        called: str,
        calling: str = "",
        *,
        called_ton: int = lp.PRI_TON_UNKNOWN,
        calling_ton: int = lp.PRI_TON_UNKNOWN,
        calling_name: str = "",
        complete: bool = True,
    ) -> PriCall:
        """Send SETUP for `called` on B-channel `channel` (exclusive), A-law speech."""
        lib = self._lib
        ref = lib.pri_new_call(self._pri)
        if not ref:
            raise RuntimeError(f"{self.name}: libpri has no call record free")
        sr = lib.pri_sr_new()
        if not sr:
            raise MemoryError("pri_sr_new")
        # The byte strings must outlive pri_setup, which copies them into the call.
        called_b = called.encode("ascii")
        calling_b = calling.encode("ascii") if calling else None
        name_b = calling_name.encode("utf-8") if calling_name else None
        try:
            lib.pri_sr_set_channel(sr, channel, 1, 0)
            layer1 = lp.PRI_LAYER_1_ULAW if self.t1 else lp.PRI_LAYER_1_ALAW
            lib.pri_sr_set_bearer(sr, lp.PRI_TRANS_CAP_SPEECH, layer1)
            lib.pri_sr_set_called(sr, called_b, lp.plan(called_ton), 1 if complete else 0)
            if calling_b is not None:
                lib.pri_sr_set_caller(sr, calling_b, name_b, lp.plan(calling_ton),
                                      lp.PRES_ALLOWED_USER_NUMBER_NOT_SCREENED)
            if lib.pri_setup(self._pri, ref, sr) != 0:
                lib.pri_destroycall(self._pri, ref)
                raise RuntimeError(f"{self.name}: pri_setup refused the call to {called}")
        finally:
            lib.pri_sr_free(sr)
        call = PriCall(ref, channel, outbound=True, called=called, calling=calling)
        self.calls[ref] = call
        return call

    def send_digits(self, call: PriCall, digits: str) -> None:
        """Overlap sending: more called-number digits in INFORMATION."""
        if call.ended:
            return
        for d in digits:
            self._lib.pri_information(self._pri, call.ref, d.encode("ascii"))
        call.called += digits

    def more_digits(self, call: PriCall) -> None:
        """Overlap receiving: SETUP ACKNOWLEDGE, asking the far end for more digits."""
        if call.state is CallState.SETUP and not call.outbound:
            call.state = CallState.OVERLAP
            self._lib.pri_need_more_info(self._pri, call.ref, self._chan(call), 0)

    def proceeding(self, call: PriCall) -> None:
        if call.state in (CallState.SETUP, CallState.OVERLAP) and not call.outbound:
            call.state = CallState.PROCEEDING
            self._lib.pri_proceeding(self._pri, call.ref, self._chan(call), 0)

    def progress(self, call: PriCall) -> None:
        """PROGRESS with "in-band information available": open the B-channel early."""
        if not call.outbound and call.state not in (CallState.UP, CallState.CLEARING,
                                                    CallState.ENDED):
            self._lib.pri_progress(self._pri, call.ref, self._chan(call), 1)

    def ringing(self, call: PriCall, inband: bool = True) -> None:
        """ALERTING (with in-band ringback by us when `inband`)."""
        if not call.outbound and call.state in (CallState.SETUP, CallState.OVERLAP,
                                                CallState.PROCEEDING):
            call.state = CallState.RINGING
            self._lib.pri_acknowledge(self._pri, call.ref, self._chan(call), 1 if inband else 0)

    def answer(self, call: PriCall) -> None:
        if not call.outbound and call.state not in (CallState.UP, CallState.CLEARING,
                                                    CallState.ENDED):
            call.state = CallState.UP
            self._lib.pri_answer(self._pri, call.ref, self._chan(call), 0)

    def hangup(self, call: PriCall, cause: int = 16) -> None:
        """Clear or refuse the call with a Q.850 cause. Idempotent."""
        if call.state in (CallState.CLEARING, CallState.ENDED):
            return
        if not call.outbound and call.state is CallState.SETUP:
            # libpri sends nothing for a call it considers not yet "alive" (no reply sent)
            # unless the cause maps to RELEASE COMPLETE; CALL PROCEEDING first makes any
            # cause reach the caller in a DISCONNECT, as chan_dahdi's early reply does.
            self._lib.pri_proceeding(self._pri, call.ref, self._chan(call), 0)
        call.state = CallState.CLEARING
        call.cause = cause
        self._lib.pri_hangup(self._pri, call.ref, cause)
        # A call refused before we said anything is freed at once (RELEASE COMPLETE).
        self._sweep()

    def restart(self, channel: int | None = None) -> list[Hangup]:
        """RESTART one B-channel, or each in turn (libpri 1.6's pri_restart is a no-op).

        Our calls on the channel are gone at once; their `Hangup`s are returned."""
        dropped: list[Hangup] = []
        for ts in self.timeslots if channel is None else [channel]:
            for call in [c for c in self.calls.values() if c.channel == ts]:
                if call.state is not CallState.CLEARING:
                    dropped.append(Hangup(call, ts, RESTART_CAUSE))
                self._lib.pri_destroycall(self._pri, call.ref)
                self._forget(call)
            self._lib.pri_reset(self._pri, ts)
        return dropped

    # -- state ----------------------------------------------------------------------------
    def busy_channels(self) -> set[int]:
        return {c.channel for c in self.calls.values() if c.channel is not None}

    def free_channels(self) -> list[int]:
        busy = self.busy_channels()
        return [ts for ts in self.timeslots if ts not in busy]

    def _chan(self, call: PriCall) -> int:
        return call.channel if call.channel is not None else 0

    def _sweep(self) -> list[PriEvent]:
        """Forget calls libpri freed without telling us (see `q931_is_call_valid`)."""
        events: list[PriEvent] = []
        for call in list(self.calls.values()):
            if not self._lib.q931_is_call_valid(self._pri, call.ref):
                if call.state is not CallState.CLEARING:
                    cause = call.cause if call.cause is not None else 16
                    events.append(Hangup(call, call.channel, cause))
                self._forget(call)
        return events

    def _forget(self, call: PriCall) -> None:
        call.state = CallState.ENDED
        self.calls.pop(call.ref, None)

    # -- libpri events -> values ----------------------------------------------------------
    def _translate(self, ptr: Any) -> list[PriEvent]:
        if not ptr:
            return []
        ev = ptr.contents
        e = ev.e
        try:
            return self._dispatch(e, ev)
        except Exception:
            log.exception("%s: cannot handle libpri event %s", self.name, lp.event_name(e))
            return []

    def _known(self, ref: int | None, what: str) -> PriCall | None:
        call = self.calls.get(ref or 0)
        if call is None:
            log.debug("%s: %s for a call we do not know (%#x)", self.name, what, ref or 0)
        return call

    def _dispatch(self, e: int, ev: lp.PriEvent) -> list[PriEvent]:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: %s", self.name, lp.event_name(e))
        if e == lp.PRI_EVENT_DCHAN_UP:
            self.dchannel_up = True
            return [DChannelUp()]
        if e == lp.PRI_EVENT_DCHAN_DOWN:
            self.dchannel_up = False
            return [DChannelDown()]
        if e == lp.PRI_EVENT_RING:
            return self._ring(ev.ring)
        if e == lp.PRI_EVENT_INFO_RECEIVED:
            call = self._known(ev.ring.call, "INFORMATION")
            if call is None:
                return []
            digits = _text(ev.ring.callednum)
            call.called += digits
            return [Digits(call, digits, bool(ev.ring.complete))]
        if e == lp.PRI_EVENT_KEYPAD_DIGIT:
            call = self._known(ev.digit.call, "keypad")
            return [KeypadDigits(call, _text(ev.digit.digits))] if call else []
        if e == lp.PRI_EVENT_SETUP_ACK:
            call = self._known(ev.setup_ack.call, "SETUP ACKNOWLEDGE")
            if call is None:
                return []
            call.channel = _channel(ev.setup_ack.channel) or call.channel
            return [SetupAcknowledged(call, call.channel)]
        if e in (lp.PRI_EVENT_PROCEEDING, lp.PRI_EVENT_PROGRESS):
            p = ev.proceeding
            call = self._known(p.call, "PROCEEDING/PROGRESS")
            if call is None:
                return []
            call.channel = _channel(p.channel) or call.channel
            if e == lp.PRI_EVENT_PROGRESS:
                inband = bool(p.progressmask & lp.PRI_PROG_INBAND_AVAILABLE)
                return [Progress(call, call.channel, inband)]
            if call.state is CallState.SETUP:
                call.state = CallState.PROCEEDING
            return [Proceeding(call, call.channel)]
        if e == lp.PRI_EVENT_RINGING:
            call = self._known(ev.ringing.call, "ALERTING")
            if call is None:
                return []
            if call.state in (CallState.SETUP, CallState.PROCEEDING):
                call.state = CallState.RINGING
            call.channel = _channel(ev.ringing.channel) or call.channel
            inband = bool(ev.ringing.progressmask & lp.PRI_PROG_INBAND_AVAILABLE)
            return [Ringing(call, call.channel, inband)]
        if e == lp.PRI_EVENT_ANSWER:
            call = self._known(ev.answer.call, "CONNECT")
            if call is None or call.state in (CallState.CLEARING, CallState.ENDED):
                return []
            call.state = CallState.UP
            call.channel = _channel(ev.answer.channel) or call.channel
            return [Answered(call, call.channel)]
        if e == lp.PRI_EVENT_HANGUP_REQ:
            return self._far_end_disconnect(ev.hangup)
        if e == lp.PRI_EVENT_HANGUP:
            return self._released(ev.hangup)
        if e == lp.PRI_EVENT_HANGUP_ACK:
            call = self._known(ev.hangup.call, "hangup ack")
            if call is not None:
                self._forget(call)
            return []
        if e == lp.PRI_EVENT_RESTART:
            return self._restarted(_channel(ev.restart.channel))
        if e == lp.PRI_EVENT_RESTART_ACK:
            return [RestartAcknowledged(_channel(ev.restartack.channel))]
        if e == lp.PRI_EVENT_CONFIG_ERR:
            text = _text(ev.err.err)
            log.error("%s: libpri configuration error: %s", self.name, text)
            return [ConfigError(text)]
        log.debug("%s: libpri event %s ignored", self.name, lp.event_name(e))
        return []

    def _ring(self, r: lp.EventRing) -> list[PriEvent]:
        ref = r.call
        if not ref:
            return []
        channel = _channel(r.channel)
        calling = _text(r.callingnum)
        called = _text(r.callednum)
        call = PriCall(ref, channel, outbound=False, called=called, calling=calling)
        self.calls[ref] = call
        return [
            Ring(
                call,
                channel,
                calling=calling,
                calling_ton=lp.ton_of(r.callingplan),
                calling_pres=r.callingpres,
                called=called,
                called_ton=lp.ton_of(r.calledplan),
                complete=bool(r.complete),
                calling_name=r.callingname.decode("utf-8", "replace"),
            )
        ]

    def _far_end_disconnect(self, h: lp.EventHangup) -> list[PriEvent]:
        call = self._known(h.call, "DISCONNECT")
        if call is None:
            return []
        if call.state in (CallState.CLEARING, CallState.ENDED):
            return []  # DISCONNECTs crossed: our release is already under way
        call.state = CallState.CLEARING
        call.cause = h.cause
        # Q.931 5.3.4: answer a DISCONNECT with RELEASE; libpri frees the call after
        # RELEASE COMPLETE (HANGUP_ACK).
        self._lib.pri_hangup(self._pri, call.ref, h.cause)
        return [Hangup(call, call.channel, h.cause)]

    def _released(self, h: lp.EventHangup) -> list[PriEvent]:
        call = self._known(h.call, "RELEASE")
        events: list[PriEvent] = []
        if call is not None and call.state is not CallState.ENDED:
            if call.state is not CallState.CLEARING:
                call.cause = h.cause
                events.append(Hangup(call, call.channel, h.cause))
            self._forget(call)
        if h.call:
            # The call is in the null state: this frees libpri's record of it.
            self._lib.pri_hangup(self._pri, h.call, h.cause)
        return events

    def _restarted(self, channel: int | None) -> list[PriEvent]:
        events: list[PriEvent] = []
        for call in list(self.calls.values()):
            if channel is None or call.channel == channel:
                if call.state is not CallState.CLEARING:
                    events.append(Hangup(call, call.channel, RESTART_CAUSE))
                self._lib.pri_destroycall(self._pri, call.ref)
                self._forget(call)
        events.append(Restarted(channel))
        return events


def now() -> float:
    """The clock `next_timer()` deadlines are on."""
    return time.time()
