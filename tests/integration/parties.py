"""The audio side of a sipp phone in call-feature tests.

sipp does the SIP (tests/sipp/party_*.xml put `rtp_sink_port` in their SDP); a `Voice`
owns that port: it speaks a tone of its own frequency every 20 ms (A-law) to the box
once it knows the box's RTP port, keeps every packet the box sends with its arrival
time, and presses keys by RFC 4733. Tests then ask which tones a party heard in a
stretch of time: each party has its own frequency, so "the caller must not hear the
whisper" is "no energy at the supervisor's frequency in what the caller received".
"""

from __future__ import annotations

import queue
import socket
import struct
import threading
import time
from types import TracebackType
from typing import Any

import numpy as np

from firmware.media import g711
from firmware.media.codecs import Codec
from tests.integration.box import Box, active_calls
from tests.peers.ports import free_block

PCMA = 8
EVENT_PT = 101
_DIGITS = {d: i for i, d in enumerate("0123456789*#")}


def call_channels(box: Box) -> list[dict[str, Any]]:
    """Every leg of every active call, as `status` shows them (peer, rtp_port, tags)."""
    out = []
    for call in active_calls(box.status()):
        for ch in call.get("channels", []):
            out.append({**ch, "call": call["id"]})
    return out


def wait_channel(box: Box, peer: str, timeout: float = 10.0, state: str = "up",
                 exclude: tuple[int, ...] = ()) -> dict[str, Any]:
    """The newest active leg of `peer` in `state`, waiting for it to appear."""
    deadline = time.monotonic() + timeout
    while True:
        legs = [c for c in call_channels(box) if c["peer"] == peer and c["state"] == state
                and c.get("rtp_port") and c["rtp_port"] not in exclude]
        if legs:
            return legs[-1]
        if time.monotonic() > deadline:
            raise AssertionError(f"no {state} leg of {peer}: {call_channels(box)}")
        time.sleep(0.1)


class Voice:
    def __init__(self, freq: float, level: float = 4000.0) -> None:
        self.freq = freq
        self.level = level
        self.port = free_block(2, align=2)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.settimeout(0.01)
        self.heard: list[tuple[float, int, bytes]] = []  # (arrival, pt, payload)
        self.target: tuple[str, int] | None = None
        self.speaking = True
        self.answered = 0.0  # set by a test: when its call was answered (monotonic)
        self._keys: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"voice{freq}")
        self._seq = 0
        self._ts = 0
        self._ssrc = int(freq) * 7919 & 0xFFFFFFFF

    def __enter__(self) -> Voice:
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def talk_to(self, box: Box, peer: str, timeout: float = 10.0,
                exclude: tuple[int, ...] = ()) -> dict[str, Any]:
        """Find our leg on the box (by extension) and start speaking to its RTP port."""
        leg = wait_channel(box, peer, timeout, exclude=exclude)
        self.target = ("127.0.0.1", int(leg["rtp_port"]))
        return leg

    def press(self, digits: str) -> None:
        for d in digits:
            self._keys.put(d)

    # -- the 20 ms loop ------------------------------------------------------------------
    def _packet(self, pt: int, payload: bytes, marker: bool = False,
                ts: int | None = None) -> bytes:
        header = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, self._seq,
                             self._ts if ts is None else ts, self._ssrc)
        self._seq = (self._seq + 1) & 0xFFFF
        return header + payload

    def _run(self) -> None:
        due = time.monotonic()
        n = 0
        while not self._stop.is_set():
            due += 0.02
            self._drain(due)
            if self.target is None:
                continue
            try:
                digit = self._keys.get_nowait()
            except queue.Empty:
                digit = None
            if digit is not None:
                self._send_digit(digit)
                due = time.monotonic()
                continue
            t = (np.arange(160) + n * 160) / 8000
            pcm = (self.level * np.sin(2 * np.pi * self.freq * t)).astype(np.int16)
            if not self.speaking:
                pcm[:] = 0
            self._send(self._packet(PCMA, g711.encode(Codec.PCMA, pcm)))
            self._ts = (self._ts + 160) & 0xFFFFFFFF
            n += 1

    def _send_digit(self, digit: str) -> None:
        event = _DIGITS[digit]
        start = self._ts
        for i in range(1, 6):  # 100 ms of key press, the last three packets with E set
            end = i >= 4
            body = struct.pack("!BBH", event, (0x80 if end else 0) | 10, 160 * min(i, 4))
            self._send(self._packet(EVENT_PT, body, marker=i == 1, ts=start))
            self._drain(time.monotonic() + 0.02)
        self._ts = (start + 160 * 5) & 0xFFFFFFFF
        self._drain(time.monotonic() + 0.1)  # a gap between keys

    def _send(self, packet: bytes) -> None:
        if self.target is not None:
            try:
                self.sock.sendto(packet, self.target)
            except OSError:
                pass

    def _drain(self, until: float) -> None:
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(2048)
            except TimeoutError:
                return
            except OSError:
                return
            if len(data) > 12:
                with self._lock:
                    self.heard.append((time.monotonic(), data[1] & 0x7F, data[12:]))

    # -- what was heard ------------------------------------------------------------------
    def audio(self, since: float, until: float | None = None) -> np.ndarray:
        with self._lock:
            chunks = [p for t, pt, p in self.heard
                      if pt == PCMA and t >= since and (until is None or t < until)]
        if not chunks:
            return np.zeros(0)
        return g711.decode(Codec.PCMA, b"".join(chunks)).astype(np.float64)

    def hears(self, freq: float, since: float, until: float | None = None) -> float:
        """Amplitude of `freq` in what the box sent us between `since` and `until`."""
        pcm = self.audio(since, until)
        if len(pcm) < 800:
            return 0.0
        t = np.arange(len(pcm)) / 8000
        return float(2 * abs(np.sum(pcm * np.exp(-2j * np.pi * freq * t))) / len(pcm))

    def rms(self, since: float, until: float | None = None) -> float:
        pcm = self.audio(since, until)
        return float(np.sqrt(np.mean(pcm**2))) if len(pcm) else 0.0

    def packets(self, since: float, until: float | None = None) -> int:
        with self._lock:
            return sum(1 for t, pt, _ in self.heard
                       if pt == PCMA and t >= since and (until is None or t < until))
