"""Numbers a phone dials that call control answers: conference rooms (6000-6099, also
from trunks), and from phones only `*8` / `*8`+ext pickup, park slots 701-720, and
`*51`/`*52`/`*53`+ext supervision. A refused code says why (prompt, or cause before
answering) and the call record keeps the reason."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from firmware.switch.callcontrol.dialplan import MONITOR_CODES, PARK_SLOTS, PICKUP, ROOMS
from firmware.switch.callcontrol.lookup import CallControlError, device_of
from firmware.switch.causes import Cause

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl

log = logging.getLogger(__name__)


class DialledCodes:
    def __init__(self, cc: CallControl) -> None:
        self.cc = cc

    def dialled(self, call: Call) -> bool:
        """A new call to a feature code or a room: handled here (True) or not ours."""
        cc = self.cc
        phones = cc.device_calls
        ch = call.a
        number = ch.called.strip()
        from_phone = ch.tech == "sip"
        try:
            if ROOMS.fullmatch(number) and cc.conference_rooms.is_room(number):
                phones.answer(call)
                cc.conference_rooms.ask_pin(call, number)
                return True
            if not from_phone:
                return False
            if number == PICKUP or (number.startswith(PICKUP) and number[2:].isdigit()):
                cc.pickups.pickup_with(ch, number[2:] or None)
                phones.absorbed(call)
                return True
            if number in PARK_SLOTS:
                cc.parking.unpark_with(ch, number)
                phones.absorbed(call)
                return True
            mode = MONITOR_CODES.get(number[:3])
            if mode is not None and number[3:].isdigit():
                # refused before answering
                cc.supervision.target_call(device_of(ch), number[3:])
                phones.answer(call)
                cc.supervision.monitor_with(call, number[3:], mode)
                return True
        except CallControlError as e:
            log.info("call %s to %s: %s", call.id, number, e)
            call.extra["feature_error"] = str(e)
            if call.answer_at is not None and not ch.ended:
                cc.announcer.then_finish(call, ["feature_failed"])
            else:
                call.finish(Cause.CALL_REJECTED if "may not" in str(e)
                            else Cause.UNALLOCATED_NUMBER, "system")
            return True
        return False
