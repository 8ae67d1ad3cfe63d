"""In-process event bus of switchd.

Publishing is synchronous and never blocks the call path: subscribers must be quick
(append to a queue, update a counter). Slow consumers such as the CDR writer keep their
own queue and thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from firmware.switch.events import Event

log = logging.getLogger(__name__)

Subscriber = Callable[[Event], None]


class EventBus:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subscribers.append(fn)

        def unsubscribe() -> None:
            if fn in self._subscribers:
                self._subscribers.remove(fn)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for fn in list(self._subscribers):
            try:
                fn(event)
            except Exception:
                # One broken consumer must not take calls down with it.
                log.exception("event subscriber %r failed on %s", fn, type(event).__name__)
