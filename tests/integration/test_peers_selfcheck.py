"""The test peers proven against each other, without the box.

Every scenario pair used by test_sip_box.py runs here sipp to sipp (the UAS scenarios
play the box's 407 challenge with `challenge=yes`), and baresip registers with a sipp
registrar and calls a sipp UAS. When a box test fails while these pass, the box is
the suspect. They also pin down facts about the peers that the box has to live with.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.peers import digest
from tests.peers.baresip import Baresip, BaresipError
from tests.peers.ports import free_block, free_port
from tests.peers.sipp import Sipp, SippResult
from tests.peers.wav import active_seconds, dominant_frequency, read_wav

pytestmark = pytest.mark.peers

PASSWORD = "pw-9001"


@pytest.fixture
def workdir(tmp_path: Path, peer_tools: None) -> Path:
    d = tmp_path / "sipp"
    d.mkdir()
    return d


def run_pair(
    workdir: Path,
    uac: str,
    uas: str,
    *,
    uac_keys: Mapping[str, str | int | float] | None = None,
    uas_keys: Mapping[str, str | int | float] | None = None,
    number: str = "9002",
    media_ports: tuple[int | None, int | None] = (None, None),
) -> tuple[SippResult, SippResult]:
    port = free_port()
    with Sipp(
        uas,
        workdir,
        local_port=port,
        media_port=media_ports[1],
        keys={"user": number, "challenge": "yes", **(uas_keys or {})},
        timeout=20,
    ) as callee:
        callee.start().wait_ready()
        caller = Sipp(
            uac,
            workdir,
            remote=f"127.0.0.1:{port}",
            service=number,
            user="9001",
            password=PASSWORD,
            keys={"user": "9001", **(uac_keys or {})},
            timeout=20,
            media_port=media_ports[0],
        ).run()
        answered = callee.wait(timeout=10)
    assert caller.ok, caller.report()
    assert answered.ok, answered.report()
    return caller, answered


def assert_valid_proxy_auth(uas: SippResult, number: str = "9002") -> None:
    invites = uas.requests("INVITE")
    assert len(invites) >= 2, "expected the INVITE to be retried after the 407"
    first, retried = invites[0], invites[1]
    assert first.header("Proxy-Authorization") is None
    creds = retried.header("Proxy-Authorization")
    assert creds is not None, retried.text
    params = digest.parse_params(creds)
    request_uri = retried.start_line.split()[1]
    assert params["uri"] == request_uri, "digest uri must be the Request-URI (-auth_uri)"
    assert params["username"] == "9001"
    assert digest.verify(creds, "INVITE", PASSWORD), creds


class Capture:
    """dumpcap on lo for a set of UDP ports, while a `with` block runs."""

    def __init__(self, pcap: Path, ports: list[int]) -> None:
        self.pcap = pcap
        self.filter = " or ".join(f"udp port {p}" for p in ports)
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Capture:
        self.proc = subprocess.Popen(
            ["dumpcap", "-q", "-i", "lo", "-f", self.filter, "-w", str(self.pcap)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 10
        while not (self.pcap.exists() and self.pcap.stat().st_size > 0):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                err = self.proc.stderr.read() if self.proc.stderr else ""
                pytest.fail(f"dumpcap did not start: {err}")
            time.sleep(0.05)
        time.sleep(0.3)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None
        time.sleep(0.3)
        self.proc.terminate()
        self.proc.wait(timeout=5)


def udp_flows(pcap: Path) -> dict[tuple[int, int], int]:
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-T", "fields", "-e", "udp.srcport", "-e", "udp.dstport"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flows: dict[tuple[int, int], int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2:
            key = (int(parts[0]), int(parts[1]))
            flows[key] = flows.get(key, 0) + 1
    return flows


# -- registration -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scenario", "password", "finals"),
    [
        ("register_auth", PASSWORD, [401, 200]),
        ("register_wrong", "not-the-password", [401, 401]),
        ("unregister", PASSWORD, [401, 200]),
        ("register_probe", PASSWORD, [401, 200]),
        ("register_probe", "not-the-password", [401, 401]),
    ],
)
def test_register_scenarios_against_sipp_registrar(
    workdir: Path, scenario: str, password: str, finals: list[int]
) -> None:
    port = free_port()
    with Sipp(
        "mock_registrar",
        workdir,
        local_port=port,
        keys={"auth_user": "9001", "auth_pass": PASSWORD},
        timeout=10,
    ) as registrar:
        registrar.start().wait_ready()
        phone = free_port()
        result = Sipp(
            scenario,
            workdir,
            remote=f"127.0.0.1:{port}",
            local_port=phone,
            user="9001",
            password=password,
            keys={"user": "9001", "expires": 120},
            timeout=10,
        ).run()
        mock = registrar.wait(timeout=5)
    assert result.ok, result.report()
    assert mock.ok, mock.report()
    assert result.final_responses("REGISTER") == finals
    first, second = mock.requests("REGISTER")[:2]
    assert first.header("Authorization") is None
    creds = second.header("Authorization")
    assert creds is not None
    assert digest.parse_params(creds)["uri"] == f"sip:127.0.0.1:{port}"
    assert digest.verify(creds, "REGISTER", PASSWORD) == (password == PASSWORD)
    assert second.header("Contact") == f"<sip:9001@127.0.0.1:{phone}>"
    expected_expires = "0" if scenario == "unregister" else "120"
    assert second.header("Expires") == expected_expires
    if finals[-1] == 401:
        nonces = [
            digest.parse_params(m.header("WWW-Authenticate") or "")["nonce"]
            for m in result.received("REGISTER", 401)
        ]
        assert len(set(nonces)) == 2, "the second 401 carries a fresh nonce"


def test_register_probe_sees_lockout(workdir: Path) -> None:
    port = free_port()
    with Sipp("mock_lockout", workdir, local_port=port, timeout=10) as registrar:
        registrar.start().wait_ready()
        result = Sipp(
            "register_probe", workdir, remote=f"127.0.0.1:{port}", user="9001",
            password=PASSWORD, timeout=10,
        ).run()  # fmt: skip
        registrar.wait(timeout=5)
    assert result.ok, result.report()
    assert result.final_responses("REGISTER") == [403]
    assert "locked" in result.received("REGISTER", 403)[0].reason


def test_sipp_uses_only_the_first_challenge(workdir: Path) -> None:
    """Fact: sipp 3.6.1 answers the first WWW-Authenticate and dies if it is SHA-256."""
    outcomes = {}
    for first, second in (("MD5", "SHA-256"), ("SHA-256", "MD5")):
        port = free_port()
        with Sipp(
            "mock_registrar_two_algorithms", workdir, local_port=port,
            keys={"first_algorithm": first, "second_algorithm": second}, timeout=10,
        ) as registrar:  # fmt: skip
            registrar.start().wait_ready()
            result = Sipp(
                "register_auth", workdir, remote=f"127.0.0.1:{port}", user="9001",
                password=PASSWORD, timeout=10,
            ).run()  # fmt: skip
        outcomes[first] = result.returncode
    assert outcomes == {"MD5": 0, "SHA-256": 255}


# -- calls --------------------------------------------------------------------------
def test_call_and_caller_bye_with_rtp_both_ways(workdir: Path, tmp_path: Path) -> None:
    uac_media, uas_media = free_block(4, align=2), free_block(4, align=2)
    with Capture(tmp_path / "rtp.pcap", [uac_media, uas_media]) as capture:
        caller, callee = run_pair(
            workdir, "uac_call", "uas_answer",
            uac_keys={"pre_play_ms": 1000, "talk_ms": 1500}, uas_keys={"ring_ms": 300},
            media_ports=(uac_media, uas_media),
        )  # fmt: skip
    assert_valid_proxy_auth(callee)
    assert caller.responses("INVITE")[0] == 407
    assert caller.final_responses("INVITE")[-1] == 200
    assert [m.method for m in caller.sent() if not m.is_response][-1] == "BYE"
    offer = next(m.sdp_audio() for m in caller.sent("INVITE") if m.sdp_audio())
    answer = next(m.sdp_audio() for m in callee.sent("INVITE", 200) if m.sdp_audio())
    assert offer is not None and offer[1] == uac_media
    assert answer is not None and answer[1] == uas_media
    flows = udp_flows(capture.pcap)
    # 30 ms packets: ~2.5 s from the callee, ~1.5 s from the caller.
    assert flows.get((uas_media, uac_media), 0) >= 50, flows
    assert flows.get((uac_media, uas_media), 0) >= 30, flows


def test_callee_hangs_up(workdir: Path) -> None:
    caller, callee = run_pair(
        workdir, "uac_call_callee_hangs_up", "uas_hangup", uas_keys={"talk_ms": 1000}
    )
    assert callee.sent("BYE") and caller.requests("BYE")
    assert caller.sent("BYE", 200)


def test_cancel_while_ringing(workdir: Path) -> None:
    caller, callee = run_pair(workdir, "uac_cancel", "uas_ring_only", uac_keys={"ring_ms": 500})
    assert caller.final_responses("INVITE")[-1] == 487
    assert callee.requests("CANCEL")


def test_busy(workdir: Path) -> None:
    caller, _ = run_pair(workdir, "uac_reject", "uas_busy")
    assert caller.final_responses("INVITE") == [407, 486]


def test_hold_and_resume(workdir: Path) -> None:
    caller, callee = run_pair(
        workdir, "uac_hold", "uas_hold",
        uac_keys={"pre_hold_ms": 300, "held_ms": 500, "talk_ms": 300},
    )  # fmt: skip
    reinvites = callee.requests("INVITE")[2:]  # after the challenged and the real INVITE
    assert [m.sdp_direction() for m in reinvites] == ["sendonly", "sendrecv"]
    answers = [m for m in caller.received("INVITE", 200) if m.sdp_direction()]
    assert [m.sdp_direction() for m in answers][-2:] == ["recvonly", "sendrecv"]


# -- baresip ------------------------------------------------------------------------
def test_baresip_registers_and_calls_a_sipp_phone(workdir: Path, tmp_path: Path) -> None:
    reg_port = free_port()
    with Sipp(
        "mock_registrar", workdir, local_port=reg_port,
        keys={"auth_user": "9003", "auth_pass": PASSWORD, "realm": "sipp-mock"}, timeout=20,
    ) as registrar:  # fmt: skip
        registrar.start().wait_ready()
        with Baresip(
            tmp_path / "baresip", f"sip:9003@127.0.0.1:{reg_port}", password=PASSWORD
        ) as phone:
            phone.start()
            info = phone.wait_registered(timeout=10)
            assert "OK" in info
            reg = registrar.wait(timeout=5)
            assert reg.ok, reg.report()
            creds = reg.requests("REGISTER")[1].header("Authorization") or ""
            assert digest.verify(creds, "REGISTER", PASSWORD)

            uas_port = free_port()
            with Sipp(
                "uas_answer", workdir, local_port=uas_port,
                keys={"user": "9002", "challenge": "yes", "ring_ms": 300}, timeout=20,
            ) as callee:  # fmt: skip
                callee.start().wait_ready()
                mark = len(phone.events)
                phone.dial(f"sip:9002@127.0.0.1:{uas_port}")
                phone.wait_event("CALL_ESTABLISHED", timeout=5, since=mark)
                time.sleep(2.5)
                phone.hangup()
                phone.wait_event("CALL_CLOSED", timeout=5, since=mark)
                answered = callee.wait(timeout=5)
            assert answered.ok, answered.report()
            invite = answered.requests("INVITE")[1]
            assert digest.verify(invite.header("Proxy-Authorization") or "", "INVITE", PASSWORD)
            audio = invite.sdp_audio()
            assert audio is not None and audio[0] == "127.0.0.1", invite.body
            sent, heard = phone.dumps()
    assert sent is not None and heard is not None
    tone = read_wav(sent)
    assert tone.rate == 8000 and tone.channels == 1
    assert abs(dominant_frequency(tone.channel(0), tone.rate) - 700) < 20
    speech = read_wav(heard)
    assert active_seconds(speech, 0) > 1.0, speech.describe()


def test_baresip_gives_up_on_a_sha256_challenge(workdir: Path, tmp_path: Path) -> None:
    """Fact: baresip 1.0.0 cannot register if any offered challenge is SHA-256."""
    reg_port = free_port()
    with Sipp(
        "mock_registrar_two_algorithms", workdir, local_port=reg_port,
        keys={"first_algorithm": "MD5", "second_algorithm": "SHA-256"}, timeout=10,
    ) as registrar:  # fmt: skip
        registrar.start().wait_ready()
        with Baresip(
            tmp_path / "baresip", f"sip:9003@127.0.0.1:{reg_port}", password=PASSWORD,
            lifetime=20,
        ) as phone:  # fmt: skip
            phone.start()
            with pytest.raises(BaresipError):
                phone.wait_registered(timeout=3)
            assert "ERR" in phone.reginfo()
