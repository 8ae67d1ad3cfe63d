"""Read and check SIP digest headers (RFC 2617 / RFC 8760) seen in traces."""

from __future__ import annotations

import hashlib
import re

_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)')
_HASHES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


def parse_params(header: str) -> dict[str, str]:
    """`Digest realm="x", nonce="y", qop="auth"` -> {'realm': 'x', ...} (keys lower-case)."""
    value = header.strip()
    if value.lower().startswith("digest"):
        value = value[6:]
    return {k.lower(): v.strip('"') for k, v in _PARAM.findall(value)}


def algorithm(params: dict[str, str]) -> str:
    return params.get("algorithm", "MD5").upper()


def response(params: dict[str, str], method: str, password: str) -> str:
    """The `response=` a client with `password` must send for these Authorization params."""
    algo = algorithm(params)
    name = _HASHES.get(algo.removesuffix("-SESS"))
    if name is None:
        raise ValueError(f"unsupported digest algorithm {algo}")

    def h(s: str) -> str:
        return hashlib.new(name, s.encode()).hexdigest()

    ha1 = h(f"{params['username']}:{params['realm']}:{password}")
    if algo.endswith("-SESS"):
        ha1 = h(f"{ha1}:{params['nonce']}:{params['cnonce']}")
    ha2 = h(f"{method}:{params['uri']}")
    if params.get("qop"):
        return h(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:{params['qop']}:{ha2}")
    return h(f"{ha1}:{params['nonce']}:{ha2}")


def verify(authorization: str, method: str, password: str) -> bool:
    params = parse_params(authorization)
    return response(params, method, password) == params.get("response")
