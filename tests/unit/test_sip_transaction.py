"""RFC 3261 transaction timers and matching, driven with a fake clock and no sockets."""

from __future__ import annotations

from drivers.sip.addr import Address
from drivers.sip.message import Headers, Message, Request, Response, make_response
from drivers.sip.parser import parse_message
from drivers.sip.transaction import (
    T1,
    T2,
    AckTimeout,
    CancelReceived,
    RequestReceived,
    ResponseReceived,
    State,
    TransactionLayer,
    TransactionTimeout,
)

PHONE = Address("udp", "127.0.0.1", 5070)
PHONE_TCP = Address("tcp", "127.0.0.1", 5070)


def _req(method: str, branch: str = "z9hG4bKabc", cseq: int = 1, to_tag: str = "") -> Request:
    to = "<sip:8002@box>" + (f";tag={to_tag}" if to_tag else "")
    raw = (
        f"{method} sip:8002@box SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:5070;branch={branch}\r\n"
        "From: <sip:8001@box>;tag=f1\r\n"
        f"To: {to}\r\n"
        "Call-ID: c1@x\r\n"
        f"CSeq: {cseq} {method}\r\n"
        "Max-Forwards: 70\r\n\r\n"
    )
    msg = parse_message(raw.encode())
    assert isinstance(msg, Request)
    return msg


class Wire:
    def __init__(self) -> None:
        self.sent: list[tuple[Message, Address]] = []

    def __call__(self, msg: Message, addr: Address) -> None:
        self.sent.append((msg, addr))

    def statuses(self) -> list[int]:
        return [m.status for m, _ in self.sent if isinstance(m, Response)]


def run_until(layer: TransactionLayer, until: float) -> list[object]:
    events: list[object] = []
    while (t := layer.next_timer()) is not None and t <= until:
        events.extend(layer.handle_timers(t))
    return events


def test_invite_server_retransmits_error_until_ack_with_doubling_interval() -> None:
    wire = Wire()
    layer = TransactionLayer(wire)
    [ev] = layer.receive_request(_req("INVITE"), PHONE, 0.0)
    assert isinstance(ev, RequestReceived) and ev.txn is not None
    layer.respond(ev.txn, make_response(ev.request, 486, None, "t"), 0.0)
    times = []
    t = 0.0
    while (nt := layer.next_timer()) is not None and nt < 10:
        layer.handle_timers(nt)
        times.append(nt)
        t = nt
    # Timer G: T1, then 2*T1, 4*T1, capped at T2
    gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
    assert gaps[:4] == [T1, 2 * T1, 4 * T1, min(8 * T1, T2)]
    assert wire.statuses().count(486) == 1 + len(times)
    ack = _req("ACK")
    assert layer.receive_request(ack, PHONE, t) == []  # absorbed by the transaction
    n = len(wire.sent)
    run_until(layer, 100)
    assert len(wire.sent) == n  # no retransmission after the ACK
    assert ev.txn.state is State.TERMINATED


def test_request_retransmission_is_answered_from_the_transaction() -> None:
    wire = Wire()
    layer = TransactionLayer(wire)
    [ev] = layer.receive_request(_req("OPTIONS"), PHONE, 0.0)
    assert isinstance(ev, RequestReceived) and ev.txn is not None
    layer.respond(ev.txn, make_response(ev.request, 200, None, "t"), 0.0)
    assert layer.receive_request(_req("OPTIONS"), PHONE, 1.0) == []
    assert wire.statuses() == [200, 200]
    run_until(layer, 64 * T1 + 1)  # Timer J frees it
    assert layer.stats()["server"] == 0


def test_2xx_is_retransmitted_until_ack_and_times_out_without() -> None:
    wire = Wire()
    layer = TransactionLayer(wire)
    [ev] = layer.receive_request(_req("INVITE"), PHONE, 0.0)
    assert isinstance(ev, RequestReceived) and ev.txn is not None
    layer.respond(ev.txn, make_response(ev.request, 200, None, "t"), 0.0)
    events = run_until(layer, 64 * T1 + 0.1)
    assert wire.statuses().count(200) > 5
    assert any(isinstance(e, AckTimeout) for e in events)


def test_ack_for_2xx_stops_retransmission_and_reaches_the_tu() -> None:
    wire = Wire()
    layer = TransactionLayer(wire)
    [ev] = layer.receive_request(_req("INVITE"), PHONE, 0.0)
    assert isinstance(ev, RequestReceived) and ev.txn is not None
    layer.respond(ev.txn, make_response(ev.request, 200, None, "t"), 0.0)
    [ack] = layer.receive_request(_req("ACK", branch="z9hG4bKother", to_tag="t"), PHONE, 0.7)
    assert isinstance(ack, RequestReceived) and ack.txn is None
    n = len(wire.sent)
    events = run_until(layer, 100)
    assert len(wire.sent) == n
    assert not any(isinstance(e, AckTimeout) for e in events)


def test_no_retransmissions_over_tcp() -> None:
    wire = Wire()
    layer = TransactionLayer(wire)
    [ev] = layer.receive_request(_req("INVITE"), PHONE_TCP, 0.0)
    assert isinstance(ev, RequestReceived) and ev.txn is not None
    layer.respond(ev.txn, make_response(ev.request, 486, None, "t"), 0.0)
    run_until(layer, 40)
    assert wire.statuses() == [486]


def test_cancel_matches_the_pending_invite() -> None:
    wire = Wire()
    layer = TransactionLayer(wire)
    [ev] = layer.receive_request(_req("INVITE"), PHONE, 0.0)
    assert isinstance(ev, RequestReceived) and ev.txn is not None
    layer.respond(ev.txn, make_response(ev.request, 180, None, "t"), 0.0)
    [cancel] = layer.receive_request(_req("CANCEL"), PHONE, 1.0)
    assert isinstance(cancel, CancelReceived) and cancel.invite is ev.txn
    assert wire.statuses() == [180, 200]
    # a CANCEL for nothing gets 481
    assert layer.receive_request(_req("CANCEL", branch="z9hG4bKnone"), PHONE, 1.0) == []
    assert wire.statuses()[-1] == 481


def _client_invite() -> Request:
    h = Headers()
    h.add("via", "SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcli;rport")
    h.add("from", "<sip:8001@box>;tag=a")
    h.add("to", "<sip:8002@box>")
    h.add("call-id", "cc@box")
    h.add("cseq", "1 INVITE")
    return Request("INVITE", "sip:8002@127.0.0.1:5070", h)


def _answer(req: Request, status: int) -> Response:
    return make_response(req, status, None, "remote")


def test_client_invite_timer_a_and_b() -> None:
    wire = Wire()
    layer = TransactionLayer(wire)
    txn = layer.send_request(_client_invite(), PHONE, 0.0)
    events = run_until(layer, 64 * T1)
    sends = [t for t in wire.sent if isinstance(t[0], Request)]
    assert len(sends) == 7  # initial + retransmits at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5
    assert any(isinstance(e, TransactionTimeout) and e.txn is txn for e in events)


def test_client_invite_error_is_acked_by_the_transaction() -> None:
    wire = Wire()
    layer = TransactionLayer(wire)
    req = _client_invite()
    layer.send_request(req, PHONE, 0.0)
    [ev] = layer.receive_response(_answer(req, 486), 0.1)
    assert isinstance(ev, ResponseReceived) and ev.response.status == 486
    acks = [m for m, _ in wire.sent if isinstance(m, Request) and m.method == "ACK"]
    assert len(acks) == 1 and (acks[0].headers.get("to") or "").endswith("tag=remote")
    # retransmitted 486 is ACKed again but not reported twice
    assert layer.receive_response(_answer(req, 486), 0.2) == []
    acks = [m for m, _ in wire.sent if isinstance(m, Request) and m.method == "ACK"]
    assert len(acks) == 2


def test_client_2xx_retransmissions_reach_the_tu_for_re_ack() -> None:
    wire = Wire()
    layer = TransactionLayer(wire)
    req = _client_invite()
    layer.send_request(req, PHONE, 0.0)
    assert len(layer.receive_response(_answer(req, 180), 0.1)) == 1
    assert len(layer.receive_response(_answer(req, 200), 0.2)) == 1
    assert len(layer.receive_response(_answer(req, 200), 0.7)) == 1
    run_until(layer, 100)
    assert layer.stats()["client"] == 0
