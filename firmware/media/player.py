"""`PromptPlayer`: plays a list of WAV files into one leg as 20 ms G.711 frames.

The player only needs a `send(payload)` callable and the leg's law, so it serves an RTP
leg (`RtpLeg.send_audio`) and a TDM line (`FrameLeg.write`) alike. Files are 8 kHz mono
16-bit PCM (what `prompt_gen` writes and uploads are converted to); each is encoded once
per law and kept in a small cache, since every caller hears the same welcome prompt.

Pacing: one `loop.call_at` per frame at absolute deadlines (start + n * 20 ms), so
timer lateness never accumulates into drift. If the loop was stalled, the frames that
are already late are dropped rather than sent in a burst (a phone's jitter buffer would
discard a burst anyway and the prompt would sound chopped twice). `stop()` takes effect
before the next frame: barge-in cuts the prompt within 20 ms.
"""

from __future__ import annotations

import asyncio
import logging
import wave
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from firmware.media.codecs import SAMPLES_PER_FRAME, Codec
from firmware.media.g711 import encode

log = logging.getLogger(__name__)

FRAME_SECONDS = 0.02
# Later than this behind the schedule, skip to now instead of catching up.
_MAX_LAG_FRAMES = 3
_CACHE_FILES = 256


class PromptFileError(ValueError):
    """A prompt file is missing or not 8 kHz mono 16-bit PCM WAV."""


_cache: OrderedDict[tuple[str, int, Codec], bytes] = OrderedDict()


def load_encoded(path: Path, codec: Codec) -> bytes:
    """The file's audio in `codec`, padded with silence to whole 20 ms frames."""
    try:
        st = path.stat()
    except OSError as e:
        raise PromptFileError(f"{path}: {e}") from e
    key = (str(path), st.st_mtime_ns, codec)
    hit = _cache.get(key)
    if hit is not None:
        _cache.move_to_end(key)
        return hit
    try:
        with wave.open(str(path), "rb") as w:
            if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (8000, 1, 2):
                raise PromptFileError(
                    f"{path}: must be 8000 Hz mono 16-bit, is {w.getframerate()} Hz "
                    f"{w.getnchannels()} ch {8 * w.getsampwidth()}-bit")
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    except (OSError, wave.Error, EOFError) as e:
        raise PromptFileError(f"{path}: {e}") from e
    pad = -len(pcm) % SAMPLES_PER_FRAME
    if pad:
        pcm = np.concatenate([pcm, np.zeros(pad, dtype=np.int16)])
    data = encode(codec, pcm)
    _cache[key] = data
    if len(_cache) > _CACHE_FILES:
        _cache.popitem(last=False)
    return data


class PromptPlayer:
    def __init__(self, loop: asyncio.AbstractEventLoop, send: Callable[[bytes], None],
                 codec: Codec) -> None:
        self._loop = loop
        self._send = send
        self.codec = codec
        self._files: list[Path | None] = []
        self._data = b""
        self._pos = 0
        self._loop_forever = False
        self._on_done: Callable[[], None] | None = None
        self._timer: asyncio.Handle | None = None
        self._due = 0.0
        self.frames_sent = 0
        self.frames_skipped = 0

    @property
    def playing(self) -> bool:
        return self._timer is not None

    def play(self, files: Sequence[Path | None], on_done: Callable[[], None] | None = None,
             *, repeat: bool = False) -> None:
        """Play `files` in order (None or unreadable entries are skipped with a log line),
        then call `on_done`. `repeat` loops the list until `stop()` (music on hold).
        Replaces whatever was playing, without calling its `on_done`."""
        self.stop()
        self._files = list(files)
        self._loop_forever = repeat
        self._on_done = on_done
        self._data = b""
        self._pos = 0
        self._due = self._loop.time()
        self._timer = self._loop.call_soon(self._tick)

    def stop(self) -> None:
        """Cut playback now; `on_done` is not called."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._files = []
        self._data = b""
        self._on_done = None

    # -----------------------------------------------------------------------------------
    def _next_file(self) -> bool:
        """Load the next playable file into `_data`; False when the list is done."""
        # In repeat mode a file that fails is not put back, so a list of broken files
        # drains and ends instead of spinning.
        while self._files:
            path = self._files.pop(0)
            if path is None:
                continue
            try:
                self._data = load_encoded(path, self.codec)
            except PromptFileError as e:
                log.warning("prompt skipped: %s", e)
                continue
            self._pos = 0
            if self._loop_forever:
                self._files.append(path)
            if self._data:
                return True
        return False

    def _tick(self) -> None:
        self._timer = None
        now = self._loop.time()
        late = int((now - self._due) / FRAME_SECONDS)
        if late > _MAX_LAG_FRAMES:
            # a stalled loop: drop what is already late instead of bursting it out
            skip = late * SAMPLES_PER_FRAME
            self._pos += skip
            self.frames_skipped += late
            self._due += late * FRAME_SECONDS
        if self._pos >= len(self._data) and not self._next_file():
            done, self._on_done = self._on_done, None
            self._files = []
            if done is not None:
                done()
            return
        frame = self._data[self._pos:self._pos + SAMPLES_PER_FRAME]
        self._pos += SAMPLES_PER_FRAME
        self._send(frame)
        self.frames_sent += 1
        self._due += FRAME_SECONDS
        self._timer = self._loop.call_at(self._due, self._tick)
