"""Today's queue figures for CTI clients (wallboard, supervisor view), computed with the
same exact definitions as reports (`firmware.acd.stats`, decision 0009)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from firmware.acd.queuelog import QueueLogRecord
from firmware.acd.stats import QueueStats, queue_stats

# Service level "answered within 20 s" and short abandons under 5 s: the ACD's
# defaults (0009); the site configuration has no per-queue setting for them yet.
SL_THRESHOLD = 20.0
SHORT_ABANDON = 5.0
ALL = "*"  # the figures of every queue together


def _num(value: float | None, digits: int = 3) -> float | None:
    if value is None or math.isnan(value):
        return None
    return round(value, digits)


def figures(stats: QueueStats) -> dict[str, Any]:
    return {
        "offered": stats.offered, "answered": stats.answered,
        "answered_within": stats.answered_within, "abandoned": stats.abandoned,
        "short_abandoned": stats.short_abandoned, "timed_out": stats.timed_out,
        "completed": stats.completed, "service_level": _num(stats.service_level),
        "asa": _num(stats.asa, 1), "aht": _num(stats.aht, 1),
        "abandonment_rate": _num(stats.abandonment_rate),
        "sl_threshold": SL_THRESHOLD,
    }


def queue_figures(records: Sequence[QueueLogRecord], queues: Iterable[str]
                  ) -> dict[str, dict[str, Any]]:
    """Queue name -> figures, plus ALL for every queue together."""
    by_queue: dict[str, list[QueueLogRecord]] = {q: [] for q in queues}
    for r in records:  # one pass, not one per queue: this runs every second while busy
        group = by_queue.get(r.queue)
        if group is not None:
            group.append(r)
    out = {q: figures(queue_stats(rs, sl_threshold=SL_THRESHOLD,
                                  short_abandon=SHORT_ABANDON)) for q, rs in by_queue.items()}
    out[ALL] = figures(queue_stats(records, sl_threshold=SL_THRESHOLD,
                                   short_abandon=SHORT_ABANDON))
    return out
