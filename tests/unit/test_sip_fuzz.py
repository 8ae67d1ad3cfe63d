"""Property tests: no input makes the SIP parser raise anything but SipParseError.

Arbitrary bytes, SIP-shaped noise and mutations of the RFC 4475 vectors (byte flips,
truncation, duplicated header lines, lost line breaks) go through `parse_message`, over
UDP and TCP rules. Whatever is accepted must serialise and parse back; whatever is
refused with a partial request must still let `make_response` build an answer.
`StreamFramer` fed the vectors cut at random points yields the same messages as fed whole.
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.sip.message import Request, make_response
from drivers.sip.parser import SipParseError, StreamFramer, parse_message, split_head
from drivers.sip.sdp import SdpError, parse_sdp
from drivers.sip.uri import parse_name_addr, parse_uri, parse_via

VECTORS = Path(__file__).resolve().parent.parent / "vectors" / "rfc4475"
ALL = {p.stem: p.read_bytes() for p in sorted(VECTORS.glob("*.dat"))}
NAMES = sorted(ALL)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(data: bytes) -> None:
    """The parser's contract, for one input under both transport rules."""
    for stream in (False, True):
        try:
            msg = parse_message(data, stream=stream)
        except SipParseError as e:
            assert e.status in (400, 413, 416, 505)
            assert e.reason and not e.reason.startswith("unparseable message"), e.reason
            if e.partial is not None:
                make_response(e.partial, e.status, "Bad Request").serialize()
            continue
        wire = msg.serialize()
        again = parse_message(wire, stream=True)
        assert type(again) is type(msg)
        assert again.body == msg.body
        if isinstance(msg, Request):
            assert isinstance(again, Request)
            assert (again.method, again.uri) == (msg.method, msg.uri)


@FAST
@given(st.binary(max_size=1500))
def test_arbitrary_bytes(data: bytes) -> None:
    check(data)


LINES = st.sampled_from(
    [
        "INVITE sip:a@example.com SIP/2.0",
        "OPTIONS sip:[::1]:5060 SIP/2.0",
        "SIP/2.0 200 OK",
        "SIP/2.0 100",
        "Via: SIP/2.0/UDP h;branch=z9hG4bK1",
        "v: SIP/2.0/TCP [2001:db8::1]:5060;rport, SIP/2.0/UDP x",
        'From: "A \\" B" <sip:a@example.com>;tag=1',
        "f: sip:a@example.com;tag=2",
        "To: <tel:+1234>",
        "t: B <sip:b@example.com>",
        "Call-ID: x@y",
        "i: z",
        "CSeq: 1 INVITE",
        "CSeq: 2 OPTIONS",
        "Max-Forwards: 70",
        "Contact: *",
        "m: <sip:c@example.com>;expires=60, <sip:d@example.com>",
        "Expires: 60",
        "Content-Length: 0",
        "l: 4",
        "Content-Type: application/sdp",
        " folded continuation",
        "",
        "v=0",
    ]
)
SIPPY = st.lists(
    st.one_of(LINES, st.text(max_size=40), st.sampled_from([":", ";", ",", "<", ">", '"'])),
    max_size=14,
).map(lambda parts: "\r\n".join(parts).encode("utf-8", "surrogatepass"))


@FAST
@given(SIPPY)
def test_sip_shaped_noise(data: bytes) -> None:
    check(data)


def _flip(data: bytes, i: int, b: int) -> bytes:
    if not data:
        return data
    i %= len(data)
    return data[:i] + bytes([b]) + data[i + 1 :]


def _truncate(data: bytes, i: int, _b: int) -> bytes:
    return data[: i % (len(data) + 1)]


def _duplicate_line(data: bytes, i: int, _b: int) -> bytes:
    lines = data.split(b"\r\n")
    k = i % len(lines)
    return b"\r\n".join([*lines[: k + 1], lines[k], *lines[k + 1 :]])


def _drop_crlf(data: bytes, i: int, _b: int) -> bytes:
    spots = [m.start() for m in re.finditer(b"\r\n", data)]
    if not spots:
        return data
    k = spots[i % len(spots)]
    return data[:k] + data[k + 2 :]


def _drop_cr(data: bytes, i: int, _b: int) -> bytes:
    spots = [m.start() for m in re.finditer(b"\r\n", data)]
    if not spots:
        return data
    k = spots[i % len(spots)]
    return data[:k] + data[k + 1 :]


def _insert(data: bytes, i: int, b: int) -> bytes:
    k = i % (len(data) + 1)
    return data[:k] + bytes([b]) * (1 + i % 3) + data[k:]


MUTATIONS = st.sampled_from([_flip, _truncate, _duplicate_line, _drop_crlf, _drop_cr, _insert])


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(NAMES),
    st.lists(
        st.tuples(MUTATIONS, st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4
    ),
)
def test_mutated_vectors(name: str, mutations: list[tuple[object, int, int]]) -> None:
    data = ALL[name]
    for fn, i, b in mutations:
        assert callable(fn)
        data = fn(data, i, b)
    check(data)


def test_every_vector_keeps_the_contract() -> None:
    for data in ALL.values():
        check(data)


def _exact_length(data: bytes) -> bool:
    """Announces a Content-Length equal to its body: framable by length alone.
    (Read independently of the parser, to have something to compare the framer with.)"""
    parts = split_head(data)
    if parts is None:
        return False
    head, body = parts
    m = re.findall(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?$", head)
    return len(set(m)) == 1 and int(m[0]) == len(body)


FRAMABLE = [name for name in NAMES if _exact_length(ALL[name])]


def test_framable_vectors_are_most_of_them() -> None:
    assert {"wsinv", "intmeth", "esc01", "longreq", "mpart01", "unreason"} <= set(FRAMABLE)
    assert len(FRAMABLE) >= 35


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(FRAMABLE), min_size=1, max_size=6),
    st.lists(st.integers(1, 400), min_size=1, max_size=40),
    st.booleans(),
)
def test_stream_framer_split_anywhere(names: list[str], cuts: list[int], keepalive: bool) -> None:
    sep = b"\r\n\r\n" if keepalive else b""
    stream = b"".join(sep + ALL[n] for n in names)
    framer = StreamFramer()
    out: list[bytes] = []
    pos = 0
    for size in cuts:
        out += framer.feed(stream[pos : pos + size])
        pos += size
    out += framer.feed(stream[pos:])
    assert out == [ALL[n] for n in names]
    assert StreamFramer().feed(stream) == out
    for wire, name in zip(out, names, strict=True):
        try:
            parsed = parse_message(wire, stream=True)
        except SipParseError as e:
            udp_error = None
            try:
                parse_message(ALL[name])
            except SipParseError as e2:
                udp_error = e2.reason
            assert udp_error == e.reason  # the same verdict as over UDP
        else:
            assert parsed.serialize() == parse_message(ALL[name]).serialize()


@FAST
@given(st.binary(max_size=300))
def test_framer_only_raises_sip_parse_error(data: bytes) -> None:
    framer = StreamFramer()
    try:
        for i in range(0, len(data), 7):
            framer.feed(data[i : i + 7])
    except SipParseError:
        pass


@FAST
@given(st.text(max_size=120))
def test_uri_parsers_only_raise_value_error(text: str) -> None:
    for fn in (parse_uri, parse_name_addr, parse_via):
        try:
            fn(text)
        except ValueError:
            pass


@FAST
@given(st.binary(max_size=600))
def test_sdp_parser_only_raises_sdp_error(data: bytes) -> None:
    try:
        parse_sdp(data)
    except SdpError:
        pass


SDP_LINES = st.sampled_from(
    [
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "c=IN IP4 0.0.0.0",
        "c=IN",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0 8 101",
        "m=audio 4000/2 RTP/AVP 0",
        "m=audio x RTP/AVP 0",
        "m=audio 99999 RTP/AVP 0",
        "m=video 5000 RTP/AVP 96",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=rtpmap:² PCMA/8000",
        "a=ptime:20",
        "a=sendonly",
        "a=inactive",
    ]
)


@FAST
@given(st.lists(st.one_of(SDP_LINES, st.text(max_size=20)), max_size=12))
def test_sdp_shaped_noise(lines: list[str]) -> None:
    try:
        offer = parse_sdp("\r\n".join(lines).encode())
    except SdpError:
        return
    assert 0 <= offer.port <= 65535
    offer.codecs()
    offer.dtmf_pt()
