"""`DahdiFxoPort`: an FXO module's channel as a `drivers.fxo.port.FxoPort`.

The whole contract with the FXO protocol code (docs/decisions/0015) is five signals up
and two commands down; the DAHDI event names stay here:

    DAHDI event                         -> LineSignal
    RINGBEGIN, RINGOFFHOOK while on hook -> RING_ON   (once per ring: the card may send
                                                       both for one burst)
    RINGEROFF                            -> RING_OFF
    POLARITY                             -> POLARITY
    ONHOOK while off hook                -> LOOP_DROP (kewlstart: the exchange opened the
                                                       loop)
    DIALCOMPLETE                         -> DIAL_DONE

    set_hook(True/False) -> DAHDI_HOOK OFFHOOK/ONHOOK; dial(d) -> DAHDI_DIAL "T" + d

Other events (alarms, hook-complete, ...) are logged, never passed up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from drivers.dahdi import io
from drivers.dahdi.channels import DahdiChannel
from drivers.fxo.port import LineSignal
from firmware.media.codecs import Codec

log = logging.getLogger(__name__)

_DTMF = set("0123456789*#ABCDabcd")


def fxo_signal(event: int, offhook: bool, ringing: bool) -> LineSignal | None:
    """The loop-start signal one DAHDI event means on an FXO port, given whether the box
    holds the line off hook and whether a ring burst is already reported."""
    if event in (io.EVENT_RINGBEGIN, io.EVENT_RINGOFFHOOK) and not offhook:
        return None if ringing else LineSignal.RING_ON
    if event == io.EVENT_RINGEROFF:
        return LineSignal.RING_OFF if ringing else None
    if event == io.EVENT_POLARITY:
        return LineSignal.POLARITY
    if event == io.EVENT_ONHOOK and offhook:
        return LineSignal.LOOP_DROP
    if event == io.EVENT_DIALCOMPLETE:
        return LineSignal.DIAL_DONE
    return None


class DahdiFxoPort:
    def __init__(self, name: str, channel: DahdiChannel) -> None:
        self.name = name
        self.channel = channel
        self.audio_fd = channel.fd
        self.codec = Codec.PCMU if channel.params.curlaw == io.LAW_MULAW else Codec.PCMA
        self.on_signal: Callable[[LineSignal], None] | None = None
        self.offhook = False
        self.ringing = False
        channel.on_event = self._event

    # -- commands ----------------------------------------------------------------------
    def set_hook(self, offhook: bool) -> None:
        self.channel.dahdi.hook(self.channel.fd, io.OFFHOOK if offhook else io.ONHOOK)
        self.offhook = offhook
        if offhook:
            self.ringing = False

    def dial(self, digits: str) -> None:
        bad = [d for d in digits if d not in _DTMF]
        if bad:
            raise ValueError(f"{self.name}: cannot dial {bad[0]!r}")
        self.channel.dahdi.dial(self.channel.fd, "T" + digits)

    # -- events ------------------------------------------------------------------------
    def events_pending(self) -> None:
        """The audio fd reported ELAST: fetch the events (each goes to `_event`)."""
        self.channel.events()

    def _event(self, event: int) -> None:
        signal = fxo_signal(event, self.offhook, self.ringing)
        if signal is LineSignal.RING_ON:
            self.ringing = True
        elif signal is LineSignal.RING_OFF:
            self.ringing = False
        if signal is None:
            log.debug("%s: DAHDI %s", self.name, io.event_name(event))
            if event in (io.EVENT_ALARM, io.EVENT_NOALARM):
                log.log(logging.ERROR if event == io.EVENT_ALARM else logging.INFO,
                        "%s: %s", self.name, io.event_name(event))
            return
        if self.on_signal is not None:
            self.on_signal(signal)
