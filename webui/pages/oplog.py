"""The operation log, newest first (admins and auditors)."""

from __future__ import annotations

import bottle

from firmware.db.models import OpLog
from webui.pages.cdrs import local_time
from webui.web import Ctx, Web

PAGE_SIZE = 100


def register(web: Web) -> None:
    @web.route("GET", "/oplog", "oplog.view")
    def list_(ctx: Ctx) -> str:
        try:
            page = max(1, int(bottle.request.query.get("page", "1")))
        except ValueError:
            page = 1
        got = list(OpLog.select().order_by(OpLog.id.desc()).limit(PAGE_SIZE + 1)
                   .offset((page - 1) * PAGE_SIZE))
        return ctx.render("oplog.tpl", rows=got[:PAGE_SIZE], more=len(got) > PAGE_SIZE,
                          page=page, local_time=local_time)
