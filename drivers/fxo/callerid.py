"""Caller ID on an analog line, in the formats Chinese exchanges send.

- DTMF before the first ring: `A<number>C` is the common form (also `D<number>C`, `#`
  as terminator, `D1#`/`D2#`/`D3#` and `B00C`/`B10C` for a number that is withheld or
  unavailable; ETSI EN 300 659-1 annex B).
- FSK between the first and second ring: Bell 202 (Telcordia GR-30, what YDN 069 follows)
  or V.23 (ETSI), as SDMF (type 0x04) or MDMF (type 0x80) messages.

spandsp's ADSI receivers demodulate (and check the FSK checksum); the message parsing
here is ours, so it is tested on bytes made without spandsp as well.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from firmware.media import spandsp

Pcm = npt.NDArray[np.int16]

AVAILABLE = "available"
WITHHELD = "withheld"  # the caller restricted presentation (P, D1, B10)
UNAVAILABLE = "unavailable"  # out of area, international, technical (O, D2, D3, B00)

# MDMF / CLIP parameter types (GR-30, EN 300 659-3)
_DATETIME = 0x01
_NUMBER = 0x02
_NUMBER_ABSENT = 0x04
_NAME = 0x07
_NAME_ABSENT = 0x08
SDMF = 0x04
MDMF = 0x80


@dataclass(frozen=True)
class CallerId:
    number: str  # "" when not presented
    presentation: str = AVAILABLE
    name: str = ""
    when: str = ""  # MMDDHHMM as the exchange sent it
    format: str = ""  # "dtmf" or "fsk" (Bell 202 and V.23 receivers decode each other)


def _absence(code: str) -> str:
    return WITHHELD if code.upper().startswith("P") else UNAVAILABLE


def _text(raw: bytes) -> str:
    # Names may be GBK on Chinese exchanges; numbers are ASCII digits.
    for enc in ("ascii", "gbk"):
        try:
            return raw.decode(enc).strip()
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1").strip()


def parse_fsk(msg: bytes, fmt: str = "") -> CallerId | None:
    """A checked FSK message (type, length, body; no checksum) -> CallerId, or None when
    it is not a caller-ID message."""
    if len(msg) < 2:
        return None
    kind, length = msg[0], msg[1]
    body = msg[2 : 2 + length]
    if kind == SDMF:
        when, rest = _text(body[:8]), _text(body[8:])
        if rest in ("O", "P"):
            return CallerId("", _absence(rest), when=when, format=fmt)
        digits = "".join(c for c in rest if c.isdigit())
        return CallerId(digits, AVAILABLE if digits else UNAVAILABLE, when=when, format=fmt)
    if kind != MDMF:
        return None
    number, name, when = "", "", ""
    presentation = UNAVAILABLE
    pos = 0
    while pos + 2 <= len(body):
        ptype, plen = body[pos], body[pos + 1]
        value = body[pos + 2 : pos + 2 + plen]
        if len(value) < plen:
            return None  # truncated: the checksum passed by luck
        pos += 2 + plen
        if ptype == _DATETIME:
            when = _text(value)
        elif ptype == _NUMBER:
            number = "".join(c for c in _text(value) if c.isdigit())
            presentation = AVAILABLE if number else UNAVAILABLE
        elif ptype == _NUMBER_ABSENT and not number:
            presentation = _absence(_text(value))
        elif ptype == _NAME:
            name = _text(value)
        elif ptype == _NAME_ABSENT:
            pass
    return CallerId(number, presentation, name=name, when=when, format=fmt)


def parse_dtmf(msg: str) -> CallerId | None:
    """A DTMF caller-ID string (with or without its C/# terminator) -> CallerId."""
    s = msg.strip().upper().rstrip("C#")
    if not s:
        return None
    if s[0].isdigit():  # no start marker (Danish/Dutch variant)
        return CallerId(s, format="dtmf") if s.isdigit() else None
    start, rest = s[0], s[1:]
    if start == "D" and rest in ("1", "2", "3"):
        return CallerId("", WITHHELD if rest == "1" else UNAVAILABLE, format="dtmf")
    if start == "B":
        return CallerId("", WITHHELD if rest[:2] == "10" else UNAVAILABLE, format="dtmf")
    if start not in "AD":
        return None
    # the number runs to the next field marker (D redirecting, B information)
    number = ""
    for c in rest:
        if not c.isdigit():
            break
        number += c
    if not number:
        return None
    return CallerId(number, format="dtmf")


_STANDARDS = (
    (spandsp.ADSI_STANDARD_CLASS, "bell202"),
    (spandsp.ADSI_STANDARD_CLIP, "v23"),
    (spandsp.ADSI_STANDARD_CLIP_DTMF, "dtmf"),
)
# Each FSK demodulator also decodes the other's signal, so the result says "fsk".
_LABEL = {"bell202": "fsk", "v23": "fsk", "dtmf": "dtmf"}


class CallerIdReceiver:
    """Listens for every format at once (a line's format is seldom documented): feed
    8 kHz linear PCM, get the caller IDs decoded so far."""

    def __init__(self, formats: Iterable[str] = ("bell202", "v23", "dtmf")) -> None:
        self._lib = spandsp.load()
        wanted = set(formats)
        self._found: list[CallerId] = []
        self._states: list[tuple[int, object]] = []
        for standard, fmt in _STANDARDS:
            if fmt not in wanted:
                continue
            cb = spandsp.PUT_MSG(self._make_cb(fmt))
            state = self._lib.adsi_rx_init(None, standard, ctypes.cast(cb, ctypes.c_void_p),
                                           None)
            if not state:
                raise MemoryError("adsi_rx_init")
            self._states.append((state, cb))  # the callback object must outlive the state

    def _make_cb(self, fmt: str) -> Callable[[object, Any, int], None]:
        def put_msg(_user: object, msg: Any, length: int) -> None:
            if length <= 0:
                return
            raw = ctypes.string_at(msg, length)
            cid = (parse_dtmf(raw.decode("ascii", "replace")) if fmt == "dtmf"
                   else parse_fsk(raw, _LABEL[fmt]))
            if cid is not None:
                self._found.append(cid)
        return put_msg

    def feed(self, pcm: Pcm) -> list[CallerId]:
        if not self._states:
            return []
        buf = np.ascontiguousarray(pcm, dtype=np.int16)
        ptr = buf.ctypes.data_as(ctypes.POINTER(ctypes.c_int16))
        for state, _cb in self._states:
            self._lib.adsi_rx(state, ptr, len(buf))
        found, self._found = self._found, []
        return found

    def close(self) -> None:
        for state, _cb in self._states:
            self._lib.adsi_rx_free(state)
        self._states = []

    def __del__(self) -> None:
        self.close()


class CallerIdSender:
    """The exchange's side (simulated central office): a caller-ID message as PCM."""

    def __init__(self, fmt: str) -> None:
        standards = {f: s for s, f in _STANDARDS}
        if fmt not in standards:
            raise ValueError(f"unknown caller-ID format {fmt!r} (dtmf, bell202, v23)")
        self.format = fmt
        self._lib = spandsp.load()
        self._state = self._lib.adsi_tx_init(None, standards[fmt])
        if not self._state:
            raise MemoryError("adsi_tx_init")

    def render(self, message: bytes) -> Pcm:
        buf = (ctypes.c_uint8 * len(message)).from_buffer_copy(message)
        if self._lib.adsi_tx_put_message(self._state, buf, len(message)) <= 0:
            raise ValueError("spandsp refused the caller-ID message")
        chunks = []
        while True:
            out = np.zeros(1600, dtype=np.int16)
            n = self._lib.adsi_tx(self._state, out.ctypes.data_as(
                ctypes.POINTER(ctypes.c_int16)), len(out))
            if n <= 0:
                break
            chunks.append(out[:n])
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    def close(self) -> None:
        if self._state:
            self._lib.adsi_tx_free(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()


def mdmf(number: str, when: str = "", name: str = "", withheld: bool = False) -> bytes:
    """An MDMF caller-ID message (type, length, parameters; the sender adds the checksum)."""
    params = bytearray()
    if when:
        params += bytes([_DATETIME, len(when)]) + when.encode()
    if number:
        params += bytes([_NUMBER, len(number)]) + number.encode()
    else:
        params += bytes([_NUMBER_ABSENT, 1]) + (b"P" if withheld else b"O")
    if name:
        raw = name.encode("gbk")
        params += bytes([_NAME, len(raw)]) + raw
    return bytes([MDMF, len(params)]) + bytes(params)


def sdmf(number: str, when: str = "01010000", withheld: bool = False) -> bytes:
    body = when.encode() + (number.encode() if number else (b"P" if withheld else b"O"))
    return bytes([SDMF, len(body)]) + body


def dtmf_message(number: str, withheld: bool = False) -> str:
    """The DTMF caller-ID string a Chinese exchange sends: A<number>C."""
    return f"A{number}C" if number else ("D1#" if withheld else "D3#")
