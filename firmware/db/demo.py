"""The demo for a first start: the 96777 gas hotline site (extensions, trunk, DID,
queues, agents logged in, IVR flow, time rules and holidays, blacklist and auto-lock),
imported from the one site file that is also the worked example of the docs
(firmware/siteconfig/demo/gas_hotline_96777.yaml), so a softphone can register and a
newcomer hears a real hotline right away.

Every password is generated on the box: no password that ships in the image or in this
source survives the first boot.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import peewee

from firmware.db.models import Extension
from firmware.db.settings import get_setting, set_setting

log = logging.getLogger(__name__)

# Remembers which numbers were seeded, so that an admin who deletes every extension does
# not get the demo accounts back on the next start.
DEMO_SETTING = "demo.extensions"

DEMO_EXTENSIONS: tuple[tuple[str, str], ...] = (
    *((str(8000 + i), f"坐席{i:02d}") for i in range(1, 11)),
    ("8101", "班长"),
)


def ensure_demo_data(db: peewee.SqliteDatabase, data_dir: Path | None = None,
                     room_pins: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(number, name, password) of the demo extensions, importing the demo site on the
    first start of an empty box (and on a demo box made before the configuration lived
    in the database).

    `db` must be the database the models are bound to (see `open_db`). `room_pins`
    gets the PINs generated for the demo's conference rooms when it is imported now:
    they are stored hashed, so this is the one time they can be shown.
    """
    from firmware.siteconfig.demo import DEMO_SITE
    from firmware.siteconfig.service import SiteService
    from firmware.siteconfig.store import configured

    with db.atomic(lock_type="IMMEDIATE"):
        seeded = get_setting(DEMO_SETTING)
        fresh = seeded is None and not Extension.select().exists() and not configured()
        if fresh or (seeded is not None and not configured()):
            svc = SiteService(data_dir or Path("."), db, notify=lambda _d: None)
            outcome = svc.import_yaml(DEMO_SITE.read_text(encoding="utf-8"), str(DEMO_SITE),
                                      source_dir=DEMO_SITE.parent)
            if room_pins is not None and outcome.applied is not None:
                room_pins.update(outcome.applied.generated_pins)
            if seeded is None:
                seeded = json.dumps([number for number, _ in DEMO_EXTENSIONS])
                set_setting(DEMO_SETTING, seeded)
            log.info("imported the demo site %s", DEMO_SITE.name)
        numbers: list[str] = json.loads(seeded) if seeded else []
        rows = Extension.select().where(Extension.number.in_(numbers)).order_by(Extension.number)
        return [(e.number, e.name, e.sip_password) for e in rows]
