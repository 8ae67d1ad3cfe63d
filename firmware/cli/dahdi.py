"""`ccbox dahdi conf`: DAHDI's /etc/dahdi/system.conf from the board file and the
database, printed, written, or written and applied with `dahdi_cfg`.

On the box, ccbox-switchd's unit runs `ccbox dahdi conf --apply` before it starts on a
DAHDI board, so a span setting changed in the web UI takes effect with the switchd
restart the UI offers. The text comes from drivers/dahdi/system_conf.py, the same
function the web UI previews and the VM tier configures real DAHDI with.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from drivers.dahdi.system_conf import SystemConfError, generate, load_overrides
from firmware.cli.errors import CliError
from firmware.config import ConfigError, load_board
from firmware.db.connection import open_db

SYSTEM_CONF = Path("/etc/dahdi/system.conf")
DAHDI_CFG_TIMEOUT = 60.0


def conf(data_dir: Path, board_name: str, write: Path | None, apply: bool) -> int:
    try:
        board = load_board(board_name)
    except ConfigError as e:
        raise CliError(str(e)) from None
    if board.get("telephony", {}).get("driver") != "dahdi":
        if apply:
            # the unit runs this on every start: nothing to do on a board without DAHDI
            print(f"board {board_name} has no DAHDI telephony; nothing to apply",
                  file=sys.stderr)
            return 0
        raise CliError(f"board {board_name} has no DAHDI telephony (driver "
                       f"{board.get('telephony', {}).get('driver')!r})")
    open_db(data_dir)
    try:
        text = generate(board, load_overrides())
    except SystemConfError as e:
        raise CliError(f"cannot make system.conf: {e}") from None
    if write is None and not apply:
        sys.stdout.write(text)
        return 0
    path = write or SYSTEM_CONF
    _write_atomically(path, text)
    print(f"wrote {path}", file=sys.stderr)
    if apply:
        _dahdi_cfg(path)
    return 0


def _write_atomically(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise CliError(f"cannot write {path}: {e}") from None


def _dahdi_cfg(path: Path) -> None:
    tool = shutil.which("dahdi_cfg")
    if tool is None:
        raise CliError("dahdi_cfg is not installed (Debian package `dahdi`); "
                       f"{path} was written but not applied")
    try:
        proc = subprocess.run([tool, "-c", str(path)], capture_output=True, text=True,
                              timeout=DAHDI_CFG_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise CliError(f"dahdi_cfg did not finish within {DAHDI_CFG_TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()[-800:]
        raise CliError(f"dahdi_cfg refused {path} (exit {proc.returncode}): {detail}")
    print(f"applied with {tool}", file=sys.stderr)
