"""`FxoChannel`: one call on one FXO port, as the switch's `Channel`.

Inbound: the line offers the call with the caller ID it collected; `called` is the
number the port is configured to deliver to (an analog line has no DID). ring() and
progress() signal nothing (the exchange rings the caller itself); answer() goes off
hook; hangup() goes on hook, or before the answer lets the rings run out. Outbound:
the trunk seizes the port and dials; PROGRESS when the digits are out, answered when
the exchange says so (polarity) or, without answer supervision, at once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from drivers.fxo.leg import FxoLeg
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelState, Direction, Party

if TYPE_CHECKING:
    from drivers.fxo.trunk import FxoPortState
    from firmware.media.leg import MediaLeg

log = logging.getLogger(__name__)


class FxoChannel(Channel):
    tech = "fxo"

    def __init__(self, port: FxoPortState, direction: Direction, caller: Party,
                 called: str) -> None:
        super().__init__(direction, caller, called)
        self.port = port
        self.leg: FxoLeg = port.leg
        self.peer_name = port.name
        self.disconnect_reason = ""
        self.leg.on_dtmf = self._dtmf

    @property
    def media(self) -> MediaLeg | None:
        return None if self.ended or self.leg.closed else self.leg

    # Commands from the switch ----------------------------------------------------------
    def ring(self) -> None:
        if self.direction is Direction.INBOUND and self.state is ChannelState.OFFERED:
            self.state = ChannelState.RINGING

    def progress(self) -> None:
        # no early media on a loop-start line: it would mean answering (and charging)
        pass

    def answer(self) -> None:
        if self.direction is Direction.INBOUND and self.state not in (ChannelState.UP,
                                                                      ChannelState.ENDED):
            self.state = ChannelState.UP
            self.port.answer()

    def hangup(self, cause: Cause) -> None:
        if self.state is ChannelState.ENDED:
            return
        self.state = ChannelState.ENDED
        self.port.hangup()
        self._release()

    def hold(self, held: bool) -> None:
        pass  # nothing to signal on an analog line; the switch plays music on hold

    # Events from the line ----------------------------------------------------------------
    def far_end_progress(self) -> None:
        if self.direction is Direction.OUTBOUND and self.state is ChannelState.DIALING:
            self.state = ChannelState.EARLY
            if self.listener:
                self.listener.channel_progress(self)

    def far_end_answered(self) -> None:
        if self.direction is Direction.OUTBOUND and self.state is not ChannelState.ENDED:
            self.state = ChannelState.UP
            if self.listener:
                self.listener.channel_answered(self)

    def far_end_hangup(self, cause: Cause, reason: str) -> None:
        if self.state is ChannelState.ENDED:
            return
        self.state = ChannelState.ENDED
        self.disconnect_reason = reason
        extra = getattr(self.listener, "extra", None)
        if isinstance(extra, dict) and reason:
            extra["fxo_disconnect"] = reason  # for the call record: how the line ended
        self._release()
        if self.listener:
            self.listener.channel_hungup(self, cause)

    def _dtmf(self, digit: str) -> None:
        if self.listener is not None and self.state is ChannelState.UP:
            self.listener.channel_dtmf(self, digit)

    def _release(self) -> None:
        self.leg.end_call()
        self.port.released(self)
