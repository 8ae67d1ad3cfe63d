"""DAHDI channels as the drivers use them: numbering, opening for a role, events.

A `DahdiChannel` is one opened channel (`/dev/dahdi/channel` + DAHDI_SPECIFY through a
`DahdiIO`), checked against what the role needs, so a system.conf that does not match
the board says so at start instead of failing at the first call:

- `hdlc`: a PRI D-channel, `dchan=` (software HDLC with FCS) or `hardhdlc=`; one Q.921
  frame per read/write, FCS bytes included.
- `audio`: a B-channel (`bchan=`), 160-sample blocks = one 20 ms G.711 frame a read.
- `cas`: an MFC/R2 channel (`cas=`), audio like a B-channel plus ABCD bits.
- `fxo`: an FXO port (FXS signalling, `fxsks=`/`fxsls=`), audio plus hook events.

Reads and writes of a channel with an event pending fail (ELAST); `events()` drains
them. Numbering: DAHDI counts channels across spans in registration order, so with E1
spans channel = 31 * (span - 1) + timeslot (24 for T1), as in system.conf.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from drivers.dahdi import io
from drivers.dahdi.io import ChannelParams, DahdiIO

log = logging.getLogger(__name__)

_ROLES = ("hdlc", "audio", "cas", "fxo")
# A channel never has more events than this queued (DAHDI keeps 16); the bound only
# stops a broken driver from spinning us.
_MAX_EVENTS = 32
SPAN_WIDTH = {"E1": 31, "T1": 24}


class DahdiConfigError(RuntimeError):
    """A DAHDI channel cannot serve as the board says: what and how to fix it."""


def channel_number(span: int, timeslot: int, kind: str = "E1") -> int:
    width = SPAN_WIDTH[kind.upper()]
    if not 1 <= timeslot <= width:
        raise ValueError(f"timeslot {timeslot} is outside 1-{width} on a {kind} span")
    return width * (span - 1) + timeslot


def _role_ok(role: str, sigtype: int) -> bool:
    if role == "hdlc":
        return sigtype in (io.SIG_HDLCFCS, io.SIG_HARDHDLC)
    if role == "audio":
        return sigtype == io.SIG_CLEAR
    if role == "cas":
        return sigtype == io.SIG_CAS
    return bool(sigtype & io.SIG_FXS)  # an FXO port is signalled as FXS


_EXPECTED = {
    "hdlc": "a D-channel (dchan= or hardhdlc= in system.conf)",
    "audio": "a B-channel (bchan=)",
    "cas": "an MFC/R2 channel (cas=)",
    "fxo": "an FXO port (fxsks= or fxsls=)",
}


class DahdiChannel:
    def __init__(self, dahdi: DahdiIO, channo: int, role: str, *, law: int | None = None,
                 name: str = "") -> None:
        if role not in _ROLES:
            raise ValueError(f"role must be one of {', '.join(_ROLES)}")
        self.dahdi = dahdi
        self.channo = channo
        self.role = role
        self.name = name or f"dahdi/{channo}"
        self.events_seen = 0
        self.alarmed = False
        # Told of every event drained (the drivers above decide what it means).
        self.on_event: Callable[[int], None] | None = None
        try:
            self.fd = dahdi.open_channel(channo)
        except OSError as e:
            raise DahdiConfigError(f"{self.name}: cannot open DAHDI channel {channo}: "
                                   f"{e.strerror or e} (is the span configured? "
                                   "run dahdi_cfg)") from None
        try:
            self.params: ChannelParams = dahdi.params(self.fd)
            if not _role_ok(role, self.params.sigtype):
                raise DahdiConfigError(
                    f"{self.name}: DAHDI channel {channo} has signalling "
                    f"0x{self.params.sigtype:x}, but the board needs {_EXPECTED[role]}")
            if role == "hdlc":
                dahdi.set_buffers(self.fd, io.HDLC_BUFFERS, io.HDLC_BUFSIZE)
            else:
                dahdi.set_blocksize(self.fd, io.BLOCKSIZE)
                dahdi.set_buffers(self.fd, io.AUDIO_BUFFERS, io.BLOCKSIZE)
                if law is not None:
                    dahdi.set_law(self.fd, law)
            self.alarmed = bool(self.params.alarms)
        except Exception:
            with contextlib.suppress(OSError):
                dahdi.close(self.fd)
            raise

    def __repr__(self) -> str:
        return f"<DahdiChannel {self.name} #{self.channo} {self.role}>"

    def events(self) -> list[int]:
        """Every event pending on the channel, oldest first (DAHDI_GETEVENT until none)."""
        out: list[int] = []
        for _ in range(_MAX_EVENTS):
            try:
                ev = self.dahdi.get_event(self.fd)
            except OSError as e:
                log.warning("%s: DAHDI_GETEVENT failed: %s", self.name, e)
                break
            if ev == io.EVENT_NONE:
                break
            out.append(ev)
        self.events_seen += len(out)
        for ev in out:
            if ev == io.EVENT_ALARM:
                self.alarmed = True
            elif ev == io.EVENT_NOALARM:
                self.alarmed = False
            if self.on_event is not None:
                try:
                    self.on_event(ev)
                except Exception:
                    log.exception("%s: event handler failed", self.name)
        return out

    def drain(self) -> None:
        """For the readers' ELAST hook: fetch and dispatch what is pending."""
        self.events()

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                self.dahdi.close(self.fd)
            self.fd = -1
