"""Finding what a call-control request names: the call (by id, or by a device talking on
it), the leg of a device on it, the other party, the media bridge, and where a number
would lead if the call were sent there. Every miss raises `CallControlError`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from firmware.media.bridge import Bridge
from firmware.media.leg import MediaLeg
from firmware.switch.callcontrol.dialplan import PARK_NUMBER
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelState, Direction, Party
from firmware.switch.router import Reject, Route

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl

NUMBER = re.compile(r"[0-9*#+]{1,32}")


class CallControlError(Exception):
    """The request is impossible as asked; the message says why. Nothing changed."""


def device_of(ch: Channel) -> str:
    """The extension behind a leg ("" for trunk legs)."""
    return ch.peer_name if ch.tech == "sip" else ""


def leg_name(ch: Channel) -> str:
    return device_of(ch) or ch.caller.number or ch.id


def talking(call: Call) -> list[Channel]:
    """The legs of `call` that are in the conversation: caller, callee, more parties."""
    legs = [call.a]
    if call.b is not None:
        legs.append(call.b)
    legs += call.parties
    return [ch for ch in legs if not ch.ended]


def bridge_of(call: Call) -> Bridge:
    if not isinstance(call.bridge, Bridge):
        raise CallControlError(f"call {call.id} has no media bridge")
    return call.bridge


def other_party(call: Call, ch: Channel) -> Channel:
    """The one other party of a two-party call."""
    if call.b is None:
        raise CallControlError(f"call {call.id} is not answered")
    if call.parties:
        raise CallControlError(f"call {call.id} has more than two parties")
    return call.b if ch is call.a else call.a


class Lookup:
    def __init__(self, cc: CallControl) -> None:
        self.cc = cc

    def call(self, call_id: str) -> Call:
        call = self.cc.switch.calls.get(call_id)
        if call is None or call.end_at is not None:
            raise CallControlError(f"no call {call_id}")
        return call

    def leg_of(self, call: Call, device: str) -> Channel:
        for ch in talking(call):
            if device_of(ch) == device or ch.id == device:
                return ch
        raise CallControlError(f"{device} is not on call {call.id}")

    def find_call(self, device: str) -> Call:
        """The answered call `device` is talking on (its most recent one)."""
        calls = self.cc.switch.calls.values()
        found = None
        for call in calls:
            if call.end_at is None and call.b is not None and any(
                    device_of(ch) == device for ch in talking(call)):
                found = call
        if found is None:
            for cons in self.cc.consults.values():
                if device_of(cons.holder) == device:
                    return cons.call
            # a call the box answered itself: a monitor session, a room, a PIN prompt
            for call in calls:
                if (call.end_at is None and call.answer_at is not None
                        and device_of(call.a) == device and not call.a.ended):
                    found = call
        if found is None:
            raise CallControlError(f"{device} is not on an answered call")
        return found

    def resolve(self, call_id: str | None, device: str) -> tuple[Call, Channel]:
        """The call a request names and the requesting device's leg on it (while it
        consults, the device's leg is no longer in the call's conversation)."""
        call = self.call(call_id) if call_id else self.find_call(device)
        cons = self.cc.consults.get(call.id)
        if cons is not None and device_of(cons.holder) == device:
            return call, cons.holder
        return call, self.leg_of(call, device)

    def target(self, number: str) -> Route:
        """What dialling `number` for a transfer would reach; raises if nothing."""
        number = number.strip()
        if not number or not NUMBER.fullmatch(number):
            raise CallControlError(f"{number!r} is not a number")
        if number == PARK_NUMBER:
            return Route("park", number)
        switch = self.cc.switch
        router = switch.router
        queue = self.queue_for(number)
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
            to, _why = did.choose(router.clock())
            route = router._to(to, f"transfer to DID {number}")
        else:
            route = router.route(_Probe(number))
        if isinstance(route, Reject):
            raise CallControlError(f"{number}: {route.why}")
        if route.kind == "trunk" and switch.trunks is None:
            raise CallControlError(f"{number}: no trunk to dial out on")
        return route

    def queue_for(self, number: str) -> str | None:
        acd = self.cc.switch.acd
        name = number.split(":", 1)[1] if number.startswith("queue:") else number
        if acd is not None and name in {q.name for q in acd.engine.config.queues}:
            return name
        return None


class _Probe(Channel):
    """A pretend leg for asking the router where a number goes (never signals)."""

    tech = "probe"

    def __init__(self, number: str) -> None:
        super().__init__(Direction.INBOUND, Party("probe"), number)

    @property
    def media(self) -> MediaLeg | None:
        return None

    def ring(self) -> None: ...

    def progress(self) -> None: ...

    def answer(self) -> None: ...

    def hangup(self, cause: Cause) -> None:
        self.state = ChannelState.ENDED

    def hold(self, held: bool) -> None: ...

