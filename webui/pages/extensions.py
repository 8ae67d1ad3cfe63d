"""Extensions (SIP accounts): list with registration state, add, edit, delete, new password.

Passwords are generated and shown once, on the response to the POST that made them
(never in a URL, never in the operation log). Adding, editing and deleting go through
the site service (decision 0014): the whole configuration is checked (an extension a
queue or a flow still uses cannot be deleted), written, and switchd reloads it, so a
phone's new account works at once.
"""

from __future__ import annotations

import re
import time
from typing import Any

import bottle

from firmware.db.models import Extension, Registration
from firmware.db.sip_passwords import generate_sip_password
from firmware.siteconfig import SiteInvalid
from webui import oplog, siteops, switchd
from webui.web import Ctx, Web

NUMBER = re.compile(r"^[0-9]{2,15}$")
NUMBER_ROUTE = "<number:re:[0-9]{2,15}>"
DIGEST_CHOICES = ("MD5", "MD5,SHA-256", "SHA-256")


def snapshot(e: Extension) -> dict[str, object]:
    """What the operation log records about an extension (no password)."""
    return {"number": e.number, "name": e.name, "enabled": bool(e.enabled),
            "digest_algorithms": e.digest_algorithms}


def _get(number: str) -> Extension:
    ext = Extension.get_or_none(Extension.number == number)
    if ext is None:
        raise bottle.HTTPError(404, f"no extension {number}")
    return ext


# Reload outcomes by code: the list page is redirected to with a code, not a text, so a
# crafted link cannot put words of its choosing on the page.
RELOAD_NOTES = {
    "stopped": "switchd is not running; it reads the change when it starts.",
    "done": "switchd reloaded the extensions.",
    "unconfirmed": "switchd did not confirm the reload; it re-reads extensions shortly.",
}


def _said(note: str | None) -> str:
    """The reload code for what the site service heard back from switchd."""
    if note is None:
        return "stopped"
    return "done" if note.startswith("switchd applied") or note == "switchd reloaded" \
        else "unconfirmed"


def _reload(ctx: Ctx) -> str:
    done = switchd.reload(ctx.web.data_dir)
    return "stopped" if done is None else "done" if done else "unconfirmed"


def _reload_note(ctx: Ctx) -> str:
    return ctx._(RELOAD_NOTES[_reload(ctx)])


def register(web: Web) -> None:
    @web.route("GET", "/extensions", "extensions.view")
    def list_(ctx: Ctx) -> str:
        now = time.time()
        contacts: dict[str, list[Any]] = {}
        for reg in Registration.select().where(Registration.expires_at > now):
            contacts.setdefault(reg.aor, []).append(reg)
        rows = list(Extension.select().order_by(Extension.number))
        code = bottle.request.query.get("reload", "")
        note = ctx._(RELOAD_NOTES[code]) if code in RELOAD_NOTES else ""
        return ctx.render("extensions.tpl", rows=rows, contacts=contacts, note=note)

    @web.route("GET", "/extensions/new", "extensions.edit")
    def new(ctx: Ctx) -> str:
        return ctx.render("extension_form.tpl", ext=None, errors=[], form={},
                          choices=DIGEST_CHOICES)

    @web.route("POST", "/extensions", "extensions.edit")
    def create(ctx: Ctx) -> str:
        f = bottle.request.forms
        form = {"number": f.getunicode("number", "").strip(),
                "name": f.getunicode("name", "").strip(),
                "digest_algorithms": f.getunicode("digest_algorithms", "MD5")}
        errors = []
        if not NUMBER.match(form["number"]):
            errors.append(ctx._("The number must be 2 to 15 digits."))
        if form["digest_algorithms"] not in DIGEST_CHOICES:
            errors.append(ctx._("Unknown digest algorithm."))
        if len(form["name"]) > 64:
            errors.append(ctx._("The name is too long."))
        if not errors and Extension.get_or_none(Extension.number == form["number"]):
            errors.append(ctx._("This extension already exists."))
        if not errors:
            try:
                outcome = siteops.service(ctx).upsert("extensions", {
                    "number": form["number"], "name": form["name"],
                    "digest": form["digest_algorithms"]})
            except SiteInvalid as e:
                errors += [f"{x.where()}: {x.message}" for x in e.errors]
        if errors:
            bottle.response.status = 400
            return ctx.render("extension_form.tpl", ext=None, errors=errors, form=form,
                              choices=DIGEST_CHOICES)
        ext = _get(form["number"])
        password = outcome.generated_passwords[ext.number]
        oplog.record(ctx.user.name, ctx.address, "extension.add", ext.number, None,
                     snapshot(ext))
        return ctx.render("extension_secret.tpl", ext=ext, password=password,
                          note=ctx._(RELOAD_NOTES[_said(outcome.switchd)]))

    @web.route("GET", f"/extensions/{NUMBER_ROUTE}/edit", "extensions.edit")
    def edit(ctx: Ctx, number: str) -> str:
        ext = _get(number)
        return ctx.render("extension_form.tpl", ext=ext, errors=[], form=snapshot(ext),
                          choices=DIGEST_CHOICES)

    @web.route("POST", f"/extensions/{NUMBER_ROUTE}", "extensions.edit")
    def update(ctx: Ctx, number: str) -> str:
        f = bottle.request.forms
        ext = _get(number)
        form: dict[str, Any] = {"number": number, "name": f.getunicode("name", "").strip(),
                                "enabled": f.get("enabled") == "1",
                                "digest_algorithms": f.getunicode("digest_algorithms", "")}
        errors = []
        if form["digest_algorithms"] not in DIGEST_CHOICES:
            errors.append(ctx._("Unknown digest algorithm."))
        if len(form["name"]) > 64:
            errors.append(ctx._("The name is too long."))
        if errors:
            bottle.response.status = 400
            return ctx.render("extension_form.tpl", ext=ext, errors=errors, form=form,
                              choices=DIGEST_CHOICES)
        before = snapshot(ext)
        try:
            outcome = siteops.service(ctx).upsert("extensions", {
                "number": number, "name": form["name"], "enabled": form["enabled"],
                "digest": form["digest_algorithms"]})
        except SiteInvalid as e:
            bottle.response.status = 400
            return ctx.render("extension_form.tpl", ext=ext, form=form, choices=DIGEST_CHOICES,
                              errors=[f"{x.where()}: {x.message}" for x in e.errors])
        oplog.record(ctx.user.name, ctx.address, "extension.edit", number, before,
                     snapshot(_get(number)))
        bottle.redirect(f"/extensions?reload={_said(outcome.switchd)}", 303)
        return ""

    @web.route("POST", f"/extensions/{NUMBER_ROUTE}/password", "extensions.edit")
    def new_password(ctx: Ctx, number: str) -> str:
        ext = _get(number)
        password = generate_sip_password()
        with web.db.atomic():
            Extension.update(sip_password=password).where(Extension.id == ext.id).execute()
            oplog.record(ctx.user.name, ctx.address, "extension.password", number,
                         None, {"sip_password": "(new)"})
        return ctx.render("extension_secret.tpl", ext=ext, password=password,
                          note=_reload_note(ctx))

    @web.route("POST", f"/extensions/{NUMBER_ROUTE}/delete", "extensions.edit")
    def delete(ctx: Ctx, number: str) -> str:
        ext = _get(number)
        before = snapshot(ext)
        try:
            # the service also drops the account's bindings, and refuses while a queue,
            # an agent login, a flow or a DID still names the extension
            outcome = siteops.service(ctx).remove("extensions", number)
        except SiteInvalid as e:
            bottle.response.status = 409
            return ctx.render("extension_form.tpl", ext=ext, form=snapshot(ext),
                              choices=DIGEST_CHOICES,
                              errors=[f"{x.where()}: {x.message}" for x in e.errors])
        oplog.record(ctx.user.name, ctx.address, "extension.delete", number, before, None)
        bottle.redirect(f"/extensions?reload={_said(outcome.switchd)}", 303)
        return ""
