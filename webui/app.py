"""The web UI's WSGI app: every page module registered on one `Web`."""

from __future__ import annotations

from pathlib import Path

import bottle
import peewee

from webui.pages import (
    account,
    api,
    cdrs,
    dashboard,
    desk,
    extensions,
    live,
    oplog,
    signin,
    status,
    tokens,
    users,
)
from webui.pages.admin import ADMIN_PAGES
from webui.web import Web


def build_web(db: peewee.SqliteDatabase, data_dir: Path) -> Web:
    """`db` must be the database the models are bound to (see `open_db`)."""
    web = Web(db, data_dir)
    for page in (signin, dashboard, account, extensions, cdrs, users, oplog, desk, live,
                 status, tokens, api):
        page.register(web)
    for admin_page in ADMIN_PAGES:
        admin_page.register(web)
    return web


def build_app(db: peewee.SqliteDatabase, data_dir: Path) -> bottle.Bottle:
    return build_web(db, data_dir).app
