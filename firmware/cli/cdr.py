"""`ccbox cdr list`: the most recent call records."""

from __future__ import annotations

import time
from pathlib import Path

from firmware.cli.table import format_table
from firmware.db.connection import open_db
from firmware.db.models import Cdr


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def list_(data_dir: Path, limit: int) -> int:
    open_db(data_dir)
    rows = [
        (
            _when(c.start),
            c.direction,
            c.caller,
            c.called,
            c.callee,
            f"{c.ring_seconds:.0f}",
            f"{c.talk_seconds:.0f}",
            f"{c.cause} {c.cause_text}",
            c.released_by,
            c.call_id,
            c.recording,
        )
        for c in Cdr.select().order_by(Cdr.start.desc()).limit(limit)
    ]
    if not rows:
        print("no call records")
        return 0
    headers = (
        "start",
        "dir",
        "caller",
        "called",
        "answered by",
        "ring s",
        "talk s",
        "cause",
        "released by",
        "call id",
        "recording",
    )
    print(format_table(headers, rows))
    return 0
