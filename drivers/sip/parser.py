"""Parse SIP messages from bytes (RFC 3261 section 7, hardened per RFC 4475).

`parse_message` never raises anything but `SipParseError`. The error carries the status
to answer with (400, 416, 505, …), a reason phrase for that answer, and whatever part of
the request could be read, so the transport can still answer a broken request when its
Via, From, To, Call-ID and CSeq are usable.
"""

from __future__ import annotations

import re

from drivers.sip.lexer import has_bare_nul, split_unquoted
from drivers.sip.message import (
    SINGLE_HEADERS,
    Headers,
    Message,
    Request,
    Response,
    canonical,
    parse_cseq,
)
from drivers.sip.uri import is_digits, is_token, parse_name_addr, parse_uri, parse_via

MAX_MESSAGE = 65535
_STATUS_LINE = re.compile(r"^SIP/(\d+\.\d+) (\d+)(?: (.*))?$", re.ASCII)
_VERSION = re.compile(r"^SIP/\d+\.\d+$", re.I | re.ASCII)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
_LINE = re.compile(r"\r?\n")
# Headers the partial request keeps one of, so that an answer built from it is well formed
# even when the request repeated them (RFC 4475 3.3.8).
_ANSWER_HEADERS = ("from", "to", "call-id", "cseq")
_PRETTY_NAMES = {"to": "To", "from": "From", "call-id": "Call-ID", "cseq": "CSeq", "via": "Via"}


class SipParseError(Exception):
    """A message that cannot be accepted.

    `status` is the response the sender deserves (400, 413, 416, 505); `partial` is the
    request as far as it could be read, for building that response with `make_response`;
    it is None for responses and for requests whose start line is unreadable. Its headers
    are the well-formed ones, with only the first From, To, Call-ID and CSeq kept.
    """

    def __init__(self, reason: str, status: int = 400, partial: Request | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.partial = partial


def split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """Split at the first blank line that ends the headers; None if it is not there yet."""
    m = _END_OF_HEADERS.search(data)
    if m is None:
        return None
    return data[: m.start()], data[m.end() :]


def parse_message(data: bytes, stream: bool = False) -> Message:
    """Parse one whole message. `stream` means TCP: Content-Length is mandatory.

    Over UDP (`stream` False) a datagram may hold bytes beyond Content-Length; they are
    ignored (RFC 3261 18.3), so of two concatenated requests only the first is read
    (RFC 4475 3.1.1.8).
    """
    try:
        return _parse(data, stream)
    except SipParseError:
        raise
    except Exception as e:  # the contract is SipParseError only, whatever the input
        raise SipParseError(f"unparseable message ({type(e).__name__})") from e


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # RFC 3261 wants UTF-8, but legacy equipment sends Latin-1 display names; every
        # byte is a Latin-1 character, so the message still parses (and re-encodes as UTF-8).
        return raw.decode("latin-1")


def _read_headers(lines: list[str]) -> tuple[Headers, str | None]:
    """The headers of the lines after the start line, unfolded (RFC 3261 7.3.1).

    Returns every well-formed header and the first problem met, if any, so that a
    broken request can still be answered from its good headers.
    """
    h = Headers()
    error: str | None = None
    logical: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t"):
            if not logical:
                error = error or "header section starts with a continuation line"
                continue
            logical[-1] += " " + line.strip(" \t")
        else:
            logical.append(line)
    for line in logical:
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name = name.strip(" \t")
        if not sep or not _HEADER_NAME.match(name):
            error = error or f"malformed header line {line[:60]!r}"
            continue
        if has_bare_nul(value):
            error = error or f"NUL byte in {name[:30]} header"
            continue
        h._items.append((name, value.strip(" \t")))
    return h, error


def _parse(data: bytes, stream: bool) -> Message:
    if len(data) > MAX_MESSAGE:
        raise SipParseError("message too large", 413)
    data = data.lstrip(b"\r\n")
    parts = split_head(data)
    if parts is None:
        if stream:
            raise SipParseError("message has no end of headers")
        parts = (data.rstrip(b"\r\n"), b"")
    head_b, body = parts
    lines = _LINE.split(_decode(head_b))
    start = lines[0]
    headers, header_error = _read_headers(lines[1:])
    if start.startswith("SIP/"):
        return _parse_response(start, headers, header_error, body, stream)
    try:
        return _parse_request(start, headers, header_error, body, stream)
    except SipParseError as e:
        if e.partial is None:
            e.partial = _partial(start, headers)
        raise


def _partial(start: str, headers: Headers) -> Request | None:
    """The request to answer an error with, when the start line names a method and URI."""
    bits = start.split()
    if len(bits) < 2 or not is_token(bits[0]):
        return None
    h = Headers()
    seen: set[str] = set()
    for n, v in headers:
        key = canonical(n)
        if key in _ANSWER_HEADERS:
            if key in seen:
                continue
            seen.add(key)
        h._items.append((n, v))
    return Request(bits[0], bits[1], h, b"", bits[2] if len(bits) > 2 else "SIP/2.0")


def _parse_response(
    start: str, headers: Headers, header_error: str | None, body: bytes, stream: bool
) -> Response:
    m = _STATUS_LINE.match(start)
    if not m:
        raise SipParseError(f"malformed status line {start[:60]!r}")
    if m.group(1) != "2.0":
        raise SipParseError(f"unsupported SIP version SIP/{m.group(1)}", 505)
    code = m.group(2)
    if len(code) != 3 or not 100 <= int(code) <= 699:
        raise SipParseError(f"status code {code[:20]} out of range (100-699)")
    if header_error:
        raise SipParseError(header_error)
    _check_common(headers)
    return Response(int(code), m.group(3) or "", headers, _take_body(headers, body, stream))


def _parse_request(
    start: str, headers: Headers, header_error: str | None, body: bytes, stream: bool
) -> Request:
    bits = start.split(" ")
    if len(bits) != 3 or not all(bits):
        words = start.split()
        if len(words) == 3:
            why = "extra whitespace in request line"  # RFC 4475 3.1.2.9, 3.1.2.10
        elif len(words) > 3 and _VERSION.match(words[-1]):
            why = "whitespace inside the Request-URI of"  # RFC 4475 3.1.2.8
        else:
            why = "malformed request line"
        raise SipParseError(f"{why} {start[:80]!r}")
    method, uri, version = bits
    if not is_token(method):
        raise SipParseError(f"invalid method {method[:20]!r}")
    if not _VERSION.match(version):
        raise SipParseError(f"malformed SIP version {version[:20]!r}")
    if version.upper() != "SIP/2.0":
        raise SipParseError(f"unsupported SIP version {version[:20]}", 505)
    _check_request_uri(uri)
    if header_error:
        raise SipParseError(header_error)
    _check_common(headers)
    for name in ("to", "from", "call-id", "cseq", "via"):
        if not headers.get_raw(name):
            raise SipParseError(f"missing {_PRETTY_NAMES[name]} header")
    cseq_method = parse_cseq(headers.get("cseq") or "")[1]
    if cseq_method != method:
        raise SipParseError(f"CSeq method {cseq_method[:30]} does not match {method[:30]}")
    mf = headers.get("max-forwards")
    if mf is not None and (not is_digits(mf) or int(mf) > 255):
        raise SipParseError(f"malformed Max-Forwards {mf[:20]!r} (must be 0-255)")
    return Request(method, uri, headers, _take_body(headers, body, stream), version)


def _check_request_uri(uri: str) -> None:
    if uri.startswith("<"):
        raise SipParseError(f"Request-URI must not be enclosed in <>: {uri[:60]!r}")
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if not scheme or not is_token(scheme):
        raise SipParseError(f"malformed Request-URI {uri[:60]!r}")
    if scheme not in ("sip", "sips", "tel"):
        raise SipParseError(f"unsupported URI scheme {scheme[:30]!r} in Request-URI", 416)
    if scheme in ("sip", "sips"):
        try:
            parsed = parse_uri(uri)
        except ValueError as e:
            raise SipParseError(f"bad Request-URI: {e}") from None
        if parsed.headers:
            # RFC 3261 19.1.1: headers are not allowed in a Request-URI (RFC 4475 3.1.2.11)
            raise SipParseError(f"Request-URI carries headers: {uri[:60]!r}")


def _take_body(headers: Headers, body: bytes, stream: bool) -> bytes:
    cl_values = [v.strip() for v in headers.get_raw("content-length")]
    if not cl_values:
        if stream:
            raise SipParseError("Content-Length is required over TCP")
        return body
    if len(set(cl_values)) > 1:
        raise SipParseError(f"conflicting Content-Length headers ({', '.join(cl_values)[:40]})")
    cl = cl_values[0]
    if cl.startswith("-") and is_digits(cl[1:], 20):
        raise SipParseError(f"negative Content-Length {cl}")
    if not is_digits(cl.lstrip("0") or "0"):
        raise SipParseError(f"malformed Content-Length {cl[:20]!r}")
    n = int(cl.lstrip("0") or "0")
    if n > len(body):
        raise SipParseError(f"Content-Length {n} larger than the {len(body)} body bytes received")
    return body[:n]


def _check_common(headers: Headers) -> None:
    counts: dict[str, int] = {}
    for n, _ in headers:
        key = canonical(n)
        counts[key] = counts.get(key, 0) + 1
    for key in sorted(SINGLE_HEADERS):
        if counts.get(key, 0) > 1 and key != "content-length":
            raise SipParseError(f"more than one {_PRETTY_NAMES.get(key, key)} header")
    for name in ("from", "to"):
        v = headers.get(name)
        if v is not None:
            try:
                parse_name_addr(v)
            except ValueError as e:
                raise SipParseError(f"bad {name.capitalize()} header: {e}") from None
    cseq = headers.get("cseq")
    if cseq is not None:
        try:
            parse_cseq(cseq)
        except ValueError as e:
            raise SipParseError(str(e)) from None
    vias = [v for raw in headers.get_raw("via") for v in _split_via(raw)]
    for v in vias:
        try:
            parse_via(v)
        except ValueError as e:
            raise SipParseError(f"bad Via header: {e}") from None
    for v in headers.get_all("contact"):
        if v.strip() == "*":
            continue
        try:
            parse_name_addr(v)
        except ValueError as e:
            raise SipParseError(f"bad Contact header: {e}") from None
    exp = headers.get("expires")
    if exp is not None and not (exp.isascii() and exp.isdigit()):
        raise SipParseError(f"malformed Expires {exp[:20]!r}")


def _split_via(raw: str) -> list[str]:
    """The via-parms of one Via header value. Unlike generic lists, where an empty element
    is skipped, an empty via-parm is an error (RFC 4475 3.1.2.1)."""
    parts = [p.strip() for p in split_unquoted(raw, ",")]
    if not all(parts):
        raise SipParseError(f"bad Via header: empty element in {raw[:60]!r}")
    return parts


_CONTENT_LENGTH = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r?$")


class StreamFramer:
    """Cuts a TCP byte stream into whole messages (RFC 3261 18.3).

    Raises SipParseError when the stream cannot be framed any more (no, conflicting or
    malformed Content-Length, oversized message): the connection must then be closed,
    as nothing after the error can be trusted (RFC 4475 3.3.9).
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        out: list[bytes] = []
        while True:
            # keep-alive CRLFs between messages (RFC 5626 3.5.1)
            while self._buf[:2] == b"\r\n":
                del self._buf[:2]
            parts = split_head(bytes(self._buf))
            if parts is None:
                if len(self._buf) > MAX_MESSAGE:
                    raise SipParseError("header section too large", 413)
                return out
            head, rest = parts
            values = {m.group(1) for m in _CONTENT_LENGTH.finditer(head)}
            if not values:
                raise SipParseError("Content-Length is required over TCP")
            if len(values) > 1:
                raise SipParseError("conflicting Content-Length headers")
            value = values.pop().decode("latin-1")
            if not is_digits(value.lstrip("0") or "0"):
                raise SipParseError(f"malformed Content-Length {value[:20]!r}")
            n = int(value.lstrip("0") or "0")
            if n > MAX_MESSAGE:
                raise SipParseError("body too large", 413)
            total = len(self._buf) - len(rest) + n
            if len(self._buf) < total:
                return out
            out.append(bytes(self._buf[:total]))
            del self._buf[:total]
