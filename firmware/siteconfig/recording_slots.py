"""One-time codes for recording a prompt from a phone (decision 0017).

An admin asks the web UI to record prompt NAME; it stores a slot {code, name, by,
expires} and shows "dial *77<code>". switchd (firmware/switch/features/record_prompt.py)
takes the slot when the recording is done. The code is random, six digits, valid ten
minutes and once: a phone that merely knows *77 cannot overwrite prompts.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass

from firmware.db.models import Setting
from firmware.db.settings import get_setting, set_setting

SETTING = "prompts.recording_slots"
TTL = 600.0
DIGITS = 6


@dataclass(frozen=True)
class Slot:
    code: str
    name: str  # the prompt to record
    by: str  # the web user who asked
    expires: float


# IMMEDIATE: a read-then-write transaction must not meet a CDR write halfway (BUSY).
def _load(now: float) -> dict[str, Slot]:
    try:
        raw = json.loads(get_setting(SETTING) or "{}")
    except ValueError:
        return {}
    out = {}
    for code, s in (raw.items() if isinstance(raw, dict) else ()):
        try:
            slot = Slot(str(code), str(s["name"]), str(s["by"]), float(s["expires"]))
        except (KeyError, TypeError, ValueError):
            continue
        if slot.expires > now:
            out[slot.code] = slot
    return out


def _store(slots: dict[str, Slot]) -> None:
    set_setting(SETTING, json.dumps({c: asdict(s) for c, s in slots.items()}, sort_keys=True))


def create(name: str, by: str, now: float | None = None) -> Slot:
    """A new code for recording `name` (an older code for the same name is dropped)."""
    now = time.time() if now is None else now
    with Setting._meta.database.atomic(lock_type="IMMEDIATE"):
        slots = {c: s for c, s in _load(now).items() if s.name != name}
        code = ""
        while not code or code in slots:
            code = "".join(secrets.choice("0123456789") for _ in range(DIGITS))
        slots[code] = Slot(code, name, by, now + TTL)
        _store(slots)
    return slots[code]


def peek(code: str, now: float | None = None) -> Slot | None:
    return _load(time.time() if now is None else now).get(code)


def take(code: str, now: float | None = None) -> Slot | None:
    """The slot of `code`, removed (a code records once)."""
    now = time.time() if now is None else now
    with Setting._meta.database.atomic(lock_type="IMMEDIATE"):
        slots = _load(now)
        slot = slots.pop(code, None)
        _store(slots)
    return slot


def pending(now: float | None = None) -> list[Slot]:
    return sorted(_load(time.time() if now is None else now).values(), key=lambda s: s.expires)
