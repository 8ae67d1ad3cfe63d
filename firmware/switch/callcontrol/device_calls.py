"""Calls between the box and one phone that serve a call-control request: the box
answers a dialled code (a room, a monitor session), rings a phone for a CTI request
(monitor, pickup, unpark) and starts a call on its answered leg, or hands a dialling
phone's only leg to another call and forgets the dialling call."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from firmware.switch.callcontrol.lookup import CallControlError, leg_name
from firmware.switch.channel import Channel, Party
from firmware.switch.ringing import RingingLegs

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl

log = logging.getLogger(__name__)


class DeviceCalls:
    def __init__(self, cc: CallControl) -> None:
        self.cc = cc

    def answer(self, call: Call) -> None:
        """The box answers the dialling phone itself (a room's PIN, a monitor)."""
        call.answer_at = call.answer_at or time.time()
        call.a.answer()
        call.mark_in_use(call.a)

    def absorbed(self, call: Call) -> None:
        """The dialled call's only leg now belongs to another call: forget the shell."""
        call.end_at = time.time()
        self.cc.switch.calls.pop(call.id, None)

    def ring(self, device: str, called: str, then: Callable[[Call], None]) -> None:
        """Ring `device`'s phone; once answered, a new call on that leg runs `then`."""
        switch = self.cc.switch
        if switch.router.directory.get(device) is None:
            raise CallControlError(f"{device} is not an extension")

        def answered(leg: Channel) -> None:
            call = switch.device_call(leg, called)
            call.answer_at = time.time()
            call.mark_in_use(leg)
            then(call)

        legs = RingingLegs(answered, lambda cause: log.info("%s did not answer: %s", device,
                                                            cause.name))
        placed = switch.originate_extension_for(device, Party(called), legs)
        if not placed:
            raise CallControlError(f"{device} is not registered")
        legs.legs = list(placed)

    def move(self, shell: Call, into: Callable[[Channel], Call]) -> None:
        """The answered phone of `shell` goes into another call (`into`); if that is no
        longer possible, it hears why and the shell ends."""
        try:
            into(shell.a)
        except CallControlError as e:
            log.info("%s: %s", leg_name(shell.a), e)
            shell.extra["feature_error"] = str(e)
            self.cc.announcer.then_finish(shell, ["feature_failed"])
            return
        self.absorbed(shell)
