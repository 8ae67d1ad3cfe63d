"""The seam between the FXO protocol code and the hardware: what one FXO port does.

Two implementations: the DAHDI ioctl module (`drivers/dahdi`, owned by the VM tier) for
a real FXO module, and `drivers/sim/central_office.SimFxoPort` on board `sim`. The
state machine (`drivers.fxo.line.FxoLine`) never sees either; `FxoTrunk` connects them.

Signals up (the port calls `on_signal`, from the event loop):

- RING_ON: ringing voltage began (DAHDI_EVENT_RINGBEGIN, or RINGOFFHOOK while on hook)
- RING_OFF: ringing voltage stopped (DAHDI_EVENT_RINGEROFF)
- POLARITY: the exchange reversed the line's polarity (DAHDI_EVENT_POLARITY)
- LOOP_DROP: loop current gone while off hook, an open loop interval
  (DAHDI_EVENT_ONHOOK while off hook, kewlstart)
- DIAL_DONE: the digits of `dial()` are out (DAHDI_EVENT_DIALCOMPLETE)

Commands down: `set_hook(True)` seizes (DAHDI_HOOK DAHDI_OFFHOOK), `set_hook(False)`
releases (DAHDI_ONHOOK); `dial(digits)` sends DTMF (DAHDI_DIAL with "T" + digits).

Audio: `audio_fd` carries 160-byte G.711 frames every 20 ms in both directions, clocked
by the line (DAHDI: the channel with a 160-sample block size). It is read on hook too,
because caller ID arrives before the box answers. On DAHDI that fd also carries the
events: a read fails with ELAST while one waits, and a port with an `events_pending()`
method (`drivers.dahdi.fxo_port.DahdiFxoPort`) gets called then to fetch and signal
them (docs/decisions/0015).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Protocol

from firmware.media.codecs import Codec


class LineSignal(Enum):
    RING_ON = "ring-on"
    RING_OFF = "ring-off"
    POLARITY = "polarity"
    LOOP_DROP = "loop-drop"
    DIAL_DONE = "dial-done"


class FxoPort(Protocol):
    name: str  # "fxo1"
    audio_fd: int
    codec: Codec
    on_signal: Callable[[LineSignal], None] | None

    def set_hook(self, offhook: bool) -> None: ...

    def dial(self, digits: str) -> None: ...
