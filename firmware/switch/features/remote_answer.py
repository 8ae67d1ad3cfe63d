"""Remote answer: the desk answers an agent's ringing phone, and click to dial makes the
agent's phone pick up by itself, for extensions whose phones support it (the
`remote_answer` feature, off by default: a phone that does not know the convention
would just keep ringing, or worse, answer nothing and say nothing).

The requests themselves are built sans-I/O in `drivers.sip.remote_answer`; this module
picks the legs and sends through the SIP event server the lamps use.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from drivers.sip.channel import SipChannel
from drivers.sip.remote_answer import auto_answer_header, talk_notify
from drivers.sip.subscribe import Local
from firmware.switch.channel import Channel, ChannelState, Direction

if TYPE_CHECKING:
    from drivers.sip.event_server import SipEventServer

log = logging.getLogger(__name__)

# the phone said it rings (180/183): before that it has nothing to answer, and a talk
# event that overtakes our INVITE (queued for a media port) would be dropped by it
RINGING = (ChannelState.RINGING, ChannelState.EARLY)


class RemoteAnswer:
    def __init__(self, allowed: Callable[[str], bool],
                 events: Callable[[], SipEventServer | None]) -> None:
        self._allowed = allowed
        self._events = events

    def allowed(self, extension: str) -> bool:
        """The admin says this extension's phone can be answered from here."""
        return self._allowed(extension)

    def answer(self, leg: Channel) -> bool:
        """Ask the phone behind a leg of ours to answer it (NOTIFY Event: talk): now if it
        rings, else as soon as it does. False when this leg cannot be (not a SIP leg we
        placed, already answered or gone)."""
        if (self._events() is None or not isinstance(leg, SipChannel)
                or leg.direction is not Direction.OUTBOUND
                or leg.state in (ChannelState.UP, ChannelState.ENDED)):
            return False
        if leg.state in RINGING:
            self._send(leg)
            return True
        sent = False

        def once_ringing(ch: Channel) -> None:
            # a watcher only notes (the state is changing under it): send right after
            nonlocal sent
            if not sent and ch.state in RINGING and isinstance(ch, SipChannel):
                sent = True
                asyncio.get_running_loop().call_soon(self._send, ch)

        leg.watchers.append(once_ringing)
        log.info("remote answer: %s answers %s once it rings", leg.peer_name, leg.call_id)
        return True

    def _send(self, leg: SipChannel) -> None:
        events = self._events()
        if events is None or leg.state not in RINGING or not leg.remote_target:
            return
        ep = events.ep
        req = talk_notify(leg.remote_target, leg.local_uri, leg.remote_uri, leg.dest,
                          Local(ep.via, ep.contact, ep.user_agent))
        events.send_notify(req, leg.dest)
        log.info("remote answer: NOTIFY Event: talk to %s (%s) for %s", leg.peer_name,
                 leg.remote_target, leg.call_id)

    def auto_answer(self, legs: Iterable[Channel]) -> int:
        """Mark the box's INVITEs to a phone so it picks up by itself (click to dial);
        call before the INVITEs leave (right after originate). Returns how many."""
        n = 0
        for leg in legs:
            if isinstance(leg, SipChannel) and leg.invite_ctxn is None:
                leg.invite_headers.append(auto_answer_header(leg.local_host))
                n += 1
        return n
