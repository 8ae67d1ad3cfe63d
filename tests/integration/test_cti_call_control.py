"""Call control through the CTI socket (what the agent desk and third-party systems use),
checked on the audio each party hears: completing a consultation as a transfer or a
3-way conference, and a supervisor's monitor (whisper, barge) and force release.

The parties and the site are those of test_call_features: 9001 calls agent 9002; 9003
is the consulted colleague; 9004 supervises the repair queue whose member 9002 is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from firmware.cti.protocol import CtiError
from tests.integration.box import Box, clone_data_dir
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.integration.test_call_features import (
    AGENT,
    CALLER,
    HEARD,
    SILENT,
    SITE,
    SUP,
    TARGET,
    cdr,
    phone_answers,
    settle,
    two_party,
    voice,
)
from tests.integration.test_pri_sim import control
from tests.integration.test_sip_box import check
from webui import cti

pytestmark = pytest.mark.peers


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path) -> Path:
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    import_site(data, SITE)
    return data


@pytest.fixture
def voices() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def consultation_answered(box: Box, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(c.get("answered") for c in control(box, {"cmd": "cc", "op": "status"})
                  .get("consultations", {}).values()):
        assert time.monotonic() < deadline, "the consultation was not answered"
        time.sleep(0.05)


def test_cti_consultation_completed_as_transfer(box: Box, phones: SipPhones,
                                                voices: ExitStack) -> None:
    a, b, caller, agent, _call = two_party(box, phones, voices)
    c = voice(voices, TARGET)
    target = phone_answers(phones, c, "9003")
    cti.command(box.data, "ConsultationCall", device="9002", to="9003")
    consultation_answered(box)
    c.talk_to(box, "9003")
    t1 = settle(1.2)
    assert b.hears(TARGET, t1) > HEARD and a.hears(TARGET, t1) < SILENT, "consulting"
    out = cti.command(box.data, "Transfer", device="9002")
    assert out, out
    check(agent.wait(timeout=20))  # the agent's phone is released
    t2 = settle(1.5)
    assert a.hears(TARGET, t2) > HEARD and c.hears(CALLER, t2) > HEARD, "caller with 9003"
    assert a.hears(AGENT, t2) < SILENT
    cti.command(box.data, "ClearConnection", device="9003")
    check(caller.wait(), target.wait())
    row = cdr(box, "9002")
    assert json.loads(row["extra"])["transfers"] == "attended:9003", row
    assert str(row["callee"]) == "9003", row


def test_cti_consultation_completed_as_conference(box: Box, phones: SipPhones,
                                                  voices: ExitStack) -> None:
    a, b, caller, agent, _call = two_party(box, phones, voices)
    c = voice(voices, TARGET)
    target = phone_answers(phones, c, "9003")
    cti.command(box.data, "ConsultationCall", device="9002", to="9003")
    consultation_answered(box)
    c.talk_to(box, "9003")
    cti.command(box.data, "Conference", device="9002")
    t = settle(1.5)
    for me, others in ((a, (AGENT, TARGET)), (b, (CALLER, TARGET)), (c, (CALLER, AGENT))):
        for f in others:
            assert me.hears(f, t) > HEARD, f"3-way: {me.freq} does not hear {f}"
        assert me.hears(me.freq, t) < SILENT, f"{me.freq} hears itself"
    cti.command(box.data, "ClearConnection", device="9002")
    t2 = settle(1.2)
    assert a.hears(TARGET, t2) > HEARD and a.hears(AGENT, t2) < SILENT, "agent left"
    cti.command(box.data, "ClearConnection", device="9003")
    check(caller.wait(), agent.wait(), target.wait())


def test_cti_monitor_whisper_barge_and_force_release(box: Box, phones: SipPhones,
                                                     voices: ExitStack) -> None:
    a, b, caller, agent, _call = two_party(box, phones, voices)
    s = voice(voices, SUP)
    with pytest.raises(CtiError) as denied:  # 9003 supervises nobody
        cti.command(box.data, "MonitorStart", supervisor="9003", target="9002",
                    mode="listen")
    assert denied.value.code == "refused" and "may not supervise" in str(denied.value)
    # the box rings the supervisor's phone first, and joins it once answered
    sup = phone_answers(phones, s, "9004")
    cti.command(box.data, "MonitorStart", supervisor="9004", target="9002", mode="whisper")
    s.talk_to(box, "9004")
    t1 = settle(1.5)
    assert b.hears(SUP, t1) > HEARD, "the agent hears the whisper"
    assert a.hears(SUP, t1) < SILENT, "the caller must not hear the whisper"
    assert s.hears(CALLER, t1) > HEARD and s.hears(AGENT, t1) > HEARD
    cti.command(box.data, "MonitorStart", supervisor="9004", target="9002", mode="barge")
    t2 = settle(1.5)
    assert a.hears(SUP, t2) > HEARD and b.hears(SUP, t2) > HEARD, "barge: both hear"
    cti.command(box.data, "ForceRelease", supervisor="9004", target="9002")
    check(caller.wait(), agent.wait(), sup.wait())
    assert cdr(box, "9002")["released_by"] == "supervisor"
