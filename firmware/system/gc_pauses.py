"""Garbage-collector pauses of a daemon whose event loop carries live calls.

A full (generation 2) collection walks every tracked object while holding the GIL: in
switchd, with thousands of objects per call and the long-lived ones (configuration,
prompts, code) in the same heap, one pause can exceed a call's 20 ms frame budget many
times over and trip the overload guard. `freeze_startup_objects` moves everything that
exists once the daemon is ready into the permanent generation (gc.freeze), so later
collections walk only what calls created. `watch_pauses` logs a collection that paused
the process longer than `warn_after` seconds, so a latency episode can be told apart
from the other causes (CPU steal, the disk, the loop's own work).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def freeze_startup_objects() -> int:
    """Collect once, then exempt every surviving object from later collections."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


GcCallback = Callable[[str, dict[str, int]], None]


def watch_pauses(warn_after: float = 0.050,
                 clock: Callable[[], float] = time.perf_counter) -> GcCallback:
    """Install a gc callback that logs slow collections; returns it (for removal)."""
    started = 0.0

    def callback(phase: str, info: dict[str, int]) -> None:
        nonlocal started
        if phase == "start":
            started = clock()
            return
        paused = clock() - started
        if paused >= warn_after:
            log.warning("garbage collection of generation %d paused switchd for %.0f ms "
                        "(%d objects collected)", info.get("generation", -1), paused * 1000,
                        info.get("collected", 0))

    gc.callbacks.append(callback)
    return callback
