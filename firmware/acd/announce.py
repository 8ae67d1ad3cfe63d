"""What a waiting caller hears: estimated wait and the announcement schedule.

    EWT = ceil(position × AHT / staffed)

position counts the caller itself (1 = next); AHT is the queue's rolling average handle
time (talk + wrap-up) over its last `aht_window` handled calls, or `default_aht` before
any; staffed is the members logged in and working (ready, ringing, on a call or in
wrap-up — not-ready agents will not free up for this caller). With N agents each
finishing a call every AHT seconds on average, a seat frees every AHT/N seconds and the
caller at position p needs p of them. No staffed agent: no estimate (position only).
"""

from __future__ import annotations

import math


def estimated_wait(position: int, aht: float, staffed: int) -> int | None:
    if staffed <= 0 or position <= 0:
        return None
    return math.ceil(position * aht / staffed)


def next_slot(slot: float, every: float, now: float) -> float | None:
    """The first multiple of `every` after `now`, counted from `slot` (a late timer skips
    the announcements it missed rather than playing them back to back)."""
    if every <= 0:
        return None
    return slot + every * (math.floor((now - slot) / every) + 1)
