"""The HTTP API: tokens, CTI commands, the event stream as each role sees it, customers
and notes, recordings' per-call rules, Excel export, the OpenAPI description (checked
in, served, and fuzzed with schemathesis: no 500)."""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from firmware.db.models import Cdr, OpLog
from firmware.db.web_models import ApiToken, CallNote
from tests.webtools.fake_cti import FakeCti
from tests.webtools.fixture import RECORDING, Box, add_cdr, make_box
from webui import openapi_gen, tokens

SNAPSHOT: dict[str, Any] = {
    "time": 1.0, "reasons": ["break", "lunch"], "totals": None,
    "agents": [{"agent": "8001", "state": "ready", "device": "8001", "caller": None},
               {"agent": "8002", "state": "on-call", "device": "8002",
                "caller": "13900000000", "call": "c2"}],
    "queues": [{"queue": "general", "waiting": 1, "oldest": 0.5}],
    "calls": [{"id": "c2", "caller": "13900000000", "called": "96777", "agent": "8002",
               "devices": {"8002": "connected"}, "state": "up"}],
}
EVENTS: list[dict[str, Any]] = [
    {"event": "Delivered", "time": 2.0, "call": "c3", "device": "8001", "agent": "8001",
     "caller": "13800138000", "called": "96777", "queue": "general"},
    {"event": "Delivered", "time": 2.1, "call": "c4", "device": "8002", "agent": "8002",
     "caller": "13700000000", "called": "96777", "queue": "general"},
    {"event": "AgentState", "time": 2.2, "agent": "8002", "state": "ringing",
     "caller": "13700000000", "call": "c4"},
    {"event": "QueueChanged", "time": 2.3, "queue": "general", "waiting": 0, "oldest": None},
    {"event": "Established", "time": 3.0, "call": "c3", "device": "8001"},
    {"event": "CallCleared", "time": 9.0, "call": "c3"},
    {"event": "Held", "time": 9.5, "call": "c3", "device": "8009"},  # not followed any more
]


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Box]:
    b = make_box(tmp_path)
    yield b


@pytest.fixture
def fake(box: Box) -> Iterator[FakeCti]:
    f = FakeCti(box.data_dir, SNAPSHOT, EVENTS)
    yield f
    f.close()


def _sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for block in text.split("\n\n"):
        name = re.search(r"^event: (.+)$", block, re.M)
        data = re.search(r"^data: (.+)$", block, re.M)
        if name and data:
            out.append((name.group(1), json.loads(data.group(1))))
    return out


# --- tokens -----------------------------------------------------------------------------
def test_tokens_are_hashed_shown_once_and_revocable(box: Box, fake: FakeCti) -> None:
    admin, csrf = box.client("admin")
    r = admin.post("/tokens", {"csrf": csrf, "name": "crm", "role": "supervisor",
                               "extension": "8101"})
    assert r.status == 200
    secret = re.search(r'id="token-secret">([^<]+)<', r.text)
    assert secret is not None
    token = secret.group(1)
    row = ApiToken.get(ApiToken.name == "crm")
    assert row.token_hash == tokens.digest(token) and token not in json.dumps(
        [o.after for o in OpLog.select()])
    assert token not in admin.get("/tokens").text  # the list shows the prefix only
    prog = box.client(None)[0]
    auth = {"Authorization": f"Bearer {token}"}
    # no CSRF for a bearer token: no cookie is involved
    r = prog.post("/api/v1/supervise/MonitorStart", {"target": "8001", "mode": "listen"},
                  headers=auth)
    assert r.status == 200, r.text
    assert fake.commands[-1] == {"cmd": "MonitorStart", "supervisor": "8101",
                                 "target": "8001", "mode": "listen"}
    assert OpLog.select().where(OpLog.action == "supervise.MonitorStart").get().actor == \
        "token:crm"
    assert admin.post(f"/tokens/{row.id}/revoke", {"csrf": csrf}).status == 303
    assert prog.get("/api/v1/snapshot", headers=auth).status == 401


def test_a_bad_token_never_falls_back_to_the_cookie(box: Box, fake: FakeCti) -> None:
    admin, _ = box.client("admin")
    r = admin.get("/api/v1/snapshot", headers={"Authorization": "Bearer ccbx_nope"})
    assert r.status == 401 and json.loads(r.text)["code"] == "unauthorized"
    _row, secret = tokens.create("old", "admin", "admin1", expires=time.time() - 1)
    assert admin.get("/api/v1/snapshot",
                     headers={"Authorization": f"Bearer {secret}"}).status == 401
    # tokens work on /api/ only: pages still need a session
    c = box.client(None)[0]
    assert c.get("/cdrs", headers={"Authorization": f"Bearer {box.wallboard_token}"}
                 ).status == 303


TOKEN_EXPECTED = {
    # route -> token roles allowed
    ("GET", "/api/v1/snapshot"): {"admin", "supervisor", "agent", "auditor", "wallboard"},
    ("GET", "/api/v1/events"): {"admin", "supervisor", "agent", "auditor", "wallboard"},
    ("GET", "/api/v1/wallboard"): {"admin", "supervisor", "agent", "auditor", "wallboard"},
    ("GET", "/api/v1/system"): {"admin", "supervisor", "auditor"},
    ("GET", "/api/v1/customers/lookup?number=13800138000"): {"admin", "supervisor", "agent",
                                                             "auditor"},
    ("POST", "/api/v1/customers"): {"admin", "supervisor", "agent"},
    ("POST", "/api/v1/cti/Hold"): {"admin", "supervisor", "agent"},
    ("POST", "/api/v1/agents/8001/state"): {"admin", "supervisor", "agent"},
    ("POST", "/api/v1/supervise/ForceRelease"): {"admin", "supervisor"},
    ("POST", "/api/v1/calls/call-1/notes"): {"supervisor", "agent"},
}


@pytest.mark.parametrize(("method", "url"), sorted(TOKEN_EXPECTED))
def test_every_token_role_on_every_api_route(box: Box, fake: FakeCti, method: str,
                                             url: str) -> None:
    for role in ("admin", "supervisor", "agent", "auditor", "field", "wallboard"):
        client, auth = box.bearer(role, agent="8001", extension="8001")
        data = {"number": "13800138000", "text": "x", "state": "ready", "target": "8001"}
        before = OpLog.select().count()
        r = client.request(method, url, data if method == "POST" else None, headers=auth)
        where = f"{method} {url} as {role} token: {r.status} {r.text[:200]}"
        if role in TOKEN_EXPECTED[(method, url)]:
            assert r.status not in (401, 403) and r.status < 500, where
        else:
            assert r.status == 403, where
            assert OpLog.select().count() == before, where


# --- CTI commands --------------------------------------------------------------------------
def test_agents_act_on_their_own_phone_and_agent_only(box: Box, fake: FakeCti) -> None:
    agent, csrf = box.client("agent")
    hdr = {"X-CSRF-Token": csrf}
    assert agent.post("/api/v1/cti/MakeCall", {"to": "13800138000"}, headers=hdr).status == 200
    assert fake.commands[-1] == {"cmd": "MakeCall", "device": "8001", "to": "13800138000"}
    r = agent.post("/api/v1/cti/Hold", {"device": "8002"}, headers=hdr)
    assert r.status == 403
    assert agent.post("/api/v1/agents/8002/state", {"state": "ready"}, headers=hdr
                      ).status == 403
    assert agent.post("/api/v1/agents/8001/state", {"state": "notReady", "reason": "lunch"},
                      headers=hdr).status == 200
    assert fake.commands[-1] == {"cmd": "SetAgentState", "agent": "8001",
                                 "state": "notReady", "device": "8001", "reason": "lunch"}
    # a supervisor changing someone else's state is on the record
    sup, scsrf = box.client("supervisor")
    assert sup.post("/api/v1/agents/8001/state", {"state": "logout"},
                    headers={"X-CSRF-Token": scsrf}).status == 200
    assert OpLog.select().where(OpLog.action == "agent.state").get().target == "8001"


def test_cti_refusals_become_http_statuses(box: Box) -> None:
    fake = FakeCti(box.data_dir, replies={
        "Hold": {"ok": False, "code": "refused", "error": "8001 is not on an answered call"},
        "Answer": {"ok": False, "code": "not_supported", "error": "answer on the phone"}})
    try:
        agent, csrf = box.client("agent")
        r = agent.post("/api/v1/cti/Hold", {}, headers={"X-CSRF-Token": csrf})
        assert r.status == 409 and json.loads(r.text) == {
            "ok": False, "code": "refused", "error": "8001 is not on an answered call"}
        r = agent.post("/api/v1/cti/Answer", {}, headers={"X-CSRF-Token": csrf})
        assert r.status == 501
    finally:
        fake.close()
    r = agent.post("/api/v1/cti/Hold", {}, headers={"X-CSRF-Token": csrf})
    assert r.status == 503 and json.loads(r.text)["code"] == "unavailable"  # no switchd


def test_json_bodies_are_checked(box: Box, fake: FakeCti) -> None:
    client, auth = box.bearer("supervisor", extension="8101")
    for raw in (b"not json", b"[1, 2]", b'{"to": {"x": 1}}'):
        r = client.request("POST", "/api/v1/cti/MakeCall", None,
                           headers={**auth, "Content-Type": "application/json"}, raw=raw)
        assert r.status == 400, (raw, r.text)
    r = client.request("POST", "/api/v1/cti/MakeCall", None,
                       headers={**auth, "Content-Type": "application/json"},
                       raw=b'{"to": "8002"}')
    assert r.status == 200 and fake.commands[-1]["to"] == "8002"


# --- the event stream ---------------------------------------------------------------------
def test_an_agent_sees_own_calls_with_the_screen_pop(box: Box, fake: FakeCti) -> None:
    agent, csrf = box.client("agent")
    r = agent.post("/api/v1/customers", {"number": "13800138000", "name": "王阿姨",
                                         "address": "幸福小区 3 号楼"},
                   headers={"X-CSRF-Token": csrf})
    assert r.status == 201, r.text
    add_cdr("earlier", time.time() - 86400, caller="13800138000")
    r = agent.get("/api/v1/events")
    assert r.status == 200 and (r.header("Content-Type") or "").startswith("text/event-stream")
    events = _sse(r.text)
    assert events[0][0] == "snapshot"
    snap = events[0][1]
    assert [a["agent"] for a in snap["agents"]] == ["8001"] and snap["calls"] == []
    names = [(n, e.get("call")) for n, e in events[1:]]
    assert names == [("Delivered", "c3"), ("QueueChanged", None), ("Established", "c3"),
                     ("CallCleared", "c3")]
    pop = events[1][1]["customer"]
    assert pop["customer"]["name"] == "王阿姨" and pop["customer"]["address"] == "幸福小区 3 号楼"
    assert [c["call_id"] for c in pop["calls"]] == ["earlier", "call-1"]  # newest first


def test_oversight_sees_everything_and_a_wallboard_no_numbers(box: Box, fake: FakeCti) -> None:
    sup, _ = box.client("supervisor")
    events = _sse(sup.get("/api/v1/events").text)
    assert len(events) == 1 + len(EVENTS)
    assert events[0][1]["calls"][0]["caller"] == "13900000000"
    wall = box.client(None)[0]
    wall.cookies["ccbox_wallboard"] = box.wallboard_token
    events = _sse(wall.get("/api/v1/events").text)
    names = [n for n, _ in events]
    assert names == ["snapshot", "AgentState", "QueueChanged"]
    assert "139" not in json.dumps(events) and "137" not in json.dumps(events)


def test_wallboard_pairing(box: Box, fake: FakeCti) -> None:
    screen = box.client(None)[0]
    page = screen.get("/wallboard")
    assert 'id="token"' in page.text and "wb-waiting" not in page.text
    csrf = page.csrf()
    _row, crm = tokens.create("crm", "supervisor", "admin1")
    assert screen.post("/wallboard/pair", {"csrf": csrf, "token": crm}).status == 403
    r = screen.post("/wallboard/pair", {"csrf": csrf, "token": box.wallboard_token})
    assert r.status == 303
    assert "wb-waiting" in screen.get("/wallboard").text
    assert screen.get("/cdrs").status == 403  # the paired screen reads the wallboard only
    # a supervisor's token cannot be smuggled in as the cookie
    other = box.client(None)[0]
    other.cookies["ccbox_wallboard"] = crm
    assert "wb-waiting" not in other.get("/wallboard").text


# --- notes, recordings, export ---------------------------------------------------------------
def test_call_notes_go_to_the_call_record(box: Box, fake: FakeCti) -> None:
    agent, csrf = box.client("agent")
    r = agent.post("/api/v1/calls/call-1/notes", {"text": "灶台漏气，已派单",
                                                  "disposition": "order"},
                   headers={"X-CSRF-Token": csrf})
    assert r.status == 201, r.text
    assert CallNote.get().author == "agent1"
    # not one of the agent's calls (and not live at their phone)
    add_cdr("other", time.time(), caller="13500000000", called="8002")
    r = agent.post("/api/v1/calls/other/notes", {"text": "x"}, headers={"X-CSRF-Token": csrf})
    assert r.status == 403
    auditor, _ = box.client("auditor")
    assert "灶台漏气，已派单" in auditor.get(f"/cdrs/{box.cdr.id}").text


def test_who_may_hear_which_recording(box: Box) -> None:
    other = add_cdr("other", 1_769_817_700.0, RECORDING, caller="13500000000", called="8002")
    url = f"/cdrs/{other.id}/recording"
    for role, status in (("admin", 200), ("auditor", 200), ("supervisor", 403)):
        assert box.client(role)[0].get(url).status == status, role
    # the supervisor hears calls of the queue they supervise
    Cdr.update(queue="general").where(Cdr.id == other.id).execute()
    assert box.client("supervisor")[0].get(url).status == 200
    agent = box.client("agent")[0]
    assert agent.get(f"/desk/calls/{box.cdr.id}/recording").status == 200  # own call
    assert agent.get(f"/desk/calls/{other.id}/recording").status == 403
    assert agent.get(f"/desk/calls/{other.id}").status == 404
    plays = [o.actor for o in OpLog.select().where(OpLog.action == "recording.play")]
    assert plays == ["admin1", "auditor1", "supervisor1", "agent1"]


def test_waveform_has_both_channels(box: Box) -> None:
    r = box.client("auditor")[0].get(f"/cdrs/{box.cdr.id}/waveform.json")
    data = json.loads(r.text)
    assert r.status == 200 and data["seconds"] == pytest.approx(2.0)
    assert len(data["channels"]) == 2 and all(len(c) == 600 for c in data["channels"])
    assert all(0.2 < p < 0.3 for p in data["channels"][0])  # the 8000/32768 tone


def _rows(data: bytes) -> list[tuple[Any, ...]]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


def test_excel_export_has_the_search_results_and_is_logged(box: Box) -> None:
    for i in range(30):
        add_cdr(f"x{i}", 1_770_000_000.0 + i, caller="=cmd|' /C calc'!A0" if i == 0 else
                "13800000000", talk=float(i), direction="inbound")
    Cdr.update(queue="repair", agent="8003").where(Cdr.call_id.startswith("x1")).execute()
    c, _ = box.client("supervisor")
    r = c.get("/cdrs.xlsx?queue=repair&agent=8003&min_seconds=12")
    assert r.status == 200 and "spreadsheetml" in (r.header("Content-Type") or "")
    rows = _rows(r.body)
    assert rows[0][:3] == ("开始时间", "方向", "主叫")
    assert sorted(row[-1] for row in rows[1:]) == [f"x{i}" for i in range(12, 20)]
    assert OpLog.select().where(OpLog.action == "cdr.export").count() == 1
    r = c.get("/cdrs.xlsx?direction=inbound&max_seconds=0")
    first = _rows(r.body)[1]
    assert first[2] == "=cmd|' /C calc'!A0"  # a string cell, never a formula


# --- OpenAPI ---------------------------------------------------------------------------------
def test_openapi_file_is_generated_and_served(box: Box) -> None:
    checked_in = (Path(openapi_gen.__file__).parent / "openapi.json").read_text("utf-8")
    assert checked_in == openapi_gen.render(), "run: python -m webui.openapi_gen"
    r = box.client(None)[0].get("/api/v1/openapi.json")
    assert r.status == 200 and json.loads(r.text)["openapi"].startswith("3.")
    documented = {p.replace("{", "<").replace("}", ">") for p in json.loads(r.text)["paths"]}
    routes = {r.path for r in box.web.routes if r.api}
    for route in routes:
        pattern = re.sub(r"<([a-z_]+):re:\(([^)]*)\)>", r"\2", route)
        pattern = re.sub(r"<([a-z_]+)(:[^>]*)?>", r"<\1>", pattern)
        alternatives = pattern.split("|")
        if len(alternatives) > 1:  # /api/v1/cti/<command:re:(A|B)> -> every command
            head = route.split("<")[0]
            names = re.search(r"\(([^)]*)\)", route)
            assert names is not None
            for name in names.group(1).split("|"):
                assert head + name in documented, head + name
        else:
            assert pattern in documented, pattern


@pytest.mark.parametrize("role", ["admin", "agent"])
def test_schemathesis_finds_no_500(box: Box, fake: FakeCti, role: str) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", box.web.app)
    _client, auth = box.bearer(role, agent="8001", extension="8001")
    ran = 0
    for result in schema.get_all_operations():
        op = result.ok()  # type: ignore[union-attr]

        @given(op.as_strategy())
        @settings(max_examples=12, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            resp = case.call(headers=auth)
            assert resp.status_code != 500, f"{case.method} {case.formatted_path}: {resp.text}"
            # responses match the description (status, content type, body schema)
            # (ignored_auth: the token is ours, passed as a header, not generated)
            case.validate_response(resp, excluded_checks=[
                schemathesis.checks.not_a_server_error, schemathesis.checks.ignored_auth])

        run()
        ran += 1
    assert ran >= 20
