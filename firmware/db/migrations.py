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


# The call-center configuration (firmware/db/site_models.py, decision 0014): trunks and
# DIDs with time rules, queues, members, supervisors, agents and skills, IVR flows
# (versioned), schedules and holiday calendars, caller lists, blacklist, auto-lock rules
# and the locks they set, uploaded prompts.
_SITE_CONFIG_SCHEMA = (
    """CREATE TABLE "trunk" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "name" VARCHAR(255) NOT NULL,
        "kind" VARCHAR(255) NOT NULL,
        "port" VARCHAR(255) NOT NULL,
        "description" TEXT NOT NULL,
        "enabled" INTEGER NOT NULL,
        "position" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "trunk_name" ON "trunk" ("name")',
    """CREATE TABLE "did" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "number" VARCHAR(255) NOT NULL,
        "name" VARCHAR(255) NOT NULL,
        "trunk" VARCHAR(255),
        "target" VARCHAR(255) NOT NULL,
        "calendar" VARCHAR(255),
        "holiday" VARCHAR(255),
        "priority" INTEGER NOT NULL,
        "position" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "did_number" ON "did" ("number")',
    """CREATE TABLE "did_time_rule" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "did_id" INTEGER NOT NULL,
        "position" INTEGER NOT NULL,
        "schedule" VARCHAR(255) NOT NULL,
        "target" VARCHAR(255) NOT NULL,
        FOREIGN KEY ("did_id") REFERENCES "did" ("id") ON DELETE CASCADE)""",
    'CREATE INDEX "didtimerule_did_id" ON "did_time_rule" ("did_id")',
    """CREATE TABLE "time_schedule" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "name" VARCHAR(255) NOT NULL,
        "tz" VARCHAR(255) NOT NULL,
        "week" TEXT NOT NULL,
        "makeup_as" VARCHAR(255) NOT NULL,
        "position" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "timeschedule_name" ON "time_schedule" ("name")',
    """CREATE TABLE "holiday_calendar" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "name" VARCHAR(255) NOT NULL,
        "note" TEXT NOT NULL,
        "position" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "holidaycalendar_name" ON "holiday_calendar" ("name")',
    """CREATE TABLE "calendar_day" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "calendar_id" INTEGER NOT NULL,
        "kind" VARCHAR(255) NOT NULL,
        "date" VARCHAR(255) NOT NULL,
        "name" VARCHAR(255) NOT NULL,
        "position" INTEGER NOT NULL,
        FOREIGN KEY ("calendar_id") REFERENCES "holiday_calendar" ("id") ON DELETE CASCADE)""",
    'CREATE INDEX "calendarday_calendar_id" ON "calendar_day" ("calendar_id")',
    """CREATE TABLE "agent" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "agent_id" VARCHAR(255) NOT NULL,
        "name" VARCHAR(255) NOT NULL,
        "wrap_up" REAL,
        "login" VARCHAR(255),
        "position" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "agent_agent_id" ON "agent" ("agent_id")',
    """CREATE TABLE "agent_skill" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "agent_id" INTEGER NOT NULL,
        "skill" VARCHAR(255) NOT NULL,
        "level" INTEGER NOT NULL,
        FOREIGN KEY ("agent_id") REFERENCES "agent" ("id") ON DELETE CASCADE)""",
    'CREATE INDEX "agentskill_agent_id" ON "agent_skill" ("agent_id")',
    'CREATE UNIQUE INDEX "agentskill_agent_id_skill" ON "agent_skill" ("agent_id", "skill")',
    """CREATE TABLE "acd_queue" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "name" VARCHAR(255) NOT NULL,
        "position" INTEGER NOT NULL,
        "strategy" VARCHAR(255) NOT NULL,
        "ring_timeout" REAL NOT NULL,
        "retry" REAL NOT NULL,
        "wrap_up" REAL NOT NULL,
        "ring_in_use" INTEGER NOT NULL,
        "max_wait" REAL,
        "timeout_target" VARCHAR(255),
        "empty_target" VARCHAR(255),
        "moh_class" VARCHAR(255) NOT NULL,
        "announce_frequency" REAL NOT NULL,
        "announce_position" INTEGER NOT NULL,
        "announce_ewt" INTEGER NOT NULL,
        "announce_on_join" INTEGER NOT NULL,
        "periodic_prompt" VARCHAR(255),
        "periodic_frequency" REAL NOT NULL,
        "callback_key" VARCHAR(255),
        "exit_keys" TEXT NOT NULL,
        "skill_steps" TEXT NOT NULL,
        "skills" TEXT NOT NULL,
        "default_aht" REAL NOT NULL,
        "aht_window" INTEGER NOT NULL,
        "smart_routing" INTEGER NOT NULL,
        "outbound_trace" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "acdqueue_name" ON "acd_queue" ("name")',
    """CREATE TABLE "queue_member" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "queue_id" INTEGER NOT NULL,
        "agent_id" INTEGER NOT NULL,
        "position" INTEGER NOT NULL,
        "penalty" INTEGER NOT NULL,
        "weight" REAL NOT NULL,
        FOREIGN KEY ("queue_id") REFERENCES "acd_queue" ("id") ON DELETE CASCADE,
        FOREIGN KEY ("agent_id") REFERENCES "agent" ("id") ON DELETE CASCADE)""",
    'CREATE INDEX "queuemember_queue_id" ON "queue_member" ("queue_id")',
    'CREATE INDEX "queuemember_agent_id" ON "queue_member" ("agent_id")',
    'CREATE UNIQUE INDEX "queuemember_queue_id_agent_id" ON "queue_member" '
    '("queue_id", "agent_id")',
    """CREATE TABLE "queue_supervisor" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "queue_id" INTEGER NOT NULL,
        "extension" VARCHAR(255) NOT NULL,
        FOREIGN KEY ("queue_id") REFERENCES "acd_queue" ("id") ON DELETE CASCADE)""",
    'CREATE INDEX "queuesupervisor_queue_id" ON "queue_supervisor" ("queue_id")',
    'CREATE UNIQUE INDEX "queuesupervisor_queue_id_extension" ON "queue_supervisor" '
    '("queue_id", "extension")',
    """CREATE TABLE "ivr_flow" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "flow_id" VARCHAR(255) NOT NULL,
        "version" INTEGER NOT NULL,
        "name" VARCHAR(255) NOT NULL,
        "data" TEXT NOT NULL,
        "active" INTEGER NOT NULL,
        "created" REAL NOT NULL,
        "position" INTEGER NOT NULL)""",
    'CREATE INDEX "ivrflow_flow_id" ON "ivr_flow" ("flow_id")',
    'CREATE UNIQUE INDEX "ivrflow_flow_id_version" ON "ivr_flow" ("flow_id", "version")',
    """CREATE TABLE "caller_list" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "name" VARCHAR(255) NOT NULL,
        "note" TEXT NOT NULL,
        "position" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "callerlist_name" ON "caller_list" ("name")',
    """CREATE TABLE "caller_list_entry" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "list_id" INTEGER NOT NULL,
        "number" VARCHAR(255) NOT NULL,
        "position" INTEGER NOT NULL,
        FOREIGN KEY ("list_id") REFERENCES "caller_list" ("id") ON DELETE CASCADE)""",
    'CREATE INDEX "callerlistentry_list_id" ON "caller_list_entry" ("list_id")',
    """CREATE TABLE "blacklist" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "number" VARCHAR(255) NOT NULL,
        "treatment" VARCHAR(255) NOT NULL,
        "cause" INTEGER NOT NULL,
        "prompt" VARCHAR(255),
        "flow" VARCHAR(255),
        "note" TEXT NOT NULL,
        "expires" REAL,
        "created" REAL NOT NULL,
        "position" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "blacklist_number" ON "blacklist" ("number")',
    """CREATE TABLE "autolock_rule" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "name" VARCHAR(255) NOT NULL,
        "calls" INTEGER NOT NULL,
        "minutes" REAL NOT NULL,
        "days" REAL NOT NULL,
        "dids" TEXT NOT NULL,
        "exempt" VARCHAR(255),
        "treatment" VARCHAR(255) NOT NULL,
        "cause" INTEGER NOT NULL,
        "prompt" VARCHAR(255),
        "flow" VARCHAR(255),
        "enabled" INTEGER NOT NULL,
        "position" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "autolockrule_name" ON "autolock_rule" ("name")',
    """CREATE TABLE "number_lock" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "number" VARCHAR(255) NOT NULL,
        "rule" VARCHAR(255) NOT NULL,
        "since" REAL NOT NULL,
        "until" REAL NOT NULL,
        "reason" TEXT NOT NULL,
        "unlocked_at" REAL,
        "unlocked_by" VARCHAR(255))""",
    'CREATE INDEX "numberlock_number" ON "number_lock" ("number")',
    'CREATE INDEX "numberlock_until" ON "number_lock" ("until")',
    """CREATE TABLE "prompt" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "name" VARCHAR(255) NOT NULL,
        "text" TEXT NOT NULL,
        "created" REAL NOT NULL,
        "position" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "prompt_name" ON "prompt" ("name")',
    # One active version per flow id: activating a version is one UPDATE pair in a
    # transaction, and a bug that activates two is refused by SQLite, not run.
    'CREATE UNIQUE INDEX "ivrflow_one_active" ON "ivr_flow" ("flow_id") WHERE "active" = 1',
)


def _m0004_site_config(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    for statement in _SITE_CONFIG_SCHEMA:
        run_sql(db, statement)


_PHONE_FEATURES_SCHEMA = (
    # Per-extension call features (decision 0019). A row exists only for extensions
    # whose features were ever set; no row means all off. Forward targets are numbers
    # as dialled ("" = off); the PIN is an argon2id hash, never the digits.
    """CREATE TABLE "extension_features" (
        "number" VARCHAR(255) NOT NULL PRIMARY KEY,
        "forward_always" VARCHAR(255) NOT NULL DEFAULT '',
        "forward_busy" VARCHAR(255) NOT NULL DEFAULT '',
        "forward_no_answer" VARCHAR(255) NOT NULL DEFAULT '',
        "no_answer_timeout" INTEGER NOT NULL DEFAULT 20,
        "dnd" INTEGER NOT NULL DEFAULT 0,
        "mobile" VARCHAR(255) NOT NULL DEFAULT '',
        "mobile_delay" INTEGER NOT NULL DEFAULT 10,
        "voicemail" INTEGER NOT NULL DEFAULT 0,
        "voicemail_pin_hash" VARCHAR(255) NOT NULL DEFAULT '',
        "updated" REAL NOT NULL)""",
    """CREATE TABLE "ring_group" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "number" VARCHAR(255) NOT NULL,
        "name" VARCHAR(255) NOT NULL DEFAULT '',
        "strategy" VARCHAR(255) NOT NULL DEFAULT 'simultaneous',
        "ring_timeout" INTEGER NOT NULL DEFAULT 20,
        "fallback" VARCHAR(255) NOT NULL DEFAULT '',
        "enabled" INTEGER NOT NULL DEFAULT 1,
        "created" REAL NOT NULL)""",
    'CREATE UNIQUE INDEX "ring_group_number" ON "ring_group" ("number")',
    """CREATE TABLE "ring_group_member" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "group_id" INTEGER NOT NULL REFERENCES "ring_group" ("id") ON DELETE CASCADE,
        "position" INTEGER NOT NULL,
        "extension" VARCHAR(255) NOT NULL,
        "timeout" INTEGER)""",
    'CREATE INDEX "ring_group_member_group_id" ON "ring_group_member" ("group_id")',
    # One row per voicemail message; the audio is DATA/<path> (8 kHz mono WAV).
    """CREATE TABLE "voicemail_message" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "mailbox" VARCHAR(255) NOT NULL,
        "folder" VARCHAR(255) NOT NULL DEFAULT 'new',
        "caller" VARCHAR(255) NOT NULL DEFAULT '',
        "caller_name" VARCHAR(255) NOT NULL DEFAULT '',
        "call_id" VARCHAR(255) NOT NULL DEFAULT '',
        "created" REAL NOT NULL,
        "seconds" REAL NOT NULL,
        "path" TEXT NOT NULL)""",
    'CREATE UNIQUE INDEX "voicemail_message_path" ON "voicemail_message" ("path")',
    'CREATE INDEX "voicemail_message_mailbox" ON "voicemail_message" ("mailbox", "folder")',
)


def _m0005_phone_features(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    for statement in _PHONE_FEATURES_SCHEMA:
        run_sql(db, statement)


_CTI_DESK_SCHEMA = (
    # Who a web user works as: the ACD agent id an admin binds them to, and the extension
    # they picked at the agent desktop / supervisor page (their phone).
    'ALTER TABLE "user" ADD COLUMN "agent" VARCHAR(255)',
    'ALTER TABLE "user" ADD COLUMN "extension" VARCHAR(255)',
    # Call-record search by queue and agent: columns of their own (indexed with the start
    # time), filled by the CDR writer from the call's extra; old rows from their JSON.
    """ALTER TABLE "cdr" ADD COLUMN "queue" VARCHAR(255) NOT NULL DEFAULT ''""",
    """ALTER TABLE "cdr" ADD COLUMN "agent" VARCHAR(255) NOT NULL DEFAULT ''""",
    """UPDATE "cdr" SET "queue" = COALESCE(json_extract("extra", '$.queue'), ''),
        "agent" = COALESCE(json_extract("extra", '$.agent'), '') WHERE json_valid("extra")""",
    'CREATE INDEX "cdr_queue_start" ON "cdr" ("queue", "start")',
    'CREATE INDEX "cdr_agent_start" ON "cdr" ("agent", "start")',
    # API tokens for programs and wallboards: only the SHA-256 is kept; `prefix` is the
    # first characters, shown so an admin can tell tokens apart.
    """CREATE TABLE "api_token" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "name" VARCHAR(255) NOT NULL,
        "prefix" VARCHAR(255) NOT NULL,
        "token_hash" VARCHAR(255) NOT NULL,
        "role" VARCHAR(255) NOT NULL,
        "agent" VARCHAR(255),
        "extension" VARCHAR(255),
        "created" REAL NOT NULL,
        "created_by" VARCHAR(255) NOT NULL,
        "expires" REAL,
        "last_used" REAL,
        "revoked" INTEGER NOT NULL)""",
    'CREATE UNIQUE INDEX "apitoken_token_hash" ON "api_token" ("token_hash")',
    # The caller's record for the screen pop, minimal on purpose (the service desk
    # extends it): a customer, the numbers they call from, their orders.
    """CREATE TABLE "customer" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "name" VARCHAR(255) NOT NULL,
        "address" TEXT NOT NULL,
        "note" TEXT NOT NULL,
        "created" REAL NOT NULL,
        "updated" REAL NOT NULL)""",
    """CREATE TABLE "customer_number" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "customer_id" INTEGER NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
        "number" VARCHAR(255) NOT NULL)""",
    'CREATE UNIQUE INDEX "customernumber_number" ON "customer_number" ("number")',
    'CREATE INDEX "customernumber_customer_id" ON "customer_number" ("customer_id")',
    """CREATE TABLE "customer_order" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "customer_id" INTEGER NOT NULL REFERENCES "customer" ("id") ON DELETE CASCADE,
        "created" REAL NOT NULL,
        "subject" TEXT NOT NULL,
        "status" VARCHAR(255) NOT NULL,
        "call_id" VARCHAR(255),
        "created_by" VARCHAR(255) NOT NULL)""",
    'CREATE INDEX "customerorder_customer_id" ON "customer_order" ("customer_id")',
    # What the agent wrote about a call (after it, or during it): by call id, since the
    # CDR row is written only once the call has ended.
    """CREATE TABLE "call_note" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "call_id" VARCHAR(255) NOT NULL,
        "author" VARCHAR(255) NOT NULL,
        "text" TEXT NOT NULL,
        "disposition" VARCHAR(255) NOT NULL,
        "customer_id" INTEGER REFERENCES "customer" ("id") ON DELETE SET NULL,
        "created" REAL NOT NULL)""",
    'CREATE INDEX "callnote_call_id" ON "call_note" ("call_id")',
)


def _m0006_cti_desk(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    for statement in _CTI_DESK_SCHEMA:
        run_sql(db, statement)


def _m0007_remote_answer(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    # Per-extension consent to answer the phone from the desk (CTI Answer, click-to-dial
    # picking up by itself): off unless an admin says the phone supports it.
    run_sql(db, 'ALTER TABLE "extension_features" ADD COLUMN "remote_answer" INTEGER NOT '
            "NULL DEFAULT 0")

_CONFERENCE_ROOMS_SCHEMA = (
    # Conference rooms 6000-6099, part of the site configuration (they were in
    # DATA/conference.json, which switchd imports once at start: firmware/siteconfig/
    # legacy_rooms.py). The PIN is an argon2id hash, as a voicemail PIN.
    """CREATE TABLE "conference_room" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "number" VARCHAR(255) NOT NULL,
        "name" VARCHAR(255) NOT NULL DEFAULT '',
        "pin_hash" VARCHAR(255) NOT NULL,
        "position" INTEGER NOT NULL DEFAULT 0)""",
    'CREATE UNIQUE INDEX "conferenceroom_number" ON "conference_room" ("number")',
)


def _m0008_conference_rooms(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
    for statement in _CONFERENCE_ROOMS_SCHEMA:
        run_sql(db, statement)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _m0001_initial),
    Migration(2, "per-extension digest algorithms", _m0002_digest_algorithms),
    Migration(3, "web users, sessions, operation log", _m0003_web_auth),
    Migration(4, "call-center configuration", _m0004_site_config),
    Migration(5, "phone features, ring groups, voicemail", _m0005_phone_features),
    Migration(6, "agent desktop, customers, call notes, API tokens", _m0006_cti_desk),
    Migration(7, "remote answer per extension", _m0007_remote_answer),
    Migration(8, "conference rooms in the site configuration", _m0008_conference_rooms),
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
