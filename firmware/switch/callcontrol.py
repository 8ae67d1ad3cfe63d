"""Call control: hold, transfer, consultation, 3-way, conference, pickup, park and
supervision on live calls — one API for in-call DTMF feature codes, SIP REFER from
phones and the CTI server.

Model (Asterisk's split): a `Channel` is a leg and stays with the `Call` that listens
to it; a media `Bridge` (firmware/media/bridge.py) is who hears whom; call control moves
legs between calls and their media between bridges. A call keeps its caller (`a`) and
its current other party (`b`); more parties (3-way) are `Call.parties`; a consultation
is a second bridge owned by the call; supervisors and conference participants keep
their own `Call` (their own record) and lend their leg's media to another bridge.

Every public method returns at once: it either raises `CallControlError` saying why the
request is impossible (and nothing changed), or it started the operation, whose
progress arrives as events on the bus (Held, Retrieved, Transferred, Conferenced,
Diverted, ConsultationStarted, MonitorChanged, ConnectionCleared, CallEnded).
Devices are extension numbers; a call is named by its id, or by a device on it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from firmware.ivr.say import say_digits
from firmware.media.bridge import Bridge, BridgeError
from firmware.media.leg import MediaLeg
from firmware.media.mixer import Role, tone
from firmware.media.player import PromptPlayer
from firmware.media.recorder import StereoRecorder
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelState, Party
from firmware.switch.events import (
    Conferenced,
    ConsultationStarted,
    Diverted,
    Held,
    MonitorChanged,
    RecordingStarted,
    Retrieved,
    Transferred,
)
from firmware.switch.router import Reject, Route

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.core import Switch

log = logging.getLogger(__name__)

PARK_SLOTS = tuple(str(n) for n in range(701, 721))
PARK_NUMBER = "700"
PARK_TIMEOUT = 120.0  # then the call rings the phone that parked it again
ROOMS = re.compile(r"60\d\d")
DIGIT_TIMEOUT = 5.0  # a feature code not finished within this is forgotten
PIN_TRIES = 3
MODES = {"listen": Role.LISTEN, "whisper": Role.WHISPER, "barge": Role.BARGE}
MODE_KEYS = {"4": "listen", "5": "whisper", "6": "barge"}
MONITOR_CODES = {"*51": "listen", "*52": "whisper", "*53": "barge"}
JOIN_TONE = tone((880.0, 1320.0), 0.25)
LEAVE_TONE = tone((660.0, 440.0), 0.25)


class CallControlError(Exception):
    """The request is impossible as asked; the message says why. Nothing changed."""


def device_of(ch: Channel) -> str:
    """The extension behind a leg ("" for trunk legs)."""
    return ch.peer_name if ch.tech == "sip" else ""


def leg_name(ch: Channel) -> str:
    return device_of(ch) or ch.caller.number or ch.id


# --- helpers that listen to legs not (yet) part of a call --------------------------------
class _Legs:
    """Listener of legs ringing for call control (consultation, a supervisor's phone)."""

    def __init__(self, on_answer: Callable[[Channel], None],
                 on_fail: Callable[[Cause], None]) -> None:
        self.on_answer = on_answer
        self.on_fail = on_fail
        self.legs: list[Channel] = []
        self.answered: Channel | None = None
        self.done = False
        self.causes: list[Cause] = []

    def channel_ringing(self, ch: Channel) -> None:
        pass

    def channel_progress(self, ch: Channel) -> None:
        pass

    def channel_answered(self, ch: Channel) -> None:
        if self.done or self.answered is not None:
            ch.hangup(Cause.NON_SELECTED_USER_CLEARING)
            return
        self.answered = ch
        for other in self.legs:
            if other is not ch:
                other.hangup(Cause.NON_SELECTED_USER_CLEARING)
        self.legs = [ch]
        self.on_answer(ch)

    def channel_hungup(self, ch: Channel, cause: Cause) -> None:
        if ch in self.legs:
            self.legs.remove(ch)
        self.causes.append(cause)
        if self.done or self.legs:
            return
        self.done = True
        self.on_fail(cause)

    def channel_dtmf(self, ch: Channel, digit: str) -> None:
        pass

    def channel_hold(self, ch: Channel, held: bool) -> None:
        pass

    def cancel(self) -> None:
        self.done = True
        for leg in list(self.legs):
            leg.hangup(Cause.ORIGINATOR_CANCEL if leg is not self.answered
                       else Cause.NORMAL_CLEARING)
        self.legs = []


@dataclass
class Consultation:
    """`holder` consults `number` while `held` hears music on hold."""

    call: Call
    holder: Channel
    held: Channel
    number: str
    legs: _Legs
    target: Channel | None = None
    bridge: Bridge | None = None
    complete_on_answer: bool = False  # the holder hung up while the target rang
    # a consultation into a queue or an IVR is a call of its own (`via`), whose caller
    # leg (`proxy`) lends the holder's media: the agent waits in the queue like a caller
    via: Call | None = None
    proxy: Channel | None = None
    route: Route | None = None


@dataclass
class Monitor:
    supervisor: Call  # the supervisor's own call (its `a` is the supervisor's leg)
    target: Call
    agent: Channel
    mode: str


@dataclass
class Room:
    number: str
    pin: str
    bridge: Bridge
    members: dict[str, Call] = field(default_factory=dict)  # call id -> participant call


@dataclass
class _Digits:
    buf: str = ""
    at: float = 0.0


@dataclass
class _PinEntry:
    room: str
    buf: str = ""
    tries: int = 0
    player: PromptPlayer | None = None


class CallControl:
    def __init__(self, switch: Switch, rooms: dict[str, str] | None = None,
                 may_monitor: Callable[[str, str], bool] | None = None) -> None:
        self.switch = switch
        self.room_pins = dict(rooms or {})  # room number -> PIN
        # the permission seam (SiteRuntime.may_monitor: per-queue supervisors of the
        # site configuration): never allow by default
        self.may_monitor: Callable[[str, str], bool] = may_monitor or (lambda s, a: False)
        self.consults: dict[str, Consultation] = {}  # call id -> consultation
        self.parked: dict[str, Call] = {}  # slot -> call
        self.monitors: dict[str, Monitor] = {}  # supervisor's call id -> session
        self.rooms: dict[str, Room] = {}
        self._digits: dict[tuple[str, str], _Digits] = {}
        self._pins: dict[str, _PinEntry] = {}  # call id -> PIN being entered
        self.park_timeout = PARK_TIMEOUT

    # ======================================================================================
    # Finding calls and legs
    # ======================================================================================
    def _call(self, call_id: str) -> Call:
        call = self.switch.calls.get(call_id)
        if call is None or call.end_at is not None:
            raise CallControlError(f"no call {call_id}")
        return call

    def _leg_of(self, call: Call, device: str) -> Channel:
        for ch in self._talking(call):
            if device_of(ch) == device or ch.id == device:
                return ch
        raise CallControlError(f"{device} is not on call {call.id}")

    def _talking(self, call: Call) -> list[Channel]:
        legs = [call.a]
        if call.b is not None:
            legs.append(call.b)
        legs += call.parties
        return [ch for ch in legs if not ch.ended]

    def find_call(self, device: str) -> Call:
        """The answered call `device` is talking on (its most recent one)."""
        found = None
        for call in self.switch.calls.values():
            if call.end_at is None and call.b is not None and any(
                    device_of(ch) == device for ch in self._talking(call)):
                found = call
        if found is None:
            for cons in self.consults.values():
                if device_of(cons.holder) == device:
                    return cons.call
            # a call the box answered itself: a monitor session, a room, a PIN prompt
            for call in self.switch.calls.values():
                if (call.end_at is None and call.answer_at is not None
                        and device_of(call.a) == device and not call.a.ended):
                    found = call
        if found is None:
            raise CallControlError(f"{device} is not on an answered call")
        return found

    def _resolve(self, call_id: str | None, device: str) -> tuple[Call, Channel]:
        call = self._call(call_id) if call_id else self.find_call(device)
        cons = self.consults.get(call.id)
        if cons is not None and device_of(cons.holder) == device:
            return call, cons.holder
        return call, self._leg_of(call, device)

    def _other(self, call: Call, ch: Channel) -> Channel:
        if call.b is None:
            raise CallControlError(f"call {call.id} is not answered")
        if call.parties:
            raise CallControlError(f"call {call.id} has more than two parties")
        return call.b if ch is call.a else call.a

    def _bridge(self, call: Call) -> Bridge:
        if not isinstance(call.bridge, Bridge):
            raise CallControlError(f"call {call.id} has no media bridge")
        return call.bridge

    def _check_target(self, number: str) -> Route:
        """What dialling `number` for a transfer would reach; raises if nothing."""
        number = number.strip()
        if not number or not re.fullmatch(r"[0-9*#+]{1,32}", number):
            raise CallControlError(f"{number!r} is not a number")
        if number == PARK_NUMBER:
            return Route("park", number)
        router = self.switch.router
        queue = self._queue_for(number)
        if queue is not None:
            return Route("queue", queue)
        ext = router.directory.get(number)
        if ext is not None:
            if not ext.enabled:
                raise CallControlError(f"extension {number} is disabled")
            return Route("extension", number)
        did = getattr(router, "routes", {}).get(number)
        if did is not None:
            # a DID (a hotline number): where it leads now, without screening the
            # transferring agent as a caller
            target, _why = did.choose(router.clock())
            route = router._to(target, f"transfer to DID {number}")
        else:
            route = router.route(_Probe(number))
        if isinstance(route, Reject):
            raise CallControlError(f"{number}: {route.why}")
        if route.kind == "trunk" and self.switch.trunks is None:
            raise CallControlError(f"{number}: no trunk to dial out on")
        return route

    def _queue_for(self, number: str) -> str | None:
        acd = self.switch.acd
        name = number.split(":", 1)[1] if number.startswith("queue:") else number
        if acd is not None and name in {q.name for q in acd.engine.config.queues}:
            return name
        return None

    # ======================================================================================
    # Hold / retrieve by the box
    # ======================================================================================
    def hold(self, call_id: str | None, device: str) -> dict[str, str]:
        """`device` holds its call: the other party hears music on hold."""
        call, ch = self._resolve(call_id, device)
        other = self._other(call, ch)
        bridge = self._bridge(call)
        if other.media is None or bridge.held(other.media):
            raise CallControlError(f"{leg_name(other)} is already on hold")
        bridge.hold(other.media, True)
        other.hold(True)
        call.held_by.add(call.party(ch))
        self._publish(Held(time.time(), call.id, other.id, leg_name(ch)))
        return {"call": call.id, "held": leg_name(other)}

    def retrieve(self, call_id: str | None, device: str) -> dict[str, str]:
        call, ch = self._resolve(call_id, device)
        if call.id in self.consults:
            raise CallControlError("finish or cancel the consultation first")
        other = self._other(call, ch)
        bridge = self._bridge(call)
        if other.media is None or not bridge.held(other.media):
            raise CallControlError(f"{leg_name(other)} is not on hold")
        bridge.hold(other.media, False)
        other.hold(False)
        call.held_by.discard(call.party(ch))
        self._publish(Retrieved(time.time(), call.id, other.id, leg_name(ch)))
        return {"call": call.id, "retrieved": leg_name(other)}

    def phone_hold(self, call: Call, ch: Channel, held: bool) -> None:
        """A phone put its call on hold by re-INVITE: the other party hears music."""
        if not isinstance(call.bridge, Bridge) or call.b is None or call.parties:
            return
        other = call.b if ch is call.a else call.a
        if other.media is not None and other.media in call.bridge:
            call.bridge.hold(other.media, held)

    def clear_connection(self, call_id: str | None, device: str) -> dict[str, str]:
        """CSTA ClearConnection: `device` leaves the call as if it hung up (so while
        consulting this completes the transfer, in a 3-way the others go on)."""
        call, ch = self._resolve(call_id, device)
        ch.hangup(Cause.NORMAL_CLEARING)
        listener = ch.listener
        if listener is not None:
            listener.channel_hungup(ch, Cause.NORMAL_CLEARING)
        return {"call": call.id, "cleared": leg_name(ch)}

    def clear_call(self, call_id: str) -> dict[str, str]:
        """CSTA ClearCall: end the whole call for everyone."""
        call = self._call(call_id)
        call.finish(Cause.NORMAL_CLEARING, "system")
        return {"call": call.id, "cleared": "all"}

    # ======================================================================================
    # Transfers
    # ======================================================================================
    def blind_transfer(self, call_id: str | None, device: str, target: str,
                       *, kind: str = "blind") -> dict[str, str]:
        """`device` hands the other party to `target` (extension, outside number via
        the trunk prefix, a queue, 700 = park) and leaves the call."""
        call, ch = self._resolve(call_id, device)
        if call.id in self.consults:
            raise CallControlError("finish or cancel the consultation first")
        other = self._other(call, ch)
        route = self._check_target(target)
        if route.kind == "park":
            slot = self.park(call.id, leg_name(ch))
            return {"call": call.id, "parked": slot}
        self._leave(call, ch, other, f"{kind}:{target}")
        self._publish(Transferred(time.time(), call.id, leg_name(ch), leg_name(other),
                                  target, kind))
        self._send_on(call, route, target)
        return {"call": call.id, "transferred": leg_name(other), "to": target}

    def _leave(self, call: Call, ch: Channel, stays: Channel, why: str) -> None:
        """`ch` leaves a two-party call; `stays` becomes its caller, waiting on hold."""
        bridge = self._bridge(call)
        self._agent_left(call, ch, why)
        if ch.media is not None:
            bridge.remove(ch.media)
        ch.listener = None
        if not ch.ended:
            ch.hangup(Cause.NORMAL_CLEARING)
        self._drop_device(call, ch)
        call.a, call.b, call.forks = stays, None, []
        call.ring_at = None
        call.fork_causes.clear()
        call.held_by.clear()
        call.transfers.append(why)

    def _send_on(self, call: Call, route: Route, target: str) -> None:
        """Dial `route` for the call's waiting caller (after a transfer or park)."""
        assert call.a.media is not None
        bridge = self._bridge(call)
        cause: Cause | None
        if route.kind == "queue":
            # the queue plays its own music and announcements into the caller
            if bridge.held(call.a.media):
                bridge.hold(call.a.media, False)
            if self.switch.acd is None:
                cause = Cause.NO_ROUTE_DESTINATION
            else:
                cause = self.switch.acd.join(call, route.target, route.priority)
        else:
            if not bridge.held(call.a.media):
                bridge.hold(call.a.media, True)
            if route.kind == "ivr":
                bridge.hold(call.a.media, False)  # the flow's prompts, not music
                call.ivr = None
                self.switch._start_ivr(call, route.target, route.flow)
                cause = None
            else:
                cause = self.switch.dial_route(call, route)
        if cause is not None:
            log.info("call %s: transfer to %s failed: %s", call.id, target, cause.name)
            call.finish(cause, "system")

    def consult(self, call_id: str | None, device: str, target: str) -> dict[str, str]:
        """Consultation call: the other party waits with music, `device` talks to
        `target`; then complete_transfer, conference_consult or cancel_consult."""
        call, ch = self._resolve(call_id, device)
        if call.id in self.consults:
            raise CallControlError(f"call {call.id} is already consulting")
        other = self._other(call, ch)
        route = self._check_target(target)
        if route.kind not in ("extension", "trunk", "queue", "ivr"):
            raise CallControlError(f"{target} is a {route.kind}: it cannot be consulted")
        if route.kind == "queue" and self.switch.acd is None:
            raise CallControlError(f"{target}: no queues are configured")
        bridge = self._bridge(call)
        assert other.media is not None
        legs = _Legs(lambda leg: self._consult_answered(call, leg),
                     lambda cause: self._consult_failed(call, cause))
        via = None
        if route.kind in ("extension", "trunk"):
            placed = self.switch.originate_for(route, call, legs)
            if not placed:
                raise CallControlError(f"{target} cannot be reached now")
            legs.legs = list(placed)
        cons = Consultation(call, ch, other, target, legs, route=route)
        self.consults[call.id] = cons
        bridge.hold(other.media, True)
        other.hold(True)
        if ch.media is not None:
            bridge.remove(ch.media)
        if route.kind in ("queue", "ivr"):
            cons.proxy = _ProxyLeg(self, call, ch, target)
            via = cons.via = self.switch.consult_call(cons.proxy)
            via.extra["consult_for"] = call.id
            if route.kind == "queue":
                self.switch._start_queue(via, route.target, route.priority)
            else:
                self.switch._start_ivr(via, route.target, route.flow)
        self._publish(Held(time.time(), call.id, other.id, leg_name(ch)))
        self._publish(ConsultationStarted(time.time(), call.id, leg_name(ch), target))
        return {"call": call.id, "consulting": target}

    def _consult_answered(self, call: Call, leg: Channel) -> None:
        cons = self.consults.get(call.id)
        if cons is None or call.end_at is not None:
            leg.hangup(Cause.NORMAL_CLEARING)
            return
        cons.target = leg
        leg.listener = _ConsultTarget(self, call, leg)
        if cons.complete_on_answer:
            self._complete(cons, "attended")
            return
        if cons.holder.media is not None and leg.media is not None:
            cons.bridge = Bridge(self.switch.media, name=f"{call.id}/consult",
                                 moh=self.switch.moh_path())
            cons.bridge.add_many([cons.holder.media, leg.media])

    def _consult_failed(self, call: Call, cause: Cause) -> None:
        cons = self.consults.get(call.id)
        if cons is None:
            return
        log.info("call %s: consultation of %s failed: %s", call.id, cons.number, cause.name)
        if cons.complete_on_answer or cons.holder.ended:
            # nobody left to return to the caller: the call ends
            self.consults.pop(call.id, None)
            call.finish(cause, "callee")
            return
        self._back_from_consult(cons)

    def consult_target_hungup(self, call: Call, leg: Channel) -> None:
        cons = self.consults.get(call.id)
        if cons is None or cons.target is not leg:
            return
        if cons.holder.ended:
            self.consults.pop(call.id, None)
            call.finish(Cause.NORMAL_CLEARING, "callee")
            return
        self._back_from_consult(cons)

    def _back_from_consult(self, cons: Consultation) -> None:
        call = cons.call
        self.consults.pop(call.id, None)
        if cons.bridge is not None:
            cons.bridge.stop()
        cons.legs.cancel()
        if cons.via is not None and cons.via.end_at is None:
            cons.via.finish(Cause.NORMAL_CLEARING, "transfer")
        bridge = self._bridge(call)
        if cons.holder.media is not None and cons.holder.media not in bridge:
            bridge.add(cons.holder.media)
        if cons.held.media is not None and cons.held.media in bridge:
            bridge.hold(cons.held.media, False)
        cons.held.hold(False)
        self._publish(Retrieved(time.time(), call.id, cons.held.id, leg_name(cons.holder)))

    def cancel_consult(self, call_id: str | None, device: str) -> dict[str, str]:
        cons = self._consultation(call_id, device)
        self._back_from_consult(cons)
        return {"call": cons.call.id, "retrieved": leg_name(cons.held)}

    def complete_transfer(self, call_id: str | None, device: str) -> dict[str, str]:
        """The consulted party takes over; `device` leaves. Before the target answers,
        the caller is connected as soon as it does."""
        cons = self._consultation(call_id, device)
        if cons.via is not None:
            self._complete_via(cons)
            return {"call": cons.call.id, "transferred": leg_name(cons.held),
                    "to": cons.number}
        if cons.target is None:
            cons.complete_on_answer = True
            self._drop_holder(cons)
            return {"call": cons.call.id, "transferring": cons.number}
        self._complete(cons, "attended")
        return {"call": cons.call.id, "transferred": leg_name(cons.held), "to": cons.number}

    def _complete_via(self, cons: Consultation) -> None:
        """The holder completes a consultation into a queue/IVR: once an agent there
        answered, the caller takes the holder's place (Replaces-style merge, the queue
        session moves along); still waiting, the caller goes into that queue/flow."""
        call, via = cons.call, cons.via
        assert via is not None and cons.proxy is not None
        self.consults.pop(call.id, None)
        if via.b is not None and not via.b.ended and via.end_at is None:
            self.replaces(call, cons.holder, via, cons.proxy)
            return
        via.extra["consult_abandoned"] = call.id
        via.finish(Cause.NORMAL_CLEARING, "transfer")
        assert cons.route is not None
        self._leave(call, cons.holder, cons.held, f"attended:{cons.number}")
        self._publish(Transferred(time.time(), call.id, leg_name(cons.holder),
                                  leg_name(cons.held), cons.number, "attended"))
        self._send_on(call, cons.route, cons.number)

    def via_ended(self, via: Call) -> None:
        """A consultation call into a queue/IVR ended by itself: the holder is back."""
        for cons in list(self.consults.values()):
            if cons.via is via:
                self._back_from_consult(cons)

    def _drop_holder(self, cons: Consultation) -> None:
        call, holder = cons.call, cons.holder
        self._agent_left(call, holder, f"attended:{cons.number}")
        holder.listener = None
        if not holder.ended:
            holder.hangup(Cause.NORMAL_CLEARING)
        self._drop_device(call, holder)

    def _complete(self, cons: Consultation, kind: str) -> None:
        call = cons.call
        target = cons.target
        assert target is not None
        self.consults.pop(call.id, None)
        if cons.bridge is not None:
            cons.bridge.stop()
        if not cons.holder.ended or cons.holder.listener is call:
            self._drop_holder(cons)
        target.listener = call
        self._join_as_b(call, cons.held, target, f"{kind}:{cons.number}")
        cons.held.hold(False)
        self._publish(Transferred(time.time(), call.id, leg_name(cons.holder),
                                  leg_name(cons.held), cons.number, kind))

    def _join_as_b(self, call: Call, stays: Channel, new: Channel, why: str) -> None:
        """`stays` and `new` become the call's two parties, in the same recording."""
        bridge = self._bridge(call)
        call.a, call.b, call.forks = stays, new, [new]
        if why not in call.transfers:
            call.transfers.append(why)
        call.note_party(new)
        call.mark_in_use(new)
        if new.media is not None and new.media not in bridge:
            bridge.add(new.media)
        if stays.media is not None and stays.media in bridge and bridge.held(stays.media):
            bridge.hold(stays.media, False)

    def conference_consult(self, call_id: str | None, device: str) -> dict[str, str]:
        """3-way: the caller, `device` and the consulted party all hear each other."""
        cons = self._consultation(call_id, device)
        if cons.via is not None:
            via = cons.via
            if via.b is None or via.b.ended:
                raise CallControlError(f"nobody at {cons.number} has answered yet")
            far = via.b
            if via.acd is not None:
                via.acd.move_call(via, cons.call)
            if isinstance(via.bridge, Bridge) and far.media is not None:
                via.bridge.remove(far.media)
            via._release_device(far)
            cons.call.mark_in_use(far)
            via.b, via.forks = None, []
            via.extra["replaced_into"] = cons.call.id
            self.consults.pop(cons.call.id, None)
            via.finish(Cause.NORMAL_CLEARING, "transfer")
            cons.target = far
            self.consults[cons.call.id] = cons  # conference_consult pops it again
            cons.via = None
        if cons.target is None:
            raise CallControlError(f"{cons.number} has not answered yet")
        call = cons.call
        self.consults.pop(call.id, None)
        if cons.bridge is not None:
            cons.bridge.stop()
        target = cons.target
        target.listener = call
        call.parties.append(target)
        call.note_party(target)
        call.mark_in_use(target)
        bridge = self._bridge(call)
        for leg in (cons.holder.media, target.media):
            if leg is not None and leg not in bridge:
                bridge.add(leg)
        if cons.held.media is not None and bridge.held(cons.held.media):
            bridge.hold(cons.held.media, False)
        cons.held.hold(False)
        parties = tuple(leg_name(c) for c in self._talking(call))
        self._publish(Conferenced(time.time(), call.id, leg_name(cons.holder), parties))
        return {"call": call.id, "parties": ",".join(parties)}

    def _consultation(self, call_id: str | None, device: str) -> Consultation:
        if call_id:
            cons = self.consults.get(call_id)
        else:
            cons = next((c for c in self.consults.values()
                         if device_of(c.holder) == device), None)
        if cons is None or (device and device_of(cons.holder) != device
                            and cons.holder.id != device):
            raise CallControlError(f"{device or call_id} is not consulting")
        return cons

    def replaces(self, call: Call, transferor: Channel, other_call: Call,
                 other_leg: Channel) -> None:
        """REFER with Replaces (RFC 3891): the transferor's two calls become one — the
        first call's other party and the second call's far party. The first call keeps
        its recording; the consultation call ends."""
        stays = self._other(call, transferor)
        far = other_call.b if other_leg is other_call.a else other_call.a
        if far is None or far.ended or other_call.b is None:
            raise CallControlError(f"call {other_call.id} is not answered")
        # the transferor leaves its queue call (TRANSFER); the far party's queue link,
        # if it came through a queue, moves with it into this call
        self._agent_left(call, transferor, f"attended:{leg_name(far)}")
        if other_call.acd is not None and far is other_call.b:
            other_call.acd.move_call(other_call, call)
        if "queue" in other_call.extra:
            call.extra.setdefault("queue", other_call.extra["queue"])
            if call.extra["queue"] != other_call.extra["queue"]:
                call.extra["transfer_queue"] = other_call.extra["queue"]
            if "agent" in other_call.extra:
                call.extra["agent"] = other_call.extra["agent"]
        call.mark_in_use(far)
        for agent in other_call.agents:
            if agent != leg_name(other_leg):
                call.note_agent(agent)
        if isinstance(other_call.bridge, Bridge) and far.media is not None:
            other_call.bridge.remove(far.media)
        other_call._release_device(far)
        if other_call.b is far:
            other_call.b, other_call.forks = None, []
        else:
            other_call.a = other_leg
        other_call.extra["replaced_into"] = call.id
        other_leg.listener = None
        other_call.finish(Cause.NORMAL_CLEARING, "transfer")
        bridge = self._bridge(call)
        if transferor.media is not None:
            bridge.remove(transferor.media)
        transferor.listener = None
        if not transferor.ended:
            transferor.hangup(Cause.NORMAL_CLEARING)
        self._drop_device(call, transferor)
        far.listener = call
        self._join_as_b(call, stays, far, f"attended:{leg_name(far)}")
        stays.hold(False)
        self._publish(Transferred(time.time(), call.id, leg_name(transferor),
                                  leg_name(stays), leg_name(far), "replaces"))

    def refer(self, call: Call, ch: Channel, target: str,
              replaces: Channel | None) -> str | None:
        """SIP REFER from the phone on `ch`: blind transfer to `target`, or with Replaces
        join the other party with the far end of the phone's other call. Returns None
        when done (the final NOTIFY went out before the phone's leg is released), else
        why not."""
        notify = getattr(ch, "refer_notify", None)
        try:
            if replaces is not None:
                other_call = replaces.listener
                if other_call is call or not hasattr(other_call, "origin"):
                    raise CallControlError("Replaces names no other call of the box")
                assert other_call is not None
                self._other(call, ch)
                if notify is not None:
                    notify(200, "OK", final=True)
                self.replaces(call, ch, other_call, replaces)  # type: ignore[arg-type]
                return None
            self._other(call, ch)
            self._check_target(target)
            if notify is not None:
                notify(200, "OK", final=True)
            self.blind_transfer(call.id, ch.id, target)
        except CallControlError as e:
            return str(e)
        return None

    # ======================================================================================
    # Conference: add a party straight away
    # ======================================================================================
    def conference(self, call_id: str | None, device: str, target: str) -> dict[str, str]:
        """Ring `target` and add it to the call when it answers (no consultation)."""
        call, _ch = self._resolve(call_id, device)
        if call.b is None:
            raise CallControlError(f"call {call.id} is not answered")
        route = self._check_target(target)
        if route.kind not in ("extension", "trunk"):
            raise CallControlError(f"{target} is a {route.kind}, not a party to add")

        def answered(leg: Channel) -> None:
            if call.end_at is not None:
                leg.hangup(Cause.NORMAL_CLEARING)
                return
            leg.listener = call
            call.parties.append(leg)
            call.note_party(leg)
            call.mark_in_use(leg)
            if leg.media is not None:
                self._bridge(call).add(leg.media)
            self._publish(Conferenced(time.time(), call.id, device,
                                      tuple(leg_name(c) for c in self._talking(call))))

        legs = _Legs(answered, lambda cause: log.info("call %s: %s not added: %s", call.id,
                                                      target, cause.name))
        placed = self.switch.originate_for(route, call, legs)
        if not placed:
            raise CallControlError(f"{target} cannot be reached now")
        legs.legs = list(placed)
        call.pending.append(legs)
        return {"call": call.id, "adding": target}

    # ======================================================================================
    # Pickup and park
    # ======================================================================================
    def ringing_calls(self, device: str | None = None) -> list[Call]:
        out = []
        for call in self.switch.calls.values():
            if call.end_at is not None or call.b is not None or not call.forks:
                continue
            rung = {f.peer_name for f in call.forks if f.tech == "sip" and not f.ended}
            if (device is None and rung) or device in rung:
                out.append(call)
        return sorted(out, key=lambda c: c.start)

    def pickup_with(self, leg: Channel, device: str | None) -> Call:
        """`leg` (a phone that dialled *8 or *8+ext) answers a call ringing elsewhere."""
        mine = device_of(leg)
        candidates = [c for c in self.ringing_calls(device)
                      if all(f.peer_name != mine for f in c.forks) and c.a is not leg]
        if not candidates:
            raise CallControlError(f"no call is ringing {'at ' + device if device else ''}"
                                   .strip())
        call = candidates[0]
        rung = ",".join(sorted({f.peer_name for f in call.forks}))
        forks = list(call.forks)
        call.forks = [leg]
        for f in forks:
            f.hangup(Cause.NON_SELECTED_USER_CLEARING)
        if call.ring_timer:
            call.ring_timer()
            call.ring_timer = None
        leg.listener = call
        leg.answer()
        call.extra["picked_up_by"] = mine
        self._publish(Diverted(time.time(), call.id, rung, mine, "pickup"))
        call.channel_answered(leg)
        return call

    def park(self, call_id: str | None, device: str) -> str:
        """`device` parks the other party in the first free slot 701-720; the slot is
        announced to `device`, then it leaves. Returns the slot."""
        call, ch = self._resolve(call_id, device)
        other = self._other(call, ch)
        slot = next((s for s in PARK_SLOTS if s not in self.parked), None)
        if slot is None:
            raise CallControlError("every park slot (701-720) is taken")
        bridge = self._bridge(call)
        if ch.media is not None:
            bridge.remove(ch.media)
        self._agent_left(call, ch, f"park:{slot}")
        ch.listener = None
        self._drop_device(call, ch)
        call.a, call.b, call.forks = other, None, []
        call.transfers.append(f"park:{slot}")
        call.extra["parked"] = slot
        if other.media is not None and not bridge.held(other.media):
            bridge.hold(other.media, True)
        other.hold(True)
        self.parked[slot] = call
        asyncio.get_running_loop().call_later(self.park_timeout, self._park_expired, slot,
                                              call, device_of(ch))
        self._announce_then_hangup(ch, ["park_parked_at", *say_digits(slot)])
        self._publish(Diverted(time.time(), call.id, leg_name(ch), slot, "park"))
        return slot

    def _park_expired(self, slot: str, call: Call, parker: str) -> None:
        """Nobody took the parked call: it rings the phone that parked it (the caller
        keeps hearing music meanwhile); with no phone to ring, it ends."""
        if self.parked.get(slot) is not call or call.end_at is not None:
            return
        del self.parked[slot]
        call.extra.pop("parked", None)
        call.extra["park_timeout"] = slot
        self._publish(Diverted(time.time(), call.id, slot, parker, "park_timeout"))
        if not parker or self.switch.router.directory.get(parker) is None:
            call.finish(Cause.NO_ANSWER, "system")
            return
        self._send_on(call, Route("extension", parker), parker)

    def unpark_with(self, leg: Channel, slot: str) -> Call:
        call = self.parked.get(slot)
        if call is None or call.end_at is not None:
            self.parked.pop(slot, None)
            raise CallControlError(f"nothing is parked at {slot}")
        del self.parked[slot]
        leg.listener = call
        leg.answer()
        call.extra.pop("parked", None)
        call.forks = [leg]
        call.a.hold(False)
        self._publish(Diverted(time.time(), call.id, slot, leg_name(leg), "unpark"))
        call.channel_answered(leg)
        return call

    def pickup(self, device: str, target: str | None = None) -> dict[str, str]:
        """CTI: ring `device`; once answered it takes the call ringing at `target` (or the
        oldest ringing call of its group)."""
        calls = [c for c in self.ringing_calls(target or None)
                 if all(f.peer_name != device for f in c.forks)]
        if not calls:
            raise CallControlError(f"no call is ringing{' at ' + target if target else ''}")
        self._ring_device(device, "*8" + (target or ""),
                          lambda call: self._move(call, lambda leg: self.pickup_with(
                              leg, target or None)))
        return {"call": calls[0].id, "ringing": device}

    def retrieve_parked(self, device: str, slot: str) -> dict[str, str]:
        """CTI: ring `device`; once answered it takes the call parked at `slot`."""
        call = self.parked.get(slot)
        if call is None or call.end_at is not None:
            raise CallControlError(f"nothing is parked at {slot}")
        self._ring_device(device, slot, lambda c: self._move(
            c, lambda leg: self.unpark_with(leg, slot)))
        return {"call": call.id, "ringing": device}

    def _move(self, shell: Call, into: Callable[[Channel], Call]) -> None:
        try:
            into(shell.a)
        except CallControlError as e:
            log.info("%s: %s", leg_name(shell.a), e)
            shell.extra["feature_error"] = str(e)
            self._announce_then_finish(shell, ["feature_failed"])
            return
        self._absorbed(shell)

    def _announce_then_hangup(self, ch: Channel, prompts: list[str]) -> None:
        player = self._player(ch)
        if player is None or self.switch.ivr is None:
            ch.hangup(Cause.NORMAL_CLEARING)
            return
        files = [self.switch.ivr.prompts.path(p) for p in prompts]
        player.play(files, lambda: ch.hangup(Cause.NORMAL_CLEARING))

    def _announce_then_finish(self, call: Call, prompts: list[str]) -> None:
        player = self._player(call.a)
        if player is None or self.switch.ivr is None:
            call.finish(Cause.NORMAL_CLEARING, "system")
            return
        files = [self.switch.ivr.prompts.path(p) for p in prompts]
        player.play(files, lambda: call.finish(Cause.NORMAL_CLEARING, "system"))

    def _player(self, ch: Channel) -> PromptPlayer | None:
        from firmware.media.engine import RtpLeg
        from firmware.media.frame_leg import FrameLeg

        loop = asyncio.get_running_loop()
        leg = ch.media
        if isinstance(leg, RtpLeg) and leg.codec is not None:
            return PromptPlayer(loop, leg.send_audio, leg.codec)
        if isinstance(leg, FrameLeg):
            return PromptPlayer(loop, leg.write, leg.codec)
        return None

    # ======================================================================================
    # Supervision (班长): listen, whisper, barge, force release, force transfer
    # ======================================================================================
    def _target_call(self, supervisor: str, target: str) -> tuple[Call, Channel]:
        """The call of agent `target` (an extension) or call id `target`, and the agent's
        leg on it; checks the supervisor may watch that agent."""
        call = self.switch.calls.get(target)
        if call is not None and call.end_at is None and call.b is not None:
            agent_leg = call.b if device_of(call.b) else call.a
        else:
            call = self.find_call(target)
            agent_leg = self._leg_of(call, target)
        agent = device_of(agent_leg) or call.extra.get("agent", "")
        if not self.may_monitor(supervisor, agent):
            raise CallControlError(f"{supervisor} may not supervise {agent or call.id}")
        return call, agent_leg

    def monitor_with(self, sup_call: Call, target: str, mode: str) -> Monitor:
        """The supervisor's answered leg (`sup_call.a`) joins `target`'s call."""
        if mode not in MODES:
            raise CallControlError(f"mode must be listen, whisper or barge, not {mode!r}")
        supervisor = device_of(sup_call.a)
        call, agent_leg = self._target_call(supervisor, target)
        if call is sup_call:
            raise CallControlError("a call cannot monitor itself")
        bridge = self._bridge(call)
        leg = sup_call.a.media
        if leg is None:
            raise CallControlError("the supervisor's phone has no media")
        role = MODES[mode]
        bridge.add(leg, role, agent_leg.media if role is Role.WHISPER else None)
        mon = Monitor(sup_call, call, agent_leg, mode)
        self.monitors[sup_call.id] = mon
        sup_call.extra.update(monitor=call.id, monitor_mode=mode,
                              monitor_agent=leg_name(agent_leg))
        call.extra.setdefault("supervised_by", supervisor)
        self._publish(MonitorChanged(time.time(), call.id, supervisor, leg_name(agent_leg),
                                     mode))
        return mon

    def set_monitor_mode(self, supervisor: str, mode: str) -> dict[str, str]:
        mon = self._monitor_of(supervisor)
        if mode not in MODES:
            raise CallControlError(f"mode must be listen, whisper or barge, not {mode!r}")
        leg = mon.supervisor.a.media
        assert leg is not None
        role = MODES[mode]
        target = mon.agent.media if role is Role.WHISPER else None
        try:
            self._bridge(mon.target).set_role(leg, role, target)
        except BridgeError as e:
            raise CallControlError(str(e)) from e
        mon.mode = mode
        mon.supervisor.extra["monitor_mode"] = mode
        self._publish(MonitorChanged(time.time(), mon.target.id, supervisor,
                                     leg_name(mon.agent), mode))
        return {"call": mon.target.id, "mode": mode}

    def stop_monitor(self, supervisor: str) -> dict[str, str]:
        """The supervisor's phone leaves the watched call (its own call ends)."""
        mon = self._monitor_of(supervisor)
        mon.supervisor.finish(Cause.NORMAL_CLEARING, "system")
        return {"call": mon.target.id, "stopped": supervisor}

    def _monitor_of(self, supervisor: str) -> Monitor:
        for mon in self.monitors.values():
            if device_of(mon.supervisor.a) == supervisor and mon.supervisor.end_at is None:
                return mon
        raise CallControlError(f"{supervisor} is not monitoring a call")

    def monitor(self, supervisor: str, target: str, mode: str = "listen") -> dict[str, str]:
        """CTI: ring the supervisor's phone; when answered it joins the agent's (or
        call's) conversation in `mode`. Checked now: permission and the target call."""
        if mode not in MODES:
            raise CallControlError(f"mode must be listen, whisper or barge, not {mode!r}")
        call, agent_leg = self._target_call(supervisor, target)

        def answered(sup_call: Call) -> None:
            try:
                self.monitor_with(sup_call, call.id, mode)
            except CallControlError as e:
                log.info("monitor by %s: %s", supervisor, e)
                sup_call.finish(Cause.NORMAL_CLEARING, "system")

        self._ring_device(supervisor, f"*5{'123'[list(MODES).index(mode)]}", answered)
        return {"call": call.id, "agent": leg_name(agent_leg), "ringing": supervisor}

    def force_release(self, supervisor: str, target: str) -> dict[str, str]:
        """强拆: end the agent's (or call's) call for every party."""
        call, _agent = self._target_call(supervisor, target)
        call.extra["force_released_by"] = supervisor
        call.finish(Cause.NORMAL_CLEARING, "supervisor")
        return {"call": call.id, "released": "yes"}

    def force_transfer(self, supervisor: str, target: str, to: str) -> dict[str, str]:
        """强转: take the caller away from the agent to `to` (blind)."""
        call, agent_leg = self._target_call(supervisor, target)
        call.extra["force_transferred_by"] = supervisor
        out = self.blind_transfer(call.id, agent_leg.id, to, kind="forced")
        return out

    # ======================================================================================
    # Conference rooms 6000-6099 (PIN)
    # ======================================================================================
    def _join_room(self, call: Call) -> None:
        number = call.a.called
        room = self.rooms.get(number)
        if room is None:
            room = Room(number, self.room_pins[number],
                        Bridge(self.switch.media, always_mix=True, name=f"room {number}"))
            self.rooms[number] = room
        leg = call.a.media
        if leg is None:
            call.finish(Cause.NORMAL_CLEARING, "system")
            return
        room.bridge.add(leg)
        room.bridge.announce(JOIN_TONE)
        room.members[call.id] = call
        call.extra["conference"] = number
        # each participant's call is recorded from their side (left: them, right: the
        # room as they heard it); Call.finish closes it like any recording
        path, rec = self.switch.new_recorder(call.id, call.start)
        if isinstance(rec, StereoRecorder) and path is not None:
            call.recording_path, call.recorder = path, rec
            room.bridge.record_party(leg, rec)
            self._publish(RecordingStarted(time.time(), call.id, str(path)))
        self._publish(Conferenced(time.time(), call.id, leg_name(call.a),
                                  tuple(leg_name(c.a) for c in room.members.values())))

    def _leave_room(self, call: Call) -> None:
        number = call.extra.get("conference", "")
        room = self.rooms.get(number)
        if room is None or room.members.pop(call.id, None) is None:
            return
        if call.a.media is not None:
            room.bridge.stop_recording_party(call.a.media)
            room.bridge.remove(call.a.media)
        if room.members:
            room.bridge.announce(LEAVE_TONE)
        else:
            room.bridge.stop()
            del self.rooms[number]

    def room_status(self) -> list[dict[str, Any]]:
        return [{"room": r.number, "parties": [leg_name(c.a) for c in r.members.values()],
                 "mode": r.bridge.mode} for r in self.rooms.values()]

    # ======================================================================================
    # Hooks from the switch and the calls
    # ======================================================================================
    def dialled(self, call: Call) -> bool:
        """A new call to a feature code or a room: handled here (True) or not ours."""
        ch = call.a
        number = ch.called.strip()
        from_phone = ch.tech == "sip"
        try:
            if ROOMS.fullmatch(number) and number in self.room_pins:
                self._answer(call)
                self._ask_pin(call, number)
                return True
            if not from_phone:
                return False
            if number == "*8" or (number.startswith("*8") and number[2:].isdigit()):
                self.pickup_with(ch, number[2:] or None)
                self._absorbed(call)
                return True
            if number in PARK_SLOTS:
                self.unpark_with(ch, number)
                self._absorbed(call)
                return True
            mode = MONITOR_CODES.get(number[:3])
            if mode is not None and number[3:].isdigit():
                self._target_call(device_of(ch), number[3:])  # refused before answering
                self._answer(call)
                self.monitor_with(call, number[3:], mode)
                return True
        except CallControlError as e:
            log.info("call %s to %s: %s", call.id, number, e)
            call.extra["feature_error"] = str(e)
            if call.answer_at is not None and not ch.ended:
                self._announce_then_finish(call, ["feature_failed"])
            else:
                call.finish(Cause.CALL_REJECTED if "may not" in str(e)
                            else Cause.UNALLOCATED_NUMBER, "system")
            return True
        return False

    def _answer(self, call: Call) -> None:
        call.answer_at = call.answer_at or time.time()
        call.a.answer()
        call.mark_in_use(call.a)

    def _absorbed(self, call: Call) -> None:
        """The dialled call's only leg now belongs to another call: forget the shell."""
        call.end_at = time.time()
        self.switch.calls.pop(call.id, None)

    def _ask_pin(self, call: Call, room: str) -> None:
        entry = _PinEntry(room, player=self._player(call.a))
        self._pins[call.id] = entry
        self._prompt(entry, ["conf_enter_pin"])

    def _prompt(self, entry: _PinEntry, names: list[str]) -> None:
        if entry.player is None or self.switch.ivr is None:
            return
        entry.player.play([self.switch.ivr.prompts.path(n) for n in names])

    def digit(self, call: Call, ch: Channel, digit: str) -> bool:
        """A key from a leg of `call`; True when call control took it."""
        entry = self._pins.get(call.id)
        if entry is not None and ch is call.a:
            self._pin_digit(call, entry, digit)
            return True
        mon = self.monitors.get(call.id)
        if mon is not None and ch is call.a:
            mode = MODE_KEYS.get(digit)
            if mode is not None and mode != mon.mode:
                try:
                    self.set_monitor_mode(device_of(ch), mode)
                except CallControlError as e:
                    log.info("monitor mode %s: %s", mode, e)
            return True
        if call.b is None or ch.tech != "sip" or not device_of(ch):
            return False
        return self._feature_digit(call, ch, digit)

    def _pin_digit(self, call: Call, entry: _PinEntry, digit: str) -> None:
        if entry.player is not None:
            entry.player.stop()
        if digit != "#":
            entry.buf += digit
            return
        if entry.buf == self.room_pins.get(entry.room):
            self._pins.pop(call.id, None)
            self._join_room(call)
            return
        entry.tries += 1
        entry.buf = ""
        if entry.tries >= PIN_TRIES:
            self._pins.pop(call.id, None)
            call.extra["conference_refused"] = entry.room
            self._announce_then_finish(call, ["conf_wrong_pin", "goodbye"])
            return
        self._prompt(entry, ["conf_wrong_pin", "conf_enter_pin"])

    def _feature_digit(self, call: Call, ch: Channel, digit: str) -> bool:
        key = (call.id, ch.id)
        now = time.monotonic()
        state = self._digits.setdefault(key, _Digits())
        if now - state.at > DIGIT_TIMEOUT:
            state.buf = ""
        state.at = now
        buf = state.buf + digit
        cons = self.consults.get(call.id)
        try:
            if cons is not None and cons.holder is ch:
                if buf in ("*3", "*0"):
                    state.buf = ""
                    if buf == "*3":
                        self.conference_consult(call.id, ch.id)
                    else:
                        self.cancel_consult(call.id, ch.id)
                    return True
                state.buf = buf if buf in ("*",) else ""
                via, proxy = cons.via, cons.proxy
                if via is not None and proxy is not None and not state.buf:
                    for d in buf:  # the agent presses keys in the queue/IVR it called
                        via.channel_dtmf(proxy, d)
                return True
            if buf in ("#", "##", "*", "*2") or (
                    buf.startswith(("##", "*2")) and not buf.endswith("#")):
                state.buf = buf
                return len(buf) > 1 or digit in "#*"
            if buf.startswith("##") and buf.endswith("#") and len(buf) > 3:
                state.buf = ""
                self.blind_transfer(call.id, ch.id, buf[2:-1])
                return True
            if buf.startswith("*2") and buf.endswith("#") and len(buf) > 3:
                state.buf = ""
                self.consult(call.id, ch.id, buf[2:-1])
                return True
        except CallControlError as e:
            log.info("call %s: feature code %s from %s: %s", call.id, buf, leg_name(ch), e)
            call.extra["feature_error"] = str(e)
            return True
        state.buf = ""
        return False

    def leg_hungup(self, call: Call, ch: Channel, cause: Cause) -> bool:
        """A leg of `call` hung up; True when call control dealt with it."""
        cons = self.consults.get(call.id)
        if cons is not None and ch is cons.holder and cons.via is not None:
            self._complete_via(cons)
            return True
        if cons is not None and ch is cons.holder:
            if cons.target is not None:
                self._complete(cons, "attended")
            else:
                # hung up while the target rings: connect the caller when it answers
                cons.complete_on_answer = True
                self._drop_holder(cons)
            return True
        if cons is not None and ch is cons.held:
            if cons.via is not None and cons.via.end_at is None:
                cons.via.finish(Cause.NORMAL_CLEARING, "transfer")
            cons.legs.cancel()
            if cons.bridge is not None:
                cons.bridge.stop()
            self.consults.pop(call.id, None)
            return False  # the caller left: the call ends
        if ch in call.parties:
            call.parties.remove(ch)
            self._drop_device(call, ch)
            if ch.media is not None and isinstance(call.bridge, Bridge):
                call.bridge.remove(ch.media)
            return True
        if ch is call.b and call.parties:
            # the agent of a 3-way left: the next party takes the agent's place
            self._drop_device(call, ch)
            if ch.media is not None and isinstance(call.bridge, Bridge):
                call.bridge.remove(ch.media)
            call.b = call.parties.pop(0)
            call.forks = [call.b]
            return True
        return False

    def call_finished(self, call: Call) -> None:
        """The call is over: whatever call control held for it goes too."""
        if "consult_for" in call.extra:
            self.via_ended(call)
        self._pins.pop(call.id, None)
        for key in [k for k in self._digits if k[0] == call.id]:
            del self._digits[key]
        cons = self.consults.pop(call.id, None)
        if cons is not None:
            cons.legs.cancel()
            if cons.target is not None and not cons.target.ended:
                cons.target.hangup(Cause.NORMAL_CLEARING)
            if cons.bridge is not None:
                cons.bridge.stop()
            if not cons.holder.ended:
                cons.holder.hangup(Cause.NORMAL_CLEARING)
        for pending in call.pending:
            pending.cancel()
        for ch in call.parties:
            if not ch.ended:
                ch.hangup(Cause.NORMAL_CLEARING)
        for slot, parked in list(self.parked.items()):
            if parked is call:
                del self.parked[slot]
        mon = self.monitors.pop(call.id, None)
        if mon is not None:
            if isinstance(mon.target.bridge, Bridge) and call.a.media is not None:
                mon.target.bridge.remove(call.a.media)
            self._publish(MonitorChanged(time.time(), mon.target.id,
                                         device_of(call.a), leg_name(mon.agent), ""))
        for sid, m in list(self.monitors.items()):
            if m.target is call:
                del self.monitors[sid]
                m.supervisor.finish(Cause.NORMAL_CLEARING, "system")
        if "conference" in call.extra:
            self._leave_room(call)

    def _agent_left(self, call: Call, ch: Channel, why: str) -> None:
        """An ACD agent passed the caller on: the queue hears TRANSFER, the agent is free."""
        if call.acd is not None and ch is call.b:
            call.acd.agent_transferred(call, why)

    def _drop_device(self, call: Call, ch: Channel) -> None:
        call._release_device(ch)

    def _ring_device(self, device: str, called: str, then: Callable[[Call], None]) -> None:
        """Ring `device`'s phone; once answered, a new call on that leg runs `then`."""
        if self.switch.router.directory.get(device) is None:
            raise CallControlError(f"{device} is not an extension")

        def answered(leg: Channel) -> None:
            call = self.switch.device_call(leg, called)
            call.answer_at = time.time()
            call.mark_in_use(leg)
            then(call)

        legs = _Legs(answered, lambda cause: log.info("%s did not answer: %s", device,
                                                      cause.name))
        placed = self.switch.originate_extension_for(device, Party(called), legs)
        if not placed:
            raise CallControlError(f"{device} is not registered")
        legs.legs = list(placed)

    def _publish(self, event: Any) -> None:
        self.switch.bus.publish(event)

    def status(self) -> dict[str, Any]:
        return {
            "consultations": {cid: {"holder": leg_name(c.holder), "target": c.number,
                                    "answered": c.target is not None}
                              for cid, c in self.consults.items()},
            "parked": {slot: call.id for slot, call in self.parked.items()},
            "monitors": [{"supervisor": device_of(m.supervisor.a), "call": m.target.id,
                          "agent": leg_name(m.agent), "mode": m.mode}
                         for m in self.monitors.values()],
            "rooms": self.room_status(),
        }


class _ConsultTarget:
    """Listener of the consulted party's leg while the consultation lasts."""

    def __init__(self, cc: CallControl, call: Call, leg: Channel) -> None:
        self.cc = cc
        self.call = call
        self.leg = leg

    def channel_ringing(self, ch: Channel) -> None:
        pass

    def channel_progress(self, ch: Channel) -> None:
        pass

    def channel_answered(self, ch: Channel) -> None:
        pass

    def channel_hungup(self, ch: Channel, cause: Cause) -> None:
        self.cc.consult_target_hungup(self.call, ch)

    def channel_dtmf(self, ch: Channel, digit: str) -> None:
        pass

    def channel_hold(self, ch: Channel, held: bool) -> None:
        pass


class _ProxyLeg(Channel):
    """The consulting agent as the caller of a consultation call into a queue or an
    IVR: it lends the agent's media leg, while the agent's own SIP leg stays with the
    first call. Releasing it never touches the agent's leg."""

    tech = "consult"

    def __init__(self, cc: CallControl, call: Call, holder: Channel, number: str) -> None:
        super().__init__(_inbound(), Party(device_of(holder) or holder.caller.number),
                         number)
        self.holder = holder
        self.peer_name = device_of(holder)

    @property
    def media(self) -> MediaLeg | None:
        return self.holder.media

    def ring(self) -> None: ...

    def progress(self) -> None: ...

    def answer(self) -> None:
        if self.state is not ChannelState.ENDED:
            self.state = ChannelState.UP

    def hangup(self, cause: Cause) -> None:
        self.state = ChannelState.ENDED

    def hold(self, held: bool) -> None: ...


class _Probe(Channel):
    """A pretend leg for asking the router where a number goes (never signals)."""

    tech = "probe"

    def __init__(self, number: str) -> None:
        super().__init__(_inbound(), Party("probe"), number)

    @property
    def media(self) -> MediaLeg | None:
        return None

    def ring(self) -> None: ...

    def progress(self) -> None: ...

    def answer(self) -> None: ...

    def hangup(self, cause: Cause) -> None:
        self.state = ChannelState.ENDED

    def hold(self, held: bool) -> None: ...


def _inbound() -> Any:
    from firmware.switch.channel import Direction

    return Direction.INBOUND
