"""Wiring of call control in switchd: conference rooms and their PINs, the supervisor
policy, and the `cc` control command (the same functions the CTI server calls).

Rooms: `DATA/conference.json` = `{"rooms": {"6001": "4711", ...}}` (numbers 6000-6099,
PIN 4-8 digits). Without the file the demo room 6001 gets a random PIN, written to that
file on first start (no PIN ships with the box; `ccbox` shows the file to the admin).
"""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path
from typing import Any

from firmware.switch.callcontrol import ROOMS, CallControl, CallControlError

log = logging.getLogger(__name__)

DEMO_ROOM = "6001"


class RoomConfigError(ValueError):
    pass


def load_rooms(data_dir: Path) -> dict[str, str]:
    path = data_dir / "conference.json"
    if not path.is_file():
        rooms = {DEMO_ROOM: f"{secrets.randbelow(10**6):06d}"}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"rooms": rooms}, indent=2) + "\n", encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(path)
        log.info("conference room %s created; its PIN is in %s", DEMO_ROOM, path)
        return rooms
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise RoomConfigError(f"{path}: {e}") from e
    given = data.get("rooms") if isinstance(data, dict) else None
    if not isinstance(given, dict):
        raise RoomConfigError(f"{path}: expected {{\"rooms\": {{\"6001\": \"PIN\"}}}}")
    out: dict[str, str] = {}
    for number, pin in given.items():
        number, pin = str(number), str(pin)
        if not ROOMS.fullmatch(number):
            raise RoomConfigError(f"{path}: room {number!r} is not in 6000-6099")
        if not pin.isdigit() or not 4 <= len(pin) <= 8:
            raise RoomConfigError(f"{path}: room {number}: the PIN must be 4-8 digits")
        out[number] = pin
    return out


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
