"""The web UI's WSGI app. For now a placeholder page that proves the box is up and
shows what the database holds (read-only, and never a password: there is no login yet)."""

from __future__ import annotations

import time
from html import escape

import bottle
import peewee

from firmware.db.models import Cdr, Extension, Registration

_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ccbox 呼叫中心一体机</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: .3em .8em; text-align: left; }}
.en {{ color: #777; font-size: .9em; }}
</style>
</head>
<body>
<h1>ccbox 呼叫中心一体机</h1>
<p>Web 管理界面即将推出 <span class="en">/ web UI coming</span></p>
<h2>分机 <span class="en">/ Extensions</span> ({count})</h2>
<table>
<tr><th>号码 <span class="en">number</span></th><th>名称 <span class="en">name</span></th>
<th>启用 <span class="en">enabled</span></th><th>已注册 <span class="en">registered</span></th></tr>
{rows}
</table>
<h2>通话记录 <span class="en">/ Call records</span></h2>
<p>共 {cdrs} 条 <span class="en">/ {cdrs} in total</span></p>
</body>
</html>
"""


def render_home() -> str:
    now = time.time()
    registered = {
        r.aor for r in Registration.select(Registration.aor).where(Registration.expires_at > now)
    }
    rows = "\n".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
            escape(e.number),
            escape(e.name),
            "是 yes" if e.enabled else "否 no",
            "是 yes" if e.number in registered else "否 no",
        )
        for e in Extension.select().order_by(Extension.number)
    )
    return _PAGE.format(
        count=Extension.select().count(),
        rows=rows,
        cdrs=Cdr.select().count(),
    )


def build_app(db: peewee.SqliteDatabase) -> bottle.Bottle:
    """The app; `db` must be the database the models are bound to (see `open_db`)."""
    app = bottle.Bottle()

    def home() -> str:
        bottle.response.content_type = "text/html; charset=utf-8"
        with db.connection_context():
            return render_home()

    def healthz() -> str:
        bottle.response.content_type = "text/plain; charset=utf-8"
        return "ok"

    app.route("/", "GET", home)
    app.route("/healthz", "GET", healthz)
    return app
