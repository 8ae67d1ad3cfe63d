"""SDP offers as real phones and test tools write them, hold in its two forms, and what
`build_sdp` writes parsing back."""

from __future__ import annotations

import pytest

from drivers.sip.sdp import AudioOffer, SdpError, build_sdp, parse_sdp, reverse_direction
from firmware.media.codecs import TELEPHONE_EVENT_PT, Codec


def sdp(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


# sipp's stock UAC offer: one codec, no telephone-event, no direction attribute.
SIPP = sdp(
    "v=0",
    "o=user1 53655765 2353687637 IN IP4 127.0.0.1",
    "s=-",
    "c=IN IP4 127.0.0.1",
    "t=0 0",
    "m=audio 6000 RTP/AVP 0",
    "a=rtpmap:0 PCMU/8000",
)

# baresip: wideband codecs first, G.711 further down, DTMF at 101, lots of extra attributes.
BARESIP = sdp(
    "v=0",
    "o=- 1882941334 2843961190 IN IP4 192.0.2.20",
    "s=-",
    "c=IN IP4 192.0.2.20",
    "t=0 0",
    "m=audio 10292 RTP/AVP 96 9 0 8 101",
    "b=AS:128",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 stereo=1;sprop-stereo=1",
    "a=rtpmap:9 G722/8000",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=sendrecv",
    "a=label:1",
    "a=rtcp-rsize",
    "a=ptime:20",
)

# Linphone: telephone-event at three clock rates, a video stream with its own c= and
# direction after the audio, session-level attributes before the first m=.
LINPHONE = sdp(
    "v=0",
    "o=alice 3239 1054 IN IP4 192.0.2.30",
    "s=Talk",
    "c=IN IP4 192.0.2.30",
    "t=0 0",
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics",
    "m=audio 7078 RTP/AVP 96 97 98 0 8 101 99 100",
    "a=rtpmap:96 opus/48000/2",
    "a=fmtp:96 useinbandfec=1",
    "a=rtpmap:97 speex/16000",
    "a=rtpmap:98 speex/8000",
    "a=rtpmap:101 telephone-event/48000",
    "a=rtpmap:99 telephone-event/16000",
    "a=rtpmap:100 telephone-event/8000",
    "a=rtcp:7079",
    "a=rtcp-fb:* trr-int 1000",
    "m=video 9078 RTP/AVP 96",
    "c=IN IP4 192.0.2.99",
    "a=rtpmap:96 VP8/90000",
    "a=sendonly",
)


def test_sipp_offer() -> None:
    offer = parse_sdp(SIPP)
    assert (offer.host, offer.port) == ("127.0.0.1", 6000)
    assert offer.codecs() == [(Codec.PCMU, 0)]
    assert offer.dtmf_pt() is None
    assert offer.direction == "sendrecv" and not offer.on_hold


def test_baresip_offer() -> None:
    offer = parse_sdp(BARESIP)
    assert (offer.host, offer.port) == ("192.0.2.20", 10292)
    assert offer.payload_types == [96, 9, 0, 8, 101]
    assert offer.codecs() == [(Codec.PCMU, 0), (Codec.PCMA, 8)]
    assert offer.dtmf_pt() == 101
    assert offer.ptime == 20
    assert offer.direction == "sendrecv"


def test_linphone_offer() -> None:
    offer = parse_sdp(LINPHONE)
    assert (offer.host, offer.port) == ("192.0.2.30", 7078)  # not the video's c=
    assert offer.codecs() == [(Codec.PCMU, 0), (Codec.PCMA, 8)]
    assert offer.dtmf_pt() == 100  # the 8 kHz one
    assert offer.direction == "sendrecv"  # the video's a=sendonly is not ours
    assert not offer.on_hold


def test_static_payload_types_without_rtpmap() -> None:
    offer = parse_sdp(sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 8 0 18"))
    assert offer.codecs() == [(Codec.PCMA, 8), (Codec.PCMU, 0)]


def test_g711_on_a_dynamic_payload_type() -> None:
    offer = parse_sdp(
        sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 110", "a=rtpmap:110 pcmu/8000")
    )
    assert offer.codecs() == [(Codec.PCMU, 110)]


def test_avpf_profile_is_fine_and_port_count_is_read() -> None:
    offer = parse_sdp(sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000/2 RTP/AVPF 0"))
    assert (offer.port, offer.payload_types) == (4000, [0])


# --- hold and direction -----------------------------------------------------------------------


def test_media_level_sendonly_is_hold() -> None:
    offer = parse_sdp(BARESIP.replace(b"a=sendrecv", b"a=sendonly"))
    assert offer.direction == "sendonly" and offer.on_hold


def test_inactive_is_hold() -> None:
    assert parse_sdp(BARESIP.replace(b"a=sendrecv", b"a=inactive")).on_hold


def test_recvonly_is_not_hold() -> None:
    offer = parse_sdp(BARESIP.replace(b"a=sendrecv", b"a=recvonly"))
    assert offer.direction == "recvonly" and not offer.on_hold


def test_old_style_hold_with_zero_connection_address() -> None:
    """RFC 2543 hold: c=0.0.0.0 and no direction attribute."""
    offer = parse_sdp(SIPP.replace(b"c=IN IP4 127.0.0.1", b"c=IN IP4 0.0.0.0"))
    assert offer.host == "0.0.0.0"
    assert offer.direction == "sendrecv"
    assert offer.on_hold


def test_session_level_direction_applies_to_the_media() -> None:
    offer = parse_sdp(
        sdp("v=0", "c=IN IP4 192.0.2.1", "t=0 0", "a=sendonly", "m=audio 4000 RTP/AVP 0")
    )
    assert offer.direction == "sendonly" and offer.on_hold


def test_media_level_direction_overrides_the_session_level_one() -> None:
    offer = parse_sdp(
        sdp("v=0", "c=IN IP4 192.0.2.1", "a=inactive", "m=audio 4000 RTP/AVP 0", "a=sendrecv")
    )
    assert offer.direction == "sendrecv" and not offer.on_hold


def test_media_level_connection_overrides_the_session_level_one() -> None:
    offer = parse_sdp(
        sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 4000 RTP/AVP 0", "c=IN IP4 198.51.100.9")
    )
    assert offer.host == "198.51.100.9"


def test_media_level_connection_alone() -> None:
    offer = parse_sdp(sdp("v=0", "t=0 0", "m=audio 4000 RTP/AVP 0", "c=IN IP4 198.51.100.9/127"))
    assert offer.host == "198.51.100.9"


def test_attributes_of_a_stream_before_the_audio_are_not_session_level() -> None:
    offer = parse_sdp(
        sdp(
            "v=0",
            "c=IN IP4 192.0.2.1",
            "m=video 5000 RTP/AVP 96",
            "c=IN IP4 192.0.2.77",
            "a=inactive",
            "m=audio 4000 RTP/AVP 0",
        )
    )
    assert (offer.host, offer.direction) == ("192.0.2.1", "sendrecv")


def test_ipv6_connection() -> None:
    offer = parse_sdp(sdp("v=0", "c=IN IP6 2001:db8::5", "m=audio 4000 RTP/AVP 0"))
    assert offer.host == "2001:db8::5"


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (sdp("v=0", "c=IN IP4 192.0.2.1", "m=video 5000 RTP/AVP 96"), "no RTP/AVP audio"),
        (sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 5000 RTP/SAVP 0"), "no RTP/AVP audio"),
        (sdp("v=0", "m=audio 4000 RTP/AVP 0"), "no connection address"),
        (sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio x RTP/AVP 0"), "bad media port"),
        (sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio 70000 RTP/AVP 0"), "bad media port"),
        (sdp("v=0", "c=IN IP4 192.0.2.1", "m=audio ² RTP/AVP 0"), "bad media port"),
        (sdp("v=0", "c=IN", "m=audio 4000 RTP/AVP 0"), "bad connection line"),
        (b"v=0\r\nc=IN IP4 \xff\r\n", "not UTF-8"),
        (b"", "no RTP/AVP audio"),
    ],
)
def test_bad_offers(body: bytes, words: str) -> None:
    with pytest.raises(SdpError, match=words):
        parse_sdp(body)


def test_sdp_error_is_a_value_error() -> None:
    assert issubclass(SdpError, ValueError)


# --- build_sdp ----------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["sendrecv", "sendonly", "recvonly", "inactive"])
def test_build_sdp_parses_back(direction: str) -> None:
    codecs = [(Codec.PCMA, 8), (Codec.PCMU, 0)]
    body = build_sdp("192.0.2.50", 40000, codecs, direction=direction, session_id=77, version=3)
    offer = parse_sdp(body)
    assert (offer.host, offer.port) == ("192.0.2.50", 40000)
    assert offer.codecs() == codecs
    assert offer.dtmf_pt() == TELEPHONE_EVENT_PT
    assert offer.ptime == 20
    assert offer.direction == direction
    text = body.decode()
    assert text.startswith("v=0\r\no=ccbox 77 3 IN IP4 192.0.2.50\r\n")
    assert text.endswith("\r\n")
    assert "a=fmtp:101 0-16\r\n" in text


def test_build_sdp_without_dtmf() -> None:
    offer = parse_sdp(build_sdp("192.0.2.50", 40000, [(Codec.PCMU, 0)], dtmf_pt=None))
    assert offer.payload_types == [0]
    assert offer.dtmf_pt() is None


def test_build_sdp_ipv6() -> None:
    body = build_sdp("2001:db8::7", 40002, [(Codec.PCMU, 0)])
    assert b"c=IN IP6 2001:db8::7\r\n" in body and b" IN IP6 2001:db8::7\r\n" in body
    assert parse_sdp(body).host == "2001:db8::7"


def test_build_sdp_versions_increase() -> None:
    def o_version(body: bytes) -> int:
        origin = body.decode().split("\r\n")[1]  # o=ccbox <session> <version> IN IP4 <host>
        return int(origin.split()[2])

    first = o_version(build_sdp("192.0.2.1", 4000, [(Codec.PCMU, 0)]))
    assert o_version(build_sdp("192.0.2.1", 4000, [(Codec.PCMU, 0)])) == first + 1


def test_answer_to_an_offer_round_trip() -> None:
    offer = parse_sdp(BARESIP.replace(b"a=sendrecv", b"a=sendonly"))
    answer = parse_sdp(
        build_sdp(
            "192.0.2.2",
            20000,
            offer.codecs()[:1],
            dtmf_pt=offer.dtmf_pt(),
            direction=reverse_direction(offer.direction),
        )
    )
    assert answer.codecs() == [(Codec.PCMU, 0)]
    assert answer.dtmf_pt() == 101
    assert answer.direction == "recvonly"


def test_reverse_direction() -> None:
    assert [reverse_direction(d) for d in ("sendrecv", "sendonly", "recvonly", "inactive")] == [
        "sendrecv",
        "recvonly",
        "sendonly",
        "inactive",
    ]
    assert reverse_direction("bogus") == "sendrecv"


def test_audio_offer_defaults() -> None:
    offer = AudioOffer("192.0.2.1", 4000, [0])
    assert (offer.direction, offer.ptime, offer.on_hold) == ("sendrecv", None, False)
    assert AudioOffer("::", 4000, [0]).on_hold
