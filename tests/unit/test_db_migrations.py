"""The migration runner and the schema it produces."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import peewee
import pytest
from playhouse.migrate import SqliteMigrator
from playhouse.migrate import migrate as run_ops

from firmware.db.connection import connect, db_path, open_db
from firmware.db.migrations import (
    MIGRATIONS,
    Migration,
    SchemaError,
    migrate,
    run_sql,
    schema_version,
)
from firmware.db.models import MODELS, Extension


def _bare(tmp_path: Path) -> peewee.SqliteDatabase:
    return peewee.SqliteDatabase(str(tmp_path / "t.db"))


def test_fresh_database_gets_every_table(tmp_path: Path) -> None:
    db = _bare(tmp_path)
    assert migrate(db) == [m.version for m in MIGRATIONS]
    assert schema_version(db) == len(MIGRATIONS)
    tables = set(db.get_tables())
    assert {"extension", "registration", "cdr", "setting", "schema_version"} <= tables


def test_running_twice_is_a_no_op(tmp_path: Path) -> None:
    db = _bare(tmp_path)
    migrate(db)
    assert migrate(db) == []
    rows = run_sql(db, 'SELECT COUNT(*) FROM "schema_version"').fetchone()
    assert rows[0] == len(MIGRATIONS)


def test_models_match_the_migrated_schema(tmp_path: Path) -> None:
    # The migrations are frozen SQL; this catches a model changed without a migration.
    db = _bare(tmp_path)
    migrate(db)
    for model in MODELS:
        table = model._meta.table_name
        columns = {c.name: c for c in db.get_columns(table)}
        fields = {f.column_name: f for f in model._meta.sorted_fields}
        assert set(columns) == set(fields), table
        for name, field in fields.items():
            assert columns[name].null == field.null, f"{table}.{name}"
        indexes = {tuple(i.columns): i.unique for i in db.get_indexes(table)}
        for f in fields.values():
            if f.unique:
                assert indexes.get((f.column_name,)) is True, f"{table}.{f.column_name}"
            elif f.index:
                assert (f.column_name,) in indexes, f"{table}.{f.column_name}"
        for cols, unique in model._meta.indexes:
            assert indexes.get(tuple(cols)) is unique, f"{table}{cols}"


def test_later_migration_keeps_rows(tmp_path: Path) -> None:
    db = _bare(tmp_path)
    migrate(db)
    db.bind(MODELS)
    Extension.create(number="8001", name="坐席01", sip_password="s3cret-pass")

    def add_email(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
        run_ops(migrator.add_column("extension", "email", peewee.TextField(default="")))

    later = (*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "extension email", add_email))
    assert migrate(db, later) == [len(later)]
    assert migrate(db, later) == []
    row = run_sql(db, 'SELECT "number", "name", "sip_password", "email" FROM "extension"')
    assert row.fetchall() == [("8001", "坐席01", "s3cret-pass", "")]


def test_failed_migration_is_rolled_back(tmp_path: Path) -> None:
    db = _bare(tmp_path)
    migrate(db)

    def broken(db: peewee.SqliteDatabase, migrator: SqliteMigrator) -> None:
        run_sql(db, 'CREATE TABLE "half_done" ("x" INTEGER)')
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        migrate(db, (*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "broken", broken)))
    assert schema_version(db) == len(MIGRATIONS)
    assert "half_done" not in db.get_tables()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = _bare(tmp_path)
    migrate(db, (*MIGRATIONS, Migration(len(MIGRATIONS) + 1, "future", lambda d, m: None)))
    with pytest.raises(SchemaError, match="newer than this firmware"):
        migrate(db)


def test_numbering_must_be_contiguous(tmp_path: Path) -> None:
    with pytest.raises(SchemaError):
        migrate(_bare(tmp_path), (Migration(2, "gap", lambda d, m: None),))


def test_database_file_is_private_and_configured(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    assert stat.S_IMODE(os.stat(db_path(tmp_path)).st_mode) == 0o600
    assert db.pragma("journal_mode") == "wal"
    assert db.pragma("foreign_keys") == 1
    assert db.pragma("busy_timeout") == 5000
    db.close()


def test_second_connection_sees_migrated_schema(tmp_path: Path) -> None:
    first = connect(tmp_path)
    second = connect(tmp_path)
    assert schema_version(second) == len(MIGRATIONS)
    first.close()
    second.close()
