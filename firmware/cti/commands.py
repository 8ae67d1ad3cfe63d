"""CTI commands carried out on the switch: call control (through `CallControl`, the API
feature codes and REFER use too), agent states (the ACD), click to dial, snapshots.

Every command returns at once with a small dict, or raises `CtiError` saying why not;
what happens next arrives as CTI events. Devices are extension numbers, calls are call
ids; a command that names no call acts on the device's current call.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from firmware.acd import AcdError, OutboundCallMade
from firmware.cti.model import CtiModel
from firmware.cti.protocol import (
    BAD_REQUEST,
    NOT_SUPPORTED,
    REFUSED,
    UNAVAILABLE,
    UNKNOWN_COMMAND,
    CtiError,
    text,
)
from firmware.switch.callcontrol import CallControlError
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelState, Party
from firmware.switch.ringing import RingingLegs

if TYPE_CHECKING:
    from firmware.switch.core import Switch
    from firmware.switch.features.remote_answer import RemoteAnswer

log = logging.getLogger(__name__)

NUMBER = re.compile(r"[0-9*#+]{1,32}")
MAKE_CALL_RING = 30.0  # seconds the agent's phone rings for a click-to-dial
AGENT_STATES = {"login": "login", "logout": "logout", "ready": "ready",
                "notready": "notready", "not-ready": "notready", "notReady": "notready"}
MONITOR_MODES = ("listen", "whisper", "barge")

Handler = Callable[[dict[str, Any]], dict[str, Any]]


def _number(req: dict[str, Any], name: str) -> str:
    value = text(req, name)
    if not NUMBER.fullmatch(value):
        raise CtiError(BAD_REQUEST, f"{value!r} is not a number (digits, *, #, +)")
    return value


class _ClickToDial(RingingLegs):
    """Listener of the legs ringing the agent's phone for MakeCall."""

    def __init__(self, on_answer: Callable[[Channel], None]) -> None:
        super().__init__(on_answer)
        self.timer: asyncio.TimerHandle | None = None

    def won(self, ch: Channel) -> None:
        if self.timer is not None:
            self.timer.cancel()
        super().won(ch)

    def lost(self, cause: Cause) -> None:
        if self.timer is not None:
            self.timer.cancel()
        log.info("click-to-dial: the phone did not answer (%s)", cause.name)

    def give_up(self) -> None:
        if not self.done and self.answered is None:
            self.cancel(Cause.NO_ANSWER)


class CtiCommands:
    def __init__(self, switch: Switch, model: CtiModel,
                 snapshot: Callable[[], dict[str, Any]]) -> None:
        self.switch = switch
        self.model = model
        self.snapshot = snapshot
        self.remote_answer: RemoteAnswer | None = None  # set with the phone features
        self._dialing: dict[str, _ClickToDial] = {}  # device -> its click-to-dial ring
        self.handlers: dict[str, Handler] = {
            "MakeCall": self.make_call,
            "Answer": self.answer,
            "ClearConnection": self.clear_connection,
            "Hold": self._cc("hold", "call", "device"),
            "Retrieve": self._cc("retrieve", "call", "device"),
            "SingleStepTransfer": self._cc("blind_transfer", "call", "device", "to"),
            "ConsultationCall": self._cc("consult", "call", "device", "to"),
            "Transfer": self._cc("complete_transfer", "call", "device"),
            "Conference": self.conference,
            "ReconnectCall": self._cc("cancel_consult", "call", "device"),
            "SetAgentState": self.set_agent_state,
            "MonitorStart": self.monitor_start,
            "MonitorStop": self._cc("stop_monitor", "supervisor"),
            "ForceRelease": self._cc("force_release", "supervisor", "target"),
            "ForceTransfer": self._cc("force_transfer", "supervisor", "target", "to"),
            "Snapshot": lambda _req: self.snapshot(),
        }

    def run(self, req: dict[str, Any]) -> dict[str, Any]:
        cmd = str(req.get("cmd"))
        handler = self.handlers.get(cmd)
        if handler is None:
            raise CtiError(UNKNOWN_COMMAND, f"unknown command {cmd!r}; one of "
                           f"{', '.join(sorted([*self.handlers, 'Subscribe']))}")
        try:
            return handler(req)
        except CallControlError as e:
            raise CtiError(REFUSED, str(e)) from e
        except AcdError as e:
            raise CtiError(REFUSED, str(e)) from e

    # --- call control through CallControl ---------------------------------------------------
    def _cc(self, method: str, *params: str) -> Handler:
        def handle(req: dict[str, Any]) -> dict[str, Any]:
            fn = getattr(self.switch.cc, method, None)
            if fn is None:
                raise CtiError(NOT_SUPPORTED, f"{req.get('cmd')} is not supported by this "
                               "firmware yet")
            args: list[str | None] = []
            for p in params:
                if p == "call":
                    args.append(text(req, "call", required=False) or None)
                elif p == "to":
                    args.append(_number(req, "to"))
                else:
                    args.append(text(req, p))
            result = fn(*args)
            return dict(result) if isinstance(result, dict) else {"result": result}

        return handle

    def conference(self, req: dict[str, Any]) -> dict[str, Any]:
        """After ConsultationCall: all three talk. With `to`: add that party directly."""
        if req.get("to"):
            return self._cc("conference", "call", "device", "to")(req)
        return self._cc("conference_consult", "call", "device")(req)

    def monitor_start(self, req: dict[str, Any]) -> dict[str, Any]:
        mode = text(req, "mode", required=False, default="listen")
        if mode not in MONITOR_MODES:
            raise CtiError(BAD_REQUEST, f"mode must be one of {', '.join(MONITOR_MODES)}")
        supervisor = text(req, "supervisor")
        cc = self.switch.cc
        if any(getattr(m.supervisor.a, "peer_name", "") == supervisor
               and m.supervisor.end_at is None for m in cc.monitors.values()):
            return cc.set_monitor_mode(supervisor, mode)  # already in: switch the mode
        return cc.monitor(supervisor, text(req, "target"), mode)

    # --- ringing and clearing ----------------------------------------------------------------
    def answer(self, req: dict[str, Any]) -> dict[str, Any]:
        """Answer `device`'s ringing phone from here: only for extensions whose phone
        takes NOTIFY Event: talk (the remote answer feature); the phone then answers the
        box's INVITE as if picked up, and Established follows as usual."""
        device = text(req, "device")
        call_id = text(req, "call", required=False) or None
        ra = self.remote_answer
        if ra is None or not ra.allowed(device):
            raise CtiError(NOT_SUPPORTED, f"the phone at {device} cannot be answered from "
                           "here: enable remote answer for it (extension features; only "
                           "for phones that support it), or answer on the phone")
        found = self._ringing_at(device, call_id)
        if found is None:
            raise CtiError(REFUSED, f"nothing rings at {device}"
                           + (f" for call {call_id}" if call_id else ""))
        cid, legs = found
        if not sum(ra.answer(leg) for leg in legs):
            raise CtiError(NOT_SUPPORTED, f"the phone at {device} cannot be answered from "
                           "here: it is not a SIP phone the box rings")
        return {"call": cid, "answering": device}

    def _ringing_at(self, device: str, call_id: str | None
                    ) -> tuple[str, list[Channel]] | None:
        """The legs ringing `device` for one offer: (call id, legs); "" for click to dial,
        which has no call until the phone answers."""
        def ringing(legs: list[Channel]) -> list[Channel]:
            return [leg for leg in legs if leg.peer_name == device
                    and leg.state is not ChannelState.UP and not leg.ended]

        acd = self.switch.acd
        if acd is not None:
            for (cid, _agent), offer in list(acd.offers.items()):
                live = call_id in (None, cid) and offer.answered is None and not offer.done
                if live and (legs := ringing(offer.legs)):
                    return cid, legs
        for call in list(self.switch.calls.values()):
            if call_id in (None, call.id) and call.b is None and (
                    legs := ringing(list(call.forks))):
                return call.id, legs
        ring = self._dialing.get(device)
        live = call_id is None and ring is not None and not ring.done
        if live and ring is not None and ring.answered is None and (legs := ringing(ring.legs)):
            return "", legs
        return None

    def clear_connection(self, req: dict[str, Any]) -> dict[str, Any]:
        """Hang up `device`'s part of its call; while it only rings, refuse the offer."""
        device = text(req, "device")
        call_id = text(req, "call", required=False) or None
        acd = self.switch.acd
        if acd is not None:
            for (cid, _agent), legs in list(acd.offers.items()):
                if call_id not in (None, cid) or legs.answered is not None:
                    continue
                ringing = [leg for leg in legs.legs if leg.peer_name == device]
                if ringing:
                    for leg in ringing:
                        leg.hangup(Cause.CALL_REJECTED)
                        legs.channel_hungup(leg, Cause.CALL_REJECTED)  # our own hangup
                    return {"call": cid, "rejected": device}
        for call in list(self.switch.calls.values()):
            if call_id not in (None, call.id) or call.b is not None:
                continue
            ringing = [f for f in call.forks if f.peer_name == device and not f.ended]
            if ringing:
                for leg in ringing:
                    leg.hangup(Cause.CALL_REJECTED)
                    call.channel_hungup(leg, Cause.CALL_REJECTED)
                return {"call": call.id, "rejected": device}
        return self._cc("clear_connection", "call", "device")(req)

    # --- click to dial -----------------------------------------------------------------------
    def make_call(self, req: dict[str, Any]) -> dict[str, Any]:
        """Ring `device`; when its user picks up, dial `to` from it as if typed on the
        phone: an extension or a DID as is, anything else out through the trunk."""
        device = text(req, "device")
        to = _number(req, "to")
        sw = self.switch
        if sw.router.directory.get(device) is None:
            raise CtiError(REFUSED, f"{device} is not an extension")
        if to == device:
            raise CtiError(REFUSED, "a phone cannot call itself")
        inside = sw.router.directory.get(to) is not None or to in sw.router.routes
        if not inside and sw.trunks is None:
            raise CtiError(REFUSED, f"{to}: no trunk to dial out on")
        dial = to if inside else sw.router.trunk_prefix + to

        def answered(leg: Channel) -> None:
            leg.caller, leg.called = Party(device), dial
            sw.incoming(leg)
            call = next((c for c in sw.calls.values() if c.a is leg), None)
            if call is None:
                return  # refused at once (the CDR says why)
            call.extra["cti"] = "MakeCall"
            call.mark_in_use(leg)
            if not inside and sw.acd is not None:
                agent = self._agent_at(device)
                if agent is not None:
                    sw.acd.feed(OutboundCallMade(to, agent, sw.acd.clock()))

        ring = _ClickToDial(answered)
        placed = sw.originate_extension_for(device, Party(to), ring)
        if not placed:
            raise CtiError(REFUSED, f"{device} is not registered")
        ring.legs = list(placed)
        ring.timer = asyncio.get_running_loop().call_later(MAKE_CALL_RING, ring.give_up)
        self._dialing[device] = ring
        ra = self.remote_answer
        if ra is not None and ra.allowed(device) and ra.auto_answer(placed):
            # the INVITEs leave after this returns: the phone picks up by itself
            return {"ringing": device, "to": to, "auto_answer": True}
        return {"ringing": device, "to": to}

    def _agent_at(self, device: str) -> str | None:
        for agent, view in self.model.agents.items():
            if view.device == device and view.state != "logged-out":
                return agent
        return None

    # --- agents ------------------------------------------------------------------------------
    def set_agent_state(self, req: dict[str, Any]) -> dict[str, Any]:
        acd = self.switch.acd
        if acd is None:
            raise CtiError(UNAVAILABLE, "no ACD is configured (no queues or agents)")
        agent = text(req, "agent")
        state = AGENT_STATES.get(text(req, "state"))
        if state is None:
            raise CtiError(BAD_REQUEST, "state must be login, logout, ready or notReady")
        device = text(req, "device", required=state == "login")
        reason = text(req, "reason", required=False, default="break")
        acd.agent_command(agent, state, device, reason)
        st = acd.engine.agent_status(agent)
        return {"agent": agent, "state": str(st.state), "device": st.device,
                "reason": st.reason, "time": time.time()}
