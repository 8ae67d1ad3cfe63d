"""The switch: takes new inbound legs, routes them, places the outbound legs and keeps
one `Call` per call. It knows drivers only through `Channel` and the originators."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from firmware.ivr import Flow, Transfer, TransferKind
from firmware.media.bridge import Bridge
from firmware.media.codecs import Codec
from firmware.media.engine import MediaEngine
from firmware.media.prompt_gen import MOH
from firmware.media.recorder import StereoRecorder
from firmware.switch.acd_call import AcdService
from firmware.switch.bus import EventBus
from firmware.switch.call import Call
from firmware.switch.callcontrol import CallControl
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelListener, Party
from firmware.switch.events import Originated
from firmware.switch.ivr_call import IvrServices, IvrSession
from firmware.switch.router import TRUNK_TECHS, Reject, Route, Router

log = logging.getLogger(__name__)

RING_TIMEOUT = 60.0

# Feature modules own route kinds (ring groups, feature codes); a handler for
# "extension" takes over every call to an extension (forwarding, DND, voicemail).
RouteHandler = Callable[[Call, Route], Cause | None]


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
        self.ivr: IvrServices | None = None  # set when IVR flows are configured
        self.acd: AcdService | None = None  # set when queues are configured
        self._device_calls: Counter[str] = Counter()  # answered calls per extension
        # hold, transfer, conference, pickup, park, supervision (callcontrol/)
        self.cc = CallControl(self)
        self.route_handlers: dict[str, RouteHandler] = {}
        # leaves a message in a mailbox (the IVR's voicemail node); None: no voicemail
        self.voicemail: Callable[[Call, str], Cause | None] | None = None

    # New calls -----------------------------------------------------------------------------
    def incoming(self, ch: Channel) -> None:
        call = Call(self, ch, self.bus.publish)
        self.calls[call.id] = call
        self.bus.publish(Originated(call.start, call.id, ch.id, ch.caller.number,
                                    ch.called, ch.tech))
        if self.cc.dialled(call):  # feature codes, park slots, conference rooms
            return
        route = self.router.route(ch)
        if isinstance(route, Reject):
            log.info("call %s from %s to %s rejected: %s", call.id, ch.caller.number,
                     ch.called, route.why)
            call.extra["route"] = route.why  # why, for the call record
            call.finish(route.cause, "system")
            return
        if ch.tech in TRUNK_TECHS:
            call.direction = "inbound"
        if route.note:
            log.info("call %s from %s to %s: %s", call.id, ch.caller.number, ch.called,
                     route.note)
            call.extra["route"] = route.note
        if route.kind == "ivr":
            self._start_ivr(call, route.target, route.flow)
            return
        if route.kind == "queue":
            self._start_queue(call, route.target, route.priority)
            return
        cause = self.dial_route(call, route)
        if cause is not None:
            call.finish(cause, "system")

    def dial_route(self, call: Call, route: Route) -> Cause | None:
        """Ring `route` for the call's caller (a new call, a transfer, an IVR or queue
        exit) through the feature module owning its kind, else plainly; a cause if
        nothing rings."""
        handler = self.route_handlers.get(route.kind)
        if handler is not None:
            return handler(call, route)
        return self._dial(call, route)

    def _dial(self, call: Call, route: Route) -> Cause | None:
        """Place the legs for `route` and start the ring timer; a cause if none could be
        placed."""
        ch = call.a
        legs: Sequence[Channel]
        if route.kind == "trunk":
            call.direction = "outbound"
            if self.acd is not None:
                self.acd.called_out(call, route.target)  # 总机溯源 memory
            legs = self.trunks.originate(route.target, ch.caller, call) if self.trunks else []
            if not legs:
                # every channel busy, or the span down: what an exchange reports (Q.850 34)
                log.info("call %s: no trunk channel for %s", call.id, route.target)
                return Cause.NO_CIRCUIT_AVAILABLE
        else:
            legs = self.extensions.originate(route.target, ch.caller, call, _codecs_for(ch))
            if not legs:
                log.info("call %s: extension %s is not registered", call.id, route.target)
                return Cause.SUBSCRIBER_ABSENT
        call.dial(legs)
        loop = asyncio.get_running_loop()
        handle = loop.call_later(self.ring_timeout, call.ring_timeout)
        call.ring_timer = handle.cancel
        return None

    # IVR ------------------------------------------------------------------------------------
    def _start_ivr(self, call: Call, flow_id: str, flow: Flow | None = None) -> None:
        if flow is None and self.ivr is not None:
            flow = self.ivr.flows.get(flow_id)
        if flow is None or self.ivr is None:
            log.error("call %s: IVR flow %s is not active", call.id, flow_id)
            call.finish(Cause.NO_ROUTE_DESTINATION, "system")
            return
        session = IvrSession(call, flow, self.ivr.env, self.ivr.prompts, self.ivr.adapters,
                             self, self.ivr.clock)
        call.ivr = session
        if call.answer_at is None:
            call.answer_at = time.time()  # the box answers: charging starts here
        call.mark_in_use(call.a)
        session.start()

    def _start_queue(self, call: Call, queue: str, priority: int) -> None:
        """A DID straight to a queue: the box answers (music on hold needs a path)."""
        if self.acd is None:
            log.error("call %s: no ACD for queue %s", call.id, queue)
            call.finish(Cause.NO_ROUTE_DESTINATION, "system")
            return
        if call.answer_at is None:
            call.answer_at = time.time()
        call.mark_in_use(call.a)
        call.a.answer()
        cause = self.acd.join(call, queue, priority)
        if cause is not None:
            call.finish(cause, "system")

    def ivr_transfer(self, call: Call, action: Transfer) -> Cause | None:
        """An IVR hands the call on (TransferTarget for IvrSession)."""
        if action.kind is TransferKind.EXTENSION:
            # an internal number: an extension, a ring group or a conference room
            route = self.router.internal(action.target)
            if isinstance(route, Reject):
                return route.cause
            return self.dial_route(call, route)
        if action.kind is TransferKind.EXTERNAL:
            return self._dial(call, Route("trunk", action.target))
        if self.acd is None:
            log.warning("call %s: no ACD for queue %s", call.id, action.target)
            return Cause.NO_ROUTE_DESTINATION
        return self.acd.join(call, action.target, action.priority)

    def originate_for(self, route: Route, call: Call, listener: ChannelListener
                      ) -> Sequence[Channel]:
        """Legs to `route` (extension or trunk) showing the call's caller, heard by
        `listener` (a consultation, a party being added)."""
        if route.kind == "trunk":
            return (self.trunks.originate(route.target, call.a.caller, listener)
                    if self.trunks else [])
        return self.extensions.originate(route.target, call.a.caller, listener,
                                         _codecs_for(call.a))

    def consult_call(self, leg: Channel) -> Call:
        """A consultation call into a queue or IVR whose caller leg lends an agent's
        media (callcontrol/); recorded and logged like any call."""
        call = Call(self, leg, self.bus.publish)
        self.calls[call.id] = call
        call.direction = "consult"
        self.bus.publish(Originated(call.start, call.id, leg.id, leg.caller.number,
                                    leg.called, leg.tech))
        return call

    def device_call(self, leg: Channel, called: str) -> Call:
        """A new call on a phone's answered leg that the box rang (CTI monitor ...)."""
        device = leg.called
        leg.caller, leg.called = Party(device), called
        call = Call(self, leg, self.bus.publish)
        self.calls[call.id] = call
        self.bus.publish(Originated(call.start, call.id, leg.id, device, called, leg.tech))
        return call

    def moh_path(self) -> Path | None:
        return self.ivr.prompts.path(MOH) if self.ivr is not None else None

    def ivr_voicemail(self, call: Call, box: str) -> Cause | None:
        """An IVR sends the caller to leave a message in mailbox `box`."""
        if self.voicemail is None:
            log.warning("call %s: voicemail %s requested, no voicemail service", call.id, box)
            return Cause.NO_ROUTE_DESTINATION
        return self.voicemail(call, box)

    def dial_extension(self, call: Call, number: str) -> Cause | None:
        return self.dial_route(call, Route("extension", number))

    def originate_extension(self, number: str, call: Call, listener: ChannelListener
                            ) -> Sequence[Channel]:
        """Ring an extension for `call` with another listener (an ACD offer)."""
        return self.extensions.originate(number, call.a.caller, listener, _codecs_for(call.a))

    def originate_extension_for(self, number: str, shown: Party, listener: ChannelListener
                                ) -> Sequence[Channel]:
        """Ring an extension showing `shown` (a queue callback: the customer's number)."""
        return self.extensions.originate(number, shown, listener, list(Codec))

    def callback_call(self, agent_leg: Channel, number: str) -> Call:
        """A new call whose first leg is an agent's answered leg (queue callback)."""
        # For the record the agent calls the customer (the leg rang the agent showing the
        # customer's number); drivers read neither field after the leg is up.
        agent = agent_leg.called
        agent_leg.caller, agent_leg.called = Party(agent), number
        call = Call(self, agent_leg, self.bus.publish)
        self.calls[call.id] = call
        call.direction = "callback"
        self.bus.publish(Originated(call.start, call.id, agent_leg.id, agent_leg.peer_name,
                                    number, agent_leg.tech))
        return call

    def dial_number(self, call: Call, number: str) -> Cause | None:
        """An extension if `number` is one, else out through the trunk as dialled."""
        if self.router.directory.get(number) is not None:
            return self.dial_route(call, Route("extension", number))
        return self._dial(call, Route("trunk", number))

    def device_state(self, device: str, in_use: bool) -> None:
        """Count answered calls per extension; the ACD hears 0 <-> 1 changes."""
        before = self._device_calls[device]
        after = max(0, before + (1 if in_use else -1))
        self._device_calls[device] = after
        if after == 0:
            del self._device_calls[device]
        if self.acd is not None and (before == 0) != (after == 0):
            self.acd.device_state(device, after > 0)

    def call_ended(self, call: Call) -> None:
        self.calls.pop(call.id, None)
        self.completed += 1

    # Media ---------------------------------------------------------------------------------
    def bridge_media(self, a: Channel, b: Channel, recorder: object | None) -> object | None:
        """The call's media bridge: a relay while two parties talk, mixing when more
        join (bridge.py); the recorder keeps `a` left and what `a` hears right."""
        la, lb = a.media, b.media
        assert recorder is None or isinstance(recorder, StereoRecorder)
        if la is None or lb is None:
            log.error("cannot bridge media of %s and %s", a, b)
            return None
        bridge = Bridge(self.media, recorder, la, moh=self.moh_path(), name=f"{a.id}")
        bridge.add_many([la, lb])
        return bridge

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
            return path, StereoRecorder(path, MediaEngine.now(), defer_open=True)
        except OSError as e:
            # a full or broken disk must not stop the call: log it and go on unrecorded
            log.error("cannot record call %s to %s: %s", call_id, path, e)
            return None, None

    def close_recorder(self, recorder: object, now: float) -> float | None:
        """Seconds recorded; None when there is no usable recording (the file could not
        be created or written: the call went on unrecorded, which the log says)."""
        # `now` is wall time for records; the recorder runs on the media clock
        assert isinstance(recorder, StereoRecorder)
        try:
            seconds = recorder.close(MediaEngine.now())
        except OSError as e:
            log.error("recording %s could not be finished: %s", recorder.path, e)
            return None
        return None if recorder.failed is not None else seconds

    # Shutdown and status ---------------------------------------------------------------------
    def shutdown(self) -> None:
        for call in list(self.calls.values()):
            call.finish(Cause.NORMAL_UNSPECIFIED, "system")

    def status(self) -> dict[str, object]:
        return {
            "active_calls": [c.status() for c in self.calls.values()],
            "completed_calls": self.completed,
            "call_control": self.cc.status(),
        }


def _codecs_for(ch: Channel) -> list[Codec]:
    """Offer the caller's codec first, so the common case relays without transcoding."""
    leg = ch.media
    first = leg.codec if leg is not None and leg.codec is not None else Codec.PCMU
    return [first, *[c for c in Codec if c is not first]]
