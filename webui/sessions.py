"""Server-side sessions: the cookie carries a random token, the database its SHA-256.

Expiry: idle after IDLE seconds without a request, and at most ABSOLUTE after sign-in
(an agent's shift plus margin), whichever comes first. Signing out, disabling the user
or changing their password or role deletes their sessions.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import bottle

from firmware.db.models import Session, User

COOKIE = "ccbox_session"
IDLE = 2 * 3600.0
ABSOLUTE = 12 * 3600.0
# last_seen is written at most this often, so page loads do not all become writes.
TOUCH_EVERY = 60.0


@dataclass(frozen=True)
class Current:
    """The signed-in user of a request."""

    user: User
    session: Session

    @property
    def csrf_token(self) -> str:
        token: str = self.session.csrf_token
        return token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_https() -> bool:
    # Only what this server itself terminated: a header a client can forge is not trusted.
    return bool(bottle.request.urlparts.scheme == "https")


def set_cookie(name: str, value: str, max_age: int | None = None) -> None:
    kwargs: dict[str, object] = {
        "path": "/",
        "httponly": True,
        "samesite": "strict",
        "secure": is_https(),
    }
    if max_age is not None:
        kwargs["max_age"] = max_age
    bottle.response.set_cookie(name, value, **kwargs)


def start(user: User, address: str, now: float | None = None) -> str:
    """Create a session for `user`; returns the cookie token and sets the cookie."""
    now = time.time() if now is None else now
    token = secrets.token_urlsafe(32)
    Session.create(
        token_hash=_digest(token),
        user=user,
        csrf_token=secrets.token_urlsafe(32),
        created=now,
        last_seen=now,
        expires_at=now + ABSOLUTE,
        address=address,
    )
    set_cookie(COOKIE, token, int(ABSOLUTE))
    return token


def create_for_test(user: User, now: float | None = None) -> tuple[str, str]:
    """A session row without a response, for tests that call the app directly:
    (cookie token, CSRF token)."""
    now = time.time() if now is None else now
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    Session.create(token_hash=_digest(token), user=user, csrf_token=csrf,
                   created=now, last_seen=now, expires_at=now + ABSOLUTE, address="test")
    return token, csrf


def current(now: float | None = None) -> Current | None:
    """The request's valid session, or None (expired sessions are deleted on sight)."""
    token = bottle.request.get_cookie(COOKIE)
    if not token:
        return None
    now = time.time() if now is None else now
    row = Session.get_or_none(Session.token_hash == _digest(token))
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen + IDLE <= now:
        row.delete_instance()
        return None
    user = row.user
    if not user.enabled:
        return None
    if now - row.last_seen > TOUCH_EVERY:
        Session.update(last_seen=now).where(Session.token_hash == row.token_hash).execute()
    return Current(user, row)


def still_valid(token_hash: str, now: float | None = None) -> bool:
    """For long requests (event streams): is this session still signed in?"""
    now = time.time() if now is None else now
    row = Session.get_or_none(Session.token_hash == token_hash)
    return (row is not None and row.expires_at > now and row.last_seen + IDLE > now
            and bool(row.user.enabled))


def end(cur: Current) -> None:
    Session.delete().where(Session.token_hash == cur.session.token_hash).execute()
    bottle.response.delete_cookie(COOKIE, path="/")


def end_all_for(user: User) -> None:
    Session.delete().where(Session.user == user).execute()


def purge_expired(now: float | None = None) -> int:
    now = time.time() if now is None else now
    deleted: int = (
        Session.delete()
        .where((Session.expires_at <= now) | (Session.last_seen <= now - IDLE))
        .execute()
    )
    return deleted
