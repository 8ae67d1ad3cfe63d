"""Parse SIP messages from bytes (RFC 3261 section 7, hardened per RFC 4475).

`parse_message` never raises anything but `SipParseError`. The error carries the status
to answer with (400, 416, 505, …), a reason phrase for that answer, and whatever part of
the request could be read, so the transport can still answer a broken request when its
Via, From, To, Call-ID and CSeq are usable.
"""

from __future__ import annotations

import re

from drivers.sip.message import (
    SINGLE_HEADERS,
    Headers,
    Message,
    Request,
    Response,
    canonical,
    parse_cseq,
)
from drivers.sip.uri import is_token, parse_name_addr, parse_via

MAX_MESSAGE = 65535
_STATUS_LINE = re.compile(r"^SIP/(\d+\.\d+) (\d{3}) (.*)$")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")


class SipParseError(Exception):
    def __init__(self, reason: str, status: int = 400, partial: Request | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.partial = partial


def split_head(data: bytes) -> tuple[bytes, bytes] | None:
    """Split at the blank line that ends the headers; None if it is not there yet."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = data.find(sep)
        if i >= 0:
            return data[:i], data[i + len(sep) :]
    return None


def _unfold(head: str) -> list[str]:
    lines: list[str] = []
    for line in re.split(r"\r?\n", head):
        if line[:1] in (" ", "\t") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def _headers(lines: list[str]) -> Headers:
    h = Headers()
    for line in lines:
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name = name.strip()
        if not sep or not _HEADER_NAME.match(name):
            raise SipParseError(f"malformed header line {line[:60]!r}")
        h._items.append((name, value.strip()))
    return h


def parse_message(data: bytes, stream: bool = False) -> Message:
    """Parse one whole message. `stream` means TCP: Content-Length is mandatory."""
    if len(data) > MAX_MESSAGE:
        raise SipParseError("message too large", 413)
    data = data.lstrip(b"\r\n")
    parts = split_head(data)
    if parts is None:
        if stream:
            raise SipParseError("message has no end of headers")
        parts = (data.rstrip(b"\r\n"), b"")
    head_b, body = parts
    try:
        head = head_b.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SipParseError(f"headers are not valid UTF-8 (byte {e.start})") from None
    if "\x00" in head:
        raise SipParseError("NUL byte in headers")
    lines = _unfold(head)
    start = lines[0]
    headers = _headers(lines[1:])
    body = _take_body(headers, body, stream, start)

    if start.startswith("SIP/"):
        m = _STATUS_LINE.match(start)
        if not m:
            raise SipParseError(f"malformed status line {start[:60]!r}")
        if m.group(1) != "2.0":
            raise SipParseError(f"unsupported SIP version SIP/{m.group(1)}", 505)
        resp = Response(int(m.group(2)), m.group(3), headers, body)
        if not 100 <= resp.status <= 699:
            raise SipParseError(f"status code {resp.status} out of range")
        _check_common(headers)
        return resp
    return _parse_request(start, headers, body)


def _take_body(headers: Headers, body: bytes, stream: bool, start: str) -> bytes:
    cl_values = headers.get_raw("content-length")
    if not cl_values:
        if stream:
            raise SipParseError("Content-Length is required over TCP")
        return body
    if len(cl_values) > 1 and len(set(cl_values)) > 1:
        raise SipParseError("conflicting Content-Length headers")
    cl = cl_values[0].strip()
    if not cl.isdigit():
        raise SipParseError(f"malformed Content-Length {cl!r}")
    n = int(cl)
    if n > len(body):
        raise SipParseError(
            f"Content-Length {n} larger than the {len(body)} body bytes received",
            partial=_partial(start, headers),
        )
    return body[:n]


def _partial(start: str, headers: Headers) -> Request | None:
    bits = start.split(" ")
    if len(bits) == 3 and is_token(bits[0]):
        return Request(bits[0], bits[1], headers)
    return None


def _parse_request(start: str, headers: Headers, body: bytes) -> Request:
    bits = start.split(" ")
    if len(bits) != 3:
        raise SipParseError(
            f"malformed request line {start[:60]!r}", partial=_partial_loose(start, headers)
        )
    method, uri, version = bits
    if not is_token(method):
        raise SipParseError(f"invalid method {method[:20]!r}")
    req = Request(method, uri, headers, body, version)
    if version.upper() != "SIP/2.0":
        raise SipParseError(f"unsupported version {version[:20]!r}", 505, req)
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else ""
    if not scheme or not is_token(scheme):
        raise SipParseError(f"malformed Request-URI {uri[:60]!r}", partial=req)
    if scheme not in ("sip", "sips", "tel"):
        raise SipParseError(f"unsupported URI scheme {scheme!r}", 416, req)
    if scheme in ("sip", "sips"):
        try:
            from drivers.sip.uri import parse_uri

            parse_uri(uri)
        except ValueError as e:
            raise SipParseError(f"bad Request-URI: {e}", partial=req) from None
    try:
        _check_common(headers)
    except SipParseError as e:
        e.partial = req
        raise
    for name in ("to", "from", "call-id", "cseq", "via"):
        if not headers.get_raw(name):
            raise SipParseError(f"missing {name} header", partial=req)
    _num, cseq_method = req.cseq
    if cseq_method != method:
        raise SipParseError(f"CSeq method {cseq_method} does not match {method}", partial=req)
    mf = headers.get("max-forwards")
    if mf is not None and (not mf.isdigit() or int(mf) > 255):
        raise SipParseError(f"malformed Max-Forwards {mf!r}", partial=req)
    return req


def _partial_loose(start: str, headers: Headers) -> Request | None:
    bits = start.split()
    if len(bits) >= 2 and is_token(bits[0]):
        return Request(bits[0], bits[1], headers)
    return None


def _check_common(headers: Headers) -> None:
    counts: dict[str, int] = {}
    for n, _ in headers:
        key = canonical(n)
        counts[key] = counts.get(key, 0) + 1
    for key in SINGLE_HEADERS:
        if counts.get(key, 0) > 1 and key != "content-length":
            raise SipParseError(f"more than one {key} header")
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
    for v in headers.get_all("via"):
        try:
            parse_via(v)
        except ValueError as e:
            raise SipParseError(str(e)) from None
    for v in headers.get_all("contact"):
        if v.strip() == "*":
            continue
        try:
            parse_name_addr(v)
        except ValueError as e:
            raise SipParseError(f"bad Contact header: {e}") from None
    exp = headers.get("expires")
    if exp is not None and not exp.strip().isdigit():
        raise SipParseError(f"malformed Expires {exp!r}")


class StreamFramer:
    """Cuts a TCP byte stream into whole messages (RFC 3261 18.3)."""

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
            m = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?$", head)
            if not m:
                raise SipParseError("Content-Length is required over TCP")
            n = int(m.group(1))
            if n > MAX_MESSAGE:
                raise SipParseError("body too large", 413)
            total = len(self._buf) - len(rest) + n
            if len(self._buf) < total:
                return out
            out.append(bytes(self._buf[:total]))
            del self._buf[:total]
