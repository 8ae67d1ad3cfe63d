"""SIP URIs, name-addr values (From/To/Contact/Route) and Via, per RFC 3261 section 25.

Parsers raise `ValueError` with a reason a human can act on; the message parser turns
that into a 400 answer.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from drivers.sip.lexer import split_unquoted

_TOKEN = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-.]+)$")
# A word of an unquoted display name: a token, or (liberally, as phones do send them)
# non-ASCII letters. ASCII separators such as `,` `"` `@` must be quoted (RFC 4475 3.1.2.15).
_DISPLAY_WORD = re.compile(r"^(?:[A-Za-z0-9\-.!%*_+`'~]|[^\x00-\x7f])+$")
# Longest port or other decimal we accept; keeps int() away from absurd digit strings.
MAX_DIGITS = 10


def is_token(s: str) -> bool:
    return bool(_TOKEN.match(s))


def is_digits(s: str, max_len: int = MAX_DIGITS) -> bool:
    """ASCII decimal digits only (str.isdigit() also accepts '²', '٣' …), at most max_len."""
    return 0 < len(s) <= max_len and s.isascii() and s.isdigit()


def _split_semicolons(text: str) -> list[str]:
    """Split at `;` outside double quotes (a quoted parameter value may contain `;`)."""
    return split_unquoted(text, ";")


def _parse_params(text: str, strict: bool = False) -> dict[str, str | None]:
    """`a=1;b;c=2` -> {'a': '1', 'b': None, 'c': '2'}; names are lower-cased.

    With `strict` (header parameters: RFC 3261 `*( SEMI generic-param )`), an empty
    parameter (`;;`) or a non-token name is an error rather than something to skip; a
    single trailing `;` is still tolerated.
    """
    params: dict[str, str | None] = {}
    parts = _split_semicolons(text)
    for i, raw in enumerate(parts):
        part = raw.strip()
        if not part:
            if strict and i < len(parts) - 1:
                raise ValueError(f"empty parameter in {text.strip()!r}")
            continue
        if "=" in part:
            k, v = part.split("=", 1)
            k = k.strip()
            v = v.strip()
        else:
            k, v = part, None
        if strict and not is_token(k):
            raise ValueError(f"invalid parameter name {k!r}")
        params[k.lower()] = v
    return params


def _format_params(params: dict[str, str | None]) -> str:
    return "".join(f";{k}" if v is None else f";{k}={v}" for k, v in params.items())


@dataclass
class SipUri:
    scheme: str = "sip"
    user: str | None = None
    password: str | None = None
    host: str = ""
    port: int | None = None
    params: dict[str, str | None] = field(default_factory=dict)
    headers: str = ""

    def __str__(self) -> str:
        s = f"{self.scheme}:"
        if self.user is not None:
            s += self.user
            if self.password is not None:
                s += f":{self.password}"
            s += "@"
        s += self.host
        if self.port is not None:
            s += f":{self.port}"
        s += _format_params(self.params)
        if self.headers:
            s += f"?{self.headers}"
        return s

    @property
    def user_unescaped(self) -> str:
        return unquote(self.user or "")

    @property
    def transport(self) -> str:
        return (self.params.get("transport") or "udp").lower()


def parse_host_port(text: str) -> tuple[str, int | None]:
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError(f"unterminated IPv6 reference in {text!r}")
        host, rest = text[: end + 1], text[end + 1 :]
    else:
        host, _, port_s = text.partition(":")
        rest = ":" + port_s if _ else ""
    if not host or not _HOST.match(host):
        raise ValueError(f"invalid host {host!r}")
    if not rest:
        return host.lower(), None
    if not rest.startswith(":") or not is_digits(rest[1:], 5):
        raise ValueError(f"invalid port in {text!r}")
    port = int(rest[1:])
    if not 0 < port < 65536:
        raise ValueError(f"port {port} out of range")
    return host.lower(), port


def parse_uri(text: str) -> SipUri:
    text = text.strip()
    scheme, sep, rest = text.partition(":")
    if not sep or not scheme:
        raise ValueError(f"not a URI: {text!r}")
    scheme = scheme.lower()
    if scheme not in ("sip", "sips"):
        raise ValueError(f"unsupported URI scheme {scheme!r}")
    if any(c.isspace() for c in rest):
        raise ValueError(f"whitespace inside URI {text!r}")
    user: str | None = None
    password: str | None = None
    # The user part may hold `?`, `;`, `/` and `,` (RFC 3261 user-unreserved) but never an
    # unescaped `@`, so the first `@` ends the userinfo (RFC 4475 3.1.1.2, 3.1.1.9).
    if "@" in rest:
        userinfo, _, rest = rest.partition("@")
        if ":" in userinfo:
            user, password = userinfo.split(":", 1)
        else:
            user = userinfo
        if not user:
            raise ValueError(f"empty user part in {text!r}")
    rest, _, hdrs = rest.partition("?")
    hostport, _, params = rest.partition(";")
    host, port = parse_host_port(hostport)
    return SipUri(scheme, user, password, host, port, _parse_params(params), hdrs)


@dataclass
class NameAddr:
    uri: SipUri | str  # a SipUri for sip/sips; the raw text for other schemes (tel:, …)
    display: str = ""
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def tag(self) -> str | None:
        return self.params.get("tag")

    @property
    def sip_uri(self) -> SipUri:
        if not isinstance(self.uri, SipUri):
            raise ValueError(f"not a SIP URI: {self.uri}")
        return self.uri

    def __str__(self) -> str:
        disp = f"{quote_display(self.display)} " if self.display else ""
        return f"{disp}<{self.uri}>{_format_params(self.params)}"


def quote_display(display: str) -> str:
    """A display name as an RFC 3261 quoted-string: `"` and `\\` and control characters
    become quoted-pairs; CR and LF, which no quoted-pair can carry, are dropped."""
    out = ['"']
    for ch in display:
        if ch in "\r\n":
            continue
        if ch in '"\\' or (ord(ch) < 0x20 and ch != "\t") or ch == "\x7f":
            out.append("\\")
        out.append(ch)
    out.append('"')
    return "".join(out)


def _parse_any_uri(text: str) -> SipUri | str:
    if text != text.strip():
        raise ValueError(f"whitespace around the URI inside <>: <{text}>")
    scheme = text.split(":", 1)[0].lower()
    if scheme in ("sip", "sips"):
        return parse_uri(text)
    if ":" not in text or not is_token(scheme.replace("+", "")):
        raise ValueError(f"not a URI: {text!r}")
    if any(c.isspace() for c in text):
        raise ValueError(f"whitespace inside URI {text!r}")
    return text


def parse_name_addr(text: str) -> NameAddr:
    """Parse a From/To/Contact/Route value: name-addr or addr-spec plus parameters."""
    text = text.strip()
    if not text:
        raise ValueError("empty address")
    display = ""
    rest = text
    if rest.startswith('"'):
        i = 1
        buf = []
        while i < len(rest):
            ch = rest[i]
            if ch == "\\" and i + 1 < len(rest):
                buf.append(rest[i + 1])
                i += 2
                continue
            if ch == '"':
                break
            buf.append(ch)
            i += 1
        else:
            raise ValueError("unterminated quoted display name")
        display = "".join(buf)
        rest = rest[i + 1 :].lstrip()
        if not rest.startswith("<"):
            raise ValueError("quoted display name must be followed by <URI>")
    lt = rest.find("<")
    if lt >= 0:
        if not display:
            display = " ".join(rest[:lt].split())
            for word in display.split():
                if not _DISPLAY_WORD.match(word):
                    raise ValueError(
                        f"unquoted display name {display!r} has characters that need quotes"
                    )
        gt = rest.find(">", lt)
        if gt < 0:
            raise ValueError("unterminated <URI>")
        uri = _parse_any_uri(rest[lt + 1 : gt])
        tail = rest[gt + 1 :].strip()
        if tail and not tail.startswith(";"):
            raise ValueError(f"unexpected text after <URI>: {tail!r}")
        params = _parse_params(tail[1:], strict=True) if tail else {}
        return NameAddr(uri, display, params)
    # addr-spec: parameters after the URI belong to the header, not the URI (RFC 3261 20.10)
    uri_text, sep, params_text = rest.partition(";")
    uri_text = uri_text.strip()
    if any(c.isspace() for c in uri_text):
        raise ValueError(f"address with spaces must use <URI>: {text!r}")
    if "?" in uri_text or "," in uri_text:
        raise ValueError("URI with headers or commas must be enclosed in <>")
    params = _parse_params(params_text, strict=True) if sep else {}
    return NameAddr(_parse_any_uri(uri_text), "", params)


@dataclass
class Via:
    transport: str
    host: str
    port: int | None
    params: dict[str, str | None] = field(default_factory=dict)

    @property
    def branch(self) -> str:
        return self.params.get("branch") or ""

    def __str__(self) -> str:
        hp = self.host if self.port is None else f"{self.host}:{self.port}"
        return f"SIP/2.0/{self.transport.upper()} {hp}{_format_params(self.params)}"


_VIA = re.compile(
    r"^\s*SIP\s*/\s*2\.0\s*/\s*([A-Za-z0-9\-]+)\s+([^;\s]+(?:\s*:\s*\d+)?)\s*(;.*)?$", re.S
)


def parse_via(text: str) -> Via:
    transport, host, port, params = _parse_via(text)
    return Via(transport, host, port, dict(params))


# The same top Via is parsed several times per message (validation, rport stamping,
# transaction matching) and again for each retransmission; a small cache makes the
# repeats free. A fresh Via (own params dict) is returned each time: callers edit it.
@functools.lru_cache(maxsize=512)
def _parse_via(text: str) -> tuple[str, str, int | None, tuple[tuple[str, str | None], ...]]:
    m = _VIA.match(text)
    if not m:
        raise ValueError(f"malformed Via {text!r}")
    host, port = parse_host_port(re.sub(r"\s+", "", m.group(2)))
    params = _parse_params(m.group(3)[1:], strict=True) if m.group(3) else {}
    return m.group(1).upper(), host, port, tuple(params.items())


def tag_of(value: str | None) -> str | None:
    """The tag parameter of a From/To value; None when absent or unparsable."""
    if not value:
        return None
    try:
        return parse_name_addr(value).tag
    except ValueError:
        return None
