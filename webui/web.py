"""The request plumbing every page goes through: session, CSRF, role check, language,
templates and security headers. Pages register with `Web.route`, naming one permission
from `auth.PERMISSIONS` (or None for the few public routes)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import bottle
import peewee

from firmware.db.models import LANGUAGES, User
from firmware.db.web_models import ApiToken
from webui import auth, csrf, i18n, sessions, tokens

VIEWS = str(Path(__file__).parent / "views")
STATIC = Path(__file__).parent / "static"
LANG_COOKIE = "ccbox_lang"
# A paired wallboard screen keeps its (wallboard-role) API token in this cookie.
WALLBOARD_COOKIE = "ccbox_wallboard"

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
    token: ApiToken | None = None  # set instead of `cur` for a bearer or wallboard token

    @property
    def user(self) -> User:
        assert self.cur is not None  # only routes with a permission use this
        return self.cur.user

    @property
    def signed_in(self) -> bool:
        return self.cur is not None or self.token is not None

    @property
    def role(self) -> str | None:
        if self.cur is not None:
            return str(self.cur.user.role)
        return str(self.token.role) if self.token is not None else None

    @property
    def actor(self) -> str:
        """Who, for the operation log: a user name, or the token's name."""
        if self.cur is not None:
            return str(self.cur.user.name)
        return f"token:{self.token.name}" if self.token is not None else "-"

    @property
    def agent_id(self) -> str | None:
        """The ACD agent this principal works as (users: set by an admin)."""
        if self.cur is not None:
            return self.cur.user.agent or None
        return self.token.agent or None if self.token is not None else None

    @property
    def extension(self) -> str | None:
        """The phone this principal works at (users: picked at the desk)."""
        if self.cur is not None:
            return self.cur.user.extension or None
        return self.token.extension or None if self.token is not None else None

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
        role = self.role
        return role is not None and auth.allowed(role, permission)

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
    api: bool = False  # /api/: bearer tokens accepted, JSON errors


def bearer() -> str | None:
    header = str(bottle.request.headers.get("Authorization", ""))
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return None


class Web:
    def __init__(self, db: peewee.SqliteDatabase, data_dir: Path) -> None:
        self.db = db
        self.data_dir = data_dir
        self.app = bottle.Bottle()
        self.limiter = auth.AddressLimiter()
        self.routes: list[RouteInfo] = []
        self.app.add_hook("after_request", _security_headers)
        for code in (400, 401, 403, 404, 405, 409, 413, 429, 500, 501, 503):
            self.app.error(code)(self._error_page)

    def route(self, method: str, path: str, permission: str | None,
              api: bool = False) -> Callable[[Handler], Handler]:
        """`api`: an /api/ route, which also takes `Authorization: Bearer <token>`
        (then without CSRF: no cookie is involved, so no other site can forge it) and
        answers errors in JSON."""
        if permission is not None and permission not in auth.PERMISSIONS:
            raise ValueError(f"unknown permission {permission!r}")

        def register(handler: Handler) -> Handler:
            @functools.wraps(handler)
            def wrapper(**kwargs: Any) -> Any:
                with self.db.connection_context():
                    secret = bearer() if api else None
                    if secret is not None:
                        ctx = self._context(use_cookies=False)
                        ctx.token = tokens.verify(secret)
                        if ctx.token is None:
                            raise bottle.HTTPError(401, "unknown, revoked or expired token")
                    else:
                        ctx = self._context()
                        # CSRF before anything else: a forged POST learns nothing, not
                        # even whether its session or role would have sufficed.
                        csrf.check(ctx.cur)
                    if permission is not None:
                        if not ctx.signed_in:
                            if bottle.request.method in csrf.SAFE_METHODS and not api:
                                target = quote(bottle.request.fullpath, safe="/")
                                bottle.redirect(f"/signin?next={target}", 303)
                            raise bottle.HTTPError(401, "sign in first")
                        if not ctx.can(permission):
                            raise bottle.HTTPError(403, "not allowed for your role")
                    return handler(ctx, **kwargs)

            self.app.route(path, method, wrapper)
            self.routes.append(RouteInfo(method, path, permission, api))
            return handler

        return register

    def _context(self, use_cookies: bool = True) -> Ctx:
        cur = sessions.current() if use_cookies else None
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
        ctx = Ctx(self, cur, lang, address, i18n.translator(lang))
        if cur is None and use_cookies:
            paired = bottle.request.get_cookie(WALLBOARD_COOKIE)
            if paired:
                token = tokens.verify(str(paired))
                # only a wallboard token works from a cookie: it can do nothing but read
                # the wallboard, so a cookie sent along by another site gains nothing
                if token is not None and token.role == auth.WALLBOARD:
                    ctx.token = token
        return ctx

    def _error_page(self, err: bottle.HTTPError) -> str:
        if bottle.request.path.startswith("/api/"):
            bottle.response.content_type = "application/json"
            return json.dumps({"ok": False, "code": _ERROR_CODES.get(err.status_code, "error"),
                               "error": str(err.body)})
        bottle.response.content_type = "text/html; charset=utf-8"
        try:
            with self.db.connection_context():
                ctx = self._context()
                return ctx.render("error.tpl", status=err.status_code, message=str(err.body))
        except Exception:
            # The error page must not fail in turn (e.g. the database is what broke).
            return f"<!doctype html><title>{err.status_code}</title><h1>{err.status_code}</h1>"


_ERROR_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden",
                404: "not_found", 405: "method_not_allowed", 409: "refused",
                413: "too_large", 429: "too_many", 500: "internal", 501: "not_supported",
                503: "unavailable"}


def _security_headers() -> None:
    for k, v in SECURITY_HEADERS.items():
        bottle.response.set_header(k, v)
