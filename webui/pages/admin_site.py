"""Admin pages for the list sections of the site configuration (trunks, DIDs, queues,
agents, time rules, holidays, caller lists, blacklist, auto-lock rules), the ACD
settings, and the locks auto-lock rules set (with unlock).

One generic list/form pair, drawn from the schema (webui/siteforms.py). Every save goes
through `SiteService.upsert`/`remove`: the whole site is validated as `ccbox config
import` would, written in one transaction, and switchd reloads it live. A refused form
is shown again as typed, each finding on its field, and nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import bottle

from firmware.siteconfig import SiteInvalid
from firmware.siteconfig.schema import ACD_SETTINGS, KEYS, SECTIONS
from firmware.siteconfig.types import ListOf, Obj
from webui import oplog, siteforms, siteops
from webui.web import Ctx, Web


@dataclass(frozen=True)
class SectionUi:
    title: str  # msgid
    item: str  # msgid
    columns: tuple[str, ...]  # shown in the list
    basic: tuple[str, ...] | None = None  # shown open; the rest under "More settings"
    intro: str = ""  # msgid


UI: dict[str, SectionUi] = {
    "trunks": SectionUi("Trunks", "Trunk", ("name", "kind", "port", "enabled", "description"),
                        intro="A trunk names a line: the E1 span (pri), an FXO port or a "
                        "SIP trunk. DIDs may be limited to one trunk."),
    "dids": SectionUi("DIDs", "DID", ("number", "name", "trunk", "target", "time_rules"),
                      intro="A DID is a number callers dial. Its target is flow:ID, "
                      "queue:NAME, extension:NUMBER, group:NUMBER (a ring group), "
                      "conference:NUMBER (a conference room), external:NUMBER or hangup; "
                      "time rules pick another target while their schedule is open."),
    "queues": SectionUi("Queues", "Queue", ("name", "strategy", "members", "supervisors",
                                             "skills"),
                        ("name", "strategy", "members", "supervisors", "skills",
                         "ring_timeout", "wrap_up", "max_wait", "timeout_target",
                         "empty_target", "callback_key", "exit_keys"),
                        intro="Members are agents (penalty: lower is offered first). "
                        "Skills: what a caller of this queue needs (strategy skills)."),
    "agents": SectionUi("Agents", "Agent", ("id", "name", "skills", "login"),
                        intro="Agents log in at an extension (*11 on the phone, or "
                        "`login` here for the start of switchd). Skills are levels 1-10."),
    "schedules": SectionUi("Time rules", "Schedule", ("name", "tz", "week", "makeup_as"),
                           intro="Week: a day or span (mon-fri, sat) and its hours, e.g. "
                           "08:00-12:00, 13:00-18:00. Make-up working days (调休) open "
                           "with the hours of the weekday chosen."),
    "calendars": SectionUi("Holidays", "Holiday calendar",
                           ("name", "note", "holidays", "workdays"),
                           intro="Dates as YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD. Holidays "
                           "close whatever the weekday; make-up working days (调休) open."),
    "caller_lists": SectionUi("Caller lists", "Caller list", ("name", "note", "numbers"),
                              intro="Numbers or prefixes ending in * (0571*), for IVR "
                              "caller conditions and auto-lock exemptions."),
    "blacklist": SectionUi("Blacklist", "Blacklist entry",
                           ("number", "treatment", "note", "expires"),
                           intro="Calls from these numbers to a DID get the treatment: "
                           "reject (with a cause), a prompt then hang up, or an IVR flow."),
    "autolock": SectionUi("Auto-lock rules", "Auto-lock rule",
                          ("name", "calls", "minutes", "days", "dids", "enabled"),
                          intro="A number calling this often within the minutes is "
                          "locked for the days; locked numbers get the treatment."),
}
SECTION_ROUTE = "<section:re:" + "|".join(UI) + ">"


def obj_of(section: str) -> Obj:
    kind = SECTIONS[section]
    assert isinstance(kind, ListOf) and isinstance(kind.item, Obj)
    return kind.item


def summary(value: Any) -> str:
    """A cell of the list: short text for any value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={summary(v)}" for k, v in value.items())
    if isinstance(value, list):
        parts = []
        for v in value:
            if isinstance(v, Mapping):
                first = next(iter(v.values()), "")
                parts.append(summary(first) if len(v) != 2 else
                             " → ".join(summary(x) for x in v.values()))
            else:
                parts.append(summary(v))
        return ", ".join(parts)
    return str(value)


def _forms() -> dict[str, str]:
    f = bottle.request.forms
    return {k: f.getunicode(k, "") for k in f if k != "csrf"}


def register(web: Web) -> None:
    def form_page(ctx: Ctx, section: str, key: str | None, item: Mapping[str, Any] | None,
                  field_errors: Mapping[str, list[str]] | None = None,
                  other: list[Any] | None = None, status: int = 200) -> str:
        ui = UI[section]
        fields = siteforms.fields(obj_of(section), item, field_errors)
        basic = ui.basic or tuple(f.name for f in fields)
        bottle.response.status = status
        return ctx.render("admin_form.tpl", section=section, ui=ui, key=key,
                          fields=[f for f in fields if f.name in basic],
                          more=[f for f in fields if f.name not in basic],
                          other=other or [], quote=quote)

    def list_page(ctx: Ctx, section: str, applied: siteops.Applied | None = None,
                  refused: SiteInvalid | None = None, status: int = 200) -> str:
        doc = siteops.service(ctx).document()
        locks = siteops.service(ctx).locks() if section in ("blacklist", "autolock") else []
        bottle.response.status = status
        return ctx.render("admin_list.tpl", section=section, ui=UI[section],
                          rows=doc[section], key_field=KEYS[section], summary=summary,
                          label_of=siteforms.label_of, locks=locks, applied=applied,
                          refused=refused, quote=quote, local=_local)

    @web.route("GET", "/admin", "site.view")
    def index(ctx: Ctx) -> str:
        doc = siteops.service(ctx).document()
        counts = {s: len(doc[s]) for s in UI}
        return ctx.render("admin_index.tpl", ui=UI, counts=counts,
                          flows=len(doc["ivr_flows"]), prompts=len(doc["prompts"]))

    @web.route("GET", f"/admin/{SECTION_ROUTE}", "site.view")
    def list_(ctx: Ctx, section: str) -> str:
        return list_page(ctx, section)

    @web.route("GET", f"/admin/{SECTION_ROUTE}/new", "site.edit")
    def new(ctx: Ctx, section: str) -> str:
        return form_page(ctx, section, None, None)

    @web.route("GET", f"/admin/{SECTION_ROUTE}/<key>/edit", "site.edit")
    def edit(ctx: Ctx, section: str, key: str) -> str:
        item = siteops.item_of(ctx, section, key)
        if item is None:
            raise bottle.HTTPError(404, f"no {section} entry {key}")
        return form_page(ctx, section, key, item)

    def save(ctx: Ctx, section: str, old_key: str | None) -> str:
        obj = obj_of(section)
        item = siteforms.parse(obj, _forms())
        if old_key is not None:
            current = siteops.item_of(ctx, section, old_key)
            if current is None:
                raise bottle.HTTPError(404, f"no {section} entry {old_key}")
            # fields no form shows (secrets) keep their stored value
            item = {**{k: v for k, v in current.items() if obj.by_name[k].secret}, **item}
        index = siteops.index_for(ctx, section, old_key if old_key is not None
                                  else str(item.get(KEYS[section])))
        if old_key is None and index < len(siteops.service(ctx).document()[section]):
            errors = {KEYS[section]: [ctx._("This name is already taken.")]}
            return form_page(ctx, section, None, item, errors, status=400)
        applied, refused = siteops.attempt(lambda: siteops.upsert(ctx, section, item, old_key))
        if refused is not None:
            by_field, other = siteforms.sort_errors(refused.errors, section, index)
            return form_page(ctx, section, old_key, item, by_field, other, status=400)
        return list_page(ctx, section, applied)

    @web.route("POST", f"/admin/{SECTION_ROUTE}", "site.edit")
    def create(ctx: Ctx, section: str) -> str:
        return save(ctx, section, None)

    @web.route("POST", f"/admin/{SECTION_ROUTE}/<key>", "site.edit")
    def update(ctx: Ctx, section: str, key: str) -> str:
        return save(ctx, section, key)

    @web.route("POST", f"/admin/{SECTION_ROUTE}/<key>/delete", "site.edit")
    def delete(ctx: Ctx, section: str, key: str) -> str:
        if siteops.item_of(ctx, section, key) is None:
            raise bottle.HTTPError(404, f"no {section} entry {key}")
        applied, refused = siteops.attempt(lambda: siteops.remove(ctx, section, key))
        if refused is not None:
            return list_page(ctx, section, refused=refused, status=409)
        return list_page(ctx, section, applied)

    @web.route("POST", "/admin/locks/<number>/unlock", "site.edit")
    def unlock(ctx: Ctx, number: str) -> str:
        svc = siteops.service(ctx)
        lock = next((x for x in svc.locks() if x.get("number") == number), None)
        if lock is None or not svc.unlock(number, ctx.user.name):
            raise bottle.HTTPError(404, f"{number} is not locked")
        oplog.record(ctx.user.name, ctx.address, "site.lock.unlock", number,
                     {k: v for k, v in lock.items() if k != "id"}, None)
        return list_page(ctx, "blacklist",
                         siteops.Applied("Unlocked: the number's calls are counted from "
                                         "zero again."))

    @web.route("GET", "/admin/acd", "site.view")
    def acd(ctx: Ctx) -> str:
        doc = siteops.service(ctx).document()
        return ctx.render("admin_acd.tpl", fields=siteforms.fields(ACD_SETTINGS, doc["acd"]),
                          other=[], applied=None)

    @web.route("POST", "/admin/acd", "site.edit")
    def acd_save(ctx: Ctx) -> str:
        item = siteforms.parse(ACD_SETTINGS, _forms())
        before = siteops.service(ctx).document()["acd"]
        try:
            outcome = siteops.service(ctx).set_acd_settings(item)
        except SiteInvalid as e:
            by_field: dict[str, list[str]] = {}
            other = []
            for err in e.errors:
                if len(err.path) >= 2 and err.path[0] == "acd" and isinstance(err.path[1], str):
                    by_field.setdefault(err.path[1], []).append(err.message)
                else:
                    other.append(err)
            bottle.response.status = 400
            return ctx.render("admin_acd.tpl", fields=siteforms.fields(ACD_SETTINGS, item,
                                                                        by_field),
                              other=other, applied=None)
        after = siteops.service(ctx).document()["acd"]
        oplog.record(ctx.user.name, ctx.address, "site.acd.edit", "acd", before, after)
        return ctx.render("admin_acd.tpl", fields=siteforms.fields(ACD_SETTINGS, after),
                          other=[], applied=siteops.switchd_note(outcome.switchd))


def _local(ts: float | None) -> str:
    if not ts:
        return ""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))
