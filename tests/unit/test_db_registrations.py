"""RegistrationStore: SIP bindings survive a restart of switchd."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from firmware.db.models import Registration
from firmware.db.registrations import FIELDS, RegistrationStore

NOW = 1_700_000_000.0


def _binding(**kw: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "aor": "8001",
        "contact": "sip:8001@192.168.1.20:5062;transport=udp",
        "source": "192.168.1.20:5062",
        "transport": "udp",
        "expires_at": NOW + 300,
        "user_agent": "Yealink SIP-T46U 108.86.0.20",
        "call_id": "a84b4c76e66710@192.168.1.20",
        "cseq": 314159,
        "q": 0.8,
    }
    b.update(kw)
    return b


def test_round_trip_keeps_every_field(tmp_path: Path) -> None:
    store = RegistrationStore(tmp_path)
    store.start()
    saved = _binding()
    store.save(**saved)
    assert store.stop()
    # A new process: a fresh store reads what the old one wrote.
    loaded = RegistrationStore(tmp_path).load_active(NOW)
    assert loaded == [saved]
    assert tuple(loaded[0]) == FIELDS
    assert set(FIELDS) == {f.name for f in Registration._meta.sorted_fields} - {"id"}


def test_save_refreshes_the_same_binding(tmp_path: Path) -> None:
    store = RegistrationStore(tmp_path)
    store.start()
    store.save(**_binding())
    store.save(**_binding(expires_at=NOW + 3600, cseq=314160, source="192.168.1.20:5070"))
    store.save(**_binding(contact="sip:8001@10.0.0.5:5060", transport="tcp", q=1.0))
    assert store.stop()
    loaded = {b["contact"]: b for b in RegistrationStore(tmp_path).load_active(NOW)}
    assert len(loaded) == 2
    refreshed = loaded["sip:8001@192.168.1.20:5062;transport=udp"]
    assert refreshed["cseq"] == 314160 and refreshed["expires_at"] == NOW + 3600
    assert refreshed["source"] == "192.168.1.20:5070"


def test_delete_and_expiry(tmp_path: Path) -> None:
    store = RegistrationStore(tmp_path)
    store.start()
    store.save(**_binding(aor="8001"))
    store.save(**_binding(aor="8002", contact="sip:8002@192.168.1.21:5060"))
    store.save(**_binding(aor="8003", contact="sip:8003@192.168.1.22:5060", expires_at=NOW - 1))
    store.delete("8001", _binding()["contact"])
    assert store.flush(5)
    assert [b["aor"] for b in store.load_active(NOW)] == ["8002"]
    assert store.stop()
    # Expired rows are gone for good, not just hidden.
    assert [b["aor"] for b in RegistrationStore(tmp_path).load_active(NOW - 100)] == ["8002"]


def test_load_on_an_empty_data_dir(tmp_path: Path) -> None:
    assert RegistrationStore(tmp_path).load_active(NOW) == []
