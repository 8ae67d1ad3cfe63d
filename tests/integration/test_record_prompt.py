"""Record a prompt from a phone: the admin's one-time code, *77<code> from an extension,
speak, hang up; the recording becomes a prompt of the site (decision 0017)."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from firmware.db.connection import open_db
from firmware.siteconfig import recording_slots
from tests.integration.box import Box
from tests.integration.phones import SipPhones
from tests.integration.test_phone_features import prompt_seconds
from tests.integration.test_sip_box import cdr_for, check
from tests.peers.sipp import G711A_SECONDS
from tests.peers.wav import active_seconds, read_wav

pytestmark = pytest.mark.peers


def _logged(box: Box) -> bool:
    with sqlite3.connect(box.db_path) as con:
        return con.execute("SELECT 1 FROM oplog WHERE action='prompt.record'").fetchone() \
            is not None


def test_a_prompt_recorded_from_a_phone_becomes_a_site_prompt(box: Box,
                                                              phones: SipPhones) -> None:
    db = open_db(box.data)
    with db.connection_context():
        slot = recording_slots.create("rec_notice", "admin1")
    # sipp speaks (g711a.pcap) after the spoken instruction and the beep, then hangs up:
    # the hang-up ends the recording
    lead = prompt_seconds(box, "rec_start", "beep")
    check(phones.call("uac_call", "9001", f"*77{slot.code}", timeout=40,
                      keys={"pre_play_ms": int(lead * 1000) + 800,
                            "talk_ms": int(G711A_SECONDS * 1000) + 500}))
    # (the CDR is written at the hang-up, before the recording is saved: the file and
    # the operation log say it was)
    path = box.data / "prompts" / "custom" / "rec_notice.wav"
    deadline = time.monotonic() + 10
    while not _logged(box) and time.monotonic() < deadline:
        time.sleep(0.1)
    wav = read_wav(path)
    assert (wav.rate, wav.channels) == (8000, 1)
    seconds = wav.seconds
    assert active_seconds(wav, 0) > 3.0, wav.describe()  # g711a.pcap's speech
    with sqlite3.connect(box.db_path) as con:
        assert con.execute("SELECT name FROM prompt WHERE name='rec_notice'").fetchone()
        actor, action = con.execute("SELECT actor, action FROM oplog WHERE target="
                                    "'rec_notice'").fetchone()
    assert (actor, action) == ("admin1", "prompt.record")
    with db.connection_context():
        assert recording_slots.peek(slot.code) is None  # a code records once
    # the same code again: refused (the box says so and hangs up), the recording stays
    check(phones.call("uac_call_callee_hangs_up", "9002", f"*77{slot.code}", timeout=30))
    assert json.loads(cdr_for(box, "9002")["extra"]).get("feature_result") == \
        "record-prompt:bad-code"
    assert read_wav(path).seconds == seconds
