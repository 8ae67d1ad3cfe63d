"""Schema migrations: an ordered list of numbered steps, each applied once, in a transaction.

A migration is frozen once released: it describes the schema as it was at that version,
never the live models, so an old database always upgrades through the same steps. Add a
new numbered migration for every change (alters through `playhouse.migrate`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import peewee
from playhouse.migrate import SqliteMigrator

log = logging.getLogger(__name__)


class SchemaError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[peewee.SqliteDatabase, SqliteMigrator], None]


_INITIAL_SCHEMA = (
    """CREATE TABLE "extension" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "number" VARCHAR(255) NOT NULL,
        "name" VARCHAR(255) NOT NULL,
        "sip_password" VARCHAR(255) NOT NULL,
        "enabled" INTEGER NOT NULL,
        "created" REAL NOT NULL)""",
    'CREATE UNIQUE INDEX "extension_number" ON "extension" ("number")',
    """CREATE TABLE "registration" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "aor" VARCHAR(255) NOT NULL,
        "contact" TEXT NOT NULL,
        "source" VARCHAR(255) NOT NULL,
        "transport" VARCHAR(255) NOT NULL,
        "expires_at" REAL NOT NULL,
        "user_agent" TEXT NOT NULL,
        "call_id" TEXT NOT NULL,
        "cseq" INTEGER NOT NULL,
        "q" REAL NOT NULL)""",
    'CREATE UNIQUE INDEX "registration_aor_contact" ON "registration" ("aor", "contact")',
    """CREATE TABLE "cdr" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "call_id" VARCHAR(255) NOT NULL,
        "direction" VARCHAR(255) NOT NULL,
        "caller" VARCHAR(255) NOT NULL,
        "called" VARCHAR(255) NOT NULL,
        "callee" VARCHAR(255) NOT NULL,
        "start" REAL NOT NULL,
        "answer" REAL,
        "end" REAL NOT NULL,
        "ring_seconds" REAL NOT NULL,
        "talk_seconds" REAL NOT NULL,
        "cause" INTEGER NOT NULL,
        "cause_text" VARCHAR(255) NOT NULL,
        "released_by" VARCHAR(255) NOT NULL,
        "recording" TEXT,
        "extra" TEXT NOT NULL)""",
    'CREATE UNIQUE INDEX "cdr_call_id" ON "cdr" ("call_id")',
    'CREATE INDEX "cdr_start" ON "cdr" ("start")',
    'CREATE INDEX "cdr_caller" ON "cdr" ("caller")',
    'CREATE INDEX "cdr_called" ON "cdr" ("called")',
    """CREATE TABLE "setting" (
        "key" VARCHAR(255) NOT NULL PRIMARY KEY,
        "value" TEXT NOT NULL)""",
)


def run_sql(db: peewee.SqliteDatabase, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
    """`execute_sql` with types, for migrations and their tests."""
    cursor: sqlite3.Cursor = db.execute_sql(sql, params)  # type: ignore[no-untyped-call]
    return cursor


def _m0001_initial(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    for statement in _INITIAL_SCHEMA:
        run_sql(db, statement)


def _m0002_digest_algorithms(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    # Which digest algorithms the box offers each phone: baresip 1.0 and sipp abort on any
    # non-MD5 challenge, so SHA-256 is switched on per extension (decision 0006).
    run_sql(
        db,
        'ALTER TABLE "extension" ADD COLUMN "digest_algorithms" VARCHAR(255) NOT NULL '
        "DEFAULT 'MD5'",
    )


_WEB_AUTH_SCHEMA = (
    # Web UI users (decision 0011). `failed_logins`/`locked_until` carry the per-user
    # lockout across webd restarts; `language` is the user's UI language.
    """CREATE TABLE "user" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "name" VARCHAR(255) NOT NULL,
        "password_hash" VARCHAR(255) NOT NULL,
        "role" VARCHAR(255) NOT NULL,
        "language" VARCHAR(255) NOT NULL,
        "enabled" INTEGER NOT NULL,
        "failed_logins" INTEGER NOT NULL,
        "locked_until" REAL NOT NULL,
        "created" REAL NOT NULL)""",
    'CREATE UNIQUE INDEX "user_name" ON "user" ("name")',
    # Server-side sessions: the cookie holds a random token, the table only its SHA-256,
    # so a copy of the database cannot be replayed as a cookie.
    """CREATE TABLE "session" (
        "token_hash" VARCHAR(255) NOT NULL PRIMARY KEY,
        "user_id" INTEGER NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE,
        "csrf_token" VARCHAR(255) NOT NULL,
        "created" REAL NOT NULL,
        "last_seen" REAL NOT NULL,
        "expires_at" REAL NOT NULL,
        "address" VARCHAR(255) NOT NULL)""",
    'CREATE INDEX "session_user_id" ON "session" ("user_id")',
    'CREATE INDEX "session_expires_at" ON "session" ("expires_at")',
    # Who changed what, from where. `actor` is a name, not a foreign key: the log must
    # outlive the deletion of the user it names.
    """CREATE TABLE "oplog" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "at" REAL NOT NULL,
        "actor" VARCHAR(255) NOT NULL,
        "address" VARCHAR(255) NOT NULL,
        "action" VARCHAR(255) NOT NULL,
        "target" VARCHAR(255) NOT NULL,
        "before" TEXT,
        "after" TEXT)""",
    'CREATE INDEX "oplog_at" ON "oplog" ("at")',
    # Call-record search: "number" matches caller, called or callee (an OR that SQLite
    # only answers from indexes when every column has one), and direction + time range.
    'CREATE INDEX "cdr_callee" ON "cdr" ("callee")',
    'CREATE INDEX "cdr_direction_start" ON "cdr" ("direction", "start")',
)


def _m0003_web_auth(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    for statement in _WEB_AUTH_SCHEMA:
        run_sql(db, statement)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _m0001_initial),
    Migration(2, "per-extension digest algorithms", _m0002_digest_algorithms),
    Migration(3, "web users, sessions, operation log", _m0003_web_auth),
)


def _check_sequence(migrations: Sequence[Migration]) -> None:
    expected = list(range(1, len(migrations) + 1))
    if [m.version for m in migrations] != expected:
        raise SchemaError(f"migrations must be numbered 1..{len(migrations)} without gaps")


def schema_version(db: peewee.SqliteDatabase) -> int:
    """0 for a database that has never been migrated."""
    if not db.table_exists("schema_version"):
        return 0
    row = run_sql(db, 'SELECT MAX("version") FROM "schema_version"').fetchone()
    return int(row[0] or 0)


def migrate(db: peewee.SqliteDatabase, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Bring `db` to the newest version; returns the versions applied (empty: up to date).

    Several daemons may start at once on the same file: each step takes the write lock
    before it reads the version, so exactly one of them applies it.
    """
    _check_sequence(migrations)
    run_sql(
        db,
        'CREATE TABLE IF NOT EXISTS "schema_version" ('
        '"version" INTEGER NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "applied" REAL NOT NULL)',
    )
    newest = len(migrations)
    current = schema_version(db)
    if current > newest:
        # Running older firmware on a newer schema (e.g. after falling back to the other
        # A/B slot) could write rows the newer schema considers invalid.
        raise SchemaError(
            f"database schema version {current} is newer than this firmware knows ({newest}); "
            "boot the matching firmware or restore a backup taken with this one"
        )
    applied: list[int] = []
    for m in migrations:
        if m.version <= current:
            continue
        with db.atomic(lock_type="IMMEDIATE"):
            if schema_version(db) >= m.version:
                continue
            m.apply(db, SqliteMigrator(db))
            run_sql(
                db,
                'INSERT INTO "schema_version" ("version", "name", "applied") VALUES (?, ?, ?)',
                (m.version, m.name, time.time()),
            )
        log.info("database migrated to version %d (%s)", m.version, m.name)
        applied.append(m.version)
    return applied
