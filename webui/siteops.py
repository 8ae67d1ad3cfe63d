"""What every admin page does around a change of the site configuration: the one
`SiteService` call, the operation log entry (who, what, before/after; never a secret),
and the words for what switchd said.

Pages never write the site tables themselves: every change is the service's
validate-whole-document, write-atomically, `reload` (decision 0014), exactly as
`ccbox config import` does it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from firmware.siteconfig import SiteInvalid, SiteService
from firmware.siteconfig.errors import SiteError
from firmware.siteconfig.schema import KEYS
from webui import oplog
from webui.web import Ctx

T = TypeVar("T")


def service(ctx: Ctx) -> SiteService:
    return SiteService(ctx.web.data_dir, ctx.web.db)


@dataclass
class Applied:
    """How a change went, for the page: `note` (a msgid) and what switchd said."""

    note: str
    detail: str = ""
    warnings: list[SiteError] = field(default_factory=list)
    ok: bool = True


def switchd_note(said: str | None) -> Applied:
    if said is None:
        return Applied("Saved. switchd is not running; it reads the change when it starts.")
    if said.startswith("switchd refused"):
        return Applied("Saved, but switchd refused it and keeps the configuration it had.",
                       said, ok=False)
    if said.startswith("switchd applied") or said == "switchd reloaded":
        return Applied("Saved and applied to the running switchd (calls in progress carry "
                       "on).", said)
    return Applied("Saved; switchd did not confirm yet and reads it shortly.", said)


def item_of(ctx: Ctx, section: str, key: str) -> dict[str, Any] | None:
    for x in service(ctx).document()[section]:
        if str(x.get(KEYS[section])) == key:
            return dict(x)
    return None


def upsert(ctx: Ctx, section: str, item: Mapping[str, Any], old_key: str | None) -> Applied:
    """Add or replace one object; raises SiteInvalid (nothing written)."""
    key = str(item.get(KEYS[section]))
    before = item_of(ctx, section, old_key) if old_key is not None else None
    outcome = service(ctx).upsert(section, item, old_key)
    after = item_of(ctx, section, key)
    action = f"site.{section}.{'edit' if before is not None else 'add'}"
    oplog.record(ctx.user.name, ctx.address, action, key, before, after)
    applied = switchd_note(outcome.switchd)
    applied.warnings = list(outcome.warnings)
    return applied


def remove(ctx: Ctx, section: str, key: str) -> Applied:
    before = item_of(ctx, section, key)
    outcome = service(ctx).remove(section, key)
    oplog.record(ctx.user.name, ctx.address, f"site.{section}.delete", key, before, None)
    return switchd_note(outcome.switchd)


def index_for(ctx: Ctx, section: str, key: str | None) -> int:
    """Where the object will be in its section (for mapping findings to fields)."""
    items = service(ctx).document()[section]
    for i, x in enumerate(items):
        if key is not None and str(x.get(KEYS[section])) == key:
            return i
    return len(items)


def attempt(fn: Callable[[], T]) -> tuple[T | None, SiteInvalid | None]:
    try:
        return fn(), None
    except SiteInvalid as e:
        return None, e
