"""Demo extensions for a first start, so a softphone can register right away.

Every password is generated on the box: no password that ships in the image or in this
source survives the first boot.
"""

from __future__ import annotations

import json
import logging

import peewee

from firmware.db.models import Extension
from firmware.db.settings import get_setting, set_setting
from firmware.db.sip_passwords import generate_sip_password

log = logging.getLogger(__name__)

# Remembers which numbers were seeded, so that an admin who deletes every extension does
# not get the demo accounts back on the next start.
DEMO_SETTING = "demo.extensions"

DEMO_EXTENSIONS: tuple[tuple[str, str], ...] = (
    *((str(8000 + i), f"坐席{i:02d}") for i in range(1, 11)),
    ("8101", "班长"),
)


def ensure_demo_data(db: peewee.SqliteDatabase) -> list[tuple[str, str, str]]:
    """(number, name, password) of the demo extensions, creating them on the first start.

    `db` must be the database the models are bound to (see `open_db`).
    """
    with db.atomic(lock_type="IMMEDIATE"):
        seeded = get_setting(DEMO_SETTING)
        if seeded is None and not Extension.select().exists():
            for number, name in DEMO_EXTENSIONS:
                Extension.create(number=number, name=name, sip_password=generate_sip_password())
            seeded = json.dumps([number for number, _ in DEMO_EXTENSIONS])
            set_setting(DEMO_SETTING, seeded)
            log.info("created %d demo extensions", len(DEMO_EXTENSIONS))
        numbers: list[str] = json.loads(seeded) if seeded else []
        rows = Extension.select().where(Extension.number.in_(numbers)).order_by(Extension.number)
        return [(e.number, e.name, e.sip_password) for e in rows]
