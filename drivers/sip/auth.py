"""Digest authentication (RFC 3261 22, RFC 7616 / RFC 8760 for SHA-256) and failed-auth
lockout per source address.

Nonces are stateless: an HMAC over a timestamp with a per-process key, so any number of
challenges costs no memory and a nonce from before a restart is answered with
`stale=true` rather than a failure. Secrets are never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.sip.message import Request

NONCE_LIFETIME = 300.0
ALGORITHMS = ("MD5", "SHA-256")
# Offered unless an extension says otherwise: baresip 1.0 and sipp abort on any non-MD5
# challenge, many desk phones too (docs/decisions/0006-sip-core.md).
DEFAULT_OFFER = ("MD5",)
_HASH = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def _h(algorithm: str, text: str) -> str:
    return _HASH[algorithm](text.encode("utf-8")).hexdigest()


def parse_auth_params(value: str) -> tuple[str, dict[str, str]]:
    """'Digest username="a", realm="b", nc=00000001' -> ('digest', {...})."""
    scheme, _, rest = value.strip().partition(" ")
    params: dict[str, str] = {}
    i = 0
    n = len(rest)
    while i < n:
        while i < n and rest[i] in " ,\t":
            i += 1
        eq = rest.find("=", i)
        if eq < 0:
            break
        key = rest[i:eq].strip().lower()
        i = eq + 1
        while i < n and rest[i] == " ":
            i += 1
        if i < n and rest[i] == '"':
            i += 1
            buf = []
            while i < n and rest[i] != '"':
                if rest[i] == "\\" and i + 1 < n:
                    i += 1
                buf.append(rest[i])
                i += 1
            i += 1
            params[key] = "".join(buf)
        else:
            end = rest.find(",", i)
            end = n if end < 0 else end
            params[key] = rest[i:end].strip()
            i = end
    return scheme.lower(), params


def digest_response(
    algorithm: str,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str = "",
    cnonce: str = "",
) -> str:
    ha1 = _h(algorithm, f"{username}:{realm}:{password}")
    ha2 = _h(algorithm, f"{method}:{uri}")
    if qop:
        return _h(algorithm, f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return _h(algorithm, f"{ha1}:{nonce}:{ha2}")


@dataclass
class AuthResult:
    ok: bool
    user: str = ""
    stale: bool = False
    reason: str = ""


class DigestAuthenticator:
    def __init__(
        self,
        realm: str,
        lookup: Callable[[str], str | None],
        algorithms: tuple[str, ...] = DEFAULT_OFFER,
        clock: Callable[[], float] = time.time,
        algorithms_for: Callable[[str], tuple[str, ...] | None] | None = None,
    ) -> None:
        self.realm = realm
        self._lookup = lookup
        self.algorithms = algorithms
        self._algorithms_for = algorithms_for
        self._key = secrets.token_bytes(32)
        self._clock = clock

    def _nonce(self, ts: int, salt: str | None = None) -> str:
        # timestamp + per-challenge salt, sealed with an HMAC: unique for every challenge
        # yet nothing to remember per client
        salt = salt or secrets.token_hex(4)
        mac = hmac.new(self._key, f"{ts}:{salt}".encode(), hashlib.sha256).hexdigest()[:24]
        return f"{ts:x}{salt}{mac}"

    def _nonce_age(self, nonce: str) -> float | None:
        ts_hex, salt = nonce[:-32], nonce[-32:-24]
        try:
            ts = int(ts_hex, 16)
        except ValueError:
            return None
        if len(salt) != 8 or not hmac.compare_digest(self._nonce(ts, salt), nonce):
            return None
        return self._clock() - ts

    def offered(self, user: str | None) -> tuple[str, ...]:
        """What `user` is challenged with; unknown users get the default, revealing nothing."""
        if user and self._algorithms_for is not None:
            algs = self._algorithms_for(user)
            if algs:
                return tuple(a for a in algs if a in ALGORITHMS) or self.algorithms
        return self.algorithms

    def challenges(self, stale: bool = False, user: str | None = None) -> list[str]:
        nonce = self._nonce(int(self._clock()))
        out = []
        for alg in self.offered(user):
            s = f'Digest realm="{self.realm}", nonce="{nonce}", algorithm={alg}, qop="auth"'
            if stale:
                s += ", stale=true"
            out.append(s)
        return out

    def verify(self, req: Request, header: str) -> AuthResult:
        """Check the credentials in `header` (Authorization or Proxy-Authorization)."""
        values = req.headers.get_raw(header)
        if not values:
            return AuthResult(False, reason="no credentials")
        for value in values:
            scheme, p = parse_auth_params(value)
            if scheme != "digest" or p.get("realm") != self.realm:
                continue
            user = p.get("username", "")
            alg = (p.get("algorithm") or "MD5").upper()
            if alg not in self.offered(user):
                return AuthResult(False, user, reason=f"algorithm {alg} not offered")
            age = self._nonce_age(p.get("nonce", ""))
            if age is None:
                # unknown nonce, e.g. from before a restart: let the client retry
                return AuthResult(False, user, stale=True, reason="unknown nonce")
            password = self._lookup(user)
            if password is None:
                return AuthResult(False, user, reason="unknown user")
            qop = p.get("qop")
            if qop and qop != "auth":
                return AuthResult(False, user, reason=f"qop {qop} not supported")
            expected = digest_response(
                alg,
                user,
                self.realm,
                password,
                req.method,
                p.get("uri", ""),
                p.get("nonce", ""),
                qop,
                p.get("nc", ""),
                p.get("cnonce", ""),
            )
            if not hmac.compare_digest(expected, p.get("response", "").lower()):
                return AuthResult(False, user, reason="wrong password")
            if age > NONCE_LIFETIME:
                return AuthResult(False, user, stale=True, reason="nonce expired")
            return AuthResult(True, user)
        return AuthResult(False, reason=f"no Digest credentials for realm {self.realm}")


@dataclass
class _Failures:
    times: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class Lockout:
    """Locks a source address out after `limit` failed authentications in `window`."""

    def __init__(self, limit: int = 5, window: float = 60.0, duration: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self.duration = duration
        self._by_source: dict[str, _Failures] = {}

    def locked(self, source: str, now: float) -> bool:
        f = self._by_source.get(source)
        return f is not None and f.locked_until > now

    def fail(self, source: str, now: float) -> bool:
        """Record a failure; True if the source is now locked."""
        f = self._by_source.setdefault(source, _Failures())
        f.times = [t for t in f.times if now - t < self.window] + [now]
        if len(f.times) >= self.limit:
            f.locked_until = now + self.duration
            f.times.clear()
            return True
        return False

    def succeed(self, source: str) -> None:
        f = self._by_source.get(source)
        if f is not None and f.locked_until == 0.0:
            del self._by_source[source]

    def prune(self, now: float) -> None:
        for src in [s for s, f in self._by_source.items()
                    if f.locked_until <= now and not f.times]:
            del self._by_source[src]

    def locked_sources(self, now: float) -> list[str]:
        return [s for s, f in self._by_source.items() if f.locked_until > now]
