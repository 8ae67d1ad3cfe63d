"""What the DAHDI drivers need from the kernel, as a Protocol (`DahdiIO`), plus the ABI
constants they speak. `drivers.dahdi.ioctl.DahdiIoctl` is the real one; the unit tests
pass a fake. Nothing here touches a device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# Frames: 20 ms of 8 kHz G.711, one byte a sample.
BLOCKSIZE = 160
# DAHDI buffers per direction on an audio channel: enough to ride out a 60 ms stall of
# the event loop, few enough that a late write does not add much delay.
AUDIO_BUFFERS = 4
# HDLC: a Q.921 frame (<= 260 octets of information + header + FCS) fits one buffer.
HDLC_BUFSIZE = 1024
HDLC_BUFFERS = 16

# Hook states (DAHDI_HOOK)
ONHOOK, OFFHOOK, WINK, FLASH, START, RING, RINGOFF = 0, 1, 2, 3, 4, 5, 6

# Laws (DAHDI_SETLAW, dahdi_params.curlaw)
LAW_DEFAULT, LAW_MULAW, LAW_ALAW = 0, 1, 2

# Signalling types (dahdi_params.sigtype)
SIG_FXO = 1 << 12
SIG_FXS = 1 << 13
SIG_FXSLS = (1 << 0) | SIG_FXS
SIG_FXSGS = (1 << 1) | SIG_FXS
SIG_FXSKS = (1 << 2) | SIG_FXS
SIG_CLEAR = 1 << 7
SIG_HDLCRAW = (1 << 8) | SIG_CLEAR
SIG_HDLCFCS = (1 << 9) | SIG_HDLCRAW  # 0x380: software HDLC with FCS (dchan=)
SIG_HARDHDLC = (1 << 19) | SIG_CLEAR
SIG_CAS = 1 << 15

# Events (DAHDI_GETEVENT)
EVENT_NONE = 0
EVENT_ONHOOK = 1
EVENT_RINGOFFHOOK = 2
EVENT_WINKFLASH = 3
EVENT_ALARM = 4
EVENT_NOALARM = 5
EVENT_ABORT = 6
EVENT_OVERRUN = 7
EVENT_BADFCS = 8
EVENT_DIALCOMPLETE = 9
EVENT_RINGERON = 10
EVENT_RINGEROFF = 11
EVENT_HOOKCOMPLETE = 12
EVENT_BITSCHANGED = 13
EVENT_POLARITY = 17
EVENT_RINGBEGIN = 18
EVENT_REMOVED = 20

EVENT_NAMES = {
    EVENT_NONE: "none", EVENT_ONHOOK: "onhook", EVENT_RINGOFFHOOK: "ringoffhook",
    EVENT_WINKFLASH: "winkflash", EVENT_ALARM: "alarm", EVENT_NOALARM: "noalarm",
    EVENT_ABORT: "abort", EVENT_OVERRUN: "overrun", EVENT_BADFCS: "badfcs",
    EVENT_DIALCOMPLETE: "dialcomplete", EVENT_RINGERON: "ringeron",
    EVENT_RINGEROFF: "ringeroff", EVENT_HOOKCOMPLETE: "hookcomplete",
    EVENT_BITSCHANGED: "bitschanged", EVENT_POLARITY: "polarity",
    EVENT_RINGBEGIN: "ringbegin", EVENT_REMOVED: "removed",
}

# Span alarms (dahdi_spaninfo.alarms)
ALARM_NAMES = {
    1 << 0: "recovering", 1 << 1: "loopback", 1 << 2: "yellow", 1 << 3: "red",
    1 << 4: "blue", 1 << 5: "not open", 1 << 8: "LOS", 1 << 9: "LFA", 1 << 10: "LMFA",
}


def event_name(event: int) -> str:
    return EVENT_NAMES.get(event, f"event {event}")


def alarm_text(alarms: int) -> str | None:
    """"red, LOS" for a span in alarm; None when it has none."""
    if not alarms:
        return None
    names = [name for bit, name in ALARM_NAMES.items() if alarms & bit]
    return ", ".join(names) or f"alarms 0x{alarms:x}"


@dataclass(frozen=True)
class ChannelParams:
    channo: int
    spanno: int
    chanpos: int
    sigtype: int
    rxisoffhook: bool
    rxbits: int
    txbits: int
    curlaw: int
    name: str
    alarms: int


@dataclass(frozen=True)
class SpanStatus:
    span: int
    name: str
    desc: str
    alarms: int
    numchans: int
    totalchans: int
    syncsrc: int


class DahdiIO(Protocol):
    def open_channel(self, channo: int) -> int: ...

    def close(self, fd: int) -> None: ...

    def set_blocksize(self, fd: int, samples: int) -> None: ...

    def set_buffers(self, fd: int, count: int, size: int) -> None: ...

    def set_law(self, fd: int, law: int) -> None: ...

    def params(self, fd: int) -> ChannelParams: ...

    def hook(self, fd: int, op: int) -> None: ...

    def get_event(self, fd: int) -> int: ...

    def dial(self, fd: int, digits: str) -> None: ...

    def get_rxbits(self, fd: int) -> int: ...

    def set_txbits(self, fd: int, bits: int) -> None: ...

    def flush(self, fd: int) -> None: ...

    def span_status(self, span: int) -> SpanStatus: ...
