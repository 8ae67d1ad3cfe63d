"""Phone features, ring groups and conference rooms in the site configuration: field and
cross-object validation with lines, export -> import round trip, PINs stored hashed
(kept, generated, never exported without --with-secrets), group/conference targets,
the one-time import of DATA/conference.json."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from firmware.db.connection import open_db
from firmware.db.models import ExtensionFeatures, RingGroup, RingGroupMember
from firmware.db.settings import get_setting
from firmware.db.site_models import ConferenceRoom
from firmware.siteconfig import SiteInvalid, SiteService
from firmware.siteconfig.legacy_rooms import IMPORTED_SETTING, import_legacy_rooms
from firmware.switch.features.pin import hash_pin, verify_pin
from firmware.switch.features.settings import load_table

SITE = """\
    extensions:
      - {number: "8001"}
      - {number: "8002"}
      - {number: "8003"}
    extension_features:
      - extension: "8001"
        forward_busy: "5000"
        voicemail: true
      - {extension: "8002", dnd: true, mobile: "013800138000", mobile_delay: 15}
      - {extension: "8003", remote_answer: true}
    ring_groups:
      - number: "5000"
        name: 值班组
        strategy: sequential
        members: ["8002", {extension: "8003", timeout: 8}]
        fallback: vm:8001
    conference_rooms:
      - {number: "6001", name: 例会, pin: "480913"}
      - {number: "6002"}
    dids:
      - {number: "96100", target: group:5000}
      - {number: "96200", target: conference:6001}
    """


def service(tmp_path: Path) -> SiteService:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return SiteService(tmp_path, open_db(tmp_path), notify=lambda _d: None)


def errors_of(svc: SiteService, text: str) -> list[str]:
    with pytest.raises(SiteInvalid) as e:
        svc.import_yaml(textwrap.dedent(text), "site.yaml")
    return [str(err) for err in e.value.errors]


def test_import_writes_the_tables_switchd_reads(tmp_path: Path) -> None:
    svc = service(tmp_path)
    out = svc.import_yaml(textwrap.dedent(SITE), "site.yaml")
    assert out.applied is not None
    # 6002 had no PIN: one was generated, reported once, and stored only as a hash
    generated = out.applied.generated_pins
    assert list(generated) == ["6002"] and len(generated["6002"]) == 6
    rooms = {r.number: r for r in ConferenceRoom.select()}
    assert verify_pin(rooms["6001"].pin_hash, "480913")
    assert verify_pin(rooms["6002"].pin_hash, generated["6002"])
    assert "480913" not in rooms["6001"].pin_hash
    table = load_table()  # what PhoneFeatures routes with
    assert table.of("8001").forward_busy == "5000" and table.of("8001").voicemail
    assert table.of("8002").dnd and table.of("8002").mobile == "013800138000"
    assert table.of("8002").mobile_delay == 15 and not table.of("8003").dnd
    assert table.of("8003").remote_answer and not table.of("8002").remote_answer
    group = table.groups["5000"]
    assert group.strategy == "sequential" and group.fallback == "vm:8001"
    assert [(m.extension, m.timeout) for m in group.members] == [("8002", None), ("8003", 8)]
    site = svc.current().raise_for_errors()
    assert str(site.dids["96100"].target) == "group:5000"
    assert set(site.rooms) == {"6001", "6002"} and site.ring_groups == {"5000"}


def test_export_import_round_trip_and_secrets(tmp_path: Path) -> None:
    svc = service(tmp_path / "a")
    svc.import_yaml(textwrap.dedent(SITE), "site.yaml")
    text = svc.export_yaml()
    assert "pin" not in text  # neither the PIN nor its hash without --with-secrets
    assert "ring_groups:" in text and "extension_features:" in text
    # the file imports back unchanged: PINs are kept, nothing is reported as changed
    before = {r.number: r.pin_hash for r in ConferenceRoom.select()}
    again = svc.import_yaml(text, "export.yaml")
    assert all(d.empty for d in again.changes.values()), again.changes
    assert again.applied is not None and again.applied.generated_pins == {}
    assert {r.number: r.pin_hash for r in ConferenceRoom.select()} == before
    assert svc.export_yaml() == text
    # with secrets, another box gets the same PINs (and never the plain PIN)
    full = svc.export_yaml(with_secrets=True)
    assert "pin_hash: $argon2id$" in full and "480913" not in full
    other = service(tmp_path / "b")
    out = other.import_yaml(full, "full.yaml")
    assert out.applied is not None and out.applied.generated_pins == {}
    assert verify_pin(ConferenceRoom.get(ConferenceRoom.number == "6001").pin_hash, "480913")


def test_voicemail_pin_is_not_in_the_file_and_survives_an_import(tmp_path: Path) -> None:
    svc = service(tmp_path)
    svc.import_yaml(textwrap.dedent(SITE), "site.yaml")
    pin_hash = hash_pin("204863")
    ExtensionFeatures.update(voicemail_pin_hash=pin_hash).where(
        ExtensionFeatures.number == "8001").execute()
    assert "argon2" not in svc.export_yaml(with_secrets=True).split("conference_rooms:")[0]
    # a section without 8001 turns its features off but keeps the mailbox PIN
    svc.import_yaml("extension_features: []\n", "features.yaml")
    row = ExtensionFeatures.get(ExtensionFeatures.number == "8001")
    assert not row.voicemail and row.forward_busy == "" and row.voicemail_pin_hash == pin_hash
    assert "extension_features: []" in svc.export_yaml()


def test_field_errors_name_line_and_field(tmp_path: Path) -> None:
    svc = service(tmp_path)
    errors = errors_of(svc, """\
        extensions:
          - {number: "8001"}
        ring_groups:
          - number: "5100"
            strategy: parallel
            ring_timeout: 2
        conference_rooms:
          - {number: "6001", pin: "12ab"}
        extension_features:
          - {extension: "8001", mobile: "13800138000", dnd: yes}
        """)
    assert errors == [
        "site.yaml:4: ring_groups[0].number (ring group '5100'): '5100' is not valid "
        "(5000-5099)",
        "site.yaml:5: ring_groups[0].strategy (ring group '5100'): expected one of "
        "simultaneous, sequential, got 'parallel'",
        "site.yaml:6: ring_groups[0].ring_timeout (ring group '5100'): 2 is out of range "
        "(5..300)",
        "site.yaml:8: conference_rooms[0].pin (conference room '6001'): '12ab' is not valid "
        "(4 to 12 digits)",
        "site.yaml:10: extension_features[0].dnd (extension features '8001'): expected true "
        "or false, got 'yes'",
        "site.yaml:10: extension_features[0].mobile (extension features '8001'): "
        "'13800138000' is not valid (0 + an outside number (dialled out through the trunk))",
    ], errors


def test_cross_object_errors(tmp_path: Path) -> None:
    svc = service(tmp_path)
    errors = errors_of(svc, """\
        extensions:
          - {number: "8001"}
          - {number: "5001"}
        ring_groups:
          - number: "5000"
            members: ["8001", "8009", "8001"]
            fallback: vm:8999
          - {number: "5001"}
        conference_rooms:
          - {number: "6001", pin: "1234"}
          - {number: "6002", pin: "480913", pin_hash: "$argon2id$x"}
        extension_features:
          - {extension: "8009", dnd: true}
        dids:
          - {number: "96100", target: group:5009}
          - {number: "96200", target: conference:6009}
          - {number: "96300", target: extension:5000}
        """)
    assert errors == [
        "site.yaml:6: ring_groups[0].members[1].extension (ring group '5000'): "
        "no extension '8009'",
        "site.yaml:6: ring_groups[0].members[2].extension (ring group '5000'): "
        "extension 8001 is listed twice",
        "site.yaml:7: ring_groups[0].fallback (ring group '5000'): no mailbox '8999' "
        "(an extension)",
        "site.yaml:8: ring_groups[1].number (ring group '5001'): is also an extension",
        "site.yaml:10: conference_rooms[0].pin (conference room '6001'): a PIN must not be "
        "a run of digits (1234, 4321)",
        "site.yaml:11: conference_rooms[1].pin (conference room '6002'): give either `pin` "
        "or `pin_hash`, not both",
        "site.yaml:13: extension_features[0].extension (features of '8009'): "
        "no extension '8009'",
        "site.yaml:15: dids[0].target (DID '96100'): no ring group '5009' (ring_groups)",
        "site.yaml:16: dids[1].target (DID '96200'): no conference room '6009' "
        "(conference_rooms)",
        "site.yaml:17: dids[2].target (DID '96300'): no extension '5000' (a ring group: "
        "write 'group:5000')",
    ], errors
    assert not RingGroup.select().exists() and not ConferenceRoom.select().exists()


def test_a_room_or_group_a_did_uses_cannot_be_removed(tmp_path: Path) -> None:
    svc = service(tmp_path)
    svc.import_yaml(textwrap.dedent(SITE), "site.yaml")
    for section, key in (("conference_rooms", "6001"), ("ring_groups", "5000")):
        with pytest.raises(SiteInvalid) as e:
            svc.remove(section, key)
        assert "dids[" in str(e.value.errors[0]), e.value.errors
    assert RingGroupMember.select().count() == 2
    # a room nothing refers to can go
    assert svc.remove("conference_rooms", "6002").changes["conference_rooms"].removed == ["6002"]


def test_a_stale_forward_is_only_a_warning(tmp_path: Path) -> None:
    svc = service(tmp_path)
    out = svc.import_yaml(textwrap.dedent("""\
        extensions: [{number: "8001"}]
        extension_features: [{extension: "8001", forward_always: "8055"}]
        """), "site.yaml")
    assert [str(w) for w in out.warnings] == [
        "site.yaml:2: extension_features[0].forward_always (features of '8001'): '8055' is "
        "neither an extension, a ring group of this site nor 0 + an outside number"]


def test_conference_json_is_imported_once(tmp_path: Path) -> None:
    svc = service(tmp_path)
    svc.import_yaml(textwrap.dedent(SITE), "site.yaml")
    (tmp_path / "conference.json").write_text(json.dumps({"rooms": {"6001": "1111",
                                                                    "6005": "2468"}}))
    assert import_legacy_rooms(tmp_path) == 2
    rooms = {r.number: r for r in ConferenceRoom.select()}
    assert set(rooms) == {"6001", "6002", "6005"}
    # the file's PIN wins (it is what people used), the stored name stays
    assert verify_pin(rooms["6001"].pin_hash, "1111") and rooms["6001"].name == "例会"
    assert get_setting(IMPORTED_SETTING) is not None
    # from now on the file is ignored
    (tmp_path / "conference.json").write_text(json.dumps({"rooms": {"6001": "9999"}}))
    assert import_legacy_rooms(tmp_path) is None
    assert verify_pin(ConferenceRoom.get(ConferenceRoom.number == "6001").pin_hash, "1111")


def test_a_broken_conference_json_is_left_for_the_admin(tmp_path: Path) -> None:
    service(tmp_path)
    (tmp_path / "conference.json").write_text('{"rooms": {"7001": "1111"}}')
    assert import_legacy_rooms(tmp_path) is None
    assert get_setting(IMPORTED_SETTING) is None and not ConferenceRoom.select().exists()


def test_the_demo_room_gets_a_pin_shown_at_the_first_start_only(tmp_path: Path) -> None:
    from firmware.cli.banner import banner
    from firmware.config import BoxConfig
    from firmware.db.demo import ensure_demo_data

    pins: dict[str, str] = {}
    db = open_db(tmp_path)
    ensure_demo_data(db, tmp_path, pins)
    assert list(pins) == ["6001"]
    assert verify_pin(ConferenceRoom.get(ConferenceRoom.number == "6001").pin_hash, pins["6001"])
    assert load_table().groups["5000"].fallback == "vm:8101"
    cfg = BoxConfig("sim", tmp_path)
    assert pins["6001"] in banner(cfg, "127.0.0.1", [], True, ["6001"], pins)
    again: dict[str, str] = {}
    ensure_demo_data(db, tmp_path, again)
    assert again == {}
    text = banner(cfg, "127.0.0.1", [], True, ["6001"], again)
    assert "Conference rooms 6001" in text and pins["6001"] not in text


def test_an_extension_goes_with_its_features_but_not_from_under_a_group(
        tmp_path: Path) -> None:
    svc = service(tmp_path)
    svc.import_yaml(textwrap.dedent("""\
        extensions: [{number: "8001"}, {number: "8002"}, {number: "8003"}]
        extension_features: [{extension: "8001", dnd: true}, {extension: "8003", dnd: true}]
        ring_groups: [{number: "5000", members: ["8002"]}]
        """), "site.yaml")
    with pytest.raises(SiteInvalid) as e:
        svc.remove("extensions", "8002")  # still a member of group 5000
    assert "ring_groups[0].members[0].extension" in str(e.value.errors[0])
    svc.remove("extensions", "8001")  # the extensions page: its features go with it
    assert ExtensionFeatures.get_or_none(ExtensionFeatures.number == "8001") is None
    # a file that drops an extension takes its stored features along too
    svc.import_yaml('extensions: [{number: "8002"}]\n', "fewer.yaml")
    assert [f.number for f in ExtensionFeatures.select()] == []
    # but features typed for an unknown extension are an error
    assert errors_of(svc, 'extension_features: [{extension: "8009", dnd: true}]\n') == [
        "site.yaml:1: extension_features[0].extension (features of '8009'): "
        "no extension '8009'"]
