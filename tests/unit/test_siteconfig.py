"""Site configuration: validation (line + field in every message), atomic import,
export -> import round trip, flow versions, secrets, the 96777 demo site."""

from __future__ import annotations

import textwrap
from pathlib import Path

import peewee
import pytest

from firmware.db.connection import open_db
from firmware.db.models import Extension
from firmware.db.site_models import AcdQueue, IvrFlow
from firmware.siteconfig import SiteInvalid, SiteService, validate
from firmware.siteconfig.demo import DEMO_SITE
from firmware.siteconfig.yamlio import load


def service(tmp_path: Path) -> SiteService:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return SiteService(tmp_path, open_db(tmp_path), notify=lambda _d: None)


def demo_service(tmp_path: Path) -> SiteService:
    svc = service(tmp_path)
    svc.import_yaml(DEMO_SITE.read_text(encoding="utf-8"), "demo.yaml")
    return svc


def errors_of(svc: SiteService, text: str) -> list[str]:
    with pytest.raises(SiteInvalid) as e:
        svc.import_yaml(textwrap.dedent(text), "site.yaml")
    return [str(err) for err in e.value.errors]


def test_demo_site_is_valid_and_builds_the_hotline() -> None:
    data, _ = load(DEMO_SITE.read_text(encoding="utf-8"))
    result = validate(data)
    assert result.ok, result.errors
    site = result.site
    assert site is not None
    assert [q.name for q in site.acd.queues] == ["emergency", "repair", "complaints", "general"]
    assert site.logins == {str(n): str(n) for n in range(8001, 8011)}
    assert str(site.dids["96777"].target) == "flow:gas_hotline_96777"
    flow = site.flows["gas_hotline_96777"]
    emergency = flow.nodes["emergency"]
    assert getattr(emergency, "priority", None) == 100
    # 8101 supervises every queue, and so may monitor any agent; an agent may not
    assert site.may_monitor("8101", "8005") and not site.may_monitor("8002", "8005")
    assert "office" in site.env.schedules and "cn_holidays" in site.env.calendars


def test_errors_name_line_object_and_field(tmp_path: Path) -> None:
    svc = service(tmp_path)
    errors = errors_of(svc, """\
        queues:
          - name: repair
            ring_timout: 5
            members: [a, ghost]
        agents:
          - id: a
            skills: {gas: 11}
        dids:
          - number: "96777"
            target: flow:nope
        """)
    assert errors == [
        "site.yaml:3: queues[0].ring_timout (queue 'repair'): unknown field "
        "(did you mean 'ring_timeout'?)",
        "site.yaml:7: agents[0].skills.gas (agent 'a'): 11 is out of range (1..10)",
    ], errors
    # once the field errors are fixed, the cross-object ones come with their lines too
    errors = errors_of(svc, """\
        queues:
          - name: repair
            members: [a, ghost]
        agents:
          - id: a
        dids:
          - number: "96777"
            target: flow:nope
        """)
    assert errors == [
        "site.yaml:3: queues[0].members[1].agent (queue 'repair'): no agent 'ghost' (agents)",
        "site.yaml:8: dids[0].target (DID '96777'): no IVR flow 'nope' (ivr_flows)",
    ], errors


def test_flow_errors_point_at_the_node_line(tmp_path: Path) -> None:
    errors = errors_of(service(tmp_path), """\
        queues: [{name: repair}]
        ivr_flows:
          - id: f
            entry: menu
            nodes:
              menu:
                kind: menu
                prompt: [gas_main_menu]
                branches: {"1": gone, "2": q}
              q: {kind: transfer, to: queue, target: nosuchqueue}
        """)
    assert "site.yaml:9: ivr_flows[0].nodes.menu.branches[1] (IVR flow 'f' node 'menu'): " \
           "points to missing node 'gone'" in errors, errors
    assert any(e.startswith("site.yaml:10: ivr_flows[0].nodes.q.target") and
               "no queue 'nosuchqueue'" in e for e in errors), errors


def test_yaml_syntax_and_duplicate_keys_have_lines(tmp_path: Path) -> None:
    svc = service(tmp_path)
    assert errors_of(svc, "queues:\n  - name: a\n    name: b\n") == [
        "site.yaml:3: queues[0].name: duplicate key (YAML keeps only the last one; "
        "remove the other)"]
    (error,) = errors_of(svc, "queues:\n  - name: [a\n")
    assert error.startswith("site.yaml:") and "YAML syntax" in error


def test_numbers_are_kept_as_typed(tmp_path: Path) -> None:
    # unquoted 0571... would be octal to plain YAML 1.1; yes/no stay text
    svc = service(tmp_path)
    svc.import_yaml("caller_lists:\n  - name: hz\n    numbers: [057188881234, 13912345678]\n"
                    "    note: no\n", "s.yaml")
    (lst,) = svc.document()["caller_lists"]
    assert lst["numbers"] == ["057188881234", "13912345678"] and lst["note"] == "no"


def test_invalid_file_changes_nothing(tmp_path: Path) -> None:
    svc = demo_service(tmp_path)
    before = svc.export_yaml(with_secrets=True)
    bad = before.replace("strategy: round-robin", "strategy: fastest", 1)
    bad = bad.replace("ring_timeout: 20", "ring_timeout: -1")
    with pytest.raises(SiteInvalid) as e:
        svc.import_yaml(bad, "site.yaml")
    assert len(e.value.errors) == 2
    assert svc.export_yaml(with_secrets=True) == before


def test_a_failure_while_writing_rolls_everything_back(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    svc = demo_service(tmp_path)
    before = svc.export_yaml(with_secrets=True)
    changed = before.replace("ring_timeout: 20", "ring_timeout: 25").replace(
        "\nagents:\n", "\n  - name: general2\nagents:\n")
    real_create = AcdQueue.create

    def broken(**kw: object) -> AcdQueue:
        if kw.get("name") == "general2":
            raise peewee.OperationalError("disk I/O error")
        return real_create(**kw)

    monkeypatch.setattr(AcdQueue, "create", broken)
    with pytest.raises(peewee.OperationalError):
        svc.import_yaml(changed, "site.yaml")
    monkeypatch.undo()
    assert svc.export_yaml(with_secrets=True) == before


def test_export_import_round_trips_to_an_identical_file(tmp_path: Path) -> None:
    svc = demo_service(tmp_path)
    first = svc.export_yaml()
    outcome = svc.import_yaml(first, "site.yaml")
    assert all(d.empty for d in outcome.changes.values()), outcome.changes
    assert outcome.applied is not None and not outcome.applied.new_flow_versions
    assert svc.export_yaml() == first
    # into an empty box: the same file again
    other = service(tmp_path / "other")
    other.import_yaml(first, "site.yaml")
    assert other.export_yaml() == first


def test_secrets_only_with_the_flag_and_kept_or_generated_on_import(tmp_path: Path) -> None:
    svc = demo_service(tmp_path)
    stored = Extension.get(Extension.number == "8001").sip_password
    assert stored not in svc.export_yaml()
    assert f"password: {stored}" in svc.export_yaml(with_secrets=True)
    text = svc.export_yaml().replace(
        "extensions:\n", "extensions:\n  - number: '8201'\n    name: new\n", 1)
    outcome = svc.import_yaml(text, "site.yaml")
    assert outcome.applied is not None
    generated = outcome.applied.generated_passwords
    assert list(generated) == ["8201"] and len(generated["8201"]) >= 12
    assert Extension.get(Extension.number == "8001").sip_password == stored  # kept
    assert Extension.get(Extension.number == "8201").sip_password == generated["8201"]
    assert outcome.changes["extensions"].added == ["8201"]
    assert outcome.changes["extensions"].changed == []


def test_weak_password_is_refused(tmp_path: Path) -> None:
    (error,) = errors_of(service(tmp_path), "extensions:\n  - {number: '8001', "
                         "password: '8001'}\n")
    assert error.startswith("site.yaml:2: extensions[0].password (extension '8001')")


def test_flow_edits_create_versions_one_active(tmp_path: Path) -> None:
    svc = demo_service(tmp_path)
    text = svc.export_yaml()
    assert "version: 1" in text
    changed = text.replace("timeout: 5\n", "timeout: 6\n", 1)
    outcome = svc.import_yaml(changed, "site.yaml")
    assert outcome.applied is not None
    assert outcome.applied.new_flow_versions == {"gas_hotline_96777": 2}
    assert outcome.changes["ivr_flows"].changed == ["gas_hotline_96777"]
    rows = [(f.version, bool(f.active)) for f in
            IvrFlow.select().where(IvrFlow.flow_id == "gas_hotline_96777")
            .order_by(IvrFlow.version)]
    assert rows == [(1, False), (2, True)]
    site = svc.current().site
    assert site is not None and site.flows["gas_hotline_96777"].version == 2
    # the active row is unique per flow id (partial unique index)
    with pytest.raises(peewee.IntegrityError):
        IvrFlow.update(active=True).where(IvrFlow.version == 1).execute()


def test_a_file_with_some_sections_leaves_the_others(tmp_path: Path) -> None:
    svc = demo_service(tmp_path)
    outcome = svc.import_yaml("blacklist:\n  - number: '0571000*'\n    note: test\n", "b.yaml")
    assert outcome.sections == ["blacklist"]
    doc = svc.document()
    assert [b["number"] for b in doc["blacklist"]] == ["0571000*"]
    assert len(doc["queues"]) == 4 and len(doc["extensions"]) == 11


def test_dry_run_reports_and_changes_nothing(tmp_path: Path) -> None:
    svc = demo_service(tmp_path)
    before = svc.export_yaml()
    text = before.replace("- name: general\n", "- name: general\n    wrap_up: 10\n")
    outcome = svc.import_yaml(text, "site.yaml", dry_run=True)
    assert outcome.applied is None and outcome.changes["queues"].changed == ["general"]
    assert svc.export_yaml() == before


def test_prompt_upload_from_file_is_checked_and_copied(tmp_path: Path) -> None:
    import wave

    svc = service(tmp_path / "box")
    src = tmp_path / "site"
    src.mkdir()
    with wave.open(str(src / "hello.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 1600)
    text = "prompts:\n  - name: hello\n    file: hello.wav\n"
    with pytest.raises(SiteInvalid) as e:
        svc.import_yaml(text, "site.yaml", source_dir=src)
    assert "must be 8000 Hz mono 16-bit" in str(e.value.errors[0])
    with wave.open(str(src / "hello.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    svc.import_yaml(text, "site.yaml", source_dir=src)
    assert (tmp_path / "box" / "prompts" / "custom" / "hello.wav").is_file()
    assert svc.current().ok
    # an uploaded prompt may be used by flows and treatments
    svc.import_yaml("blacklist:\n  - {number: '139*', treatment: prompt, prompt: hello}\n",
                    "b.yaml")
    site = svc.current().site
    assert site is not None and "hello" in site.treatment_flows


def test_one_object_edits_are_validated_against_the_whole_site(tmp_path: Path) -> None:
    svc = demo_service(tmp_path)
    svc.upsert("queues", {"name": "billing", "strategy": "linear", "members": ["8001"]})
    assert [q["name"] for q in svc.document()["queues"]][-1] == "billing"
    # the flow transfers to `repair`: removing it is refused and changes nothing
    with pytest.raises(SiteInvalid) as e:
        svc.remove("queues", "repair")
    assert any("no queue 'repair'" in str(err) for err in e.value.errors)
    assert "repair" in [q["name"] for q in svc.document()["queues"]]
    svc.remove("queues", "billing")
    svc.upsert("agents", {"id": "8001", "name": "张三", "skills": {"gas": 9}})
    agent = next(a for a in svc.document()["agents"] if a["id"] == "8001")
    assert agent["name"] == "张三" and agent["skills"] == {"gas": 9}


def test_activate_an_older_flow_version(tmp_path: Path) -> None:
    svc = demo_service(tmp_path)
    svc.import_yaml(svc.export_yaml().replace("timeout: 5\n", "timeout: 6\n", 1), "s.yaml")
    assert [v for v, active, _ in svc.flow_versions("gas_hotline_96777") if active] == [2]
    svc.activate_flow_version("gas_hotline_96777", 1)
    site = svc.current().site
    assert site is not None and site.flows["gas_hotline_96777"].version == 1
    assert [v for v, active, _ in svc.flow_versions("gas_hotline_96777") if active] == [1]


def test_unlock_marks_the_lock_lifted(tmp_path: Path) -> None:
    import time

    from firmware.db.site_models import NumberLock

    svc = demo_service(tmp_path)
    now = time.time()
    NumberLock.create(number="13912345678", rule="harassment", since=now, until=now + 60,
                      reason="test")
    assert [lk["number"] for lk in svc.locks()] == ["13912345678"]
    assert svc.unlock("+8613912345678", "admin")
    assert svc.locks() == [] and not svc.unlock("13912345678", "admin")
    row = NumberLock.get()
    assert row.unlocked_by == "admin" and row.unlocked_at is not None
