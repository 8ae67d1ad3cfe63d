"""Calls of more than two parties: adding a party straight away (CTI Conference with a
number), and who carries on when one of three leaves (the mixer goes back to a relay
when two are left)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from firmware.media.bridge import Bridge
from firmware.switch.callcontrol.lookup import CallControlError, bridge_of, leg_name, talking
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel
from firmware.switch.events import Conferenced
from firmware.switch.ringing import RingingLegs

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl

log = logging.getLogger(__name__)


class ThreeWay:
    def __init__(self, cc: CallControl) -> None:
        self.cc = cc

    def conference(self, call_id: str | None, device: str, target: str) -> dict[str, str]:
        """Ring `target` and add it to the call when it answers (no consultation)."""
        cc = self.cc
        call, _ch = cc.lookup.resolve(call_id, device)
        if call.b is None:
            raise CallControlError(f"call {call.id} is not answered")
        route = cc.lookup.target(target)
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
                bridge_of(call).add(leg.media)
            cc.publish(Conferenced(time.time(), call.id, device,
                                   tuple(leg_name(c) for c in talking(call))))

        legs = RingingLegs(answered, lambda cause: log.info(
            "call %s: %s not added: %s", call.id, target, cause.name))
        placed = cc.switch.originate_for(route, call, legs)
        if not placed:
            raise CallControlError(f"{target} cannot be reached now")
        legs.legs = list(placed)
        call.pending.append(legs)
        return {"call": call.id, "adding": target}

    # --- hooks ----------------------------------------------------------------------------
    def leg_hungup(self, call: Call, ch: Channel) -> bool:
        """One party of a 3-way left; True when the others go on."""
        if ch in call.parties:
            call.parties.remove(ch)
            self._leaves(call, ch)
            return True
        if ch is call.b and call.parties:
            # the agent of a 3-way left: the next party takes the agent's place
            self._leaves(call, ch)
            call.b = call.parties.pop(0)
            call.forks = [call.b]
            return True
        return False

    def _leaves(self, call: Call, ch: Channel) -> None:
        call._release_device(ch)
        if ch.media is not None and isinstance(call.bridge, Bridge):
            call.bridge.remove(ch.media)

    def call_finished(self, call: Call) -> None:
        for pending in call.pending:
            pending.cancel()
        for ch in call.parties:
            if not ch.ended:
                ch.hangup(Cause.NORMAL_CLEARING)
