"""Who may do what (one table for every route), sign-in checks and lockout."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass

from firmware.db.models import ROLES, User
from webui.passwords import hash_password, needs_rehash, verify_password

ALL_ROLES = frozenset(ROLES)
# API tokens carry a role: a user role, or "wallboard" (a big screen: the wallboard only).
WALLBOARD = "wallboard"
TOKEN_ROLES = (*ROLES, WALLBOARD)

# Permission -> roles holding it. Every route names exactly one permission (or is public),
# so this table is the whole access policy; tests/unit/test_webui_access.py walks every
# route for every role against its own copy of the expected outcome.
PERMISSIONS: dict[str, frozenset[str]] = {
    "self": ALL_ROLES,  # dashboard, own language, sign-out
    "extensions.view": frozenset({"admin", "supervisor", "auditor"}),
    "extensions.edit": frozenset({"admin"}),
    "cdrs.view": frozenset({"admin", "supervisor", "auditor"}),
    # Hearing a call is more than seeing that it happened; every playback is logged.
    "recordings.listen": frozenset({"admin", "supervisor", "auditor"}),
    "users.admin": frozenset({"admin"}),
    "oplog.view": frozenset({"admin", "auditor"}),
    # The agent desktop: own phone, own agent state, screen pop, own call history.
    "desk": frozenset({"agent", "supervisor"}),
    # CTI call control over HTTP; agents act on their own extension only, admins and
    # supervisors (and their tokens, e.g. a CRM) on any.
    "cti.control": frozenset({"admin", "supervisor", "agent"}),
    "customers.view": frozenset({"admin", "supervisor", "agent", "auditor"}),
    "customers.edit": frozenset({"admin", "supervisor", "agent"}),
    # Live view of queues, agents and calls; acting on them (listen, whisper, barge,
    # force release/transfer, another agent's state).
    "live.view": frozenset({"admin", "supervisor", "auditor"}),
    "live.control": frozenset({"admin", "supervisor"}),
    "wallboard.view": frozenset({"admin", "supervisor", "agent", "auditor", WALLBOARD}),
    # The event stream; what each role sees in it is filtered (webui/pages/events.py).
    "events": frozenset({"admin", "supervisor", "agent", "auditor", WALLBOARD}),
    "status.view": frozenset({"admin", "supervisor", "auditor"}),
    "tokens.admin": frozenset({"admin"}),
    # The call-center configuration (webui/pages/admin_*.py): seen by those who oversee
    # the centre, changed by admins only.
    "site.view": frozenset({"admin", "supervisor", "auditor"}),
    "site.edit": frozenset({"admin"}),
}


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


# Lockout. Per user: after USER_MAX_FAILURES consecutive failures the account refuses
# every password for USER_LOCK seconds (kept in the database, so a webd restart does not
# reset it). Per source address: ADDRESS_MAX_FAILURES failures within ADDRESS_WINDOW,
# whatever the user names, so one machine cannot walk through many names. Kept in memory:
# a restart forgives addresses, which costs an attacker a restart they cannot cause.
USER_MAX_FAILURES = 5
USER_LOCK = 15 * 60.0
ADDRESS_MAX_FAILURES = 20
ADDRESS_WINDOW = 15 * 60.0


@dataclass(frozen=True)
class SignIn:
    user: User | None
    error: str | None = None  # a msgid for the catalog
    until: float = 0.0  # when a lockout ends


class AddressLimiter:
    def __init__(self, max_failures: int = ADDRESS_MAX_FAILURES,
                 window: float = ADDRESS_WINDOW) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, address: str, now: float) -> deque[float]:
        q = self._failures.setdefault(address, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def blocked_until(self, address: str, now: float) -> float:
        with self._lock:
            q = self._recent(address, now)
            return q[0] + self.window if len(q) >= self.max_failures else 0.0

    def fail(self, address: str, now: float) -> None:
        with self._lock:
            self._recent(address, now).append(now)

    def clear(self, address: str) -> None:
        with self._lock:
            self._failures.pop(address, None)


def sign_in(name: str, password: str, address: str, limiter: AddressLimiter,
            now: float | None = None) -> SignIn:
    now = time.time() if now is None else now
    until = limiter.blocked_until(address, now)
    if until:
        return SignIn(None, "Too many failed sign-ins from this address.", until)
    user = User.get_or_none(User.name == name)
    if user is not None and user.locked_until > now:
        # Checked before the password, so a locked account cannot be probed.
        limiter.fail(address, now)
        return SignIn(None, "Too many failed sign-ins for this user.", user.locked_until)
    ok = verify_password(user.password_hash if user is not None else None, password)
    if user is None or not ok or not user.enabled:
        limiter.fail(address, now)
        if user is not None and not ok:
            failures = user.failed_logins + 1
            locked = now + USER_LOCK if failures >= USER_MAX_FAILURES else 0.0
            User.update(failed_logins=0 if locked else failures, locked_until=locked).where(
                User.id == user.id
            ).execute()
            if locked:
                return SignIn(None, "Too many failed sign-ins for this user.", locked)
        return SignIn(None, "Wrong user name or password.")
    updates: dict[str, object] = {"failed_logins": 0, "locked_until": 0.0}
    if needs_rehash(user.password_hash):
        updates["password_hash"] = hash_password(password)
    User.update(**updates).where(User.id == user.id).execute()
    limiter.clear(address)
    return SignIn(User.get_by_id(user.id))
