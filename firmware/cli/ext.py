"""`ccbox ext add|list|del`: extensions (SIP accounts of phones)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import peewee

from drivers.sip.auth import ALGORITHMS
from firmware.cli.errors import CliError
from firmware.cli.status import tell_switchd_reload
from firmware.cli.table import format_table
from firmware.db.connection import open_db
from firmware.db.models import Extension, ExtensionFeatures, Registration, RingGroupMember
from firmware.db.sip_passwords import generate_sip_password, weak_password_reason

_NUMBER = re.compile(r"^[0-9]{2,15}$")  # dialable from any phone keypad; E.164 length cap
MASK = "********"


def parse_digest(text: str) -> str:
    algs = [a.strip().upper() for a in text.split(",") if a.strip()]
    bad = [a for a in algs if a not in ALGORITHMS]
    if not algs or bad or len(set(algs)) != len(algs):
        raise CliError(f"--digest {text!r}: give MD5, SHA-256 or both, comma-separated")
    return ",".join(algs)


def add(data_dir: Path, number: str, password: str | None, name: str,
        digest: str = "MD5") -> int:
    if not _NUMBER.match(number):
        raise CliError(f"extension number {number!r} must be 2 to 15 digits")
    digest = parse_digest(digest)
    if password is None:
        password = generate_sip_password()
    else:
        reason = weak_password_reason(number, password)
        if reason:
            raise CliError(f"weak password for {number}: {reason}")
    open_db(data_dir)
    try:
        Extension.create(number=number, name=name, sip_password=password,
                         digest_algorithms=digest)
    except peewee.IntegrityError:
        raise CliError(f"extension {number} already exists") from None
    print(f"extension {number} added" + (f" ({name})" if name else ""))
    print(f"password: {password}")
    _reload(data_dir)
    return 0


def list_(data_dir: Path, show_secrets: bool) -> int:
    open_db(data_dir)
    now = time.time()
    contacts: dict[str, list[str]] = {}
    for reg in (
        Registration.select()
        .where(Registration.expires_at > now)
        .order_by(Registration.aor, Registration.contact)
    ):
        contacts.setdefault(reg.aor, []).append(f"{reg.contact} ({reg.transport})")
    rows = [
        (
            e.number,
            e.name,
            "yes" if e.enabled else "no",
            e.sip_password if show_secrets else MASK,
            ", ".join(contacts.get(e.number, [])),
        )
        for e in Extension.select().order_by(Extension.number)
    ]
    if not rows:
        print("no extensions")
        return 0
    print(format_table(("number", "name", "enabled", "password", "registered contacts"), rows))
    return 0


def delete(data_dir: Path, number: str) -> int:
    db = open_db(data_dir)
    with db.atomic():
        deleted = Extension.delete().where(Extension.number == number).execute()
        # Bindings of a deleted account must not outlive it across a switchd restart.
        Registration.delete().where(Registration.aor == number).execute()
        # its features and ring-group places go with it; its voicemail messages stay
        ExtensionFeatures.delete().where(ExtensionFeatures.number == number).execute()
        RingGroupMember.delete().where(RingGroupMember.extension == number).execute()
    if not deleted:
        raise CliError(f"no extension {number}")
    print(f"extension {number} deleted")
    _reload(data_dir)
    return 0


def _reload(data_dir: Path) -> None:
    note = tell_switchd_reload(data_dir)
    if note:
        print(note)
