"""`ccbox config export|import` and `ccbox blacklist list|add|remove|unlock`.

Both go through firmware.siteconfig: the same validation as the web UI, one
transaction, then a running switchd is told to reload (calls in progress are kept).
"""

from __future__ import annotations

import getpass
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from firmware.cli.errors import CliError
from firmware.cli.table import format_table
from firmware.db.connection import open_db
from firmware.ivr.caller import normalize_cn
from firmware.siteconfig import SiteInvalid, SiteService
from firmware.siteconfig.errors import SiteError
from firmware.siteconfig.schema import DEFAULT_TZ
from firmware.siteconfig.service import SectionDiff
from webui import oplog

ADDRESS = "local"
INVALID = 2  # exit status: the file (or the change) was refused


def _actor() -> str:
    return "cli:" + (os.environ.get("SUDO_USER") or _user())


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


def _service(data_dir: Path) -> SiteService:
    return SiteService(data_dir, open_db(data_dir))


def _print_errors(errors: tuple[SiteError, ...] | list[SiteError], heading: str) -> None:
    print(heading, file=sys.stderr)
    for e in errors:
        print(f"  {e}", file=sys.stderr)


def _print_changes(changes: dict[str, SectionDiff], verb: str) -> None:
    shown = False
    for section, d in changes.items():
        if d.empty:
            continue
        shown = True
        parts = []
        for label, names in (("+", d.added), ("~", d.changed), ("-", d.removed)):
            if names:
                more = f" (+{len(names) - 8} more)" if len(names) > 8 else ""
                parts.append(f"{label} {', '.join(names[:8])}{more}")
        print(f"  {section:<13} {'; '.join(parts)}")
    if not shown:
        print(f"  nothing to {verb}: the box already has this configuration")


# --- config ----------------------------------------------------------------------------


def export(data_dir: Path, with_secrets: bool) -> int:
    svc = _service(data_dir)
    try:
        text = svc.export_yaml(with_secrets=with_secrets)
    except SiteInvalid as e:
        _print_errors(e.errors, "the stored configuration cannot be read:")
        return 1
    sys.stdout.write(text)
    if with_secrets:
        print("ccbox: the export contains SIP passwords; keep the file safe", file=sys.stderr)
    return 0


def import_(data_dir: Path, path: Path, dry_run: bool) -> int:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise CliError(f"cannot read {path}: {e}") from None
    svc = _service(data_dir)
    try:
        outcome = svc.import_yaml(text, str(path), dry_run=dry_run,
                                  source_dir=path.resolve().parent)
    except SiteInvalid as e:
        _print_errors(e.errors, f"{path}: {len(e.errors)} error"
                      f"{'s' if len(e.errors) != 1 else ''}; nothing was changed")
        return INVALID
    for w in outcome.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if outcome.applied is None:
        print(f"{path} is valid (dry run: nothing was changed). Sections in the file: "
              f"{', '.join(outcome.sections) or 'none'}; it would change:")
        _print_changes(outcome.changes, "change")
        return 0
    applied = outcome.applied
    print(f"{path} imported. Changes:")
    _print_changes(applied.changes, "change")
    for flow, version in applied.new_flow_versions.items():
        print(f"  IVR flow {flow}: version {version} active")
    if applied.generated_passwords:
        # once, on stderr: not in a redirected stdout, not in any log
        print("new extensions, with their generated SIP passwords (shown once; "
              "`ccbox ext list --show-secrets` shows them again):", file=sys.stderr)
        for number, password in applied.generated_passwords.items():
            print(f"  {number}  {password}", file=sys.stderr)
    if applied.generated_pins:
        print("new conference rooms, with their generated PINs (shown once: they are "
              "stored hashed; give `pin:` in a site file or use the web UI to set "
              "another):", file=sys.stderr)
        for number, pin in applied.generated_pins.items():
            print(f"  {number}  {pin}", file=sys.stderr)
    print(applied.switchd or "switchd is not running: it reads the configuration when it "
          "starts")
    oplog.record(_actor(), ADDRESS, "config.import", str(path), None,
                 {k: {"added": d.added, "changed": d.changed, "removed": d.removed}
                  for k, d in applied.changes.items() if not d.empty})
    return 1 if applied.switchd and "refused" in applied.switchd else 0


# --- blacklist ---------------------------------------------------------------------------


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, ZoneInfo(DEFAULT_TZ)).strftime("%Y-%m-%d %H:%M")


def blacklist_list(data_dir: Path) -> int:
    svc = _service(data_dir)
    doc = svc.document()
    rows = [(b["number"], _treatment_text(b), b["expires"] or "-", b["note"])
            for b in doc["blacklist"]]
    print(format_table(("number", "treatment", "expires", "note"), rows) if rows
          else "blacklist: empty")
    lrows = [(lk["number"], lk["rule"], _when(lk["since"]), _when(lk["until"]), lk["reason"])
             for lk in svc.locks()]
    print()
    print(format_table(("locked number", "rule", "since", "until", "reason"), lrows) if lrows
          else "locked numbers: none")
    return 0


def _treatment_text(b: dict[str, Any]) -> str:
    if b["treatment"] == "prompt":
        return f"prompt {b['prompt'] or 'number_restricted'}"
    if b["treatment"] == "flow":
        return f"flow {b['flow']}"
    return f"reject {b['cause']}"


def blacklist_add(data_dir: Path, number: str, treatment: str, cause: int,
                  prompt: str | None, flow: str | None, note: str,
                  days: float | None) -> int:
    svc = _service(data_dir)
    doc = svc.document()
    if any(b["number"] == number for b in doc["blacklist"]):
        raise CliError(f"{number} is already on the blacklist (remove it first to change it)")
    expires = None
    if days is not None:
        expires = datetime.fromtimestamp(time.time() + days * 86400,
                                         ZoneInfo(DEFAULT_TZ)).isoformat(timespec="seconds")
    entry = {"number": number, "treatment": treatment, "cause": cause, "prompt": prompt,
             "flow": flow, "note": note, "expires": expires}
    doc["blacklist"].append(entry)
    outcome = _save(svc, doc, "blacklist")
    print(f"{number} added to the blacklist ({_treatment_text(entry)})")
    print(outcome)
    oplog.record(_actor(), ADDRESS, "blacklist.add", number, None,
                 {k: v for k, v in entry.items() if v is not None})
    return 0


def blacklist_remove(data_dir: Path, number: str) -> int:
    svc = _service(data_dir)
    doc = svc.document()
    kept = [b for b in doc["blacklist"] if b["number"] != number]
    if len(kept) == len(doc["blacklist"]):
        raise CliError(f"{number} is not on the blacklist (`ccbox blacklist list`)")
    doc["blacklist"] = kept
    print(f"{number} removed from the blacklist")
    print(_save(svc, doc, "blacklist"))
    oplog.record(_actor(), ADDRESS, "blacklist.remove", number)
    return 0


def _save(svc: SiteService, doc: dict[str, Any], section: str) -> str:
    try:
        outcome = svc.save(doc, [section])
    except SiteInvalid as e:
        raise CliError("refused, nothing was changed:\n" + "\n".join(
            f"  {err}" for err in e.errors), INVALID) from None
    return outcome.switchd or "switchd is not running: it reads the change when it starts"


def blacklist_unlock(data_dir: Path, number: str, by: str | None) -> int:
    """Lift the active lock of `number` (an auto-lock); the number's calls are counted
    from zero again."""
    svc = _service(data_dir)
    who = by or _actor()
    if not svc.unlock(number, who):
        raise CliError(f"{number} is not locked (`ccbox blacklist list` shows the locks)")
    print(f"{number} unlocked")
    oplog.record(who, ADDRESS, "lock.unlock", normalize_cn(number))
    return 0
