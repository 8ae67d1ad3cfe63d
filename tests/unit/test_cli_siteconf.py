"""`ccbox config export|import` and `ccbox blacklist`, run as the installed command."""

from __future__ import annotations

from pathlib import Path

from firmware.siteconfig.demo import DEMO_SITE
from tests.unit.test_cli_commands import ccbox


def test_import_export_round_trip_and_secrets(tmp_path: Path) -> None:
    r = ccbox(tmp_path, "config", "import", str(DEMO_SITE), "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "dry run: nothing was changed" in r.stdout and "+ 96777" in r.stdout
    assert "dids: []" in ccbox(tmp_path, "config", "export").stdout  # nothing written
    r = ccbox(tmp_path, "config", "import", str(DEMO_SITE))
    assert r.returncode == 0, r.stderr
    # generated passwords once, on stderr; never in stdout
    passwords = [ln.split()[1] for ln in r.stderr.splitlines() if ln.startswith("  8")]
    assert len(passwords) == 11 and not any(p in r.stdout for p in passwords)
    exported = ccbox(tmp_path, "config", "export")
    assert exported.returncode == 0 and not any(p in exported.stdout for p in passwords)
    assert all(p in ccbox(tmp_path, "config", "export", "--with-secrets").stdout
               for p in passwords)
    site = tmp_path / "site.yaml"
    site.write_text(exported.stdout, encoding="utf-8")
    r = ccbox(tmp_path, "config", "import", str(site))
    assert r.returncode == 0 and "nothing to change" in r.stdout, r.stdout
    assert ccbox(tmp_path, "config", "export").stdout == exported.stdout


def test_bad_file_exit_2_with_lines(tmp_path: Path) -> None:
    site = tmp_path / "bad.yaml"
    site.write_text("queues:\n  - name: q\n    strategy: fastest\n  - name: q\n",
                    encoding="utf-8")
    r = ccbox(tmp_path, "config", "import", str(site))
    assert r.returncode == 2
    assert f"{site}:3: queues[0].strategy (queue 'q'): expected one of ring-all" in r.stderr
    assert f"{site}:4: queues[1].name (queue 'q'): duplicate queue 'q'" in r.stderr
    assert "nothing was changed" in r.stderr


def test_blacklist_add_list_remove(tmp_path: Path) -> None:
    r = ccbox(tmp_path, "blacklist", "add", "0571000*", "--treatment", "prompt", "--note",
              "骚扰", "--days", "7")
    assert r.returncode == 0, r.stderr
    listing = ccbox(tmp_path, "blacklist", "list").stdout
    assert "0571000*" in listing and "prompt number_restricted" in listing and "骚扰" in listing
    r = ccbox(tmp_path, "blacklist", "add", "0571000*")
    assert r.returncode == 1 and "already on the blacklist" in r.stderr
    r = ccbox(tmp_path, "blacklist", "add", "139*", "--treatment", "flow", "--flow", "nope")
    assert r.returncode == 2 and "no IVR flow 'nope'" in r.stderr
    assert ccbox(tmp_path, "blacklist", "remove", "0571000*").returncode == 0
    assert "blacklist: empty" in ccbox(tmp_path, "blacklist", "list").stdout
    r = ccbox(tmp_path, "blacklist", "unlock", "13912345678")
    assert r.returncode == 1 and "is not locked" in r.stderr
