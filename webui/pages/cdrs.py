"""Call records: search, one call with its recording, playback/download, CSV export.

Every query filters on indexed columns first (start time, caller/called, direction) and
pages with LIMIT/OFFSET ordered by the start index. Playback is a route of its own so the
role check and the operation-log entry cannot be skipped by guessing a file path.
"""

from __future__ import annotations

import csv
import io
import json
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
from firmware.db.web_models import CallNote
from webui import oplog, recordings
from webui.web import Ctx, Web

PAGE_SIZE = 50
CSV_LIMIT = 100_000  # an export is a report, not a backup
# What the switch writes, and the short forms an older box (and a hand-made link) used.
DIRECTION_VALUES = {"inbound": ("inbound", "in"), "outbound": ("outbound", "out"),
                    "internal": ("internal",), "callback": ("callback",),
                    "in": ("inbound", "in"), "out": ("outbound", "out")}
DIRECTIONS = ("", "inbound", "outbound", "internal", "callback")
FIELD_CHARS = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.@-")
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
    agent: str = ""
    queue: str = ""
    max_seconds: str = ""

    @classmethod
    def from_query(cls, q: Any) -> Search:
        try:
            page = max(1, int(q.get("page", "1")))
        except ValueError:
            page = 1
        def get(name: str) -> str:
            return str(q.getunicode(name, "") or "").strip()

        return cls(get("start"), get("end"), get("number"), get("direction"),
                   get("min_seconds"), page, get("agent"), get("queue"), get("max_seconds"))

    def errors(self) -> list[str]:
        errs = []
        for value in (self.start, self.end):
            if value and _epoch(value) is None:
                errs.append("Time must look like 2026-01-31T08:00.")
        if self.min_seconds and not self.min_seconds.isdigit():
            errs.append("Minimum duration must be a whole number of seconds.")
        if self.max_seconds and not self.max_seconds.isdigit():
            errs.append("Maximum duration must be a whole number of seconds.")
        for value in (self.agent, self.queue):
            if len(value) > 64 or not set(value) <= FIELD_CHARS:
                errs.append("Agent and queue are letters, digits or _.@-")
        if self.direction and self.direction not in DIRECTION_VALUES:
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
            q = q.where(Cdr.direction.in_(DIRECTION_VALUES[self.direction]))
        if self.agent:
            # the queue agent who took it, or the extension that answered a direct call
            q = q.where((Cdr.agent == self.agent) | (Cdr.callee == self.agent))
        if self.queue:
            q = q.where(Cdr.queue == self.queue)
        if self.min_seconds.isdigit():
            q = q.where(Cdr.talk_seconds >= int(self.min_seconds))
        if self.max_seconds.isdigit():
            q = q.where(Cdr.talk_seconds <= int(self.max_seconds))
        return q.order_by(Cdr.start.desc(), Cdr.id.desc())

    def link(self, **changes: object) -> str:
        params = {"start": self.start, "end": self.end, "number": self.number,
                  "direction": self.direction, "min_seconds": self.min_seconds,
                  "max_seconds": self.max_seconds, "agent": self.agent, "queue": self.queue,
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
    out.writerow([ctx._(h) for h in HEADINGS])
    for c in rows.iterator():
        out.writerow([local_time(c.start), c.direction, _cell(c.caller), _cell(c.called),
                      _cell(c.callee), _cell(c.queue), _cell(c.agent), c.ring_seconds,
                      c.talk_seconds, c.cause_text, c.released_by, _cell(c.call_id)])
        if buf.tell() > 32768:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


HEADINGS = ("Start", "Direction", "Caller", "Called", "Answered by", "Queue", "Agent",
            "Ring (s)", "Talk (s)", "Cause", "Released by", "Call ID")


def _xlsx(rows: peewee.ModelSelect[Cdr], ctx: Ctx) -> bytes:
    """The list as an Excel workbook (write-only mode: rows stream into the file)."""
    from openpyxl import Workbook  # imported here: only exports need it

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(ctx._("Call records"))
    ws.append([ctx._(h) for h in HEADINGS])
    for c in rows.iterator():
        # strings stay strings (openpyxl never evaluates them); no formula injection
        ws.append([local_time(c.start), ctx._(c.direction) if c.direction else "",
                   c.caller, c.called, c.callee, c.queue, c.agent,
                   round(c.ring_seconds, 1), round(c.talk_seconds, 1), c.cause_text,
                   c.released_by, c.call_id])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


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

    @web.route("GET", "/cdrs.xlsx", "cdrs.view")
    def export_xlsx(ctx: Ctx) -> bytes:
        s = Search.from_query(bottle.request.query)
        if s.errors():
            raise bottle.HTTPError(400, "bad search")
        oplog.record(ctx.user.name, ctx.address, "cdr.export", "", None,
                     {"search": s.link(), "format": "xlsx"})
        data = _xlsx(s.query().limit(CSV_LIMIT), ctx)
        bottle.response.content_type = (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        bottle.response.set_header("Content-Disposition",
                                   'attachment; filename="call-records.xlsx"')
        return data

    @web.route("GET", "/cdrs/<cdr_id:int>", "cdrs.view")
    def detail(ctx: Ctx, cdr_id: int) -> str:
        cdr = Cdr.get_or_none(Cdr.id == cdr_id)
        if cdr is None:
            raise bottle.HTTPError(404, "no such call")
        has_audio = recording_path(web.data_dir, cdr) is not None
        notes = list(CallNote.select().where(CallNote.call_id == cdr.call_id)
                     .order_by(CallNote.created))
        try:
            extra = json.loads(cdr.extra or "{}")
        except ValueError:
            extra = {}
        may_hear = ctx.can("recordings.listen") and recordings.may_hear(ctx.user, cdr)
        return ctx.render("cdr.tpl", c=cdr, has_audio=has_audio, local_time=local_time,
                          notes=notes, extra=extra if isinstance(extra, dict) else {},
                          may_hear=may_hear, audio_base=f"/cdrs/{cdr.id}")

    @web.route("GET", "/cdrs/<cdr_id:int>/waveform.json", "recordings.listen")
    def waveform(ctx: Ctx, cdr_id: int) -> str:
        return _waveform(ctx, cdr_id)

    @web.route("GET", "/cdrs/<cdr_id:int>/recording", "recordings.listen")
    def recording(ctx: Ctx, cdr_id: int) -> bottle.HTTPResponse:
        return _recording(ctx, cdr_id)

    # an agent's own calls, from the desk (the same checks and log)
    @web.route("GET", "/desk/calls/<cdr_id:int>", "desk")
    def own_detail(ctx: Ctx, cdr_id: int) -> str:
        cdr = Cdr.get_or_none(Cdr.id == cdr_id)
        if cdr is None or not recordings.own(ctx.user, cdr):
            raise bottle.HTTPError(404, "no such call of yours")
        notes = list(CallNote.select().where(CallNote.call_id == cdr.call_id)
                     .order_by(CallNote.created))
        has_audio = recording_path(web.data_dir, cdr) is not None
        return ctx.render("cdr.tpl", c=cdr, has_audio=has_audio, local_time=local_time,
                          notes=notes, extra={}, may_hear=True,
                          audio_base=f"/desk/calls/{cdr.id}")

    @web.route("GET", "/desk/calls/<cdr_id:int>/waveform.json", "desk")
    def own_waveform(ctx: Ctx, cdr_id: int) -> str:
        return _waveform(ctx, cdr_id)

    @web.route("GET", "/desk/calls/<cdr_id:int>/recording", "desk")
    def own_recording(ctx: Ctx, cdr_id: int) -> bottle.HTTPResponse:
        return _recording(ctx, cdr_id)

    def _heard(ctx: Ctx, cdr_id: int) -> tuple[Cdr, Path]:
        cdr = Cdr.get_or_none(Cdr.id == cdr_id)
        path = recording_path(web.data_dir, cdr) if cdr is not None else None
        if cdr is None or path is None:
            raise bottle.HTTPError(404, "no recording")
        if not recordings.may_hear(ctx.user, cdr):
            raise bottle.HTTPError(403, "you may not hear this call")
        return cdr, path

    def _waveform(ctx: Ctx, cdr_id: int) -> str:
        _cdr, path = _heard(ctx, cdr_id)
        try:
            data = recordings.peaks(path)
        except (OSError, EOFError, ValueError) as e:  # not a WAV we can read
            raise bottle.HTTPError(404, f"no waveform: {e}") from None
        bottle.response.content_type = "application/json"
        return json.dumps(data)

    def _recording(ctx: Ctx, cdr_id: int) -> bottle.HTTPResponse:
        cdr, path = _heard(ctx, cdr_id)
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
