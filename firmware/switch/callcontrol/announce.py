"""Prompts call control plays to one leg (the park slot, a PIN request, a failed code),
then maybe hangs up the leg or ends the call."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from firmware.media.player import PromptPlayer
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.core import Switch


class Announcer:
    def __init__(self, switch: Switch) -> None:
        self.switch = switch

    def player(self, ch: Channel) -> PromptPlayer | None:
        """A prompt player speaking into `ch`'s media (None: nothing to play into)."""
        from firmware.media.engine import RtpLeg
        from firmware.media.frame_leg import FrameLeg

        loop = asyncio.get_running_loop()
        leg = ch.media
        if isinstance(leg, RtpLeg) and leg.codec is not None:
            return PromptPlayer(loop, leg.send_audio, leg.codec)
        if isinstance(leg, FrameLeg):
            return PromptPlayer(loop, leg.write, leg.codec)
        return None

    def then_hangup(self, ch: Channel, prompts: list[str]) -> None:
        player = self.player(ch)
        if player is None or self.switch.ivr is None:
            ch.hangup(Cause.NORMAL_CLEARING)
            return
        files = [self.switch.ivr.prompts.path(p) for p in prompts]
        player.play(files, lambda: ch.hangup(Cause.NORMAL_CLEARING))

    def then_finish(self, call: Call, prompts: list[str],
                    cause: Cause = Cause.NORMAL_CLEARING) -> None:
        player = self.player(call.a)
        if player is None or self.switch.ivr is None:
            call.finish(cause, "system")
            return
        files = [self.switch.ivr.prompts.path(p) for p in prompts]
        player.play(files, lambda: call.finish(cause, "system"))
