"""Relay benchmark: N calls of fake phones through one MediaEngine, recorded to WAV.

    python -m bench.media_relay --calls 100 --seconds 10

A second process plays 2N phones on plain sockets: every phone sends a 172-byte
G.711 packet every 20 ms (sends staggered over the 20 ms so the load is smooth, as
with real phones), with its send time embedded in the payload. Arrival is the
kernel's receive timestamp (SO_TIMESTAMPNS), so the phones' own Python scheduling
does not count as relay latency. This process runs the engine on uvloop (or stock
asyncio with --loop asyncio) and records every call to a temporary directory.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import select
import socket
import struct
import tempfile
import time
from array import array
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from firmware.media.codecs import Codec
from firmware.media.engine import MediaEngine
from firmware.media.recorder import StereoRecorder

HOST = "127.0.0.1"
PERIOD = 0.02
DRAIN = 0.3
_RTP = struct.Struct("!BBHII")
_STAMP = struct.Struct("!qI")
_FILLER = b"\xff" * (160 - _STAMP.size)
# Linux's SO_TIMESTAMPNS (Python has no constant for it): a CLOCK_REALTIME timespec.
_SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@qq")
_ANC_SPACE = socket.CMSG_SPACE(_TIMESPEC.size)


def _open_phone() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    sock.bind((HOST, 0))
    sock.setblocking(False)
    return sock


def _arrival_ns(ancdata: list[tuple[int, int, bytes]]) -> int:
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
            sec, nsec = _TIMESPEC.unpack_from(data)
            return int(sec * 1_000_000_000 + nsec)
    return time.time_ns()


def _loopback_baseline(samples: int = 500) -> float:
    """Median one-way time of a bare loopback datagram, in ms, measured like the run."""
    a, b = _open_phone(), _open_phone()
    b.setblocking(True)
    times = []
    for _ in range(samples):
        a.sendto(_STAMP.pack(time.time_ns(), 0), b.getsockname())
        data, ancdata, _, _ = b.recvmsg(64, _ANC_SPACE)
        times.append(_arrival_ns(ancdata) - _STAMP.unpack_from(data)[0])
    a.close()
    b.close()
    return float(np.median(times)) / 1e6


def phones_main(conn: Connection, calls: int) -> None:
    """The phone process: 2 * calls sockets, paced sends, latency from embedded stamps."""
    socks = [_open_phone() for _ in range(2 * calls)]
    conn.send([s.getsockname()[1] for s in socks])
    leg_ports, seconds = conn.recv()
    baseline = _loopback_baseline()
    targets = [(HOST, port) for port in leg_ports]
    by_fd = {s.fileno(): s for s in socks}
    poller = select.epoll()
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    count = len(socks)
    offsets = [i * PERIOD / count for i in range(count)]
    seqs = [0] * count
    sent = 0
    received = 0
    latencies = array("q")
    clock_ns = time.time_ns  # the kernel stamps arrivals on the realtime clock

    def drain(fd: int) -> None:
        nonlocal received
        sock = by_fd[fd]
        while True:
            try:
                data, ancdata, _, _ = sock.recvmsg(2048, _ANC_SPACE)
            except BlockingIOError:
                return
            # The engine's RTCP to "port + 1" can land on a neighbouring phone.
            if len(data) != 172 or data[1] != 0:
                continue
            received += 1
            latencies.append(_arrival_ns(ancdata) - _STAMP.unpack_from(data, 12)[0])

    def wait_until(deadline: float) -> None:
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                return
            for fd, _ in poller.poll(left):
                drain(fd)

    cpu_start = time.process_time()
    start = time.perf_counter() + 0.05
    end = start + seconds
    conn.send("start")
    index = 0
    rounds = 0
    while True:
        due = start + rounds * PERIOD + offsets[index]
        if due >= end:
            break
        wait_until(due)
        seq = seqs[index]
        seqs[index] = (seq + 1) & 0xFFFF
        packet = (
            _RTP.pack(0x80, 0, seq, seq * 160, index + 1) + _STAMP.pack(clock_ns(), index) + _FILLER
        )
        socks[index].sendto(packet, targets[index])
        sent += 1
        index += 1
        if index == count:
            index = 0
            rounds += 1
    conn.send("stop")
    wait_until(time.perf_counter() + DRAIN)
    cpu = time.process_time() - cpu_start
    lat_ms = np.frombuffer(latencies, dtype=np.int64) / 1e6 if latencies else np.zeros(1)
    conn.send(
        {
            "sent": sent,
            "received": received,
            "p50": float(np.percentile(lat_ms, 50)),
            "p99": float(np.percentile(lat_ms, 99)),
            "max": float(lat_ms.max()),
            "min": float(lat_ms.min()),
            "baseline": baseline,
            "phones_cpu": 100.0 * cpu / (seconds + DRAIN),
        }
    )
    for sock in socks:
        sock.close()


async def relay(
    conn: Connection, calls: int, seconds: float, record: bool, port_base: int
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    phone_ports: list[int] = await loop.run_in_executor(None, conn.recv)
    engine = MediaEngine(HOST, port_base, port_base + 4 * calls + 100)
    await engine.start()
    legs = [await engine.allocate() for _ in range(2 * calls)]
    recorders: list[StereoRecorder] = []
    with tempfile.TemporaryDirectory(prefix="ccbox-bench-") as tmp:
        for i in range(calls):
            a, b = legs[2 * i], legs[2 * i + 1]
            for leg, port in ((a, phone_ports[2 * i]), (b, phone_ports[2 * i + 1])):
                leg.set_codec(Codec.PCMU, 0, 101)
                leg.set_remote(HOST, port)
            recorder = StereoRecorder(Path(tmp) / f"{i:04d}.wav", engine.now()) if record else None
            if recorder is not None:
                recorders.append(recorder)
            engine.bridge(a, b, recorder)
        conn.send(([leg.local_port for leg in legs], seconds))
        await loop.run_in_executor(None, conn.recv)  # "start"
        times_start = os.times()
        wall_start = time.perf_counter()
        await loop.run_in_executor(None, conn.recv)  # "stop"
        wall = time.perf_counter() - wall_start
        times_end = os.times()
        result: dict[str, Any] = await loop.run_in_executor(None, conn.recv)
        recorded = sum(r.close(engine.now()) for r in recorders)
        await engine.stop()
    result["relayed"] = sum(leg.stats.packets_sent for leg in legs)
    result["cpu_user"] = 100.0 * (times_end.user - times_start.user) / wall
    result["cpu_sys"] = 100.0 * (times_end.system - times_start.system) / wall
    result["recorded"] = recorded
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--no-record", action="store_true", help="relay without recording")
    parser.add_argument(
        "--port-base", type=int, default=46000, help="first RTP port of the engine's range"
    )
    parser.add_argument(
        "--nice", type=int, default=0, help="niceness change for the engine (negative needs root)"
    )
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    phones = ctx.Process(target=phones_main, args=(theirs, args.calls), daemon=True)
    phones.start()
    if args.nice:
        # The phones are already running: only the engine process changes priority.
        os.nice(args.nice)
    coro = relay(ours, args.calls, args.seconds, not args.no_record, args.port_base)
    if args.loop == "uvloop":
        import uvloop

        result = uvloop.run(coro)
    else:
        result = asyncio.run(coro)
    phones.join(5)

    sent, received = result["sent"], result["received"]
    cpu = result["cpu_user"] + result["cpu_sys"]
    print(f"calls            {args.calls} ({2 * args.calls} RTP streams, {args.loop})")
    print(
        f"duration         {args.seconds:.1f} s, recording {'off' if args.no_record else 'on'}, "
        f"engine nice {os.getpriority(os.PRIO_PROCESS, 0)}"
    )
    print(f"packets sent     {sent}")
    print(f"packets received {received}  (relayed by engine: {result['relayed']})")
    print(f"loss             {sent - received} ({100.0 * (sent - received) / max(sent, 1):.3f} %)")
    print(
        f"latency one-way  p50 {result['p50']:.3f} ms  p99 {result['p99']:.3f} ms  "
        f"max {result['max']:.3f} ms  min {result['min']:.3f} ms"
    )
    print(
        f"added latency    p50 {result['p50'] - result['baseline']:.3f} ms  "
        f"p99 {result['p99'] - result['baseline']:.3f} ms  "
        f"(bare loopback {result['baseline']:.3f} ms)"
    )
    print(
        f"engine CPU       {cpu:.1f} % of a core (user {result['cpu_user']:.1f} %, "
        f"sys {result['cpu_sys']:.1f} %), {1e6 * cpu / 100 / max(received / args.seconds, 1):.1f} "
        "µs per packet"
    )
    print(f"phones CPU       {result['phones_cpu']:.1f} %")
    if not args.no_record:
        print(f"recorded         {result['recorded']:.1f} s of audio in {args.calls} files")


if __name__ == "__main__":
    main()
