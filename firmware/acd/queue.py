"""Runtime state of one queue: its members, its waiting entries in service order, and
the per-queue memory the strategies need (calls answered, round-robin pointer, AHT)."""

from __future__ import annotations

import bisect
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from firmware.acd.config import Member, QueueConfig


@dataclass(eq=False)
class QueueEntry:
    """A caller waiting (or a callback request keeping a caller's place)."""

    call_id: str
    queue: str
    caller_number: str
    priority: int
    skills: Mapping[str, int]
    joined_at: float
    seq: int  # global arrival order: FIFO within a priority
    orig_position: int = 0
    callback: bool = False
    offers: dict[str, float] = field(default_factory=dict)  # agent -> ringing since
    offer_deadline: float | None = None
    tried: set[str] = field(default_factory=set)  # agents offered in this round
    last_fail_at: float | None = None
    retry_at: float | None = None  # next round, when every eligible agent was tried
    exit_at: float | None = None  # max wait
    widen_at: float | None = None  # skills: when more agents qualify
    next_announce: float | None = None
    next_periodic: float | None = None
    preferred: str | None = None  # smart routing: try this agent first

    def sort_key(self) -> tuple[int, int]:
        # Higher priority first, then arrival order; a callback keeps both.
        return (-self.priority, self.seq)

    def due(self) -> float | None:
        """The entry's earliest timer (all of them live here, so next_timer is a scan of
        plain fields)."""
        times = [t for t in (self.offer_deadline, self.retry_at, self.exit_at, self.widen_at,
                             self.next_announce, self.next_periodic) if t is not None]
        return min(times, default=None)


class Queue:
    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self.name = config.name
        self.members: dict[str, Member] = {m.agent: m for m in config.members}
        self._entries: list[QueueEntry] = []
        self.calls: Counter[str] = Counter()  # answered per agent, for least-calls
        self.rr_last: str | None = None  # round-robin memory: the agent offered last
        self._handle_times: deque[float] = deque(maxlen=config.aht_window)

    # -- entries -------------------------------------------------------------------------

    @property
    def entries(self) -> Sequence[QueueEntry]:
        return self._entries

    def insert(self, entry: QueueEntry) -> int:
        bisect.insort(self._entries, entry, key=QueueEntry.sort_key)
        return self.position(entry)

    def remove(self, entry: QueueEntry) -> None:
        self._entries.remove(entry)

    def position(self, entry: QueueEntry) -> int:
        return self._entries.index(entry) + 1

    # -- members -------------------------------------------------------------------------

    def add_member(self, member: Member) -> None:
        self.members[member.agent] = member

    def remove_member(self, agent: str) -> None:
        order = list(self.members)
        if self.rr_last == agent:
            # The next round-robin offer goes to whoever followed the removed agent.
            i = order.index(agent)
            self.rr_last = order[i - 1] if len(order) > 1 else None
        del self.members[agent]

    def set_members(self, members: Sequence[Member]) -> None:
        """The configured members, in the configured order (linear and ties use it)."""
        self.members = {m.agent: m for m in members}
        if self.rr_last is not None and self.rr_last not in self.members:
            self.rr_last = None

    def reconfigure(self, config: QueueConfig) -> None:
        """New settings; callers, statistics memory and handle times are kept."""
        self.config = config
        if config.aht_window != self._handle_times.maxlen:
            self._handle_times = deque(self._handle_times, maxlen=config.aht_window)

    # -- handle time (for the estimated wait) ---------------------------------------------

    def record_handle(self, seconds: float) -> None:
        self._handle_times.append(seconds)

    def aht(self) -> float:
        if not self._handle_times:
            return self.config.default_aht
        return sum(self._handle_times) / len(self._handle_times)
