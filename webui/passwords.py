"""Web UI password hashing: argon2id with a memory cost sized for a small box.

Parameters (decision 0011): 19 MiB, 2 passes, 1 lane -- the OWASP minimum for argon2id.
Measured on the dev machine (bench/argon2_hash.py, 2 cores): about 45 ms per hash,
median of 10. A box with 1 GiB of RAM can afford 19 MiB per sign-in, but not one per
worker thread at once, so a semaphore lets only two hashes run together; a flood of
sign-ins queues instead of swapping the box (which would hurt the call path).
"""

from __future__ import annotations

import secrets
import threading
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1
MIN_LENGTH = 10

_hasher = PasswordHasher(
    time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM
)
_gate = threading.BoundedSemaphore(2)



@cache
def _dummy_hash() -> str:
    # Verified when the user name is unknown, so a missing user costs the same time as a
    # wrong password and sign-in timing does not reveal which names exist. Made on first
    # use, not at import: every `ccbox` command imports this module.
    return _hasher.hash(secrets.token_hex(16))


# No 0/O, 1/l/I: admins read generated passwords off a screen.
_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"


def hash_password(password: str) -> str:
    with _gate:
        return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    with _gate:
        try:
            ok = _hasher.verify(stored_hash or _dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return False
    return ok and stored_hash is not None


def needs_rehash(stored_hash: str) -> bool:
    """True after the parameters above changed: the hash is upgraded at the next sign-in."""
    return _hasher.check_needs_rehash(stored_hash)


def generate_password(length: int = 16) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def weak_password_reason(name: str, password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return "at least 10 characters"  # a catalog msgid: keep in step with MIN_LENGTH
    if name.lower() in password.lower():
        return "must not contain the user name"
    if len(set(password)) < 4:
        return "too few different characters"
    return None
