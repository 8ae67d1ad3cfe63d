"""The conference rooms of `DATA/conference.json` (before migration 8), moved once into
the site configuration.

switchd calls `import_legacy_rooms` at start. The file's rooms are merged into the
stored `conference_rooms` (a room of the file replaces a stored room of the same
number); its PINs are hashed as they are (they worked before, so the weak-PIN rule of
new PINs is not applied to them). A setting records the import: from then on the file
is ignored, which the log says at every start until someone deletes it. A file that
cannot be read is reported and left for the admin to fix; the box runs on.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from firmware.db.settings import get_setting, set_setting
from firmware.db.site_models import ConferenceRoom
from firmware.siteconfig.errors import SiteInvalid
from firmware.siteconfig.service import SiteService
from firmware.switch.features.pin import hash_pin

log = logging.getLogger(__name__)

LEGACY_FILE = "conference.json"
IMPORTED_SETTING = "conference.json.imported"
_NUMBER = frozenset(f"60{i:02d}" for i in range(100))


class LegacyRoomsError(ValueError):
    pass


def read_legacy_rooms(path: Path) -> dict[str, str]:
    """{room: PIN} from the old file; raises LegacyRoomsError saying what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise LegacyRoomsError(f"{path}: {e}") from e
    given = data.get("rooms") if isinstance(data, dict) else None
    if not isinstance(given, dict):
        raise LegacyRoomsError(f"{path}: expected {{\"rooms\": {{\"6001\": \"PIN\"}}}}")
    out: dict[str, str] = {}
    for number, pin in given.items():
        number, pin = str(number), str(pin)
        if number not in _NUMBER:
            raise LegacyRoomsError(f"{path}: room {number!r} is not in 6000-6099")
        if not pin.isdigit() or not 4 <= len(pin) <= 12:
            raise LegacyRoomsError(f"{path}: room {number}: the PIN must be 4-12 digits")
        out[number] = pin
    return out


def import_legacy_rooms(data_dir: Path, db: Any = None) -> int | None:
    """Blocking. The number of rooms imported, or None when there was nothing to do.
    `db`: the handle the models are bound to (default: the one they are bound to)."""
    path = data_dir / LEGACY_FILE
    if not path.is_file():
        return None
    if get_setting(IMPORTED_SETTING) is not None:
        log.warning("%s is no longer read: conference rooms are in the site configuration "
                    "(web UI: 会议室 / Conference rooms; ccbox config export); delete the "
                    "file", path)
        return None
    try:
        rooms = read_legacy_rooms(path)
    except LegacyRoomsError as e:
        log.error("conference rooms not imported: %s (fix the file, or set the rooms in "
                  "the site configuration and delete it)", e)
        return None
    svc = SiteService(data_dir, db if db is not None else ConferenceRoom._meta.database,
                      notify=lambda _d: None)
    doc = svc.document()
    stored = {r["number"]: r for r in doc["conference_rooms"]}
    for number, pin in rooms.items():
        name = stored[number]["name"] if number in stored else ""
        stored[number] = {"number": number, "name": name, "pin": None,
                          "pin_hash": hash_pin(pin)}
    doc["conference_rooms"] = [stored[n] for n in sorted(stored)]
    try:
        svc.save(doc, ["conference_rooms"])
    except SiteInvalid as e:
        log.error("conference rooms of %s not imported: %s", path, e)
        return None
    set_setting(IMPORTED_SETTING, str(time.time()))
    log.warning("imported %d conference room(s) from %s into the site configuration; the "
                "file is no longer read (delete it)", len(rooms), path)
    return len(rooms)
