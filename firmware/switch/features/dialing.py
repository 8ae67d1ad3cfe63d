"""Runs a `Hunt` on a live `Call`: places the legs of each step, times it, and on failure
asks the hunt for the next step (a forward, the next ring-group member, voicemail).

The `Call` stays the listener of every leg, so the first answer is bridged and
recorded as any answered call; the run only decides what rings when, through the
call's `on_unanswered` hook and its ring timer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from firmware.switch.causes import Cause
from firmware.switch.channel import Channel
from firmware.switch.core import _codecs_for
from firmware.switch.events import Diverted
from firmware.switch.features.hunt import GiveUp, Hunt, Leg, Ring, Step, ToVoicemail

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.core import Switch

log = logging.getLogger(__name__)

# starts a voicemail deposit: (call, mailbox, "busy"/"unavailable") -> a cause if it cannot
Deposit = Callable[["Call", str, str], Cause | None]


class HuntRun:
    def __init__(self, switch: Switch, call: Call, hunt: Hunt, deposit: Deposit) -> None:
        self.switch = switch
        self.call = call
        self.hunt = hunt
        self.deposit = deposit
        self.loop = asyncio.get_running_loop()
        self._timers: list[asyncio.TimerHandle] = []
        self._told = 0  # diversions already published

    def start(self, number: str) -> Cause | None:
        return self._go(self.hunt.start(number))

    def _go(self, step: Step) -> Cause | None:
        call = self.call
        while True:
            self._note()
            if isinstance(step, GiveUp):
                call.on_unanswered = None
                return step.cause
            if isinstance(step, ToVoicemail):
                call.on_unanswered = None
                return self.deposit(call, step.box, step.reason)
            legs, failure = self._place(step.legs)
            later = step.later
            if not legs and later:  # the desk phone is not there: the mobile at once
                legs, failure = self._place(later)
                later = ()
            if not legs:
                log.info("call %s: nothing to ring for %s (%s)", call.id, step.owner,
                         failure.name)
                step = self.hunt.failed(failure)
                continue
            self._ring(step, legs, later)
            return None

    def _ring(self, step: Ring, legs: list[Channel], later: Sequence[Leg]) -> None:
        call = self.call
        call.dial(legs)
        call.on_unanswered = self._failed
        self._timers = [self.loop.call_later(step.timeout, self._no_answer)]
        if later:
            self._timers.append(self.loop.call_later(step.later_after, self._ring_later,
                                                     tuple(later)))
        call.ring_timer = self._cancel

    def _place(self, legs: Sequence[Leg]) -> tuple[list[Channel], Cause]:
        call, sw = self.call, self.switch
        out: list[Channel] = []
        failure = Cause.SUBSCRIBER_ABSENT
        for leg in legs:
            if leg.kind == "trunk":
                placed = (sw.trunks.originate(leg.number, call.a.caller, call)
                          if sw.trunks is not None else [])
                if not placed:
                    failure = Cause.NO_CIRCUIT_AVAILABLE
            else:
                placed = sw.extensions.originate(leg.number, call.a.caller, call,
                                                 _codecs_for(call.a))
            out += placed
        return out, failure

    def _ring_later(self, legs: tuple[Leg, ...]) -> None:
        call = self.call
        if call.b is not None or call.end_at is not None or not call.forks:
            return
        placed, _ = self._place(legs)
        call.forks.extend(placed)

    def _no_answer(self) -> None:
        self._cancel()
        self.call.ring_timeout()  # hangs up what rings, then asks `_failed`

    def _cancel(self) -> None:
        for t in self._timers:
            t.cancel()
        self._timers = []

    def _failed(self, cause: Cause) -> bool:
        """Call.on_unanswered: every leg of the step failed."""
        self._cancel()
        self.call.reset_dialing()
        return self._go(self.hunt.failed(cause)) is None

    def _note(self) -> None:
        """The call record and the bus learn of each forward."""
        diversions = self.hunt.diversions
        if not diversions:
            return
        self.call.extra["forward"] = ",".join(str(d) for d in diversions)
        now = time.time()
        for d in diversions[self._told:]:
            self.call.publish(Diverted(now, self.call.id, d.source, d.target,
                                       f"forward-{d.reason}"))
        self._told = len(diversions)
