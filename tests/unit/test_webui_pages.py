"""The pages: dashboard from switchd's socket, extensions, call records and recordings,
and the message catalogs."""

from __future__ import annotations

import csv
import io
import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware.db.migrations import run_sql
from firmware.db.models import Cdr, Extension, OpLog, Registration
from tests.webtools.fixture import Box, add_cdr, make_box
from webui import i18n
from webui.pages import cdrs

WEBUI = Path(i18n.__file__).parent


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return make_box(tmp_path)


class FakeSwitchd:
    """switchd's control socket: one JSON line in, one out; remembers the commands."""

    def __init__(self, path: Path, status: dict[str, object]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.status = status
        self.commands: list[str] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                line = conn.makefile("rb").readline()
                cmd = json.loads(line)["cmd"]
                self.commands.append(cmd)
                reply = self.status if cmd == "status" else {"ok": True, "extensions": 1}
                conn.sendall(json.dumps(reply).encode() + b"\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def switchd(box: Box) -> Iterator[FakeSwitchd]:
    fake = FakeSwitchd(box.data_dir / "run" / "switchd.sock", {
        "uptime": 3723.0, "board": "sim", "extensions": 11,
        "registrations": [{"aor": "8001"}, {"aor": "8002"}],
        "active_calls": [{"id": "a"}], "completed_calls": 7,
        "spans": [{"name": "span1", "signalling": "pri", "dchannel": "up", "alarm": None,
                   "idle": 30}],
    })
    yield fake
    fake.close()


def test_dashboard_shows_switchd_status(box: Box, switchd: FakeSwitchd) -> None:
    c, _ = box.client("agent")
    page = c.get("/").text
    assert "1h 02m 03s" in page
    assert re.search(r'id="registrations">2<', page) and re.search(r'id="active-calls">1<', page)
    assert re.search(r"<td>span1</td><td>pri</td><td>up</td><td>无</td><td>30</td>", page)


def test_dashboard_says_when_switchd_is_not_running(box: Box) -> None:
    c, _ = box.client("agent")
    assert "交换服务（switchd）未运行" in c.get("/").text
    assert "switchd is not running" in c.get("/?lang=en").text


def test_extension_add_edit_delete_with_reload_and_oplog(box: Box, switchd: FakeSwitchd) -> None:
    c, csrf = box.client("admin")
    r = c.post("/extensions", {"number": "8200", "name": "前台", "digest_algorithms":
                               "MD5,SHA-256", "csrf": csrf})
    assert r.status == 200 and "交换服务已重新加载分机" in r.text
    password = re.search(r'id="sip-password">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    assert Extension.get(Extension.number == "8200").sip_password == password
    assert switchd.commands == ["reload"]
    assert c.post("/extensions", {"number": "8200", "csrf": csrf}).status == 400  # duplicate
    assert c.post("/extensions", {"number": "12a", "csrf": csrf}).status == 400

    Registration.create(aor="8200", contact="sip:8200@10.0.0.5", source="10.0.0.5:5060",
                        transport="udp", expires_at=2e9, user_agent="Yealink")
    page = c.get("/extensions").text
    row = re.search(r'<tr data-number="8200">.*?</tr>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "已注册" in row and "Yealink" in row and password not in page

    r = c.post("/extensions/8200", {"name": "前台2", "digest_algorithms": "SHA-256",
                                    "csrf": csrf})
    assert r.status == 303 and (r.header("Location") or "").endswith("?reload=done")
    ext = Extension.get(Extension.number == "8200")
    assert (ext.name, ext.enabled, ext.digest_algorithms) == ("前台2", False, "SHA-256")

    assert c.post("/extensions/8200/delete", {"csrf": csrf}).status == 303
    assert not Extension.select().where(Extension.number == "8200").exists()
    assert not Registration.select().where(Registration.aor == "8200").exists()
    log = [(o.action, o.target, o.before, o.after) for o in OpLog.select().order_by(OpLog.id)]
    assert [a for a, *_ in log] == ["extension.add", "extension.edit", "extension.delete"]
    assert all(password not in f"{b}{a}" for *_, b, a in log)
    assert json.loads(log[1][2] or "{}")["name"] == "前台"
    assert json.loads(log[1][3] or "{}")["name"] == "前台2"


def test_cdr_search_filters_and_pages(box: Box) -> None:
    base = 1_770_000_000.0
    for i in range(120):
        add_cdr(f"c{i:03d}", base + i * 60, caller="13900000000" if i % 2 else "13800000000",
                talk=float(i), direction="out" if i % 3 == 0 else "in")
    c, _ = box.client("auditor")
    page = c.get("/cdrs").text
    assert page.count("<tr data-call-id=") == cdrs.PAGE_SIZE and 'id="next-page"' in page
    assert "c119" in page  # newest first
    ids = re.findall(r'data-call-id="([^"]+)"', c.get("/cdrs?number=13900000000&direction=in"
                                                      "&min_seconds=100&page=1").text)
    expected = [f"c{i:03d}" for i in range(119, 99, -1) if i % 2 and i % 3]
    assert ids == expected
    assert c.get("/cdrs?start=nonsense").text.count("<tr data-call-id=") == 0


def test_cdr_csv_export_is_excel_friendly_and_logged(box: Box) -> None:
    add_cdr("evil", 1_770_000_000.0, caller="=HYPERLINK(1)")
    c, _ = box.client("supervisor")
    r = c.get("/cdrs.csv?direction=in")
    assert r.status == 200 and (r.header("Content-Type") or "").startswith("text/csv")
    text = r.body.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    evil = next(row for row in rows if row[-1] == "evil")
    assert rows[0][0] == "开始时间" and evil[2] == "'=HYPERLINK(1)"
    assert OpLog.select().where(OpLog.action == "cdr.export").count() == 1


def test_recording_playback_is_role_checked_ranged_and_logged(box: Box) -> None:
    c, _ = box.client("auditor")
    url = f"/cdrs/{box.cdr.id}/recording"
    r = c.get(url)
    assert r.status == 200 and r.header("Content-Type") == "audio/wav"
    assert r.body[:4] == b"RIFF"
    part = c.get(url, headers={"Range": "bytes=100-199"})
    assert part.status == 206 and len(part.body) == 100
    plays = OpLog.select().where(OpLog.action == "recording.play")
    assert plays.count() == 1 and plays.get().actor == "auditor1"
    d = c.get(url + "?download=1")
    assert "attachment" in (d.header("Content-Disposition") or "")
    assert OpLog.select().where(OpLog.action == "recording.download").count() == 1
    agent, _ = box.client("agent")
    assert agent.get(url).status == 403


def test_a_cdr_cannot_point_playback_outside_the_recordings(box: Box) -> None:
    secret = box.data_dir / "ccbox.db"
    for path in ("../ccbox.db", str(secret), "recordings/../ccbox.db"):
        Cdr.update(recording=path).where(Cdr.id == box.cdr.id).execute()
        c, _ = box.client("admin")
        assert c.get(f"/cdrs/{box.cdr.id}/recording").status == 404


def _msgids() -> set[str]:
    found: set[str] = set()
    for f in [*WEBUI.glob("views/*.tpl"), *WEBUI.glob("**/*.py")]:
        text = f.read_text("utf-8")
        found |= set(re.findall(r"""\b_\(\s*'([^']+)'\s*\)""", text))
        found |= set(re.findall(r'''\b_\(\s*"([^"]+)"\s*\)''', text))
        # strings handed to the page's scripts: {k: _(k) for k in ('...', ...)}
        for group in re.findall(r"for k in \(([^)]*)\)", text):
            found |= set(re.findall(r"'([^']+)'", group))
    return found


def test_every_message_has_a_chinese_translation() -> None:
    zh = i18n.catalog("zh_CN")
    missing = sorted(_msgids() - set(zh))
    assert not missing, f"add to webui/i18n/zh_CN.json: {missing}"
    assert set(i18n.catalog("en")) <= set(zh)  # English overrides only known ids


def test_language_choice_order(box: Box) -> None:
    c, csrf = box.client("supervisor")
    assert 'lang="zh-CN"' in c.get("/").text
    assert 'lang="en"' in c.get("/?lang=en").text  # this request only
    assert 'lang="zh-CN"' in c.get("/").text
    assert c.post("/lang", {"lang": "en", "csrf": csrf, "back": "/cdrs"}).status == 303
    assert 'lang="en"' in c.get("/").text  # stored on the user
    anon = box.client(None)[0]
    assert 'lang="en"' in anon.get("/signin", headers={"Accept-Language": "en-US,en"}).text


@pytest.mark.parametrize("search", [
    cdrs.Search(number="13800138000"),
    cdrs.Search(direction="in", start="2026-01-01T00:00", end="2026-02-01T00:00"),
    cdrs.Search(min_seconds="10"),
    cdrs.Search(agent="8003"),
    cdrs.Search(queue="repair", start="2026-01-01T00:00", end="2026-02-01T00:00"),
    cdrs.Search(direction="inbound", max_seconds="60"),
    cdrs.Search(),
])
def test_cdr_searches_use_indexes(box: Box, search: cdrs.Search) -> None:
    sql, params = search.query().limit(cdrs.PAGE_SIZE + 1).sql()
    plan = [str(row[3]) for row in
            run_sql(box.web.db, "EXPLAIN QUERY PLAN " + sql, tuple(params)).fetchall()]
    # Every table access goes through an index: no full scan of 100,000 rows.
    assert all("USING INDEX" in step for step in plan if step.startswith(("SCAN", "SEARCH"))), plan
