"""The box's SIP endpoint: registrar, authenticator and the B2BUA's SIP side.

Owns the transport, the transaction layer and the dialogs. Incoming calls become
`SipChannel`s handed to the switch through `on_incoming`; the switch places outbound
legs to registered extensions with `originate`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers.sip.addr import Address
from drivers.sip.auth import DigestAuthenticator, Lockout
from drivers.sip.channel import ALLOW, SipChannel
from drivers.sip.event_server import NotifyTxn
from drivers.sip.message import (
    REASONS,
    Headers,
    Message,
    Request,
    Response,
    make_response,
    split_list,
)
from drivers.sip.overload import LoadGuard, watch_loop_lag
from drivers.sip.parser import SipParseError, parse_message
from drivers.sip.registrar import Binding, LocationService, Registrar
from drivers.sip.sdp import AudioOffer, SdpError, parse_sdp
from drivers.sip.transaction import (
    AckTimeout,
    CancelReceived,
    ClientTransaction,
    RequestReceived,
    ResponseReceived,
    ServerTransaction,
    TransactionLayer,
    TransactionTimeout,
    TuEvent,
)
from drivers.sip.transport import SipTransport
from drivers.sip.uri import parse_name_addr, parse_uri, parse_via, tag_of
from firmware.media.codecs import Codec
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelListener, Direction, Party
from firmware.switch.events import AuthFailed, Event, Registered, Unregistered

if TYPE_CHECKING:
    from drivers.sip.event_server import SipEventServer
    from firmware.media.engine import MediaEngine

log = logging.getLogger(__name__)

# Option tags we honour in Require (none yet: no 100rel, Replaces or session timers)
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset()


@dataclass
class SipConfig:
    bind_host: str = "0.0.0.0"
    port: int = 5060
    advertise_host: str | None = None
    realm: str = "ccbox"
    user_agent: str = "ccbox/0.1"


class Directory:
    """What the SIP side needs to know about extensions (kept in memory by the switch)."""

    def password(self, number: str) -> str | None:
        raise NotImplementedError

    def exists(self, number: str) -> bool:
        return self.password(number) is not None

    def digest_algorithms(self, number: str) -> tuple[str, ...] | None:
        """Digest algorithms to offer this extension, in order (None: the default)."""
        return None


class SipEndpoint:
    def __init__(
        self,
        cfg: SipConfig,
        media: MediaEngine,
        directory: Directory,
        publish: Callable[[Event], None],
        on_binding_change: Callable[[Binding, bool], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.media = media
        self.directory = directory
        self.publish = publish
        self.user_agent = cfg.user_agent
        self.transport = SipTransport(self._on_data)
        self.txl = TransactionLayer(self.transport.send)
        self.location = LocationService(on_binding_change)
        self.registrar = Registrar(self.location)
        self.auth = DigestAuthenticator(cfg.realm, directory.password,
                                        algorithms_for=directory.digest_algorithms)
        self.lockout = Lockout()
        self.dialogs: dict[tuple[str, str], SipChannel] = {}
        self.on_incoming: Callable[[SipChannel], None] | None = None
        # SUBSCRIBE/NOTIFY (event_server.py); None: SUBSCRIBE gets 405
        self.events: SipEventServer | None = None
        # told of every new SIP leg and each of its state changes (device state, BLF)
        self.channel_watchers: list[Callable[[Channel], None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self._local_for: dict[str, str] = {}
        self._housekeeping: asyncio.Task[None] | None = None
        self.counters = {"parse_errors": 0, "auth_failures": 0, "invites": 0, "registers": 0}
        self.load = LoadGuard()
        self._lag_watch: asyncio.Task[None] | None = None

    # Lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        await self.transport.start(self.cfg.bind_host, self.cfg.port)
        self._housekeeping = asyncio.get_running_loop().create_task(self._housekeep())
        self._lag_watch = asyncio.get_running_loop().create_task(watch_loop_lag(self.load))

    async def stop(self) -> None:
        if self._housekeeping:
            self._housekeeping.cancel()
        if self._lag_watch:
            self._lag_watch.cancel()
        if self._timer:
            self._timer.cancel()
        await self.transport.stop()

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(5)
            now = time.time()
            for b in self.location.expire(now):
                self.publish(Unregistered(now, b.aor, b.contact, "expired"))
            self.lockout.prune(now)

    # Addresses ----------------------------------------------------------------------------
    def local_host_for(self, dest_host: str) -> str:
        """Our address as seen from `dest_host` (what goes into Via, Contact and SDP)."""
        if self.cfg.advertise_host:
            return self.cfg.advertise_host
        if self.cfg.bind_host not in ("", "0.0.0.0"):
            # Bound to one address: that is the only one our sockets answer on, whatever
            # the kernel's route to the peer would pick as source.
            return self.cfg.bind_host
        host = self._local_for.get(dest_host)
        if host is None:
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.connect((dest_host, 9))
                    host = str(s.getsockname()[0])
            except OSError:
                host = "127.0.0.1"
            self._local_for[dest_host] = host
        return host

    def via(self, dest: Address, branch: str) -> str:
        host = self.local_host_for(dest.host)
        return f"SIP/2.0/{dest.transport.upper()} {host}:{self.cfg.port};branch={branch};rport"

    def contact(self, dest: Address) -> str:
        host = self.local_host_for(dest.host)
        tp = "" if dest.transport == "udp" else f";transport={dest.transport}"
        return f"<sip:ccbox@{host}:{self.cfg.port}{tp}>"

    # Sending ------------------------------------------------------------------------------
    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def respond(self, txn: ServerTransaction, resp: Response) -> None:
        self.txl.respond(txn, resp, self._now())
        self._rearm()

    def send_request(
        self, req: Request, dest: Address, owner: SipChannel | None
    ) -> ClientTransaction:
        txn = self.txl.send_request(req, dest, self._now())
        txn.data = owner
        self._rearm()
        return txn

    def send_in_dialog(self, ch: SipChannel, req: Request) -> None:
        self.send_request(req, ch.dest, ch)

    def send_stateless(self, msg: Message, dest: Address) -> None:
        self.transport.send(msg, dest)

    def find_dialog(self, call_id: str, to_tag: str, from_tag: str) -> SipChannel | None:
        """The live dialog a Replaces header names (RFC 3891 3): `to_tag` is ours."""
        ch = self.dialogs.get((call_id, to_tag))
        if ch is not None and not ch.ended and ch.remote_tag == from_tag:
            return ch
        # some phones swap the tags when the dialog was one we placed
        ch = self.dialogs.get((call_id, from_tag))
        if ch is not None and not ch.ended and ch.remote_tag == to_tag:
            return ch
        return None

    def forget(self, ch: SipChannel) -> None:
        # keep the dialog a little longer so late BYE/ACK retransmissions still match
        asyncio.get_running_loop().call_later(32, self.dialogs.pop, ch.dialog_key, None)

    # Timers -------------------------------------------------------------------------------
    def _rearm(self) -> None:
        when = self.txl.next_timer()
        if when is None or (self._timer_at is not None and self._timer_at <= when
                            and self._timer is not None):
            return
        if self._timer:
            self._timer.cancel()
        self._timer_at = when
        self._timer = asyncio.get_running_loop().call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        events = self.txl.handle_timers(self._now())
        self._dispatch(events)
        self._rearm()

    # Receiving ----------------------------------------------------------------------------
    def _on_data(self, data: bytes, source: Address) -> None:
        try:
            msg = parse_message(data, stream=source.reliable)
        except SipParseError as e:
            self.counters["parse_errors"] += 1
            log.warning("malformed SIP from %s: %s", source, e.reason)
            if e.partial is not None and e.partial.method != "ACK":
                self._reject_malformed(e, source)
            return
        try:
            if isinstance(msg, Request):
                self._on_request(msg, source)
            else:
                self._dispatch(self.txl.receive_response(msg, self._now()))
        except Exception:
            log.exception("error handling SIP message from %s", source)
        self._rearm()

    def _reject_malformed(self, e: SipParseError, source: Address) -> None:
        req = e.partial
        assert req is not None
        h = req.headers
        if not all(h.get_raw(n) for n in ("via", "from", "to", "call-id", "cseq")):
            return  # nothing we could address an answer to
        try:
            resp = make_response(req, e.status, f"{_reason(e.status)} ({e.reason})")
            self.transport.send(resp, source)
        except Exception:
            log.debug("could not answer malformed request", exc_info=True)

    def _on_request(self, req: Request, source: Address) -> None:
        _stamp_via(req, source)
        if req.method != "ACK" and self.lockout.locked(source.host, time.time()):
            resp = make_response(req, 403, "Forbidden (locked out after repeated failed "
                                 "authentication)")
            self.transport.send(resp, source)
            return
        self._dispatch(self.txl.receive_request(req, source, self._now()))

    def _dispatch(self, events: list[TuEvent]) -> None:
        for ev in events:
            try:
                self._dispatch_one(ev)
            except Exception:
                log.exception("error handling %s", type(ev).__name__)

    def _dispatch_one(self, ev: TuEvent) -> None:
        if isinstance(ev, RequestReceived):
            self._request(ev.request, ev.source, ev.txn)
        elif isinstance(ev, ResponseReceived):
            owner = ev.txn.data
            if isinstance(owner, SipChannel):
                owner.on_response(ev.response, ev.txn)
            elif isinstance(owner, NotifyTxn):
                owner.on_response(ev.response)
        elif isinstance(ev, TransactionTimeout):
            owner = ev.txn.data
            if isinstance(owner, SipChannel):
                owner.on_timeout(ev.txn)
            elif isinstance(owner, NotifyTxn):
                owner.on_timeout()
        elif isinstance(ev, CancelReceived):
            ch = ev.invite.data
            if isinstance(ch, SipChannel):
                ch.on_cancel()
        elif isinstance(ev, AckTimeout):
            ch = ev.txn.data
            if isinstance(ch, SipChannel):
                ch.on_ack_timeout()

    def _request(self, req: Request, source: Address, txn: ServerTransaction | None) -> None:
        to_tag = tag_of(req.headers.get("to"))
        if txn is None:  # ACK for a 2xx
            ch = self.dialogs.get((req.call_id, to_tag or ""))
            if ch is not None:
                ch.on_ack(req)
            return
        if to_tag and req.method == "SUBSCRIBE" and self.events is not None:
            if not self._refused_by_inspection(req, txn):
                self.events.subscribe(req, source, txn, "")  # a refresh or unsubscribe
            return
        if to_tag:
            ch = self.dialogs.get((req.call_id, to_tag))
            if ch is None or ch.ended:
                self.respond(txn, make_response(req, 481, None))
                return
            if not self._refused_by_inspection(req, txn):
                ch.on_request(req, txn)
            return
        if self._refused_by_inspection(req, txn):
            return
        handler = {
            "REGISTER": self._register,
            "INVITE": self._invite,
            "OPTIONS": self._options,
            "SUBSCRIBE": self._subscribe,
        }.get(req.method)
        if handler is not None:
            handler(req, source, txn)
        elif req.method in ("BYE", "INFO", "UPDATE", "PRACK"):
            self.respond(txn, make_response(req, 481, None, txn.to_tag))
        elif req.method in ("NOTIFY", "MESSAGE", "PUBLISH", "REFER"):
            # out of dialog: no out-of-dialog REFER yet
            resp = make_response(req, 405, None, txn.to_tag)
            resp.headers.add("allow", ALLOW)
            self.respond(txn, resp)
        else:
            resp = make_response(req, 501, None, txn.to_tag)
            resp.headers.add("allow", ALLOW)
            self.respond(txn, resp)

    def _refused_by_inspection(self, req: Request, txn: ServerTransaction) -> bool:
        """RFC 3261 8.2.2.3: refuse what the request requires and we do not support."""
        if req.method in ("ACK", "CANCEL"):
            return False
        unsupported = [o for o in req.headers.get_all("require")
                       if o.lower() not in SUPPORTED_EXTENSIONS]
        if not unsupported:
            return False
        resp = make_response(req, 420, None, txn.to_tag)
        resp.headers.add("unsupported", ", ".join(unsupported))
        self.respond(txn, resp)
        return True

    # Authentication -------------------------------------------------------------------------
    def _authenticate(
        self, req: Request, source: Address, txn: ServerTransaction, proxy: bool
    ) -> str | None:
        header = "proxy-authorization" if proxy else "authorization"
        now = time.time()
        if not req.headers.get_raw(header):
            self._challenge(req, txn, proxy, stale=False)
            return None
        result = self.auth.verify(req, header)
        if result.ok:
            self.lockout.succeed(source.host)
            return result.user
        if result.stale and result.reason in ("unknown nonce", "nonce expired"):
            self._challenge(req, txn, proxy, stale=True)
            return None
        self.counters["auth_failures"] += 1
        locked = self.lockout.fail(source.host, now)
        # the reason goes to the log, never the secret or the digest
        log.warning("authentication failed for %r from %s: %s%s", result.user, source,
                    result.reason, " — source locked out" if locked else "")
        self.publish(AuthFailed(now, str(source), result.user, locked))
        if locked:
            self.respond(txn, make_response(
                req, 403, "Forbidden (locked out after repeated failed authentication)",
                txn.to_tag))
        else:
            self._challenge(req, txn, proxy, stale=False)
        return None

    def _challenge(self, req: Request, txn: ServerTransaction, proxy: bool, stale: bool) -> None:
        resp = make_response(req, 407 if proxy else 401, None, txn.to_tag)
        for c in self.auth.challenges(stale, _user_of(req, "from" if proxy else "to")):
            resp.headers.add("proxy-authenticate" if proxy else "www-authenticate", c)
        self.respond(txn, resp)

    # REGISTER / OPTIONS -----------------------------------------------------------------------
    def _register(self, req: Request, source: Address, txn: ServerTransaction) -> None:
        self.counters["registers"] += 1
        user = self._authenticate(req, source, txn, proxy=False)
        if user is None:
            return
        now = time.time()
        resp, added, removed = self.registrar.handle(req, source, user, now, txn.to_tag)
        self.respond(txn, resp)
        for b in added:
            self.publish(Registered(now, b.aor, b.contact, str(b.source),
                                    b.expires_in(now)))
        for b in removed:
            self.publish(Unregistered(now, b.aor, b.contact, "unregistered"))

    def _options(self, req: Request, source: Address, txn: ServerTransaction) -> None:
        resp = make_response(req, 200, None, txn.to_tag)
        resp.headers.add("allow", ALLOW)
        resp.headers.add("accept", "application/sdp")
        resp.headers.add("server", self.user_agent)
        self.respond(txn, resp)

    # SUBSCRIBE ------------------------------------------------------------------------------
    def _subscribe(self, req: Request, source: Address, txn: ServerTransaction) -> None:
        if self.events is None:
            resp = make_response(req, 405, None, txn.to_tag)
            resp.headers.add("allow", ALLOW)
            self.respond(txn, resp)
            return
        # authenticated like an INVITE: 407, and the From user must be who signed in
        user = self._authenticate(req, source, txn, proxy=True)
        if user is None:
            return
        from_user = _user_of(req, "from")
        if from_user != user:
            self.respond(txn, make_response(
                req, 403, f"Forbidden (authenticated as {user}, From is {from_user})",
                txn.to_tag))
            return
        self.events.subscribe(req, source, txn, user)

    def _watch(self, ch: SipChannel) -> None:
        for watch in self.channel_watchers:
            ch.watchers.append(watch)
            watch(ch)

    # INVITE ---------------------------------------------------------------------------------
    def _invite(self, req: Request, source: Address, txn: ServerTransaction) -> None:
        self.counters["invites"] += 1
        if self.load.refuse():
            resp = make_response(req, 503, "Service Unavailable (overloaded)", txn.to_tag)
            resp.headers.add("retry-after", "5")
            self.respond(txn, resp)
            return
        ctype = (req.headers.get("content-type") or "application/sdp").split(";")[0]
        if req.body and ctype.strip().lower() != "application/sdp":
            resp = make_response(req, 415, None, txn.to_tag)
            resp.headers.add("accept", "application/sdp")
            self.respond(txn, resp)
            return
        mf = req.headers.get("max-forwards")
        if mf is not None and mf.strip() == "0":
            self.respond(txn, make_response(req, 483, None, txn.to_tag))
            return
        try:
            frm = parse_name_addr(req.headers.get("from") or "")
            from_user = frm.sip_uri.user_unescaped if not isinstance(frm.uri, str) else ""
            ruri = parse_uri(req.uri) if req.uri.lower().startswith("sip") else None
        except ValueError as e:
            self.respond(txn, make_response(req, 400, f"Bad Request ({e})", txn.to_tag))
            return
        user = self._authenticate(req, source, txn, proxy=True)
        if user is None:
            return
        if from_user != user:
            self.respond(txn, make_response(
                req, 403, f"Forbidden (authenticated as {user}, From is {from_user})",
                txn.to_tag))
            return
        self.respond(txn, make_response(req, 100, None))
        if not req.body:
            self.respond(txn, make_response(req, 488, "Not Acceptable Here (no SDP offer)",
                                            txn.to_tag))
            return
        try:
            offer = parse_sdp(req.body)
        except SdpError as e:
            self.respond(txn, make_response(req, 488, f"Not Acceptable Here ({e})",
                                            txn.to_tag))
            return
        if not offer.codecs():
            self.respond(txn, make_response(req, 488, "Not Acceptable Here (no G.711)",
                                            txn.to_tag))
            return
        called = ruri.user_unescaped if ruri is not None else req.uri.split(":", 1)[-1]
        ch = SipChannel(self, Direction.INBOUND, Party(from_user, frm.display), called,
                        call_id=req.call_id, dest=source,
                        local_host=self.local_host_for(source.host))
        ch.peer_name = user
        ch.local_tag = txn.to_tag
        ch.dialog_key = (req.call_id, ch.local_tag)
        ch.invite_txn = txn
        ch.remote_tag = frm.tag
        ch.local_uri = _strip_tag(req.headers.get("to") or "")
        ch.remote_uri = _strip_tag(req.headers.get("from") or "")
        contact = req.headers.get("contact")
        ch.remote_target = str(parse_name_addr(contact).uri) if contact else str(frm.uri)
        ch.route_set = req.headers.get_all("record-route")
        txn.data = ch
        self.dialogs[ch.dialog_key] = ch
        self._watch(ch)
        asyncio.get_running_loop().create_task(self._setup_inbound(ch, offer))

    async def _setup_inbound(self, ch: SipChannel, offer: AudioOffer) -> None:
        try:
            leg = await self.media.allocate()
        except Exception as e:
            log.error("no media port for %s: %s", ch, e)
            ch.hangup(_congestion())
            return
        ch.attach_media(leg)
        ch.apply_remote_sdp(offer, choose=True)
        if ch.ended:
            leg.close()
            return
        if self.on_incoming is None:
            ch.hangup(_congestion())
            return
        self.on_incoming(ch)

    # Outbound -------------------------------------------------------------------------------
    def originate(self, aor: str, caller: Party, listener: ChannelListener,
                  codecs: list[Codec]) -> list[SipChannel]:
        """Call every registered contact of extension `aor` (parallel forking)."""
        out = []
        for b in self.location.lookup(aor, time.time()):
            dest = Address(b.source.transport, b.source.host, b.source.port)
            local = self.local_host_for(dest.host)
            ch = SipChannel(self, Direction.OUTBOUND, caller, aor,
                            call_id=secrets.token_hex(12) + f"@{local}", dest=dest,
                            local_host=local)
            ch.peer_name = aor
            ch.listener = listener
            name = caller.name.replace('"', "")
            disp = f'"{name}" ' if name else ""
            ch.local_uri = f"{disp}<sip:{caller.number}@{local}>"
            ch.remote_uri = f"<sip:{aor}@{local}>"
            ch.remote_target = b.contact
            ch.dialog_key = (ch.call_id, ch.local_tag)
            self.dialogs[ch.dialog_key] = ch
            self._watch(ch)
            asyncio.get_running_loop().create_task(self._setup_outbound(ch, codecs))
            out.append(ch)
        return out

    async def _setup_outbound(self, ch: SipChannel, codecs: list[Codec]) -> None:
        try:
            leg = await self.media.allocate()
        except Exception as e:
            log.error("no media port for %s: %s", ch, e)
            ch._ended_by_remote(_congestion())
            return
        ch.attach_media(leg)
        ch.send_invite(codecs)

    # Status ---------------------------------------------------------------------------------
    def status(self) -> dict[str, object]:
        now = time.time()
        return {
            "registrations": [
                {"aor": b.aor, "contact": b.contact, "source": str(b.source),
                 "expires_in": b.expires_in(now), "user_agent": b.user_agent}
                for b in self.location.all(now)
            ],
            "dialogs": len(self.dialogs),
            "transactions": self.txl.stats(),
            "locked_sources": self.lockout.locked_sources(now),
            "counters": dict(self.counters),
            "tcp_connections": self.transport.tcp_connections(),
            "overload": {"shedding": self.load.shedding,
                         "loop_lag_ms": round(self.load.lag * 1000, 1),
                         "refused_calls": self.load.shed_count,
                         "episodes": self.load.episodes},
            "udp_rcvbuf": self.transport.udp_rcvbuf,
            **(self.events.status() if self.events is not None else {}),
        }


def _user_of(req: Request, header: str) -> str | None:
    try:
        uri = parse_name_addr(req.headers.get(header) or "").uri
    except ValueError:
        return None
    return None if isinstance(uri, str) else uri.user_unescaped


def _congestion() -> Cause:
    return Cause.SWITCH_CONGESTION


def _reason(status: int) -> str:
    return REASONS.get(status, "Bad Request")


def _strip_tag(value: str) -> str:
    try:
        na = parse_name_addr(value)
    except ValueError:
        return value
    na.params.pop("tag", None)
    return str(na)


def _stamp_via(req: Request, source: Address) -> None:
    """RFC 3261 18.2.1 and RFC 3581: note where the request really came from."""
    vias = req.headers.get_raw("via")
    if not vias:
        return
    first = vias[0]
    try:
        top = split_list(first)[0]
        via = parse_via(top)
    except (ValueError, IndexError):
        return
    changed = False
    if via.host != source.host:
        via.params["received"] = source.host
        changed = True
    if "rport" in via.params and not via.params["rport"]:
        via.params["rport"] = str(source.port)
        via.params["received"] = source.host
        changed = True
    if not changed:
        return
    new_first = first.replace(top, str(via), 1)
    h = Headers()
    done = False
    for n, v in req.headers:
        if not done and v == first and n.lower() in ("via", "v"):
            h.add("via", new_first)
            done = True
        else:
            h._items.append((n, v))
    req.headers = h
