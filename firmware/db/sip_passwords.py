"""SIP digest passwords: generating strong ones and refusing weak ones."""

from __future__ import annotations

import secrets

# No 0/O, 1/l/I: installers read these off a screen and type them into phone keypads.
_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
GENERATED_LENGTH = 16  # ~92 bits: out of reach of offline cracking of a sniffed digest
MIN_LENGTH = 8


def generate_sip_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))


def weak_password_reason(number: str, password: str) -> str | None:
    """Why `password` must not be used for extension `number`, or None when acceptable."""
    if len(password) < MIN_LENGTH:
        return f"password is too short ({len(password)} characters; at least {MIN_LENGTH})"
    if password == number:
        return "password must not be the extension number"
    if any(c.isspace() or not c.isprintable() for c in password):
        return "password must not contain spaces or control characters (phones cannot enter them)"
    return None
