"""Board `sim`'s telephony: for each PRI span in board.json, the box's `PriTrunk` and the
`PstnSimulator` at the far end of its emulated E1; for each FXO port, a simulated
central office line and the box's `FxoTrunk` port on it; all in switchd's event loop.

switchd uses this as its trunk originator (the E1 spans; the FXO lines on a board
without E1: docs/decisions/0012) and gets two
control commands from it: `pstn_call` (a call from the simulated PSTN into the box,
what `ccbox pstn call` sends; `"line": "fxo1"` for an FXO line), `pstn_status`, and
`pstn_meter` (`"on": true` starts counting the E1 simulators' own CPU time, `false`
stops and reports it: bench/e1_calls.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from drivers.dahdi.pri_span import PriSpan
from drivers.dahdi.pri_trunk import PriTrunk
from drivers.fxo import settings as fxo_settings
from drivers.fxo.trunk import FxoTrunk
from drivers.sim.audio import dtmf, load_wav
from drivers.sim.central_office import CentralOfficeLine
from drivers.sim.pstn import PstnSimulator
from firmware.media.codecs import CLOCK_RATE, Codec
from firmware.switch.channel import Channel, ChannelListener, Party

log = logging.getLogger(__name__)

# The simulated caller waits this long after answer before the DTMF digits (an IVR
# prompt's worth), then plays the file.
DTMF_DELAY = 1.0


class SimTelephony:
    def __init__(self, board: dict[str, Any]) -> None:
        self.trunks: list[PriTrunk] = []
        self.simulators: list[PstnSimulator] = []
        spans = board.get("telephony", {}).get("spans", [])
        for n, cfg in enumerate(spans, start=1):
            if cfg.get("signalling") != "pri":
                log.warning("span %d: %s signalling is not simulated yet", n,
                            cfg.get("signalling"))
                continue
            switchtype = cfg.get("switchtype", "euroisdn")
            channels = int(cfg.get("b_channels", 30))
            sim = PstnSimulator(switchtype, channels, name=f"pstn{n}")
            span = PriSpan(cfg.get("side", "cpe"), switchtype, channels, name=f"span{n}")
            trunk = PriTrunk(span, sim.box_dchannel_fd, sim.box_bchannel_fds,
                             name=f"span{n}", codec=Codec.PCMU if span.t1 else Codec.PCMA)
            self.simulators.append(sim)
            self.trunks.append(trunk)
        fxo_ports = board.get("telephony", {}).get("fxo", [])
        self.offices = [CentralOfficeLine(f"fxo{int(p.get('port', n))}")
                        for n, p in enumerate(fxo_ports, start=1)]
        names = [co.name for co in self.offices]
        self.fxo = FxoTrunk([co.port for co in self.offices], fxo_settings.load(names)
                            if names else {})

    def start(self, on_incoming: Callable[[Channel], None]) -> None:
        for sim, trunk in zip(self.simulators, self.trunks, strict=True):
            trunk.on_incoming = on_incoming
            sim.start()
            trunk.start()
        for co in self.offices:
            co.start()
        self.fxo.on_incoming = on_incoming
        self.fxo.start()

    async def stop(self) -> None:
        for trunk in self.trunks:
            trunk.stop()
        self.fxo.stop()
        await asyncio.sleep(0.05)  # let the DISCONNECTs reach the simulated exchange
        for sim in self.simulators:
            await sim.stop()
        for co in self.offices:
            await co.stop()

    # -- the switch's trunk originator ------------------------------------------------------
    def originate(self, target: str, caller: Party, listener: ChannelListener
                  ) -> Sequence[Channel]:
        for trunk in self.trunks:
            legs = trunk.originate(target, caller, listener)
            if legs:
                return legs
        if self.trunks:
            # a full E1 gives cause 34, it does not spill onto the analog lines
            return []
        return self.fxo.originate(target, caller, listener)

    # -- status and control -----------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        return {"spans": [t.status() for t in self.trunks], "fxo": self.fxo.status()}

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        return {"pstn_call": self.pstn_call, "pstn_status": self.pstn_status,
                "pstn_meter": self.pstn_meter}

    def pstn_status(self, _req: dict[str, Any]) -> dict[str, Any]:
        return {"simulators": [s.status() for s in self.simulators],
                "central_offices": [co.status() for co in self.offices]}

    def pstn_meter(self, req: dict[str, Any]) -> dict[str, Any]:
        """{"cmd": "pstn_meter", "on": true|false}: on, the names of the simulators now
        counting; off, per simulator what it counted since then (None if it was not)."""
        if req.get("on"):
            for sim in self.simulators:
                sim.start_meter()
            return {"metering": [sim.name for sim in self.simulators]}
        return {"meters": [sim.stop_meter() for sim in self.simulators]}

    async def pstn_call(self, req: dict[str, Any]) -> dict[str, Any]:
        """{"cmd": "pstn_call", "number": "9002", "from": "13800138000",
        "play": "/path.wav", "loop": false, "dtmf": "1", "seconds": 10, "span": 1}"""
        number = str(req.get("number", "")).strip()
        caller = str(req.get("from", "")).strip()
        line = str(req.get("line") or "")
        if (not line and not number.isdigit()) or (caller and not caller.isdigit()):
            raise ValueError("number and from must be digits")
        office = None
        if line:
            office = next((co for co in self.offices if co.name == line), None)
            if office is None:
                raise ValueError(f"no simulated FXO line {line!r} (have: "
                                 f"{', '.join(co.name for co in self.offices) or 'none'})")
        else:
            index = int(req.get("span", 1)) - 1
            if not 0 <= index < len(self.simulators):
                raise ValueError(f"no simulated span {index + 1}")
        audio = bytearray()
        digits = str(req.get("dtmf") or "")
        if digits:
            audio += bytes([Codec.PCMA.silence_byte]) * int(DTMF_DELAY * CLOCK_RATE)
            audio += dtmf(digits)
        play = req.get("play")
        if play:
            # read in a thread: the event loop carries calls
            audio += await asyncio.get_running_loop().run_in_executor(
                None, load_wav, Path(str(play)))
        seconds = req.get("seconds", 10)
        if office is not None:
            fxo_report = await office.call(
                caller, cid=str(req.get("cid") or "fsk"),
                hangup=str(req.get("hangup") or "polarity"), audio=bytes(audio),
                seconds=None if seconds is None else float(seconds))
            return {"call": fxo_report}
        report = await self.simulators[index].call(
            number, caller, audio=bytes(audio), loop=bool(req.get("loop")),
            seconds=None if seconds is None else float(seconds))
        return {"call": report}
