"""The supervisor's live view (班长座席) and the wallboard (大屏显示).

Both are drawn by static/*.js from the event stream: queues (waiting, longest wait,
service level today), agents (state, time in it, current caller) and, for the
supervisor, the calls and the buttons to listen / whisper / barge / force release /
force transfer / change an agent's state. The wallboard works without sign-in once the
screen is paired with a wallboard token (a cookie holding it).
"""

from __future__ import annotations

import json
import time

import bottle

from firmware.db.models import Extension
from firmware.db.settings import get_setting, set_setting
from webui import api_util, auth, oplog, sessions, tokens
from webui.web import WALLBOARD_COOKIE, Ctx, Web

ANNOUNCEMENT = "wallboard.announcement"
ANNOUNCEMENT_MAX = 200
PAIRED_FOR = 365 * 86400


def announcement() -> str:
    raw = get_setting(ANNOUNCEMENT)
    if not raw:
        return ""
    try:
        value = json.loads(raw)
    except ValueError:
        return ""
    return str(value.get("text", "")) if isinstance(value, dict) else ""


def register(web: Web) -> None:
    @web.route("GET", "/live", "live.view")
    def live(ctx: Ctx) -> str:
        exts = list(Extension.select().where(Extension.enabled).order_by(Extension.number))
        return ctx.render("live.tpl", extensions=exts, announcement=announcement())

    @web.route("POST", "/live/announcement", "live.control")
    def set_announcement(ctx: Ctx) -> None:
        text = bottle.request.forms.getunicode("text", "").strip()[:ANNOUNCEMENT_MAX]
        before = announcement()
        set_setting(ANNOUNCEMENT, json.dumps({"text": text, "by": ctx.actor,
                                              "at": time.time()}, ensure_ascii=False))
        oplog.record(ctx.actor, ctx.address, "wallboard.announcement", "",
                     {"text": before}, {"text": text})
        bottle.redirect("/live", 303)

    @web.route("GET", "/wallboard", None)
    def wallboard(ctx: Ctx) -> str:
        # Public on purpose: without a session or a paired token the screen shows the
        # pairing form, never figures (those come only through /api/v1/events).
        if not ctx.can("wallboard.view"):
            return ctx.render("wallboard_pair.tpl", error=None)
        return ctx.render("wallboard.tpl", announcement=announcement())

    @web.route("GET", "/api/v1/wallboard", "wallboard.view", api=True)
    def wallboard_data(ctx: Ctx) -> str:
        return api_util.send({"ok": True, "announcement": announcement()})

    @web.route("POST", "/wallboard/pair", None)
    def pair(ctx: Ctx) -> str:
        secret = bottle.request.forms.getunicode("token", "").strip()
        token = tokens.verify(secret) if secret else None
        if token is None or token.role != auth.WALLBOARD:
            bottle.response.status = 403
            return ctx.render("wallboard_pair.tpl",
                              error=ctx._("That is not a valid wallboard token."))
        sessions.set_cookie(WALLBOARD_COOKIE, secret, PAIRED_FOR)
        oplog.record(f"token:{token.name}", ctx.address, "wallboard.pair", token.prefix)
        bottle.redirect("/wallboard", 303)
        return ""

    @web.route("POST", "/wallboard/unpair", None)
    def unpair(ctx: Ctx) -> None:
        bottle.response.delete_cookie(WALLBOARD_COOKIE, path="/")
        bottle.redirect("/wallboard", 303)
