"""Opening the box's SQLite database: one file on the data partition, always migrated."""

from __future__ import annotations

import os
from pathlib import Path

import peewee

from firmware.db.migrations import migrate
from firmware.db.models import MODELS
from firmware.db.site_models import SITE_MODELS
from firmware.db.web_models import WEB_MODELS

DB_FILENAME = "ccbox.db"
DEFAULT_BUSY_TIMEOUT_MS = 5000


def db_path(data_dir: Path) -> Path:
    return data_dir / DB_FILENAME


def _create_private_file(path: Path) -> None:
    # The file holds the SIP passwords: create it 0600 before SQLite does, since SQLite
    # would honour the umask. SQLite gives -wal/-shm the owner and mode of this file.
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return
    try:
        if os.geteuid() == 0:
            # An installer running the CLI as root must not leave a root-owned database
            # that the daemons (User=ccbox) cannot open.
            st = path.parent.stat()
            os.fchown(fd, st.st_uid, st.st_gid)
    finally:
        os.close(fd)


def connect(
    data_dir: Path, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS
) -> peewee.SqliteDatabase:
    """A new database handle, migrated, with models left unbound.

    Background writers use this so their connection never depends on which database
    the models happen to be bound to in the process.
    """
    path = db_path(data_dir)
    _create_private_file(path)
    db = peewee.SqliteDatabase(
        str(path),
        pragmas={
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": busy_timeout_ms,
        },
        timeout=busy_timeout_ms / 1000,
    )
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def open_db(data_dir: Path) -> peewee.SqliteDatabase:
    """The process's main database handle: migrated and with the models bound to it."""
    db = connect(data_dir)
    db.bind([*MODELS, *SITE_MODELS, *WEB_MODELS])
    return db
