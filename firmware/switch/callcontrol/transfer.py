"""Transfers: blind (DTMF `##N#`, CTI SingleStepTransfer, SIP REFER), the Replaces merge
of a phone's two calls (REFER with Replaces, RFC 3891), and the moves every transfer
shares — a party leaves, the caller waits, the call is sent on, a new party joins the
same bridge and recording."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from firmware.media.bridge import Bridge
from firmware.switch.callcontrol.lookup import CallControlError, bridge_of, leg_name, other_party
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel
from firmware.switch.events import Transferred
from firmware.switch.router import Route

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl

log = logging.getLogger(__name__)


class Transfers:
    def __init__(self, cc: CallControl) -> None:
        self.cc = cc

    def blind_transfer(self, call_id: str | None, device: str, target: str,
                       *, kind: str = "blind") -> dict[str, str]:
        """`device` hands the other party to `target` (extension, outside number via
        the trunk prefix, a queue, 700 = park) and leaves the call."""
        cc = self.cc
        call, ch = cc.lookup.resolve(call_id, device)
        if call.id in cc.consults:
            raise CallControlError("finish or cancel the consultation first")
        other = other_party(call, ch)
        route = cc.lookup.target(target)
        if route.kind == "park":
            slot = cc.parking.park(call.id, leg_name(ch))
            return {"call": call.id, "parked": slot}
        self.leave(call, ch, other, f"{kind}:{target}")
        cc.publish(Transferred(time.time(), call.id, leg_name(ch), leg_name(other),
                               target, kind))
        self.send_on(call, route, target)
        return {"call": call.id, "transferred": leg_name(other), "to": target}

    def leave(self, call: Call, ch: Channel, stays: Channel, why: str) -> None:
        """`ch` leaves a two-party call; `stays` becomes its caller, waiting on hold."""
        bridge = bridge_of(call)
        self.agent_left(call, ch, why)
        if ch.media is not None:
            bridge.remove(ch.media)
        ch.listener = None
        if not ch.ended:
            ch.hangup(Cause.NORMAL_CLEARING)
        call._release_device(ch)
        call.a, call.b, call.forks = stays, None, []
        call.ring_at = None
        call.fork_causes.clear()
        call.held_by.clear()
        call.transfers.append(why)

    def send_on(self, call: Call, route: Route, target: str) -> None:
        """Dial `route` for the call's waiting caller (after a transfer or park)."""
        switch = self.cc.switch
        assert call.a.media is not None
        bridge = bridge_of(call)
        cause: Cause | None
        if route.kind == "queue":
            # the queue plays its own music and announcements into the caller
            if bridge.held(call.a.media):
                bridge.hold(call.a.media, False)
            if switch.acd is None:
                cause = Cause.NO_ROUTE_DESTINATION
            else:
                cause = switch.acd.join(call, route.target, route.priority)
        else:
            if not bridge.held(call.a.media):
                bridge.hold(call.a.media, True)
            if route.kind == "ivr":
                bridge.hold(call.a.media, False)  # the flow's prompts, not music
                call.ivr = None
                switch._start_ivr(call, route.target, route.flow)
                cause = None
            else:
                cause = switch.dial_route(call, route)
        if cause is not None:
            log.info("call %s: transfer to %s failed: %s", call.id, target, cause.name)
            call.finish(cause, "system")

    def join_as_b(self, call: Call, stays: Channel, new: Channel, why: str) -> None:
        """`stays` and `new` become the call's two parties, in the same recording."""
        bridge = bridge_of(call)
        call.a, call.b, call.forks = stays, new, [new]
        if why not in call.transfers:
            call.transfers.append(why)
        call.note_party(new)
        call.mark_in_use(new)
        if new.media is not None and new.media not in bridge:
            bridge.add(new.media)
        if stays.media is not None and stays.media in bridge and bridge.held(stays.media):
            bridge.hold(stays.media, False)

    def agent_left(self, call: Call, ch: Channel, why: str) -> None:
        """An ACD agent passed the caller on: the queue hears TRANSFER, the agent is free."""
        if call.acd is not None and ch is call.b:
            call.acd.agent_transferred(call, why)

    def replaces(self, call: Call, transferor: Channel, other_call: Call,
                 other_leg: Channel) -> None:
        """REFER with Replaces (RFC 3891): the transferor's two calls become one — the
        first call's other party and the second call's far party. The first call keeps
        its recording; the consultation call ends."""
        stays = other_party(call, transferor)
        far = other_call.b if other_leg is other_call.a else other_call.a
        if far is None or far.ended or other_call.b is None:
            raise CallControlError(f"call {other_call.id} is not answered")
        # the transferor leaves its queue call (TRANSFER); the far party's queue link,
        # if it came through a queue, moves with it into this call
        self.agent_left(call, transferor, f"attended:{leg_name(far)}")
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
        bridge = bridge_of(call)
        if transferor.media is not None:
            bridge.remove(transferor.media)
        transferor.listener = None
        if not transferor.ended:
            transferor.hangup(Cause.NORMAL_CLEARING)
        call._release_device(transferor)
        far.listener = call
        self.join_as_b(call, stays, far, f"attended:{leg_name(far)}")
        stays.hold(False)
        self.cc.publish(Transferred(time.time(), call.id, leg_name(transferor),
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
                other_party(call, ch)
                if notify is not None:
                    notify(200, "OK", final=True)
                self.replaces(call, ch, other_call, replaces)  # type: ignore[arg-type]
                return None
            other_party(call, ch)
            self.cc.lookup.target(target)
            if notify is not None:
                notify(200, "OK", final=True)
            self.blind_transfer(call.id, ch.id, target)
        except CallControlError as e:
            return str(e)
        return None
