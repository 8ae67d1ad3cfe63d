"""A fake `DahdiIO` for the host: channels are socketpair ends, and two loopback spans
are wired like dahdi_dynamic_loc (span 1 <-> span 2, 3 <-> 4, ...), so everything above
the ioctl seam runs here as it does on real DAHDI, minus the kernel."""

from __future__ import annotations

import os
import socket
from collections import defaultdict, deque
from dataclasses import dataclass, field

from drivers.dahdi import io
from drivers.dahdi.io import ChannelParams, SpanStatus


@dataclass
class FakeDahdi:
    sigtypes: dict[int, int] = field(default_factory=dict)  # channo -> sigtype
    law: int = io.LAW_ALAW
    spare: dict[int, int] = field(default_factory=dict)  # channo -> its end, not yet opened
    fds: dict[int, int] = field(default_factory=dict)  # our fd -> channo
    calls: list[tuple[str, int, object]] = field(default_factory=list)
    events: dict[int, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    alarms: dict[int, int] = field(default_factory=dict)  # span -> alarm bits
    fail_open: set[int] = field(default_factory=set)

    def open_channel(self, channo: int) -> int:
        if channo in self.fail_open or channo not in self.sigtypes:
            raise OSError(6, f"no such DAHDI channel {channo}")
        fd = self.spare.pop(channo, None)
        if fd is None:
            kind = (socket.SOCK_SEQPACKET if self.sigtypes[channo] in
                    (io.SIG_HDLCFCS, io.SIG_HARDHDLC) else socket.SOCK_DGRAM)
            a, b = socket.socketpair(socket.AF_UNIX, kind)
            fd = os.dup(a.fileno())
            self.spare[loopback_partner(channo)] = os.dup(b.fileno())
            a.close()
            b.close()
        self.fds[fd] = channo
        self.calls.append(("open", channo, None))
        return fd

    def close(self, fd: int) -> None:
        self.fds.pop(fd, None)
        os.close(fd)

    def _log(self, what: str, fd: int, arg: object = None) -> None:
        self.calls.append((what, self.fds[fd], arg))

    def set_blocksize(self, fd: int, samples: int) -> None:
        self._log("blocksize", fd, samples)

    def set_buffers(self, fd: int, count: int, size: int) -> None:
        self._log("buffers", fd, (count, size))

    def set_law(self, fd: int, law: int) -> None:
        self._log("law", fd, law)

    def params(self, fd: int) -> ChannelParams:
        channo = self.fds[fd]
        span = (channo - 1) // 31 + 1
        return ChannelParams(channo, span, (channo - 1) % 31 + 1, self.sigtypes[channo],
                             False, 0, 0, self.law, f"FAKE/{span}/{channo}", 0)

    def hook(self, fd: int, op: int) -> None:
        self._log("hook", fd, op)

    def get_event(self, fd: int) -> int:
        q = self.events[self.fds[fd]]
        return q.popleft() if q else io.EVENT_NONE

    def dial(self, fd: int, digits: str) -> None:
        self._log("dial", fd, digits)

    def get_rxbits(self, fd: int) -> int:
        return 0

    def set_txbits(self, fd: int, bits: int) -> None:
        self._log("txbits", fd, bits)

    def flush(self, fd: int) -> None:
        self._log("flush", fd)

    def span_status(self, span: int) -> SpanStatus:
        return SpanStatus(span, f"FAKE/{span}", "fake span", self.alarms.get(span, 0),
                          31, 31, 0)


def pri_span_sigtypes(span: int) -> dict[int, int]:
    base = 31 * (span - 1)
    out = {base + ts: io.SIG_CLEAR for ts in range(1, 32) if ts != 16}
    out[base + 16] = io.SIG_HDLCFCS
    return out


def loopback_partner(channo: int) -> int:
    """dahdi_dynamic_loc pairs: span 1 <-> 2, 3 <-> 4, same timeslot."""
    span = (channo - 1) // 31 + 1
    return channo + 31 if span % 2 else channo - 31
