"""Two `PriSpan`s back to back in memory: what the wire between them would carry.

Used by the unit tests, and small enough for a self-test of the installed libpri (a
NET and a CPE instance must bring their D-channel up and pass a call) on first boot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.dahdi.pri_events import PriEvent
from drivers.dahdi.pri_span import PriSpan


@dataclass
class Pumped:
    events: list[tuple[PriSpan, PriEvent]] = field(default_factory=list)
    frames: int = 0

    def of(self, span: PriSpan) -> list[PriEvent]:
        return [e for s, e in self.events if s is span]


def pump(
    a: PriSpan,
    b: PriSpan,
    *,
    drop: Callable[[PriSpan, bytes], bool] | None = None,
    rounds: int = 100,
) -> Pumped:
    """Deliver frames both ways until the line is quiet; `drop` loses chosen frames."""
    out = Pumped()
    for _ in range(rounds):
        moved = False
        for src, dst in ((a, b), (b, a)):
            for frame in src.frames_to_send():
                moved = True
                if drop is not None and drop(src, frame):
                    continue
                out.frames += 1
                out.events += [(dst, e) for e in dst.receive_frame(frame)]
        if not moved:
            return out
    raise AssertionError("the two spans never went quiet")
