"""Registrar and location service (RFC 3261 section 10.3).

Bindings remember the address the REGISTER really came from (rport/received), because
phones behind NAT advertise a Contact nobody can reach; calls go to that source address.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.sip.addr import Address
from drivers.sip.message import Request, Response, make_response
from drivers.sip.uri import is_digits, parse_name_addr

MIN_EXPIRES = 60
MAX_EXPIRES = 3600
DEFAULT_EXPIRES = 3600
MAX_CONTACTS = 5


@dataclass
class Binding:
    aor: str
    contact: str
    source: Address
    expires_at: float
    call_id: str
    cseq: int
    q: float = 1.0
    user_agent: str = ""
    registered_at: float = field(default_factory=time.time)

    def expires_in(self, now: float) -> int:
        return max(0, int(self.expires_at - now))


ChangeFn = Callable[[Binding, bool], None]  # (binding, removed)


class LocationService:
    def __init__(self, on_change: ChangeFn | None = None) -> None:
        self._by_aor: dict[str, dict[str, Binding]] = {}
        self._on_change = on_change

    def lookup(self, aor: str, now: float) -> list[Binding]:
        found = [b for b in self._by_aor.get(aor, {}).values() if b.expires_at > now]
        return sorted(found, key=lambda b: (-b.q, -b.registered_at))

    def all(self, now: float) -> list[Binding]:
        return [b for m in self._by_aor.values() for b in m.values() if b.expires_at > now]

    def put(self, b: Binding, notify: bool = True) -> None:
        contacts = self._by_aor.setdefault(b.aor, {})
        contacts[b.contact] = b
        if len(contacts) > MAX_CONTACTS:
            oldest = min(contacts.values(), key=lambda x: x.registered_at)
            self.remove(oldest)
        if notify and self._on_change:
            self._on_change(b, False)

    def remove(self, b: Binding) -> None:
        contacts = self._by_aor.get(b.aor, {})
        if contacts.pop(b.contact, None) is not None and self._on_change:
            self._on_change(b, True)
        if not contacts:
            self._by_aor.pop(b.aor, None)

    def get(self, aor: str, contact: str) -> Binding | None:
        return self._by_aor.get(aor, {}).get(contact)

    def expire(self, now: float) -> list[Binding]:
        gone = [b for m in self._by_aor.values() for b in m.values() if b.expires_at <= now]
        for b in gone:
            self.remove(b)
        return gone


def _expires_of(contact_params: dict[str, str | None], header: str | None) -> int:
    # RFC 3261 20.19: an unparsable or huge value means "as long as you allow"
    for raw in (contact_params.get("expires"), header):
        if raw is None:
            continue
        raw = raw.strip()
        if is_digits(raw):
            return min(int(raw[:10]), 2**31 - 1)
        return DEFAULT_EXPIRES
    return DEFAULT_EXPIRES


class Registrar:
    def __init__(self, location: LocationService) -> None:
        self.location = location

    def handle(
        self, req: Request, source: Address, user: str, now: float, to_tag: str
    ) -> tuple[Response, list[Binding], list[Binding]]:
        """Apply an authenticated REGISTER. Returns (response, added/refreshed, removed)."""
        try:
            to = parse_name_addr(req.headers.get("to") or "")
            aor = to.sip_uri.user_unescaped
        except ValueError as e:
            return make_response(req, 400, f"Bad To ({e})", to_tag), [], []
        if aor != user:
            return make_response(req, 403, f"Forbidden ({user} may not register {aor})",
                                 to_tag), [], []
        num, _ = req.cseq
        contacts = req.headers.get_all("contact")
        expires_header = req.headers.get("expires")
        added: list[Binding] = []
        removed: list[Binding] = []
        if contacts == ["*"]:
            if expires_header is None or expires_header.strip() != "0":
                return make_response(req, 400, "Contact * requires Expires: 0", to_tag), [], []
            for b in self.location.lookup(aor, now):
                self.location.remove(b)
                removed.append(b)
            return self._ok(req, aor, now, to_tag), added, removed
        parsed = []
        for c in contacts:
            try:
                na = parse_name_addr(c)
            except ValueError as e:
                return make_response(req, 400, f"Bad Contact ({e})", to_tag), [], []
            exp = _expires_of(na.params, expires_header)
            if 0 < exp < MIN_EXPIRES:
                resp = make_response(req, 423, None, to_tag)
                resp.headers.add("min-expires", str(MIN_EXPIRES))
                return resp, [], []
            parsed.append((na, min(exp, MAX_EXPIRES)))
        for na, exp in parsed:
            contact = str(na.uri)
            old = self.location.get(aor, contact)
            if old is not None and old.call_id == req.call_id and num <= old.cseq:
                return make_response(req, 500, "Out-of-order REGISTER (stale CSeq)",
                                     to_tag), [], []
            if exp == 0:
                if old is not None:
                    self.location.remove(old)
                    removed.append(old)
                continue
            q_raw = na.params.get("q")
            try:
                q = float(q_raw) if q_raw else 1.0
            except ValueError:
                q = 1.0
            b = Binding(aor, contact, source, now + exp, req.call_id, num, q,
                        req.headers.get("user-agent") or "")
            self.location.put(b)
            added.append(b)
        return self._ok(req, aor, now, to_tag), added, removed

    def _ok(self, req: Request, aor: str, now: float, to_tag: str) -> Response:
        resp = make_response(req, 200, None, to_tag)
        for b in self.location.lookup(aor, now):
            resp.headers.add("contact", f"<{b.contact}>;expires={b.expires_in(now)}")
        resp.headers.add("date", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)))
        return resp
