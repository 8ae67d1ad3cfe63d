"""The SIP message parser against every RFC 4475 torture message, and its serialisation.

Each vector gets the answer RFC 4475 says a robust element should give: the valid ones
(3.1.1.x) parse with their interesting fields right; the invalid ones (3.1.2.x) raise
SipParseError with the status the RFC expects, and where the RFC says the element should
answer, the error's partial request is enough to build that answer; the transaction- and
application-layer ones (3.2, 3.3, 3.4) parse, and are the business of the layer named
beside each.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from drivers.sip.message import (
    Headers,
    Request,
    Response,
    canonical,
    make_response,
    parse_cseq,
)
from drivers.sip.parser import MAX_MESSAGE, SipParseError, StreamFramer, parse_message, split_head
from drivers.sip.uri import NameAddr, SipUri, parse_name_addr, parse_uri, parse_via

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "rfc4475"


def vector(name: str) -> bytes:
    return (VECTORS / f"{name}.dat").read_bytes()


def request(name: str) -> Request:
    msg = parse_message(vector(name))
    assert isinstance(msg, Request)
    return msg


def response(name: str) -> Response:
    msg = parse_message(vector(name))
    assert isinstance(msg, Response)
    return msg


def name_addr(msg: Request | Response, header: str) -> NameAddr:
    value = msg.headers.get(header)
    assert value is not None, header
    return parse_name_addr(value)


def sip(na: NameAddr) -> SipUri:
    return na.sip_uri


def vias(msg: Request | Response) -> list[tuple[str, str, dict[str, str | None]]]:
    return [(v.transport, v.host, v.params) for v in map(parse_via, msg.headers.get_all("via"))]


# --- 3.1.1 Valid messages ------------------------------------------------------------------


def test_wsinv_short_tortuous_invite() -> None:
    """3.1.1.1: folding everywhere, LWS around every separator, escaped quotes, empty
    Subject, unknown headers and parameters."""
    req = request("wsinv")
    assert req.method == "INVITE"
    ruri = parse_uri(req.uri)
    assert (ruri.user, ruri.host, ruri.params) == (
        "vivekg",
        "chair-dnrc.example.com",
        {"unknownparam": None},
    )
    to = name_addr(req, "to")
    assert sip(to).user == "vivekg"
    assert to.tag == "1918181833n"
    frm = name_addr(req, "from")
    assert frm.display == 'J Rosenberg \\"'
    assert (sip(frm).user, frm.tag) == ("jdrosen", "98asjd8")
    assert req.headers.get("max-forwards") == "0068"
    assert req.cseq == (9, "INVITE")
    assert req.call_id == "wsinv.ndaksdj@192.0.2.1"
    assert vias(req) == [
        ("UDP", "192.0.2.2", {"branch": "390skdjuw"}),
        ("TCP", "spindle.example.com", {"branch": "z9hG4bK9ikj8"}),
        ("UDP", "192.168.255.111", {"branch": "z9hG4bK30239"}),
    ]
    assert req.headers.get("subject") == ""
    assert req.headers.get("newfangledheader") == "newfangled value continued newfangled value"
    assert req.headers.get("unknownheaderwithunusualvalue") == ";;,,;;,;"
    assert req.headers.get("route") == (
        "<sip:services.example.com;lr;unknownwith=value;unknown-no-value>"
    )
    route_uri = sip(parse_name_addr(req.headers.get("route") or ""))
    assert route_uri.params == {"lr": None, "unknownwith": "value", "unknown-no-value": None}
    (contact,) = req.headers.get_all("contact")
    m = parse_name_addr(contact)
    assert m.display == 'Quoted string ""'
    assert sip(m).user == "jdrosen"
    assert m.params == {"newparam": "newvalue", "secondparam": None, "q": "0.33"}
    assert req.headers.get("content-type") == "application/sdp"
    assert len(req.body) == 150
    assert req.body.startswith(b"v=0\r\n") and req.body.endswith(b"a=rtpmap:31 LPC\r\n")


def test_intmeth_wide_range_of_valid_characters() -> None:
    """3.1.1.2: an unknown method made of every token character, a Request-URI whose
    user and password hold every character they may, NUL/BEL/DEL as quoted-pairs, UTF-8."""
    req = request("intmeth")
    method = "!interesting-Method0123456789_*+`.%indeed'~"
    assert req.method == method
    assert req.cseq == (139122385, method)
    ruri = parse_uri(req.uri)
    assert ruri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert ruri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert (ruri.host, ruri.params, ruri.headers) == ("example.com", {}, "")
    to = name_addr(req, "to")
    assert to.display == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert sip(to).user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    frm = name_addr(req, "from")
    assert frm.display == "token1~` token2'+_ token3*%!.-"
    assert frm.params == {
        "fromparam''~+*_!.-%": '"работающий"',
        "tag": "_token~1'+`*%!-.",
    }
    assert req.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    assert req.headers.get("max-forwards") == "255"
    assert req.headers.get("extensionHeader-!.%*+_`'~") == "\ufeff大停電"
    assert parse_via(req.headers.get("via") or "").branch == "z9hG4bK-.!%66*_+`'~"
    assert req.body == b""


def test_esc01_valid_use_of_escaping() -> None:
    """3.1.1.3: escaped characters in user parts and URI parameters; compact headers."""
    req = request("esc01")
    ruri = parse_uri(req.uri)
    assert ruri.user_unescaped == "sips:user@example.com"
    assert ruri.host == "example.net"
    assert sip(name_addr(req, "to")).user_unescaped == "user"
    assert sip(name_addr(req, "from")).user_unescaped == "I have spaces"
    assert req.call_id == "esc01.239409asdfakjkn23onasd0-3234"
    assert req.headers.get("content-type") == "application/sdp"  # "C:"
    contact = sip(name_addr(req, "contact"))
    assert contact.user_unescaped == "caller"
    assert {unquote(k): unquote(v) if v else v for k, v in contact.params.items()} == {
        "lr": None,
        "name": "value%41",
    }
    assert len(req.body) == 150


def test_escnull_escaped_nulls_in_uris() -> None:
    """3.1.1.4: %00 in user parts is legal and unescapes to NUL."""
    req = request("escnull")
    assert req.method == "REGISTER"
    assert sip(name_addr(req, "to")).user_unescaped == "null-\x00-null"
    assert sip(name_addr(req, "from")).user_unescaped == "null-\x00-null"
    users = [sip(parse_name_addr(c)).user_unescaped for c in req.headers.get_all("contact")]
    assert users == ["\x00", "\x00\x00"]


def test_esc02_percent_that_is_not_an_escape() -> None:
    """3.1.1.5: % outside URIs is just a character: the method is not REGISTER and
    C%6Fntact is not Contact (the UA answers 501 for the unknown method)."""
    req = request("esc02")
    assert req.method == "RE%47IST%45R"
    assert req.cseq == (29344, "RE%47IST%45R")
    assert name_addr(req, "to").display == "%Z%45"
    assert parse_via(req.headers.get("via") or "").branch == "z9hG4bK209%fzsnel234"
    hosts = [sip(parse_name_addr(c)).host for c in req.headers.get_all("contact")]
    assert hosts == ["host1.example.com", "host3.example.com"]
    assert req.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"


def test_lwsdisp_no_lws_between_display_name_and_laquo() -> None:
    """3.1.1.6"""
    frm = name_addr(request("lwsdisp"), "from")
    assert (frm.display, sip(frm).user, frm.tag) == ("caller", "caller", "323")


def test_longreq_long_values() -> None:
    """3.1.1.7: very long header names, values, parameters, a long Call-ID and 34 Vias
    written with every capitalisation and compact form."""
    req = request("longreq")
    to = name_addr(req, "to")
    assert to.display == "I have a user name of " + "extreme" * 10 + " proportion"
    to_uri = sip(to)
    assert to_uri.port == 6000
    assert to_uri.params == {
        "unknownparam1": "very" + "long" * 20 + "value",
        "longparam" + "name" * 25: "shortvalue",
        ("very" + "long" * 25 + "ParameterNameWithNoValue").lower(): None,
    }
    frm = name_addr(req, "f")
    assert sip(frm).user == "amazinglylongcallername" * 5
    assert frm.tag == "12" + "982" * 50 + "424"
    assert frm.params["unknownheaderparam" + "name" * 20] == (
        "unknowheaderparamvalue" + "value" * 15
    )
    assert ("unknownvaluelessparamname" + "paramname" * 9) in frm.params
    assert req.call_id == "longreq.one" + "really" * 20 + "longcallid"
    long_name = "Unknown-" + "Long" * 20 + "-Name"
    assert req.headers.get(long_name) == (
        "unknown-" + "long" * 20 + "-value; unknown-" + "long" * 20 + "-parameter-name = "
        "unknown-" + "long" * 20 + "-parameter-value"
    )
    all_vias = vias(req)
    assert len(all_vias) == 34
    assert [h for _, h, _ in all_vias[:33]] == [f"sip{i}.example.com" for i in range(33, 0, -1)]
    assert all(t == "TCP" for t, _, _ in all_vias)
    branch = "very" + "long" * 50 + "branchvalue"
    assert all_vias[33] == ("TCP", "host.example.com", {"received": "192.0.2.5", "branch": branch})
    assert sip(name_addr(req, "contact")).user == "amazinglylongcallername" * 5
    assert len(req.body) == 150


def test_dblreq_only_the_first_of_two_requests_in_a_datagram() -> None:
    """3.1.1.8: over UDP the bytes after Content-Length are discarded, so this is one
    REGISTER with an empty body; the INVITE behind it is ignored."""
    req = request("dblreq")
    assert req.method == "REGISTER"
    assert req.call_id == "dblreq.0ha0isndaksdj99sdfafnl3lk233412"
    assert req.body == b""
    assert req.headers.get("contact") == "sip:j.user@host.example.com"


def test_dblreq_over_tcp_is_two_messages() -> None:
    framer = StreamFramer()
    first, second = framer.feed(vector("dblreq"))
    register, invite = parse_message(first, stream=True), parse_message(second, stream=True)
    assert isinstance(register, Request) and isinstance(invite, Request)
    assert (register.method, invite.method) == ("REGISTER", "INVITE")
    assert invite.call_id == "dblreq.0ha0isnda977644900765@192.0.2.15"
    assert len(invite.body) == 150  # announced 150, the RFC sends 153


def test_semiuri_semicolon_in_user_part() -> None:
    """3.1.1.9: the Request-URI's user part is `user;par=u@example.net`."""
    req = request("semiuri")
    ruri = parse_uri(req.uri)
    assert ruri.user_unescaped == "user;par=u@example.net"
    assert (ruri.host, ruri.params) == ("example.com", {})
    assert req.headers.get_all("accept") == [
        "application/sdp",
        "application/pkcs7-mime",
        "multipart/mixed",
        "multipart/signed",
        "message/sip",
        "message/sipfrag",
    ]


def test_transports_via_transport_names() -> None:
    """3.1.1.10: Via transports, known and unknown."""
    req = request("transports")
    assert [t for t, _, _ in vias(req)] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]
    assert req.call_id == "transports.kijh4akdnaqjkwendsasfdj"


def test_mpart01_multipart_body_with_binary_part() -> None:
    """3.1.1.11: a body with NULs and bare CRs, framed by Content-Length only."""
    req = request("mpart01")
    assert req.method == "MESSAGE"
    assert req.headers.get("content-type") == "multipart/mixed;boundary=7a9cbec02ceef655"
    assert len(req.body) == 553
    assert b"\x00" in req.body
    parts = req.body.split(b"--7a9cbec02ceef655")
    assert parts[0] == b"" and parts[-1] == b"--\r\n"
    text_head, text = parts[1].split(b"\r\n\r\n", 1)
    assert b"Content-Type: text/plain" in text_head
    assert text == b"Hello\r\n"
    bin_head, der = parts[2].split(b"\r\n\r\n", 1)
    assert b"Content-Type: application/octet-stream" in bin_head
    der = der.removesuffix(b"\r\n")
    assert der[:4] == b"\x30\x82\x01\x52"  # a DER SEQUENCE of 0x152 bytes
    assert len(der) == 4 + 0x152
    (via,) = map(parse_via, req.headers.get_all("via"))
    assert (via.host, via.port, via.params["rport"]) == ("127.0.0.1", 5070, None)


def test_unreason_utf8_reason_phrase() -> None:
    """3.1.1.12"""
    resp = response("unreason")
    assert resp.status == 200
    assert resp.reason == "= 2**3 * 5**2 но сто девяносто девять - простое"
    assert len(resp.body) == 154


def test_noreason_empty_reason_phrase() -> None:
    """3.1.1.13"""
    resp = response("noreason")
    assert (resp.status, resp.reason) == (100, "")
    assert resp.cseq == (35, "INVITE")


# --- 3.1.2 Invalid messages ----------------------------------------------------------------

ANSWER_HEADERS = ("via", "from", "to", "call-id", "cseq")

# name -> (status, words the reason must contain, the RFC says the element answers it)
INVALID: dict[str, tuple[int, str, bool]] = {
    "badinv01": (400, "empty element", True),  # 3.1.2.1 ";;,;,," in Via
    "clerr": (400, "Content-Length 9999", True),  # 3.1.2.2 (over UDP)
    "ncl": (400, "negative Content-Length", True),  # 3.1.2.3
    "scalar02": (400, "CSeq number", True),  # 3.1.2.4
    "scalarlg": (400, "CSeq number", False),  # 3.1.2.5 a response: dropped
    "quotbal": (400, "unterminated quoted", True),  # 3.1.2.6
    "ltgtruri": (400, "enclosed in <>", True),  # 3.1.2.7
    "lwsruri": (400, "whitespace inside the Request-URI", True),  # 3.1.2.8
    "lwsstart": (400, "extra whitespace", True),  # 3.1.2.9
    "trws": (400, "extra whitespace", True),  # 3.1.2.10
    "escruri": (400, "Request-URI carries headers", True),  # 3.1.2.11
    "regbadct": (400, "enclosed in <>", True),  # 3.1.2.13
    "badaspec": (400, "whitespace", True),  # 3.1.2.14
    "baddn": (400, "display name", True),  # 3.1.2.15
    "badvers": (505, "SIP/7.0", True),  # 3.1.2.16
    "mismatch01": (400, "does not match", True),  # 3.1.2.17
    "mismatch02": (400, "does not match", True),  # 3.1.2.18
    "bigcode": (400, "out of range", False),  # 3.1.2.19 a response: dropped
    # 3.3 cases that are still the parser's to refuse
    "unkscm": (416, "unsupported URI scheme", True),  # 3.3.2 Request-URI
    "novelsc": (416, "unsupported URI scheme", True),  # 3.3.3 Request-URI
    "multi01": (400, "more than one", True),  # 3.3.8
    "mcl01": (400, "conflicting Content-Length", True),  # 3.3.9 (UDP; TCP closes)
    "insuf": (400, "missing To", False),  # 3.3.1: nothing to address an answer to
}


def parse_error(name: str) -> SipParseError:
    with pytest.raises(SipParseError) as info:
        parse_message(vector(name))
    return info.value


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_vector_is_refused_with_the_rfc_status(name: str) -> None:
    status, words, answered = INVALID[name]
    err = parse_error(name)
    assert err.status == status
    assert words in err.reason, err.reason
    assert str(err) == err.reason
    if not answered:
        return
    partial = err.partial
    assert partial is not None
    resp = make_response(partial, err.status, f"Bad Request ({err.reason})")
    for header in ANSWER_HEADERS:
        assert resp.headers.get_raw(header), header
    for header in ANSWER_HEADERS[1:]:
        assert len(resp.headers.get_raw(header)) == 1, header
    assert resp.headers.get_raw("via") == partial.headers.get_raw("via")
    wire = resp.serialize()
    assert wire.startswith(f"SIP/2.0 {status} ".encode())
    assert wire.endswith(b"Content-Length: 0\r\n\r\n")


def test_invalid_responses_carry_no_partial_request() -> None:
    for name in ("scalarlg", "bigcode"):
        assert parse_error(name).partial is None


def test_multi01_partial_keeps_the_first_of_each_single_header() -> None:
    partial = parse_error("multi01").partial
    assert partial is not None
    assert partial.headers.get_raw("call-id") == ["multi01.98asdh@192.0.2.1"]
    assert partial.headers.get_raw("cseq") == ["5 INVITE"]
    assert partial.headers.get_raw("to") == ["sip:user@example.com"]


def test_insuf_partial_has_what_there_is() -> None:
    """3.3.1: no To, From or Call-ID: the element must not break; ideally it answers 400,
    but such an answer could not be matched by the sender anyway."""
    partial = parse_error("insuf").partial
    assert partial is not None
    assert partial.headers.get("via") == "SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf"
    assert partial.headers.get("to") is None


def test_badvers_is_505_before_anything_else() -> None:
    """3.1.2.16: the version decides first, even though the Via says SIP/7.0 too."""
    err = parse_error("badvers")
    assert err.partial is not None and err.partial.method == "OPTIONS"


def test_clerr_over_tcp_waits_for_the_rest() -> None:
    """3.1.2.2: over a stream, the missing bytes may yet arrive."""
    framer = StreamFramer()
    assert framer.feed(vector("clerr")) == []


def test_mcl01_over_tcp_is_a_framing_error() -> None:
    """3.3.9: over TCP two Content-Lengths make the stream unframeable: close it."""
    with pytest.raises(SipParseError, match="conflicting Content-Length"):
        StreamFramer().feed(vector("mcl01"))


def test_ncl_over_tcp_is_a_framing_error() -> None:
    with pytest.raises(SipParseError, match="Content-Length"):
        StreamFramer().feed(vector("ncl"))


def test_baddate_is_accepted() -> None:
    """3.1.2.12: a Date in EST is malformed, but RFC 4475 says an element should not
    reject it unless the Date matters to its processing; nothing here reads Date."""
    req = request("baddate")
    assert req.headers.get("date") == "Fri, 01 Jan 2010 16:00:00 EST"


# --- 3.2, 3.3, 3.4: well-formed messages for the layers above the parser --------------------


def test_badbranch_parses() -> None:
    # 3.2.1 transaction layer: a branch that is only the magic cookie cannot identify a
    # transaction; match it the RFC 2543 way (RFC 3261 17.2.3).
    req = request("badbranch")
    assert parse_via(req.headers.get("via") or "").branch == "z9hG4bK"


def test_unksm2_parses() -> None:
    # 3.3.4 registrar: To (the address of record) is an isbn: URI, From an http: URI and
    # the Contact a name: URI; the registrar refuses to bind them.
    req = request("unksm2")
    assert name_addr(req, "to").uri == "isbn:2983792873"
    assert name_addr(req, "from").uri == "http://www.example.com"
    assert name_addr(req, "contact").uri == "name:John_Smith"


def test_bext01_parses() -> None:
    # 3.3.5 UA: Require names unknown extensions -> 420 with Unsupported; Proxy-Require
    # is for proxies and ignored by a UAS.
    req = request("bext01")
    assert req.headers.get_all("require") == ["nothingSupportsThis", "nothingSupportsThisEither"]
    assert len(req.headers.get_all("proxy-require")) == 2


def test_invut_parses() -> None:
    # 3.3.6 UA: an INVITE whose body is application/unknownformat -> 415 with Accept.
    req = request("invut")
    assert req.headers.get("content-type") == "application/unknownformat"
    assert req.body == b'<audio>\r\n <pcmu port="443"/>\r\n</audio>\r\n'


def test_regaut01_parses() -> None:
    # 3.3.7 registrar/authenticator: unknown Authorization scheme -> 401 with our Digest
    # challenge, as if no credentials had been sent.
    req = request("regaut01")
    assert req.headers.get("authorization") == "NoOneKnowsThisScheme opaque-data=here"


def test_bcast_parses() -> None:
    # 3.3.10 transport/transaction layer: a response whose second Via is a broadcast
    # address; it is matched (or dropped) by its top Via like any other response.
    resp = response("bcast")
    assert [h for _, h, _ in vias(resp)] == ["192.0.2.198", "255.255.255.255"]


def test_zeromf_parses() -> None:
    # 3.3.11 UA: Max-Forwards 0 on an OPTIONS for us is answered normally (a proxy would
    # answer 483).
    assert request("zeromf").headers.get("max-forwards") == "0"


def test_cparam01_parses() -> None:
    # 3.3.12 registrar: unknownparam is a Contact header parameter (addr-spec form).
    contact = name_addr(request("cparam01"), "contact")
    assert contact.params == {"unknownparam": None}
    assert sip(contact).params == {}


def test_cparam02_parses() -> None:
    # 3.3.13 registrar: here unknownparam is a URI parameter (name-addr form).
    contact = name_addr(request("cparam02"), "contact")
    assert contact.params == {}
    assert sip(contact).params == {"unknownparam": None}


def test_regescrt_parses() -> None:
    # 3.3.14 registrar: an escaped Route header in the Contact URI is part of the binding.
    contact = sip(name_addr(request("regescrt"), "contact"))
    assert contact.headers == "Route=%3Csip:sip.example.com%3E"


def test_sdp01_parses() -> None:
    # 3.3.15 UA: Accept lists only text/nobodyKnowsThis, yet the offer is SDP -> 406.
    assert request("sdp01").headers.get("accept") == "text/nobodyKnowsThis"


def test_inv2543_parses() -> None:
    # 3.4.1 UA/transaction layer: RFC 2543 syntax: no Max-Forwards, no branch, no From
    # tag, no Content-Length (UDP: the body is the rest of the datagram).
    req = request("inv2543")
    assert req.headers.get("max-forwards") is None
    assert parse_via(req.headers.get("via") or "").branch == ""
    assert name_addr(req, "from").tag is None
    assert req.body.endswith(b"m=audio 49217 RTP/AVP 0\r\n")
    with pytest.raises(SipParseError, match="Content-Length is required"):
        parse_message(vector("inv2543"), stream=True)


VALID = [
    "wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq",
    "semiuri", "transports", "mpart01", "unreason", "noreason",
]  # fmt: skip
ACCEPTED = [
    "baddate", "badbranch", "unksm2", "bext01", "invut", "regaut01", "bcast", "zeromf",
    "cparam01", "cparam02", "regescrt", "sdp01", "inv2543",
]  # fmt: skip
PARSED = VALID + ACCEPTED


def test_every_vector_is_classified() -> None:
    on_disk = {p.stem for p in VECTORS.glob("*.dat")}
    assert len(on_disk) == 49
    assert on_disk == set(PARSED) | set(INVALID)
    assert not set(PARSED) & set(INVALID)


# --- Serialisation ----------------------------------------------------------------------------


def comparable(msg: Request | Response) -> tuple[object, ...]:
    start: tuple[object, ...]
    if isinstance(msg, Request):
        start = (msg.method, msg.uri, msg.version)
    else:
        start = (msg.status, msg.reason, msg.version)
    headers = [(canonical(n), v) for n, v in msg.headers if canonical(n) != "content-length"]
    return (*start, headers, msg.body)


def content_length(wire: bytes) -> int:
    parts = split_head(wire)
    assert parts is not None
    head, body = parts
    values = [
        line.split(b":", 1)[1].strip()
        for line in head.split(b"\r\n")[1:]
        if canonical(line.split(b":", 1)[0].decode()) == "content-length"
    ]
    assert len(values) == 1
    assert int(values[0]) == len(body)
    return len(body)


@pytest.mark.parametrize("name", PARSED)
def test_round_trip(name: str) -> None:
    first = parse_message(vector(name))
    wire = first.serialize()
    assert content_length(wire) == len(first.body)
    second = parse_message(wire)
    assert comparable(second) == comparable(first)
    # and the serialised form is good for a stream too
    assert StreamFramer().feed(wire) == [wire]
    assert comparable(parse_message(wire, stream=True)) == comparable(first)


def test_serialize_writes_the_body_length_whatever_the_headers_say() -> None:
    req = Request("MESSAGE", "sip:a@example.com", Headers([("Content-Length", "99"), ("l", "3")]))
    req.body = b"hello"
    wire = req.serialize()
    assert wire.count(b"Content-Length") == 1
    assert wire.endswith(b"Content-Length: 5\r\n\r\nhello")


def test_serialize_cannot_be_tricked_into_a_new_header_line() -> None:
    req = Request("OPTIONS", "sip:a@example.com")
    req.headers.add("subject", "hi\r\nX-Injected: yes")
    wire = req.serialize()
    assert b"\r\nX-Injected" not in wire
    assert b"Subject: hi X-Injected: yes\r\n" in wire


# --- Parser details beyond RFC 4475 -----------------------------------------------------------

OPTIONS = (
    b"OPTIONS sip:a@example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
    b"To: <sip:a@example.com>\r\n"
    b"From: <sip:b@example.com>;tag=1\r\n"
    b"Call-ID: x@y\r\n"
    b"CSeq: 1 OPTIONS\r\n"
    b"Max-Forwards: 70\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def test_leading_crlfs_are_ignored() -> None:
    msg = parse_message(b"\r\n\r\n" + OPTIONS)
    assert isinstance(msg, Request) and msg.method == "OPTIONS"


def test_bare_lf_line_ends_are_accepted() -> None:
    msg = parse_message(OPTIONS.replace(b"\r\n", b"\n"))
    assert isinstance(msg, Request) and msg.call_id == "x@y"


def test_status_line_without_reason_phrase() -> None:
    resp = parse_message(b"SIP/2.0 180\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n")
    assert isinstance(resp, Response) and (resp.status, resp.reason) == (180, "")


@pytest.mark.parametrize(
    ("line", "status"),
    [
        (b"SIP/3.0 200 OK", 505),
        (b"SIP/2.0 099 Low", 400),
        (b"SIP/2.0 700 High", 400),
        (b"SIP/2.0 2OO OK", 400),
        (b"SIP/2.0 \xd9\xa2\xd9\xa0\xd9\xa0 OK", 400),  # Arabic-Indic digits
    ],
)
def test_bad_status_lines(line: bytes, status: int) -> None:
    with pytest.raises(SipParseError) as info:
        parse_message(line + b"\r\nContent-Length: 0\r\n\r\n")
    assert info.value.status == status


def test_non_sip_version_is_400_not_505() -> None:
    with pytest.raises(SipParseError) as info:
        parse_message(OPTIONS.replace(b"SIP/2.0\r\n", b"HTTP/1.1\r\n", 1))
    assert info.value.status == 400


def test_latin1_display_name_is_read_not_refused() -> None:
    data = OPTIONS.replace(b"From: <", b'From: "M\xfcller" <')
    msg = parse_message(data)
    assert parse_name_addr(msg.headers.get("from") or "").display == "Müller"
    assert 'From: "Müller" <'.encode() in msg.serialize()


def test_nul_outside_a_quoted_string_is_refused() -> None:
    with pytest.raises(SipParseError, match="NUL") as info:
        parse_message(OPTIONS.replace(b"Call-ID: x@y", b"Call-ID: x\x00y"))
    assert info.value.partial is not None


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (b"Max-Forwards: 70", b"Max-Forwards: 256", "Max-Forwards"),
        (b"Max-Forwards: 70", "Max-Forwards: ²".encode(), "Max-Forwards"),
        (b"Content-Length: 0", "Content-Length: ²".encode(), "Content-Length"),
        (b"Content-Length: 0", b"Content-Length: " + b"9" * 5000, "Content-Length"),
        (b"CSeq: 1 OPTIONS", "CSeq: ٣ OPTIONS".encode(), "CSeq"),
        (b"CSeq: 1 OPTIONS", b"CSeq: 1 OPT<IONS", "CSeq"),
        (b"Call-ID: x@y\r\n", b"Call-ID: x@y\r\nCall-ID: z@y\r\n", "Call-ID"),
        (b"Call-ID: x@y\r\n", b"", "missing Call-ID"),
        (b"192.0.2.1;branch", b"192.0.2.1:" + b"5" * 5000 + b";branch", "Via"),
        (b"Call-ID: x@y\r\n", b"Call-ID x@y\r\n", "malformed header line"),
        (b"Call-ID: x@y\r\n", b"Expires: soon\r\nCall-ID: x@y\r\n", "Expires"),
        (b"To: <sip:a@example.com>", b"To: <sip:a@example.com> junk", "To"),
    ],
)
def test_malformed_headers_are_400_with_a_partial(old: bytes, new: bytes, words: str) -> None:
    data = OPTIONS.replace(old, new, 1)
    assert data != OPTIONS
    with pytest.raises(SipParseError) as info:
        parse_message(data)
    assert info.value.status == 400
    assert words in info.value.reason
    assert info.value.partial is not None
    assert info.value.partial.method == "OPTIONS"


def test_request_line_folded_into_headers_is_refused() -> None:
    with pytest.raises(SipParseError, match="continuation"):
        parse_message(OPTIONS.replace(b"\r\nVia:", b"\r\n Via:", 1))


def test_oversized_message_is_413() -> None:
    with pytest.raises(SipParseError) as info:
        parse_message(OPTIONS + b"x" * MAX_MESSAGE)
    assert info.value.status == 413


def test_stream_mode_needs_content_length_and_end_of_headers() -> None:
    with pytest.raises(SipParseError, match="Content-Length is required"):
        parse_message(OPTIONS.replace(b"Content-Length: 0\r\n", b""), stream=True)
    with pytest.raises(SipParseError, match="no end of headers"):
        parse_message(OPTIONS[:-2], stream=True)


def test_udp_body_beyond_content_length_is_dropped() -> None:
    msg = parse_message(OPTIONS + b"trailing junk")
    assert msg.body == b""


def test_identical_content_length_repeated_is_tolerated() -> None:
    msg = parse_message(OPTIONS.replace(b"Content-Length: 0\r\n", b"l: 0\r\nContent-Length: 0\r\n"))
    assert msg.body == b""


def test_tel_request_uri_is_accepted() -> None:
    msg = parse_message(OPTIONS.replace(b"OPTIONS sip:a@example.com", b"OPTIONS tel:+15551234"))
    assert isinstance(msg, Request) and msg.uri == "tel:+15551234"


def test_compact_and_long_forms_are_the_same_header() -> None:
    h = Headers([("v", "SIP/2.0/UDP a"), ("Via", "SIP/2.0/UDP b, SIP/2.0/UDP c"), ("i", "id")])
    assert h.get_all("via") == ["SIP/2.0/UDP a", "SIP/2.0/UDP b", "SIP/2.0/UDP c"]
    assert h.get("call-id") == "id"


def test_parse_cseq() -> None:
    assert parse_cseq("0009 INVITE") == (9, "INVITE")
    assert parse_cseq(f"{2**31 - 1} BYE") == (2**31 - 1, "BYE")
    for bad in (f"{2**31} BYE", "1", "x INVITE", "1 IN VITE", "-1 BYE", "1 BY,E"):
        with pytest.raises(ValueError):
            parse_cseq(bad)


# --- make_response ------------------------------------------------------------------------------


def invite(extra: bytes = b"") -> Request:
    msg = parse_message(
        OPTIONS.replace(b"OPTIONS", b"INVITE").replace(b"Call-ID", extra + b"Call-ID")
    )
    assert isinstance(msg, Request)
    return msg


def test_make_response_adds_a_to_tag_once() -> None:
    resp = make_response(invite(), 180, to_tag="abc")
    assert resp.headers.get("to") == "<sip:a@example.com>;tag=abc"
    req = invite()
    req.headers.set("to", "<sip:a@example.com> ; tag = zz")
    assert make_response(req, 200, to_tag="abc").headers.get("to") == (
        "<sip:a@example.com> ; tag = zz"
    )
    req.headers.set("to", '"a;tag=x" <sip:a@example.com>')  # not a tag: inside the quotes
    assert make_response(req, 200, to_tag="t").headers.get("to") == (
        '"a;tag=x" <sip:a@example.com>;tag=t'
    )


def test_make_response_record_route_and_timestamp() -> None:
    req = invite(b"Record-Route: <sip:p1;lr>\r\nTimestamp: 54\r\n")
    assert make_response(req, 180).headers.get_raw("record-route") == ["<sip:p1;lr>"]
    assert make_response(req, 200).headers.get_raw("record-route") == ["<sip:p1;lr>"]
    trying = make_response(req, 100)
    assert trying.headers.get_raw("record-route") == []
    assert trying.headers.get("timestamp") == "54"
    assert make_response(req, 486).headers.get_raw("record-route") == []
    assert make_response(req, 404).reason == "Not Found"
