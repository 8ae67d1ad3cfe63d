"""`Channel`: one leg of a call, whatever the driver (SIP, E1 B-channel, FXO port).

The switch talks to every leg through this interface only. A driver turns its own
signalling into the listener callbacks below and turns the switch's commands into
its own signalling; the media side is a `MediaLeg` the media core can bridge.
Commands never block: their outcome arrives later through the listener.
"""

from __future__ import annotations

import itertools
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from firmware.switch.causes import Cause

if TYPE_CHECKING:
    from firmware.media.leg import MediaLeg

log = logging.getLogger(__name__)


class Direction(Enum):
    INBOUND = "in"  # the party called the box
    OUTBOUND = "out"  # the box called the party


class ChannelState(Enum):
    OFFERED = "offered"  # inbound, not answered yet
    DIALING = "dialing"  # outbound, request sent, no answer from the far end yet
    RINGING = "ringing"  # alerting (inbound: we told the caller; outbound: far end rings)
    EARLY = "early"  # early media flowing before answer
    UP = "up"
    ENDED = "ended"


@dataclass(frozen=True)
class Party:
    number: str
    name: str = ""


class ChannelListener(Protocol):
    """What the switch hears from a channel."""

    def channel_ringing(self, ch: Channel) -> None: ...

    def channel_progress(self, ch: Channel) -> None: ...

    def channel_answered(self, ch: Channel) -> None: ...

    def channel_hungup(self, ch: Channel, cause: Cause) -> None: ...

    def channel_dtmf(self, ch: Channel, digit: str) -> None: ...

    def channel_hold(self, ch: Channel, held: bool) -> None:
        """The party on this channel put the call on hold (True) or took it off (False)."""
        ...


_ids = itertools.count(1)


class Channel(ABC):
    tech: str = "?"

    def __init__(self, direction: Direction, caller: Party, called: str) -> None:
        self.id = f"{self.tech}/{next(_ids)}"
        self.direction = direction
        self.caller = caller
        self.called = called
        inbound = direction is Direction.INBOUND
        self._state = ChannelState.OFFERED if inbound else ChannelState.DIALING
        # Told of every state change, synchronously (device state for BLF lamps): a
        # watcher must only note it, never act on the channel from inside the change.
        self.watchers: list[Callable[[Channel], None]] = []
        self.listener: ChannelListener | None = None
        self.created = time.time()
        self.peer_name = ""  # e.g. the extension or trunk behind this leg, for CDRs

    @property
    def state(self) -> ChannelState:
        return self._state

    @state.setter
    def state(self, value: ChannelState) -> None:
        if value is self._state:
            return
        self._state = value
        for watch in self.watchers:
            try:
                watch(self)
            except Exception:  # a broken observer must not break the call
                log.exception("channel watcher %r failed", watch)

    @property
    @abstractmethod
    def media(self) -> MediaLeg | None:
        """The leg's media endpoint; None until the driver has one."""

    # Commands from the switch --------------------------------------------------------
    @abstractmethod
    def ring(self) -> None:
        """Inbound: tell the caller the destination is alerting."""

    @abstractmethod
    def progress(self) -> None:
        """Inbound: open early media towards the caller."""

    @abstractmethod
    def answer(self) -> None:
        """Inbound: connect the call."""

    @abstractmethod
    def hangup(self, cause: Cause) -> None:
        """Any state: reject, cancel or release. Idempotent."""

    @abstractmethod
    def hold(self, held: bool) -> None:
        """Tell this party that the other party put them on hold / took them off."""

    # Helpers for drivers ----------------------------------------------------------------
    @property
    def ended(self) -> bool:
        return self.state is ChannelState.ENDED

    def __repr__(self) -> str:
        return f"<{self.id} {self.caller.number}->{self.called} {self.state.value}>"


class Originator(Protocol):
    """A driver that can place outbound legs (SIP to a registered phone, an E1 trunk…)."""

    def originate(
        self, target: str, caller: Party, listener: ChannelListener
    ) -> Sequence[Channel]:
        """Start calling `target` (every device it has); empty when none is reachable."""
        ...
