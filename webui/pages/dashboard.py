"""The dashboard: what switchd says about itself, from its control socket."""

from __future__ import annotations

from firmware.cli.status import format_duration
from webui import switchd
from webui.web import Ctx, Web


def summary(status: dict[str, object]) -> dict[str, object]:
    """The few figures the dashboard shows, whatever else a newer switchd adds."""

    def count(key: str) -> int:
        value = status.get(key)
        if isinstance(value, list | dict):
            return len(value)
        return int(value) if isinstance(value, int | float) else 0

    uptime = status.get("uptime")
    spans = status.get("spans")
    return {
        "uptime": format_duration(float(uptime)) if isinstance(uptime, int | float) else "-",
        "registrations": count("registrations"),
        "active_calls": count("active_calls"),
        "completed_calls": count("completed_calls"),
        "extensions": count("extensions"),
        "board": str(status.get("board", "-")),
        "spans": [s for s in spans if isinstance(s, dict)] if isinstance(spans, list) else [],
    }


def register(web: Web) -> None:
    @web.route("GET", "/", "self")
    def dashboard(ctx: Ctx) -> str:
        try:
            info: dict[str, object] | None = summary(switchd.status(web.data_dir))
            problem = None
        except switchd.SwitchdDown as exc:
            info = None
            problem = (ctx._("switchd is not answering.") if exc.running
                       else ctx._("switchd is not running."))
        return ctx.render("dashboard.tpl", info=info, problem=problem)
