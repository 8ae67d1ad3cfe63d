"""The dial plan: where does a dialled number go?

Minimal for now: extensions, calls from the PSTN to an extension (the called number
is the extension, or a DID mapped to one), and extensions dialling out through a trunk
with a prefix. IVR flows, queues and time rules plug in here as further `Route` kinds,
so the switch core never learns about numbering.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmware.switch.causes import Cause
from firmware.switch.channel import Channel
from firmware.switch.directory import ExtensionDirectory


@dataclass(frozen=True)
class Route:
    kind: str  # "extension", "trunk" or "ivr" (target: a flow id); "queue" later
    target: str


@dataclass(frozen=True)
class Reject:
    cause: Cause
    why: str


# Dialled by an extension, this prefix takes an outside line ("0" as on Chinese PBXs).
TRUNK_PREFIX = "0"
# Calls arriving from these channel techs are PSTN trunk calls (never sent back out).
TRUNK_TECHS = frozenset({"pri", "fxo"})


class Router:
    def __init__(self, directory: ExtensionDirectory, trunk_prefix: str = TRUNK_PREFIX,
                 dids: dict[str, str] | None = None,
                 ivr_routes: dict[str, str] | None = None) -> None:
        self.directory = directory
        self.trunk_prefix = trunk_prefix
        # DID -> extension, for trunk calls to numbers that are not extensions
        self.dids = dict(dids or {})
        # number -> IVR flow id, dialled from the PSTN (a DID) or from an extension
        self.ivr_routes = dict(ivr_routes or {})

    def route(self, ch: Channel) -> Route | Reject:
        called = ch.called.strip()
        if not called:
            return Reject(Cause.INVALID_NUMBER_FORMAT, "no number dialled")
        from_trunk = ch.tech in TRUNK_TECHS
        flow = self.ivr_routes.get(called)
        if flow is not None:
            return Route("ivr", flow)
        if from_trunk:
            called = self.dids.get(called, called)
        elif (self.trunk_prefix and called.startswith(self.trunk_prefix)
              and len(called) > len(self.trunk_prefix)
              and self.directory.get(called) is None):
            return Route("trunk", called[len(self.trunk_prefix):])
        ext = self.directory.get(called)
        if ext is None:
            return Reject(Cause.UNALLOCATED_NUMBER, f"{called} is not a number of this box")
        if not ext.enabled:
            return Reject(Cause.SUBSCRIBER_ABSENT, f"extension {called} is disabled")
        return Route("extension", called)
