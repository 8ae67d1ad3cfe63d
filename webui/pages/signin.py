"""Sign-in, sign-out, language switch, static files and the health check."""

from __future__ import annotations

import time

import bottle

from firmware.db.models import LANGUAGES, User
from webui import auth, i18n, oplog, sessions
from webui.web import LANG_COOKIE, STATIC, Ctx, Web


def _safe_next(target: str) -> str:
    # Only local paths: an open redirect would make a convincing phishing link.
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _no_admin_yet() -> bool:
    return not User.select().where((User.role == "admin") & User.enabled).exists()


def register(web: Web) -> None:
    @web.route("GET", "/healthz", None)
    def healthz(ctx: Ctx) -> str:
        bottle.response.content_type = "text/plain; charset=utf-8"
        return "ok"

    @web.route("GET", "/static/<name:re:[a-z0-9_-]+\\.(css|js)>", None)
    def static(ctx: Ctx, name: str) -> bottle.HTTPResponse:
        return bottle.static_file(name, root=str(STATIC))

    @web.route("GET", "/signin", None)
    def signin_form(ctx: Ctx) -> str:
        lang = i18n.normalize(bottle.request.query.get("lang"))
        if lang:
            sessions.set_cookie(LANG_COOKIE, lang, 365 * 86400)
        if ctx.cur is not None:
            bottle.redirect("/", 303)
        return ctx.render("signin.tpl", error=None, user_name="",
                          next=_safe_next(bottle.request.query.get("next", "/")),
                          no_admin=_no_admin_yet())

    @web.route("POST", "/signin", None)
    def signin(ctx: Ctx) -> str:
        form = bottle.request.forms
        name = form.getunicode("name", "").strip()
        password = form.getunicode("password", "")
        target = _safe_next(form.getunicode("next", "/"))
        result = auth.sign_in(name, password, ctx.address, web.limiter)
        if result.user is None:
            error = ctx._(result.error or "")
            if result.until:
                until = time.strftime("%H:%M", time.localtime(result.until))
                error += " " + ctx._("Try again after {time}.").format(time=until)
            bottle.response.status = 429 if result.until else 401
            return ctx.render("signin.tpl", error=error, user_name=name, next=target,
                              no_admin=_no_admin_yet())
        sessions.start(result.user, ctx.address)
        oplog.record(result.user.name, ctx.address, "session.signin")
        bottle.redirect(target, 303)
        return ""  # not reached: redirect raises

    @web.route("POST", "/signout", "self")
    def signout(ctx: Ctx) -> None:
        assert ctx.cur is not None
        sessions.end(ctx.cur)
        oplog.record(ctx.user.name, ctx.address, "session.signout")
        bottle.redirect("/signin", 303)

    @web.route("POST", "/lang", "self")
    def set_language(ctx: Ctx) -> None:
        lang = i18n.normalize(bottle.request.forms.get("lang"))
        if lang not in LANGUAGES:
            raise bottle.HTTPError(400, "unknown language")
        user = ctx.user
        if user.language != lang:
            User.update(language=lang).where(User.id == user.id).execute()
            oplog.record(user.name, ctx.address, "user.language", user.name,
                         {"language": user.language}, {"language": lang})
        sessions.set_cookie(LANG_COOKIE, str(lang), 365 * 86400)
        back = bottle.request.forms.getunicode("back", "/")
        bottle.redirect(_safe_next(back), 303)
