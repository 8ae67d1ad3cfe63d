"""The SUBSCRIBE/NOTIFY state machine (RFC 6665) without sockets or clocks."""

from __future__ import annotations

import pytest

from drivers.sip import dialog_info, message_summary, pidf
from drivers.sip.addr import Address
from drivers.sip.message import Request
from drivers.sip.parser import parse_message
from drivers.sip.subscribe import (
    EventPackage,
    Local,
    Notifier,
    Subscription,
    SubState,
    unsolicited_notify,
)
from drivers.sip.uri import tag_of

PHONE = Address("udp", "10.0.0.5", 5062)
LOCAL = Local(lambda dest, branch: f"SIP/2.0/UDP 10.0.0.1:5060;branch={branch};rport",
              lambda dest: "<sip:ccbox@10.0.0.1:5060>", "ccbox-test")


class Lamp:
    """A fake dialog-state source: `state[ext]` is what the next NOTIFY reports."""

    def __init__(self) -> None:
        self.state: dict[str, str] = {}

    def resolve(self, subscriber: str, requested: str) -> str | int:
        if requested == "secret":
            return 403
        return requested if requested.startswith("80") else 404

    def render(self, sub: Subscription) -> bytes:
        st = self.state.get(sub.resource)
        dialogs = [] if st is None else [dialog_info.DialogView("d1", st, "recipient")]
        return dialog_info.render(f"sip:{sub.resource}@box", sub.next_version(), dialogs)


def notifier() -> tuple[Notifier, Lamp]:
    lamp = Lamp()
    pkg = EventPackage("dialog", dialog_info.CONTENT_TYPE, 600, 600, lamp.resolve, lamp.render)
    return Notifier({"dialog": pkg}, LOCAL), lamp


def subscribe(target: str = "8002", *, expires: int | None = 300, event: str = "dialog",
              to_tag: str | None = None, cseq: int = 1, accept: str | None = None,
              call_id: str = "sub-1") -> Request:
    lines = [f"SUBSCRIBE sip:{target}@10.0.0.1 SIP/2.0",
             "Via: SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bK" + f"{cseq:08d}{call_id}",
             "Max-Forwards: 70",
             "From: <sip:8001@10.0.0.1>;tag=phone1",
             f"To: <sip:{target}@10.0.0.1>" + (f";tag={to_tag}" if to_tag else ""),
             f"Call-ID: {call_id}", f"CSeq: {cseq} SUBSCRIBE",
             "Contact: <sip:8001@10.0.0.5:5062>", f"Event: {event}"]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    if accept is not None:
        lines.append(f"Accept: {accept}")
    raw = ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()
    msg = parse_message(raw)
    assert isinstance(msg, Request)
    return msg


def roundtrip(req: Request) -> Request:
    """What the phone receives: the NOTIFY serialised and parsed again."""
    msg = parse_message(req.serialize())
    assert isinstance(msg, Request)
    return msg


def test_new_subscription_gets_200_then_a_notify_with_the_full_state() -> None:
    n, lamp = notifier()
    lamp.state["8002"] = "confirmed"
    res = n.subscribe(subscribe(), PHONE, "8001", "ourtag", now=1000.0)
    assert res.response.status == 200
    assert res.response.headers.get("expires") == "300"
    assert tag_of(res.response.headers.get("to")) == "ourtag"
    (notify,) = res.notifies
    notify = roundtrip(notify)
    assert notify.method == "NOTIFY" and notify.uri == "sip:8001@10.0.0.5:5062"
    assert notify.headers.get("event") == "dialog"
    assert notify.headers.get("subscription-state") == "active;expires=300"
    assert tag_of(notify.headers.get("from")) == "ourtag"
    assert tag_of(notify.headers.get("to")) == "phone1"
    assert notify.call_id == "sub-1"
    body = dialog_info.parse(notify.body)
    assert (body.entity, body.version, body.state) == ("sip:8002@box", 0, "full")
    assert body.dialogs == {"d1": ("confirmed", "recipient")}
    assert [s.resource for s in n.watching("dialog", "8002")] == ["8002"]


def test_changes_notify_every_watcher_one_notify_in_flight_coalesces() -> None:
    n, lamp = notifier()
    res = n.subscribe(subscribe(), PHONE, "8001", "t1", now=0.0)
    sub = res.subscription
    assert sub is not None and sub.in_flight
    lamp.state["8002"] = "early"
    assert n.changed("dialog", "8002", now=1.0) == []  # first NOTIFY not answered yet
    lamp.state["8002"] = "confirmed"
    assert n.changed("dialog", "8002", now=1.1) == []
    (nxt,) = n.notify_answered(sub, 200, now=1.2)  # then the newest state, once
    assert dialog_info.parse(nxt.body).dialogs == {"d1": ("confirmed", "recipient")}
    assert dialog_info.parse(nxt.body).version == 1
    assert n.notify_answered(sub, 200, now=1.3) == []
    del lamp.state["8002"]
    ((who, idle),) = n.changed("dialog", "8002", now=2.0)
    assert who is sub and dialog_info.parse(idle.body).dialogs == {}
    cseqs = [r.cseq[0] for r in (res.notifies[0], nxt, idle)]
    assert cseqs == sorted(cseqs) and len(set(cseqs)) == 3


def test_refresh_extends_and_unsubscribe_terminates() -> None:
    n, _ = notifier()
    res = n.subscribe(subscribe(expires=120), PHONE, "8001", "t1", now=0.0)
    sub = res.subscription
    assert sub is not None
    n.notify_answered(sub, 200, now=0.1)
    refresh = n.subscribe(subscribe(expires=300, to_tag="t1", cseq=2), PHONE, "", "x", now=100)
    assert refresh.response.status == 200 and refresh.subscription is sub
    assert sub.expires_at == 400.0 and n.next_timer() == 400.0
    (again,) = refresh.notifies
    assert again.headers.get("subscription-state") == "active;expires=300"
    n.notify_answered(sub, 200, now=100.1)
    bye = n.subscribe(subscribe(expires=0, to_tag="t1", cseq=3), PHONE, "", "x", now=200)
    assert bye.response.status == 200
    (last,) = bye.notifies
    assert last.headers.get("subscription-state") == "terminated;reason=timeout"
    assert sub.state is SubState.TERMINATED and len(n) == 0
    assert n.watching("dialog", "8002") == [] and n.next_timer() is None


def test_expiry_without_refresh_sends_terminated_timeout() -> None:
    n, _ = notifier()
    sub = n.subscribe(subscribe(expires=60), PHONE, "8001", "t1", now=0.0).subscription
    assert sub is not None and n.next_timer() == 60.0
    assert n.handle_timer(59.9) == []
    ((who, req),) = n.handle_timer(60.0)
    assert who is sub and req.headers.get("subscription-state") == "terminated;reason=timeout"
    assert len(n) == 0 and n.next_timer() is None


def test_refused_subscribes() -> None:
    n, _ = notifier()
    bad_event = n.subscribe(subscribe(event="presence.winfo"), PHONE, "8001", "t", now=0)
    assert bad_event.response.status == 489
    assert bad_event.response.headers.get("allow-events") == "dialog"
    brief = n.subscribe(subscribe(expires=10), PHONE, "8001", "t", now=0)
    assert brief.response.status == 423 and brief.response.headers.get("min-expires") == "60"
    accept = n.subscribe(subscribe(accept="application/pidf+xml"), PHONE, "8001", "t", now=0)
    assert accept.response.status == 406
    assert n.subscribe(subscribe("secret"), PHONE, "8001", "t", now=0).response.status == 403
    assert n.subscribe(subscribe("9999"), PHONE, "8001", "t", now=0).response.status == 404
    unknown = n.subscribe(subscribe(to_tag="nope"), PHONE, "", "t", now=0)
    assert unknown.response.status == 481
    assert len(n) == 0 and all(not r.notifies for r in (bad_event, brief, accept, unknown))


def test_expires_is_capped_and_defaulted() -> None:
    n, _ = notifier()
    capped = n.subscribe(subscribe(expires=86400), PHONE, "8001", "t1", now=0)
    assert capped.response.headers.get("expires") == "600"
    default = n.subscribe(subscribe(expires=None, call_id="sub-2"), PHONE, "8001", "t2", now=0)
    assert default.response.headers.get("expires") == "600"
    assert len(n) == 2


def test_fetch_with_expires_zero_keeps_no_subscription() -> None:
    n, lamp = notifier()
    lamp.state["8002"] = "early"
    res = n.subscribe(subscribe(expires=0), PHONE, "8001", "t", now=0)
    assert res.response.status == 200
    (req,) = res.notifies
    assert req.headers.get("subscription-state") == "terminated;reason=timeout"
    assert dialog_info.parse(req.body).dialogs == {"d1": ("early", "recipient")}
    assert len(n) == 0


def test_failed_notify_ends_the_subscription() -> None:
    n, _ = notifier()
    sub = n.subscribe(subscribe(), PHONE, "8001", "t1", now=0).subscription
    assert sub is not None
    assert n.notify_answered(sub, 481, now=1) == []
    assert sub.state is SubState.TERMINATED and len(n) == 0
    assert n.changed("dialog", "8002", now=2) == []
    sub2 = n.subscribe(subscribe(call_id="sub-2"), PHONE, "8001", "t2", now=0).subscription
    assert sub2 is not None
    n.notify_answered(sub2, 408, now=1)  # transaction timeout
    assert len(n) == 0


def test_stale_cseq_refresh_is_refused() -> None:
    n, _ = notifier()
    n.subscribe(subscribe(cseq=5), PHONE, "8001", "t1", now=0)
    res = n.subscribe(subscribe(to_tag="t1", cseq=5), PHONE, "", "x", now=1)
    assert res.response.status == 500


def test_terminate_all_deactivates() -> None:
    n, _ = notifier()
    n.subscribe(subscribe(), PHONE, "8001", "t1", now=0)
    n.subscribe(subscribe(call_id="b"), PHONE, "8001", "t2", now=0)
    out = n.terminate_all("deactivated", now=5)
    assert [r.headers.get("subscription-state") for _, r in out] == [
        "terminated;reason=deactivated"] * 2
    assert len(n) == 0


def test_unsolicited_mwi_notify_is_what_desk_phones_accept() -> None:
    pkg = EventPackage("message-summary", message_summary.CONTENT_TYPE, 3600, 3600,
                       lambda s, r: r, lambda s: b"")
    body = message_summary.render(message_summary.Summary(2, 1, account="sip:8001@10.0.0.1"))
    req = roundtrip(unsolicited_notify(pkg, body, "sip:8001@10.0.0.1",
                                       "sip:8001@10.0.0.5:5062", PHONE, LOCAL))
    assert req.uri == "sip:8001@10.0.0.5:5062"
    assert req.headers.get("event") == "message-summary"
    assert req.headers.get("subscription-state") == "active"
    assert req.headers.get("content-type") == "application/simple-message-summary"
    assert tag_of(req.headers.get("from")) and tag_of(req.headers.get("to")) is None
    summary = message_summary.parse(req.body)
    assert (summary.new, summary.old, summary.lamp) == (2, 1, True)
    assert b"Voice-Message: 2/1 (0/0)" in req.body


def test_message_summary_and_pidf_roundtrip() -> None:
    off = message_summary.parse(message_summary.render(message_summary.Summary(0, 3)))
    assert (off.new, off.old, off.lamp) == (0, 3, False)
    with pytest.raises(ValueError):
        message_summary.parse(b"Voice-Message: 1/0\r\n")
    assert pidf.parse(pidf.render("sip:8001@box", False, "not-ready: break")) == (
        "sip:8001@box", False, "not-ready: break")
    with pytest.raises(ValueError):
        dialog_info.render("sip:x@y", 0, [dialog_info.DialogView("1", "ringing", "recipient")])


def test_a_subscriber_over_its_quota_gets_503_until_one_ends() -> None:
    lamp = Lamp()
    pkg = EventPackage("dialog", dialog_info.CONTENT_TYPE, 600, 600, lamp.resolve, lamp.render)
    n = Notifier({"dialog": pkg}, LOCAL, per_subscriber=2)
    subs = [n.subscribe(subscribe(call_id=f"c{i}"), PHONE, "8001", f"t{i}", now=0)
            for i in range(3)]
    assert [r.response.status for r in subs] == [200, 200, 503]
    assert subs[2].response.headers.get("retry-after") == "300"
    first = subs[0].subscription
    assert first is not None
    n.notify_answered(first, 481, now=1)
    assert n.subscribe(subscribe(call_id="c9"), PHONE, "8001", "t9", now=2).response.status == 200
