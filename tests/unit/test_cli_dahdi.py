"""`ccbox dahdi conf`: system.conf from the board and the span settings, printed or
written; applying says clearly what is wrong when DAHDI is not there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from firmware.db.connection import open_db
from firmware.db.settings import set_setting

CCBOX = str(Path(sys.executable).parent / "ccbox")


def ccbox(data: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CCBOX_DATA", "CCBOX_BOARD")}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([CCBOX, "dahdi", "conf", *args, "--data", str(data)],
                          capture_output=True, text=True, timeout=30, env=env)


def test_prints_the_board_spans_with_the_admins_settings(tmp_path: Path) -> None:
    r = ccbox(tmp_path, "--board", "x86-generic")
    assert r.returncode == 0, r.stderr
    assert "span=1,1,0,ccs,hdb3,crc4\nbchan=1-15,17-31\ndchan=16\n" in r.stdout
    assert "fxsks=32\nfxsks=33\n" in r.stdout
    open_db(tmp_path)
    set_setting("dahdi.spans", json.dumps({"1": {"crc4": False, "timing": "internal"}}))
    r = ccbox(tmp_path, "--board", "x86-generic")
    assert r.returncode == 0, r.stderr
    assert "span=1,0,0,ccs,hdb3\n" in r.stdout


def test_writes_the_file_and_refuses_a_bad_setting_keeping_it(tmp_path: Path) -> None:
    target = tmp_path / "etc" / "system.conf"
    r = ccbox(tmp_path, "--board", "x86-generic", "--write", str(target))
    assert r.returncode == 0, r.stderr
    good = target.read_text()
    assert good.startswith("# /etc/dahdi/system.conf for board x86-generic")
    open_db(tmp_path)
    set_setting("dahdi.spans", json.dumps({"2": {"crc4": False}}))
    r = ccbox(tmp_path, "--board", "x86-generic", "--write", str(target))
    assert r.returncode == 1
    assert "there is no span 2 on board x86-generic" in r.stderr
    assert target.read_text() == good  # the last good file stays


def test_apply_without_dahdi_tools_names_the_package(tmp_path: Path) -> None:
    target = tmp_path / "system.conf"
    r = ccbox(tmp_path, "--board", "x86-generic", "--apply", "--write", str(target),
              path=str(Path(sys.executable).parent))  # a PATH without dahdi_cfg
    assert r.returncode == 1
    assert "dahdi_cfg is not installed (Debian package `dahdi`)" in r.stderr
    assert target.is_file()


def test_apply_on_a_board_without_dahdi_is_a_no_op(tmp_path: Path) -> None:
    r = ccbox(tmp_path, "--board", "sim", "--apply")
    assert r.returncode == 0 and "nothing to apply" in r.stderr
    r = ccbox(tmp_path, "--board", "sim")
    assert r.returncode == 1 and "has no DAHDI telephony" in r.stderr
