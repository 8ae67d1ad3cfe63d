"""Persisted SIP bindings, so a restart of switchd keeps every phone reachable.

switchd's registrar stays the authority and keeps bindings in memory; this store only
mirrors them to the database behind its back (same write-behind thread as CDRs) and
hands them back once at startup.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import peewee

from firmware.db.connection import DEFAULT_BUSY_TIMEOUT_MS, connect
from firmware.db.models import Registration
from firmware.db.write_behind import WriteBehind

# The dict keys of `load_active`, which are also the keyword arguments of `save`.
FIELDS: tuple[str, ...] = (
    "aor",
    "contact",
    "source",
    "transport",
    "expires_at",
    "user_agent",
    "call_id",
    "cseq",
    "q",
)


class RegistrationStore:
    def __init__(
        self,
        data_dir: Path,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
    ) -> None:
        self.data_dir = data_dir
        self._busy_timeout_ms = busy_timeout_ms
        self._writer = WriteBehind(
            "registration-store",
            data_dir,
            busy_timeout_ms=busy_timeout_ms,
            retry_initial=retry_initial,
            retry_max=retry_max,
        )

    def start(self) -> None:
        self._writer.start()

    def stop(self, timeout: float = 10.0) -> bool:
        return self._writer.stop(timeout)

    def flush(self, timeout: float | None = None) -> bool:
        return self._writer.flush(timeout)

    def save(
        self,
        *,
        aor: str,
        contact: str,
        source: str,
        transport: str,
        expires_at: float,
        user_agent: str = "",
        call_id: str = "",
        cseq: int = 0,
        q: float = 1.0,
    ) -> None:
        """Insert or refresh the binding (aor, contact). Never blocks."""
        row: dict[str, Any] = {
            "aor": aor,
            "contact": contact,
            "source": source,
            "transport": transport,
            "expires_at": expires_at,
            "user_agent": user_agent,
            "call_id": call_id,
            "cseq": cseq,
            "q": q,
        }
        self._writer.submit(partial(_upsert, row), f"save binding {row!r}")

    def delete(self, aor: str, contact: str) -> None:
        """Forget the binding (aor, contact). Never blocks."""
        self._writer.submit(
            partial(_delete, aor, contact), f"delete binding aor={aor!r} contact={contact!r}"
        )

    def load_active(self, now: float) -> list[dict[str, Any]]:
        """Bindings still valid at `now`, read synchronously (for startup).

        Expired rows are deleted on the way: a restart cannot revive them, and phones
        that re-register from new NAT ports would otherwise pile them up.
        """
        db = connect(self.data_dir, self._busy_timeout_ms)
        try:
            with db.atomic():
                Registration.delete().where(Registration.expires_at <= now).execute(db)
                query = (
                    Registration.select(*(getattr(Registration, f) for f in FIELDS))
                    .where(Registration.expires_at > now)
                    .order_by(Registration.aor, Registration.q.desc(), Registration.contact)
                    .dicts()
                )
                return [dict(r) for r in query.execute(db)]
        finally:
            db.close()


def _upsert(row: dict[str, Any], db: peewee.SqliteDatabase) -> object:
    refreshed = [getattr(Registration, f) for f in FIELDS if f not in ("aor", "contact")]
    return (
        Registration.insert(**row)
        .on_conflict(conflict_target=[Registration.aor, Registration.contact], preserve=refreshed)
        .execute(db)
    )


def _delete(aor: str, contact: str, db: peewee.SqliteDatabase) -> object:
    return (
        Registration.delete()
        .where((Registration.aor == aor) & (Registration.contact == contact))
        .execute(db)
    )
