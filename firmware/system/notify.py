"""systemd integration: sd_notify readiness/watchdog and logging to the journal.

On the box every daemon is a Type=notify unit with WatchdogSec; on a dev machine (no
NOTIFY_SOCKET) every call here is a no-op and logs go to stderr, so daemons call these
unconditionally.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

LOG_LEVEL_ENV = "CCBOX_LOG_LEVEL"
JOURNAL_SOCKET = Path("/run/systemd/journal/socket")


def _under_systemd() -> bool:
    return bool(os.environ.get("NOTIFY_SOCKET"))


def _notify(state: str) -> None:
    if not _under_systemd():
        return
    import systemd.daemon  # only needed on the box; keeps dev-machine imports light

    systemd.daemon.notify(state)


def notify_ready() -> None:
    _notify("READY=1")


def notify_watchdog() -> None:
    _notify("WATCHDOG=1")


def notify_stopping() -> None:
    _notify("STOPPING=1")


def notify_status(text: str) -> None:
    """A one-line status shown by `systemctl status`."""
    _notify(f"STATUS={text}")


def watchdog_interval() -> float | None:
    """Seconds within which systemd wants a WATCHDOG=1, or None when no watchdog is armed.

    Ping at half this interval so one slow tick does not get the daemon killed.
    """
    if not _under_systemd():
        return None
    usec = os.environ.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = os.environ.get("WATCHDOG_PID")
    # The variables are inherited by children: only the process systemd meant may ping.
    if pid and pid != str(os.getpid()):
        return None
    try:
        seconds = int(usec) / 1_000_000
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def setup_logging(name: str) -> logging.Logger:
    """Route the process's logs: to the journal under systemd, to stderr otherwise."""
    level = os.environ.get(LOG_LEVEL_ENV, "INFO").upper()
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler: logging.Handler
    under_systemd = _under_systemd() or bool(os.environ.get("INVOCATION_ID"))
    # A container without journald would make every log call print a traceback instead.
    if under_systemd and JOURNAL_SOCKET.is_socket():
        from systemd.journal import JournalHandler

        handler = JournalHandler(SYSLOG_IDENTIFIER=name)
        # The journal stamps time, unit and priority itself.
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(name)s %(levelname)s: %(message)s", "%H:%M:%S")
        )
    root.addHandler(handler)
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    return logging.getLogger(name)
