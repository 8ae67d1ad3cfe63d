"""The CTI wire format: JSON lines over switchd's CTI socket (`DATA/run/cti.sock`).

Request:  {"id": 7, "cmd": "Hold", "device": "8001"}
Reply:    {"id": 7, "ok": true, ...}  or  {"id": 7, "ok": false, "code": "...", "error": "..."}
Event:    {"event": "Delivered", "time": 1769817600.25, "call": "...", "device": "8001", ...}

A connection that sent `Subscribe` gets the `snapshot` reply and from then on every CTI
event, in the order the switch saw them. Error codes say what kind of no it is, so a
program can react without parsing the text (which is for people):
"""

from __future__ import annotations

import json
from typing import Any

BAD_REQUEST = "bad_request"  # not JSON, missing or malformed parameter
UNKNOWN_COMMAND = "unknown_command"
NOT_SUPPORTED = "not_supported"  # the switch side of this command is not in this firmware
REFUSED = "refused"  # impossible now (no such call, not on hold, not allowed ...)
UNAVAILABLE = "unavailable"  # no ACD configured, switchd not running (webd side)

MAX_LINE = 64 * 1024


class CtiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError:
        raise CtiError(BAD_REQUEST, "not JSON") from None
    if not isinstance(value, dict) or not isinstance(value.get("cmd"), str):
        raise CtiError(BAD_REQUEST, 'expected {"cmd": "...", ...}')
    return value


def text(req: dict[str, Any], name: str, *, required: bool = True, default: str = "") -> str:
    """A string parameter; numbers are accepted as their text (extensions look like
    numbers to JSON writers)."""
    value = req.get(name)
    if value is None or value == "":
        if required:
            raise CtiError(BAD_REQUEST, f"{req.get('cmd')}: parameter {name!r} is required")
        return default
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise CtiError(BAD_REQUEST, f"{req.get('cmd')}: parameter {name!r} must be a string")
    out = str(value).strip()
    if len(out) > 64:
        raise CtiError(BAD_REQUEST, f"{req.get('cmd')}: parameter {name!r} is too long")
    return out
