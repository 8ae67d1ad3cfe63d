"""Digest authentication (MD5 and SHA-256) and lockout, without sockets."""

from __future__ import annotations

import pytest

from drivers.sip.auth import DigestAuthenticator, Lockout, digest_response, parse_auth_params
from drivers.sip.message import Headers, Request

PASSWORDS = {"8001": "correct horse 8001"}


def _clock() -> float:
    return 1_000_000.0


def _credentials(auth: DigestAuthenticator, challenge: str, password: str,
                 header: str = "authorization", user: str = "8001") -> Request:
    _, p = parse_auth_params(challenge)
    alg = p["algorithm"]
    uri = "sip:box"
    resp = digest_response(alg, user, p["realm"], password, "REGISTER", uri, p["nonce"],
                           "auth", "00000001", "abcdef")
    h = Headers()
    h.add(header, f'Digest username="{user}", realm="{p["realm"]}", nonce="{p["nonce"]}", '
                  f'uri="{uri}", response="{resp}", algorithm={alg}, qop=auth, '
                  'nc=00000001, cnonce="abcdef"')
    return Request("REGISTER", uri, h)


@pytest.mark.parametrize("index", [0, 1])
def test_both_algorithms_verify(index: int) -> None:
    auth = DigestAuthenticator("ccbox", PASSWORDS.get, clock=_clock,
                               algorithms=("MD5", "SHA-256"))
    challenge = auth.challenges()[index]
    assert ("MD5" in challenge) == (index == 0)
    ok = auth.verify(_credentials(auth, challenge, PASSWORDS["8001"]), "authorization")
    assert ok.ok and ok.user == "8001"
    bad = auth.verify(_credentials(auth, challenge, "wrong"), "authorization")
    assert not bad.ok and bad.reason == "wrong password"


def test_unknown_user_and_forged_nonce() -> None:
    auth = DigestAuthenticator("ccbox", PASSWORDS.get, clock=_clock)
    challenge = auth.challenges()[0]
    r = auth.verify(_credentials(auth, challenge, "x", user="9999"), "authorization")
    assert not r.ok and r.reason == "unknown user"
    forged = challenge.replace('nonce="', 'nonce="0')
    r = auth.verify(_credentials(auth, forged, PASSWORDS["8001"]), "authorization")
    assert not r.ok and r.stale


def test_expired_nonce_is_stale_not_wrong() -> None:
    now = [1_000_000.0]
    auth = DigestAuthenticator("ccbox", PASSWORDS.get, clock=lambda: now[0])
    req = _credentials(auth, auth.challenges()[0], PASSWORDS["8001"])
    now[0] += 3600
    r = auth.verify(req, "authorization")
    assert not r.ok and r.stale and r.reason == "nonce expired"


def test_other_realm_is_ignored() -> None:
    auth = DigestAuthenticator("ccbox", PASSWORDS.get, clock=_clock)
    other = DigestAuthenticator("elsewhere", PASSWORDS.get, clock=_clock)
    r = auth.verify(_credentials(other, other.challenges()[0], PASSWORDS["8001"]),
                    "authorization")
    assert not r.ok


def test_lockout_after_limit_and_expiry() -> None:
    lock = Lockout(limit=5, window=60, duration=300)
    for i in range(4):
        assert not lock.fail("10.0.0.9", 100.0 + i)
    assert not lock.locked("10.0.0.9", 104)
    assert lock.fail("10.0.0.9", 105.0)
    assert lock.locked("10.0.0.9", 106)
    assert not lock.locked("10.0.0.10", 106)  # other sources unaffected
    assert not lock.locked("10.0.0.9", 406)


def test_failures_outside_the_window_do_not_add_up() -> None:
    lock = Lockout(limit=3, window=10, duration=300)
    for t in (0, 20, 40, 60, 80):
        assert not lock.fail("h", float(t))


def test_algorithms_are_offered_per_extension() -> None:
    offers = {"8001": ("SHA-256",), "8002": ("MD5", "SHA-256")}
    auth = DigestAuthenticator("ccbox", PASSWORDS.get, clock=_clock,
                               algorithms_for=offers.get)
    assert [c.split("algorithm=")[1].split(",")[0] for c in auth.challenges(user="8002")] == [
        "MD5", "SHA-256"]
    # unknown users get the default offer: the challenge reveals nothing
    assert len(auth.challenges(user="9999")) == 1 and "MD5" in auth.challenges(user="9999")[0]
    [sha] = auth.challenges(user="8001")
    assert "SHA-256" in sha
    assert auth.verify(_credentials(auth, sha, PASSWORDS["8001"]), "authorization").ok
    # MD5 credentials for an extension that is offered only SHA-256 are refused
    md5 = DigestAuthenticator("ccbox", PASSWORDS.get, clock=_clock).challenges()[0]
    r = auth.verify(_credentials(auth, md5.replace(md5.split('nonce="')[1].split('"')[0],
                                                   sha.split('nonce="')[1].split('"')[0]),
                                 PASSWORDS["8001"]), "authorization")
    assert not r.ok and "not offered" in r.reason
