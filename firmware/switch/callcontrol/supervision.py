"""Supervision (班长): listen, whisper to the agent only, barge into both, switch modes by
keys 4/5/6 during the session, force release (强拆) and force transfer (强转); every
request checked against the `may_monitor(supervisor, agent)` permission seam."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware.media.bridge import Bridge, BridgeError
from firmware.media.mixer import Role
from firmware.switch.callcontrol.dialplan import MODE_KEYS, MODES
from firmware.switch.callcontrol.lookup import CallControlError, bridge_of, device_of, leg_name
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel
from firmware.switch.events import MonitorChanged

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl

log = logging.getLogger(__name__)


@dataclass
class Monitor:
    supervisor: Call  # the supervisor's own call (its `a` is the supervisor's leg)
    target: Call
    agent: Channel
    mode: str


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise CallControlError(f"mode must be listen, whisper or barge, not {mode!r}")


class Supervision:
    def __init__(self, cc: CallControl) -> None:
        self.cc = cc
        # the permission seam (SiteRuntime.may_monitor: per-queue supervisors of the
        # site configuration): never allow by default
        self.may_monitor: Callable[[str, str], bool] = lambda s, a: False
        self.monitors: dict[str, Monitor] = {}  # supervisor's call id -> session

    def target_call(self, supervisor: str, target: str) -> tuple[Call, Channel]:
        """The call of agent `target` (an extension) or call id `target`, and the agent's
        leg on it; checks the supervisor may watch that agent."""
        cc = self.cc
        call = cc.switch.calls.get(target)
        if call is not None and call.end_at is None and call.b is not None:
            agent_leg = call.b if device_of(call.b) else call.a
        else:
            call = cc.lookup.find_call(target)
            agent_leg = cc.lookup.leg_of(call, target)
        agent = device_of(agent_leg) or call.extra.get("agent", "")
        if not self.may_monitor(supervisor, agent):
            raise CallControlError(f"{supervisor} may not supervise {agent or call.id}")
        return call, agent_leg

    def monitor_with(self, sup_call: Call, target: str, mode: str) -> Monitor:
        """The supervisor's answered leg (`sup_call.a`) joins `target`'s call."""
        _check_mode(mode)
        supervisor = device_of(sup_call.a)
        call, agent_leg = self.target_call(supervisor, target)
        if call is sup_call:
            raise CallControlError("a call cannot monitor itself")
        bridge = bridge_of(call)
        leg = sup_call.a.media
        if leg is None:
            raise CallControlError("the supervisor's phone has no media")
        role = MODES[mode]
        bridge.add(leg, role, agent_leg.media if role is Role.WHISPER else None)
        mon = Monitor(sup_call, call, agent_leg, mode)
        self.monitors[sup_call.id] = mon
        sup_call.extra.update(monitor=call.id, monitor_mode=mode,
                              monitor_agent=leg_name(agent_leg))
        call.extra.setdefault("supervised_by", supervisor)
        self.cc.publish(MonitorChanged(time.time(), call.id, supervisor,
                                       leg_name(agent_leg), mode))
        return mon

    def set_monitor_mode(self, supervisor: str, mode: str) -> dict[str, str]:
        mon = self._monitor_of(supervisor)
        _check_mode(mode)
        leg = mon.supervisor.a.media
        assert leg is not None
        role = MODES[mode]
        target = mon.agent.media if role is Role.WHISPER else None
        try:
            bridge_of(mon.target).set_role(leg, role, target)
        except BridgeError as e:
            raise CallControlError(str(e)) from e
        mon.mode = mode
        mon.supervisor.extra["monitor_mode"] = mode
        self.cc.publish(MonitorChanged(time.time(), mon.target.id, supervisor,
                                       leg_name(mon.agent), mode))
        return {"call": mon.target.id, "mode": mode}

    def stop_monitor(self, supervisor: str) -> dict[str, str]:
        """The supervisor's phone leaves the watched call (its own call ends)."""
        mon = self._monitor_of(supervisor)
        mon.supervisor.finish(Cause.NORMAL_CLEARING, "system")
        return {"call": mon.target.id, "stopped": supervisor}

    def _monitor_of(self, supervisor: str) -> Monitor:
        for mon in self.monitors.values():
            if device_of(mon.supervisor.a) == supervisor and mon.supervisor.end_at is None:
                return mon
        raise CallControlError(f"{supervisor} is not monitoring a call")

    def monitor(self, supervisor: str, target: str, mode: str = "listen") -> dict[str, str]:
        """CTI: ring the supervisor's phone; when answered it joins the agent's (or
        call's) conversation in `mode`. Checked now: permission and the target call."""
        _check_mode(mode)
        call, agent_leg = self.target_call(supervisor, target)

        def answered(sup_call: Call) -> None:
            try:
                self.monitor_with(sup_call, call.id, mode)
            except CallControlError as e:
                log.info("monitor by %s: %s", supervisor, e)
                sup_call.finish(Cause.NORMAL_CLEARING, "system")

        self.cc.device_calls.ring(supervisor, f"*5{'123'[list(MODES).index(mode)]}",
                                  answered)
        return {"call": call.id, "agent": leg_name(agent_leg), "ringing": supervisor}

    def force_release(self, supervisor: str, target: str) -> dict[str, str]:
        """强拆: end the agent's (or call's) call for every party."""
        call, _agent = self.target_call(supervisor, target)
        call.extra["force_released_by"] = supervisor
        call.finish(Cause.NORMAL_CLEARING, "supervisor")
        return {"call": call.id, "released": "yes"}

    def force_transfer(self, supervisor: str, target: str, to: str) -> dict[str, str]:
        """强转: take the caller away from the agent to `to` (blind)."""
        call, agent_leg = self.target_call(supervisor, target)
        call.extra["force_transferred_by"] = supervisor
        return self.cc.transfers.blind_transfer(call.id, agent_leg.id, to, kind="forced")

    # --- hooks ----------------------------------------------------------------------------
    def digit(self, call: Call, ch: Channel, digit: str) -> bool:
        """Keys 4/5/6 from a supervisor's phone in a session switch its mode."""
        mon = self.monitors.get(call.id)
        if mon is None or ch is not call.a:
            return False
        mode = MODE_KEYS.get(digit)
        if mode is not None and mode != mon.mode:
            try:
                self.set_monitor_mode(device_of(ch), mode)
            except CallControlError as e:
                log.info("monitor mode %s: %s", mode, e)
        return True

    def call_finished(self, call: Call) -> None:
        mon = self.monitors.pop(call.id, None)
        if mon is not None:
            if isinstance(mon.target.bridge, Bridge) and call.a.media is not None:
                mon.target.bridge.remove(call.a.media)
            self.cc.publish(MonitorChanged(time.time(), mon.target.id,
                                           device_of(call.a), leg_name(mon.agent), ""))
        for sid, m in list(self.monitors.items()):
            if m.target is call:
                del self.monitors[sid]
                m.supervisor.finish(Cause.NORMAL_CLEARING, "system")

    def status(self) -> list[dict[str, str]]:
        return [{"supervisor": device_of(m.supervisor.a), "call": m.target.id,
                 "agent": leg_name(m.agent), "mode": m.mode}
                for m in self.monitors.values()]
