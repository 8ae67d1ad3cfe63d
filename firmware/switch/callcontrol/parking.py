"""Call park: `##700#` (or CTI) puts the other party in the first free slot 701-720 with
music, the slot is announced to the parking phone; dialling the slot (or CTI) takes the
call; not taken within `timeout`, it rings the parking phone again."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from firmware.ivr.say import say_digits
from firmware.switch.callcontrol.dialplan import PARK_SLOTS, PARK_TIMEOUT
from firmware.switch.callcontrol.lookup import (
    CallControlError,
    bridge_of,
    device_of,
    leg_name,
    other_party,
)
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel
from firmware.switch.events import Diverted
from firmware.switch.router import Route

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl


class Parking:
    def __init__(self, cc: CallControl) -> None:
        self.cc = cc
        self.parked: dict[str, Call] = {}  # slot -> call
        self.timeout = PARK_TIMEOUT

    def park(self, call_id: str | None, device: str) -> str:
        """`device` parks the other party in the first free slot 701-720; the slot is
        announced to `device`, then it leaves. Returns the slot."""
        cc = self.cc
        call, ch = cc.lookup.resolve(call_id, device)
        other = other_party(call, ch)
        slot = next((s for s in PARK_SLOTS if s not in self.parked), None)
        if slot is None:
            raise CallControlError("every park slot (701-720) is taken")
        bridge = bridge_of(call)
        if ch.media is not None:
            bridge.remove(ch.media)
        cc.transfers.agent_left(call, ch, f"park:{slot}")
        ch.listener = None
        call._release_device(ch)
        call.a, call.b, call.forks = other, None, []
        call.transfers.append(f"park:{slot}")
        call.extra["parked"] = slot
        if other.media is not None and not bridge.held(other.media):
            bridge.hold(other.media, True)
        other.hold(True)
        self.parked[slot] = call
        asyncio.get_running_loop().call_later(self.timeout, self._expired, slot, call,
                                              device_of(ch))
        cc.announcer.then_hangup(ch, ["park_parked_at", *say_digits(slot)])
        cc.publish(Diverted(time.time(), call.id, leg_name(ch), slot, "park"))
        return slot

    def _expired(self, slot: str, call: Call, parker: str) -> None:
        """Nobody took the parked call: it rings the phone that parked it (the caller
        keeps hearing music meanwhile); with no phone to ring, it ends."""
        if self.parked.get(slot) is not call or call.end_at is not None:
            return
        del self.parked[slot]
        call.extra.pop("parked", None)
        call.extra["park_timeout"] = slot
        self.cc.publish(Diverted(time.time(), call.id, slot, parker, "park_timeout"))
        if not parker or self.cc.switch.router.directory.get(parker) is None:
            call.finish(Cause.NO_ANSWER, "system")
            return
        self.cc.transfers.send_on(call, Route("extension", parker), parker)

    def unpark_with(self, leg: Channel, slot: str) -> Call:
        """`leg` (a phone that dialled the slot) takes the call parked there."""
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
        self.cc.publish(Diverted(time.time(), call.id, slot, leg_name(leg), "unpark"))
        call.channel_answered(leg)
        return call

    def retrieve_parked(self, device: str, slot: str) -> dict[str, str]:
        """CTI: ring `device`; once answered it takes the call parked at `slot`."""
        call = self.parked.get(slot)
        if call is None or call.end_at is not None:
            raise CallControlError(f"nothing is parked at {slot}")
        phones = self.cc.device_calls
        phones.ring(device, slot, lambda c: phones.move(
            c, lambda leg: self.unpark_with(leg, slot)))
        return {"call": call.id, "ringing": device}

    def call_finished(self, call: Call) -> None:
        for slot, parked in list(self.parked.items()):
            if parked is call:
                del self.parked[slot]
