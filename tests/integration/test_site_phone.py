"""Ring groups and conference rooms from the site file, on the real box: a PSTN caller
(libpri on the far side of the simulated E1) dials a DID whose target is a ring group
(sipp phones of its members ring) or a conference room (its PIN, typed as in-band DTMF,
lets the caller in; a wrong one does not), and a PIN changed by a new import counts for
the next caller while switchd keeps running."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.integration.box import Box, clone_data_dir
from tests.integration.phones import SipPhones
from tests.integration.site import import_site
from tests.integration.test_phone_features import first_invite, stamp
from tests.integration.test_pri_sim import pstn_call
from tests.integration.test_sip_box import check

pytestmark = pytest.mark.peers

GROUP_DID = "96100"
ROOM_DID = "96200"
PIN = "480913"

SITE: dict[str, Any] = {
    "ring_groups": [{"number": "5000", "name": "值班组", "members": ["9002", "9003"],
                     "ring_timeout": 15}],
    "conference_rooms": [{"number": "6001", "name": "例会", "pin": PIN}],
    "dids": [{"number": GROUP_DID, "target": "group:5000"},
             {"number": ROOM_DID, "target": "conference:6001"}],
}


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path) -> Path:
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    import_site(data, SITE)
    return data


def extra_of(row: dict[str, Any]) -> dict[str, Any]:
    extra = json.loads(row["extra"])
    assert isinstance(extra, dict)
    return extra


def test_did_to_a_ring_group_rings_its_members(box: Box, phones: SipPhones) -> None:
    answers = phones.registered_phone("9002", "uas_answer", {"ring_ms": 1500})
    rings = phones.registered_phone("9003", "uas_ring_only")
    report = pstn_call(box, GROUP_DID, seconds=3)
    a, b = answers.wait(timeout=20), rings.wait(timeout=20)
    check(a, b)
    assert report["answer_ms"] is not None, report  # 9002 answered the PSTN caller
    assert abs(stamp(first_invite(a)) - stamp(first_invite(b))) < 0.5  # both at once
    assert "13800138000" in (first_invite(b).header("From") or "")
    assert b.requests("CANCEL")  # the other member stops ringing
    (row,) = box.wait_cdrs(1)
    assert (str(row["called"]), str(row["callee"])) == (GROUP_DID, "9002"), row
    extra = extra_of(row)
    assert extra["ring_group"] == "5000" and extra["route"] == f"DID {GROUP_DID} default"


def test_did_to_a_room_needs_its_pin_and_a_new_pin_applies_live(box: Box) -> None:
    wrong = pstn_call(box, ROOM_DID, dtmf="135792#", seconds=4)
    right = pstn_call(box, ROOM_DID, dtmf=PIN + "#", seconds=4)
    assert wrong["answer_ms"] is not None and right["answer_ms"] is not None
    rows = box.wait_cdrs(2)
    assert "conference" not in extra_of(rows[0]), rows[0]  # a wrong PIN never gets in
    assert extra_of(rows[1])["conference"] == "6001", rows[1]
    # a new PIN from a site file (the running switchd reloads); the old one stops working
    out = import_site(box.data, {"conference_rooms": [{"number": "6001", "pin": "592817"}]},
                      "pin.yaml")
    assert "switchd applied it" in out and "conference_rooms" in out, out
    pstn_call(box, ROOM_DID, dtmf=PIN + "#", seconds=4)
    pstn_call(box, ROOM_DID, dtmf="592817#", seconds=4)
    rows = box.wait_cdrs(4)
    assert "conference" not in extra_of(rows[2]) and extra_of(rows[3])["conference"] == "6001"
    log = box.log_text()
    assert PIN not in log and "592817" not in log and "135792" not in log  # never logged
