"""The IVR flow editor (decision 0016): one form card per node next to a graph of the
flow, validation findings shown on the node they name, save = a new active version.

Editing happens in the page: "Check", "Add node" and "Delete node" post the whole
flow back and get it re-drawn with the validator's findings, and nothing is stored.
Only "Save and activate" writes, through `SiteService.upsert` (the whole site is
validated, a changed flow gets the next version and becomes the active one, switchd
reloads; calls already in the flow keep the version they started with).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

import bottle

from firmware.siteconfig import SiteInvalid
from firmware.siteconfig.errors import SiteError
from firmware.siteconfig.types import BAD, NAME
from webui import flowedit, oplog, siteops
from webui.web import Ctx, Web

FLOW_ROUTE = "<flow_id:re:[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}>"


def _valid_flow_id(flow_id: str) -> bool:
    from firmware.siteconfig.errors import Findings

    return NAME.check(flow_id, (), Findings(), "") is not BAD


def _stored(ctx: Ctx, flow_id: str) -> tuple[int, dict[str, Any] | None]:
    flows = siteops.service(ctx).document()["ivr_flows"]
    for i, f in enumerate(flows):
        if str(f.get("id")) == flow_id:
            return i, dict(f)
    return len(flows), None


def _forms() -> dict[str, str]:
    f = bottle.request.forms
    return {k: f.getunicode(k, "") for k in f if k not in ("csrf", "node_ids", "op")}


def _check(ctx: Ctx, flow: Mapping[str, Any], index: int
           ) -> tuple[list[SiteError], list[SiteError]]:
    svc = siteops.service(ctx)
    doc = svc.document()
    flows = list(doc["ivr_flows"])
    if index < len(flows):
        flows[index] = dict(flow)
    else:
        flows.append(dict(flow))
    doc["ivr_flows"] = flows
    result = svc.check(doc)
    return list(result.errors), list(result.warnings)


def register(web: Web) -> None:
    def editor(ctx: Ctx, flow: Mapping[str, Any], index: int, *, is_new: bool,
               errors: list[SiteError] | None = None, warnings: list[SiteError] | None = None,
               applied: siteops.Applied | None = None, checked: bool = False,
               status: int = 200, notice: str = "") -> str:
        cards = flowedit.cards(flow)
        rest_e, rest_w = flowedit.place_findings(cards, errors or [], warnings or [], index)
        nodes, edges, width, height = flowedit.graph(flow, cards)
        versions = [] if is_new else siteops.service(ctx).flow_versions(str(flow.get("id")))
        dids = [d["number"] for d in siteops.service(ctx).document()["dids"]
                if d["target"] == f"flow:{flow.get('id')}"
                or any(r["target"] == f"flow:{flow.get('id')}" for r in d["time_rules"])]
        bottle.response.status = status
        return ctx.render("admin_flow.tpl", flow=flow, cards=cards, flow_errors=rest_e,
                          flow_warnings=rest_w, nodes=nodes, edges=edges, width=width,
                          height=height, box_w=flowedit.BOX_W, box_h=flowedit.BOX_H,
                          versions=versions, is_new=is_new, applied=applied, kinds=flowedit.KINDS,
                          checked=checked, dids=dids, notice=notice,
                          node_labels=flowedit.NODE_LABELS,
                          flow_json=json.dumps(flow, ensure_ascii=False, indent=2),
                          local=lambda t: time.strftime("%Y-%m-%d %H:%M", time.localtime(t)))

    @web.route("GET", "/admin/flows", "site.view")
    def list_(ctx: Ctx) -> str:
        svc = siteops.service(ctx)
        doc = svc.document()
        rows = []
        for f in doc["ivr_flows"]:
            fid = str(f.get("id"))
            active = next((v for v, a, _ in svc.flow_versions(fid) if a), None)
            dids = [d["number"] for d in doc["dids"] if d["target"] == f"flow:{fid}"]
            rows.append({"id": fid, "name": f.get("name", ""), "nodes": len(f.get("nodes", {})),
                         "version": active, "dids": dids})
        return ctx.render("admin_flows.tpl", rows=rows, error="")

    @web.route("GET", "/admin/flows/new", "site.edit")
    def new(ctx: Ctx) -> str:
        flow_id = bottle.request.query.getunicode("id", "").strip()
        name = bottle.request.query.getunicode("name", "").strip()
        index, stored = _stored(ctx, flow_id)
        if not _valid_flow_id(flow_id) or stored is not None:
            bottle.response.status = 400
            error = (ctx._("This flow ID is already taken.") if stored is not None else
                     ctx._("A flow ID is letters, digits, '_', '-', '.', up to 64, no spaces."))
            return ctx.render("admin_flows.tpl", rows=[], error=error)
        flow: dict[str, Any] = {"id": flow_id, "name": name, "entry": "start",
                                "nodes": {"start": {"kind": "hangup"}}}
        return editor(ctx, flow, index, is_new=True,
                      notice="Not saved yet: add nodes, check, then save and activate.")

    @web.route("GET", f"/admin/flows/{FLOW_ROUTE}", "site.view")
    def show(ctx: Ctx, flow_id: str) -> str:
        index, stored = _stored(ctx, flow_id)
        if stored is None:
            raise bottle.HTTPError(404, f"no IVR flow {flow_id}")
        errors, warnings = _check(ctx, stored, index)
        return editor(ctx, stored, index, is_new=False, errors=errors, warnings=warnings)

    @web.route("GET", f"/admin/flows/{FLOW_ROUTE}/export.json", "site.view")
    def export(ctx: Ctx, flow_id: str) -> str:
        _, stored = _stored(ctx, flow_id)
        if stored is None:
            raise bottle.HTTPError(404, f"no IVR flow {flow_id}")
        bottle.response.content_type = "application/json; charset=utf-8"
        bottle.response.set_header("Content-Disposition",
                                    f'attachment; filename="{flow_id}.json"')
        return json.dumps(stored, ensure_ascii=False, indent=2) + "\n"

    def save(ctx: Ctx, flow: dict[str, Any], index: int, stored: Mapping[str, Any] | None
             ) -> str:
        old_key = str(stored.get("id")) if stored is not None else None
        try:
            applied = siteops.upsert(ctx, "ivr_flows", flow, old_key)
        except SiteInvalid as e:
            return editor(ctx, flow, index, is_new=stored is None, errors=list(e.errors),
                          warnings=list(e.warnings), status=400,
                          notice="Not saved: fix the findings marked on the nodes. "
                          "Nothing was changed.")
        index, saved = _stored(ctx, str(flow["id"]))
        assert saved is not None
        errors, warnings = _check(ctx, saved, index)
        return editor(ctx, saved, index, is_new=False, errors=errors, warnings=warnings,
                      applied=applied)

    @web.route("POST", f"/admin/flows/{FLOW_ROUTE}", "site.edit")
    def post(ctx: Ctx, flow_id: str) -> str:
        index, stored = _stored(ctx, flow_id)
        form = _forms()
        node_ids = [n for n in bottle.request.forms.getall("node_ids")
                    if flowedit.valid_node_id(n)]
        flow = flowedit.flow_from_form({**form, "flow_id": flow_id}, node_ids, stored)
        op = bottle.request.forms.getunicode("op", "check")
        notice = ""
        if op == "add":
            nid = form.get("new_id", "").strip()
            kind = form.get("new_kind", "")
            if not flowedit.valid_node_id(nid) or nid in flow["nodes"]:
                notice = "A node ID is letters, digits, '_' or '-', and unique in the flow."
            elif kind not in flowedit.KINDS:
                notice = "Choose the kind of the new node."
            else:
                flow["nodes"][nid] = flowedit.new_node(kind)
        elif op.startswith("delete:"):
            flow["nodes"].pop(op[len("delete:"):], None)
        elif op == "save":
            return save(ctx, flow, index, stored)
        errors, warnings = _check(ctx, flow, index)
        return editor(ctx, flow, index, is_new=stored is None, errors=errors,
                      warnings=warnings, checked=op == "check",
                      notice=notice or "Not saved yet: save and activate to put it live.",
                      status=400 if notice else 200)

    @web.route("POST", f"/admin/flows/{FLOW_ROUTE}/json", "site.edit")
    def post_json(ctx: Ctx, flow_id: str) -> str:
        index, stored = _stored(ctx, flow_id)
        text = bottle.request.forms.getunicode("flow_json", "")
        try:
            flow = json.loads(text)
        except ValueError as e:
            fallback = stored or {"id": flow_id, "entry": "start", "nodes": {}}
            err = SiteError(("ivr_flows", index), f"not JSON: {e}")
            return editor(ctx, fallback, index, is_new=stored is None, errors=[err],
                          status=400, notice="Not saved: the JSON does not parse. Nothing "
                          "was changed.")
        if not isinstance(flow, dict) or not isinstance(flow.get("nodes"), dict):
            fallback = stored or {"id": flow_id, "entry": "start", "nodes": {}}
            err = SiteError(("ivr_flows", index), "a flow is an object with entry and nodes")
            return editor(ctx, fallback, index, is_new=stored is None, errors=[err],
                          status=400)
        flow["id"] = flow_id  # the URL names the flow; a renamed copy is a new flow
        flow.pop("version", None)
        flow.pop("schema", None)
        return save(ctx, flow, index, stored)

    @web.route("POST", f"/admin/flows/{FLOW_ROUTE}/versions/<version:int>/activate",
               "site.edit")
    def activate(ctx: Ctx, flow_id: str, version: int) -> str:
        svc = siteops.service(ctx)
        versions = svc.flow_versions(flow_id)
        if version not in {v for v, _, _ in versions}:
            raise bottle.HTTPError(404, f"no version {version} of IVR flow {flow_id}")
        before = next((v for v, a, _ in versions if a), None)
        try:
            said = svc.activate_flow_version(flow_id, version)
        except SiteInvalid as e:
            index, stored = _stored(ctx, flow_id)
            assert stored is not None
            return editor(ctx, stored, index, is_new=False, errors=list(e.errors), status=409,
                          notice="That version is not valid with the rest of the site "
                          "now; the active version stays.")
        oplog.record(ctx.user.name, ctx.address, "site.ivr_flows.activate", flow_id,
                     {"version": before}, {"version": version})
        index, stored = _stored(ctx, flow_id)
        assert stored is not None
        return editor(ctx, stored, index, is_new=False, applied=siteops.switchd_note(said))

    @web.route("POST", f"/admin/flows/{FLOW_ROUTE}/delete", "site.edit")
    def delete(ctx: Ctx, flow_id: str) -> str:
        _, stored = _stored(ctx, flow_id)
        if stored is None:
            raise bottle.HTTPError(404, f"no IVR flow {flow_id}")
        try:
            siteops.remove(ctx, "ivr_flows", flow_id)
        except SiteInvalid as e:
            index, _ = _stored(ctx, flow_id)
            return editor(ctx, stored, index, is_new=False, errors=list(e.errors), status=409,
                          notice="Not deleted: something still uses this flow.")
        bottle.redirect("/admin/flows", 303)
        return ""
