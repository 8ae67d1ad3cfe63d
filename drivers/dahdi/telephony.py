"""Telephony of a board with a DAHDI card (`"driver": "dahdi"` in board.json): the box's
trunks on real channels, with the same face as board sim's `SimTelephony` so switchd
cannot tell them apart.

Per span in board.json (spans with `"reserved"` belong to someone else, e.g. the VM
test's far end, and are skipped):
- `"signalling": "pri"`: the D-channel opened as HDLC (`fcs=True`: DAHDI appends the
  FCS on read and fills it in on write), one audio channel per B-channel timeslot, a
  `PriSpan` in the span's `side` (cpe/net) and switch type, and a `PriTrunk`.
- `"signalling": "r2"`: an `R2Trunk` (openr2, `drivers.dahdi.r2_trunk`) on the CAS
  channels.
Per FXO port with a `dahdi_channel`: a `DahdiFxoPort` into one `FxoTrunk`.

Every channel is opened through the `DahdiIO` given (the real ioctl module on a box,
a fake on the host), and checked: a channel whose system.conf signalling does not match
the board is a clear start-up error for that span, and the other spans still come up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from drivers.dahdi import io
from drivers.dahdi.channels import DahdiChannel, DahdiConfigError, channel_number
from drivers.dahdi.fxo_port import DahdiFxoPort
from drivers.dahdi.io import DahdiIO
from drivers.dahdi.pri_span import PriSpan
from drivers.dahdi.system_conf import parse_timeslots
from drivers.fxo import settings as fxo_settings
from drivers.fxo.trunk import FxoTrunk
from firmware.media.codecs import Codec
from firmware.switch.channel import Channel, ChannelListener, Party

log = logging.getLogger(__name__)


class Trunk(Protocol):
    name: str
    on_incoming: Callable[[Channel], None] | None

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def originate(self, target: str, caller: Party, listener: ChannelListener
                  ) -> Sequence[Channel]: ...

    def status(self) -> dict[str, object]: ...


class DahdiSpanError(RuntimeError):
    pass


def _law(kind: str) -> tuple[int, Codec]:
    return (io.LAW_MULAW, Codec.PCMU) if kind == "T1" else (io.LAW_ALAW, Codec.PCMA)


class DahdiTelephony:
    def __init__(self, board: dict[str, Any], dahdi: DahdiIO, *,
                 fxo_settings_loader: Callable[[list[str]], Any] | None = None) -> None:
        self.dahdi = dahdi
        self.trunks: list[Trunk] = []
        self.channels: list[DahdiChannel] = []
        self.errors: list[str] = []  # spans that could not come up, and why
        tel = board.get("telephony", {})
        for n, cfg in enumerate(tel.get("spans", []), start=1):
            if cfg.get("reserved"):
                continue
            span_no = int(cfg.get("span", n))
            try:
                self.trunks.append(self._span(span_no, cfg))
            except (DahdiConfigError, DahdiSpanError, ValueError, OSError, ImportError) as e:
                msg = f"span {span_no}: {e}"
                log.error("%s", msg)
                self.errors.append(msg)
        ports: list[DahdiFxoPort] = []
        for p in tel.get("fxo", []):
            name = f"fxo{int(p.get('port', len(ports) + 1))}"
            try:
                ch = self._open(int(p["dahdi_channel"]), "fxo", name=name)
                ports.append(DahdiFxoPort(name, ch))
            except (DahdiConfigError, KeyError, ValueError, OSError) as e:
                msg = f"{name}: {e}"
                log.error("%s", msg)
                self.errors.append(msg)
        names = [p.name for p in ports]
        loader = fxo_settings_loader or fxo_settings.load
        self.fxo = FxoTrunk(list(ports), loader(names) if names else {})

    # -- building -------------------------------------------------------------------------
    def _open(self, channo: int, role: str, *, law: int | None = None,
              name: str = "") -> DahdiChannel:
        ch = DahdiChannel(self.dahdi, channo, role, law=law, name=name)
        self.channels.append(ch)
        return ch

    def _span(self, span_no: int, cfg: dict[str, Any]) -> Trunk:
        kind = str(cfg.get("type", "E1")).upper()
        signalling = str(cfg.get("signalling", "pri")).lower()
        default_slots = "1-15,17-31" if kind == "E1" else "1-23"
        slots = parse_timeslots(str(cfg.get("timeslots", default_slots)), f"span {span_no}")
        channels = int(cfg.get("b_channels", len(slots)))
        slots = slots[:channels]
        law, codec = _law(kind)
        name = f"span{span_no}"
        opened: list[DahdiChannel] = []
        try:
            if signalling == "pri":
                d = int(cfg.get("d_channel", 16 if kind == "E1" else 24))
                dch = self._open(channel_number(span_no, d, kind), "hdlc", name=f"{name}/d")
                opened.append(dch)
                bch: dict[int, DahdiChannel] = {}
                for ts in slots:
                    bch[ts] = self._open(channel_number(span_no, ts, kind), "audio", law=law,
                                         name=f"{name}/{ts}")
                    opened.append(bch[ts])
                return self._pri_trunk(name, cfg, dch, bch, codec)
            if signalling == "r2":
                from drivers.dahdi.r2_trunk import R2Trunk

                cas: dict[int, DahdiChannel] = {}
                for ts in slots:
                    cas[ts] = self._open(channel_number(span_no, ts, kind), "cas", law=law,
                                         name=f"{name}/{ts}")
                    opened.append(cas[ts])
                return R2Trunk(name, cas, dict(cfg.get("r2") or {}), codec=codec)
            raise DahdiSpanError(f"signalling {signalling!r} is not pri or r2")
        except Exception:
            for ch in opened:
                ch.close()
                self.channels.remove(ch)
            raise

    def _pri_trunk(self, name: str, cfg: dict[str, Any], dch: DahdiChannel,
                   bch: dict[int, DahdiChannel], codec: Codec) -> Trunk:
        from drivers.dahdi.pri_trunk import PriTrunk

        span = PriSpan(str(cfg.get("side", "cpe")), cfg.get("switchtype", "euroisdn"),
                       sorted(bch), name=name)
        by_fd = {c.fd: c for c in [dch, *bch.values()]}

        def drain(fd: int) -> None:
            ch = by_fd.get(fd)
            if ch is not None:
                for ev in ch.events():
                    if ev in (io.EVENT_ALARM, io.EVENT_NOALARM, io.EVENT_BADFCS,
                              io.EVENT_ABORT, io.EVENT_OVERRUN):
                        (log.warning if ev != io.EVENT_NOALARM else log.info)(
                            "%s: DAHDI %s", ch.name, io.event_name(ev))

        trunk = PriTrunk(span, dch.fd, {ts: c.fd for ts, c in bch.items()}, name=name,
                         fcs=True, codec=codec, events=drain,
                         inband_dtmf=bool(cfg.get("inband_dtmf", True)))
        trunk_status = trunk.status

        def status() -> dict[str, object]:
            out = trunk_status()
            out["driver"] = "dahdi"
            alarm = self._span_alarm(dch)
            if alarm:
                out["alarm"] = alarm
            return out

        trunk.status = status  # type: ignore[method-assign]
        return trunk

    def _span_alarm(self, dch: DahdiChannel) -> str | None:
        try:
            st = self.dahdi.span_status(dch.params.spanno)
        except OSError:
            return "span status unavailable" if dch.alarmed else None
        return io.alarm_text(st.alarms)

    # -- the switch's face (as SimTelephony) ------------------------------------------------
    def start(self, on_incoming: Callable[[Channel], None]) -> None:
        for trunk in self.trunks:
            trunk.on_incoming = on_incoming
            trunk.start()
        self.fxo.on_incoming = on_incoming
        self.fxo.start()

    async def stop(self) -> None:
        for trunk in self.trunks:
            trunk.stop()
        self.fxo.stop()
        await asyncio.sleep(0.05)  # let the last frames (DISCONNECT, idle bits) leave
        for ch in self.channels:
            ch.close()
        self.channels.clear()

    def originate(self, target: str, caller: Party, listener: ChannelListener
                  ) -> Sequence[Channel]:
        for trunk in self.trunks:
            legs = trunk.originate(target, caller, listener)
            if legs:
                return legs
        if self.trunks:
            return []  # a full E1 gives cause 34; it does not spill onto analog lines
        return self.fxo.originate(target, caller, listener)

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"spans": [t.status() for t in self.trunks],
                               "fxo": self.fxo.status()}
        if self.errors:
            out["telephony_errors"] = list(self.errors)
        return out

    def handlers(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        return {}
