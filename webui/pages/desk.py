"""The agent desktop (坐席界面): pick a phone, log in to the ACD, ready / not ready with a
reason, wrap-up countdown; the screen pop of the caller's record before answering; call
controls; click to dial; notes after the call; the agent's own calls.

The page is rendered here and kept live by static/desk.js from the event stream
(/api/v1/events); every action is a CTI command through /api/v1/.
"""

from __future__ import annotations

import time
from typing import Any

import bottle
import peewee

from firmware.cti.protocol import CtiError
from firmware.db.models import Cdr, Extension, User
from firmware.db.web_models import CallNote, Customer, CustomerNumber
from webui import api_util, cti, customers, oplog
from webui.api_util import body, param
from webui.web import Ctx, Web

HISTORY = 20
DISPOSITIONS = ("", "resolved", "follow-up", "complaint", "order", "wrong number")
NOTE_MAX = 4000


def own_calls(ctx: Ctx, limit: int = HISTORY) -> list[Cdr]:
    cond = None
    if ctx.agent_id:
        cond = Cdr.agent == ctx.agent_id
    if ctx.extension:
        mine = (Cdr.callee == ctx.extension) | (Cdr.caller == ctx.extension)
        cond = mine if cond is None else cond | mine
    if cond is None:
        return []
    return list(Cdr.select().where(cond).order_by(Cdr.start.desc()).limit(limit))


def _may_note(ctx: Ctx, call_id: str) -> bool:
    if ctx.can("live.control"):
        return True
    cdr = Cdr.get_or_none(Cdr.call_id == call_id)
    if cdr is not None:
        return bool((ctx.agent_id and cdr.agent == ctx.agent_id)
                    or (ctx.extension and ctx.extension in (cdr.callee, cdr.caller)))
    # the record is written once the call ends: a call in progress is asked of switchd
    try:
        snap = cti.command(ctx.web.data_dir, "Snapshot")
    except CtiError:
        return False
    for c in snap.get("calls") or []:
        if c.get("id") == call_id and (
                (ctx.extension and ctx.extension in (c.get("devices") or {}))
                or (ctx.agent_id and c.get("agent") == ctx.agent_id)):
            return True
    return False


def register(web: Web) -> None:
    @web.route("GET", "/desk", "desk")
    def desk(ctx: Ctx) -> str:
        exts = list(Extension.select().where(Extension.enabled).order_by(Extension.number))
        return ctx.render("desk.tpl", extensions=exts, history=own_calls(ctx),
                          dispositions=DISPOSITIONS, local_time=customers.when)

    @web.route("POST", "/me/extension", "self")
    def pick_extension(ctx: Ctx) -> None:
        number = bottle.request.forms.getunicode("extension", "").strip()
        if number and Extension.get_or_none(Extension.number == number) is None:
            raise bottle.HTTPError(400, f"no extension {number}")
        user = ctx.user
        if (user.extension or "") != number:
            User.update(extension=number or None).where(User.id == user.id).execute()
            oplog.record(user.name, ctx.address, "user.extension", user.name,
                         {"extension": user.extension}, {"extension": number or None})
        back = bottle.request.forms.getunicode("back", "/desk")
        bottle.redirect(back if back in ("/desk", "/live") else "/desk", 303)

    @web.route("POST", "/api/v1/calls/<call_id:re:[A-Za-z0-9_.@-]{1,64}>/notes", "desk",
               api=True)
    def add_note(ctx: Ctx, call_id: str) -> str:
        data = body()
        text = param(data, "text")
        disposition = param(data, "disposition")
        if not text and not disposition:
            return api_util.error("bad_request", "write a note or choose an outcome", 400)
        if len(text) > NOTE_MAX:
            return api_util.error("bad_request", f"a note has at most {NOTE_MAX} characters",
                                  400)
        if disposition not in DISPOSITIONS:
            return api_util.error("bad_request", "unknown outcome", 400)
        if not _may_note(ctx, call_id):
            return api_util.error("forbidden", "not one of your calls", 403)
        customer = None
        raw = param(data, "customer")
        if raw.isdigit():
            customer = Customer.get_or_none(Customer.id == int(raw))
        note = CallNote.create(call_id=call_id, author=ctx.actor, text=text,
                               disposition=disposition, customer=customer,
                               created=time.time())
        return api_util.send({"ok": True, "id": note.id, "call": call_id}, 201)

    @web.route("POST", "/api/v1/customers", "customers.edit", api=True)
    def save_customer(ctx: Ctx) -> str:
        """Create the customer a number belongs to, or update the one it has."""
        data = body()
        number = param(data, "number")
        if not number or len(number) > 32 or not all(c.isdigit() or c in "+*#" for c in number):
            return api_util.error("bad_request", "number: digits, +, * and # only", 400)
        fields: dict[str, Any] = {k: param(data, k)[:500] for k in ("name", "address", "note")}
        with web.db.atomic():
            existing = customers.find(number)
            if existing is None:
                c = Customer.create(**fields, created=time.time(), updated=time.time())
                try:
                    CustomerNumber.create(customer=c, number=number)
                except peewee.IntegrityError:
                    return api_util.error("refused", "this number belongs to a customer", 409)
                oplog.record(ctx.actor, ctx.address, "customer.add", number, None, fields)
                status = 201
            else:
                before = customers.customer_dict(existing)
                Customer.update(**fields, updated=time.time()).where(
                    Customer.id == existing.id).execute()
                c = Customer.get_by_id(existing.id)
                oplog.record(ctx.actor, ctx.address, "customer.edit", number,
                             {k: before[k] for k in fields}, fields)
                status = 200
        return api_util.send({"ok": True, "customer": customers.customer_dict(c)}, status)
