"""The switch: takes new inbound legs, routes them, places the outbound legs and keeps
one `Call` per call. It knows drivers only through `Channel` and the originators."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from firmware.media.codecs import Codec
from firmware.media.engine import MediaEngine, RtpLeg
from firmware.media.frame_bridge import FrameBridge
from firmware.media.frame_leg import FrameLeg
from firmware.media.recorder import StereoRecorder
from firmware.switch.bus import EventBus
from firmware.switch.call import Call
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelListener, Party
from firmware.switch.events import Originated
from firmware.switch.router import TRUNK_TECHS, Reject, Router

log = logging.getLogger(__name__)

RING_TIMEOUT = 60.0


class ExtensionOriginator(Protocol):
    def originate(self, aor: str, caller: Party, listener: ChannelListener,
                  codecs: list[Codec]) -> Sequence[Channel]: ...


class TrunkOriginator(Protocol):
    """PSTN trunks (E1 spans): place a call to an outside number on a free channel."""

    def originate(self, target: str, caller: Party, listener: ChannelListener
                  ) -> Sequence[Channel]: ...


class Switch:
    def __init__(
        self,
        bus: EventBus,
        media: MediaEngine,
        router: Router,
        data_dir: Path,
        extensions: ExtensionOriginator,
        record: bool = True,
    ) -> None:
        self.bus = bus
        self.media = media
        self.router = router
        self.data_dir = data_dir
        self.extensions = extensions
        self.record = record
        self.trunks: TrunkOriginator | None = None  # set when the board has a PSTN trunk
        self.calls: dict[str, Call] = {}
        self.ring_timeout = RING_TIMEOUT
        self.completed = 0

    # New calls -----------------------------------------------------------------------------
    def incoming(self, ch: Channel) -> None:
        call = Call(self, ch, self.bus.publish)
        self.calls[call.id] = call
        self.bus.publish(Originated(call.start, call.id, ch.id, ch.caller.number,
                                    ch.called, ch.tech))
        route = self.router.route(ch)
        if isinstance(route, Reject):
            log.info("call %s from %s to %s rejected: %s", call.id, ch.caller.number,
                     ch.called, route.why)
            call.finish(route.cause, "system")
            return
        if ch.tech in TRUNK_TECHS:
            call.direction = "inbound"
        legs: Sequence[Channel]
        if route.kind == "trunk":
            call.direction = "outbound"
            legs = self.trunks.originate(route.target, ch.caller, call) if self.trunks else []
            if not legs:
                # every channel busy, or the span down: what an exchange reports (Q.850 34)
                log.info("call %s: no trunk channel for %s", call.id, route.target)
                call.finish(Cause.NO_CIRCUIT_AVAILABLE, "system")
                return
        else:
            legs = self.extensions.originate(route.target, ch.caller, call, _codecs_for(ch))
            if not legs:
                log.info("call %s: extension %s is not registered", call.id, route.target)
                call.finish(Cause.SUBSCRIBER_ABSENT, "system")
                return
        call.dial(legs)
        loop = asyncio.get_running_loop()
        handle = loop.call_later(self.ring_timeout, call.ring_timeout)
        call.ring_timer = handle.cancel

    def call_ended(self, call: Call) -> None:
        self.calls.pop(call.id, None)
        self.completed += 1

    # Media ---------------------------------------------------------------------------------
    def bridge_media(self, a: Channel, b: Channel, recorder: object | None) -> object | None:
        la, lb = a.media, b.media
        assert recorder is None or isinstance(recorder, StereoRecorder)
        if isinstance(la, RtpLeg) and isinstance(lb, RtpLeg):
            bridge: object = self.media.bridge(la, lb, recorder)
            return bridge
        # An E1/FXO line and an RTP leg; the recorder keeps a left, b right.
        if isinstance(la, FrameLeg) and isinstance(lb, RtpLeg):
            return FrameBridge(la, lb, recorder, line_channel=0)
        if isinstance(la, RtpLeg) and isinstance(lb, FrameLeg):
            return FrameBridge(lb, la, recorder, line_channel=1)
        log.error("cannot bridge media of %s and %s", a, b)
        return None

    def unbridge_media(self, bridge: object) -> None:
        stop: Callable[[], None] | None = getattr(bridge, "stop", None)
        if stop is not None:
            stop()

    def new_recorder(self, call_id: str, start: float) -> tuple[Path | None, object | None]:
        if not self.record:
            return None, None
        day = time.strftime("%Y/%m/%d", time.localtime(start))
        path = self.data_dir / "recordings" / day / f"{call_id}.wav"
        try:
            return path, StereoRecorder(path, MediaEngine.now())
        except OSError as e:
            # a full or broken disk must not stop the call: log it and go on unrecorded
            log.error("cannot record call %s to %s: %s", call_id, path, e)
            return None, None

    def close_recorder(self, recorder: object, now: float) -> float:
        # `now` is wall time for records; the recorder runs on the media clock
        assert isinstance(recorder, StereoRecorder)
        try:
            return recorder.close(MediaEngine.now())
        except OSError as e:
            log.error("recording %s could not be finished: %s", recorder, e)
            return 0.0

    # Shutdown and status ---------------------------------------------------------------------
    def shutdown(self) -> None:
        for call in list(self.calls.values()):
            call.finish(Cause.NORMAL_UNSPECIFIED, "system")

    def status(self) -> dict[str, object]:
        return {
            "active_calls": [c.status() for c in self.calls.values()],
            "completed_calls": self.completed,
        }


def _codecs_for(ch: Channel) -> list[Codec]:
    """Offer the caller's codec first, so the common case relays without transcoding."""
    leg = ch.media
    first = leg.codec if leg is not None and leg.codec is not None else Codec.PCMU
    return [first, *[c for c in Codec if c is not first]]
