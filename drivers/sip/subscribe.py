"""SIP-specific event notification (RFC 6665, formerly 3265), notifier side, sans I/O.

The box is the notifier for the packages the switch knows about: `dialog` (RFC 4235,
BLF lamps), `message-summary` (RFC 3842, the message-waiting lamp) and `presence`
(agent state as PIDF). `Notifier` takes an already authenticated SUBSCRIBE plus the
time and returns the response to send and the NOTIFY requests that follow; the
application says "the state of resource R changed" and gets the NOTIFYs for every
subscription to R. It never touches a socket or a clock: the I/O half
(`event_server.py`) sends what it returns and calls `handle_timer` at `next_timer()`.

Rules kept here (RFC 6665):
- a SUBSCRIBE creates a dialog (our To tag); a refresh or an unsubscribe (`Expires: 0`)
  comes inside it; an unknown dialog gets 481;
- the first NOTIFY follows the 2xx at once, carrying the full state;
  `Subscription-State: active;expires=N` while alive, `terminated;reason=...` at the end
  (unsubscribe or expiry: `timeout`; the notifier going away: `deactivated`);
- at most one NOTIFY of a subscription is in flight: a change meanwhile is remembered
  and sent, as the newest full state, when the answer arrives (bursts coalesce);
- a NOTIFY answered 481 (or with any other failure, or not at all) ends the subscription;
- an unknown package gets 489 with Allow-Events, an Accept without the package's type
  406, a too short non-zero Expires 423 with Min-Expires; a subscriber over its quota
  (or the box over its total) 503 with Retry-After.
"""

from __future__ import annotations

import heapq
import itertools
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum

from drivers.sip.addr import Address
from drivers.sip.message import Headers, Request, Response, make_response
from drivers.sip.transaction import new_branch
from drivers.sip.uri import is_digits, parse_name_addr, parse_uri, tag_of

MIN_EXPIRES = 60
# A phone with a 100-key BLF expansion module is large; a subscriber beyond this is a
# broken or hostile client, and memory must stay bounded.
MAX_PER_SUBSCRIBER = 200
MAX_SUBSCRIPTIONS = 20000


class SubState(Enum):
    ACTIVE = "active"
    TERMINATED = "terminated"


@dataclass(frozen=True)
class EventPackage:
    """What the notifier needs to know about one event package.

    `resolve(subscriber, requested)` maps the Request-URI user to the resource watched
    (or returns an error status: 403 not allowed, 404 no such resource); `render(sub)`
    is the body of the next NOTIFY, the resource's current full state."""

    name: str
    content_type: str
    default_expires: int
    max_expires: int
    resolve: Callable[[str, str], str | int]
    render: Callable[[Subscription], bytes]


@dataclass(eq=False)
class Subscription:
    package: str
    resource: str  # what is watched (an extension, a mailbox, an agent)
    subscriber: str  # the authenticated extension that asked
    call_id: str
    local_tag: str
    remote_tag: str
    local_uri: str  # the SUBSCRIBE's To, without tag: our identity in this dialog
    remote_uri: str  # its From, without tag
    remote_target: str  # its Contact: where NOTIFYs go
    route_set: list[str]
    dest: Address  # the address the SUBSCRIBE came from (NAT: that is where we send)
    event_id: str | None
    expires_at: float
    state: SubState = SubState.ACTIVE
    reason: str | None = None  # why it terminated
    local_cseq: int = field(default_factory=lambda: secrets.randbelow(10000) + 1)
    remote_cseq: int = 0
    version: int = -1  # bodies rendered so far minus one (dialog-info `version`)
    in_flight: bool = False  # a NOTIFY awaits its answer
    dirty: bool = False  # the state changed while one was in flight

    @property
    def key(self) -> tuple[str, str]:
        return (self.call_id, self.local_tag)

    def next_version(self) -> int:
        """For renderers whose body counts NOTIFYs (RFC 4235 `version`)."""
        self.version += 1
        return self.version

    def expires_in(self, now: float) -> int:
        return max(0, int(self.expires_at - now + 0.5))


@dataclass(frozen=True)
class Local:
    """How the I/O side addresses us towards `dest` (Via and Contact values)."""

    via: Callable[[Address, str], str]
    contact: Callable[[Address], str]
    user_agent: str = "ccbox"


Outgoing = tuple["Subscription", Request]  # a NOTIFY and the subscription it belongs to


@dataclass
class SubscribeResult:
    response: Response
    subscription: Subscription | None = None
    notifies: list[Request] = field(default_factory=list)


class Notifier:
    def __init__(self, packages: Mapping[str, EventPackage], local: Local,
                 min_expires: int = MIN_EXPIRES, per_subscriber: int = MAX_PER_SUBSCRIBER,
                 total: int = MAX_SUBSCRIPTIONS) -> None:
        self.packages = dict(packages)
        self.local = local
        self.min_expires = min_expires
        self.per_subscriber = per_subscriber
        self.total = total
        self._count: dict[str, int] = {}  # subscriptions per subscriber
        self._subs: dict[tuple[str, str], Subscription] = {}
        self._by_resource: dict[tuple[str, str], dict[tuple[str, str], Subscription]] = {}
        self._heap: list[tuple[float, int, tuple[str, str]]] = []
        self._seq = itertools.count()

    # --- queries --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._subs)

    def __iter__(self) -> Iterator[Subscription]:
        return iter(list(self._subs.values()))

    def get(self, call_id: str, local_tag: str) -> Subscription | None:
        return self._subs.get((call_id, local_tag))

    def watching(self, package: str, resource: str) -> list[Subscription]:
        return list(self._by_resource.get((package, resource), {}).values())

    def allow_events(self) -> str:
        return ", ".join(sorted(self.packages))

    # --- SUBSCRIBE ------------------------------------------------------------------
    def subscribe(self, req: Request, source: Address, user: str, to_tag: str,
                  now: float) -> SubscribeResult:
        """An authenticated SUBSCRIBE from extension `user` (`to_tag`: the tag to give a
        new dialog). Returns the response and the NOTIFYs to send after it."""
        event = (req.headers.get("event") or "").strip()
        name, _, params = event.partition(";")
        name = name.strip().lower()
        event_id = _param(params, "id")
        package = self.packages.get(name)
        if package is None:
            resp = make_response(req, 489, None, to_tag)
            resp.headers.add("allow-events", self.allow_events())
            return SubscribeResult(resp)
        accept = [a.split(";")[0].strip().lower() for a in req.headers.get_all("accept")]
        if accept and package.content_type not in accept and "*/*" not in accept:
            resp = make_response(req, 406, None, to_tag)
            resp.headers.add("accept", package.content_type)
            return SubscribeResult(resp)
        try:
            expires = _expires(req.headers.get("expires"), package.default_expires)
        except ValueError as e:
            return SubscribeResult(make_response(req, 400, f"Bad Request ({e})", to_tag))
        if 0 < expires < self.min_expires:
            resp = make_response(req, 423, None, to_tag)
            resp.headers.add("min-expires", str(self.min_expires))
            return SubscribeResult(resp)
        expires = min(expires, package.max_expires)
        remote_tag = tag_of(req.headers.get("from"))
        if not remote_tag:
            return SubscribeResult(make_response(req, 400, "Bad Request (From has no tag)",
                                                 to_tag))
        existing_tag = tag_of(req.headers.get("to"))
        if existing_tag:
            return self._refresh(req, existing_tag, name, expires, now)
        try:
            requested = parse_uri(req.uri).user_unescaped
        except ValueError as e:
            return SubscribeResult(make_response(req, 400, f"Bad Request ({e})", to_tag))
        resource = package.resolve(user, requested)
        if isinstance(resource, int):
            return SubscribeResult(make_response(req, resource, None, to_tag))
        if expires == 0:
            # a fetch: one NOTIFY with the state, no subscription kept (RFC 6665 4.4.3)
            sub = self._new(req, source, user, resource, name, event_id, to_tag, now, 0)
            resp = self._ok(req, sub, 0)
            sub.state, sub.reason = SubState.TERMINATED, "timeout"
            return SubscribeResult(resp, sub, [self._notify(sub, now)])
        if self._count.get(user, 0) >= self.per_subscriber or len(self._subs) >= self.total:
            resp = make_response(req, 503, "Service Unavailable (too many subscriptions)",
                                 to_tag)
            resp.headers.add("retry-after", "300")
            return SubscribeResult(resp)
        sub = self._new(req, source, user, resource, name, event_id, to_tag, now, expires)
        self._count[user] = self._count.get(user, 0) + 1
        self._subs[sub.key] = sub
        self._by_resource.setdefault((name, resource), {})[sub.key] = sub
        self._arm(sub)
        return SubscribeResult(self._ok(req, sub, expires), sub, [self._notify(sub, now)])

    def _new(self, req: Request, source: Address, user: str, resource: str, name: str,
             event_id: str | None, to_tag: str, now: float, expires: int) -> Subscription:
        contact = req.headers.get("contact")
        frm = req.headers.get("from") or ""
        try:
            target = str(parse_name_addr(contact).uri) if contact else str(
                parse_name_addr(frm).uri)
        except ValueError:
            target = req.uri
        return Subscription(
            package=name, resource=resource, subscriber=user, call_id=req.call_id,
            local_tag=to_tag, remote_tag=tag_of(frm) or "",
            local_uri=_strip_tag(req.headers.get("to") or ""), remote_uri=_strip_tag(frm),
            remote_target=target, route_set=req.headers.get_all("record-route"),
            dest=source, event_id=event_id, expires_at=now + expires,
            remote_cseq=req.cseq[0])

    def _refresh(self, req: Request, local_tag: str, name: str, expires: int,
                 now: float) -> SubscribeResult:
        sub = self._subs.get((req.call_id, local_tag))
        if sub is None or sub.package != name:
            return SubscribeResult(make_response(req, 481, None))
        num = req.cseq[0]
        if num <= sub.remote_cseq:
            return SubscribeResult(make_response(req, 500, "Out-of-order SUBSCRIBE (stale CSeq)"))
        sub.remote_cseq = num
        if expires == 0:
            resp = self._ok(req, sub, 0)
            return SubscribeResult(resp, sub, [self.terminate(sub, "timeout", now)])
        sub.expires_at = now + expires
        self._arm(sub)
        resp = self._ok(req, sub, expires)
        # RFC 6665 4.2.1.2: a refresh is answered with the current state as well
        return SubscribeResult(resp, sub, self._want(sub, now))

    def _ok(self, req: Request, sub: Subscription, expires: int) -> Response:
        resp = make_response(req, 200, None, sub.local_tag)
        resp.headers.add("contact", self.local.contact(sub.dest))
        resp.headers.add("expires", str(expires))
        resp.headers.add("allow-events", self.allow_events())
        resp.headers.add("server", self.local.user_agent)
        return resp

    # --- NOTIFY ---------------------------------------------------------------------
    def changed(self, package: str, resource: str, now: float) -> list[Outgoing]:
        """The state of `resource` changed: NOTIFYs for everyone watching it."""
        return [(sub, req) for sub in self.watching(package, resource)
                for req in self._want(sub, now)]

    def _want(self, sub: Subscription, now: float) -> list[Request]:
        if sub.in_flight:
            sub.dirty = True
            return []
        return [self._notify(sub, now)]

    def _notify(self, sub: Subscription, now: float) -> Request:
        package = self.packages[sub.package]
        body = package.render(sub)
        sub.local_cseq += 1
        sub.in_flight = sub.state is SubState.ACTIVE
        sub.dirty = False
        h = Headers()
        h.add("via", self.local.via(sub.dest, new_branch()))
        for r in sub.route_set:
            h.add("route", r)
        h.add("max-forwards", "70")
        h.add("from", f"{sub.local_uri};tag={sub.local_tag}")
        h.add("to", f"{sub.remote_uri};tag={sub.remote_tag}")
        h.add("call-id", sub.call_id)
        h.add("cseq", f"{sub.local_cseq} NOTIFY")
        h.add("contact", self.local.contact(sub.dest))
        h.add("event", sub.package + (f";id={sub.event_id}" if sub.event_id else ""))
        if sub.state is SubState.ACTIVE:
            h.add("subscription-state", f"active;expires={sub.expires_in(now)}")
        else:
            h.add("subscription-state", f"terminated;reason={sub.reason or 'noresource'}")
        h.add("user-agent", self.local.user_agent)
        h.add("content-type", package.content_type)
        return Request("NOTIFY", sub.remote_target, h, body)

    def notify_answered(self, sub: Subscription, status: int, now: float) -> list[Request]:
        """The final answer to our NOTIFY (408 for a timeout): what to send next."""
        sub.in_flight = False
        if sub.state is SubState.TERMINATED:
            return []
        if status >= 300:
            # 481: the subscriber forgot the dialog; anything else: it cannot take our
            # NOTIFYs. Either way nobody is listening any more (RFC 6665 4.2.2).
            self._forget(sub, "rejected" if status != 481 else "noresource")
            return []
        if sub.dirty:
            return [self._notify(sub, now)]
        return []

    def terminate(self, sub: Subscription, reason: str, now: float) -> Request:
        """End `sub` (`reason` as RFC 6665 names them); the final NOTIFY to send."""
        self._forget(sub, reason)
        return self._notify(sub, now)

    def _forget(self, sub: Subscription, reason: str) -> None:
        sub.state = SubState.TERMINATED
        sub.reason = reason
        if self._subs.pop(sub.key, None) is not None:
            left = self._count.get(sub.subscriber, 1) - 1
            if left > 0:
                self._count[sub.subscriber] = left
            else:
                self._count.pop(sub.subscriber, None)
        watchers = self._by_resource.get((sub.package, sub.resource))
        if watchers is not None:
            watchers.pop(sub.key, None)
            if not watchers:
                del self._by_resource[(sub.package, sub.resource)]

    def terminate_all(self, reason: str, now: float) -> list[Outgoing]:
        """The notifier goes away (`deactivated`: subscribers may re-subscribe at once)."""
        return [(sub, self.terminate(sub, reason, now)) for sub in list(self._subs.values())]

    # --- timers ---------------------------------------------------------------------
    def _arm(self, sub: Subscription) -> None:
        heapq.heappush(self._heap, (sub.expires_at, next(self._seq), sub.key))

    def next_timer(self) -> float | None:
        while self._heap:
            when, _, key = self._heap[0]
            sub = self._subs.get(key)
            if sub is not None and sub.expires_at == when:
                return when
            heapq.heappop(self._heap)
        return None

    def handle_timer(self, now: float) -> list[Outgoing]:
        """Subscriptions not refreshed in time end with `terminated;reason=timeout`."""
        out: list[Outgoing] = []
        while self._heap and self._heap[0][0] <= now:
            when, _, key = heapq.heappop(self._heap)
            sub = self._subs.get(key)
            if sub is None or sub.expires_at != when:
                continue
            out.append((sub, self.terminate(sub, "timeout", now)))
        return out


def _param(params: str, name: str) -> str | None:
    for p in params.split(";"):
        k, _, v = p.partition("=")
        if k.strip().lower() == name:
            return v.strip() or None
    return None


def _expires(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    raw = raw.strip()
    if not is_digits(raw):
        raise ValueError(f"Expires {raw[:20]!r} is not a number of seconds")
    return min(int(raw[:10]), 2**31 - 1)


def _strip_tag(value: str) -> str:
    try:
        na = parse_name_addr(value)
    except ValueError:
        return value
    na.params.pop("tag", None)
    return str(na)


def unsolicited_notify(package: EventPackage, body: bytes, aor_uri: str, target: str,
                       dest: Address, local: Local) -> Request:
    """An out-of-dialog NOTIFY (unsolicited MWI as desk phones accept it: Cisco, Yealink,
    Polycom, Grandstream): From and To are the mailbox's AOR, one request per contact."""
    h = Headers()
    h.add("via", local.via(dest, new_branch()))
    h.add("max-forwards", "70")
    h.add("from", f"<{aor_uri}>;tag={secrets.token_hex(6)}")
    h.add("to", f"<{aor_uri}>")
    h.add("call-id", secrets.token_hex(12))
    h.add("cseq", f"{secrets.randbelow(10000) + 1} NOTIFY")
    h.add("contact", local.contact(dest))
    h.add("event", package.name)
    h.add("subscription-state", "active")
    h.add("user-agent", local.user_agent)
    h.add("content-type", package.content_type)
    return Request("NOTIFY", target, h, body)
