"""`FxoTrunk`: the box's FXO ports on asyncio. Each port is an `FxoPort` (hardware or
simulator), an `FxoLine` (the protocol, sans I/O), an `FxoLeg` (the audio) and at most
one `FxoChannel`. Inbound calls go to `on_incoming`; `originate()` dials out on the
first idle port.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from drivers.fxo.callerid import CallerId
from drivers.fxo.channel import FxoChannel
from drivers.fxo.leg import FxoLeg
from drivers.fxo.line import (
    Connected,
    Dial,
    Disconnected,
    FxoConfig,
    FxoLine,
    Hook,
    Offered,
    Progress,
    Withdrawn,
)
from drivers.fxo.port import FxoPort, LineSignal
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelListener, Direction, Party

log = logging.getLogger(__name__)

DEFAULT_INBOUND = "96777"  # the demo hotline, until the admin says where a line goes


@dataclass(frozen=True)
class PortSettings:
    inbound: str = DEFAULT_INBOUND  # the number an incoming call on this line dials
    echo_cancel: bool = True
    line: FxoConfig = field(default_factory=FxoConfig)


def _caller_party(cid: CallerId | None) -> Party:
    if cid is None or not cid.number:
        return Party("", cid.name if cid else "")
    return Party(cid.number, cid.name)


class FxoPortState:
    """One port: its hardware, protocol state, audio leg and current channel."""

    def __init__(self, trunk: FxoTrunk, port: FxoPort, settings: PortSettings) -> None:
        self.trunk = trunk
        self.port = port
        self.name = port.name
        self.settings = settings
        self.line = FxoLine(settings.line)
        self.leg = FxoLeg(port.audio_fd, port.codec, name=port.name,
                          echo_cancel=settings.echo_cancel)
        self.leg.on_audio = self._audio
        self.channel: FxoChannel | None = None
        self.since = time.time()
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.port.on_signal = self._signal
        # a DAHDI port reports its events through the audio fd (reads fail with ELAST)
        drain = getattr(self.port, "events_pending", None)
        if drain is not None:
            self.leg.on_event_pending = drain
        self.leg.start(loop)

    def stop(self) -> None:
        if self.channel is not None:
            self.channel.hangup(Cause.NORMAL_UNSPECIFIED)
        if self._timer is not None:
            self._timer.cancel()
        self.port.on_signal = None
        self.leg.close()

    # -- inputs ----------------------------------------------------------------------------
    def _signal(self, sig: LineSignal) -> None:
        self.line.signal(sig, time.monotonic())
        self._apply()

    def _audio(self, pcm: npt.NDArray[np.int16]) -> None:
        self.line.audio(pcm, time.monotonic())
        self._apply()

    def _on_timer(self) -> None:
        self._timer = None
        self.line.timer(time.monotonic())
        self._apply()

    # -- commands from the channel ----------------------------------------------------------
    def answer(self) -> None:
        self.line.answer(time.monotonic())
        self._apply()

    def hangup(self) -> None:
        self.line.hangup(time.monotonic())
        self._apply()

    def dial(self, number: str) -> bool:
        ok = self.line.dial(number, time.monotonic())
        self._apply()
        return ok

    def released(self, ch: FxoChannel) -> None:
        if self.channel is ch:
            self.channel = None
            self.since = time.time()

    # -- outputs ---------------------------------------------------------------------------
    def _apply(self) -> None:
        for out in self.line.outputs():
            try:
                self._output(out)
            except Exception:
                log.exception("%s: handling %s failed", self.name, out)
        self._arm()

    def _output(self, out: object) -> None:
        ch = self.channel
        if isinstance(out, Hook):
            self.port.set_hook(out.offhook)
        elif isinstance(out, Dial):
            log.info("%s: dialling %s", self.name, out.digits)
            self.port.dial(out.digits)
        elif isinstance(out, Offered):
            if ch is not None:  # late caller ID of the call already offered
                if out.caller is not None and not ch.caller.number:
                    ch.caller = _caller_party(out.caller)
                return
            self._offer(out.caller)
        elif isinstance(out, Withdrawn):
            if ch is not None:
                ch.far_end_hangup(Cause.ORIGINATOR_CANCEL, "abandoned")
        elif isinstance(out, Progress):
            if ch is not None:
                ch.far_end_progress()
        elif isinstance(out, Connected):
            if ch is not None:
                ch.far_end_answered()
        elif isinstance(out, Disconnected):
            log.info("%s: disconnect by %s (cause %d)", self.name, out.reason, out.cause)
            if ch is not None:
                ch.far_end_hangup(out.cause, out.reason)

    def _offer(self, cid: CallerId | None) -> None:
        party = _caller_party(cid)
        ch = FxoChannel(self, Direction.INBOUND, party, self.settings.inbound)
        self.channel = ch
        self.since = time.time()
        log.info("%s: call from %s (%s) for %s", self.name, party.number or "unknown",
                 cid.format if cid else "no caller ID", ch.called)
        if self.trunk.on_incoming is None:
            ch.hangup(Cause.TEMPORARY_FAILURE)
            return
        self.trunk.on_incoming(ch)

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due = self.line.next_timer()
        if due is not None and self._loop is not None:
            delay = max(0.0, due - time.monotonic())
            self._timer = self._loop.call_later(delay, self._on_timer)

    def status(self) -> dict[str, object]:
        st = self.line.status()
        ch = self.channel
        return {
            "name": self.name,
            **st,
            "inbound": self.settings.inbound,
            "call": (f"{ch.state.value} {ch.direction.value} {ch.caller.number or '?'}"
                     f"->{ch.called}") if ch is not None else None,
            "echo_cancel": self.leg.echo is not None,
            "since": round(self.since, 3),
        }


class FxoTrunk:
    def __init__(self, ports: Sequence[FxoPort],
                 settings: dict[str, PortSettings] | None = None) -> None:
        settings = settings or {}
        self.on_incoming: Callable[[Channel], None] | None = None
        self.ports = [FxoPortState(self, p, settings.get(p.name, PortSettings()))
                      for p in ports]

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        for p in self.ports:
            p.start(loop)

    def stop(self) -> None:
        for p in self.ports:
            p.stop()

    def originate(self, target: str, caller: Party, listener: ChannelListener
                  ) -> list[Channel]:
        """Dial `target` on the first idle port; empty when every port is busy."""
        for p in self.ports:
            if p.channel is not None or not p.dial(target):
                continue
            ch = FxoChannel(p, Direction.OUTBOUND, caller, target)
            ch.listener = listener
            p.channel = ch
            p.since = time.time()
            return [ch]
        log.warning("fxo: no idle line to call %s", target)
        return []

    def status(self) -> list[dict[str, object]]:
        return [p.status() for p in self.ports]
