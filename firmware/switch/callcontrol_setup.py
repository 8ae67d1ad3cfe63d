"""Wiring of call control in switchd: the route to conference rooms, the supervisor
policy, and the `cc` control command (the same functions the CTI server calls).

Rooms (6000-6099, a PIN each) are part of the site configuration (`conference_rooms`,
decision 0021): `SiteRuntime.apply` hands their PIN hashes to `CallControl`; the old
`DATA/conference.json` is imported once (firmware/siteconfig/legacy_rooms.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from firmware.switch.callcontrol import CallControl, CallControlError
from firmware.switch.causes import Cause
from firmware.switch.router import Route

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.core import Switch

log = logging.getLogger(__name__)


def install(switch: Switch) -> None:
    """Calls routed to a room (a DID `conference:6001`, an IVR transfer) ask its PIN."""

    def to_room(call: Call, route: Route) -> Cause | None:
        return switch.cc.enter_room(call, route.target)

    switch.route_handlers["conference"] = to_room


# op -> (method name, parameters in order); every one returns a dict or raises
OPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "hold": ("hold", ("call", "device")),
    "clear_connection": ("clear_connection", ("call", "device")),
    "clear_call": ("clear_call", ("call",)),
    "retrieve": ("retrieve", ("call", "device")),
    "blind_transfer": ("blind_transfer", ("call", "device", "target")),
    "consult": ("consult", ("call", "device", "target")),
    "complete_transfer": ("complete_transfer", ("call", "device")),
    "conference_consult": ("conference_consult", ("call", "device")),
    "cancel_consult": ("cancel_consult", ("call", "device")),
    "conference": ("conference", ("call", "device", "target")),
    "park": ("park", ("call", "device")),
    "pickup": ("pickup", ("device", "target")),
    "retrieve_parked": ("retrieve_parked", ("device", "slot")),
    "monitor": ("monitor", ("supervisor", "target", "mode")),
    "monitor_mode": ("set_monitor_mode", ("supervisor", "mode")),
    "stop_monitor": ("stop_monitor", ("supervisor",)),
    "force_release": ("force_release", ("supervisor", "target")),
    "force_transfer": ("force_transfer", ("supervisor", "target", "to")),
}


def control_handler(cc: CallControl) -> Any:
    """`{"cmd": "cc", "op": "hold", "call": "...", "device": "8001"}` on the control
    socket; errors come back as {"ok": false, "error": "..."}."""

    def handle(req: dict[str, Any]) -> dict[str, Any]:
        op = str(req.get("op", ""))
        if op == "status":
            return cc.status()
        spec = OPS.get(op)
        if spec is None:
            raise ValueError(f"unknown call-control op {op!r}; one of {sorted(OPS)}")
        name, params = spec
        args = [req.get(p) or None if p == "call" else str(req.get(p) or "")
                for p in params]
        try:
            result = getattr(cc, name)(*args)
        except CallControlError as e:
            raise ValueError(str(e)) from e
        return dict(result) if isinstance(result, dict) else {"result": result}

    return handle
