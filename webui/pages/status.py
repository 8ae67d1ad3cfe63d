"""System status (admin, supervisor, auditor): uptime, CPU, memory, disk, spans and FXO
ports with their alarms, registrations, calls in progress; refreshed by the page every
few seconds from /api/v1/system."""

from __future__ import annotations

from typing import Any

from webui import api_util, switchd, system
from webui.web import Ctx, Web


def _figures(ctx: Ctx) -> tuple[dict[str, Any], str | None]:
    try:
        status: dict[str, Any] | None = switchd.status(ctx.web.data_dir)
        problem = None
    except switchd.SwitchdDown as exc:
        status = None
        problem = (ctx._("switchd is not answering.") if exc.running
                   else ctx._("switchd is not running."))
    return system.figures(ctx.web.data_dir, status), problem


def register(web: Web) -> None:
    @web.route("GET", "/status", "status.view")
    def page(ctx: Ctx) -> str:
        figs, problem = _figures(ctx)
        return ctx.render("status.tpl", f=figs, problem=problem)

    @web.route("GET", "/api/v1/system", "status.view", api=True)
    def api(ctx: Ctx) -> str:
        figs, problem = _figures(ctx)
        return api_util.send({"ok": True, **figs, "problem": problem})
