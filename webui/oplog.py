"""The operation log: every change made through the web UI, and every playback."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

from firmware.db.models import OpLog

# Never written to the log, whatever a caller passes in.
SECRET_KEYS = frozenset({"sip_password", "password", "password_hash", "csrf", "token",
                         "bearer_token"})


def _json(value: Mapping[str, object] | None) -> str | None:
    if value is None:
        return None
    clean = {k: ("(secret)" if k in SECRET_KEYS else v) for k, v in value.items()}
    return json.dumps(clean, ensure_ascii=False, sort_keys=True, default=str)


def record(
    actor: str,
    address: str,
    action: str,
    target: str = "",
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
) -> None:
    OpLog.create(
        at=time.time(),
        actor=actor,
        address=address,
        action=action,
        target=target,
        before=_json(before),
        after=_json(after),
    )
