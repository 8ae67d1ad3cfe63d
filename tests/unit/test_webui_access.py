"""Every route, every role: who may reach what, and that no POST works without CSRF.

The expected policy is written out here on its own, not derived from `auth.PERMISSIONS`,
so a change to the table that opens a route to a role fails this test until the change
is made here too, on purpose.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from firmware.db.models import OpLog
from tests.webtools.fixture import PASSWORD, Box, make_box

PUBLIC = "public"
EVERYONE = frozenset({"admin", "supervisor", "agent", "auditor", "field"})
ADMIN = frozenset({"admin"})
OVERSIGHT = frozenset({"admin", "supervisor", "auditor"})

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
}

ROLES_AND_ANON: tuple[str | None, ...] = (None, *sorted(EVERYONE))


def _pattern(rule: str) -> str:
    return re.sub(r"<([a-z_]+)(:[^>]*)?>", r"<\1>", rule)


def _url(box: Box, pattern: str) -> str:
    return (pattern.replace("<name>", "app.css").replace("<number>", "8001")
            .replace("<cdr_id>", str(box.cdr.id))
            .replace("<user_id>", str(box.users["victim"].id)))


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return make_box(tmp_path)


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
        data = dict(FORMS.get(pattern, {}))
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
            if role is None and method == "GET":
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
    data = FORMS.get(pattern, {})
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
