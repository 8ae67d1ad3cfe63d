"""SIP message model: requests, responses and their header list.

Headers keep their order and the form in which they arrived; lookup is by canonical
lower-case name, with RFC 3261 compact forms folded in (so `v:` and `Via:` are the
same header). Serialisation always writes the Content-Length of the body it carries.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from drivers.sip.lexer import split_unquoted
from drivers.sip.uri import parse_name_addr

COMPACT_FORMS = {
    "i": "call-id",
    "m": "contact",
    "e": "content-encoding",
    "l": "content-length",
    "c": "content-type",
    "f": "from",
    "s": "subject",
    "k": "supported",
    "t": "to",
    "v": "via",
    "o": "event",
    "u": "allow-events",
    "r": "refer-to",
    "b": "referred-by",
    "x": "session-expires",
}

# Headers whose value is a comma-separated list (RFC 3261 7.3.1); others may contain
# commas inside their value (e.g. dates, display names) and must not be split.
LIST_HEADERS = frozenset(
    {
        "via",
        "contact",
        "route",
        "record-route",
        "allow",
        "supported",
        "require",
        "proxy-require",
        "unsupported",
        "accept",
        "accept-encoding",
        "accept-language",
        "allow-events",
        "content-encoding",
        "in-reply-to",
        "path",
    }
)

# Headers that may appear at most once in a message.
SINGLE_HEADERS = frozenset(
    {"call-id", "cseq", "from", "to", "max-forwards", "content-length", "content-type", "expires"}
)

_PRETTY = {
    "call-id": "Call-ID",
    "cseq": "CSeq",
    "www-authenticate": "WWW-Authenticate",
    "mime-version": "MIME-Version",
}


# Every header lookup canonicalises the names it walks past; a box sees a few dozen
# distinct names, so a small cache turns that into one dict hit (bounded: a peer sending
# made-up names cannot grow it).
@functools.lru_cache(maxsize=1024)
def canonical(name: str) -> str:
    low = name.strip().lower()
    return COMPACT_FORMS.get(low, low)


@functools.lru_cache(maxsize=1024)
def pretty(name: str) -> str:
    low = canonical(name)
    return _PRETTY.get(low) or "-".join(p.capitalize() for p in low.split("-"))


def split_list(value: str) -> list[str]:
    """Split a list header value at commas outside quotes and angle brackets."""
    return [p.strip() for p in split_unquoted(value, ",", angle_brackets=True) if p.strip()]


class Headers:
    """Ordered, case-insensitive multi-map of SIP headers."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = [(n, v) for n, v in items]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def copy(self) -> Headers:
        return Headers(self._items)

    def get(self, name: str, default: str | None = None) -> str | None:
        key = canonical(name)
        for n, v in self._items:
            if canonical(n) == key:
                return v
        return default

    def get_raw(self, name: str) -> list[str]:
        """Every occurrence of the header, unsplit."""
        key = canonical(name)
        return [v for n, v in self._items if canonical(n) == key]

    def get_all(self, name: str) -> list[str]:
        """Every value of the header; list headers are split at their commas."""
        key = canonical(name)
        values = self.get_raw(name)
        if key in LIST_HEADERS:
            return [p for v in values for p in split_list(v)]
        return values

    def add(self, name: str, value: str) -> None:
        self._items.append((pretty(name), value))

    def prepend(self, name: str, value: str) -> None:
        self._items.insert(0, (pretty(name), value))

    def set(self, name: str, value: str) -> None:
        """Replace every occurrence with one value, at the first occurrence's place."""
        key = canonical(name)
        for i, (n, _) in enumerate(self._items):
            if canonical(n) == key:
                self._items[i] = (pretty(name), value)
                self._items = [
                    it for j, it in enumerate(self._items) if j <= i or canonical(it[0]) != key
                ]
                return
        self._items.append((pretty(name), value))

    def remove(self, name: str) -> None:
        key = canonical(name)
        self._items = [it for it in self._items if canonical(it[0]) != key]

    def remove_first(self, name: str) -> None:
        key = canonical(name)
        for i, (n, _) in enumerate(self._items):
            if canonical(n) == key:
                del self._items[i]
                return


_LINE_BREAK = re.compile(r"[\r\n]+[ \t]*")


def _one_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        return _LINE_BREAK.sub(" ", value)
    return value


def _serialize_headers(headers: Headers, body: bytes) -> bytes:
    # A CR or LF inside a value would start a new header line (header injection): fold it
    # into a space, as unfolding on receipt would have done.
    lines = [f"{n}: {_one_line(v)}" for n, v in headers if canonical(n) != "content-length"]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


class _Identity:
    """What requests and responses share: the transaction/dialog identity headers."""

    headers: Headers

    @property
    def call_id(self) -> str:
        return self.headers.get("call-id") or ""

    @property
    def cseq(self) -> tuple[int, str]:
        return parse_cseq(self.headers.get("cseq") or "")


@dataclass
class Request(_Identity):
    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = "SIP/2.0"

    def serialize(self) -> bytes:
        start = f"{self.method} {self.uri} {self.version}\r\n".encode()
        return start + _serialize_headers(self.headers, self.body)


@dataclass
class Response(_Identity):
    status: int
    reason: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = "SIP/2.0"

    def serialize(self) -> bytes:
        start = f"{self.version} {self.status} {self.reason}\r\n".encode()
        return start + _serialize_headers(self.headers, self.body)


Message = Request | Response


_METHOD = re.compile(r"^[A-Za-z0-9\-.!%*_+`'~]+$")


def parse_cseq(value: str) -> tuple[int, str]:
    """'314159 INVITE' -> (314159, 'INVITE'); raises ValueError when malformed."""
    parts = value.split()
    if len(parts) != 2 or not (parts[0].isascii() and parts[0].isdigit()):
        raise ValueError(f"malformed CSeq {value[:60]!r}")
    if not _METHOD.match(parts[1]):
        raise ValueError(f"malformed CSeq method {parts[1][:30]!r}")
    if len(parts[0].lstrip("0")) > 10:
        raise ValueError(f"CSeq number {parts[0][:30]} out of range (must be < 2**31)")
    num = int(parts[0])
    if num >= 2**31:
        raise ValueError(f"CSeq number {num} out of range (must be < 2**31)")
    return num, parts[1]


REASONS = {
    100: "Trying",
    180: "Ringing",
    181: "Call Is Being Forwarded",
    182: "Queued",
    183: "Session Progress",
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    413: "Request Entity Too Large",
    414: "Request-URI Too Long",
    415: "Unsupported Media Type",
    416: "Unsupported URI Scheme",
    420: "Bad Extension",
    423: "Interval Too Brief",
    480: "Temporarily Unavailable",
    481: "Call/Transaction Does Not Exist",
    482: "Loop Detected",
    483: "Too Many Hops",
    484: "Address Incomplete",
    486: "Busy Here",
    487: "Request Terminated",
    488: "Not Acceptable Here",
    491: "Request Pending",
    500: "Server Internal Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    504: "Server Time-out",
    505: "Version Not Supported",
    600: "Busy Everywhere",
    603: "Decline",
}


def sibling_request(req: Request, method: str, to: str | None = None) -> Request:
    """The ACK or CANCEL that belongs to `req` (RFC 3261 9.1, 17.1.1.3): same
    Request-URI, top Via, Route set, From, Call-ID and CSeq number; To as given."""
    h = Headers()
    h.add("via", req.headers.get_all("via")[0])
    for r in req.headers.get_raw("route"):
        h.add("route", r)
    h.add("max-forwards", "70")
    h.add("from", req.headers.get("from") or "")
    h.add("to", to if to is not None else req.headers.get("to") or "")
    h.add("call-id", req.call_id)
    h.add("cseq", f"{req.cseq[0]} {method}")
    return Request(method, req.uri, h)


def make_response(
    req: Request, status: int, reason: str | None = None, to_tag: str | None = None
) -> Response:
    """A response to `req` per RFC 3261 8.2.6: Via, From, To, Call-ID, CSeq copied."""
    h = Headers()
    for name in ("via", "from", "to", "call-id", "cseq"):
        for v in req.headers.get_raw(name):
            if name == "to" and to_tag and not _has_tag(v):
                v = f"{v};tag={to_tag}"
            h.add(name, v)
    # Record-Route goes back in responses that can set up a dialog: 101-299 (RFC 3261 12.1.1)
    if 100 < status < 300:
        for v in req.headers.get_raw("record-route"):
            if req.method in ("INVITE", "SUBSCRIBE"):
                h.add("record-route", v)
    if status == 100 and (ts := req.headers.get("timestamp")):
        h.add("timestamp", ts)
    return Response(status, reason or REASONS.get(status, "Unknown"), h)


def _has_tag(value: str) -> bool:
    try:
        return parse_name_addr(value).tag is not None
    except ValueError:
        return ";tag=" in value.replace(" ", "").lower()
