"""API tokens: bearer secrets for programs (a CRM, a reporting tool) and wallboards.

The token is shown once when an admin creates it; the database keeps its SHA-256 (a
copy of the database is no key) and its first characters to tell tokens apart. A token
has a role like a user and, for an agent, the agent and extension it acts as. Revoking
takes effect on the next request, open event streams included.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from firmware.db.web_models import ApiToken

PREFIX = "ccbx_"
SHOWN = 12  # characters kept in clear for the list
TOUCH_EVERY = 60.0  # last_used is written at most this often


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(name: str, role: str, created_by: str, *, agent: str | None = None,
           extension: str | None = None, expires: float | None = None) -> tuple[ApiToken, str]:
    secret = PREFIX + secrets.token_urlsafe(32)
    row: ApiToken = ApiToken.create(name=name, prefix=secret[:SHOWN], token_hash=digest(secret),
                                    role=role, agent=agent or None,
                                    extension=extension or None, created=time.time(),
                                    created_by=created_by, expires=expires)
    return row, secret


def verify(secret: str, now: float | None = None) -> ApiToken | None:
    """The live token for `secret`, or None (unknown, revoked or expired)."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    now = time.time() if now is None else now
    row: ApiToken | None = ApiToken.get_or_none(ApiToken.token_hash == digest(secret))
    if row is None or row.revoked or (row.expires is not None and row.expires <= now):
        return None
    if row.last_used is None or now - row.last_used > TOUCH_EVERY:
        ApiToken.update(last_used=now).where(ApiToken.id == row.id).execute()
    return row


def still_valid(token_id: int, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    row = ApiToken.get_or_none(ApiToken.id == token_id)
    return row is not None and not row.revoked and (row.expires is None or row.expires > now)
