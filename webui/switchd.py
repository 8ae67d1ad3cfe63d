"""webd's side of switchd's control socket (one JSON line each way)."""

from __future__ import annotations

from pathlib import Path

from firmware.cli.errors import CliError
from firmware.cli.status import NOT_RUNNING, query, switchd_socket

# A page must not hang on a stuck switchd: the dashboard shows "no answer" instead.
TIMEOUT = 1.5


class SwitchdDown(Exception):
    def __init__(self, message: str, running: bool) -> None:
        super().__init__(message)
        self.running = running


def status(data_dir: Path) -> dict[str, object]:
    try:
        return query(switchd_socket(data_dir), {"cmd": "status"}, timeout=TIMEOUT)
    except CliError as exc:
        raise SwitchdDown(str(exc), exc.status != NOT_RUNNING) from None


def reload(data_dir: Path) -> bool | None:
    """Ask switchd to re-read extensions: True done, False failed, None not running
    (it reads them when it starts, and re-reads the database periodically anyway)."""
    try:
        reply = query(switchd_socket(data_dir), {"cmd": "reload"}, timeout=TIMEOUT)
    except CliError as exc:
        return None if exc.status == NOT_RUNNING else False
    return not (reply.get("ok") is False or "error" in reply)
