"""Call records: search, one call with its recording, playback/download, CSV export.

Every query filters on indexed columns first (start time, caller/called, direction) and
pages with LIMIT/OFFSET ordered by the start index. Playback is a route of its own so the
role check and the operation-log entry cannot be skipped by guessing a file path.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import bottle
import peewee

from firmware.db.models import Cdr
from webui import oplog
from webui.web import Ctx, Web

PAGE_SIZE = 50
CSV_LIMIT = 100_000  # an export is a report, not a backup
DIRECTIONS = ("", "in", "out", "internal")
AUDIO_TYPES = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
               ".opus": "audio/ogg"}


@dataclass(frozen=True)
class Search:
    start: str = ""  # datetime-local text, the box's local time
    end: str = ""
    number: str = ""
    direction: str = ""
    min_seconds: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, q: Any) -> Search:
        try:
            page = max(1, int(q.get("page", "1")))
        except ValueError:
            page = 1
        return cls(q.getunicode("start", "").strip(), q.getunicode("end", "").strip(),
                   q.getunicode("number", "").strip(), q.getunicode("direction", "").strip(),
                   q.getunicode("min_seconds", "").strip(), page)

    def errors(self) -> list[str]:
        errs = []
        for value in (self.start, self.end):
            if value and _epoch(value) is None:
                errs.append("Time must look like 2026-01-31T08:00.")
        if self.min_seconds and not self.min_seconds.isdigit():
            errs.append("Minimum duration must be a whole number of seconds.")
        if self.direction not in DIRECTIONS:
            errs.append("Unknown direction.")
        if self.number and not all(c.isdigit() or c in "+*#" for c in self.number):
            errs.append("A number has only digits, +, * and #.")
        return errs

    def query(self) -> peewee.ModelSelect[Cdr]:
        q = Cdr.select()
        start, end = _epoch(self.start), _epoch(self.end)
        if start is not None:
            q = q.where(Cdr.start >= start)
        if end is not None:
            q = q.where(Cdr.start < end)
        if self.number:
            q = q.where((Cdr.caller == self.number) | (Cdr.called == self.number)
                        | (Cdr.callee == self.number))
        if self.direction:
            q = q.where(Cdr.direction == self.direction)
        if self.min_seconds.isdigit():
            q = q.where(Cdr.talk_seconds >= int(self.min_seconds))
        return q.order_by(Cdr.start.desc(), Cdr.id.desc())

    def link(self, **changes: object) -> str:
        params = {"start": self.start, "end": self.end, "number": self.number,
                  "direction": self.direction, "min_seconds": self.min_seconds,
                  "page": self.page}
        params.update(changes)
        return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def _epoch(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def local_time(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) if epoch else ""


def recording_path(data_dir: Path, cdr: Cdr) -> Path | None:
    """The recording file of `cdr` when it exists inside the data dir's recordings."""
    if not cdr.recording:
        return None
    root = (data_dir / "recordings").resolve()
    path = (data_dir / cdr.recording).resolve()
    # A CDR row is data: it must not be able to point webd at /etc/shadow.
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def _csv_rows(rows: peewee.ModelSelect[Cdr], ctx: Ctx) -> Iterator[str]:
    buf = io.StringIO()
    out = csv.writer(buf)
    # A BOM so Excel on a Chinese Windows opens the UTF-8 file with the right encoding.
    buf.write("\ufeff")
    out.writerow([ctx._(h) for h in ("Start", "Direction", "Caller", "Called", "Answered by",
                                     "Ring (s)", "Talk (s)", "Cause", "Released by", "Call ID")])
    for c in rows.iterator():
        out.writerow([local_time(c.start), c.direction, _cell(c.caller), _cell(c.called),
                      _cell(c.callee), c.ring_seconds, c.talk_seconds, c.cause_text,
                      c.released_by, _cell(c.call_id)])
        if buf.tell() > 32768:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


def _cell(value: str) -> str:
    # Spreadsheet formula injection: a caller ID of "=HYPERLINK(...)" must stay text.
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def register(web: Web) -> None:
    @web.route("GET", "/cdrs", "cdrs.view")
    def search(ctx: Ctx) -> str:
        s = Search.from_query(bottle.request.query)
        errors = s.errors()
        rows: list[Cdr] = []
        more = False
        if not errors:
            got = list(s.query().limit(PAGE_SIZE + 1).offset((s.page - 1) * PAGE_SIZE))
            rows, more = got[:PAGE_SIZE], len(got) > PAGE_SIZE
        return ctx.render("cdrs.tpl", s=s, errors=errors, rows=rows, more=more,
                          directions=DIRECTIONS, local_time=local_time)

    @web.route("GET", "/cdrs.csv", "cdrs.view")
    def export(ctx: Ctx) -> Iterator[str]:
        s = Search.from_query(bottle.request.query)
        if s.errors():
            raise bottle.HTTPError(400, "bad search")
        oplog.record(ctx.user.name, ctx.address, "cdr.export", "", None, {"search": s.link()})
        bottle.response.content_type = "text/csv; charset=utf-8"
        bottle.response.set_header("Content-Disposition",
                                   'attachment; filename="call-records.csv"')
        # Built inside the handler: the database connection closes when it returns.
        rows = list(_csv_rows(s.query().limit(CSV_LIMIT), ctx))
        return iter(rows)

    @web.route("GET", "/cdrs/<cdr_id:int>", "cdrs.view")
    def detail(ctx: Ctx, cdr_id: int) -> str:
        cdr = Cdr.get_or_none(Cdr.id == cdr_id)
        if cdr is None:
            raise bottle.HTTPError(404, "no such call")
        has_audio = recording_path(web.data_dir, cdr) is not None
        return ctx.render("cdr.tpl", c=cdr, has_audio=has_audio, local_time=local_time)

    @web.route("GET", "/cdrs/<cdr_id:int>/recording", "recordings.listen")
    def recording(ctx: Ctx, cdr_id: int) -> bottle.HTTPResponse:
        cdr = Cdr.get_or_none(Cdr.id == cdr_id)
        path = recording_path(web.data_dir, cdr) if cdr is not None else None
        if cdr is None or path is None:
            raise bottle.HTTPError(404, "no recording")
        download = bottle.request.query.get("download") == "1"
        rng = bottle.request.headers.get("Range", "")
        # A browser fetches an <audio> source in several range requests; one log entry
        # per playback is the one that starts at byte 0.
        if download or not rng or rng.startswith("bytes=0-"):
            oplog.record(ctx.user.name, ctx.address,
                         "recording.download" if download else "recording.play",
                         cdr.call_id, None, {"cdr": cdr.id, "file": cdr.recording})
        mime = AUDIO_TYPES.get(path.suffix.lower(), "application/octet-stream")
        return bottle.static_file(path.name, root=str(path.parent), mimetype=mime,
                                  download=f"{cdr.call_id}{path.suffix}" if download else False)
