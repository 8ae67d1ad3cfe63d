"""Call pickup: `*8` takes the oldest call ringing another phone, `*8` + extension the
one ringing that extension; CTI rings the picker's phone first."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from firmware.switch.callcontrol.lookup import CallControlError, device_of
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel
from firmware.switch.events import Diverted

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl


class Pickup:
    def __init__(self, cc: CallControl) -> None:
        self.cc = cc

    def ringing_calls(self, device: str | None = None) -> list[Call]:
        """Calls ringing phones (at `device`, or anywhere), oldest first."""
        out = []
        for call in self.cc.switch.calls.values():
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
        self.cc.publish(Diverted(time.time(), call.id, rung, mine, "pickup"))
        call.channel_answered(leg)
        return call

    def pickup(self, device: str, target: str | None = None) -> dict[str, str]:
        """CTI: ring `device`; once answered it takes the call ringing at `target` (or the
        oldest ringing call of its group)."""
        calls = [c for c in self.ringing_calls(target or None)
                 if all(f.peer_name != device for f in c.forks)]
        if not calls:
            raise CallControlError(f"no call is ringing{' at ' + target if target else ''}")
        phones = self.cc.device_calls
        phones.ring(device, "*8" + (target or ""), lambda call: phones.move(
            call, lambda leg: self.pickup_with(leg, target or None)))
        return {"call": calls[0].id, "ringing": device}
