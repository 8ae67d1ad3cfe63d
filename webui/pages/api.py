"""CTI over HTTP: commands, the snapshot, and the event stream (Server-Sent Events).

For browsers (session cookie + CSRF header) and programs (`Authorization: Bearer`
token). Described in webui/openapi.json (served at /api/v1/openapi.json) and
docs/en/cti.md. An agent acts on their own extension and agent only; admins and
supervisors may name any device (a CRM acting for every desk).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bottle

from firmware.cti.protocol import CtiError
from webui import api_util, cti, customers, oplog, sessions, tokens
from webui.api_util import body, param
from webui.viewer import Viewer
from webui.web import Ctx, Web

OPENAPI = Path(__file__).resolve().parents[1] / "openapi.json"
WITH_TO = frozenset({"MakeCall", "SingleStepTransfer", "ConsultationCall", "Conference",
                     "ForceTransfer"})
DEVICE_COMMANDS = ("MakeCall", "Answer", "ClearConnection", "Hold", "Retrieve",
                   "SingleStepTransfer", "ConsultationCall", "Transfer", "Conference",
                   "ReconnectCall")
SUPERVISOR_COMMANDS = ("MonitorStart", "MonitorStop", "ForceRelease", "ForceTransfer")
# Event streams hold a server thread each: leave some for pages and commands.
MAX_STREAMS = 32
RECHECK = 30.0  # seconds between checks that the stream's session or token still holds

_streams = threading.BoundedSemaphore(MAX_STREAMS)


def _device(ctx: Ctx, data: dict[str, Any]) -> str:
    asked = param(data, "device")
    own = ctx.extension or ""
    if ctx.can("live.control"):
        device = asked or own
    else:
        if asked and asked != own:
            raise bottle.HTTPError(403, "agents act on their own extension only")
        device = own
    if not device:
        raise bottle.HTTPError(409, "no extension: pick your extension at the agent desk")
    return device


def lookup_json(number: str, db: Any) -> dict[str, Any]:
    with db.connection_context():
        return customers.lookup(number)


def _principal_alive(ctx: Ctx) -> bool:
    with ctx.web.db.connection_context():
        if ctx.token is not None:
            return tokens.still_valid(ctx.token.id)
        if ctx.cur is not None:
            return sessions.still_valid(ctx.cur.session.token_hash)
    return False


def sse(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def register(web: Web) -> None:
    @web.route("GET", "/api/v1/openapi.json", None)
    def openapi(ctx: Ctx) -> bottle.HTTPResponse:
        return bottle.static_file(OPENAPI.name, root=str(OPENAPI.parent),
                                  mimetype="application/json")

    @web.route("POST", f"/api/v1/cti/<command:re:({'|'.join(DEVICE_COMMANDS)})>",
               "cti.control", api=True)
    def device_command(ctx: Ctx, command: str) -> str:
        data = body()
        params = {"device": _device(ctx, data), "call": param(data, "call"),
                  "to": param(data, "to") if command in WITH_TO else ""}
        return api_util.run(ctx, command, **params)

    @web.route("POST", "/api/v1/agents/<agent:re:[A-Za-z0-9_.@-]{1,32}>/state",
               "cti.control", api=True)
    def agent_state(ctx: Ctx, agent: str) -> str:
        data = body()
        own = agent == ctx.agent_id
        if not own and not ctx.can("live.control"):
            raise bottle.HTTPError(403, "agents change their own state only")
        state = param(data, "state")
        device = param(data, "device") or (ctx.extension if own else "")
        reply = api_util.run(ctx, "SetAgentState", agent=agent, state=state,
                             device=device, reason=param(data, "reason"))
        if not own and bottle.response.status_code == 200:
            oplog.record(ctx.actor, ctx.address, "agent.state", agent, None,
                         {"state": state, "reason": param(data, "reason")})
        return reply

    @web.route("POST", f"/api/v1/supervise/<command:re:({'|'.join(SUPERVISOR_COMMANDS)})>",
               "live.control", api=True)
    def supervise(ctx: Ctx, command: str) -> str:
        data = body()
        supervisor = ctx.extension or ""
        if not supervisor:
            raise bottle.HTTPError(409, "no extension: pick your phone on the supervisor page")
        params = {"supervisor": supervisor,
                  "target": param(data, "target") if command != "MonitorStop" else "",
                  "mode": param(data, "mode") if command == "MonitorStart" else "",
                  "to": param(data, "to") if command in WITH_TO else ""}
        reply = api_util.run(ctx, command, **params)
        if bottle.response.status_code == 200:
            # interventions in someone else's call are on the record
            oplog.record(ctx.actor, ctx.address, f"supervise.{command}", params["target"],
                         None, {k: v for k, v in params.items() if v})
        return reply

    @web.route("GET", "/api/v1/snapshot", "events", api=True)
    def snapshot(ctx: Ctx) -> str:
        try:
            snap = cti.command(web.data_dir, "Snapshot")
        except CtiError as e:
            return api_util.error(e.code, str(e), api_util.STATUS.get(e.code, 503))
        viewer = Viewer.for_ctx(ctx)
        return api_util.send({"ok": True, **viewer.snapshot(snap), "me": _me(ctx)})

    @web.route("GET", "/api/v1/customers/lookup", "customers.view", api=True)
    def lookup(ctx: Ctx) -> str:
        number = bottle.request.query.getunicode("number", "").strip()
        if not number or len(number) > 32 or not all(c.isdigit() or c in "+*#" for c in number):
            return api_util.error("bad_request", "number: digits, +, * and # only", 400)
        return api_util.send({"ok": True, **customers.lookup(number)})

    @web.route("GET", "/api/v1/events", "events", api=True)
    def events(ctx: Ctx) -> Any:
        if not _streams.acquire(blocking=False):
            return api_util.error("unavailable", "too many event streams open", 503)
        try:
            sub = cti.Subscription(web.data_dir)
        except CtiError as e:
            _streams.release()
            return api_util.error(e.code, str(e), 503)
        db = web.db
        viewer = Viewer.for_ctx(ctx, lambda n: lookup_json(n, db))
        me = _me(ctx)
        bottle.response.content_type = "text/event-stream; charset=utf-8"
        bottle.response.set_header("X-Accel-Buffering", "no")

        def stream() -> Iterator[str]:
            yield "retry: 2000\n\n"
            yield sse("snapshot", {**viewer.snapshot(sub.snapshot), "me": me})
            checked = time.monotonic()
            for ev in sub:
                if time.monotonic() - checked > RECHECK:
                    checked = time.monotonic()
                    if not _principal_alive(ctx):
                        yield sse("signedout", {})
                        return
                if ev is None:
                    yield ": keepalive\n\n"
                    continue
                seen = viewer.event(ev)
                if seen is not None:
                    yield sse(str(seen.get("event")), seen)

        return _Stream(stream(), sub)


class _Stream:
    """The response body of an event stream. The server calls close() when the client
    goes away, even before the first chunk: a bare generator would then never run its
    finally and keep the CTI connection and the stream slot forever."""

    def __init__(self, gen: Iterator[str], sub: cti.Subscription) -> None:
        self._gen = gen
        self._sub: cti.Subscription | None = sub

    def __iter__(self) -> _Stream:
        return self

    def __next__(self) -> str:
        return next(self._gen)

    def close(self) -> None:
        close = getattr(self._gen, "close", None)
        if close is not None:
            close()
        if self._sub is not None:
            self._sub.close()
            self._sub = None
            _streams.release()


def _me(ctx: Ctx) -> dict[str, Any]:
    return {"role": ctx.role, "agent": ctx.agent_id, "extension": ctx.extension,
            "name": ctx.actor}
