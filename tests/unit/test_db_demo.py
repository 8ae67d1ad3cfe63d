"""Demo extensions: created once, each with its own fresh strong password."""

from __future__ import annotations

from pathlib import Path

from firmware.db.connection import open_db
from firmware.db.demo import DEMO_EXTENSIONS, ensure_demo_data
from firmware.db.models import Extension
from firmware.db.sip_passwords import weak_password_reason


def test_first_start_creates_agents_and_supervisor(tmp_path: Path) -> None:
    demo = ensure_demo_data(open_db(tmp_path))
    numbers = [n for n, _, _ in demo]
    assert numbers == [str(n) for n in range(8001, 8011)] + ["8101"]
    names = dict((n, name) for n, name, _ in demo)
    assert names["8001"] == "坐席01" and names["8010"] == "坐席10" and names["8101"] == "班长"
    assert Extension.select().count() == len(DEMO_EXTENSIONS)


def test_passwords_are_distinct_strong_and_stored(tmp_path: Path) -> None:
    demo = ensure_demo_data(open_db(tmp_path))
    passwords = [p for _, _, p in demo]
    assert len(set(passwords)) == len(passwords)
    for number, _, password in demo:
        assert len(password) >= 12
        assert weak_password_reason(number, password) is None
        assert Extension.get(Extension.number == number).sip_password == password


def test_no_fixed_password_across_boxes(tmp_path: Path) -> None:
    boxes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        boxes.append({p for _, _, p in ensure_demo_data(open_db(tmp_path / name))})
    assert not boxes[0] & boxes[1]


def test_later_start_returns_the_same_extensions(tmp_path: Path) -> None:
    first = ensure_demo_data(open_db(tmp_path))
    again = ensure_demo_data(open_db(tmp_path))
    assert again == first
    assert Extension.select().count() == len(DEMO_EXTENSIONS)


def test_existing_extensions_mean_no_demo(tmp_path: Path) -> None:
    open_db(tmp_path)
    Extension.create(number="100", name="front desk", sip_password="Very-long-pass1")
    assert ensure_demo_data(open_db(tmp_path)) == []
    assert Extension.select().count() == 1


def test_deleted_demo_accounts_do_not_come_back(tmp_path: Path) -> None:
    ensure_demo_data(open_db(tmp_path))
    Extension.delete().execute()
    assert ensure_demo_data(open_db(tmp_path)) == []
    assert Extension.select().count() == 0
