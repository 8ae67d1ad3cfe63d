"""`Call`: one call through the switch — the caller's leg, the legs tried for it, the
answered leg, the media bridge and the recording — and the listener for all its legs.

Legs never talk to each other; everything one leg does reaches the other through here,
which is what lets an E1 B-channel, an FXO port and a SIP phone meet in one call.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from firmware.media.bridge import Bridge
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelState
from firmware.switch.events import (
    CallEnded,
    ConnectionCleared,
    Delivered,
    DigitsReceived,
    Established,
    Event,
    Held,
    RecordingStarted,
    RecordingStopped,
    Retrieved,
)

if TYPE_CHECKING:
    from firmware.switch.acd_call import AcdService
    from firmware.switch.core import Switch
    from firmware.switch.ivr_call import IvrSession

log = logging.getLogger(__name__)

# When several legs fail, tell the caller the most useful reason (RFC 3261 16.7 spirit):
# busy beats unavailable beats everything else.
_CAUSE_RANK = {
    Cause.USER_BUSY: 0,
    Cause.CALL_REJECTED: 1,
    Cause.NO_ANSWER: 2,
    Cause.NO_USER_RESPONSE: 3,
    Cause.SUBSCRIBER_ABSENT: 4,
}


class CallApp(Protocol):
    """A box application on the caller's leg (voicemail, a feature code's prompts)."""

    def digit(self, digit: str) -> None: ...

    def call_ended(self) -> None: ...


def new_call_id(now: float) -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + "-" + secrets.token_hex(4)


class Call:
    def __init__(self, switch: Switch, a: Channel, publish: Callable[[Event], None]) -> None:
        self.switch = switch
        self.publish = publish
        self.start = time.time()
        self.id = new_call_id(self.start)
        self.a = a
        self.forks: list[Channel] = []
        self.b: Channel | None = None
        self.ring_at: float | None = None
        self.answer_at: float | None = None
        self.end_at: float | None = None
        self.released_by = ""
        self.cause: Cause | None = None
        self.fork_causes: list[Cause] = []
        self.bridge: object | None = None
        self.recorder: object | None = None
        self.recording_path: Path | None = None
        self.held_by: set[str] = set()
        self.ring_timer: Callable[[], None] | None = None
        self.direction = "internal"  # the router says "inbound"/"outbound" for trunk calls
        self.ivr: IvrSession | None = None  # while an IVR flow drives (or drove) the call
        self.acd: AcdService | None = None  # while queued or connected through a queue
        self.extra: dict[str, str] = {}  # for the call record (queue, agent, ...)
        self.devices_in_use: set[str] = set()  # extensions this call keeps busy (ACD)
        # Call control (callcontrol/): the first caller stays the record's caller even
        # when a transfer makes someone else `a`; more parties of a 3-way; legs being
        # added; every party that took the call (agents), and each transfer/park.
        self.origin = a
        self.parties: list[Channel] = []
        self.pending: list[Any] = []
        self.agents: list[str] = []
        self.transfers: list[str] = []
        self._connected = False
        self.app: CallApp | None = None  # gets the caller's keys while nobody answered
        # Every leg tried failed: a feature (forward, next ring-group member, voicemail)
        # may carry on with the call (True) instead of it ending.
        self.on_unanswered: Callable[[Cause], bool] | None = None
        a.listener = self

    # ---------------------------------------------------------------------------------------
    def party(self, ch: Channel) -> str:
        return "caller" if ch is self.a else "callee"

    def dial(self, legs: Sequence[Channel]) -> None:
        self.forks = list(legs)

    def note_agent(self, name: str) -> None:
        if name and (not self.agents or self.agents[-1] != name):
            self.agents.append(name)

    def note_party(self, ch: Channel) -> None:
        self.note_agent(ch.peer_name if ch.tech == "sip" else ch.caller.number or ch.called)

    def _release_device(self, ch: Channel) -> None:
        device = ch.peer_name if ch.tech == "sip" else ""
        if device in self.devices_in_use:
            self.devices_in_use.discard(device)
            self.switch.device_state(device, False)

    def _consulted(self) -> list[Channel]:
        cons = getattr(self._cc, "consults", {}).get(self.id)
        target = getattr(cons, "target", None)
        return [target] if isinstance(target, Channel) else []

    @property
    def _cc(self) -> Any:
        return getattr(self.switch, "cc", None)

    # ChannelListener -----------------------------------------------------------------------
    def channel_ringing(self, ch: Channel) -> None:
        if ch is self.a or self.b is not None or ch not in self.forks:
            return
        if self.ring_at is None:
            self.ring_at = time.time()
            self.publish(Delivered(self.ring_at, self.id, ch.id, ch.peer_name))
        self.a.ring()

    def channel_progress(self, ch: Channel) -> None:
        if ch is self.a or self.b is not None or ch not in self.forks:
            return
        if self.ring_at is None:
            self.ring_at = time.time()
            self.publish(Delivered(self.ring_at, self.id, ch.id, ch.peer_name))
        if self.bridge is None and len(self.forks) == 1:
            # early media (ringback, announcements) from the one leg being tried
            self.bridge = self.switch.bridge_media(self.a, ch, None)
        self.a.progress()

    def channel_answered(self, ch: Channel) -> None:
        if ch is self.a:
            return
        if self.b is not None or self.a.ended:
            ch.hangup(Cause.NON_SELECTED_USER_CLEARING)
            return
        self.b = ch
        now = time.time()
        if self.answer_at is None:  # an IVR call was answered by the box already
            self.answer_at = now
        if self.ring_timer:
            self.ring_timer()
            self.ring_timer = None
        for other in self.forks:
            if other is not ch:
                other.hangup(Cause.NON_SELECTED_USER_CLEARING)
        self.forks = [ch]
        self.a.answer()
        self.publish(Established(now, self.id, ch.id, ch.peer_name))
        self.mark_in_use(self.a, ch)
        self.note_party(ch)
        self._start_media()

    def _start_media(self) -> None:
        assert self.b is not None
        if self._connected and isinstance(self.bridge, Bridge):
            # a transfer, pickup or unpark: the new party joins the same bridge and
            # recording as the one before
            for leg in (self.a.media, self.b.media):
                if leg is not None and leg not in self.bridge:
                    self.bridge.add(leg)
            if self.a.media is not None and self.bridge.held(self.a.media):
                self.bridge.hold(self.a.media, False)
            return
        self._connected = True
        if self.bridge is not None:
            self.switch.unbridge_media(self.bridge)
            self.bridge = None
        self.recording_path, self.recorder = self.switch.new_recorder(self.id, self.start)
        self.bridge = self.switch.bridge_media(self.a, self.b, self.recorder)
        if self.recording_path is not None:
            self.publish(RecordingStarted(time.time(), self.id, str(self.recording_path)))

    def channel_hungup(self, ch: Channel, cause: Cause) -> None:
        now = time.time()
        self.publish(ConnectionCleared(now, self.id, ch.id, cause, self.party(ch)))
        if self.end_at is not None:
            return
        cc = self._cc
        if cc is not None and cc.leg_hungup(self, ch, cause):
            return
        if ch is self.a:
            if self.ivr is not None:
                self.ivr.hangup()
            self.finish(cause, "caller")
            return
        if ch is self.b:
            self.finish(cause, "callee")
            return
        if ch in self.forks:
            self.forks.remove(ch)
            self.fork_causes.append(cause)
            if not self.forks and self.b is None:
                best = min(self.fork_causes, key=lambda c: _CAUSE_RANK.get(c, 9))
                if not self._carry_on(best):
                    self.finish(best, "callee")

    def channel_dtmf(self, ch: Channel, digit: str) -> None:
        self.publish(DigitsReceived(time.time(), self.id, ch.id, digit))
        cc = self._cc
        if cc is not None and self.end_at is None and cc.digit(self, ch, digit):
            return
        if ch is self.a and self.b is None:
            if self.app is not None:
                self.app.digit(digit)
            elif self.acd is not None:
                self.acd.digit(self, digit)
            elif self.ivr is not None and not self.forks:
                self.ivr.digit(digit)

    def channel_hold(self, ch: Channel, held: bool) -> None:
        other = self.b if ch is self.a else self.a
        who = self.party(ch)
        now = time.time()
        if held:
            self.held_by.add(who)
            self.publish(Held(now, self.id, ch.id, who))
        else:
            self.held_by.discard(who)
            self.publish(Retrieved(now, self.id, ch.id, who))
        if other is not None and other.state is ChannelState.UP:
            other.hold(held)
        cc = self._cc
        if cc is not None:
            cc.phone_hold(self, ch, held)  # the held party hears music on hold

    def channel_refer(self, ch: Channel, target: str, replaces: Channel | None) -> str | None:
        """A phone asked to transfer (SIP REFER); an error text if it cannot be done."""
        cc = self._cc
        if cc is None or self.end_at is not None:
            return "no call control"
        result: str | None = cc.refer(self, ch, target, replaces)
        return result

    # ---------------------------------------------------------------------------------------
    def ring_timeout(self) -> None:
        self.ring_timer = None
        if self.b is None and self.end_at is None:
            for ch in list(self.forks):
                ch.hangup(Cause.NO_ANSWER)
            self.forks.clear()
            if not self._carry_on(Cause.NO_ANSWER):
                self.finish(Cause.NO_ANSWER, "system")

    def mark_in_use(self, *legs: Channel) -> None:
        """Phones (SIP extensions) on an answered call are busy for the ACD (ring in use)."""
        for ch in legs:
            device = ch.peer_name if ch.tech == "sip" else ""
            if device and device not in self.devices_in_use:
                self.devices_in_use.add(device)
                self.switch.device_state(device, True)

    def _carry_on(self, cause: Cause) -> bool:
        """Nobody answered: a feature, then an IVR, may take the call on."""
        carry_on = self.on_unanswered
        if carry_on is not None and self.end_at is None and carry_on(cause):
            return True
        return self._back_to_ivr(cause)

    def reset_dialing(self) -> None:
        """Forget the failed attempt (timer, early media, causes) before the next one."""
        if self.ring_timer:
            self.ring_timer()
            self.ring_timer = None
        if self.bridge is not None and not self._connected:  # the failed target's early media
            self.switch.unbridge_media(self.bridge)
            self.bridge = None
        self.fork_causes.clear()
        self.ring_at = None

    def _back_to_ivr(self, cause: Cause) -> bool:
        """An IVR transfer failed: the flow takes the call back (its `on_fail`)."""
        ivr = self.ivr
        if ivr is None or ivr.transfer is None or self.end_at is not None:
            return False
        self.reset_dialing()
        ivr.transfer_failed(cause)
        return True

    def finish(self, cause: Cause, released_by: str) -> None:
        """End the whole call: release every leg still up, stop media, emit the record."""
        if self.end_at is not None:
            return
        self.end_at = time.time()
        self.cause = cause
        self.released_by = released_by
        if self.acd is not None:
            self.acd.call_finished(self)
        cc = self._cc
        if cc is not None:
            cc.call_finished(self)
        if self.app is not None:
            self.app.call_ended()
        for device in self.devices_in_use:
            self.switch.device_state(device, False)
        self.devices_in_use.clear()
        if self.ring_timer:
            self.ring_timer()
            self.ring_timer = None
        # the other side hears a normal release once the call was answered
        other_cause = Cause.NORMAL_CLEARING if self.b is not None else cause
        for ch in [self.a, *self.forks, *self.parties]:
            if not ch.ended:
                ch.hangup(other_cause)
        if self.bridge is not None:
            self.switch.unbridge_media(self.bridge)
            self.bridge = None
        recording: str | None = None
        if self.recorder is not None and self.recording_path is not None:
            seconds = self.switch.close_recorder(self.recorder, self.end_at)
            if seconds is not None:
                recording = str(self.recording_path)
                self.publish(RecordingStopped(self.end_at, self.id, recording, seconds))
            self.recorder = None
        extra = {"direction": self.direction,
                 **({"ring_at": f"{self.ring_at:.3f}"} if self.ring_at else {})}
        if self.ivr is not None:
            self.ivr.close()
            extra.update(self.ivr.extra())
        extra.update(self.extra)
        if len(self.agents) > 1 or self.transfers:
            # each party that took the call, in order (agents of a transferred call)
            extra["agents"] = ",".join(self.agents)
            extra["transfers"] = ",".join(self.transfers)
        callee = self.b.peer_name if self.b is not None else ""
        self.publish(
            CallEnded(
                self.end_at,
                self.id,
                self.origin.caller.number,
                self.origin.called,
                callee,
                self.start,
                self.answer_at,
                self.end_at,
                cause,
                released_by,
                recording,
                extra,
            )
        )
        self.switch.call_ended(self)

    def status(self) -> dict[str, object]:
        now = time.time()
        return {
            "id": self.id,
            "caller": self.a.caller.number,
            "called": self.a.called,
            "callee": self.b.peer_name if self.b else None,
            "state": ("up" if self.b is not None else "ringing" if self.ring_at
                      else "queued" if self.acd is not None
                      else "ivr" if self.ivr is not None else "setup"),
            "age": round(now - self.start, 1),
            "talk": round(now - self.answer_at, 1) if self.answer_at else 0,
            "held_by": sorted(self.held_by),
            "recording": str(self.recording_path) if self.recording_path else None,
            "legs": [repr(self.a), *[repr(f) for f in self.forks],
                     *[repr(p) for p in self.parties]],
            "parties": [c.peer_name or c.caller.number for c in
                        [self.a, *([self.b] if self.b else []), *self.parties]],
            "media": getattr(self.bridge, "mode", None),
            "channels": [_leg_detail(c) for c in
                         [self.a, *([self.b] if self.b else []), *self.parties,
                          *self._consulted()]],
        }


def _leg_detail(ch: Channel) -> dict[str, object]:
    """One leg for `ccbox status` and CTI: who, the box's RTP port, the SIP dialog."""
    media = ch.media
    return {"id": ch.id, "peer": ch.peer_name or ch.caller.number, "state": ch.state.value,
            "rtp_port": getattr(media, "local_port", None),
            "sip_call_id": getattr(ch, "call_id", None),
            "local_tag": getattr(ch, "local_tag", None),
            "remote_tag": getattr(ch, "remote_tag", None)}
