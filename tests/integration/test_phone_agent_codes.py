"""Agent feature codes on the real box: `*11` login, `*14` not ready (with a reason
digit), `*13` ready, each changing which agent's phone the queue rings next."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.box import Box, clone_data_dir
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.integration.test_ivr_calls import queue_log
from tests.integration.test_phone_features import feature_call
from tests.integration.test_sip_box import check

pytestmark = pytest.mark.peers

QUEUE = "7101"

# -- agent codes -----------------------------------------------------------------------------
SITE = {
    "dids": [{"number": QUEUE, "target": "queue:sales"}],
    "queues": [{"name": "sales", "strategy": "linear", "members": ["9003", "9002"],
                "ring_timeout": 10, "smart_routing": False}],
    "agents": [{"id": "9002", "login": "9002"}, {"id": "9003"}],
}


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path) -> Path:
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    import_site(data, SITE)
    return data


def test_agent_login_not_ready_codes_change_who_the_queue_rings(
        box: Box, phones: SipPhones, sipp_dir: Path) -> None:
    def queue_call(agent: str) -> None:
        phone = phones.registered_phone(agent, "uas_answer", {"ring_ms": 200})
        check(phones.call("uac_call", "9001", QUEUE, keys={"talk_ms": 500}),
              phone.wait(timeout=20))

    queue_call("9002")  # 9003 (first in line) is logged out
    feature_call(phones, sipp_dir, "9003", "*119003")  # login (ready on login)
    queue_call("9003")
    feature_call(phones, sipp_dir, "9003", "*142")  # not ready: reason 2 (lunch)
    queue_call("9002")
    feature_call(phones, sipp_dir, "9003", "*13")  # ready again
    queue_call("9003")
    rows = [r for r in box.wait_cdrs(8) if str(r["called"]) == QUEUE]
    assert [str(r["callee"]) for r in rows] == ["9002", "9003", "9002", "9003"], rows
    log = [r for r in queue_log(box, "UNPAUSE") if r[3] == "9003"]
    events = [(r[4], r[5] if len(r) > 5 else "") for r in log]
    assert ("AGENTLOGIN", "9003") in events, events
    assert ("PAUSE", "lunch") in events and any(e == "UNPAUSE" for e, _ in events), events
