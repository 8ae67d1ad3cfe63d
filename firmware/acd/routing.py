"""Smart-routing memory: who served a number last (智能路由), who called it out (总机溯源).

Only the newest agent per number and kind is kept, in memory; the switch persists the
history and replays it at start-up as CallServed/OutboundCallMade events.
"""

from __future__ import annotations

DAY = 86400.0
_PRUNE_EVERY = 1024  # insertions between sweeps of expired numbers


class RoutingMemory:
    def __init__(self, served_days: float, outbound_days: float) -> None:
        self._windows = {"served": served_days * DAY, "outbound": outbound_days * DAY}
        self._memory: dict[str, dict[str, tuple[str, float]]] = {"served": {}, "outbound": {}}
        self._inserts = 0

    def set_windows(self, served_days: float, outbound_days: float) -> None:
        self._windows = {"served": served_days * DAY, "outbound": outbound_days * DAY}

    def served(self, number: str, agent: str, now: float) -> None:
        self._remember("served", number, agent, now)

    def called_out(self, number: str, agent: str, now: float) -> None:
        self._remember("outbound", number, agent, now)

    def preferred(self, number: str, now: float, *, served: bool, outbound: bool) -> str | None:
        """The agent to try first for `number`: of the kinds asked for and still within
        their window, the most recent contact wins (the last person the customer spoke to
        is the one they expect)."""
        best: tuple[float, str] | None = None
        for kind, wanted in (("served", served), ("outbound", outbound)):
            hit = self._memory[kind].get(number) if wanted else None
            if hit is None:
                continue
            agent, when = hit
            if now - when > self._windows[kind]:
                continue
            if best is None or when > best[0]:
                best = (when, agent)
        return best[1] if best else None

    def _remember(self, kind: str, number: str, agent: str, now: float) -> None:
        if not number:
            return  # withheld numbers identify nobody
        table = self._memory[kind]
        old = table.get(number)
        if old is None or old[1] <= now:  # history may be replayed out of order
            table[number] = (agent, now)
        self._inserts += 1
        if self._inserts % _PRUNE_EVERY == 0:
            self.prune(now)

    def prune(self, now: float) -> None:
        for kind, table in self._memory.items():
            window = self._windows[kind]
            for number in [n for n, (_, when) in table.items() if now - when > window]:
                del table[number]
