"""Key/value settings kept in the database (SIP realm, first-boot state, ...)."""

from __future__ import annotations

from firmware.db.models import Setting


def get_setting(key: str, default: str | None = None) -> str | None:
    row = Setting.get_or_none(Setting.key == key)
    return default if row is None else row.value


def set_setting(key: str, value: str) -> None:
    Setting.insert(key=key, value=value).on_conflict_replace().execute()
