"""`InbandDtmf`: DTMF key presses heard in the audio of a TDM line (E1, FXO), where there
is no RFC 4733 and the tones travel in the voice band. spandsp's receiver does the
detection (Q.24 tolerances, twist, talk-off protection); we feed it 20 ms frames.
"""

from __future__ import annotations

import ctypes

import numpy as np

from firmware.media import g711, spandsp
from firmware.media.codecs import Codec

_MAX_DIGITS = 32


class InbandDtmf:
    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self._lib = spandsp.load()
        self._state = self._lib.dtmf_rx_init(None, None, None)
        if not self._state:
            raise MemoryError("dtmf_rx_init")
        self._buf = ctypes.create_string_buffer(_MAX_DIGITS + 1)

    def feed(self, frame: bytes) -> str:
        """One frame of G.711 audio in; the digits whose tones ended in it out."""
        if self._state is None:
            return ""
        pcm = np.ascontiguousarray(g711.decode(self.codec, frame))
        self._lib.dtmf_rx(self._state, pcm.ctypes.data_as(ctypes.POINTER(ctypes.c_int16)),
                          len(pcm))
        n = self._lib.dtmf_rx_get(self._state, self._buf, _MAX_DIGITS)
        return self._buf.raw[:n].decode("ascii", "replace") if n else ""

    def close(self) -> None:
        if self._state is not None:
            self._lib.dtmf_rx_free(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()
