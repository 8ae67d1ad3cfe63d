"""Today's records from the queue-log file, read from its end.

The file grows for months; at start-up switchd needs only the records since midnight,
so it reads backwards in blocks until a line older than that (lines are appended in
time order, give or take a clock step, which the margin absorbs).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from firmware.acd.queuelog import QueueLogRecord, parse_line

log = logging.getLogger(__name__)

BLOCK = 64 * 1024
MARGIN = 300.0  # seconds of lines older than `since` still read past (clock steps)


def _first_field(line: bytes) -> float | None:
    head = line.split(b"|", 1)[0]
    try:
        return float(head)
    except ValueError:
        return None


def read_since(path: Path, since: float) -> list[QueueLogRecord]:
    """Records with time >= `since`, oldest first; unreadable lines are skipped (logged)."""
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return []
    with f:
        f.seek(0, os.SEEK_END)
        pos = f.tell()
        tail = b""
        lines: list[bytes] = []
        done = False
        while pos > 0 and not done:
            step = min(BLOCK, pos)
            pos -= step
            f.seek(pos)
            chunk = f.read(step) + tail
            parts = chunk.split(b"\n")
            tail = parts[0] if pos > 0 else b""  # maybe a partial line: joined next round
            block = parts[1:] if pos > 0 else parts
            for line in reversed(block):
                if not line.strip():
                    continue
                t = _first_field(line)
                if t is not None and t < since - MARGIN:
                    done = True
                    break
                lines.append(line)
    out: list[QueueLogRecord] = []
    bad = 0
    for raw in reversed(lines):
        try:
            record = parse_line(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            bad += 1
            continue
        if record.time >= since:
            out.append(record)
    if bad:
        log.warning("%s: %d unreadable queue-log line(s) skipped", path, bad)
    return out
