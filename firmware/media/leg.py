"""`MediaLeg`: what the switch sees of any leg's media, whatever carries it.

An RTP leg moves packets; an E1 B-channel (later) will move 20 ms frames of 8 kHz
PCM. The switch only needs the codec on the wire, key presses, and a way to let go.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from firmware.media.codecs import Codec


class MediaLeg(ABC):
    # None until negotiated (an RTP leg before its SDP answer).
    codec: Codec | None = None
    # Called with "0"-"9", "*", "#", "A"-"D", once per key press, from the event loop.
    on_dtmf: Callable[[str], None] | None = None

    @abstractmethod
    def close(self) -> None:
        """Release the leg's media resources; safe to call twice."""
