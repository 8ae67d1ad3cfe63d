"""RTP probe for `bench.box_load`: plays both phones of N calls and measures the media path.

    python -m bench.rtp_probe --host 127.0.0.77 --calls 100 --mode box --workdir W --hold 60

Each call has two probe sockets (with the RTCP port above each held open, unread): side A
is the caller, whose port the sipp UAC advertises in its SDP, side B the callee, whose
port the sipp UAS advertises. The probe writes those ports to `W/a.csv` and `W/b.csv` for
sipp's `-inf`, then tails the sipp logs `W/a.log` and `W/b.log`, where the scenarios write
"A <probe port> <box port>" (caller, after the ACK) and "B <probe port> <box port>"
(callee, after the ACK): from then on that side sends one 172-byte PCMA packet every 20 ms
to the box's port for it, so the box relays A->B and B->A for every call, as two talking
phones. In `--mode direct` the A and B sockets of a call send to each other (no box): the
baseline of the same packet rate through the same code. With `--sides b` the probe plays
the callees only (bench/e1_calls.py: the callers are E1 lines of the PSTN simulator):
what B sends goes to the line, so no loss or latency is measured, and what B receives
(the line's audio, unstamped) is counted as `foreign_packets`.

Every packet carries its send time (CLOCK_REALTIME, taken just before `sendto`), its
stream and a sequence number; arrival is the kernel's receive timestamp (SO_TIMESTAMPNS).
Receiving runs in a forked child (at a lower priority, `--receiver-nice`): its own
scheduling does not count, since the kernel stamps arrivals, and it never delays the
sender. The sender spreads its sends over twenty 1 ms slots of the 20 ms period, as
independent phones would, and skips slots rather than burst when it was not scheduled
for more than a period (counted as `skipped_send_slots`).

Once every stream is mapped (or `--map-timeout` passed), the probe lets media settle for
`--settle` seconds, then measures for `--hold` seconds (the window), stops sending,
lets the receiver drain for `DRAIN` and reports. Packets sent in the window and not
received are lost. Latency is receive minus send; "jitter" is a percentile of latency
minus the minimum latency. Progress and the result go to stdout as JSON lines (`event`
key): ready, mapped, window_start, window_end, result.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import struct
import sys
import time
from array import array
from pathlib import Path
from typing import Any

import numpy as np

PERIOD_NS = 20_000_000
SLOTS = 20
SLOT_NS = PERIOD_NS // SLOTS
DRAIN = 0.5
PAYLOAD_PT = 8  # PCMA, what the scenarios offer first
_RTP = struct.Struct("!BBHII")
_BODY = struct.Struct("!qIII")  # send time ns, stream, sequence, magic
MAGIC = 0x43434250
PAYLOAD_LEN = 160
PACKET_LEN = _RTP.size + PAYLOAD_LEN
_SILENCE = 0xD5  # A-law silence, for the bytes after the stamp
# Linux's SO_TIMESTAMPNS: Python has no constant for it. A CLOCK_REALTIME timespec.
_SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@qq")
_ANC_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)
SOCK_BUF = 1 << 18


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class Stream:
    """One direction of one call: a probe socket and where it sends."""

    __slots__ = ("buf", "dest", "index", "port", "sent_window", "seq", "sock", "ssrc")

    def __init__(self, index: int, sock: socket.socket) -> None:
        self.index = index
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self.dest: tuple[str, int] | None = None
        self.seq = 0
        self.ssrc = 0x10000 + index
        self.sent_window = 0
        self.buf = bytearray([_SILENCE]) * PACKET_LEN


def _open_pair(host: str, port: int) -> tuple[socket.socket, socket.socket] | None:
    """Bind RTP on `port` and RTCP on `port + 1`, or None if either is taken."""
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        rtp.bind((host, port))
    except OSError:
        rtp.close()
        return None
    rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        rtcp.bind((host, port + 1))
    except OSError:
        rtp.close()
        rtcp.close()
        return None
    rtp.setblocking(False)
    rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCK_BUF)
    rtp.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    return rtp, rtcp


def open_streams(host: str, count: int, port_base: int) -> tuple[list[Stream], list[socket.socket]]:
    """`count` streams on even ports from `port_base` up (each with its RTCP port held)."""
    streams: list[Stream] = []
    held: list[socket.socket] = []
    port = port_base + (port_base & 1)
    while len(streams) < count:
        if port > 65534:
            raise SystemExit(f"rtp_probe: no {count} free port pairs from {port_base} on {host}")
        pair = _open_pair(host, port)
        port += 2
        if pair is None:
            continue
        streams.append(Stream(len(streams), pair[0]))
        held.append(pair[1])
    return streams, held


class LogTail:
    """Complete lines appended to a file that may not exist yet."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._pos = 0
        self._rest = b""

    def lines(self) -> list[str]:
        try:
            with self.path.open("rb") as f:
                f.seek(self._pos)
                data = f.read()
        except FileNotFoundError:
            return []
        self._pos += len(data)
        data = self._rest + data
        *complete, self._rest = data.split(b"\n")
        return [line.decode("ascii", "replace") for line in complete]


def _percentiles(values: np.ndarray[Any, np.dtype[np.int64]]) -> dict[str, float]:
    if values.size == 0:
        return {}
    ms = values.astype(np.float64) / 1e6
    lo = float(ms.min())
    p50, p99, p999 = (float(x) for x in np.percentile(ms, [50, 99, 99.9]))
    return {
        "lat_min_ms": round(lo, 4),
        "lat_p50_ms": round(p50, 4),
        "lat_p99_ms": round(p99, 4),
        "lat_p999_ms": round(p999, 4),
        "lat_max_ms": round(float(ms.max()), 4),
        "jitter_p99_ms": round(p99 - lo, 4),
        "jitter_p999_ms": round(p999 - lo, 4),
    }


class Receiver:
    """The receiving half, run in a forked child so that receiving never delays sending.

    It records every probe packet (stream << 32 | seq, send time, latency) until told to
    stop on its control pipe, drains for `DRAIN`, and saves what it has to `out`."""

    def __init__(self, streams: list[Stream], control: int, out: Path) -> None:
        self.by_fd = {s.sock.fileno(): s.sock for s in streams}
        self.control = control
        self.out = out
        self.keys = array("q")
        self.sends = array("q")
        self.lats = array("q")
        self.foreign = 0

    def receive(self, sock: socket.socket) -> None:
        try:
            data, anc, _flags, _addr = sock.recvmsg(512, _ANC_SPACE)
        except OSError:
            return
        if len(data) < _RTP.size + _BODY.size:
            self.foreign += 1
            return
        sent, stream, seq, magic = _BODY.unpack_from(data, _RTP.size)
        if magic != MAGIC:
            self.foreign += 1
            return
        arrival = -1
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
                sec, nsec = _TIMESPEC.unpack_from(cdata)
                arrival = sec * 1_000_000_000 + nsec
        if arrival < 0:
            arrival = time.time_ns()
        self.keys.append((stream << 32) | seq)
        self.sends.append(sent)
        self.lats.append(arrival - sent)

    def run(self) -> None:
        ep = select.epoll()
        for fd in self.by_fd:
            ep.register(fd, select.EPOLLIN)
        ep.register(self.control, select.EPOLLIN)
        by_fd = self.by_fd
        receive = self.receive
        deadline = -1.0
        while True:
            timeout = -1.0 if deadline < 0 else max(0.0, deadline - time.monotonic())
            for fd, _ev in ep.poll(timeout):
                sock = by_fd.get(fd)
                if sock is not None:
                    receive(sock)
                elif fd == self.control:
                    ep.unregister(fd)
                    deadline = time.monotonic() + DRAIN
            if deadline >= 0 and time.monotonic() >= deadline:
                break
        np.savez(
            self.out,
            keys=np.frombuffer(self.keys, dtype=np.int64),
            sent_ns=np.frombuffer(self.sends, dtype=np.int64),
            latency_ns=np.frombuffer(self.lats, dtype=np.int64),
            foreign=np.array([self.foreign]),
        )


class Probe:
    """The sending half and the conductor: maps streams, paces them, runs the window."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.host: str = args.host
        calls: int = args.calls
        self.callees_only = args.sides == "b"
        count = calls if self.callees_only else 2 * calls
        streams, self._held = open_streams(self.host, count, args.port_base)
        self.streams = streams
        if self.callees_only:
            self.a: list[Stream] = []
            self.b = streams
        else:
            # Stream 2k is call k's caller side (A), 2k+1 its callee side (B).
            self.a = streams[0::2]
            self.b = streams[1::2]
        self.by_port = {s.port: s for s in streams}
        self.slots: list[list[Stream]] = [[] for _ in range(SLOTS)]
        self.mapped = 0
        self.lateness = array("q")  # how late each slot's sends left, in the window
        self.w_start = -1
        self.w_end = -1
        self.counting = False
        self.first_mapped: float | None = None
        self.skipped_slots = 0
        self.received_path = args.workdir / f"received_{args.mode}.npz"
        self.receiver_pid = 0
        self._control = -1

    # -- set-up -------------------------------------------------------------------------

    def write_csvs(self, workdir: Path) -> None:
        for name, side in (("a.csv", self.a), ("b.csv", self.b)):
            text = "SEQUENTIAL\n" + "".join(f"{s.port}\n" for s in side)
            (workdir / name).write_text(text)

    def start_receiver(self) -> None:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: receive, save, leave without running the parent's code
            status = 1
            try:
                os.close(write_end)
                os.setpriority(os.PRIO_PROCESS, 0, self.args.receiver_nice)
                Receiver(self.streams, read_end, self.received_path).run()
                status = 0
            finally:
                os._exit(status)
        os.close(read_end)
        self.receiver_pid = pid
        self._control = write_end

    def stop_receiver(self, timeout: float = 30.0) -> None:
        if self._control >= 0:
            os.write(self._control, b"x")
            os.close(self._control)
            self._control = -1
        deadline = time.monotonic() + timeout
        while self.receiver_pid and time.monotonic() < deadline:
            pid, _status = os.waitpid(self.receiver_pid, os.WNOHANG)
            if pid:
                self.receiver_pid = 0
                return
            time.sleep(0.05)
        if self.receiver_pid:
            os.kill(self.receiver_pid, 9)
            os.waitpid(self.receiver_pid, 0)
            self.receiver_pid = 0

    def start_stream(self, s: Stream, dest: tuple[str, int]) -> None:
        if s.dest is None:
            self.mapped += 1
            if self.first_mapped is None:
                self.first_mapped = time.monotonic()
            self.slots[s.index % SLOTS].append(s)
        s.dest = dest

    def take_log_lines(self, tails: list[LogTail]) -> None:
        for tail in tails:
            for line in tail.lines():
                parts = line.split()
                if len(parts) < 3 or parts[0] not in ("A", "B"):
                    continue
                try:
                    port, box_port = int(parts[1]), int(parts[2])
                except ValueError:
                    continue
                s = self.by_port.get(port)
                if s is not None:
                    self.start_stream(s, (self.host, box_port))

    # -- the packet path ------------------------------------------------------------------

    def send_slot(self, slot: int) -> None:
        counting = self.counting
        pack_rtp = _RTP.pack_into
        pack_body = _BODY.pack_into
        now_ns = time.time_ns
        for s in self.slots[slot]:
            dest = s.dest
            if dest is None:
                continue
            seq = s.seq
            buf = s.buf
            pack_rtp(buf, 0, 0x80, PAYLOAD_PT, seq & 0xFFFF, (seq * 160) & 0xFFFFFFFF, s.ssrc)
            pack_body(buf, _RTP.size, now_ns(), s.index, seq, MAGIC)
            try:
                s.sock.sendto(buf, dest)
            except OSError:
                # a full socket buffer or an ICMP error queued on the socket: counted as
                # a send, so it shows as loss if the packet never arrived
                pass
            s.seq = seq + 1
            if counting:
                s.sent_window += 1

    # -- the loop --------------------------------------------------------------------------

    def run(self, tails: list[LogTail]) -> dict[str, Any]:
        args = self.args
        total = len(self.streams)
        start = time.monotonic()
        map_deadline = start + args.map_timeout
        phase = "mapping"
        settle_until = 0.0
        window_until = 0.0
        next_tail = 0.0
        tick = 0
        tick_due = time.monotonic_ns()
        while True:
            now_ns = time.monotonic_ns()
            if tick_due > now_ns:
                time.sleep((tick_due - now_ns) / 1e9)
                now_ns = time.monotonic_ns()
            if now_ns - tick_due > PERIOD_NS:
                # More than a period behind (the probe was not scheduled): skip the missed
                # slots rather than send a burst no set of real phones would send, which
                # would queue in the box and count as its latency.
                missed = (now_ns - tick_due) // SLOT_NS
                if self.counting:
                    self.lateness.append(now_ns - tick_due)
                    self.skipped_slots += missed
                tick += missed
                tick_due += missed * SLOT_NS
            while now_ns >= tick_due:
                if self.counting:
                    self.lateness.append(now_ns - tick_due)
                self.send_slot(tick % SLOTS)
                tick += 1
                tick_due += SLOT_NS
            now = now_ns / 1e9
            if phase == "mapping":
                if now >= next_tail:
                    next_tail = now + 0.05
                    before = self.mapped
                    self.take_log_lines(tails)
                    if self.mapped != before and self.mapped in (total, 1):
                        emit("mapped", streams=self.mapped, of=total)
                if self.mapped >= total or now >= map_deadline:
                    if self.mapped < total:
                        emit("mapped", streams=self.mapped, of=total, timeout=True)
                    phase = "settle"
                    settle_until = now + args.settle
            elif phase == "settle":
                if now >= settle_until:
                    phase = "window"
                    hold = float(args.hold)
                    if args.call_seconds and self.first_mapped is not None:
                        # end the window 2 s before the first call's BYE can leave
                        latest = self.first_mapped + args.call_seconds - 2.0
                        hold = max(1.0, min(hold, latest - now))
                    window_until = now + hold
                    self.w_start = time.time_ns()
                    self.counting = True
                    emit("window_start", t=time.time(), hold=hold)
            elif phase == "window" and now >= window_until:
                self.counting = False
                self.w_end = time.time_ns()
                emit("window_end", t=time.time())
                break
        self.stop_receiver()
        return self.result()

    def result(self) -> dict[str, Any]:
        sent = sum(s.sent_window for s in self.streams)
        got = np.load(self.received_path)
        sent_ns = got["sent_ns"]
        keep = (sent_ns >= self.w_start) & (sent_ns < self.w_end)
        keys = got["keys"][keep]
        lats = got["latency_ns"][keep]
        unique_keys = np.unique(keys)
        unique = int(unique_keys.size)
        streams_lossy = 0
        if unique:
            per_stream = np.bincount(unique_keys >> 32, minlength=len(self.streams))
            expected = np.array([s.sent_window for s in self.streams])
            streams_lossy = int(np.count_nonzero(per_stream[: expected.size] < expected))
        out: dict[str, Any] = {
            "mode": self.args.mode,
            "calls": self.args.calls,
            "streams": len(self.streams),
            "streams_mapped": self.mapped,
            "window_s": round((self.w_end - self.w_start) / 1e9, 3) if self.w_start > 0 else 0,
            "sent": sent,
            "received": unique,
            "lost": sent - unique,
            "duplicates": int(keys.size) - unique,
            "streams_with_loss": streams_lossy,
            "foreign_packets": int(got["foreign"][0]),
            "skipped_send_slots": self.skipped_slots,
            **_percentiles(lats),
        }
        if keys.size:
            direction = (keys >> 32) & 1
            for name, side in (("a_to_b", 0), ("b_to_a", 1)):
                part = _percentiles(lats[direction == side])
                out[name] = {k: part[k] for k in ("lat_p50_ms", "lat_p99_ms", "jitter_p99_ms")}
        late = np.frombuffer(self.lateness, dtype=np.int64)
        if late.size:
            out["send_late_p99_ms"] = round(float(np.percentile(late, 99)) / 1e6, 3)
            out["send_late_max_ms"] = round(float(late.max()) / 1e6, 3)
        if self.callees_only:
            # B's packets went to E1 lines, not back to the probe: nothing to compare
            out.update(sides="b", received=None, lost=None, streams_with_loss=None)
        if self.args.dump is not None:
            np.savez_compressed(self.args.dump, keys=keys, sent_ns=sent_ns[keep], latency_ns=lats)
        if not self.args.keep_received:
            self.received_path.unlink(missing_ok=True)
        return out

    def close(self) -> None:
        if self.receiver_pid:
            self.stop_receiver(timeout=2.0)
        for s in self.streams:
            s.sock.close()
        for sock in self._held:
            sock.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="rtp_probe", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--calls", type=int, required=True)
    p.add_argument("--mode", choices=("box", "direct"), default="box")
    p.add_argument(
        "--sides",
        choices=("ab", "b"),
        default="ab",
        help="play both phones of each call (ab) or the callee only (b, box mode)",
    )
    p.add_argument(
        "--workdir",
        type=Path,
        required=True,
        help="where a.csv/b.csv are written and a.log/b.log are read",
    )
    p.add_argument("--hold", type=float, default=60.0, help="measuring window, seconds")
    p.add_argument("--settle", type=float, default=1.0)
    p.add_argument(
        "--map-timeout",
        type=float,
        default=30.0,
        help="seconds to wait for every call's media to be mapped",
    )
    p.add_argument(
        "--call-seconds",
        type=float,
        default=0.0,
        help="how long sipp holds each call: the window ends 2 s before the "
        "first call can end (0: no limit)",
    )
    p.add_argument("--port-base", type=int, default=34000)
    p.add_argument(
        "--receiver-nice",
        type=int,
        default=0,
        help="niceness of the receiving process (it reads kernel arrival times, "
        "so it may lag; the sender must not)",
    )
    p.add_argument(
        "--keep-received",
        action="store_true",
        help="keep the receiver's raw records (received_MODE.npz)",
    )
    p.add_argument(
        "--dump",
        type=Path,
        default=None,
        help="write every packet's stream<<32|seq, send time and latency (ns) "
        "to this .npz file, for a closer look",
    )
    args = p.parse_args(argv)
    if args.sides == "b" and args.mode == "direct":
        p.error("--sides b needs --mode box (a direct baseline has both sides)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    probe = Probe(args)
    try:
        tails: list[LogTail] = []
        if args.mode == "direct":
            for a, b in zip(probe.a, probe.b, strict=True):
                probe.start_stream(a, (args.host, b.port))
                probe.start_stream(b, (args.host, a.port))
        else:
            probe.write_csvs(args.workdir)
            tails = [LogTail(args.workdir / "a.log"), LogTail(args.workdir / "b.log")]
        probe.start_receiver()
        emit(
            "ready",
            a_csv=str(args.workdir / "a.csv"),
            b_csv=str(args.workdir / "b.csv"),
            streams=len(probe.streams),
            receiver_pid=probe.receiver_pid,
        )
        emit("result", **probe.run(tails))
    finally:
        probe.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
