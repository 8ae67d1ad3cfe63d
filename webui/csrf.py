"""CSRF protection: a synchronizer token on every state-changing request.

Signed in, the token is the session's own (stored server-side). Before sign-in (the
sign-in form itself, to stop login CSRF) it is a double-submit cookie: a random value in
an HttpOnly SameSite=Strict cookie that the form must echo. Forms send it as the field
`csrf`; scripts send it in the `X-CSRF-Token` header.
"""

from __future__ import annotations

import hmac
import secrets

import bottle

from webui import sessions

PRE_COOKIE = "ccbox_pre"
FIELD = "csrf"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def pre_session_token() -> str:
    """The anonymous token for the sign-in form, setting its cookie when missing."""
    token = bottle.request.get_cookie(PRE_COOKIE)
    if not token or len(token) < 20:
        token = secrets.token_urlsafe(24)
        sessions.set_cookie(PRE_COOKIE, token)
    return str(token)


def submitted() -> str:
    return str(bottle.request.headers.get(HEADER) or bottle.request.forms.get(FIELD) or "")


def valid(expected: str | None) -> bool:
    got = submitted()
    return bool(expected) and bool(got) and hmac.compare_digest(got, str(expected))


def check(cur: sessions.Current | None) -> None:
    """Abort with 403 unless a state-changing request carries the right token."""
    if bottle.request.method in SAFE_METHODS:
        return
    expected = cur.csrf_token if cur is not None else bottle.request.get_cookie(PRE_COOKIE)
    if not valid(expected):
        raise bottle.HTTPError(403, "CSRF token missing or wrong: reload the page and retry")
