"""The codecs the media core speaks: G.711 only, as on every PSTN-facing box."""

from __future__ import annotations

from enum import Enum

# RFC 4733 telephone-event has no static payload type; 101 is what nearly every phone
# and trunk offers, so it is our default in offers and our guess when an answer omits it.
TELEPHONE_EVENT_PT = 101

CLOCK_RATE = 8000
# 20 ms of 8 kHz G.711: one byte per sample.
SAMPLES_PER_FRAME = 160


class Codec(Enum):
    """A G.711 variant, with its RTP static payload type, SDP name and silence code."""

    payload_type: int
    encoding: str
    silence_byte: int

    PCMU = (0, "PCMU", 0xFF)
    PCMA = (8, "PCMA", 0xD5)

    def __init__(self, payload_type: int, encoding: str, silence_byte: int) -> None:
        self.payload_type = payload_type
        self.encoding = encoding
        self.silence_byte = silence_byte

    @property
    def clock_rate(self) -> int:
        return CLOCK_RATE


def codec_by_name(name: str) -> Codec | None:
    """The codec for an SDP encoding name (`PCMU`, `pcma`…), or None if we lack it."""
    upper = name.strip().upper()
    for codec in Codec:
        if codec.encoding == upper:
            return codec
    return None


def codec_by_payload_type(payload_type: int) -> Codec | None:
    """The codec owning a static payload type (an SDP answer may omit its rtpmap)."""
    for codec in Codec:
        if codec.payload_type == payload_type:
            return codec
    return None
