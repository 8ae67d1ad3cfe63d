"""Hold and retrieve by the box (the held party hears music on hold), a phone's own hold,
and clearing one party or the whole call (CSTA ClearConnection / ClearCall)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from firmware.media.bridge import Bridge
from firmware.switch.callcontrol.lookup import CallControlError, bridge_of, leg_name, other_party
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel
from firmware.switch.events import Held, Retrieved

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl


class Holding:
    def __init__(self, cc: CallControl) -> None:
        self.cc = cc

    def hold(self, call_id: str | None, device: str) -> dict[str, str]:
        """`device` holds its call: the other party hears music on hold."""
        call, ch = self.cc.lookup.resolve(call_id, device)
        other = other_party(call, ch)
        bridge = bridge_of(call)
        if other.media is None or bridge.held(other.media):
            raise CallControlError(f"{leg_name(other)} is already on hold")
        bridge.hold(other.media, True)
        other.hold(True)
        call.held_by.add(call.party(ch))
        self.cc.publish(Held(time.time(), call.id, other.id, leg_name(ch)))
        return {"call": call.id, "held": leg_name(other)}

    def retrieve(self, call_id: str | None, device: str) -> dict[str, str]:
        call, ch = self.cc.lookup.resolve(call_id, device)
        if call.id in self.cc.consults:
            raise CallControlError("finish or cancel the consultation first")
        other = other_party(call, ch)
        bridge = bridge_of(call)
        if other.media is None or not bridge.held(other.media):
            raise CallControlError(f"{leg_name(other)} is not on hold")
        bridge.hold(other.media, False)
        other.hold(False)
        call.held_by.discard(call.party(ch))
        self.cc.publish(Retrieved(time.time(), call.id, other.id, leg_name(ch)))
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
        call, ch = self.cc.lookup.resolve(call_id, device)
        listener = ch.listener  # before the hangup: an ended SIP leg lets its call go
        ch.hangup(Cause.NORMAL_CLEARING)
        if listener is not None:
            listener.channel_hungup(ch, Cause.NORMAL_CLEARING)
        return {"call": call.id, "cleared": leg_name(ch)}

    def clear_call(self, call_id: str) -> dict[str, str]:
        """CSTA ClearCall: end the whole call for everyone."""
        call = self.cc.lookup.call(call_id)
        call.finish(Cause.NORMAL_CLEARING, "system")
        return {"call": call.id, "cleared": "all"}
