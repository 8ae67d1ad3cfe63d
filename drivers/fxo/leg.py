"""`FxoLeg`: the media of one FXO port, for the life of the port (not of one call).

It reads the line all the time, because caller ID arrives before the answer and tones
end calls: every frame read goes (echo-cancelled) to `on_audio`, the line's state
machine, then to DTMF detection and the bridge as on any `FrameLeg`.
Writes are paced by the line: what the bridge sends is queued and one frame goes out
per frame read, so the echo canceller knows exactly what was sent when.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from drivers.fxo.echo import EchoCanceller
from firmware.media import g711
from firmware.media.codecs import Codec
from firmware.media.frame_leg import FrameLeg

log = logging.getLogger(__name__)

# Frames queued towards the line at most (latency bound when the phone sends faster
# than the line's clock); the oldest go first.
MAX_QUEUED = 6
_ZERO = np.zeros(160, dtype=np.int16)


class FxoLeg(FrameLeg):
    def __init__(self, fd: int, codec: Codec = Codec.PCMA, *, name: str = "",
                 echo_cancel: bool = True) -> None:
        super().__init__(fd, codec, owns_fd=False, name=name, dtmf=True)
        self.on_audio: Callable[[npt.NDArray[np.int16]], None] | None = None
        self._queue: deque[bytes] = deque()
        self.echo: EchoCanceller | None = None
        if echo_cancel:
            try:
                self.echo = EchoCanceller()
            except OSError as e:
                log.warning("%s: no echo cancellation: %s", self.name, e)
        self.overruns = 0

    def write(self, payload: bytes) -> None:
        if self.closed or not payload:
            return
        if len(self._queue) >= MAX_QUEUED:
            self._queue.popleft()
            self.overruns += 1
        self._queue.append(payload)

    def end_call(self) -> None:
        """The call on the port ended: forget its audio and its echo path."""
        self._queue.clear()
        self.on_frame = None
        self.on_dtmf = None
        if self.echo is not None:
            self.echo.reset()

    def _received(self, frame: bytes) -> bytes:
        sent = self._queue.popleft() if self._queue else b""
        if sent:
            super().write(sent)
        rx = g711.decode(self.codec, frame)
        if self.echo is not None and (sent or self.on_frame is not None):
            tx = g711.decode(self.codec, sent) if sent else _ZERO
            rx = self.echo.process(tx, rx)
            frame = g711.encode(self.codec, rx)
        listener = self.on_audio
        if listener is not None:
            listener(rx)
        return frame

    def close(self) -> None:
        super().close()
        if self.echo is not None:
            self.echo.close()
            self.echo = None
