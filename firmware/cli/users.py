"""`ccbox user add|list|passwd|unlock`: web UI accounts from the box's shell.

This is how the first admin comes to exist (decision 0011): the image ships no web
password at all, and someone with a shell on the box -- the installer -- creates it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import peewee

from firmware.cli.errors import CliError
from firmware.cli.table import format_table
from firmware.db.connection import open_db
from firmware.db.models import ROLES, USER_NAME, User
from webui import oplog
from webui.passwords import generate_password, hash_password, weak_password_reason

ACTOR = "cli"
ADDRESS = "local"


def _password(name: str, from_stdin: bool) -> tuple[str, bool]:
    """(password, generated)."""
    if not from_stdin:
        return generate_password(), True
    password = sys.stdin.readline().rstrip("\r\n")
    reason = weak_password_reason(name, password)
    if reason:
        raise CliError(f"weak password: {reason}")
    return password, False


def add(data_dir: Path, name: str, role: str, language: str, from_stdin: bool,
        agent: str | None = None) -> int:
    if not USER_NAME.match(name):
        raise CliError(f"user name {name!r}: 2 to 32 letters, digits or _.@-")
    if role not in ROLES:
        raise CliError(f"role {role!r}: one of {', '.join(ROLES)}")
    password, generated = _password(name, from_stdin)
    db = open_db(data_dir)
    try:
        with db.atomic():
            User.create(name=name, role=role, language=language,
                        password_hash=hash_password(password), agent=agent or None)
            oplog.record(ACTOR, ADDRESS, "user.add", name, None,
                         {"name": name, "role": role, "language": language,
                          "agent": agent or None})
    except peewee.IntegrityError:
        raise CliError(f"user {name} already exists") from None
    print(f"user {name} added ({role})")
    if generated:
        print(f"password: {password}")
    return 0


def list_(data_dir: Path) -> int:
    open_db(data_dir)
    now = time.time()
    rows = [
        (u.name, u.role, u.language, "yes" if u.enabled else "no",
         "locked" if u.locked_until > now else "")
        for u in User.select().order_by(User.name)
    ]
    if not rows:
        print("no users (add the first admin: ccbox user add NAME --role admin)")
        return 0
    print(format_table(("name", "role", "language", "enabled", "lock"), rows))
    return 0


def passwd(data_dir: Path, name: str, from_stdin: bool) -> int:
    db = open_db(data_dir)
    user = User.get_or_none(User.name == name)
    if user is None:
        raise CliError(f"no user {name}")
    password, generated = _password(name, from_stdin)
    with db.atomic():
        # The box's shell is the recovery path for a locked-out admin: unlock too.
        User.update(password_hash=hash_password(password), failed_logins=0,
                    locked_until=0.0).where(User.id == user.id).execute()
        oplog.record(ACTOR, ADDRESS, "user.password", name, None, {"password": "(new)"})
    print(f"password of {name} changed")
    if generated:
        print(f"password: {password}")
    return 0


def unlock(data_dir: Path, name: str) -> int:
    db = open_db(data_dir)
    with db.atomic():
        n = User.update(failed_logins=0, locked_until=0.0).where(User.name == name).execute()
        if n:
            oplog.record(ACTOR, ADDRESS, "user.unlock", name)
    if not n:
        raise CliError(f"no user {name}")
    print(f"user {name} unlocked")
    return 0
