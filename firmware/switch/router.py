"""The dial plan: where does a dialled number go?

Minimal for now (extension to extension); IVR flows, queues, time rules and trunks plug
in here as further `Route` kinds, so the switch core never learns about numbering.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.switch.causes import Cause
from firmware.switch.channel import Channel
from firmware.switch.directory import ExtensionDirectory


@dataclass(frozen=True)
class Route:
    kind: str  # "extension" now; "queue", "ivr", "trunk" later
    target: str


@dataclass(frozen=True)
class Reject:
    cause: Cause
    why: str


class Router:
    def __init__(self, directory: ExtensionDirectory) -> None:
        self.directory = directory

    def route(self, ch: Channel) -> Route | Reject:
        called = ch.called.strip()
        if not called:
            return Reject(Cause.INVALID_NUMBER_FORMAT, "no number dialled")
        ext = self.directory.get(called)
        if ext is None:
            return Reject(Cause.UNALLOCATED_NUMBER, f"{called} is not a number of this box")
        if not ext.enabled:
            return Reject(Cause.SUBSCRIBER_ABSENT, f"extension {called} is disabled")
        return Route("extension", called)
