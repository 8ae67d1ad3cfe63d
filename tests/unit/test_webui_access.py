"""Every route, every role: who may reach what, and that no POST works without CSRF.

The expected policy is written out here on its own, not derived from `auth.PERMISSIONS`,
so a change to the table that opens a route to a role fails this test until the change
is made here too, on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.db.models import OpLog
from firmware.db.web_models import ApiToken
from tests.webtools.fake_cti import FakeCti
from tests.webtools.fixture import PASSWORD, Box, make_box

PUBLIC = "public"
EVERYONE = frozenset({"admin", "supervisor", "agent", "auditor", "field"})
ADMIN = frozenset({"admin"})
OVERSIGHT = frozenset({"admin", "supervisor", "auditor"})
DESK = frozenset({"agent", "supervisor"})
CONTROL = frozenset({"admin", "supervisor"})
CTI = frozenset({"admin", "supervisor", "agent"})
STREAM = frozenset({"admin", "supervisor", "agent", "auditor"})

EXPECTED: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/static/<name>"): PUBLIC,
    ("GET", "/signin"): PUBLIC,
    ("POST", "/signin"): PUBLIC,
    ("POST", "/signout"): EVERYONE,
    ("POST", "/lang"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("GET", "/account"): EVERYONE,
    ("POST", "/account/password"): EVERYONE,
    ("GET", "/extensions"): OVERSIGHT,
    ("GET", "/extensions/new"): ADMIN,
    ("POST", "/extensions"): ADMIN,
    ("GET", "/extensions/<number>/edit"): ADMIN,
    ("POST", "/extensions/<number>"): ADMIN,
    ("POST", "/extensions/<number>/password"): ADMIN,
    ("POST", "/extensions/<number>/delete"): ADMIN,
    ("GET", "/cdrs"): OVERSIGHT,
    ("GET", "/cdrs.csv"): OVERSIGHT,
    ("GET", "/cdrs/<cdr_id>"): OVERSIGHT,
    ("GET", "/cdrs/<cdr_id>/recording"): OVERSIGHT,
    ("GET", "/users"): ADMIN,
    ("GET", "/users/new"): ADMIN,
    ("POST", "/users"): ADMIN,
    ("GET", "/users/<user_id>/edit"): ADMIN,
    ("POST", "/users/<user_id>"): ADMIN,
    ("POST", "/users/<user_id>/password"): ADMIN,
    ("POST", "/users/<user_id>/unlock"): ADMIN,
    ("POST", "/users/<user_id>/delete"): ADMIN,
    ("GET", "/oplog"): frozenset({"admin", "auditor"}),
    ("GET", "/cdrs.xlsx"): OVERSIGHT,
    ("GET", "/cdrs/<cdr_id>/waveform.json"): OVERSIGHT,
    ("GET", "/desk"): DESK,
    ("GET", "/desk/calls/<cdr_id>"): DESK,
    ("GET", "/desk/calls/<cdr_id>/waveform.json"): DESK,
    ("GET", "/desk/calls/<cdr_id>/recording"): DESK,
    ("POST", "/me/extension"): EVERYONE,
    ("POST", "/api/v1/calls/<call_id>/notes"): DESK,
    ("POST", "/api/v1/customers"): CTI,
    ("GET", "/api/v1/customers/lookup"): STREAM,
    ("GET", "/live"): OVERSIGHT,
    ("POST", "/live/announcement"): CONTROL,
    ("GET", "/wallboard"): PUBLIC,
    ("GET", "/api/v1/wallboard"): STREAM,
    ("POST", "/wallboard/pair"): PUBLIC,
    ("POST", "/wallboard/unpair"): PUBLIC,
    ("GET", "/status"): OVERSIGHT,
    ("GET", "/api/v1/system"): OVERSIGHT,
    ("GET", "/tokens"): ADMIN,
    ("POST", "/tokens"): ADMIN,
    ("POST", "/tokens/<token_id>/revoke"): ADMIN,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("POST", "/api/v1/cti/<command>"): CTI,
    ("POST", "/api/v1/agents/<agent>/state"): CTI,
    ("POST", "/api/v1/supervise/<command>"): CONTROL,
    ("GET", "/api/v1/snapshot"): STREAM,
    ("GET", "/api/v1/events"): STREAM,
    # the admin configuration pages (webui/pages/admin_*.py)
    ("GET", "/admin"): OVERSIGHT,
    ("GET", "/admin/<section>"): OVERSIGHT,
    ("GET", "/admin/<section>/new"): ADMIN,
    ("GET", "/admin/<section>/<key>/edit"): ADMIN,
    ("POST", "/admin/<section>"): ADMIN,
    ("POST", "/admin/<section>/<key>"): ADMIN,
    ("POST", "/admin/<section>/<key>/delete"): ADMIN,
    ("POST", "/admin/locks/<number>/unlock"): ADMIN,
    ("GET", "/admin/acd"): OVERSIGHT,
    ("POST", "/admin/acd"): ADMIN,
    ("GET", "/admin/flows"): OVERSIGHT,
    ("GET", "/admin/flows/new"): ADMIN,
    ("GET", "/admin/flows/<flow_id>"): OVERSIGHT,
    ("GET", "/admin/flows/<flow_id>/export.json"): OVERSIGHT,
    ("POST", "/admin/flows/<flow_id>"): ADMIN,
    ("POST", "/admin/flows/<flow_id>/json"): ADMIN,
    ("POST", "/admin/flows/<flow_id>/versions/<version>/activate"): ADMIN,
    ("POST", "/admin/flows/<flow_id>/delete"): ADMIN,
    ("GET", "/admin/prompts"): OVERSIGHT,
    ("POST", "/admin/prompts"): ADMIN,
    ("GET", "/admin/prompts/audio/<prompt>"): OVERSIGHT,
    ("POST", "/admin/prompts/<prompt>/delete"): ADMIN,
    ("POST", "/admin/prompts/record"): ADMIN,
    ("GET", "/admin/moh"): OVERSIGHT,
    ("POST", "/admin/moh"): ADMIN,
    ("POST", "/admin/moh/reset"): ADMIN,
    ("GET", "/admin/hardware"): OVERSIGHT,
    ("POST", "/admin/hardware/spans"): ADMIN,
    ("POST", "/admin/hardware/ports"): ADMIN,
    ("POST", "/admin/hardware/restart"): ADMIN,
    ("GET", "/admin/site"): ADMIN,
    ("GET", "/admin/site/export.yaml"): ADMIN,
    ("POST", "/admin/site/import"): ADMIN,
    ("GET", "/admin/features"): OVERSIGHT,
    ("GET", "/admin/features/<number>/edit"): ADMIN,
    ("POST", "/admin/features/<number>"): ADMIN,
    ("GET", "/admin/ringgroups/new"): ADMIN,
    ("GET", "/admin/ringgroups/<number>/edit"): ADMIN,
    ("POST", "/admin/ringgroups"): ADMIN,
    ("POST", "/admin/ringgroups/<number>"): ADMIN,
    ("POST", "/admin/ringgroups/<number>/delete"): ADMIN,
    ("GET", "/admin/rooms"): OVERSIGHT,
    ("GET", "/admin/rooms/new"): ADMIN,
    ("GET", "/admin/rooms/<number>/edit"): ADMIN,
    ("POST", "/admin/rooms"): ADMIN,
    ("POST", "/admin/rooms/<number>"): ADMIN,
    ("POST", "/admin/rooms/<number>/pin"): ADMIN,
    ("POST", "/admin/rooms/<number>/delete"): ADMIN,
}

# Valid form data for POSTs, so an allowed role's request does what it says.
FORMS: dict[str, dict[str, str]] = {
    "/signin": {"name": "admin1", "password": PASSWORD},
    "/lang": {"lang": "en"},
    "/account/password": {"current": PASSWORD, "new": "Another-Passw0rd-9",
                          "again": "Another-Passw0rd-9"},
    "/extensions": {"number": "8009", "name": "x", "digest_algorithms": "MD5"},
    "/extensions/<number>": {"name": "y", "enabled": "1", "digest_algorithms": "MD5"},
    "/users": {"name": "newuser", "role": "agent", "language": "en"},
    "/users/<user_id>": {"role": "agent", "language": "en", "enabled": "1"},
    "/me/extension": {"extension": "8001", "back": "/desk"},
    "/api/v1/calls/<call_id>/notes": {"text": "gas smell in the kitchen"},
    "/api/v1/customers": {"number": "13800138000", "name": "王阿姨", "address": "1号楼"},
    "/live/announcement": {"text": "今天 15:00 开会"},
    "/tokens": {"name": "crm", "role": "supervisor"},
    "/api/v1/cti/<command>": {"to": "8002"},
    "/api/v1/agents/<agent>/state": {"state": "ready"},
    "/api/v1/supervise/<command>": {"target": "8001", "mode": "listen"},
}

ROLES_AND_ANON: tuple[str | None, ...] = (None, *sorted(EVERYONE))


def _pattern(rule: str) -> str:
    return re.sub(r"<([a-z_]+)(:[^>]*)?>", r"<\1>", rule)


def _url(box: Box, pattern: str) -> str:
    token = ApiToken.select().order_by(ApiToken.id).first()
    return (pattern.replace("<name>", "app.css").replace("<number>", "8001")
            .replace("<cdr_id>", str(box.cdr.id))
            .replace("<user_id>", str(box.users["victim"].id))
            .replace("<token_id>", str(token.id)).replace("<call_id>", "call-1")
            .replace("<agent>", "8001").replace("<command>", "Hold")
            .replace("/supervise/Hold", "/supervise/MonitorStart")
            .replace("<section>", "queues").replace("<key>", "no-such-queue")
            .replace("<flow_id>", "no_such_flow").replace("<version>", "1")
            .replace("<prompt>", "gas_welcome"))


def _form(box: Box, pattern: str) -> dict[str, str]:
    if pattern == "/wallboard/pair":
        return {"token": box.wallboard_token}
    return dict(FORMS.get(pattern, {}))


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    b = make_box(tmp_path)
    fake = FakeCti(tmp_path)  # switchd's CTI socket: every command answered
    yield b
    fake.close()


def test_every_route_is_in_the_expected_table(box: Box) -> None:
    routes = {(r.method, _pattern(r.path)) for r in box.web.routes}
    assert routes == set(EXPECTED)
    # And bottle serves nothing that did not go through Web.route.
    assert len(box.web.app.routes) == len(box.web.routes)


@pytest.mark.parametrize(("method", "pattern"), sorted(EXPECTED))
def test_route_access_for_every_role(box: Box, method: str, pattern: str) -> None:
    allowed = EXPECTED[(method, pattern)]
    url = _url(box, pattern)
    # Forbidden roles first: they must not change anything before the allowed ones run.
    order = sorted(ROLES_AND_ANON, key=lambda r: allowed == PUBLIC or (r in allowed))
    for role in order:
        client, csrf = box.client(role)
        data = _form(box, pattern)
        if method == "POST":
            if role is None:
                # Anonymous: a real pre-session token, from the sign-in page.
                data["csrf"] = client.get("/signin").csrf()
            else:
                data["csrf"] = csrf
        oplog_before = OpLog.select().count()
        resp = client.request(method, url, data if method == "POST" else None)
        reached = allowed == PUBLIC or (role is not None and role in allowed)
        where = f"{method} {url} as {role}: {resp.status}"
        if reached:
            assert resp.status not in (401, 403), where
            assert "/signin" not in (resp.header("Location") or "") or pattern in (
                "/signout", "/signin"), where
            assert resp.status < 500, where
        else:
            if role is None and method == "GET" and not pattern.startswith("/api/"):
                assert resp.status == 303, where
                assert (resp.header("Location") or "").endswith(
                    "/signin?next=" + url.split("?")[0]), where
            else:
                assert resp.status in (401, 403), where
            assert OpLog.select().count() == oplog_before, f"{where} changed something"


POSTS = sorted(p for (m, p) in EXPECTED if m == "POST")


@pytest.mark.parametrize("pattern", POSTS)
def test_post_without_valid_csrf_is_refused(box: Box, pattern: str) -> None:
    url = _url(box, pattern)
    client, _ = box.client("admin")
    _, other_csrf = box.client("supervisor")  # a valid token, of another session
    oplog_before = OpLog.select().count()
    data = _form(box, pattern)
    for bad in ({}, {"csrf": ""}, {"csrf": "x" * 43}, {"csrf": other_csrf}):
        resp = client.post(url, {**data, **bad})
        assert resp.status == 403, f"POST {url} with {bad}: {resp.status}"
    # A header with a wrong token does not help either.
    resp = client.post(url, dict(data), headers={"X-CSRF-Token": "nope"})
    assert resp.status == 403
    assert OpLog.select().count() == oplog_before


def test_csrf_header_is_accepted_for_scripts(box: Box) -> None:
    client, csrf = box.client("admin")
    resp = client.post("/lang", {"lang": "en"}, headers={"X-CSRF-Token": csrf})
    assert resp.status == 303
