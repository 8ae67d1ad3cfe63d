"""Import and export of the whole site configuration as site.yaml, the same file and
the same checks as `ccbox config export|import` (SiteService.export_yaml/import_yaml).

Export leaves SIP passwords out. Import is checked whole first (every error with its
line); "Check only" stops there, "Import" applies it in one transaction and switchd
reloads it. Passwords generated for new extensions are shown once, on the result page,
never in the operation log.
"""

from __future__ import annotations

from typing import Any

import bottle

from firmware.siteconfig import ImportOutcome, SiteInvalid
from webui import oplog, siteops
from webui.pages.admin_prompts import MAX_UPLOAD
from webui.web import Ctx, Web


def _text() -> str:
    upload = bottle.request.files.get("file")
    if upload is not None and upload.raw_filename:
        data = upload.file.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise ValueError("The file is too large (at most 20 MB).")
        try:
            return str(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise ValueError("The file is not UTF-8 text.") from None
    return str(bottle.request.forms.getunicode("text", ""))


def register(web: Web) -> None:
    def page(ctx: Ctx, *, outcome: ImportOutcome | None = None,
             refused: SiteInvalid | None = None, error: str = "", text: str = "",
             dry_run: bool = False, status: int = 200) -> str:
        bottle.response.status = status
        passwords: dict[str, str] = {}
        pins: dict[str, str] = {}
        if outcome is not None and outcome.applied is not None:
            passwords = outcome.applied.generated_passwords
            pins = outcome.applied.generated_pins
        return ctx.render("admin_yaml.tpl", outcome=outcome, refused=refused, error=error,
                          text=text, dry_run=dry_run, passwords=passwords, pins=pins,
                          applied=siteops.switchd_note(outcome.applied.switchd)
                          if outcome is not None and outcome.applied is not None else None)

    @web.route("GET", "/admin/site", "site.edit")
    def show(ctx: Ctx) -> str:
        return page(ctx)

    @web.route("GET", "/admin/site/export.yaml", "site.edit")
    def export(ctx: Ctx) -> str:
        text = siteops.service(ctx).export_yaml()
        oplog.record(ctx.user.name, ctx.address, "site.export", "site.yaml", None,
                     {"bytes": len(text.encode())})
        bottle.response.content_type = "text/yaml; charset=utf-8"
        bottle.response.set_header("Content-Disposition", 'attachment; filename="site.yaml"')
        return text

    @web.route("POST", "/admin/site/import", "site.edit")
    def import_(ctx: Ctx) -> str:
        dry_run = bottle.request.forms.get("op") != "import"
        try:
            text = _text()
        except ValueError as e:
            return page(ctx, error=str(e), status=400)
        if not text.strip():
            return page(ctx, error="Paste the site.yaml text or choose the file.", status=400)
        name = "site.yaml"
        try:
            outcome = siteops.service(ctx).import_yaml(text, name, dry_run=dry_run)
        except SiteInvalid as e:
            return page(ctx, refused=e, text=text, dry_run=dry_run, status=400)
        if not dry_run:
            summary: dict[str, Any] = {
                s: {"added": d.added, "changed": d.changed, "removed": d.removed}
                for s, d in outcome.changes.items() if not d.empty}
            oplog.record(ctx.user.name, ctx.address, "site.import", name,
                         None, {"sections": outcome.sections, "changes": summary})
        return page(ctx, outcome=outcome, text=text if dry_run else "", dry_run=dry_run)
