"""The shipped 96777 demo site (the docs' worked example) on the sim E1: a PSTN caller
presses 2 (in-band) and reaches the repair queue's agent; outside office hours the same
call goes straight to the emergency queue. The box's IVR clock is moved with
CCBOX_CLOCK_OFFSET so the test does not depend on when it runs."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from firmware.siteconfig.demo import DEMO_SITE
from tests.integration.box import Box, clone_data_dir
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.integration.test_pri_sim import pstn_call
from tests.integration.test_sip_box import cdr_for, check

pytestmark = pytest.mark.peers

CALLER = "13800138000"


def demo_site_with_test_agents() -> str:
    """The shipped demo site file, with the test extensions 9002/9003 as its agents
    (repair and emergency; the other queues keep 9002) and its ring group's members."""
    text = DEMO_SITE.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    del data["extensions"]  # keep the test box's 9001-9004 (sections left out are kept)
    data["agents"] = [{"id": "9002", "login": "9002"}, {"id": "9003", "login": "9003"}]
    for q in data["queues"]:
        q["members"] = ["9003"] if q["name"] == "emergency" else ["9002"]
        q["supervisors"] = []
    for g in data.get("ring_groups", []):  # the duty group rings the test phones
        g["members"] = ["9002", "9003"]
        g.pop("fallback", None)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)

def offset_to(hour: int, weekday: int) -> float:
    """Seconds from now to the next `weekday` (0 = Monday) at `hour`:00 in Shanghai."""
    tz = ZoneInfo("Asia/Shanghai")
    now = dt.datetime.now(tz)
    day = now.date() + dt.timedelta(days=(weekday - now.weekday()) % 7 or 7)
    return dt.datetime.combine(day, dt.time(hour), tz).timestamp() - time.time()


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path) -> Path:
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    import_site(data, demo_site_with_test_agents())
    return data


@pytest.mark.parametrize(("hour", "key", "queue", "agent"), [
    (10, "2", "repair", "9002"),  # Wednesday 10:00: menu, 2 = 报修
    (22, "", "emergency", "9003"),  # Wednesday 22:00: after hours -> emergency at once
])
def test_demo_hotline_from_the_e1(hour: int, key: str, queue: str, agent: str,
                                  monkeypatch: pytest.MonkeyPatch, box_data: Path,
                                  request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv("CCBOX_CLOCK_OFFSET", str(offset_to(hour, 2)))
    box: Box = request.getfixturevalue("box")  # started after the env is set
    phones: SipPhones = request.getfixturevalue("phones")
    phone = phones.registered_phone(agent, "uas_answer", {"ring_ms": 300}, timeout=60)
    # after hours the caller first hears gas_after_hours in full (no barge-in, ~14 s)
    report = pstn_call(box, "96777", dtmf=key or None, seconds=8 if key else 22)
    check(phone.wait(timeout=60))
    assert report["answer_ms"] is not None and report["heard_dbfs"] is not None, report
    row = cdr_for(box, CALLER)
    extra = json.loads(row["extra"])
    assert str(row["callee"]) == agent and extra["queue"] == queue, (row, extra)
    assert extra["ivr_flow"] == "gas_hotline_96777@1", extra
    if key:
        assert f"key:{key}" in extra["ivr_path"], extra
