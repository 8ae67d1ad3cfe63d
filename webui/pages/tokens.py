"""API tokens (admin): create (the secret is shown once), list, revoke."""

from __future__ import annotations

import re
import time

import bottle

from firmware.db.web_models import ApiToken
from webui import auth, oplog, tokens
from webui.web import Ctx, Web

NAME = re.compile(r"^[\w .@-]{2,64}$")
FIELD = re.compile(r"^[A-Za-z0-9_.@-]{0,32}$")


def snapshot(t: ApiToken) -> dict[str, object]:
    return {"name": t.name, "prefix": t.prefix, "role": t.role, "agent": t.agent,
            "extension": t.extension, "expires": t.expires, "revoked": bool(t.revoked)}


def register(web: Web) -> None:
    def page(ctx: Ctx, errors: list[str], form: dict[str, str]) -> str:
        rows = list(ApiToken.select().order_by(ApiToken.id.desc()))
        return ctx.render("tokens.tpl", rows=rows, errors=errors, form=form,
                          roles=auth.TOKEN_ROLES, now=time.time())

    @web.route("GET", "/tokens", "tokens.admin")
    def list_(ctx: Ctx) -> str:
        return page(ctx, [], {"role": auth.WALLBOARD})

    @web.route("POST", "/tokens", "tokens.admin")
    def create(ctx: Ctx) -> str:
        f = bottle.request.forms
        form = {k: f.getunicode(k, "").strip() for k in ("name", "role", "agent", "extension",
                                                          "days")}
        errors = []
        if not NAME.match(form["name"]):
            errors.append(ctx._("A token name is 2 to 64 letters, digits, spaces or _.@-"))
        if form["role"] not in auth.TOKEN_ROLES:
            errors.append(ctx._("Unknown role."))
        if not FIELD.match(form["agent"]) or not FIELD.match(form["extension"]):
            errors.append(ctx._("Agent and extension are letters, digits or _.@-"))
        if form["days"] and not (form["days"].isdigit() and 0 < int(form["days"]) <= 3650):
            errors.append(ctx._("Valid for: 1 to 3650 days, or empty for no expiry."))
        if errors:
            bottle.response.status = 400
            return page(ctx, errors, form)
        expires = time.time() + int(form["days"]) * 86400 if form["days"] else None
        with web.db.atomic():
            row, secret = tokens.create(form["name"], form["role"], ctx.actor,
                                        agent=form["agent"], extension=form["extension"],
                                        expires=expires)
            oplog.record(ctx.actor, ctx.address, "token.add", row.name, None, snapshot(row))
        return ctx.render("token_secret.tpl", t=row, secret=secret)

    @web.route("POST", "/tokens/<token_id:int>/revoke", "tokens.admin")
    def revoke(ctx: Ctx, token_id: int) -> None:
        row = ApiToken.get_or_none(ApiToken.id == token_id)
        if row is None:
            raise bottle.HTTPError(404, "no such token")
        with web.db.atomic():
            ApiToken.update(revoked=True).where(ApiToken.id == row.id).execute()
            oplog.record(ctx.actor, ctx.address, "token.revoke", row.name, snapshot(row),
                         {**snapshot(row), "revoked": True})
        bottle.redirect("/tokens", 303)
