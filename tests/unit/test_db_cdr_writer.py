"""CdrWriter: rows from CallEnded events, written off the call path, never lost quietly."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

import pytest

from firmware.db.cdr_writer import CdrWriter
from firmware.db.connection import db_path, open_db
from firmware.db.models import Cdr
from firmware.switch.bus import EventBus
from firmware.switch.causes import Cause
from firmware.switch.events import CallEnded, Established


def _ended(call_id: str, *, answered: bool = True, **kw: object) -> CallEnded:
    t = 1_700_000_000.0
    fields: dict[str, object] = dict(
        time=t + 30,
        call_id=call_id,
        caller="13800138000",
        called="8001",
        callee="8001" if answered else "",
        start=t,
        answer=t + 4 if answered else None,
        end=t + 30,
        cause=Cause.NORMAL_CLEARING if answered else Cause.ORIGINATOR_CANCEL,
        released_by="caller",
        recording=None,
    )
    fields.update(kw)
    return CallEnded(**fields)  # type: ignore[arg-type]


def _rows(tmp_path: Path) -> list[dict[str, object]]:
    open_db(tmp_path)
    return [dict(c.__data__) for c in Cdr.select().order_by(Cdr.start, Cdr.call_id)]


def test_call_ended_on_the_bus_becomes_a_row(tmp_path: Path) -> None:
    writer = CdrWriter(tmp_path)
    writer.start()
    bus = EventBus()
    bus.subscribe(writer.on_event)
    rec = tmp_path / "recordings/2023/11/14/c1.wav"
    bus.publish(Established(time=1.0, call_id="c1", channel_id="sip/1", callee="8001"))
    bus.publish(_ended("c1", recording=str(rec), extra={"direction": "in", "trunk": "e1/1"}))
    assert writer.stop()
    [row] = _rows(tmp_path)
    assert row["call_id"] == "c1"
    assert row["direction"] == "in"
    assert (row["caller"], row["called"], row["callee"]) == ("13800138000", "8001", "8001")
    assert row["ring_seconds"] == 4.0 and row["talk_seconds"] == 26.0
    assert row["cause"] == 16 and row["cause_text"] == "NORMAL_CLEARING"
    assert row["released_by"] == "caller"
    assert row["recording"] == "recordings/2023/11/14/c1.wav"
    assert '"trunk": "e1/1"' in str(row["extra"])


def test_unanswered_call(tmp_path: Path) -> None:
    writer = CdrWriter(tmp_path)
    writer.start()
    writer.on_event(_ended("c2", answered=False))
    assert writer.stop()
    [row] = _rows(tmp_path)
    assert row["answer"] is None and row["callee"] == ""
    assert row["ring_seconds"] == 30.0 and row["talk_seconds"] == 0.0
    assert row["cause"] == 487


def test_stop_drains_the_queue(tmp_path: Path) -> None:
    writer = CdrWriter(tmp_path)
    for i in range(500):  # queued before the thread even runs
        writer.on_event(_ended(f"call-{i:03d}", start=1_700_000_000.0 + i))
    writer.start()
    assert writer.stop()
    assert len(_rows(tmp_path)) == 500
    assert writer.pending == 0


def test_publishing_never_waits_for_the_database(tmp_path: Path) -> None:
    open_db(tmp_path).close()
    lock = sqlite3.connect(db_path(tmp_path), isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    writer = CdrWriter(tmp_path, busy_timeout_ms=2000)
    writer.start()
    t0 = time.monotonic()
    for i in range(100):
        writer.on_event(_ended(f"c{i}"))
    assert time.monotonic() - t0 < 0.05
    lock.rollback()
    lock.close()
    assert writer.stop()


def test_locked_database_is_retried_not_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    open_db(tmp_path).close()
    lock = sqlite3.connect(db_path(tmp_path), isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    writer = CdrWriter(tmp_path, busy_timeout_ms=50, retry_initial=0.05, retry_max=0.1)
    writer.start()
    with caplog.at_level(logging.ERROR, logger="firmware.db.write_behind"):
        writer.on_event(_ended("held"))
        deadline = time.monotonic() + 5
        while "cannot write" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    assert "cannot write" in caplog.text and "locked" in caplog.text
    assert writer.pending == 1
    lock.rollback()
    lock.close()
    assert writer.flush(5)
    assert writer.stop()
    assert [r["call_id"] for r in _rows(tmp_path)] == ["held"]


def test_giving_up_at_stop_logs_the_rows(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    open_db(tmp_path).close()
    lock = sqlite3.connect(db_path(tmp_path), isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    writer = CdrWriter(tmp_path, busy_timeout_ms=20, retry_initial=0.02, retry_max=0.05)
    writer.start()
    with caplog.at_level(logging.ERROR, logger="firmware.db.write_behind"):
        writer.on_event(_ended("doomed-call"))
        assert not writer.stop(timeout=0.3)
    lock.rollback()
    lock.close()
    assert "LOST" in caplog.text and "doomed-call" in caplog.text


def test_duplicate_call_id_is_reported_and_others_still_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = CdrWriter(tmp_path)
    writer.on_event(_ended("dup"))
    writer.on_event(_ended("dup", caller="999"))
    writer.on_event(_ended("other", start=1_700_000_100.0))
    with caplog.at_level(logging.ERROR, logger="firmware.db.write_behind"):
        writer.start()
        assert writer.stop()
    assert [r["call_id"] for r in _rows(tmp_path)] == ["dup", "other"]
    assert "dropped" in caplog.text and "caller='999'" in caplog.text


def test_other_events_are_ignored(tmp_path: Path) -> None:
    writer = CdrWriter(tmp_path)
    writer.start()
    writer.on_event(Established(time=1.0, call_id="c1", channel_id="sip/1", callee="8001"))
    assert writer.pending == 0
    assert writer.stop()


def test_the_prebuilt_insert_covers_every_column_of_the_row(tmp_path: Path) -> None:
    from firmware.db.cdr_writer import CDR_COLUMNS, cdr_row

    assert set(CDR_COLUMNS) == set(cdr_row(_ended("c-cols"), tmp_path))
    # every column of the table but the key is written
    assert set(CDR_COLUMNS) == {f.name for f in Cdr._meta.sorted_fields} - {"id"}
