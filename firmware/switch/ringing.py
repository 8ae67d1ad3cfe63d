"""Listeners of legs the box rings before they belong to a call: an ACD offer, a
consultation, a supervisor's or a click-to-dial phone, a party being added.

The rule is the same everywhere: the first leg to answer wins and the others are
released (a phone registered twice rings twice); when every leg has gone without an
answer, the attempt failed. Subclasses say what winning and failing mean.
"""

from __future__ import annotations

from collections.abc import Callable

from firmware.switch.causes import Cause
from firmware.switch.channel import Channel


class QuietListener:
    """A channel listener that ignores everything; subclasses take what they need."""

    def channel_ringing(self, ch: Channel) -> None:
        pass

    def channel_progress(self, ch: Channel) -> None:
        pass

    def channel_answered(self, ch: Channel) -> None:
        pass

    def channel_hungup(self, ch: Channel, cause: Cause) -> None:
        pass

    def channel_dtmf(self, ch: Channel, digit: str) -> None:
        pass

    def channel_hold(self, ch: Channel, held: bool) -> None:
        pass


class RingingLegs(QuietListener):
    """The legs of one attempt to reach someone. `won(leg)` runs for the first answer,
    `lost(cause)` once when the last leg went without one (or after it, when the
    answered leg itself went while this still listened)."""

    def __init__(self, on_answer: Callable[[Channel], None] | None = None,
                 on_fail: Callable[[Cause], None] | None = None) -> None:
        self.on_answer = on_answer
        self.on_fail = on_fail
        self.legs: list[Channel] = []
        self.answered: Channel | None = None
        self.done = False  # cancelled, or failed: every later answer is released
        self.causes: list[Cause] = []

    def channel_answered(self, ch: Channel) -> None:
        if self.done or self.answered is not None:
            ch.hangup(Cause.NON_SELECTED_USER_CLEARING)
            return
        self.answered = ch
        for other in self.legs:
            if other is not ch:
                other.hangup(Cause.NON_SELECTED_USER_CLEARING)
        self.legs = [ch]
        self.won(ch)

    def channel_hungup(self, ch: Channel, cause: Cause) -> None:
        if ch in self.legs:
            self.legs.remove(ch)
        self.causes.append(cause)
        if self.done or self.legs:
            return
        self.done = True
        self.lost(cause)

    def cancel(self, cause: Cause = Cause.ORIGINATOR_CANCEL) -> None:
        """Stop: release what still rings (with `cause`) and an answered leg."""
        self.done = True
        for leg in list(self.legs):
            leg.hangup(cause if leg is not self.answered else Cause.NORMAL_CLEARING)

    def won(self, ch: Channel) -> None:
        if self.on_answer is not None:
            self.on_answer(ch)

    def lost(self, cause: Cause) -> None:
        if self.on_fail is not None:
            self.on_fail(cause)
