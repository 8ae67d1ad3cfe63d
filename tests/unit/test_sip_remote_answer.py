"""The requests that answer a desk phone from the box, without sockets: the NOTIFY
Event: talk a ringing phone answers on, and the Call-Info that makes it pick up."""

from __future__ import annotations

from drivers.sip.message import Request
from drivers.sip.parser import parse_message
from drivers.sip.remote_answer import auto_answer_header, talk_notify
from drivers.sip.uri import tag_of
from tests.unit.test_sip_subscribe import LOCAL, PHONE


def _on_the_wire(req: Request) -> Request:
    msg = parse_message(req.serialize())
    assert isinstance(msg, Request)
    return msg


def test_talk_notify_names_the_ringing_calls_parties_out_of_dialog() -> None:
    req = _on_the_wire(talk_notify("sip:8001@10.0.0.5:5062;transport=udp",
                                   '"Caller" <sip:13800138000@10.0.0.1>',
                                   "<sip:8001@10.0.0.1>", PHONE, LOCAL))
    assert req.method == "NOTIFY"
    assert req.uri == "sip:8001@10.0.0.5:5062;transport=udp"  # the phone's contact
    h = req.headers
    assert h.get("event") == "talk"
    assert h.get("subscription-state") == "active"
    assert req.body == b"" and h.get("content-length") == "0"
    assert h.get("content-type") is None
    assert h.get("to") == "<sip:8001@10.0.0.1>" and tag_of(h.get("to")) is None
    assert (h.get("from") or "").startswith('"Caller" <sip:13800138000@10.0.0.1>;tag=')
    assert tag_of(h.get("from"))
    assert (h.get("cseq") or "").endswith(" NOTIFY")
    assert (h.get("via") or "").startswith("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK")
    assert h.get("contact") == "<sip:ccbox@10.0.0.1:5060>"
    assert h.get("max-forwards") == "70" and h.get("call-id")


def test_each_talk_notify_is_a_transaction_and_dialog_of_its_own() -> None:
    a, b = (talk_notify("sip:8001@10.0.0.5:5062", "<sip:8002@10.0.0.1>",
                        "<sip:8001@10.0.0.1>", PHONE, LOCAL) for _ in range(2))
    for name in ("call-id", "via", "from"):
        assert a.headers.get(name) != b.headers.get(name), name


def test_auto_answer_header_names_the_box() -> None:
    assert auto_answer_header("10.0.0.1") == ("call-info", "<sip:10.0.0.1>;answer-after=0")
