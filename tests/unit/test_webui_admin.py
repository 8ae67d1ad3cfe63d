"""The admin configuration pages over HTTP: each change goes through the site service
(validated whole, logged with before/after), a bad value gets its field's error and
changes nothing, uploads that cannot be played lose nothing.

Who may reach which route, and CSRF, are in test_webui_access.py.
"""

from __future__ import annotations

import io
import json
import re
import time
import wave
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from firmware.db.models import ExtensionFeatures, OpLog, RingGroup, RingGroupMember
from firmware.db.settings import get_setting
from firmware.db.site_models import ConferenceRoom, NumberLock
from firmware.ivr.flow import NODE_TYPES
from firmware.siteconfig import SiteService
from firmware.siteconfig.demo import __file__ as demo_init
from firmware.siteconfig.schema import ACD_SETTINGS
from firmware.siteconfig.types import ListOf, Obj
from firmware.switch.features.pin import verify_pin
from tests.webtools.client import Response
from tests.webtools.fixture import Box, make_box
from webui import flowedit, i18n, siteforms
from webui.pages import admin_site

DEMO = Path(demo_init).parent / "gas_hotline_96777.yaml"


@pytest.fixture
def box(tmp_path: Path) -> Box:
    b = make_box(tmp_path)
    svc(b).import_yaml(DEMO.read_text("utf-8"), "demo.yaml")
    return b


def svc(box: Box) -> SiteService:
    return SiteService(box.data_dir, box.web.db, notify=lambda _d: None)


def doc(box: Box) -> dict[str, Any]:
    return svc(box).document()


def field_errors(r: Response) -> list[str]:
    return [re.sub(r"&#0?39;", "'", m) for m in
            re.findall(r'class="error (?:field|node)-error"[^>]*>([^<]*)<', r.text)]


def wav_bytes(seconds: float = 1.0, rate: int = 8000, channels: int = 1) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x10\x00" * int(seconds * rate) * channels)
    return buf.getvalue()


def oplog_actions() -> list[tuple[str, str]]:
    return [(o.action, o.target) for o in OpLog.select().order_by(OpLog.id)]


# --- generic sections ----------------------------------------------------------------


def test_a_bad_field_is_shown_on_the_field_and_nothing_changes(box: Box) -> None:
    c, csrf = box.client("admin")
    before, log = doc(box), OpLog.select().count()
    r = c.post("/admin/queues", {"csrf": csrf, "name": "night", "strategy": "ring-all",
                                 "members.0.agent": "8001", "ring_timeout": "abc"})
    assert r.status == 400
    assert field_errors(r) == ["expected a number, got 'abc'"]
    assert 'data-field="ring_timeout"' in r.text and 'value="abc"' in r.text  # as typed
    # a member that is no agent: the error is on the row of the table
    r = c.post("/admin/queues", {"csrf": csrf, "name": "night", "strategy": "ring-all",
                                 "members.0.agent": "9999"})
    assert r.status == 400 and field_errors(r) == ["#1 agent: no agent '9999' (agents)"]
    assert doc(box) == before and OpLog.select().count() == log


def test_add_and_edit_a_queue_is_validated_saved_and_logged(box: Box) -> None:
    c, csrf = box.client("admin")
    r = c.post("/admin/queues", {"csrf": csrf, "name": "night", "strategy": "linear",
                                 "members.0.agent": "8001", "members.1.agent": "8002",
                                 "members.1.penalty": "3", "skills.0.key": "gas",
                                 "skills.0.value": "2", "ring_timeout": "12",
                                 "announce_position": "1"})
    assert r.status == 200, field_errors(r)
    assert "交换服务未运行" in r.text  # no switchd here: it reads it on start
    q = next(x for x in doc(box)["queues"] if x["name"] == "night")
    assert [(m["agent"], m["penalty"]) for m in q["members"]] == [("8001", 0), ("8002", 3)]
    assert q["skills"] == {"gas": 2} and q["ring_timeout"] == 12
    r = c.post("/admin/queues/night", {"csrf": csrf, "name": "night", "strategy": "linear",
                                       "members.0.agent": "8003", "ring_timeout": "20"})
    assert r.status == 200
    q = next(x for x in doc(box)["queues"] if x["name"] == "night")
    assert [m["agent"] for m in q["members"]] == ["8003"] and q["skills"] == {}
    entry = OpLog.select().where(OpLog.action == "site.queues.edit").get()
    assert json.loads(entry.before or "{}")["members"][0]["agent"] == "8001"
    assert json.loads(entry.after or "{}")["members"][0]["agent"] == "8003"
    assert ("site.queues.add", "night") in oplog_actions()


def test_a_queue_a_flow_uses_cannot_be_deleted(box: Box) -> None:
    c, csrf = box.client("admin")
    r = c.post("/admin/queues/emergency/delete", {"csrf": csrf})
    assert r.status == 409
    assert "no queue &#039;emergency&#039;" in r.text and "gas_hotline_96777" in r.text
    assert any(q["name"] == "emergency" for q in doc(box)["queues"])


def test_a_new_object_cannot_take_an_existing_name(box: Box) -> None:
    c, csrf = box.client("admin")
    r = c.post("/admin/queues", {"csrf": csrf, "name": "repair", "strategy": "ring-all"})
    assert r.status == 400 and "已被使用" in r.text
    assert next(q for q in doc(box)["queues"] if q["name"] == "repair")["strategy"] == \
        "round-robin"


def test_holidays_with_make_up_days_and_time_rules(box: Box) -> None:
    c, csrf = box.client("admin")
    r = c.post("/admin/calendars", {"csrf": csrf, "name": "cn2027", "holidays.0.date":
                                    "2027-02-06/2027-02-12", "holidays.0.name": "春节",
                                    "workdays.0.date": "2027-02-14", "workdays.0.name": "调休"})
    assert r.status == 200, field_errors(r)
    cal = next(x for x in doc(box)["calendars"] if x["name"] == "cn2027")
    assert cal["workdays"] == [{"date": "2027-02-14", "name": "调休"}]
    r = c.post("/admin/schedules", {"csrf": csrf, "name": "late", "week.0.key": "mon-fri",
                                    "week.0.value": "08:00-12:00, 25:00-26:00"})
    assert r.status == 400 and field_errors(r)
    assert all(s["name"] != "late" for s in doc(box)["schedules"])


def test_supervisor_sees_the_lists_without_edit_controls(box: Box) -> None:
    c, _ = box.client("supervisor")
    r = c.get("/admin/queues")
    assert r.status == 200 and 'data-key="repair"' in r.text
    assert "/admin/queues/new" not in r.text and "/delete" not in r.text
    r = c.get("/admin/acd")
    assert r.status == 200 and "disabled" in r.text and 'id="save"' not in r.text


def test_acd_settings(box: Box) -> None:
    c, csrf = box.client("admin")
    r = c.post("/admin/acd", {"csrf": csrf, "not_ready_reasons": "break, lunch",
                              "max_missed_offers": "101"})
    assert r.status == 400 and field_errors(r) == ["101 is out of range (0..100)"]
    r = c.post("/admin/acd", {"csrf": csrf, "not_ready_reasons": "break, lunch, 培训",
                              "max_missed_offers": "2", "ready_on_login": "1"})
    assert r.status == 200
    assert doc(box)["acd"]["not_ready_reasons"] == ["break", "lunch", "培训"]


def test_blacklist_entry_and_unlock_of_a_lock(box: Box) -> None:
    c, csrf = box.client("admin")
    r = c.post("/admin/blacklist", {"csrf": csrf, "number": "0571*", "treatment": "reject",
                                    "cause": "21", "note": "骚扰"})
    assert r.status == 200, field_errors(r)
    assert any(e["number"] == "0571*" for e in doc(box)["blacklist"])
    now = time.time()
    NumberLock.create(number="13900000000", rule="harassment", since=now - 60,
                      until=now + 86400, reason="20 calls")
    r = c.get("/admin/blacklist")
    assert 'data-number="13900000000"' in r.text
    r = c.post("/admin/locks/13900000000/unlock", {"csrf": csrf})
    assert r.status == 200 and 'data-number="13900000000"' not in r.text
    assert NumberLock.get().unlocked_by == "admin1"
    assert ("site.lock.unlock", "13900000000") in oplog_actions()
    assert c.post("/admin/locks/13900000000/unlock", {"csrf": csrf}).status == 404


# --- IVR flow editor --------------------------------------------------------------------


def _flow_form(csrf: str, target: str, op: str) -> dict[str, Any]:
    return {"csrf": csrf, "op": op, "flow_name": "测试", "entry": "menu",
            "node_ids": ["menu", "agent", "bye"],
            "n.menu.kind": "menu", "n.menu.prompt": "gas_main_menu",
            "n.menu.branches.0.key": "1", "n.menu.branches.0.value": target,
            "n.menu.on_timeout": "bye", "n.menu.on_invalid": "bye", "n.menu.timeout": "5",
            "n.menu.retries": "2", "n.menu.barge_in": "1",
            "n.agent.kind": "transfer", "n.agent.to": "extension", "n.agent.target": "8001",
            "n.bye.kind": "hangup"}


def test_flow_errors_are_shown_on_the_node_and_nothing_is_stored(box: Box) -> None:
    c, csrf = box.client("admin")
    assert c.get("/admin/flows/new?id=t1&name=x").status == 200
    r = c.post("/admin/flows/t1", _flow_form(csrf, "agnet", "save"))
    assert r.status == 400
    node = r.text.split('id="node-menu"', 1)[1].split("</section>", 1)[0]
    assert "points to missing node &#039;agnet&#039;" in node  # on the menu's card
    assert 'class="gnode error" data-node="menu"' in r.text  # and red in the graph
    assert all(f["id"] != "t1" for f in doc(box)["ivr_flows"])
    # "Check" of the fixed flow: no error, still nothing stored
    r = c.post("/admin/flows/t1", _flow_form(csrf, "agent", "check"))
    assert r.status == 200 and 'id="flow-valid"' in r.text
    assert all(f["id"] != "t1" for f in doc(box)["ivr_flows"])
    r = c.post("/admin/flows/t1", _flow_form(csrf, "agent", "save"))
    assert r.status == 200 and 'id="flow-invalid"' not in r.text
    flow = next(f for f in doc(box)["ivr_flows"] if f["id"] == "t1")
    assert flow["nodes"]["menu"]["branches"] == {"1": "agent"}
    assert "barge_in" not in flow["nodes"]["menu"]  # defaults are left out
    assert svc(box).flow_versions("t1")[0][:2] == (1, True)
    assert ("site.ivr_flows.add", "t1") in oplog_actions()


def test_flow_versions_can_be_rolled_back(box: Box) -> None:
    c, csrf = box.client("admin")
    c.post("/admin/flows/t1", _flow_form(csrf, "agent", "save"))
    form = _flow_form(csrf, "bye", "save")
    assert c.post("/admin/flows/t1", form).status == 200
    assert [v for v, a, _ in svc(box).flow_versions("t1") if a] == [2]
    r = c.post("/admin/flows/t1/versions/1/activate", {"csrf": csrf})
    assert r.status == 200
    assert [v for v, a, _ in svc(box).flow_versions("t1") if a] == [1]


def test_flow_add_and_delete_node_and_json_edit(box: Box) -> None:
    c, csrf = box.client("admin")
    r = c.post("/admin/flows/t2", {"csrf": csrf, "op": "add", "entry": "start",
                                   "node_ids": ["start"], "n.start.kind": "hangup",
                                   "new_id": "hello", "new_kind": "play"})
    assert 'id="node-hello"' in r.text
    assert "required field missing" in r.text.split('id="node-hello"', 1)[1]
    r = c.post("/admin/flows/t2/json", {"csrf": csrf, "flow_json": "{not json"})
    assert r.status == 400 and all(f["id"] != "t2" for f in doc(box)["ivr_flows"])
    flow = {"entry": "hi", "nodes": {"hi": {"kind": "play", "prompts": ["goodbye"],
                                            "next": "end"}, "end": {"kind": "hangup"}}}
    r = c.post("/admin/flows/t2/json", {"csrf": csrf, "flow_json": json.dumps(flow)})
    assert r.status == 200
    assert next(f for f in doc(box)["ivr_flows"] if f["id"] == "t2")["entry"] == "hi"
    assert json.loads(c.get("/admin/flows/t2/export.json").text)["nodes"]["hi"]["next"] == "end"


def test_the_demo_flow_draws_without_errors(box: Box) -> None:
    c, _ = box.client("auditor")
    r = c.get("/admin/flows/gas_hotline_96777")
    assert r.status == 200 and 'id="flow-invalid"' not in r.text
    assert r.text.count('class="node') >= 15 and "disabled" in r.text


# --- prompts and music on hold ----------------------------------------------------------


def test_prompt_upload_broken_file_loses_nothing(box: Box) -> None:
    c, csrf = box.client("admin")
    good = wav_bytes(1.5)
    r = c.upload("/admin/prompts", {"csrf": csrf, "name": "welcome2", "text": "您好"},
                 {"file": ("hello.wav", good)})
    assert r.status == 200 and 'data-prompt="welcome2"' in r.text
    stored = box.data_dir / "prompts" / "custom" / "welcome2.wav"
    assert stored.read_bytes() == good
    for bad, why in ((b"RIFF....not a wav", "not a WAV file"),
                     (wav_bytes(1.0, rate=44100, channels=2), "must be 8000 Hz mono 16-bit"),
                     (b"", "文件为空")):
        r = c.upload("/admin/prompts", {"csrf": csrf, "name": "welcome2", "text": "新"},
                     {"file": ("broken.wav", bad)})
        assert r.status == 400 and why in r.text, why
        assert "broken.wav" in r.text or not bad  # the admin's file name, not a temp path
        assert stored.read_bytes() == good  # the old recording is still there
        assert next(p for p in doc(box)["prompts"] if p["name"] == "welcome2")["text"] == "您好"
    assert not [p for p in stored.parent.iterdir() if p.name.startswith(".")]
    audio = c.get("/admin/prompts/audio/welcome2")
    assert audio.status == 200 and audio.body == good
    assert audio.header("Content-Type") == "audio/wav"
    assert ("prompt.upload", "welcome2") in oplog_actions()


def test_a_prompt_in_use_is_not_deleted(box: Box) -> None:
    c, csrf = box.client("admin")
    c.upload("/admin/prompts", {"csrf": csrf, "name": "closed_msg"},
             {"file": ("c.wav", wav_bytes())})
    c.post("/admin/blacklist", {"csrf": csrf, "number": "13511112222", "treatment": "prompt",
                                "prompt": "closed_msg", "cause": "21"})
    r = c.post("/admin/prompts/closed_msg/delete", {"csrf": csrf})
    assert r.status == 409
    assert (box.data_dir / "prompts" / "custom" / "closed_msg.wav").is_file()


def test_music_on_hold_upload_and_reset(box: Box) -> None:
    c, csrf = box.client("admin")
    moh = box.data_dir / "prompts" / "custom" / "moh.wav"
    r = c.upload("/admin/moh", {"csrf": csrf}, {"file": ("x.mp3", b"ID3\x03fake mp3")})
    assert r.status == 400 and not moh.exists()
    r = c.upload("/admin/moh", {"csrf": csrf}, {"file": ("m.wav", wav_bytes(3))})
    assert r.status == 200 and moh.is_file() and "3.0 s" in r.text
    assert c.post("/admin/moh/reset", {"csrf": csrf}).status == 200 and not moh.exists()


# --- spans and FXO ports -------------------------------------------------------------------


def test_fxo_port_settings_are_checked_and_need_a_restart(box: Box) -> None:
    c, csrf = box.client("admin")
    r = c.get("/admin/hardware")
    assert r.status == 200 and 'data-port="fxo1"' in r.text and 'data-span="1"' in r.text
    form = {"csrf": csrf, "fxo1.inbound": "96777", "fxo1.silence_timeout": "-3",
            "fxo1.ring_timeout": "6.5", "fxo1.cid_timeout": "4.5", "fxo2.inbound": "96x",
            "fxo2.silence_timeout": "30", "fxo2.ring_timeout": "6.5", "fxo2.cid_timeout": "4.5"}
    r = c.post("/admin/hardware/ports", form)
    assert r.status == 400 and get_setting("fxo.ports") is None
    assert "fxo1 silence_timeout" in r.text and "fxo2 inbound" in r.text
    form.update({"fxo1.silence_timeout": "0", "fxo2.inbound": "8001",
                 "fxo1.echo_cancel": "1", "fxo1.hangup_on_polarity": "1"})
    r = c.post("/admin/hardware/ports", form)
    assert r.status == 200 and "重启交换服务" in r.text
    saved = json.loads(get_setting("fxo.ports") or "{}")
    assert saved["fxo1"]["silence_timeout"] == 0 and saved["fxo2"]["inbound"] == "8001"
    assert saved["fxo2"]["echo_cancel"] is False
    r = c.post("/admin/hardware/spans", {"csrf": csrf, "span1.framing": "ccs",
                                         "span1.line_code": "hdb3", "span1.timing": "internal"})
    assert r.status == 200
    assert json.loads(get_setting("dahdi.spans") or "{}") == {
        "1": {"crc4": False, "timing": "internal"}}
    r = c.post("/admin/hardware/spans", {"csrf": csrf, "span1.framing": "cas",
                                         "span1.line_code": "hdb3", "span1.crc4": "1",
                                         "span1.timing": "far_end"})
    assert r.status == 400  # PRI on CAS framing: system.conf would be wrong
    r = c.post("/admin/hardware/restart", {"csrf": csrf})
    assert r.status == 409 and 'id="restart-result"' in r.text  # no switchd to restart


# --- site.yaml -----------------------------------------------------------------------------


def test_import_export_site_yaml(box: Box) -> None:
    c, csrf = box.client("admin")
    exported = c.get("/admin/site/export.yaml")
    assert exported.status == 200 and "gas_hotline_96777" in exported.text
    assert "password" not in exported.text
    before = doc(box)
    bad = "queues:\n  - name: q\n    ring_timout: 3\n"
    r = c.upload("/admin/site/import", {"csrf": csrf, "op": "import"},
                 {"file": ("site.yaml", bad.encode())})
    assert r.status == 400 and "site.yaml:3:" in r.text and "ring_timeout" in r.text
    assert doc(box) == before
    text = exported.text.replace("ring_timeout: 20", "ring_timeout: 25")
    r = c.post("/admin/site/import", {"csrf": csrf, "op": "check", "text": text})
    assert r.status == 200 and "emergency" in r.text and doc(box) == before
    r = c.post("/admin/site/import", {"csrf": csrf, "op": "import", "text": text})
    assert r.status == 200
    assert next(q for q in doc(box)["queues"] if q["name"] == "emergency")["ring_timeout"] == 25
    assert ("site.import", "site.yaml") in oplog_actions()


# --- extension features ----------------------------------------------------------------------


def test_extension_features_and_ring_groups(box: Box) -> None:
    c, csrf = box.client("admin")
    r = c.post("/admin/features/8001", {"csrf": csrf, "forward_busy": "7777",
                                        "no_answer_timeout": "20", "mobile_delay": "10"})
    assert r.status == 400 and ExtensionFeatures.get_or_none() is None
    assert "neither an extension" in " ".join(field_errors(r))
    r = c.post("/admin/features/8001", {"csrf": csrf, "forward_busy": "8002",
                                        "no_answer_timeout": "20", "mobile_delay": "10",
                                        "dnd": "1", "voicemail": "1", "pin": "1234"})
    assert r.status == 400 and "run of digits" in r.text
    r = c.post("/admin/features/8001", {"csrf": csrf, "forward_busy": "8002",
                                        "no_answer_timeout": "20", "mobile_delay": "10",
                                        "dnd": "1", "voicemail": "1", "pin": "7393"})
    assert r.status == 200
    row = ExtensionFeatures.get(ExtensionFeatures.number == "8001")
    assert row.forward_busy == "8002" and row.dnd and row.voicemail_pin_hash.startswith("$argon2")
    entry = OpLog.select().where(OpLog.action == "features.edit").get()
    assert "7393" not in (entry.after or "") and json.loads(entry.after or "{}")["pin"] is True
    assert not row.remote_answer  # off unless ticked
    r = c.post("/admin/features/8001", {"csrf": csrf, "forward_busy": "8002",
                                        "no_answer_timeout": "20", "mobile_delay": "10",
                                        "remote_answer": "1"})
    assert r.status == 200
    assert ExtensionFeatures.get(ExtensionFeatures.number == "8001").remote_answer
    form = c.get("/admin/features/8001/edit")
    assert 'id="f-remote_answer" value="1" checked' in form.text
    r = c.post("/admin/ringgroups", {"csrf": csrf, "number": "5001", "name": "维修组",
                                     "strategy": "sequential", "ring_timeout": "20",
                                     "members": "8001, 8002:15", "fallback": "vm:8001",
                                     "enabled": "1"})
    assert r.status == 200
    group = RingGroup.get(RingGroup.number == "5001")
    assert RingGroupMember.select().where(RingGroupMember.group == group).count() == 2
    r = c.post("/admin/ringgroups", {"csrf": csrf, "number": "5002", "strategy": "sequential",
                                     "ring_timeout": "20", "members": "8999"})
    assert r.status == 400 and RingGroup.get_or_none(RingGroup.number == "5002") is None
    # a group a DID sends callers to is part of the site: it cannot be deleted under it
    svc(box).upsert("dids", {"number": "96100", "target": "group:5001"})
    r = c.post("/admin/ringgroups/5001/delete", {"csrf": csrf})
    assert r.status == 409 and "dids[1].target" in r.text
    assert RingGroup.get_or_none(RingGroup.number == "5001") is not None


# --- conference rooms ----------------------------------------------------------------------


def test_conference_rooms_pins_are_hashed_shown_once_and_never_logged(box: Box) -> None:
    c, csrf = box.client("admin")
    r = c.post("/admin/rooms", {"csrf": csrf, "number": "6002", "name": "抢修协调"})
    assert r.status == 200, r.text
    pin = re.search(r'id="pin-6002">([0-9]+)<', r.text)
    assert pin is not None and len(pin.group(1)) == 6  # generated, shown this once
    stored = ConferenceRoom.get(ConferenceRoom.number == "6002")
    assert verify_pin(stored.pin_hash, pin.group(1))
    assert pin.group(1) not in c.get("/admin/rooms").text  # not again
    # a weak PIN is refused on its field and changes nothing
    r = c.post("/admin/rooms/6002", {"csrf": csrf, "number": "6002", "name": "抢修协调",
                                     "pin": "1234"})
    assert r.status == 400 and "a run of digits" in r.text
    assert ConferenceRoom.get(ConferenceRoom.number == "6002").pin_hash == stored.pin_hash
    r = c.post("/admin/rooms/6002", {"csrf": csrf, "number": "6002", "name": "抢修",
                                     "pin": "730251"})
    assert r.status == 200
    assert verify_pin(ConferenceRoom.get(ConferenceRoom.number == "6002").pin_hash, "730251")
    # editing without a PIN keeps it
    c.post("/admin/rooms/6002", {"csrf": csrf, "number": "6002", "name": "抢修组"})
    row = ConferenceRoom.get(ConferenceRoom.number == "6002")
    assert row.name == "抢修组" and verify_pin(row.pin_hash, "730251")
    r = c.post("/admin/rooms/6002/pin", {"csrf": csrf})
    new = re.search(r'id="pin-6002">([0-9]+)<', r.text)
    assert new is not None
    assert verify_pin(ConferenceRoom.get(ConferenceRoom.number == "6002").pin_hash, new.group(1))
    entries = OpLog.select().where(OpLog.action.startswith("site.conference_rooms"))
    assert [e.action for e in entries] == ["site.conference_rooms.add",
                                           "site.conference_rooms.edit",
                                           "site.conference_rooms.edit",
                                           "site.conference_rooms.pin"]
    for e in entries:
        text = f"{e.before} {e.after}"
        assert "argon2" not in text and "730251" not in text and pin.group(1) not in text
    assert json.loads(entries[1].before or "{}") == {"number": "6002", "name": "抢修协调",
                                                     "pin": "(set)"}
    assert json.loads(entries[1].after or "{}")["pin"] == "(new)"


def test_a_room_a_did_uses_cannot_be_deleted(box: Box) -> None:
    c, csrf = box.client("admin")
    svc(box).upsert("dids", {"number": "96200", "target": "conference:6001"})
    r = c.post("/admin/rooms/6001/delete", {"csrf": csrf})
    assert r.status == 409 and "no conference room" in r.text
    assert ConferenceRoom.get_or_none(ConferenceRoom.number == "6001") is not None
    s, _ = box.client("supervisor")
    page = s.get("/admin/rooms")
    assert page.status == 200 and "6001" in page.text and 'class="new-pin"' not in page.text
    assert s.post("/admin/rooms/6001/delete", {"csrf": csrf}).status in (403, 400)


# --- languages and catalogs ------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/admin", "/admin/queues", "/admin/queues/repair/edit",
                                 "/admin/dids/new", "/admin/flows/gas_hotline_96777",
                                 "/admin/prompts", "/admin/moh", "/admin/hardware",
                                 "/admin/site", "/admin/features", "/admin/blacklist",
                                 "/admin/rooms", "/admin/rooms/6001/edit"])
def test_admin_pages_in_both_languages(box: Box, url: str) -> None:
    c, _ = box.client("admin")
    zh, en = c.get(url), c.get(url + ("&" if "?" in url else "?") + "lang=en")
    assert zh.status == en.status == 200
    assert "系统配置" in zh.text and "Configuration" in en.text and "系统配置" not in en.text


def _objects() -> list[Obj]:
    out: list[Obj] = []

    def walk(obj: Obj) -> None:
        out.append(obj)
        for f in obj.fields:
            if isinstance(f.type, ListOf) and isinstance(f.type.item, Obj):
                walk(f.type.item)

    for s in admin_site.UI:
        walk(admin_site.obj_of(s))
    walk(ACD_SETTINGS)
    return out


def test_every_form_label_and_hint_is_translated() -> None:
    zh = i18n.catalog("zh_CN")
    names = {f.name for obj in _objects() for f in obj.fields if not f.secret}
    assert sorted(names - set(siteforms.LABELS)) == []
    texts = {f.doc for obj in _objects() for f in obj.fields if f.doc}
    texts |= set(siteforms.LABELS.values())
    texts |= {c for cols in siteforms.MAP_COLUMNS.values() for c in cols}
    for ui in admin_site.UI.values():
        texts |= {ui.title, ui.item, ui.intro}
    node_fields = {f.name for t in NODE_TYPES.values() for f in fields(t)} - {"id"}
    assert sorted(node_fields - set(flowedit.NODE_LABELS)) == []
    texts |= set(flowedit.NODE_LABELS.values()) | set(NODE_TYPES)
    assert sorted(t for t in texts if t and t not in zh) == []


def test_an_extension_the_site_uses_is_not_deleted(box: Box) -> None:
    from firmware.db.models import Extension

    c, csrf = box.client("admin")
    r = c.post("/extensions/8101/delete", {"csrf": csrf})  # the demo queues' supervisor
    assert r.status == 409 and "supervisors" in r.text
    assert Extension.get_or_none(Extension.number == "8101") is not None
    r = c.post("/extensions", {"csrf": csrf, "number": "96777", "name": "x",
                               "digest_algorithms": "MD5"})
    assert r.status == 400 and "is also a DID" in r.text
    assert Extension.get_or_none(Extension.number == "96777") is None


def test_a_recording_code_for_a_phone(box: Box) -> None:
    c, csrf = box.client("admin")
    assert c.post("/admin/prompts/record", {"csrf": csrf, "name": "../x"}).status == 400
    r = c.post("/admin/prompts/record", {"csrf": csrf, "name": "night_notice"})
    assert r.status == 200
    code = re.search(r'id="record-code">[^*]*<strong class="secret">\*77([0-9]{6})<', r.text)
    assert code, r.text
    from firmware.siteconfig import recording_slots

    slot = recording_slots.peek(code.group(1))
    assert slot is not None and (slot.name, slot.by) == ("night_notice", "admin1")
    assert slot.expires - time.time() == pytest.approx(recording_slots.TTL, abs=5)
    # a new code for the same prompt replaces the old one
    c.post("/admin/prompts/record", {"csrf": csrf, "name": "night_notice"})
    assert recording_slots.peek(code.group(1)) is None
    assert len(recording_slots.pending()) == 1
    assert recording_slots.take(recording_slots.pending()[0].code) is not None
    assert recording_slots.pending() == []
