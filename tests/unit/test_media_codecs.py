from firmware.media.codecs import (
    TELEPHONE_EVENT_PT,
    Codec,
    codec_by_name,
    codec_by_payload_type,
)


def test_codec_attributes() -> None:
    assert Codec.PCMU.payload_type == 0
    assert Codec.PCMA.payload_type == 8
    assert Codec.PCMU.encoding == "PCMU"
    assert Codec.PCMA.encoding == "PCMA"
    assert Codec.PCMU.silence_byte == 0xFF
    assert Codec.PCMA.silence_byte == 0xD5
    assert Codec.PCMU.clock_rate == Codec.PCMA.clock_rate == 8000
    assert TELEPHONE_EVENT_PT == 101


def test_codec_by_name_is_case_insensitive() -> None:
    assert codec_by_name("PCMU") is Codec.PCMU
    assert codec_by_name("pcma") is Codec.PCMA
    assert codec_by_name(" Pcmu ") is Codec.PCMU
    assert codec_by_name("G729") is None
    assert codec_by_name("") is None


def test_codec_by_payload_type() -> None:
    assert codec_by_payload_type(0) is Codec.PCMU
    assert codec_by_payload_type(8) is Codec.PCMA
    assert codec_by_payload_type(18) is None
