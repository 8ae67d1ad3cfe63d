"""Overload protection: refuse new calls with 503 while the event loop is behind.

When switchd's loop falls behind, every call on the box suffers: RTP relays late, SIP
retransmissions pile onto the backlog and calls already up time out. Turning new
INVITEs away early (RFC 3261 21.5.4: 503 with Retry-After, so a trunk or phone tries
another server or later) keeps the calls in progress healthy.

`LoadGuard` is sans-I/O: it is fed the loop's lateness samples and says whether to shed.
`watch_loop_lag` is the thin asyncio adapter that measures lateness.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class LoadGuard:
    """Shed while the smoothed loop lag is above `high`, until it falls below `low`."""

    high: float = 0.050  # s of lateness of a 20 ms timer: a call's jitter budget is gone
    low: float = 0.010
    # weight of the newest sample: ~130 ms of memory, so one pause (a full garbage
    # collection takes 100-200 ms with 3 000 calls' SIP transactions in the heap) does
    # not turn away the calls that arrived during it, but a loop that stays late does
    alpha: float = 0.15
    lag: float = 0.0
    shedding: bool = False
    shed_count: int = 0
    episodes: int = 0

    def observe(self, lag: float) -> bool:
        """Feed one lateness sample (s); True when the shedding state changed."""
        self.lag += self.alpha * (max(0.0, lag) - self.lag)
        if not self.shedding and self.lag > self.high:
            self.shedding = True
            self.episodes += 1
            return True
        if self.shedding and self.lag < self.low:
            self.shedding = False
            return True
        return False

    def refuse(self) -> bool:
        """Ask before accepting a new call; counts the refusals."""
        if self.shedding:
            self.shed_count += 1
        return self.shedding


async def watch_loop_lag(guard: LoadGuard, interval: float = 0.020) -> None:
    """Sample how late a periodic timer fires and feed it to `guard`, forever."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + interval
        await asyncio.sleep(interval)
        if guard.observe(loop.time() - due):
            if guard.shedding:
                log.warning("switchd is overloaded (loop %.0f ms late): refusing new calls "
                            "with 503 until it recovers", guard.lag * 1000)
            else:
                log.warning("switchd recovered: accepting new calls again (%d refused)",
                            guard.shed_count)
