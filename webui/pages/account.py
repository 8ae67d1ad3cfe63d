"""A signed-in user's own account: change the password (every role).

The current password is asked again so a session left open on a shared agent PC cannot
be turned into a permanent takeover. Other sessions of the user end; this one stays.
"""

from __future__ import annotations

import bottle

from firmware.db.models import Session, User
from webui import oplog
from webui.passwords import hash_password, verify_password, weak_password_reason
from webui.web import Ctx, Web


def register(web: Web) -> None:
    @web.route("GET", "/account", "self")
    def account(ctx: Ctx) -> str:
        return ctx.render("account.tpl", errors=[], done=False)

    @web.route("POST", "/account/password", "self")
    def change_password(ctx: Ctx) -> str:
        f = bottle.request.forms
        current, new, again = (f.getunicode(k, "") for k in ("current", "new", "again"))
        user = ctx.user
        errors = []
        if not verify_password(user.password_hash, current):
            errors.append(ctx._("The current password is wrong."))
        elif new != again:
            errors.append(ctx._("The new passwords differ."))
        else:
            reason = weak_password_reason(user.name, new)
            if reason:
                errors.append(ctx._("The new password is too weak:") + " " + ctx._(reason))
        if errors:
            bottle.response.status = 400
            return ctx.render("account.tpl", errors=errors, done=False)
        assert ctx.cur is not None
        with web.db.atomic():
            User.update(password_hash=hash_password(new)).where(User.id == user.id).execute()
            Session.delete().where((Session.user == user)
                                   & (Session.token_hash != ctx.cur.session.token_hash)).execute()
            oplog.record(user.name, ctx.address, "user.password", user.name, None,
                         {"password": "(changed by the user)"})
        return ctx.render("account.tpl", errors=[], done=True)
