"""In-memory copy of the extensions, so the call path never reads the database.

Refreshed from SQLite off the event loop (at start, on `reload`, and every few seconds).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from drivers.sip.endpoint import Directory

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExtensionInfo:
    number: str
    name: str
    password: str
    enabled: bool
    digest: tuple[str, ...] = ("MD5",)


class ExtensionDirectory(Directory):
    def __init__(self) -> None:
        self._by_number: dict[str, ExtensionInfo] = {}

    def load_from_db(self) -> int:
        """Blocking: run in a thread. Returns how many extensions are known."""
        from firmware.db.models import Extension

        fresh = {
            e.number: ExtensionInfo(
                e.number, e.name or "", e.sip_password, bool(e.enabled),
                tuple(a.strip().upper() for a in (e.digest_algorithms or "MD5").split(",")
                      if a.strip()),
            )
            for e in Extension.select()
        }
        if set(fresh) != set(self._by_number):
            log.info("extensions loaded: %d", len(fresh))
        self._by_number = fresh  # one reference swap: readers never see half a reload
        return len(fresh)

    def replace(self, items: list[ExtensionInfo]) -> None:
        self._by_number = {e.number: e for e in items}

    def get(self, number: str) -> ExtensionInfo | None:
        return self._by_number.get(number)

    def password(self, number: str) -> str | None:
        e = self._by_number.get(number)
        return e.password if e is not None and e.enabled else None

    def digest_algorithms(self, number: str) -> tuple[str, ...] | None:
        e = self._by_number.get(number)
        return e.digest if e is not None else None

    def all(self) -> list[ExtensionInfo]:
        return list(self._by_number.values())
