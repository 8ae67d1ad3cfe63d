"""RFC 3261 section 17 transactions, sans I/O (with RFC 6026's Accepted states).

The `TransactionLayer` takes parsed messages plus the time and returns events for the
transaction user; it sends through a callback and asks to be woken at `next_timer()`.
It never touches a socket or a clock, so every timer path is testable with a fake clock.
"""

from __future__ import annotations

import heapq
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from drivers.sip.addr import Address
from drivers.sip.message import Headers, Message, Request, Response, make_response, sibling_request
from drivers.sip.uri import parse_via

T1 = 0.5
T2 = 4.0
T4 = 5.0
MAGIC = "z9hG4bK"

SendFn = Callable[[Message, Address], None]


def new_branch() -> str:
    return MAGIC + secrets.token_hex(8)


class State(Enum):
    TRYING = "trying"
    CALLING = "calling"
    PROCEEDING = "proceeding"
    COMPLETED = "completed"
    CONFIRMED = "confirmed"
    ACCEPTED = "accepted"
    TERMINATED = "terminated"


# Events for the transaction user ------------------------------------------------------
@dataclass
class RequestReceived:
    request: Request
    source: Address
    txn: ServerTransaction | None  # None for ACK of a 2xx


@dataclass
class ResponseReceived:
    response: Response
    txn: ClientTransaction


@dataclass
class CancelReceived:
    """A CANCEL matched a pending INVITE; the layer has already answered the CANCEL."""

    invite: ServerTransaction
    cancel: Request


@dataclass
class TransactionTimeout:
    txn: ClientTransaction


@dataclass
class AckTimeout:
    """A 2xx we sent was never acknowledged (RFC 3261 13.3.1.4): the TU should BYE."""

    txn: ServerTransaction


TuEvent = RequestReceived | ResponseReceived | CancelReceived | TransactionTimeout | AckTimeout


def _server_key(req: Request) -> tuple[str, ...]:
    top = req.headers.get_all("via")[0]
    via = parse_via(top)
    method = "INVITE" if req.method == "ACK" else req.method
    if via.branch.startswith(MAGIC):
        return (via.branch, f"{via.host}:{via.port}", method)
    # RFC 2543 peers: no usable branch; match on the request's identity instead
    num, _ = req.cseq
    from_tag = req.headers.get("from") or ""
    return (req.call_id, str(num), from_tag, top, method)


@dataclass(eq=False)
class ServerTransaction:
    request: Request
    source: Address
    key: tuple[str, ...]
    state: State
    last_response: Response | None = None
    timers: dict[str, float] = field(default_factory=dict)
    interval: float = T1
    to_tag: str = field(default_factory=lambda: secrets.token_hex(6))
    data: object = None  # for the TU

    @property
    def is_invite(self) -> bool:
        return self.request.method == "INVITE"


@dataclass(eq=False)
class ClientTransaction:
    request: Request
    dest: Address
    branch: str
    state: State
    timers: dict[str, float] = field(default_factory=dict)
    interval: float = T1
    data: object = None  # for the TU
    last_response: Response | None = None

    @property
    def is_invite(self) -> bool:
        return self.request.method == "INVITE"


class TransactionLayer:
    def __init__(self, send: SendFn) -> None:
        self._send = send
        self._servers: dict[tuple[str, ...], ServerTransaction] = {}
        self._clients: dict[tuple[str, str], ClientTransaction] = {}
        self._accepted: dict[tuple[str, int], ServerTransaction] = {}
        self._heap: list[tuple[float, int, object, str]] = []
        self._seq = itertools.count()

    # Timers ---------------------------------------------------------------------------
    def _arm(self, txn: ServerTransaction | ClientTransaction, name: str, when: float) -> None:
        txn.timers[name] = when
        heapq.heappush(self._heap, (when, next(self._seq), txn, name))

    def next_timer(self) -> float | None:
        while self._heap:
            when, _, txn, name = self._heap[0]
            assert isinstance(txn, ServerTransaction | ClientTransaction)
            if txn.timers.get(name) == when and txn.state is not State.TERMINATED:
                return when
            heapq.heappop(self._heap)
        return None

    def handle_timers(self, now: float) -> list[TuEvent]:
        events: list[TuEvent] = []
        while self._heap and self._heap[0][0] <= now:
            when, _, txn, name = heapq.heappop(self._heap)
            if not isinstance(txn, ServerTransaction | ClientTransaction):
                continue
            if txn.timers.get(name) != when:
                continue
            del txn.timers[name]
            if isinstance(txn, ServerTransaction):
                events.extend(self._server_timer(txn, name, now))
            elif isinstance(txn, ClientTransaction):
                events.extend(self._client_timer(txn, name, now))
        return events

    # Server side ------------------------------------------------------------------------
    def receive_request(self, req: Request, source: Address, now: float) -> list[TuEvent]:
        if req.method == "ACK":
            return self._receive_ack(req, source, now)
        key = _server_key(req)
        txn = self._servers.get(key)
        if txn is not None:
            # A retransmission: answer again with what we last said, TU never sees it.
            if txn.last_response is not None and txn.state in (
                State.PROCEEDING,
                State.COMPLETED,
                State.TRYING,
            ):
                self._send(txn.last_response, txn.source)
            return []
        if req.method == "CANCEL":
            return self._receive_cancel(req, source)
        state = State.PROCEEDING if req.method == "INVITE" else State.TRYING
        txn = ServerTransaction(req, source, key, state)
        self._servers[key] = txn
        return [RequestReceived(req, source, txn)]

    def _receive_cancel(self, req: Request, source: Address) -> list[TuEvent]:
        invite_key = _server_key(Request("INVITE", req.uri, req.headers))
        invite = self._servers.get((*invite_key[:-1], "INVITE"))
        cancel_txn = ServerTransaction(req, source, _server_key(req), State.TRYING)
        self._servers[cancel_txn.key] = cancel_txn
        if invite is None or invite.state is not State.PROCEEDING:
            self.respond(cancel_txn, make_response(req, 481), 0.0)
            return []
        self.respond(cancel_txn, make_response(req, 200, to_tag=invite.to_tag), 0.0)
        return [CancelReceived(invite, req)]

    def _receive_ack(self, req: Request, source: Address, now: float) -> list[TuEvent]:
        key = _server_key(req)
        txn = self._servers.get(key)
        if txn is not None and txn.state is State.COMPLETED:
            # ACK of our non-2xx final answer: absorbed here (Timer I)
            txn.state = State.CONFIRMED
            txn.timers.pop("G", None)
            txn.timers.pop("H", None)
            self._arm(txn, "I", now + (0 if source.reliable else T4))
            return []
        if txn is not None and txn.state is State.CONFIRMED:
            return []
        num, _ = req.cseq
        accepted = self._accepted.pop((req.call_id, num), None)
        if accepted is not None:
            accepted.timers.pop("G2xx", None)
            accepted.timers.pop("H2xx", None)
        return [RequestReceived(req, source, None)]

    def respond(self, txn: ServerTransaction, resp: Response, now: float) -> None:
        if txn.state in (State.TERMINATED, State.COMPLETED, State.CONFIRMED, State.ACCEPTED):
            return
        txn.last_response = resp
        self._send(resp, txn.source)
        reliable = txn.source.reliable
        if resp.status < 200:
            if txn.state is State.TRYING:
                txn.state = State.PROCEEDING
            return
        if txn.is_invite:
            if resp.status < 300:
                # RFC 6026 Accepted: retransmit the 2xx until the ACK comes (13.3.1.4)
                txn.state = State.ACCEPTED
                num, _ = txn.request.cseq
                self._accepted[(txn.request.call_id, num)] = txn
                if not reliable:
                    txn.interval = T1
                    self._arm(txn, "G2xx", now + T1)
                self._arm(txn, "H2xx", now + 64 * T1)
                self._arm(txn, "L", now + 64 * T1)
            else:
                txn.state = State.COMPLETED
                if not reliable:
                    txn.interval = T1
                    self._arm(txn, "G", now + T1)
                self._arm(txn, "H", now + 64 * T1)
        else:
            txn.state = State.COMPLETED
            self._arm(txn, "J", now + (0 if reliable else 64 * T1))

    def _server_timer(self, txn: ServerTransaction, name: str, now: float) -> list[TuEvent]:
        if name in ("G", "G2xx") and txn.last_response is not None:
            self._send(txn.last_response, txn.source)
            txn.interval = min(2 * txn.interval, T2)
            self._arm(txn, name, now + txn.interval)
        elif name == "H":
            self._terminate_server(txn)
        elif name == "H2xx":
            num, _ = txn.request.cseq
            if self._accepted.pop((txn.request.call_id, num), None) is not None:
                txn.timers.pop("G2xx", None)
                return [AckTimeout(txn)]
        elif name in ("I", "J", "L"):
            self._terminate_server(txn)
        return []

    def _terminate_server(self, txn: ServerTransaction) -> None:
        txn.state = State.TERMINATED
        txn.timers.clear()
        self._servers.pop(txn.key, None)

    # Client side ------------------------------------------------------------------------
    def send_request(
        self, req: Request, dest: Address, now: float, branch: str | None = None
    ) -> ClientTransaction:
        """Send `req` (its top Via must already carry `branch`, or one is set here)."""
        branch = branch or _top_branch(req.headers) or new_branch()
        state = State.CALLING if req.method == "INVITE" else State.TRYING
        txn = ClientTransaction(req, dest, branch, state)
        self._clients[(branch, req.method)] = txn
        self._send(req, dest)
        if not dest.reliable:
            self._arm(txn, "A" if txn.is_invite else "E", now + T1)
        self._arm(txn, "B" if txn.is_invite else "F", now + 64 * T1)
        return txn

    def receive_response(self, resp: Response, now: float) -> list[TuEvent]:
        vias = resp.headers.get_all("via")
        if not vias:
            return []
        try:
            branch = parse_via(vias[0]).branch
            _, method = resp.cseq
        except ValueError:
            return []
        txn = self._clients.get((branch, method))
        if txn is None:
            return []
        reliable = txn.dest.reliable
        if txn.state in (State.CALLING, State.TRYING, State.PROCEEDING):
            if resp.status < 200:
                txn.state = State.PROCEEDING
                if txn.is_invite:
                    txn.timers.pop("A", None)
                txn.last_response = resp
                return [ResponseReceived(resp, txn)]
            txn.last_response = resp
            txn.timers.clear()
            if txn.is_invite and resp.status < 300:
                txn.state = State.ACCEPTED
                self._arm(txn, "M", now + 64 * T1)
            elif txn.is_invite:
                txn.state = State.COMPLETED
                self._send(self._ack_for(txn, resp), txn.dest)
                self._arm(txn, "D", now + (0 if reliable else 32.0))
            else:
                txn.state = State.COMPLETED
                self._arm(txn, "K", now + (0 if reliable else T4))
            return [ResponseReceived(resp, txn)]
        if txn.state is State.COMPLETED and txn.is_invite and resp.status >= 300:
            self._send(self._ack_for(txn, resp), txn.dest)
        elif txn.state is State.ACCEPTED and 200 <= resp.status < 300:
            # retransmitted 2xx: the TU must ACK it again
            return [ResponseReceived(resp, txn)]
        return []

    def _ack_for(self, txn: ClientTransaction, resp: Response) -> Request:
        """RFC 3261 17.1.1.3: the ACK for a non-2xx final response."""
        return sibling_request(txn.request, "ACK", to=resp.headers.get("to") or "")

    def _client_timer(self, txn: ClientTransaction, name: str, now: float) -> list[TuEvent]:
        if name in ("A", "E"):
            if txn.state in (State.CALLING, State.TRYING, State.PROCEEDING):
                if name == "E" and txn.state is State.PROCEEDING:
                    txn.interval = T2
                else:
                    txn.interval = txn.interval * 2 if name == "A" else min(2 * txn.interval, T2)
                self._send(txn.request, txn.dest)
                self._arm(txn, name, now + txn.interval)
        elif name in ("B", "F"):
            if txn.state in (State.CALLING, State.TRYING, State.PROCEEDING):
                self._terminate_client(txn)
                return [TransactionTimeout(txn)]
        elif name in ("D", "K", "M"):
            self._terminate_client(txn)
        return []

    def _terminate_client(self, txn: ClientTransaction) -> None:
        txn.state = State.TERMINATED
        txn.timers.clear()
        self._clients.pop((txn.branch, txn.request.method), None)

    def stats(self) -> dict[str, int]:
        return {"server": len(self._servers), "client": len(self._clients)}


def _top_branch(h: Headers) -> str | None:
    vias = h.get_all("via")
    if not vias:
        return None
    try:
        return parse_via(vias[0]).branch or None
    except ValueError:
        return None
