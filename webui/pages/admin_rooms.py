"""Conference rooms (6000-6099): list, add, edit, delete, new PIN.

Rooms are a section of the site configuration (`conference_rooms`), so every change is
`SiteService.upsert`/`remove` like the other admin pages: the whole site is validated
(a room a DID still sends callers to cannot be deleted), written in one transaction,
and switchd applies it live (people in a room stay in it; a new PIN counts for the
next caller). The PIN is stored as an argon2id hash, as a voicemail PIN: the page never
shows a stored PIN; a PIN the box generates is shown once, and the operation log only
says that a PIN was set.
"""

from __future__ import annotations

from typing import Any

import bottle

from firmware.siteconfig import SiteInvalid
from firmware.siteconfig.store import generate_room_pin
from webui import oplog, siteops
from webui.web import Ctx, Web

SECTION = "conference_rooms"
FIELDS = ("number", "name", "pin")


def _logged(room: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the operation log keeps of a room: never the hash."""
    if room is None:
        return None
    return {"number": room["number"], "name": room["name"], "pin": "(set)"
            if room.get("pin_hash") else "(none)"}


def _field_errors(refused: SiteInvalid, index: int) -> tuple[dict[str, list[str]], list[Any]]:
    by_field: dict[str, list[str]] = {}
    other = []
    for e in refused.errors:
        p = e.path
        if len(p) >= 3 and p[0] == SECTION and p[1] == index and p[2] in FIELDS:
            by_field.setdefault(str(p[2]), []).append(e.message)
        else:
            other.append(e)
    return by_field, other


def register(web: Web) -> None:
    def list_page(ctx: Ctx, applied: siteops.Applied | None = None,
                  refused: SiteInvalid | None = None, pins: dict[str, str] | None = None,
                  status: int = 200) -> str:
        rooms = siteops.service(ctx).document()[SECTION]
        bottle.response.status = status
        return ctx.render("admin_rooms.tpl", rooms=rooms, applied=applied, refused=refused,
                          pins=pins or {})

    def form_page(ctx: Ctx, key: str | None, form: dict[str, Any],
                  errors: dict[str, list[str]] | None = None, other: list[Any] | None = None,
                  status: int = 200) -> str:
        bottle.response.status = status
        return ctx.render("admin_room_form.tpl", key=key, form=form, errors=errors or {},
                          other=other or [])

    def room_or_404(ctx: Ctx, number: str) -> dict[str, Any]:
        room = siteops.item_of(ctx, SECTION, number)
        if room is None:
            raise bottle.HTTPError(404, f"no conference room {number}")
        return room

    @web.route("GET", "/admin/rooms", "site.view")
    def list_(ctx: Ctx) -> str:
        return list_page(ctx)

    @web.route("GET", "/admin/rooms/new", "site.edit")
    def new(ctx: Ctx) -> str:
        return form_page(ctx, None, {"number": "", "name": ""})

    @web.route("GET", "/admin/rooms/<number:re:[0-9]{2,15}>/edit", "site.edit")
    def edit(ctx: Ctx, number: str) -> str:
        return form_page(ctx, number, room_or_404(ctx, number))

    def save(ctx: Ctx, old: str | None) -> str:
        f = bottle.request.forms
        form = {"number": f.getunicode("number", "").strip(),
                "name": f.getunicode("name", "").strip()}
        pin = f.getunicode("pin", "").strip()
        before = room_or_404(ctx, old) if old is not None else None
        svc = siteops.service(ctx)
        rooms = svc.document()[SECTION]
        index = next((i for i, r in enumerate(rooms) if r["number"] == (old or form["number"])),
                     len(rooms))
        if old is None and index < len(rooms):
            return form_page(ctx, None, form, {"number": [ctx._("This name is already taken.")]},
                             status=400)
        # no PIN typed: an existing room keeps its own, a new room gets one generated
        item = {**form, "pin": pin or None, "pin_hash": None}
        try:
            outcome = svc.upsert(SECTION, item, old)
        except SiteInvalid as e:
            by_field, other = _field_errors(e, index)
            return form_page(ctx, old, form, by_field, other, status=400)
        after = siteops.item_of(ctx, SECTION, form["number"])
        logged_after = _logged(after)
        if logged_after is not None and pin:
            logged_after["pin"] = "(new)"
        oplog.record(ctx.user.name, ctx.address,
                     f"site.{SECTION}.{'edit' if before is not None else 'add'}",
                     form["number"], _logged(before), logged_after)
        applied = siteops.switchd_note(outcome.switchd)
        applied.warnings = list(outcome.warnings)
        return list_page(ctx, applied, pins=outcome.generated_pins)

    @web.route("POST", "/admin/rooms", "site.edit")
    def create(ctx: Ctx) -> str:
        return save(ctx, None)

    @web.route("POST", "/admin/rooms/<number:re:[0-9]{2,15}>", "site.edit")
    def update(ctx: Ctx, number: str) -> str:
        return save(ctx, number)

    @web.route("POST", "/admin/rooms/<number:re:[0-9]{2,15}>/pin", "site.edit")
    def new_pin(ctx: Ctx, number: str) -> str:
        before = room_or_404(ctx, number)
        pin = generate_room_pin(number)
        outcome = siteops.service(ctx).upsert(
            SECTION, {"number": number, "name": before["name"], "pin": pin, "pin_hash": None})
        oplog.record(ctx.user.name, ctx.address, f"site.{SECTION}.pin", number,
                     _logged(before), {**(_logged(before) or {}), "pin": "(new)"})
        return list_page(ctx, siteops.switchd_note(outcome.switchd), pins={number: pin})

    @web.route("POST", "/admin/rooms/<number:re:[0-9]{2,15}>/delete", "site.edit")
    def delete(ctx: Ctx, number: str) -> str:
        before = room_or_404(ctx, number)
        try:
            outcome = siteops.service(ctx).remove(SECTION, number)
        except SiteInvalid as e:
            return list_page(ctx, refused=e, status=409)
        oplog.record(ctx.user.name, ctx.address, f"site.{SECTION}.delete", number,
                     _logged(before), None)
        return list_page(ctx, siteops.switchd_note(outcome.switchd))
