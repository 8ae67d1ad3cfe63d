"""SDP (RFC 4566) for the one thing the box negotiates: an audio stream of G.711 plus
RFC 4733 telephone-events, and its direction (hold is a direction, RFC 3264 8.4)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from firmware.media.codecs import TELEPHONE_EVENT_PT, Codec, codec_by_name

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_REVERSE = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly",
            "inactive": "inactive"}


class SdpError(ValueError):
    pass


@dataclass
class AudioOffer:
    host: str
    port: int
    payload_types: list[int]  # in order of preference
    rtpmap: dict[int, str] = field(default_factory=dict)  # pt -> "PCMU/8000"
    direction: str = "sendrecv"
    ptime: int | None = None

    def codecs(self) -> list[tuple[Codec, int]]:
        """The G.711 codecs offered, in order, with their payload type numbers."""
        out: list[tuple[Codec, int]] = []
        for pt in self.payload_types:
            name = self.rtpmap.get(pt)
            if name is not None:
                c = codec_by_name(name.split("/")[0])
            else:
                c = next((c for c in Codec if c.payload_type == pt), None)
            if c is not None:
                out.append((c, pt))
        return out

    def dtmf_pt(self) -> int | None:
        for pt in self.payload_types:
            if self.rtpmap.get(pt, "").lower().startswith("telephone-event/8000"):
                return pt
        return None

    @property
    def on_hold(self) -> bool:
        """The remote put us on hold (it will not receive audio from us)."""
        return self.direction in ("sendonly", "inactive") or self.host in ("0.0.0.0", "::")


def parse_sdp(body: bytes) -> AudioOffer:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SdpError("SDP is not UTF-8") from None
    session_host: str | None = None
    session_dir = "sendrecv"
    media_host: str | None = None
    audio: AudioOffer | None = None
    in_session = True  # before the first m= line: session-level c= and a= lines
    in_audio = False
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            parts = value.split()
            in_session = in_audio = False
            if audio is None and len(parts) >= 4 and parts[0] == "audio":
                port_s = parts[1].split("/")[0]  # "49170/2": a port and a count
                if not _is_number(port_s) or int(port_s) > 65535:
                    raise SdpError(f"bad media port {parts[1][:20]!r}")
                if "RTP/AVP" not in parts[2].upper():
                    continue
                pts = [int(p) for p in parts[3:] if _is_number(p) and int(p) < 128]
                audio = AudioOffer("", int(port_s), pts, direction=session_dir)
                in_audio = True
        elif kind == "c":
            parts = value.split()
            if len(parts) < 3:
                raise SdpError(f"bad connection line {value[:60]!r}")
            host = parts[2].split("/")[0]
            if in_audio:
                media_host = host
            elif in_session:
                session_host = host
        elif kind == "a":
            name, _, arg = value.partition(":")
            if name in DIRECTIONS:
                if in_session:
                    session_dir = name
                elif in_audio and audio is not None:
                    audio.direction = name
            elif name == "rtpmap" and in_audio and audio is not None:
                pt_s, _, enc = arg.strip().partition(" ")
                if _is_number(pt_s):
                    audio.rtpmap[int(pt_s)] = enc.strip()
            elif name == "ptime" and in_audio and audio is not None and _is_number(arg.strip()):
                audio.ptime = int(arg.strip())
    if audio is None:
        raise SdpError("no RTP/AVP audio stream in SDP")
    conn_host = media_host or session_host
    if not conn_host:
        raise SdpError("no connection address in SDP")
    audio.host = conn_host
    return audio


def _is_number(s: str) -> bool:
    # ASCII digits only: str.isdigit() accepts "²", which int() then rejects
    return 0 < len(s) <= 9 and s.isascii() and s.isdigit()


def reverse_direction(direction: str) -> str:
    return _REVERSE.get(direction, "sendrecv")


_session_version = int(time.time())


def build_sdp(
    host: str,
    port: int,
    codecs: list[tuple[Codec, int]],
    dtmf_pt: int | None = TELEPHONE_EVENT_PT,
    direction: str = "sendrecv",
    session_id: int = 0,
    version: int | None = None,
) -> bytes:
    global _session_version
    if version is None:
        _session_version += 1
        version = _session_version
    pts = [pt for _, pt in codecs] + ([dtmf_pt] if dtmf_pt is not None else [])
    family = "IP6" if ":" in host else "IP4"
    lines = [
        "v=0",
        f"o=ccbox {session_id or version} {version} IN {family} {host}",
        "s=ccbox",
        f"c=IN {family} {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(map(str, pts))}",
    ]
    for codec, pt in codecs:
        lines.append(f"a=rtpmap:{pt} {codec.encoding}/8000")
    if dtmf_pt is not None:
        lines.append(f"a=rtpmap:{dtmf_pt} telephone-event/8000")
        lines.append(f"a=fmtp:{dtmf_pt} 0-16")
    lines.append("a=ptime:20")
    lines.append(f"a={direction}")
    return ("\r\n".join(lines) + "\r\n").encode()
