"""`PriChannel`: one call on one B-channel of a PRI span, as the switch's `Channel`.

Inbound: a SETUP (`Ring`) becomes a channel offered to the switch with the calling
number as the caller and the called number as dialled; ring() sends ALERTING, progress()
PROGRESS, answer() CONNECT, hangup(cause) DISCONNECT with that Q.850 cause (ISDN
speaks Q.850 natively, so causes cross unchanged). Outbound: the trunk's originator
sends SETUP; PROCEEDING/ALERTING/CONNECT/DISCONNECT come back as listener callbacks.
The media is the B-channel's `FrameLeg` for the life of the call.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from drivers.dahdi.pri_events import PriCall
from firmware.media.frame_leg import FrameLeg
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelState, Direction, Party

if TYPE_CHECKING:
    from drivers.dahdi.pri_trunk import PriTrunk
    from firmware.media.leg import MediaLeg

log = logging.getLogger(__name__)


def to_cause(value: int) -> Cause:
    try:
        return Cause(value)
    except ValueError:
        # a Q.850 value the switch has no name for: keep the class, not the detail
        return Cause.NORMAL_UNSPECIFIED if value < 32 else Cause.INTERWORKING


class PriChannel(Channel):
    tech = "pri"

    def __init__(
        self,
        trunk: PriTrunk,
        call: PriCall,
        direction: Direction,
        caller: Party,
        called: str,
        leg: FrameLeg,
    ) -> None:
        super().__init__(direction, caller, called)
        self.trunk = trunk
        self.call = call
        self.timeslot = call.channel or 0
        self.leg = leg
        self.peer_name = f"{trunk.name}/{self.timeslot}"
        self.caller_ton = 0  # Q.931 type of number of the caller (2 national, 1 international)
        call.tag = self
        leg.on_dtmf = self._dtmf

    @property
    def media(self) -> MediaLeg | None:
        return None if self.leg.closed else self.leg

    # Commands from the switch --------------------------------------------------------------
    def ring(self) -> None:
        if self.direction is Direction.INBOUND and self.state is ChannelState.OFFERED:
            self.state = ChannelState.RINGING
            # no in-band ringback from us (yet): the network plays its own
            self.trunk.span.ringing(self.call, inband=False)
            self.trunk.flush()

    def progress(self) -> None:
        if self.direction is Direction.INBOUND and self.state in (ChannelState.OFFERED,
                                                                  ChannelState.RINGING):
            self.state = ChannelState.EARLY
            self.trunk.span.progress(self.call)
            self.trunk.flush()

    def answer(self) -> None:
        if self.direction is Direction.INBOUND and self.state not in (ChannelState.UP,
                                                                      ChannelState.ENDED):
            self.state = ChannelState.UP
            self.trunk.span.answer(self.call)
            self.trunk.flush()

    def hangup(self, cause: Cause) -> None:
        if self.state is ChannelState.ENDED:
            return
        self.state = ChannelState.ENDED
        # ORIGINATOR_CANCEL is the switch's own word for "caller gave up": on the wire
        # that is a normal clearing.
        q850 = Cause.NORMAL_CLEARING if cause is Cause.ORIGINATOR_CANCEL else cause
        self.trunk.span.hangup(self.call, int(q850))
        self.trunk.flush()
        self._release()

    def hold(self, held: bool) -> None:
        # A PRI trunk call is not put on hold towards the network; the switch plays
        # music on hold into the B-channel instead (later). Nothing to signal.
        pass

    # Events from the trunk -------------------------------------------------------------------
    def far_end_ringing(self) -> None:
        if self.direction is Direction.OUTBOUND and self.state is ChannelState.DIALING:
            self.state = ChannelState.RINGING
            if self.listener:
                self.listener.channel_ringing(self)

    def far_end_progress(self) -> None:
        if self.direction is Direction.OUTBOUND and self.state in (ChannelState.DIALING,
                                                                   ChannelState.RINGING):
            self.state = ChannelState.EARLY
            if self.listener:
                self.listener.channel_progress(self)

    def far_end_answered(self) -> None:
        if self.direction is Direction.OUTBOUND and self.state is not ChannelState.ENDED:
            self.state = ChannelState.UP
            if self.listener:
                self.listener.channel_answered(self)

    def far_end_hangup(self, cause: int) -> None:
        if self.state is ChannelState.ENDED:
            return
        self.state = ChannelState.ENDED
        self._release()
        if self.listener:
            self.listener.channel_hungup(self, to_cause(cause))

    def _dtmf(self, digit: str) -> None:
        if self.listener is not None and not self.ended:
            self.listener.channel_dtmf(self, digit)

    def _release(self) -> None:
        self.leg.close()
        self.trunk.released(self)
