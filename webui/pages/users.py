"""Web UI users (admin only): list, add, edit role/enabled/language, new password,
unlock, delete. The last enabled admin cannot be demoted, disabled or deleted: that would
leave a box nobody can administer without a shell."""

from __future__ import annotations

import re
from typing import Any

import bottle
import peewee

from firmware.db.models import LANGUAGES, ROLES, USER_NAME, User
from webui import oplog, sessions
from webui.passwords import generate_password, hash_password
from webui.web import Ctx, Web

AGENT = re.compile(r"^[A-Za-z0-9_.@-]{0,32}$")


def snapshot(u: User) -> dict[str, object]:
    return {"name": u.name, "role": u.role, "enabled": bool(u.enabled), "language": u.language,
            "agent": u.agent or ""}


def _get(user_id: int) -> User:
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise bottle.HTTPError(404, "no such user")
    return user


def _other_admins(user: User) -> int:
    count: int = User.select().where(
        (User.role == "admin") & User.enabled & (User.id != user.id)
    ).count()
    return count


def register(web: Web) -> None:
    def form_page(ctx: Ctx, user: User | None, errors: list[str], form: dict[str, Any]) -> str:
        return ctx.render("user_form.tpl", u=user, errors=errors, form=form, roles=ROLES,
                          languages=LANGUAGES)

    @web.route("GET", "/users", "users.admin")
    def list_(ctx: Ctx) -> str:
        return ctx.render("users.tpl", rows=list(User.select().order_by(User.name)))

    @web.route("GET", "/users/new", "users.admin")
    def new(ctx: Ctx) -> str:
        return form_page(ctx, None, [], {"role": "agent", "language": "zh_CN", "enabled": True})

    @web.route("POST", "/users", "users.admin")
    def create(ctx: Ctx) -> str:
        f = bottle.request.forms
        form = {"name": f.getunicode("name", "").strip(), "role": f.get("role", ""),
                "language": f.get("language", "zh_CN"), "enabled": True,
                "agent": f.getunicode("agent", "").strip()}
        errors = []
        if not AGENT.match(form["agent"]):
            errors.append(ctx._("Agent and extension are letters, digits or _.@-"))
        if not USER_NAME.match(form["name"]):
            errors.append(ctx._("User names are 2 to 32 letters, digits or _.@-"))
        if form["role"] not in ROLES:
            errors.append(ctx._("Unknown role."))
        if form["language"] not in LANGUAGES:
            errors.append(ctx._("Unknown language."))
        password = generate_password()
        if not errors:
            try:
                with web.db.atomic():
                    user = User.create(name=form["name"], role=form["role"],
                                       language=form["language"], agent=form["agent"] or None,
                                       password_hash=hash_password(password))
                    oplog.record(ctx.user.name, ctx.address, "user.add", user.name, None,
                                 snapshot(user))
            except peewee.IntegrityError:
                errors.append(ctx._("This user already exists."))
        if errors:
            bottle.response.status = 400
            return form_page(ctx, None, errors, form)
        return ctx.render("user_secret.tpl", u=user, password=password)

    @web.route("GET", "/users/<user_id:int>/edit", "users.admin")
    def edit(ctx: Ctx, user_id: int) -> str:
        user = _get(user_id)
        return form_page(ctx, user, [], snapshot(user))

    @web.route("POST", "/users/<user_id:int>", "users.admin")
    def update(ctx: Ctx, user_id: int) -> str:
        user = _get(user_id)
        f = bottle.request.forms
        form = {"name": user.name, "role": f.get("role", ""),
                "language": f.get("language", ""), "enabled": f.get("enabled") == "1",
                "agent": f.getunicode("agent", "").strip()}
        errors = []
        if not AGENT.match(form["agent"]):
            errors.append(ctx._("Agent and extension are letters, digits or _.@-"))
        if form["role"] not in ROLES:
            errors.append(ctx._("Unknown role."))
        if form["language"] not in LANGUAGES:
            errors.append(ctx._("Unknown language."))
        losing_admin = user.role == "admin" and (form["role"] != "admin" or not form["enabled"])
        if losing_admin and _other_admins(user) == 0:
            errors.append(ctx._("This is the last admin: add another admin first."))
        if errors:
            bottle.response.status = 400
            return form_page(ctx, user, errors, form)
        before = snapshot(user)
        with web.db.atomic():
            User.update(role=form["role"], language=form["language"],
                        enabled=form["enabled"], agent=form["agent"] or None).where(
                User.id == user.id).execute()
            if before["role"] != form["role"] or not form["enabled"]:
                # A changed role takes effect now, not when the old session expires.
                sessions.end_all_for(user)
            oplog.record(ctx.user.name, ctx.address, "user.edit", user.name, before,
                         snapshot(_get(user_id)))
        bottle.redirect("/users", 303)
        return ""

    @web.route("POST", "/users/<user_id:int>/password", "users.admin")
    def new_password(ctx: Ctx, user_id: int) -> str:
        user = _get(user_id)
        password = generate_password()
        with web.db.atomic():
            User.update(password_hash=hash_password(password), failed_logins=0,
                        locked_until=0.0).where(User.id == user.id).execute()
            sessions.end_all_for(user)
            oplog.record(ctx.user.name, ctx.address, "user.password", user.name, None,
                         {"password": "(new)"})
        return ctx.render("user_secret.tpl", u=user, password=password)

    @web.route("POST", "/users/<user_id:int>/unlock", "users.admin")
    def unlock(ctx: Ctx, user_id: int) -> str:
        user = _get(user_id)
        with web.db.atomic():
            User.update(failed_logins=0, locked_until=0.0).where(User.id == user.id).execute()
            oplog.record(ctx.user.name, ctx.address, "user.unlock", user.name,
                         {"locked_until": user.locked_until}, {"locked_until": 0.0})
        bottle.redirect("/users", 303)
        return ""

    @web.route("POST", "/users/<user_id:int>/delete", "users.admin")
    def delete(ctx: Ctx, user_id: int) -> str:
        user = _get(user_id)
        if user.role == "admin" and _other_admins(user) == 0:
            raise bottle.HTTPError(409, "the last admin cannot be deleted")
        with web.db.atomic():
            before = snapshot(user)
            user.delete_instance(recursive=True)
            oplog.record(ctx.user.name, ctx.address, "user.delete", user.name, before, None)
        bottle.redirect("/users", 303)
        return ""
