"""SIP URIs, name-addr values (From/To/Contact/Route) and Via (RFC 3261 section 25)."""

from __future__ import annotations

import pytest

from drivers.sip.uri import (
    NameAddr,
    SipUri,
    Via,
    is_digits,
    parse_host_port,
    parse_name_addr,
    parse_uri,
    parse_via,
    quote_display,
)

# --- SIP URIs ---------------------------------------------------------------------------------


def test_simple_uri() -> None:
    u = parse_uri("sip:alice@atlanta.example.com")
    assert (u.scheme, u.user, u.password, u.host, u.port) == (
        "sip",
        "alice",
        None,
        "atlanta.example.com",
        None,
    )
    assert (u.params, u.headers, u.transport) == ({}, "", "udp")


def test_full_uri() -> None:
    text = (
        "sips:alice:secret@Atlanta.Example.COM:5061;transport=TCP;lr;maddr=239.255.255.1"
        "?subject=project%20x&priority=urgent"
    )
    u = parse_uri(text)
    assert (u.scheme, u.user, u.password) == ("sips", "alice", "secret")
    assert (u.host, u.port) == ("atlanta.example.com", 5061)
    assert u.params == {"transport": "TCP", "lr": None, "maddr": "239.255.255.1"}
    assert u.transport == "tcp"
    assert u.headers == "subject=project%20x&priority=urgent"


def test_scheme_is_case_insensitive() -> None:
    assert parse_uri("SIP:bob@example.com").scheme == "sip"


def test_host_only_uris() -> None:
    assert (parse_uri("sip:example.com").user, parse_uri("sip:example.com").host) == (
        None,
        "example.com",
    )
    assert parse_uri("sip:192.0.2.4:5080").port == 5080


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("sip:[2001:db8::10]", "[2001:db8::10]", None),
        ("sip:alice@[2001:db8::10]:5070;transport=udp", "[2001:db8::10]", 5070),
        ("sip:[::1]:5060", "[::1]", 5060),
        ("sip:bob@[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]", None),
        ("sip:[2001:DB8::A]", "[2001:db8::a]", None),
    ],
)
def test_ipv6_references(text: str, host: str, port: int | None) -> None:
    u = parse_uri(text)
    assert (u.host, u.port) == (host, port)


@pytest.mark.parametrize(
    "text",
    [
        "sip:[2001:db8::1",  # unterminated
        "sip:[2001:db8::zz]",  # not hex
        "sip:[::1]5060",  # junk after ]
        "sip:2001:db8::1",  # IPv6 without brackets
    ],
)
def test_bad_ipv6_references(text: str) -> None:
    with pytest.raises(ValueError):
        parse_uri(text)


def test_escaped_users() -> None:
    assert parse_uri("sip:%61lice@example.com").user_unescaped == "alice"
    assert parse_uri("sip:+1%20212%20555@example.com").user_unescaped == "+1 212 555"
    assert parse_uri("sip:null-%00-null@example.com").user_unescaped == "null-\x00-null"
    # kept escaped in `user`, so the URI re-serialises as received
    assert str(parse_uri("sip:%61lice@example.com")) == "sip:%61lice@example.com"


def test_user_part_may_hold_question_marks_and_semicolons() -> None:
    u = parse_uri("sip:a?b;c=d/e,f@example.com;lr?h=v")
    assert (u.user, u.host, u.headers) == ("a?b;c=d/e,f", "example.com", "h=v")
    assert u.params == {"lr": None}


def test_telephone_subscriber_user() -> None:
    u = parse_uri("sip:+1-212-555-1212:1234@gateway.com;user=phone")
    assert (u.user, u.password, u.params) == ("+1-212-555-1212", "1234", {"user": "phone"})


@pytest.mark.parametrize(
    "text",
    [
        "sip:",
        "sip:alice@",
        "sip:@example.com",
        "sip:alice@example.com:99999",
        "sip:alice@example.com:0",
        "sip:alice@example.com:",
        "sip:alice@example.com:abc",
        "sip:alice@example.com:²",
        "sip:alice@exa mple.com",
        "sip:alice@example.com; lr",
        "sip:alice@exa_mple.com",
        "http://example.com",
        "tel:+123",
        "alice@example.com",
        "",
    ],
)
def test_bad_uris(text: str) -> None:
    with pytest.raises(ValueError):
        parse_uri(text)


@pytest.mark.parametrize(
    "text",
    [
        "sip:alice@example.com",
        "sips:alice:pw@example.com:5061;transport=tls;lr",
        "sip:[2001:db8::1]:5060;maddr=x",
        "sip:bob@example.com?subject=hi",
    ],
)
def test_uri_str_round_trip(text: str) -> None:
    assert str(parse_uri(text)) == text


def test_sip_uri_built_by_hand() -> None:
    u = SipUri("sip", "bob", None, "example.com", 5062, {"transport": "tcp"})
    assert str(u) == "sip:bob@example.com:5062;transport=tcp"


def test_host_port_and_digits() -> None:
    assert parse_host_port("Example.com:5060") == ("example.com", 5060)
    assert parse_host_port("[::1]") == ("[::1]", None)
    assert is_digits("5060")
    assert not is_digits("²") and not is_digits("") and not is_digits("1" * 11)


# --- name-addr ------------------------------------------------------------------------------


def test_quoted_display_name_with_escapes() -> None:
    na = parse_name_addr(r'"Alice \"Al\" Smith \\ Co" <sip:alice@example.com>;tag=88')
    assert na.display == 'Alice "Al" Smith \\ Co'
    assert (na.sip_uri.user, na.tag) == ("alice", "88")


def test_quoted_display_name_with_angle_brackets_and_commas() -> None:
    na = parse_name_addr('"Watson, Thomas <boss>" <sip:t.watson@example.org>')
    assert na.display == "Watson, Thomas <boss>"
    assert na.sip_uri.host == "example.org"


def test_unquoted_display_names() -> None:
    assert parse_name_addr("Alice  Smith <sip:a@example.com>").display == "Alice Smith"
    assert parse_name_addr("caller<sip:c@example.com>").display == "caller"
    assert parse_name_addr("A. Bell <sip:a@example.com>").display == "A. Bell"
    # liberal: non-ASCII letters, as legacy phones send them unquoted
    assert parse_name_addr("Müller <sip:m@example.com>").display == "Müller"
    assert parse_name_addr("<sip:a@example.com>").display == ""


@pytest.mark.parametrize(
    "text",
    [
        "Bell, Alexander <sip:a.g.bell@example.com>",
        "Bob@Home <sip:b@example.com>",
        'Mr "X" <sip:x@example.com>',
        "a:b <sip:x@example.com>",
    ],
)
def test_unquoted_display_names_with_separators_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="display name"):
        parse_name_addr(text)


def test_addr_spec_parameters_belong_to_the_header() -> None:
    na = parse_name_addr("sip:alice@example.com;tag=1928;transport=tcp")
    assert na.params == {"tag": "1928", "transport": "tcp"}
    assert na.sip_uri.params == {}
    assert na.display == ""


def test_name_addr_uri_and_header_parameters() -> None:
    na = parse_name_addr("<sip:a@example.com;transport=tcp>;tag=9;expires=60;q=0.5")
    assert na.sip_uri.params == {"transport": "tcp"}
    assert na.params == {"tag": "9", "expires": "60", "q": "0.5"}


def test_quoted_parameter_value_may_hold_separators() -> None:
    na = parse_name_addr('<sip:a@192.0.2.1>;+sip.instance="<urn:uuid:1;2,3>";reg-id=1')
    assert na.params == {"+sip.instance": '"<urn:uuid:1;2,3>"', "reg-id": "1"}


def test_tel_uris_in_to_and_from() -> None:
    to = parse_name_addr("<tel:+12015550123;phone-context=example.com>")
    assert to.uri == "tel:+12015550123;phone-context=example.com"
    assert to.params == {}
    frm = parse_name_addr('"Reception" <tel:+12015550100>;tag=abc')
    assert (frm.display, frm.uri, frm.tag) == ("Reception", "tel:+12015550100", "abc")
    bare = parse_name_addr("tel:+12015550123;tag=x1")
    assert (bare.uri, bare.tag) == ("tel:+12015550123", "x1")
    with pytest.raises(ValueError, match="not a SIP URI"):
        _ = frm.sip_uri


def test_other_schemes_are_kept_as_text() -> None:
    assert parse_name_addr("<urn:service:sos>").uri == "urn:service:sos"
    assert parse_name_addr("<http://www.example.com>;tag=3").uri == "http://www.example.com"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('"Mr. J. User <sip:j.user@example.com>', "unterminated quoted"),
        ("<sip:a@example.com", "unterminated <URI>"),
        ("<sip:a@example.com> junk", "unexpected text"),
        ('"A" sip:a@example.com', "followed by <URI>"),
        ("< sip:a@example.com >", "whitespace"),
        ("<sip:a@example.com>;;tag=1", "empty parameter"),
        ("<sip:a@example.com>;a b=1", "parameter name"),
        ("sip:a@example.com;;tag=1", "empty parameter"),
        ("sip:a@example.com?Route=%3Csip:x%3E", "enclosed in <>"),
        ("sip:a@example.com,b", "enclosed in <>"),
        ("<tel:+1 555>", "whitespace"),
        ("<nonsense>", "not a URI"),
        ("", "empty"),
    ],
)
def test_bad_name_addrs(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_name_addr(text)


def test_single_trailing_semicolon_is_tolerated() -> None:
    assert parse_name_addr("<sip:a@example.com>;").params == {}


def test_tag_absent() -> None:
    assert parse_name_addr("sip:a@example.com").tag is None


@pytest.mark.parametrize(
    "display",
    ["plain", 'say "hi"', "back\\slash", "ctl\x07\x00\x7f", "Müller", "tab\there"],
)
def test_display_name_str_round_trip(display: str) -> None:
    na = NameAddr(parse_uri("sip:a@example.com"), display, {"tag": "1"})
    again = parse_name_addr(str(na))
    assert (again.display, again.tag, str(again.uri)) == (display, "1", "sip:a@example.com")


def test_display_name_line_breaks_are_dropped() -> None:
    assert quote_display("a\r\nb") == '"ab"'
    assert str(NameAddr("tel:+1", "x\ny")) == '"xy" <tel:+1>'


# --- Via --------------------------------------------------------------------------------------


def test_via_basic() -> None:
    v = parse_via("SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds")
    assert (v.transport, v.host, v.port, v.branch) == (
        "UDP",
        "pc33.atlanta.example.com",
        None,
        "z9hG4bK776asdhds",
    )


def test_via_parameters() -> None:
    v = parse_via(
        "SIP/2.0/tcp 192.0.2.1:5070;branch=z9hG4bKx;received=198.51.100.7;rport;ttl=16"
        ";maddr=224.2.0.1"
    )
    assert (v.transport, v.port) == ("TCP", 5070)
    assert v.params == {
        "branch": "z9hG4bKx",
        "received": "198.51.100.7",
        "rport": None,
        "ttl": "16",
        "maddr": "224.2.0.1",
    }


def test_via_ipv6() -> None:
    v = parse_via("SIP/2.0/UDP [2001:db8::9]:5062;branch=z9hG4bK1;received=2001:db8::9")
    assert (v.host, v.port, v.params["received"]) == ("[2001:db8::9]", 5062, "2001:db8::9")


def test_via_with_lws_everywhere() -> None:
    v = parse_via("SIP  /   2.0 / UDP    192.0.2.2  :  5060  ; branch  =   z9hG4bK9  ; rport")
    assert (v.transport, v.host, v.port) == ("UDP", "192.0.2.2", 5060)
    assert v.params == {"branch": "z9hG4bK9", "rport": None}


def test_via_str() -> None:
    assert str(Via("tls", "example.com", 5061, {"branch": "z9hG4bKa", "rport": None})) == (
        "SIP/2.0/TLS example.com:5061;branch=z9hG4bKa;rport"
    )
    text = "SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=192.0.2.9"
    assert str(parse_via(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "SIP/2.0 host",  # no transport
        "SIP/7.0/UDP host",  # unknown version
        "SIP/2.0/UDP",  # no host
        "SIP/2.0/UDP host;;branch=1",
        "SIP/2.0/UDP host:port",
        "SIP/2.0/UDP host:70000",
        "SIP/2.0/UDP [::1",
        "HTTP/1.1/TCP host",
        ";",
        "",
    ],
)
def test_bad_vias(text: str) -> None:
    with pytest.raises(ValueError):
        parse_via(text)
