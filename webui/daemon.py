"""ccbox-webd: serves the web UI (Bottle on cheroot's thread pool).

It reads and writes only the database: switchd runs and keeps calls up whether or not
webd is there.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import peewee
from cheroot import wsgi

from firmware.config import default_data_dir
from firmware.db.connection import open_db
from firmware.system.notify import (
    notify_ready,
    notify_stopping,
    notify_watchdog,
    setup_logging,
    watchdog_interval,
)
from webui import sessions
from webui.app import build_app

TICK = 0.2
PURGE_EVERY = 600.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="ccbox-webd", description="ccbox web UI daemon")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="data directory (default: $CCBOX_DATA, else /data)",
    )
    p.add_argument("--web-port", type=int, default=8080, metavar="N")
    p.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all)")
    # Each open event stream (agent desk, supervisor view, wallboard) holds a thread;
    # webui/pages/api.py admits at most MAX_STREAMS of them so pages stay served.
    p.add_argument("--threads", type=int, default=48, help="worker threads (default: 48)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    log = setup_logging("ccbox-webd")
    data_dir: Path = (args.data or default_data_dir()).absolute()
    if not data_dir.is_dir():
        log.error("data directory %s does not exist", data_dir)
        return 1
    db = open_db(data_dir)
    app = build_app(db, data_dir)
    server = wsgi.Server((args.host, args.web_port), app, numthreads=args.threads)
    try:
        server.prepare()
    except OSError as exc:
        log.error("cannot listen on %s:%d: %s", args.host, args.web_port, exc)
        return 1

    # The handler only records the signal: stopping the server from inside a signal
    # handler would join its threads while the main thread is interrupted.
    stop_signal: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_signal.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    serving = threading.Thread(target=server.serve, name="http", daemon=True)
    serving.start()
    log.info("web UI on http://%s:%d/ (data %s)", args.host, args.web_port, data_dir)
    notify_ready()

    interval = watchdog_interval()
    next_ping = 0.0
    next_purge = 0.0
    while not stop_signal and serving.is_alive():
        if time.monotonic() >= next_purge:
            # Expired sessions are refused on sight; this only keeps the table small.
            next_purge = time.monotonic() + PURGE_EVERY
            try:
                with db.connection_context():
                    sessions.purge_expired()
            except peewee.DatabaseError as exc:
                log.warning("cannot purge expired sessions: %s", exc)
        if interval is not None and time.monotonic() >= next_ping:
            # Only while the HTTP thread lives: a dead server must let the watchdog fire.
            notify_watchdog()
            next_ping = time.monotonic() + interval / 2
        time.sleep(TICK)

    notify_stopping()
    crashed = not stop_signal
    if crashed:
        log.error("HTTP server thread ended unexpectedly")
    else:
        log.info("stopping on %s", signal.Signals(stop_signal[0]).name)
    server.stop()
    db.close()
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
