"""Registrar rules of RFC 3261 10.3, without sockets."""

from __future__ import annotations

from drivers.sip.addr import Address
from drivers.sip.message import Request
from drivers.sip.parser import parse_message
from drivers.sip.registrar import MIN_EXPIRES, Binding, LocationService, Registrar

SRC = Address("udp", "192.0.2.7", 40123)  # NAT-mapped source


def _register(contact: str, expires: str | None = None, cseq: int = 1, to: str = "8001",
              call_id: str = "reg1") -> Request:
    lines = [
        "REGISTER sip:box SIP/2.0",
        "Via: SIP/2.0/UDP 10.1.1.5:5060;branch=z9hG4bKr" + str(cseq),
        f"From: <sip:{to}@box>;tag=x",
        f"To: <sip:{to}@box>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        f"Contact: {contact}",
    ]
    if expires is not None:
        lines.append(f"Expires: {expires}")
    msg = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode())
    assert isinstance(msg, Request)
    return msg


def test_register_refresh_and_remove() -> None:
    changes: list[tuple[Binding, bool]] = []
    loc = LocationService(lambda b, r: changes.append((b, r)))
    reg = Registrar(loc)
    resp, added, _ = reg.handle(_register("<sip:8001@10.1.1.5:5060>", "120"), SRC, "8001",
                                1000.0, "t")
    assert resp.status == 200 and len(added) == 1
    [b] = loc.lookup("8001", 1000.0)
    assert b.source == SRC  # calls go where the REGISTER came from, not the Contact
    assert "expires=120" in (resp.headers.get("contact") or "")
    assert loc.lookup("8001", 1121.0) == []  # expired
    resp, _, removed = reg.handle(_register("<sip:8001@10.1.1.5:5060>", "0", cseq=2), SRC,
                                  "8001", 1001.0, "t")
    assert resp.status == 200 and len(removed) == 1 and loc.lookup("8001", 1001.0) == []
    assert [r for _, r in changes] == [False, True]


def test_multiple_contacts_and_wildcard() -> None:
    loc = LocationService()
    reg = Registrar(loc)
    reg.handle(_register("<sip:8001@10.1.1.5>", call_id="a"), SRC, "8001", 0.0, "t")
    reg.handle(_register("<sip:8001@10.1.1.6>", call_id="b"), SRC, "8001", 0.0, "t")
    assert len(loc.lookup("8001", 1.0)) == 2
    resp, _, removed = reg.handle(_register("*", "0", cseq=5, call_id="a"), SRC, "8001", 2.0,
                                  "t")
    assert resp.status == 200 and len(removed) == 2
    resp, _, _ = reg.handle(_register("*", "60", cseq=6), SRC, "8001", 2.0, "t")
    assert resp.status == 400


def test_interval_too_brief_and_foreign_aor_and_stale_cseq() -> None:
    reg = Registrar(LocationService())
    resp, _, _ = reg.handle(_register("<sip:8001@h>", "10"), SRC, "8001", 0.0, "t")
    assert resp.status == 423 and resp.headers.get("min-expires") == str(MIN_EXPIRES)
    resp, _, _ = reg.handle(_register("<sip:8002@h>", to="8002"), SRC, "8001", 0.0, "t")
    assert resp.status == 403
    reg.handle(_register("<sip:8001@h>", cseq=5), SRC, "8001", 0.0, "t")
    resp, _, _ = reg.handle(_register("<sip:8001@h>", cseq=4), SRC, "8001", 0.0, "t")
    assert resp.status == 500


def test_malformed_or_huge_expires_never_crash() -> None:
    reg = Registrar(LocationService())
    for value in ("abc", "²", "9" * 5000, "4294967296"):
        resp, _, _ = reg.handle(_register(f"<sip:8001@h>;expires={value}", call_id=value[:8]),
                                SRC, "8001", 0.0, "t")
        assert resp.status == 200
        assert "expires=3600" in (resp.headers.get("contact") or "")
