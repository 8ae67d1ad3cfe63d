"""Voicemail PINs: checked for weakness, stored as argon2id hashes, guessed at most a few
times per mailbox.

The PIN is digits a caller types on a keypad, so its space is small; the hash keeps
it off the disk in clear and the per-mailbox lockout keeps a caller from trying them
all through `*98`. Neither the PIN nor its hash is ever logged.
"""

from __future__ import annotations

import itertools
import re
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# The web UI's cost (decision 0011): ~45 ms per check here, run off the event loop.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_gate = threading.BoundedSemaphore(2)
PIN = re.compile(r"^[0-9]{4,12}$")

MAX_FAILURES = 5  # wrong PINs for one mailbox within WINDOW ...
WINDOW = 600.0
LOCK_SECONDS = 900.0  # ... lock it for this long


def weak_pin_reason(mailbox: str, pin: str) -> str | None:
    """Why `pin` must not protect `mailbox`, or None when acceptable."""
    if not PIN.match(pin):
        return "a PIN is 4 to 12 digits"
    if len(set(pin)) == 1:
        return "a PIN must not be one digit repeated"
    digits = [int(c) for c in pin]
    steps = {b - a for a, b in itertools.pairwise(digits)}
    if steps in ({1}, {-1}):
        return "a PIN must not be a run of digits (1234, 4321)"
    if pin == mailbox or pin in mailbox:
        return "a PIN must not be the extension number"
    return None


def hash_pin(pin: str) -> str:
    with _gate:
        return _hasher.hash(pin)


def verify_pin(stored_hash: str, pin: str) -> bool:
    """Blocking (~45 ms): call from a thread."""
    if not stored_hash or not PIN.match(pin):
        return False
    with _gate:
        try:
            return bool(_hasher.verify(stored_hash, pin))
        except (VerificationError, InvalidHashError):
            return False


class PinGuard:
    """Failed PIN entries per mailbox; a mailbox is locked after too many."""

    def __init__(self, limit: int = MAX_FAILURES, window: float = WINDOW,
                 lock: float = LOCK_SECONDS) -> None:
        self.limit = limit
        self.window = window
        self.lock = lock
        self._fails: dict[str, list[float]] = {}
        self._locked: dict[str, float] = {}

    def locked(self, mailbox: str, now: float) -> bool:
        until = self._locked.get(mailbox)
        if until is None:
            return False
        if until <= now:
            del self._locked[mailbox]
            return False
        return True

    def failed(self, mailbox: str, now: float) -> bool:
        """Record a wrong PIN; True if the mailbox is now locked."""
        times = [t for t in self._fails.get(mailbox, []) if now - t < self.window] + [now]
        if len(times) >= self.limit:
            self._fails.pop(mailbox, None)
            self._locked[mailbox] = now + self.lock
            return True
        self._fails[mailbox] = times
        return False

    def succeeded(self, mailbox: str) -> None:
        self._fails.pop(mailbox, None)
