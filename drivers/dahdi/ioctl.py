"""The DAHDI ioctl seam: the ONLY module that opens `/dev/dahdi/*` or calls ioctl().

Everything above it (`drivers.dahdi.channels`, the PRI/R2/FXO drivers, the telephony
of a board with a card) takes a `DahdiIO` (`drivers.dahdi.io`), so the host's unit
tests run it against a fake; this module runs for real only where the DAHDI kernel
modules are loaded (the VM tier, a box with a card).

Numbers and struct layouts are DAHDI's user-space ABI (`include/dahdi/user.h`,
DAHDI_CODE 0xDA, Linux `_IOC` encoding, as on x86-64 and arm64). A read or write on a
channel with an event pending fails with errno ELAST (500): the caller fetches the
event with `get_event()` and retries.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import struct

from drivers.dahdi.io import ChannelParams, SpanStatus

DEVICE = "/dev/dahdi/channel"
CTL_DEVICE = "/dev/dahdi/ctl"
ELAST = 500  # DAHDI's "an event is pending" errno

_CODE = 0xDA
_IOC_WRITE = 1
_IOC_READ = 2


def _ioc(direction: int, nr: int, size: int) -> int:
    return (direction << 30) | (size << 16) | (_CODE << 8) | nr


def _iow(nr: int, size: int) -> int:
    return _ioc(_IOC_WRITE, nr, size)


def _ior(nr: int, size: int) -> int:
    return _ioc(_IOC_READ, nr, size)


def _iowr(nr: int, size: int) -> int:
    return _ioc(_IOC_READ | _IOC_WRITE, nr, size)


_INT = 4


class _Params(ctypes.Structure):
    # struct dahdi_params
    _fields_ = [
        ("channo", ctypes.c_int), ("spanno", ctypes.c_int), ("chanpos", ctypes.c_int),
        ("sigtype", ctypes.c_int), ("sigcap", ctypes.c_int), ("rxisoffhook", ctypes.c_int),
        ("rxbits", ctypes.c_int), ("txbits", ctypes.c_int), ("txhooksig", ctypes.c_int),
        ("rxhooksig", ctypes.c_int), ("curlaw", ctypes.c_int), ("idlebits", ctypes.c_int),
        ("name", ctypes.c_char * 40),
        ("prewinktime", ctypes.c_int), ("preflashtime", ctypes.c_int),
        ("winktime", ctypes.c_int), ("flashtime", ctypes.c_int), ("starttime", ctypes.c_int),
        ("rxwinktime", ctypes.c_int), ("rxflashtime", ctypes.c_int),
        ("debouncetime", ctypes.c_int), ("pulsebreaktime", ctypes.c_int),
        ("pulsemaketime", ctypes.c_int), ("pulseaftertime", ctypes.c_int),
        ("chan_alarms", ctypes.c_uint32),
    ]


class _SpanInfo(ctypes.Structure):
    # struct dahdi_spaninfo (packed)
    _pack_ = 1
    _fields_ = [
        ("spanno", ctypes.c_int), ("name", ctypes.c_char * 20), ("desc", ctypes.c_char * 40),
        ("alarms", ctypes.c_int), ("txlevel", ctypes.c_int), ("rxlevel", ctypes.c_int),
        ("bpvcount", ctypes.c_int), ("crc4count", ctypes.c_int), ("ebitcount", ctypes.c_int),
        ("fascount", ctypes.c_int), ("fecount", ctypes.c_uint32),
        ("cvcount", ctypes.c_uint32), ("becount", ctypes.c_uint32),
        ("prbs", ctypes.c_uint32), ("errsec", ctypes.c_uint32),
        ("irqmisses", ctypes.c_int), ("syncsrc", ctypes.c_int), ("numchans", ctypes.c_int),
        ("totalchans", ctypes.c_int), ("totalspans", ctypes.c_int), ("lbo", ctypes.c_int),
        ("lineconfig", ctypes.c_int), ("lboname", ctypes.c_char * 40),
        ("location", ctypes.c_char * 40), ("manufacturer", ctypes.c_char * 40),
        ("devicetype", ctypes.c_char * 40), ("irq", ctypes.c_int),
        ("linecompat", ctypes.c_int), ("spantype", ctypes.c_char * 6),
    ]


class _BufferInfo(ctypes.Structure):
    # struct dahdi_bufferinfo
    _fields_ = [
        ("txbufpolicy", ctypes.c_int), ("rxbufpolicy", ctypes.c_int),
        ("numbufs", ctypes.c_int), ("bufsize", ctypes.c_int),
        ("readbufs", ctypes.c_int), ("writebufs", ctypes.c_int),
    ]


_DIALSTR = 256  # DAHDI_MAX_DTMF_BUF


class _DialOperation(ctypes.Structure):
    _fields_ = [("op", ctypes.c_int), ("dialstr", ctypes.c_char * _DIALSTR)]


SET_BLOCKSIZE = _iow(1, _INT)
GET_BLOCKSIZE = _ior(1, _INT)
FLUSH = _iow(3, _INT)
GET_PARAMS = _iowr(5, ctypes.sizeof(_Params))
HOOK = _iow(7, _INT)
GETEVENT = _ior(8, _INT)
SPANSTAT = _iowr(10, ctypes.sizeof(_SpanInfo))
SET_BUFINFO = _iow(27, ctypes.sizeof(_BufferInfo))
DIAL = _iow(31, ctypes.sizeof(_DialOperation))
AUDIOMODE = _iow(32, _INT)
CHANNO = _ior(34, _INT)
SPECIFY = _iow(38, _INT)
SETLAW = _iow(39, _INT)
GETRXBITS = _ior(43, _INT)
SETTXBITS = _iow(43, _INT)
SETPOLARITY = _iow(92, _INT)

DIAL_OP_REPLACE = 2
_FLUSH_ALL = 7  # read, write and events


def _int_arg(value: int = 0) -> bytearray:
    return bytearray(struct.pack("i", value))


def _int_of(buf: bytearray) -> int:
    return int(struct.unpack("i", bytes(buf))[0])


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("ascii", "replace")


class DahdiIoctl:
    """`drivers.dahdi.io.DahdiIO` on the real kernel driver."""

    def open_channel(self, channo: int) -> int:
        fd = os.open(DEVICE, os.O_RDWR | os.O_NONBLOCK)
        try:
            fcntl.ioctl(fd, SPECIFY, _int_arg(channo))
        except OSError as e:
            os.close(fd)
            code = e.errno or 0
            raise OSError(code, f"DAHDI channel {channo}: {os.strerror(code)}") from None
        return fd

    def close(self, fd: int) -> None:
        os.close(fd)

    def set_blocksize(self, fd: int, samples: int) -> None:
        fcntl.ioctl(fd, SET_BLOCKSIZE, _int_arg(samples))

    def set_buffers(self, fd: int, count: int, size: int) -> None:
        # "immediate" both ways: a frame is readable as soon as one block is in
        info = _BufferInfo(0, 0, count, size, 0, 0)
        fcntl.ioctl(fd, SET_BUFINFO, bytearray(bytes(info)))

    def set_law(self, fd: int, law: int) -> None:
        fcntl.ioctl(fd, SETLAW, _int_arg(law))

    def params(self, fd: int) -> ChannelParams:
        p = _Params()
        p.channo = -1  # the channel this fd was specified to
        buf = bytearray(bytes(p))
        fcntl.ioctl(fd, GET_PARAMS, buf)
        p = _Params.from_buffer_copy(bytes(buf))
        return ChannelParams(
            channo=p.channo, spanno=p.spanno, chanpos=p.chanpos, sigtype=p.sigtype,
            rxisoffhook=bool(p.rxisoffhook), rxbits=p.rxbits, txbits=p.txbits,
            curlaw=p.curlaw, name=_text(p.name), alarms=p.chan_alarms)

    def hook(self, fd: int, op: int) -> None:
        fcntl.ioctl(fd, HOOK, _int_arg(op))

    def get_event(self, fd: int) -> int:
        buf = _int_arg()
        fcntl.ioctl(fd, GETEVENT, buf)
        return _int_of(buf)

    def dial(self, fd: int, digits: str) -> None:
        if len(digits) >= _DIALSTR:
            raise ValueError(f"at most {_DIALSTR - 1} dial characters")
        op = _DialOperation(DIAL_OP_REPLACE, digits.encode("ascii"))
        fcntl.ioctl(fd, DIAL, bytearray(bytes(op)))

    def get_rxbits(self, fd: int) -> int:
        buf = _int_arg()
        fcntl.ioctl(fd, GETRXBITS, buf)
        return _int_of(buf)

    def set_txbits(self, fd: int, bits: int) -> None:
        fcntl.ioctl(fd, SETTXBITS, _int_arg(bits))

    def flush(self, fd: int) -> None:
        fcntl.ioctl(fd, FLUSH, _int_arg(_FLUSH_ALL))

    def span_status(self, span: int) -> SpanStatus:
        fd = os.open(CTL_DEVICE, os.O_RDWR)
        try:
            info = _SpanInfo()
            info.spanno = span
            buf = bytearray(bytes(info))
            fcntl.ioctl(fd, SPANSTAT, buf)
        finally:
            os.close(fd)
        info = _SpanInfo.from_buffer_copy(bytes(buf))
        return SpanStatus(span=info.spanno, name=_text(info.name), desc=_text(info.desc),
                          alarms=info.alarms, numchans=info.numchans,
                          totalchans=info.totalchans, syncsrc=info.syncsrc)


def is_event_pending(e: OSError) -> bool:
    """The read/write failed because an event waits (fetch it with get_event)."""
    return e.errno == ELAST


def available() -> bool:
    """DAHDI is loaded here (the channel device exists)."""
    return os.path.exists(DEVICE)

