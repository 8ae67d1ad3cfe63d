"""Writes webui/openapi.json, the OpenAPI 3 description of webd's HTTP API.

Kept as code so the parameters of every CTI command are listed once; the JSON file is
checked in (and served at /api/v1/openapi.json), and a test fails when the two differ:
run `python -m webui.openapi_gen` after changing this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from webui.pages.api import DEVICE_COMMANDS, SUPERVISOR_COMMANDS

OUT = Path(__file__).parent / "openapi.json"

DEVICE_DOC = {
    "MakeCall": "Click to dial: ring `device` (the caller's own phone); when it is picked "
                "up, dial `to` (an extension or hotline number as is, anything else out "
                "through the trunk).",
    "Answer": "Answer the call ringing at `device` from here: the box sends the phone "
              "NOTIFY Event: talk and the phone picks up (Yealink, Polycom, Grandstream). "
              "Only for extensions with remote answer on; otherwise 501 with the reason, "
              "409 when nothing rings there.",
    "ClearConnection": "Hang up `device`'s part of its call; while it only rings, refuse "
                       "the offer (the queue offers the caller to someone else).",
    "Hold": "Put the other party on hold (they hear music).",
    "Retrieve": "Take the other party off hold.",
    "SingleStepTransfer": "Blind transfer of the other party to `to` (agent extension, "
                          "queue name, outside number, 700 = park).",
    "ConsultationCall": "Hold the other party and call `to`.",
    "Transfer": "Complete the consultation: the held party and the consulted party talk, "
                "`device` leaves.",
    "Conference": "After ConsultationCall: all three talk. With `to`: add that party to "
                  "the call directly.",
    "ReconnectCall": "End the consultation and return to the held party.",
}
SUPERVISOR_DOC = {
    "MonitorStart": "Ring the supervisor's phone; once answered it joins the call of agent "
                    "(or call id) `target` as `mode` listen, whisper or barge. Again while "
                    "monitoring: switch the mode.",
    "MonitorStop": "Leave the monitored call.",
    "ForceRelease": "强拆: end `target`'s call for every party.",
    "ForceTransfer": "强转: take the caller away from agent `target` to `to`.",
}

ERROR = {"$ref": "#/components/schemas/Error"}


def _responses(ok: dict[str, Any] | None = None, *codes: int) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "done", "content": {
        "application/json": {"schema": ok or {"$ref": "#/components/schemas/Ok"}}}}}
    text = {400: "bad parameters", 401: "no or bad credentials", 403: "not allowed",
            404: "no such thing", 409: "impossible now (the message says why)",
            413: "body too large", 501: "not supported by this firmware",
            503: "switchd is not running or the stream limit is reached"}
    for code in (401, 403, *codes):
        out[str(code)] = {"description": text[code],
                          "content": {"application/json": {"schema": ERROR}}}
    return out


def _body(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props,
                              "additionalProperties": True}
    if required:
        schema["required"] = required
    return {"required": bool(required), "content": {
        "application/json": {"schema": schema},
        "application/x-www-form-urlencoded": {"schema": schema}}}


STR = {"type": "string", "maxLength": 64}
OBJECTS = {"type": "array", "items": {"type": "object"}}
NUM = {"type": "string", "pattern": "^[0-9*#+]{1,32}$"}


def spec() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for cmd in DEVICE_COMMANDS:
        props: dict[str, Any] = {
            "device": {**STR, "description": "the extension acting (default: your own; "
                                             "agents may name only their own)"},
            "call": {**STR, "description": "the call id (default: the device's call)"}}
        if cmd in ("MakeCall", "SingleStepTransfer", "ConsultationCall", "Conference"):
            props["to"] = {**NUM, "description": "the number to reach"}
        paths[f"/api/v1/cti/{cmd}"] = {"post": {
            "tags": ["CTI"], "summary": cmd, "description": DEVICE_DOC[cmd],
            "operationId": cmd, "requestBody": _body(props),
            "responses": _responses(None, 400, 404, 409, 413, 501, 503)}}
    for cmd in SUPERVISOR_COMMANDS:
        props = {"target": {**STR, "description": "agent id, extension or call id"}}
        if cmd == "MonitorStart":
            props["mode"] = {"type": "string", "enum": ["listen", "whisper", "barge"]}
        if cmd == "ForceTransfer":
            props["to"] = NUM
        paths[f"/api/v1/supervise/{cmd}"] = {"post": {
            "tags": ["Supervisor"], "summary": cmd, "description": SUPERVISOR_DOC[cmd],
            "operationId": cmd, "requestBody": _body(props),
            "responses": _responses(None, 400, 404, 409, 413, 501, 503)}}
    paths["/api/v1/agents/{agent}/state"] = {"post": {
        "tags": ["CTI"], "summary": "SetAgentState", "operationId": "SetAgentState",
        "description": "Log in / out, ready, not ready (with a reason code). Agents change "
                       "their own state, supervisors anyone's (logged).",
        "parameters": [{"name": "agent", "in": "path", "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.@-]{1,32}$"}}],
        "requestBody": _body({"state": {"type": "string",
                                        "enum": ["login", "logout", "ready", "notReady"]},
                              "reason": STR, "device": STR}),
        "responses": _responses(None, 400, 404, 409, 413, 501, 503)}}
    paths["/api/v1/snapshot"] = {"get": {
        "tags": ["Events"], "summary": "Agents, queues and calls now (filtered by role)",
        "operationId": "Snapshot",
        "responses": _responses({"$ref": "#/components/schemas/Snapshot"}, 503)}}
    paths["/api/v1/events"] = {"get": {
        "tags": ["Events"], "operationId": "Events",
        "summary": "Server-Sent Events: `snapshot` first, then every CTI event",
        "description": "Event names: Offered, Delivered (the screen pop; carries "
                       "`customer`), Established, Held, Retrieved, Transferred, "
                       "Conferenced, Diverted, ConsultationStarted, MonitorChanged, "
                       "ConnectionCleared, CallCleared, Queued, Dequeued, AgentState, "
                       "QueueChanged, QueueStatistics. Agents see their own calls and "
                       "state, wallboards queue figures and agent states.",
        "responses": {"200": {"description": "an event stream",
                              "content": {"text/event-stream": {"schema": {
                                  "description": "one event: its name, and its JSON data",
                                  "type": "object",
                                  "properties": {"event": {"type": "string"},
                                                 "data": {"type": "string"}}}}}},
                      **{k: v for k, v in _responses(None, 503).items() if k != "200"}}}}
    paths["/api/v1/customers/lookup"] = {"get": {
        "tags": ["Customers"], "operationId": "LookupCustomer",
        "summary": "The caller's record: customer, recent calls, orders, notes",
        "parameters": [{"name": "number", "in": "query", "required": True,
                        "schema": NUM}],
        "responses": _responses({"$ref": "#/components/schemas/Lookup"}, 400)}}
    paths["/api/v1/customers"] = {"post": {
        "tags": ["Customers"], "operationId": "SaveCustomer",
        "summary": "Create the customer a number belongs to, or update it",
        "requestBody": _body({"number": NUM, "name": STR, "address": STR, "note": STR},
                             ["number"]),
        "responses": {**_responses(None, 400, 409, 413),
                      "201": {"description": "created", "content": {
                          "application/json": {"schema": {"$ref": "#/components/schemas/Ok"}}}}}}}
    paths["/api/v1/calls/{call_id}/notes"] = {"post": {
        "tags": ["Customers"], "operationId": "AddCallNote",
        "summary": "A note (and outcome) on one of your calls",
        "parameters": [{"name": "call_id", "in": "path", "required": True,
                        "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.@-]{1,64}$"}}],
        "requestBody": _body({"text": {"type": "string", "minLength": 1, "maxLength": 4000,
                                       "pattern": "\\S"},
                              "disposition": {"type": "string", "enum": [
                                  "", "resolved", "follow-up", "complaint", "order",
                                  "wrong number"]},
                              "customer": STR}, ["text"]),
        "responses": {**_responses(None, 400, 413),
                      "201": {"description": "saved", "content": {
                          "application/json": {"schema": {"$ref": "#/components/schemas/Ok"}}}}}}}
    paths["/api/v1/system"] = {"get": {
        "tags": ["System"], "operationId": "System",
        "summary": "Uptime, CPU, memory, disk, channels, registrations, calls, alarms",
        "responses": _responses({"$ref": "#/components/schemas/Ok"})}}
    paths["/api/v1/wallboard"] = {"get": {
        "tags": ["Events"], "operationId": "Wallboard", "summary": "The announcement",
        "responses": _responses({"$ref": "#/components/schemas/Ok"})}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "ccbox CTI and web API", "version": "1",
                 "description": "CTI over HTTP (CSTA call model) and live events. "
                                "Authenticate with `Authorization: Bearer <token>` (API "
                                "tokens page) or, from a browser, the session cookie plus "
                                "the X-CSRF-Token header. See docs/en/cti.md."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "ccbox_session"}},
            "schemas": {
                "Ok": {"type": "object", "required": ["ok"],
                       "properties": {"ok": {"type": "boolean"}},
                       "additionalProperties": True},
                "Error": {"type": "object", "required": ["ok", "code", "error"],
                          "properties": {"ok": {"type": "boolean", "enum": [False]},
                                         "code": {"type": "string"},
                                         "error": {"type": "string"}}},
                "Snapshot": {"type": "object", "required": ["ok", "agents", "queues", "calls"],
                             "properties": {"ok": {"type": "boolean"},
                                            "agents": OBJECTS, "queues": OBJECTS,
                                            "calls": OBJECTS,
                                            "reasons": {"type": "array",
                                                        "items": {"type": "string"}}},
                             "additionalProperties": True},
                "Lookup": {"type": "object", "required": ["ok", "number", "customer", "calls"],
                           "properties": {"ok": {"type": "boolean"}, "number": {"type": "string"},
                                          "customer": {"type": "object", "nullable": True},
                                          "calls": OBJECTS, "orders": OBJECTS,
                                          "notes": OBJECTS},
                           "additionalProperties": True},
            },
        },
    }


def render() -> str:
    return json.dumps(spec(), indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
