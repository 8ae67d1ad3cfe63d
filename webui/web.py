"""The request plumbing every page goes through: session, CSRF, role check, language,
templates and security headers. Pages register with `Web.route`, naming one permission
from `auth.PERMISSIONS` (or None for the few public routes)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import bottle
import peewee

from firmware.db.models import LANGUAGES, User
from webui import auth, csrf, i18n, sessions

VIEWS = str(Path(__file__).parent / "views")
STATIC = Path(__file__).parent / "static"
LANG_COOKIE = "ccbox_lang"

# Scripts and styles come only from /static: an injected <script> cannot run.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class Ctx:
    """What a handler needs about its request."""

    web: Web
    cur: sessions.Current | None
    lang: str
    address: str
    _: i18n.Translator = field(repr=False)
    _pre_token: str | None = field(default=None, repr=False)

    @property
    def user(self) -> User:
        assert self.cur is not None  # only routes with a permission use this
        return self.cur.user

    @property
    def csrf_token(self) -> str:
        if self.cur is not None:
            return self.cur.csrf_token
        # Once per request: a page has several forms, and each new token would overwrite
        # the cookie the earlier ones were checked against.
        if self._pre_token is None:
            self._pre_token = csrf.pre_session_token()
        return self._pre_token

    def can(self, permission: str) -> bool:
        return self.cur is not None and auth.allowed(self.cur.user.role, permission)

    def render(self, name: str, **kw: Any) -> str:
        bottle.response.content_type = "text/html; charset=utf-8"
        # The language switch returns to the page it was pressed on (GET pages only: a
        # POST's result page cannot be fetched again).
        here = None
        if bottle.request.method == "GET":
            qs = bottle.request.query_string
            here = bottle.request.fullpath + ("?" + qs if qs else "")
        return str(bottle.template(name, template_lookup=[VIEWS], ctx=self, _=self._,
                                   here=here, **kw))


Handler = Callable[..., Any]


@dataclass
class RouteInfo:
    method: str
    path: str
    permission: str | None


class Web:
    def __init__(self, db: peewee.SqliteDatabase, data_dir: Path) -> None:
        self.db = db
        self.data_dir = data_dir
        self.app = bottle.Bottle()
        self.limiter = auth.AddressLimiter()
        self.routes: list[RouteInfo] = []
        self.app.add_hook("after_request", _security_headers)
        for code in (400, 401, 403, 404, 405, 409, 500):
            self.app.error(code)(self._error_page)

    def route(self, method: str, path: str, permission: str | None) -> Callable[[Handler], Handler]:
        if permission is not None and permission not in auth.PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")

        def register(handler: Handler) -> Handler:
            @functools.wraps(handler)
            def wrapper(**kwargs: Any) -> Any:
                with self.db.connection_context():
                    ctx = self._context()
                    # CSRF before anything else: a forged POST learns nothing, not even
                    # whether its session or role would have sufficed.
                    csrf.check(ctx.cur)
                    if permission is not None:
                        if ctx.cur is None:
                            if bottle.request.method in csrf.SAFE_METHODS:
                                target = quote(bottle.request.fullpath, safe="/")
                                bottle.redirect(f"/signin?next={target}", 303)
                            raise bottle.HTTPError(401, "sign in first")
                        if not auth.allowed(ctx.cur.user.role, permission):
                            raise bottle.HTTPError(403, "not allowed for your role")
                    return handler(ctx, **kwargs)

            self.app.route(path, method, wrapper)
            self.routes.append(RouteInfo(method, path, permission))
            return handler

        return register

    def _context(self) -> Ctx:
        cur = sessions.current()
        lang = (
            i18n.normalize(bottle.request.query.get("lang"))
            or (cur.user.language if cur is not None else None)
            or i18n.normalize(bottle.request.get_cookie(LANG_COOKIE))
            or i18n.normalize(bottle.request.headers.get("Accept-Language", "").split(",")[0])
            or i18n.DEFAULT
        )
        if lang not in LANGUAGES:
            lang = i18n.DEFAULT
        address = str(bottle.request.remote_addr or "")
        return Ctx(self, cur, lang, address, i18n.translator(lang))

    def _error_page(self, err: bottle.HTTPError) -> str:
        bottle.response.content_type = "text/html; charset=utf-8"
        try:
            with self.db.connection_context():
                ctx = self._context()
                return ctx.render("error.tpl", status=err.status_code, message=str(err.body))
        except Exception:
            # The error page must not fail in turn (e.g. the database is what broke).
            return f"<!doctype html><title>{err.status_code}</title><h1>{err.status_code}</h1>"


def _security_headers() -> None:
    for k, v in SECURITY_HEADERS.items():
        bottle.response.set_header(k, v)
