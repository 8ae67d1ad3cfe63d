"""Consultation (DTMF `*2N#`, CTI ConsultationCall): the other party waits with music
while the holder talks to a third party in a second bridge of the same call; then the
holder completes the transfer (or hangs up), makes it a 3-way (`*3`) or goes back to
the caller (`*0`). A consultation into a queue or an IVR is a call of its own whose
caller leg lends the holder's media; completing it merges it like REFER/Replaces."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware.media.bridge import Bridge
from firmware.media.leg import MediaLeg
from firmware.switch.callcontrol.lookup import (
    CallControlError,
    bridge_of,
    device_of,
    leg_name,
    other_party,
    talking,
)
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelState, Direction, Party
from firmware.switch.events import Conferenced, ConsultationStarted, Held, Retrieved, Transferred
from firmware.switch.ringing import QuietListener, RingingLegs
from firmware.switch.router import Route

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl

log = logging.getLogger(__name__)


@dataclass
class Consultation:
    """`holder` consults `number` while `held` hears music on hold."""

    call: Call
    holder: Channel
    held: Channel
    number: str
    legs: RingingLegs
    target: Channel | None = None
    bridge: Bridge | None = None
    complete_on_answer: bool = False  # the holder hung up while the target rang
    holder_dropped: bool = False  # the holder's leg has left the call
    # a consultation into a queue or an IVR is a call of its own (`via`), whose caller
    # leg (`proxy`) lends the holder's media: the agent waits in the queue like a caller
    via: Call | None = None
    proxy: Channel | None = None
    route: Route | None = None


class Consultations:
    def __init__(self, cc: CallControl) -> None:
        self.cc = cc
        self.active: dict[str, Consultation] = {}  # call id -> consultation

    def consult(self, call_id: str | None, device: str, target: str) -> dict[str, str]:
        """Consultation call: the other party waits with music, `device` talks to
        `target`; then complete_transfer, conference_consult or cancel_consult."""
        cc, switch = self.cc, self.cc.switch
        call, ch = cc.lookup.resolve(call_id, device)
        if call.id in self.active:
            raise CallControlError(f"call {call.id} is already consulting")
        other = other_party(call, ch)
        route = cc.lookup.target(target)
        if route.kind not in ("extension", "trunk", "queue", "ivr"):
            raise CallControlError(f"{target} is a {route.kind}: it cannot be consulted")
        if route.kind == "queue" and switch.acd is None:
            raise CallControlError(f"{target}: no queues are configured")
        bridge = bridge_of(call)
        assert other.media is not None
        legs = RingingLegs(lambda leg: self._answered(call, leg),
                           lambda cause: self._failed(call, cause))
        via = None
        if route.kind in ("extension", "trunk"):
            placed = switch.originate_for(route, call, legs)
            if not placed:
                raise CallControlError(f"{target} cannot be reached now")
            legs.legs = list(placed)
        cons = Consultation(call, ch, other, target, legs, route=route)
        self.active[call.id] = cons
        bridge.hold(other.media, True)
        other.hold(True)
        if ch.media is not None:
            bridge.remove(ch.media)
        if route.kind in ("queue", "ivr"):
            cons.proxy = _ProxyLeg(ch, target)
            via = cons.via = switch.consult_call(cons.proxy)
            via.extra["consult_for"] = call.id
            if route.kind == "queue":
                switch._start_queue(via, route.target, route.priority)
            else:
                switch._start_ivr(via, route.target, route.flow)
        cc.publish(Held(time.time(), call.id, other.id, leg_name(ch)))
        cc.publish(ConsultationStarted(time.time(), call.id, leg_name(ch), target))
        return {"call": call.id, "consulting": target}

    def _answered(self, call: Call, leg: Channel) -> None:
        cons = self.active.get(call.id)
        if cons is None or call.end_at is not None:
            leg.hangup(Cause.NORMAL_CLEARING)
            return
        cons.target = leg
        leg.listener = _ConsultTarget(self, call)
        if cons.complete_on_answer:
            self._complete(cons, "attended")
            return
        if cons.holder.media is not None and leg.media is not None:
            switch = self.cc.switch
            cons.bridge = Bridge(switch.media, name=f"{call.id}/consult",
                                 moh=switch.moh_path())
            cons.bridge.add_many([cons.holder.media, leg.media])

    def _failed(self, call: Call, cause: Cause) -> None:
        cons = self.active.get(call.id)
        if cons is None:
            return
        log.info("call %s: consultation of %s failed: %s", call.id, cons.number, cause.name)
        if cons.complete_on_answer or cons.holder.ended:
            # nobody left to return to the caller: the call ends
            self.active.pop(call.id, None)
            call.finish(cause, "callee")
            return
        self._back(cons)

    def target_hungup(self, call: Call, leg: Channel) -> None:
        cons = self.active.get(call.id)
        if cons is None or cons.target is not leg:
            return
        if cons.holder.ended:
            self.active.pop(call.id, None)
            call.finish(Cause.NORMAL_CLEARING, "callee")
            return
        self._back(cons)

    def _back(self, cons: Consultation) -> None:
        """The holder is back with the caller; the consulted party (if any) is gone."""
        call = cons.call
        self.active.pop(call.id, None)
        if cons.bridge is not None:
            cons.bridge.stop()
        cons.legs.cancel()
        if cons.via is not None and cons.via.end_at is None:
            cons.via.finish(Cause.NORMAL_CLEARING, "transfer")
        bridge = bridge_of(call)
        if cons.holder.media is not None and cons.holder.media not in bridge:
            bridge.add(cons.holder.media)
        if cons.held.media is not None and cons.held.media in bridge:
            bridge.hold(cons.held.media, False)
        cons.held.hold(False)
        self.cc.publish(Retrieved(time.time(), call.id, cons.held.id, leg_name(cons.holder)))

    def cancel_consult(self, call_id: str | None, device: str) -> dict[str, str]:
        cons = self.of(call_id, device)
        self._back(cons)
        return {"call": cons.call.id, "retrieved": leg_name(cons.held)}

    def complete_transfer(self, call_id: str | None, device: str) -> dict[str, str]:
        """The consulted party takes over; `device` leaves. Before the target answers,
        the caller is connected as soon as it does."""
        cons = self.of(call_id, device)
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
        transfers = self.cc.transfers
        self.active.pop(call.id, None)
        if via.b is not None and not via.b.ended and via.end_at is None:
            transfers.replaces(call, cons.holder, via, cons.proxy)
            return
        via.extra["consult_abandoned"] = call.id
        via.finish(Cause.NORMAL_CLEARING, "transfer")
        assert cons.route is not None
        transfers.leave(call, cons.holder, cons.held, f"attended:{cons.number}")
        self.cc.publish(Transferred(time.time(), call.id, leg_name(cons.holder),
                                    leg_name(cons.held), cons.number, "attended"))
        transfers.send_on(call, cons.route, cons.number)

    def via_ended(self, via: Call) -> None:
        """A consultation call into a queue/IVR ended by itself: the holder is back."""
        for cons in list(self.active.values()):
            if cons.via is via:
                self._back(cons)

    def _drop_holder(self, cons: Consultation) -> None:
        call, holder = cons.call, cons.holder
        self.cc.transfers.agent_left(call, holder, f"attended:{cons.number}")
        holder.listener = None
        cons.holder_dropped = True
        if not holder.ended:
            holder.hangup(Cause.NORMAL_CLEARING)
        call._release_device(holder)

    def _complete(self, cons: Consultation, kind: str) -> None:
        call = cons.call
        target = cons.target
        assert target is not None
        self.active.pop(call.id, None)
        if cons.bridge is not None:
            cons.bridge.stop()
        if not cons.holder_dropped:
            self._drop_holder(cons)
        target.listener = call
        self.cc.transfers.join_as_b(call, cons.held, target, f"{kind}:{cons.number}")
        cons.held.hold(False)
        self.cc.publish(Transferred(time.time(), call.id, leg_name(cons.holder),
                                    leg_name(cons.held), cons.number, kind))

    def conference_consult(self, call_id: str | None, device: str) -> dict[str, str]:
        """3-way: the caller, `device` and the consulted party all hear each other."""
        cons = self.of(call_id, device)
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
            self.active.pop(cons.call.id, None)
            via.finish(Cause.NORMAL_CLEARING, "transfer")
            cons.target = far
            self.active[cons.call.id] = cons  # popped again below
            cons.via = None
        if cons.target is None:
            raise CallControlError(f"{cons.number} has not answered yet")
        call = cons.call
        self.active.pop(call.id, None)
        if cons.bridge is not None:
            cons.bridge.stop()
        target = cons.target
        target.listener = call
        call.parties.append(target)
        call.note_party(target)
        call.mark_in_use(target)
        bridge = bridge_of(call)
        for leg in (cons.holder.media, target.media):
            if leg is not None and leg not in bridge:
                bridge.add(leg)
        if cons.held.media is not None and bridge.held(cons.held.media):
            bridge.hold(cons.held.media, False)
        cons.held.hold(False)
        parties = tuple(leg_name(c) for c in talking(call))
        self.cc.publish(Conferenced(time.time(), call.id, leg_name(cons.holder), parties))
        return {"call": call.id, "parties": ",".join(parties)}

    def of(self, call_id: str | None, device: str) -> Consultation:
        """The consultation `device` (or call `call_id`) is in; raises if none."""
        if call_id:
            cons = self.active.get(call_id)
        else:
            cons = next((c for c in self.active.values()
                         if device_of(c.holder) == device), None)
        if cons is None or (device and device_of(cons.holder) != device
                            and cons.holder.id != device):
            raise CallControlError(f"{device or call_id} is not consulting")
        return cons

    # --- hooks ----------------------------------------------------------------------------
    def leg_hungup(self, call: Call, ch: Channel) -> bool | None:
        """The holder or the held party of a consultation hung up: True when dealt
        with here, False when the call is to end, None when not ours."""
        cons = self.active.get(call.id)
        if cons is None:
            return None
        if ch is cons.holder and cons.via is not None:
            self._complete_via(cons)
            return True
        if ch is cons.holder:
            if cons.target is not None:
                self._complete(cons, "attended")
            else:
                # hung up while the target rings: connect the caller when it answers
                cons.complete_on_answer = True
                self._drop_holder(cons)
            return True
        if ch is cons.held:
            if cons.via is not None and cons.via.end_at is None:
                cons.via.finish(Cause.NORMAL_CLEARING, "transfer")
            cons.legs.cancel()
            if cons.bridge is not None:
                cons.bridge.stop()
            self.active.pop(call.id, None)
            return False  # the caller left: the call ends
        return None

    def call_finished(self, call: Call) -> None:
        if "consult_for" in call.extra:
            self.via_ended(call)
        cons = self.active.pop(call.id, None)
        if cons is not None:
            cons.legs.cancel()
            if cons.target is not None and not cons.target.ended:
                cons.target.hangup(Cause.NORMAL_CLEARING)
            if cons.bridge is not None:
                cons.bridge.stop()
            if not cons.holder.ended:
                cons.holder.hangup(Cause.NORMAL_CLEARING)

    def status(self) -> dict[str, dict[str, object]]:
        return {cid: {"holder": leg_name(c.holder), "target": c.number,
                      "answered": c.target is not None}
                for cid, c in self.active.items()}


class _ConsultTarget(QuietListener):
    """Listener of the consulted party's leg while the consultation lasts."""

    def __init__(self, consultations: Consultations, call: Call) -> None:
        self.consultations = consultations
        self.call = call

    def channel_hungup(self, ch: Channel, cause: Cause) -> None:
        self.consultations.target_hungup(self.call, ch)


class _ProxyLeg(Channel):
    """The consulting agent as the caller of a consultation call into a queue or an
    IVR: it lends the agent's media leg, while the agent's own SIP leg stays with the
    first call. Releasing it never touches the agent's leg."""

    tech = "consult"

    def __init__(self, holder: Channel, number: str) -> None:
        super().__init__(Direction.INBOUND,
                         Party(device_of(holder) or holder.caller.number), number)
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
