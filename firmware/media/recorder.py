"""`StereoRecorder`: a call to an 8 kHz 16-bit stereo WAV, caller left, callee right.

The packet path only copies encoded bytes into a per-channel pending buffer placed
on a timeline; `flush()` decodes whole stretches with one table lookup per channel and
appends them, so the cost per packet stays a slice assignment. Times are seconds on
the clock the caller uses for `start` and `arrival` (the engine's `now()`).

Placement: within one stream the RTP timestamp says where a packet goes, so jitter
does not smear the audio. A new SSRC, or a timestamp that disagrees with the arrival
time by more than the jitter allowance (hold, a sender restart, clock drift), puts
the packet where it arrived instead. Stretches with no packets are silence.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np

from firmware.media.codecs import CLOCK_RATE, Codec
from firmware.media.g711 import decode_table, transcode_table

log = logging.getLogger(__name__)

JITTER_ALLOWANCE = 0.2
_ALLOWANCE_SAMPLES = int(JITTER_ALLOWANCE * CLOCK_RATE)
_CHANNELS = 2
_FRAME_BYTES = 2 * _CHANNELS
_HEADER_LEN = 44
# The RIFF size field is 32 bits; stop growing the file before it overflows.
_MAX_DATA_BYTES = 0xFFFFFFFF - _HEADER_LEN


def _wav_header(data_bytes: int) -> bytes:
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack(
            "<IHHIIHH",
            16,
            1,  # PCM
            _CHANNELS,
            CLOCK_RATE,
            CLOCK_RATE * _FRAME_BYTES,
            _FRAME_BYTES,
            16,
        )
        + b"data"
        + struct.pack("<I", data_bytes)
    )


class _Channel:
    __slots__ = ("anchor_pos", "anchor_ts", "codec", "pending", "silence", "ssrc")

    def __init__(self) -> None:
        self.codec: Codec | None = None
        self.silence = b""
        self.ssrc = -1
        self.anchor_ts = 0
        self.anchor_pos = 0
        # Encoded bytes from the file cursor onwards; gaps are the codec's silence code.
        self.pending = bytearray()

    def set_codec(self, codec: Codec) -> None:
        if self.codec is not None and self.pending:
            # A re-INVITE changed the law mid-call: keep one law per pending buffer.
            self.pending = bytearray(self.pending.translate(transcode_table(self.codec, codec)))
        self.codec = codec
        self.silence = bytes([codec.silence_byte])


def _create(path: Path) -> BinaryIO:
    """Open for writing, making the day's directory only when it is missing: a mkdir -p
    before every recording showed in profiles of the call path at high call rates."""
    try:
        # Unbuffered: each flush is one write plus two in-place size updates.
        return open(path, "wb", buffering=0)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "wb", buffering=0)


_opener: ThreadPoolExecutor | None = None
_opener_lock = threading.Lock()


def _file_thread() -> ThreadPoolExecutor:
    """One thread for creating (and, when the call ends first, finishing) files: jobs run
    in order, so a close queued behind its open always finds the file."""
    global _opener
    with _opener_lock:
        if _opener is None:
            _opener = ThreadPoolExecutor(1, thread_name_prefix="rec-files")
        return _opener


def _create_with_header(path: Path) -> BinaryIO:
    f = _create(path)
    try:
        f.write(_wav_header(0))
    except OSError:
        f.close()
        raise
    return f


class StereoRecorder:
    def __init__(self, path: Path, start: float, *, defer_open: bool = False) -> None:
        """`defer_open`: create the file on a thread of its own instead of here. Creating
        a file costs 0.1-0.6 ms on this machine's disk and far more on a busy RAID; the
        call path must not wait for it. Audio is buffered until the file is there."""
        self.path = path
        self.start = start
        self.late_packets = 0
        self.failed: OSError | None = None  # the file could not be created or written
        self._cursor = 0  # samples per channel already in the file
        self._channels = (_Channel(), _Channel())
        self._closed = False
        self._file: BinaryIO | None = None
        self._opening: Future[BinaryIO] | None = None
        if defer_open:
            self._opening = _file_thread().submit(_create_with_header, path)
        else:
            self._file = _create_with_header(path)

    def _ready(self) -> bool:
        """True once the file is open, False while it is being created; raises the
        OSError if creating it failed (as a failed write would)."""
        if self._file is not None:
            return True
        if self.failed is not None:
            raise self.failed
        fut = self._opening
        if fut is None or not fut.done():
            return False
        self._opening = None
        try:
            self._file = fut.result()
        except OSError as e:
            self._fail(e)
            log.error("recording %s could not be finished: %s", self.path, e)
            raise
        return True

    def _fail(self, e: OSError) -> None:
        # The call goes on unrecorded; what is buffered is dropped (nowhere to put it).
        self.failed = e
        for ch in self._channels:
            ch.pending.clear()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def seconds(self) -> float:
        """Audio written to the file so far."""
        return self._cursor / CLOCK_RATE

    def feed(
        self, channel: int, codec: Codec, payload: bytes, rtp_ts: int, ssrc: int, arrival: float
    ) -> None:
        """Queue one packet's G.711 payload for `channel` (0 caller/left, 1 callee/right)."""
        if self._closed or self.failed is not None:
            return
        ch = self._channels[channel]
        if codec is not ch.codec:
            ch.set_codec(codec)
        arrived_at = int((arrival - self.start) * CLOCK_RATE)
        if ssrc != ch.ssrc:
            ch.ssrc = ssrc
            ch.anchor_ts = rtp_ts
            ch.anchor_pos = arrived_at
            pos = arrived_at
        else:
            pos = ch.anchor_pos + (((rtp_ts - ch.anchor_ts + 0x80000000) & 0xFFFFFFFF) - 0x80000000)
            if pos - arrived_at > _ALLOWANCE_SAMPLES or arrived_at - pos > _ALLOWANCE_SAMPLES:
                ch.anchor_ts = rtp_ts
                ch.anchor_pos = arrived_at
                pos = arrived_at
        rel = pos - self._cursor
        if rel < 0:
            if rel + len(payload) <= 0:
                self.late_packets += 1
                return
            payload = payload[-rel:]
            rel = 0
        pending = ch.pending
        have = len(pending)
        if rel == have:
            pending += payload
        elif rel > have:
            pending += ch.silence * (rel - have)
            pending += payload
        else:
            # Reordered or overlapping: overwrite in place (may also extend the end).
            pending[rel : rel + len(payload)] = payload

    def flush(self, now: float) -> None:
        """Write out everything older than the jitter allowance."""
        if not self._closed and self._ready():
            self._write_until(int((now - self.start) * CLOCK_RATE) - _ALLOWANCE_SAMPLES)

    def close(self, now: float) -> float:
        """Write out everything, finish the file; returns the seconds recorded (0 if the
        recording failed)."""
        if self._closed:
            return 0.0 if self.failed else self.seconds
        end = int((now - self.start) * CLOCK_RATE)
        for ch in self._channels:
            end = max(end, self._cursor + len(ch.pending))
        self._closed = True
        try:
            ready = self._ready()
        except OSError:
            return 0.0
        if not ready:
            # Still being created (a very short call, or a slow disk): finish it on the
            # file thread, behind the open. Nothing else touches the buffers any more.
            fut = self._opening
            assert fut is not None and self._file is None
            self._opening = None
            _file_thread().submit(self._finish_later, fut, end)
            return end / CLOCK_RATE
        assert self._file is not None
        try:
            self._write_until(end)
        finally:
            self._file.close()
        return self.seconds

    def _finish_later(self, fut: Future[BinaryIO], end: int) -> None:
        try:
            self._file = fut.result()
            try:
                self._write_until(end)
            finally:
                self._file.close()
        except OSError as e:
            self._fail(e)
            log.error("recording %s could not be finished: %s", self.path, e)

    def _write_until(self, target: int) -> None:
        count = min(target, _MAX_DATA_BYTES // _FRAME_BYTES) - self._cursor
        if count <= 0:
            return
        frames = np.zeros((count, _CHANNELS), dtype="<i2")
        for index, ch in enumerate(self._channels):
            pending = ch.pending
            if not pending or ch.codec is None:
                continue
            take = min(len(pending), count)
            codes = np.frombuffer(pending, dtype=np.uint8, count=take)
            frames[:take, index] = decode_table(ch.codec)[codes]
            del codes  # release the buffer export before resizing the bytearray
            del pending[:take]
        assert self._file is not None
        self._file.write(frames.tobytes())
        self._cursor += count
        self._update_header()

    def _update_header(self) -> None:
        # Sizes follow the data after every flush: a power cut leaves a playable file.
        data_bytes = self._cursor * _FRAME_BYTES
        assert self._file is not None
        fd = self._file.fileno()
        os.pwrite(fd, struct.pack("<I", 36 + data_bytes), 4)
        os.pwrite(fd, struct.pack("<I", data_bytes), 40)
