"""Sign-in, cookies, sessions, lockout and the first admin."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firmware.db.models import OpLog, Session, User
from tests.webtools.client import Client
from tests.webtools.fixture import PASSWORD, Box, make_box
from webui import auth, i18n, sessions

CCBOX = str(Path(sys.executable).parent / "ccbox")


@pytest.fixture
def box(tmp_path: Path) -> Box:
    return make_box(tmp_path)


def _sign_in(c: Client, name: str, password: str) -> tuple[int, str]:
    token = c.get("/signin").csrf()
    r = c.post("/signin", {"name": name, "password": password, "csrf": token})
    return r.status, r.text if r.status != 303 else (r.header("Location") or "")


def test_sign_in_sets_a_strict_httponly_cookie_and_logs_it(box: Box) -> None:
    c = Client(box.web.app)
    token = c.get("/signin").csrf()
    r = c.post("/signin", {"name": "admin1", "password": PASSWORD, "csrf": token,
                           "next": "/extensions"})
    assert r.status == 303 and (r.header("Location") or "").endswith("/extensions")
    cookie = next(v for v in r.set_cookies() if v.startswith(sessions.COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie.replace("strict", "Strict")
    assert "Secure" not in cookie  # plain HTTP on a LAN: a Secure cookie would never return
    assert c.get("/extensions").status == 200
    # Only the token's digest is stored: the database cannot be replayed as a cookie.
    assert not Session.select().where(Session.token_hash == c.cookies[sessions.COOKIE]).exists()
    log = OpLog.select().where(OpLog.action == "session.signin").get()
    assert log.actor == "admin1" and log.address == "127.0.0.1"


def test_cookie_is_secure_over_tls(box: Box) -> None:
    c = Client(box.web.app)
    r = c.get("/signin", headers={})
    assert all("Secure" not in v for v in r.set_cookies())
    token = c.cookies["ccbox_pre"]
    # wsgi.url_scheme set by the server that terminated TLS.
    environ_app = box.web.app

    def tls_app(environ: dict[str, object], start: object) -> object:
        environ["wsgi.url_scheme"] = "https"
        return environ_app(environ, start)

    tc = Client(tls_app, cookies=dict(c.cookies))  # type: ignore[arg-type]
    r = tc.post("/signin", {"name": "admin1", "password": PASSWORD, "csrf": token})
    assert r.status == 303
    assert any(v.startswith(sessions.COOKIE) and "Secure" in v for v in r.set_cookies())


def test_wrong_password_unknown_user_and_disabled_user_get_the_same_answer(box: Box) -> None:
    User.update(enabled=False).where(User.name == "field1").execute()
    answers = set()
    for name, password in (("admin1", "nope-nope-nope"), ("ghost", PASSWORD),
                           ("field1", PASSWORD)):
        status, text = _sign_in(Client(box.web.app), name, password)
        assert status == 401
        answers.add(re.search(r'id="signin-error"[^>]*>([^<]*)<', text).group(1))  # type: ignore[union-attr]
    assert answers == {i18n.translator("zh_CN")("Wrong user name or password.")}


def test_user_lockout_after_repeated_failures_with_a_clear_message(box: Box) -> None:
    for i in range(auth.USER_MAX_FAILURES - 1):
        # Different addresses: this is the per-user lock, not the per-address one.
        assert _sign_in(Client(box.web.app, f"10.0.0.{i}"), "admin1", "bad-password-1")[0] == 401
    status, text = _sign_in(Client(box.web.app, "10.0.1.1"), "admin1", "bad-password-1")
    assert status == 429 and "该用户登录失败次数过多" in text and "请于" in text
    # Now even the right password is refused, from anywhere, until the lock ends...
    status, text = _sign_in(Client(box.web.app, "10.0.2.2"), "admin1", PASSWORD)
    assert status == 429
    # ...and the CLI (the shell on the box) can lift it.
    assert subprocess.run([CCBOX, "user", "unlock", "admin1", "--data", str(box.data_dir)],
                          capture_output=True, timeout=30).returncode == 0
    assert _sign_in(Client(box.web.app, "10.0.2.2"), "admin1", PASSWORD)[0] == 303


def test_address_lockout_spans_user_names(box: Box) -> None:
    limiter = box.web.limiter
    now = time.time()
    for _ in range(auth.ADDRESS_MAX_FAILURES):
        limiter.fail("192.0.2.9", now)
    status, text = _sign_in(Client(box.web.app, "192.0.2.9"), "supervisor1", PASSWORD)
    assert status == 429 and "该地址登录失败次数过多" in text
    # Another address is unaffected.
    assert _sign_in(Client(box.web.app, "192.0.2.10"), "supervisor1", PASSWORD)[0] == 303
    assert limiter.blocked_until("192.0.2.9", now + auth.ADDRESS_WINDOW + 1) == 0.0


def test_address_limiter_counts_real_failures() -> None:
    lim = auth.AddressLimiter(max_failures=3, window=60)
    for t in (0.0, 1.0, 2.0):
        assert lim.blocked_until("a", t) == 0.0
        lim.fail("a", t)
    assert lim.blocked_until("a", 3.0) == 60.0
    assert lim.blocked_until("a", 60.5) == 0.0  # the first failure aged out


def test_sessions_expire_when_idle_and_on_sign_out(box: Box) -> None:
    c, csrf = box.client("supervisor")
    assert c.get("/cdrs").status == 200
    Session.update(last_seen=time.time() - sessions.IDLE - 1).execute()
    r = c.get("/cdrs")
    assert r.status == 303 and "/signin" in (r.header("Location") or "")
    assert Session.select().count() == 0

    c, csrf = box.client("supervisor")
    r = c.post("/signout", {"csrf": csrf})
    assert r.status == 303
    assert c.get("/cdrs").status == 303


def test_role_change_ends_the_users_sessions(box: Box) -> None:
    victim, _ = box.client("victim")
    assert victim.get("/").status == 200
    admin, csrf = box.client("admin")
    r = admin.post(f"/users/{box.users['victim'].id}",
                   {"role": "auditor", "language": "zh_CN", "enabled": "1", "csrf": csrf})
    assert r.status == 303
    assert victim.get("/").status == 303
    log = OpLog.select().where(OpLog.action == "user.edit").get()
    assert json.loads(log.before or "{}")["role"] == "agent"
    assert json.loads(log.after or "{}")["role"] == "auditor"


def test_last_admin_cannot_be_demoted_or_deleted(box: Box) -> None:
    admin, csrf = box.client("admin")
    me = box.users["admin"].id
    r = admin.post(f"/users/{me}", {"role": "agent", "language": "zh_CN", "enabled": "1",
                                    "csrf": csrf})
    assert r.status == 400 and "最后一个管理员" in r.text
    assert admin.post(f"/users/{me}/delete", {"csrf": csrf}).status == 409
    assert User.get_by_id(me).role == "admin"


def test_sign_in_redirect_stays_on_the_box(box: Box) -> None:
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        c = Client(box.web.app)
        token = c.get("/signin").csrf()
        r = c.post("/signin", {"name": "admin1", "password": PASSWORD, "csrf": token,
                               "next": evil})
        assert r.header("Location") == "http://127.0.0.1/"


def test_new_user_password_is_shown_once_and_never_logged(box: Box) -> None:
    admin, csrf = box.client("admin")
    r = admin.post("/users", {"name": "lihua", "role": "agent", "language": "zh_CN",
                              "csrf": csrf})
    assert r.status == 200
    password = re.search(r'id="user-password">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    assert _sign_in(Client(box.web.app), "lihua", password)[0] == 303
    assert password not in admin.get("/users").text
    for o in OpLog.select():
        assert password not in f"{o.before}{o.after}"


def test_cli_creates_the_first_admin(tmp_path: Path) -> None:
    r = subprocess.run([CCBOX, "user", "add", "boss", "--role", "admin", "--data", str(tmp_path)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    password = re.search(r"password: (\S+)", r.stdout).group(1)  # type: ignore[union-attr]
    weak = subprocess.run([CCBOX, "user", "add", "x1", "--role", "agent", "--password-stdin",
                           "--data", str(tmp_path)], input="short\n", capture_output=True,
                          text=True, timeout=30)
    assert weak.returncode == 1 and "weak password" in weak.stderr
    dup = subprocess.run([CCBOX, "user", "add", "boss", "--role", "agent", "--data",
                          str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    box = make_box(tmp_path)
    assert _sign_in(Client(box.web.app), "boss", password)[0] == 303


def test_signin_page_tells_how_to_make_the_first_admin(tmp_path: Path) -> None:
    box = make_box(tmp_path)
    User.delete().where(User.role == "admin").execute()
    assert "ccbox user add NAME --role admin" in Client(box.web.app).get("/signin").text


def test_users_change_their_own_password(box: Box) -> None:
    c, csrf = box.client("agent")
    other, _ = box.client("agent")  # the same user signed in elsewhere
    bad = c.post("/account/password", {"current": "wrong-password", "new": "Fresh-Passw0rd-1",
                                       "again": "Fresh-Passw0rd-1", "csrf": csrf})
    assert bad.status == 400 and "当前密码错误" in bad.text
    weak = c.post("/account/password", {"current": PASSWORD, "new": "agent1-x-pass",
                                        "again": "agent1-x-pass", "csrf": csrf})
    assert weak.status == 400 and "不能包含用户名" in weak.text
    ok = c.post("/account/password", {"current": PASSWORD, "new": "Fresh-Passw0rd-1",
                                      "again": "Fresh-Passw0rd-1", "csrf": csrf})
    assert ok.status == 200 and 'id="password-changed"' in ok.text
    assert c.get("/").status == 200 and other.get("/").status == 303
    assert _sign_in(Client(box.web.app), "agent1", "Fresh-Passw0rd-1")[0] == 303
    assert "Fresh-Passw0rd-1" not in str([(o.before, o.after) for o in OpLog.select()])
