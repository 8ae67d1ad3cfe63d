"""JSON in and out for the /api/ routes, and CTI replies as HTTP statuses."""

from __future__ import annotations

import json
from typing import Any

import bottle

from firmware.cti.protocol import (
    BAD_REQUEST,
    NOT_SUPPORTED,
    REFUSED,
    UNAVAILABLE,
    UNKNOWN_COMMAND,
    CtiError,
)
from webui import cti
from webui.web import Ctx

MAX_BODY = 64 * 1024
STATUS = {BAD_REQUEST: 400, UNKNOWN_COMMAND: 404, REFUSED: 409, NOT_SUPPORTED: 501,
          UNAVAILABLE: 503}


def body() -> dict[str, Any]:
    """The request's parameters: a JSON object, or form fields (curl -d)."""
    req = bottle.request
    if req.content_length > MAX_BODY:
        raise bottle.HTTPError(413, "request body too large")
    ctype = str(req.content_type or "").split(";")[0].strip().lower()
    if ctype == "application/json":
        raw = req.body.read(MAX_BODY + 1)
        if not raw.strip():
            return {}
        try:
            value = json.loads(raw)
        except ValueError:
            raise bottle.HTTPError(400, "the body is not JSON") from None
        if not isinstance(value, dict):
            raise bottle.HTTPError(400, "the body must be a JSON object")
        return value
    return {k: req.forms.getunicode(k) for k in req.forms if k != "csrf"}


def send(data: dict[str, Any], status: int = 200) -> str:
    bottle.response.status = status
    bottle.response.content_type = "application/json"
    return json.dumps(data, ensure_ascii=False)


def error(code: str, message: str, status: int) -> str:
    return send({"ok": False, "code": code, "error": message}, status)


def run(ctx: Ctx, cmd: str, **params: Any) -> str:
    """One CTI command for the request; the reply as JSON with a fitting status."""
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    try:
        result = cti.command(ctx.web.data_dir, cmd, **clean)
    except CtiError as e:
        return error(e.code, str(e), STATUS.get(e.code, 409))
    return send({"ok": True, **result})


def param(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bottle.HTTPError(400, f"{name} must be a string")
    return str(value).strip()
