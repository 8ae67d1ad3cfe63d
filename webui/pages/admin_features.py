"""Extension features and ring groups (the tables of migration 5, engineer `phone`):
forwarding, do-not-disturb, one-number (mobile), voicemail and its PIN; ring groups with
members, strategy and fallback.

Values are checked with the switch's own rules (firmware/switch/features/settings.py),
so what the page accepts is what the feature codes accept. The voicemail PIN is stored
as an argon2id hash (firmware/switch/features/pin.py, weak PINs refused) and never
shown or logged. After a save switchd is told to reload.
"""

from __future__ import annotations

import re
import time
from typing import Any

import bottle

from firmware.db.models import Extension, ExtensionFeatures, RingGroup, RingGroupMember
from firmware.siteconfig import SiteInvalid
from firmware.switch.features.pin import hash_pin, weak_pin_reason
from firmware.switch.features.settings import (
    OUTSIDE_NUMBER,
    STRATEGIES,
    FeatureError,
    GroupMember,
    RingGroupInfo,
    check_group,
    check_target,
    check_timeout,
)
from webui import oplog, siteops, switchd
from webui.web import Ctx, Web

FORWARDS = ("forward_always", "forward_busy", "forward_no_answer")


def _extensions() -> set[str]:
    return {e.number for e in Extension.select(Extension.number)}


def _groups() -> set[str]:
    return {g.number for g in RingGroup.select(RingGroup.number)}


def features_of(number: str) -> dict[str, Any]:
    row = ExtensionFeatures.get_or_none(ExtensionFeatures.number == number)
    if row is None:
        return {"forward_always": "", "forward_busy": "", "forward_no_answer": "",
                "no_answer_timeout": 20, "dnd": False, "mobile": "", "mobile_delay": 10,
                "voicemail": False, "pin": False, "remote_answer": False}
    return {"forward_always": row.forward_always, "forward_busy": row.forward_busy,
            "forward_no_answer": row.forward_no_answer,
            "no_answer_timeout": row.no_answer_timeout, "dnd": bool(row.dnd),
            "mobile": row.mobile, "mobile_delay": row.mobile_delay,
            "voicemail": bool(row.voicemail), "pin": bool(row.voicemail_pin_hash),
            "remote_answer": bool(row.remote_answer)}


def group_of(number: str) -> dict[str, Any] | None:
    g = RingGroup.get_or_none(RingGroup.number == number)
    if g is None:
        return None
    members = [m.extension + (f":{m.timeout}" if m.timeout else "")
               for m in RingGroupMember.select().where(RingGroupMember.group == g)
               .order_by(RingGroupMember.position)]
    return {"number": g.number, "name": g.name, "strategy": g.strategy,
            "ring_timeout": g.ring_timeout, "fallback": g.fallback, "enabled": bool(g.enabled),
            "members": ", ".join(members)}


def _int(text: str, name: str, errors: dict[str, str]) -> int:
    try:
        return int(text.strip())
    except ValueError:
        errors[name] = f"{text!r} is not a whole number of seconds"
        return 0


def _note(ctx: Ctx) -> str:
    done = switchd.reload(ctx.web.data_dir)
    return ("Saved. switchd is not running; it reads the change when it starts." if done is None
            else "Saved and applied to the running switchd (calls in progress carry on)."
            if done else "Saved; switchd did not confirm yet and reads it shortly.")


def _said(switchd: str | None) -> str:
    """The page's note for what switchd said after a site change."""
    return ("Saved. switchd is not running; it reads the change when it starts."
            if switchd is None else "Saved and applied to the running switchd (calls in "
            "progress carry on)." if not switchd.startswith("switchd refused") and
            not switchd.startswith("switchd did not") else
            "Saved; switchd did not confirm yet and reads it shortly.")


def register(web: Web) -> None:
    def list_page(ctx: Ctx, note: str = "") -> str:
        rows = [{"number": e.number, "name": e.name, **features_of(e.number)}
                for e in Extension.select().order_by(Extension.number)]
        groups = [group_of(g.number) for g in RingGroup.select().order_by(RingGroup.number)]
        return ctx.render("admin_features.tpl", rows=rows, groups=groups, note=note)

    @web.route("GET", "/admin/features", "site.view")
    def list_(ctx: Ctx) -> str:
        return list_page(ctx)

    def ext_or_404(number: str) -> Extension:
        ext = Extension.get_or_none(Extension.number == number)
        if ext is None:
            raise bottle.HTTPError(404, f"no extension {number}")
        return ext

    @web.route("GET", "/admin/features/<number:re:[0-9]{2,15}>/edit", "site.edit")
    def edit(ctx: Ctx, number: str) -> str:
        ext_or_404(number)
        return ctx.render("admin_feature_form.tpl", number=number, form=features_of(number),
                          errors={})

    @web.route("POST", "/admin/features/<number:re:[0-9]{2,15}>", "site.edit")
    def save(ctx: Ctx, number: str) -> str:
        ext_or_404(number)
        f = bottle.request.forms
        exts, groups = _extensions(), _groups()
        errors: dict[str, str] = {}
        form: dict[str, Any] = {k: f.getunicode(k, "").strip() for k in FORWARDS}
        for k in FORWARDS:
            if form[k]:
                try:
                    check_target(number, form[k], exts.__contains__, groups.__contains__)
                except FeatureError as e:
                    errors[k] = str(e)
        form["mobile"] = f.getunicode("mobile", "").strip()
        if form["mobile"] and not OUTSIDE_NUMBER.match(form["mobile"]):
            errors["mobile"] = "the mobile number is dialled out: 0 + the number"
        for k in ("no_answer_timeout", "mobile_delay"):
            form[k] = _int(f.getunicode(k, ""), k, errors)
            if k not in errors:
                try:
                    check_timeout(k, form[k])
                except FeatureError as e:
                    errors[k] = str(e)
        form["dnd"] = f.get("dnd") == "1"
        form["voicemail"] = f.get("voicemail") == "1"
        form["remote_answer"] = f.get("remote_answer") == "1"
        pin = f.getunicode("pin", "").strip()
        clear_pin = f.get("clear_pin") == "1"
        if pin and (reason := weak_pin_reason(number, pin)):
            errors["pin"] = reason
        before = features_of(number)
        form["pin"] = before["pin"]
        if errors:
            bottle.response.status = 400
            return ctx.render("admin_feature_form.tpl", number=number, form=form, errors=errors)
        row: dict[str, Any] = {k: form[k] for k in (*FORWARDS, "no_answer_timeout", "dnd",
                                                     "mobile", "mobile_delay", "voicemail",
                                                     "remote_answer")}
        row["updated"] = time.time()
        if pin:
            row["voicemail_pin_hash"] = hash_pin(pin)
        elif clear_pin:
            row["voicemail_pin_hash"] = ""
        with web.db.atomic():
            preserve = [getattr(ExtensionFeatures, k) for k in row]
            ExtensionFeatures.insert(number=number, **row).on_conflict(
                conflict_target=[ExtensionFeatures.number], preserve=preserve).execute()
            oplog.record(ctx.user.name, ctx.address, "features.edit", number, before,
                         features_of(number))
        return list_page(ctx, _note(ctx))

    # --- ring groups -------------------------------------------------------------------------
    @web.route("GET", "/admin/ringgroups/new", "site.edit")
    def group_new(ctx: Ctx) -> str:
        return ctx.render("admin_group_form.tpl", number=None, errors=[], strategies=STRATEGIES,
                          form={"strategy": "simultaneous", "ring_timeout": 20, "enabled": True})

    @web.route("GET", "/admin/ringgroups/<number:re:[0-9]{2,15}>/edit", "site.edit")
    def group_edit(ctx: Ctx, number: str) -> str:
        g = group_of(number)
        if g is None:
            raise bottle.HTTPError(404, f"no ring group {number}")
        return ctx.render("admin_group_form.tpl", number=number, errors=[], form=g,
                          strategies=STRATEGIES)

    def group_save(ctx: Ctx, old: str | None) -> str:
        f = bottle.request.forms
        form: dict[str, Any] = {k: f.getunicode(k, "").strip()
                                for k in ("number", "name", "strategy", "fallback", "members",
                                          "ring_timeout")}
        form["enabled"] = f.get("enabled") == "1"
        if old is not None:
            form["number"] = old
        errors: list[str] = []
        members: list[GroupMember] = []
        for part in re.split(r"[\s,，]+", form["members"]):
            if not part:
                continue
            ext, _, t = part.partition(":")
            try:
                members.append(GroupMember(ext, int(t) if t else None))
            except ValueError:
                errors.append(f"member {part!r}: write EXTENSION or EXTENSION:SECONDS")
        timeout = 0
        try:
            timeout = int(form["ring_timeout"])
        except ValueError:
            errors.append(f"ring timeout {form['ring_timeout']!r} is not a whole number")
        exists = old is None and RingGroup.get_or_none(RingGroup.number == form["number"])
        if exists:
            errors.append(f"ring group {form['number']} already exists")
        info = RingGroupInfo(form["number"], form["name"], form["strategy"], timeout,
                             form["fallback"], tuple(members), form["enabled"])
        if not errors:
            exts, groups = _extensions(), _groups() | {info.number}
            try:
                check_group(info, exts.__contains__, groups.__contains__)
            except FeatureError as e:
                errors.append(str(e))
        if errors:
            bottle.response.status = 400
            return ctx.render("admin_group_form.tpl", number=old, errors=errors, form=form,
                              strategies=STRATEGIES)
        before = group_of(info.number)
        item = {"number": info.number, "name": info.name, "strategy": info.strategy,
                "ring_timeout": info.ring_timeout, "fallback": info.fallback or None,
                "enabled": info.enabled,
                "members": [{"extension": m.extension, "timeout": m.timeout}
                            for m in info.members]}
        # ring groups are a section of the site configuration: the whole site is checked
        # (a DID or an IVR transfer may send callers here) and written at once
        try:
            outcome = siteops.service(ctx).upsert("ring_groups", item)
        except SiteInvalid as e:
            bottle.response.status = 400
            return ctx.render("admin_group_form.tpl", number=old,
                              errors=[f"{err.where()}: {err.message}" for err in e.errors],
                              form=form, strategies=STRATEGIES)
        oplog.record(ctx.user.name, ctx.address,
                     "ringgroup.edit" if before else "ringgroup.add", info.number,
                     before, group_of(info.number))
        return list_page(ctx, _said(outcome.switchd))

    @web.route("POST", "/admin/ringgroups", "site.edit")
    def group_create(ctx: Ctx) -> str:
        return group_save(ctx, None)

    @web.route("POST", "/admin/ringgroups/<number:re:[0-9]{2,15}>", "site.edit")
    def group_update(ctx: Ctx, number: str) -> str:
        if group_of(number) is None:
            raise bottle.HTTPError(404, f"no ring group {number}")
        return group_save(ctx, number)

    @web.route("POST", "/admin/ringgroups/<number:re:[0-9]{2,15}>/delete", "site.edit")
    def group_delete(ctx: Ctx, number: str) -> str:
        before = group_of(number)
        if before is None:
            raise bottle.HTTPError(404, f"no ring group {number}")
        try:
            outcome = siteops.service(ctx).remove("ring_groups", number)
        except SiteInvalid as e:
            bottle.response.status = 409
            return list_page(ctx, ctx._("Not deleted: the configuration would not be valid.")
                             + " " + "; ".join(f"{err.where()}: {err.message}"
                                               for err in e.errors))
        oplog.record(ctx.user.name, ctx.address, "ringgroup.delete", number, before, None)
        return list_page(ctx, _said(outcome.switchd))
