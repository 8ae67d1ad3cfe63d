"""The site document in the database: read it from the tables, write it back whole.

Writing happens in one transaction (all or nothing), after the document was validated.
Extensions are updated in place (their rows, passwords and registrations survive an
import that does not change them); IVR flows get a new version only when their content
changed, and the previous version stays in the table, inactive. Locks (`number_lock`)
are state, not configuration, and are never touched here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import peewee

from firmware.db.models import (
    Extension,
    ExtensionFeatures,
    Registration,
    RingGroup,
    RingGroupMember,
)
from firmware.db.settings import get_setting, set_setting
from firmware.db.sip_passwords import generate_sip_password
from firmware.db.site_models import (
    AcdQueue,
    Agent,
    AgentSkill,
    AutoLockRule,
    Blacklist,
    CalendarDay,
    CallerList,
    CallerListEntry,
    ConferenceRoom,
    Did,
    DidTimeRule,
    HolidayCalendar,
    IvrFlow,
    NumberLock,
    Prompt,
    QueueMember,
    QueueSupervisor,
    TimeSchedule,
    Trunk,
)
from firmware.siteconfig.schema import DEFAULT_TZ, SCHEMA_VERSION, SECTIONS
from firmware.switch.features.pin import hash_pin

_BATCH = 500  # rows per INSERT (far below SQLite's bound-parameter limit)
ACD_SETTING = "site.acd"
LOOKUPS_SETTING = "site.lookups"  # a JSON list: a handful of small objects, no table
SEEDED_SETTING = "site.seeded"  # set once the demo (or any import) configured the box


def _time_text(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, ZoneInfo(DEFAULT_TZ)).isoformat(timespec="seconds")


def _dicts(query: Any) -> list[dict[str, Any]]:
    return list(query.dicts())


def load_document() -> dict[str, Any]:
    """The configuration as a raw document (run it through `normalize`/`validate`).
    The models must be bound (open_db)."""
    doc: dict[str, Any] = {"schema": SCHEMA_VERSION}
    doc["extensions"] = [
        {"number": e.number, "name": e.name, "password": e.sip_password,
         "enabled": bool(e.enabled), "digest": e.digest_algorithms}
        for e in Extension.select().order_by(Extension.number)]
    doc["extension_features"] = _load_features(
        {e["number"] for e in doc["extensions"]})
    doc["ring_groups"] = _load_groups()
    doc["conference_rooms"] = [
        {"number": r.number, "name": r.name, "pin": None, "pin_hash": r.pin_hash}
        for r in ConferenceRoom.select().order_by(ConferenceRoom.position, ConferenceRoom.id)]
    doc["trunks"] = [
        {"name": t.name, "kind": t.kind, "port": t.port, "description": t.description,
         "enabled": bool(t.enabled)}
        for t in Trunk.select().order_by(Trunk.position, Trunk.id)]
    rules: dict[int, list[dict[str, Any]]] = {}
    for r in _dicts(DidTimeRule.select().order_by(DidTimeRule.position, DidTimeRule.id)):
        rules.setdefault(r["did"], []).append({"schedule": r["schedule"],
                                               "target": r["target"]})
    doc["dids"] = [
        {"number": d.number, "name": d.name, "trunk": d.trunk, "target": d.target,
         "time_rules": rules.get(d.id, []), "calendar": d.calendar, "holiday": d.holiday,
         "priority": d.priority}
        for d in Did.select().order_by(Did.position, Did.id)]
    doc["queues"] = _load_queues()
    doc["agents"] = _load_agents()
    raw_acd = get_setting(ACD_SETTING)
    doc["acd"] = json.loads(raw_acd) if raw_acd else {}
    doc["schedules"] = [
        {"name": s.name, "tz": s.tz, "week": json.loads(s.week), "makeup_as": s.makeup_as}
        for s in TimeSchedule.select().order_by(TimeSchedule.position, TimeSchedule.id)]
    days: dict[int, dict[str, list[dict[str, str]]]] = {}
    for day in _dicts(CalendarDay.select().order_by(CalendarDay.position, CalendarDay.id)):
        entry = {"date": day["date"], "name": day["name"]}
        days.setdefault(day["calendar"], {"holiday": [], "workday": []})[day["kind"]].append(
            entry)
    doc["calendars"] = [
        {"name": c.name, "note": c.note,
         "holidays": days.get(c.id, {}).get("holiday", []),
         "workdays": days.get(c.id, {}).get("workday", [])}
        for c in HolidayCalendar.select().order_by(HolidayCalendar.position,
                                                   HolidayCalendar.id)]
    entries: dict[int, list[str]] = {}
    for le in _dicts(CallerListEntry.select()
                     .order_by(CallerListEntry.position, CallerListEntry.id)):
        entries.setdefault(le["list"], []).append(le["number"])
    doc["caller_lists"] = [
        {"name": c.name, "note": c.note, "numbers": entries.get(c.id, [])}
        for c in CallerList.select().order_by(CallerList.position, CallerList.id)]
    doc["blacklist"] = [
        {"number": b.number, "treatment": b.treatment, "cause": b.cause, "prompt": b.prompt,
         "flow": b.flow, "note": b.note, "expires": _time_text(b.expires)}
        for b in Blacklist.select().order_by(Blacklist.position, Blacklist.id)]
    doc["autolock"] = [
        {"name": r.name, "calls": r.calls, "minutes": r.minutes, "days": r.days,
         "dids": json.loads(r.dids), "exempt": r.exempt, "treatment": r.treatment,
         "cause": r.cause, "prompt": r.prompt, "flow": r.flow, "enabled": bool(r.enabled)}
        for r in AutoLockRule.select().order_by(AutoLockRule.position, AutoLockRule.id)]
    doc["prompts"] = [
        {"name": p.name, "text": p.text}
        for p in Prompt.select().order_by(Prompt.position, Prompt.id)]
    doc["ivr_flows"] = [
        {**json.loads(f.data), "version": f.version}
        for f in IvrFlow.select().where(IvrFlow.active).order_by(IvrFlow.position,
                                                                  IvrFlow.id)]
    doc["lookups"] = _load_lookups()
    return doc


def _load_lookups() -> list[dict[str, Any]]:
    raw = get_setting(LOOKUPS_SETTING)
    items = json.loads(raw) if raw else []
    return items if isinstance(items, list) else []


def _save_lookups(items: list[dict[str, Any]]) -> None:
    """A lookup given without `bearer_token` keeps its stored one (an export without
    secrets imports back without losing it); "" removes it."""
    stored = {x.get("name"): x.get("bearer_token") for x in _load_lookups()
              if isinstance(x, dict)}
    out = []
    for x in items:
        token = x.get("bearer_token")
        if token is None:
            token = stored.get(x["name"])
        out.append({**x, "bearer_token": token or None})
    set_setting(LOOKUPS_SETTING, json.dumps(out, ensure_ascii=False))


_FEATURE_COLUMNS = ("forward_always", "forward_busy", "forward_no_answer",
                    "no_answer_timeout", "dnd", "mobile", "mobile_delay", "voicemail",
                    "remote_answer")
_FEATURE_OFF: dict[str, Any] = {"forward_always": "", "forward_busy": "",
                                "forward_no_answer": "", "no_answer_timeout": 20,
                                "dnd": False, "mobile": "", "mobile_delay": 10,
                                "voicemail": False, "remote_answer": False}
_BOOL_FEATURES = ("dnd", "voicemail", "remote_answer")
_TEXT_FEATURES = ("forward_always", "forward_busy", "forward_no_answer", "mobile")


def _load_features(extensions: set[str]) -> list[dict[str, Any]]:
    """Rows that set something, of extensions that exist (a row outliving its extension
    is ignored). The voicemail PIN hash stays out: it is the mailbox owner's, not part
    of the site's design (decision 0021)."""
    out = []
    for r in _dicts(ExtensionFeatures.select().order_by(ExtensionFeatures.number)):
        values = {k: (bool(r[k]) if k in _BOOL_FEATURES else r[k])
                  for k in _FEATURE_COLUMNS}
        if r["number"] not in extensions or values == _FEATURE_OFF:
            continue
        out.append({"extension": r["number"],
                    **{k: (v or None) if k in _TEXT_FEATURES else v
                       for k, v in values.items()}})
    return out


def _load_groups() -> list[dict[str, Any]]:
    members: dict[int, list[dict[str, Any]]] = {}
    for m in _dicts(RingGroupMember.select()
                    .order_by(RingGroupMember.position, RingGroupMember.id)):
        members.setdefault(m["group"], []).append({"extension": m["extension"],
                                                   "timeout": m["timeout"]})
    return [{"number": g.number, "name": g.name, "strategy": g.strategy,
             "ring_timeout": g.ring_timeout, "members": members.get(g.id, []),
             "fallback": g.fallback or None, "enabled": bool(g.enabled)}
            for g in RingGroup.select().order_by(RingGroup.number)]


def _load_queues() -> list[dict[str, Any]]:
    members: dict[int, list[dict[str, Any]]] = {}
    query = (QueueMember.select(QueueMember.queue, Agent.agent_id, QueueMember.penalty,
                                QueueMember.weight).join(Agent)
             .order_by(QueueMember.position, QueueMember.id))
    for m in _dicts(query):
        members.setdefault(m["queue"], []).append(
            {"agent": m["agent_id"], "penalty": m["penalty"], "weight": m["weight"]})
    sups: dict[int, list[str]] = {}
    for s in _dicts(QueueSupervisor.select().order_by(QueueSupervisor.id)):
        sups.setdefault(s["queue"], []).append(s["extension"])
    out = []
    for q in AcdQueue.select().order_by(AcdQueue.position, AcdQueue.id):
        out.append({
            "name": q.name, "strategy": q.strategy, "members": members.get(q.id, []),
            "supervisors": sups.get(q.id, []), "skills": json.loads(q.skills),
            "ring_timeout": q.ring_timeout, "retry": q.retry, "wrap_up": q.wrap_up,
            "ring_in_use": bool(q.ring_in_use), "max_wait": q.max_wait,
            "timeout_target": q.timeout_target, "empty_target": q.empty_target,
            "moh_class": q.moh_class, "announce_frequency": q.announce_frequency,
            "announce_position": bool(q.announce_position),
            "announce_ewt": bool(q.announce_ewt), "announce_on_join": bool(q.announce_on_join),
            "periodic_prompt": q.periodic_prompt, "periodic_frequency": q.periodic_frequency,
            "callback_key": q.callback_key, "exit_keys": json.loads(q.exit_keys),
            "skill_steps": json.loads(q.skill_steps) or [{"after": 0}],
            "default_aht": q.default_aht, "aht_window": q.aht_window,
            "smart_routing": bool(q.smart_routing), "outbound_trace": bool(q.outbound_trace),
        })
    return out


def _load_agents() -> list[dict[str, Any]]:
    skills: dict[int, dict[str, int]] = {}
    for s in _dicts(AgentSkill.select().order_by(AgentSkill.id)):
        skills.setdefault(s["agent"], {})[s["skill"]] = s["level"]
    return [{"id": a.agent_id, "name": a.name, "wrap_up": a.wrap_up,
             "skills": skills.get(a.id, {}), "login": a.login}
            for a in Agent.select().order_by(Agent.position, Agent.id)]


def configured() -> bool:
    """Has this box ever been configured (demo seeded or a site imported)?"""
    return get_setting(SEEDED_SETTING) is not None


# --- writing ------------------------------------------------------------------------


@dataclass
class SaveReport:
    generated_passwords: dict[str, str] = field(default_factory=dict)  # new extensions
    generated_pins: dict[str, str] = field(default_factory=dict)  # new conference rooms
    new_flow_versions: dict[str, int] = field(default_factory=dict)


def _flow_content(flow: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in flow.items() if k != "version"}, sort_keys=True,
                      ensure_ascii=False)


def save_document(db: peewee.Database, doc: Mapping[str, Any],
                  sections: frozenset[str] | None = None) -> SaveReport:
    """Write a validated canonical document in one transaction. `sections`: only these
    (default: all); the others are left as they are."""
    todo = set(SECTIONS) if sections is None else set(sections)
    report = SaveReport()
    # argon2 takes ~45 ms a PIN: hashed before the write lock is taken
    room_pins = _room_hashes(doc["conference_rooms"], report) if "conference_rooms" in todo \
        else {}
    with db.atomic(lock_type="IMMEDIATE"):
        if "extensions" in todo:
            _save_extensions(doc["extensions"], report)
        if "extension_features" in todo:
            _save_features(doc["extension_features"])
        if "ring_groups" in todo:
            _save_groups(doc["ring_groups"])
        if "conference_rooms" in todo:
            _save_rooms(doc["conference_rooms"], room_pins)
        if "trunks" in todo:
            Trunk.delete().execute()
            for i, t in enumerate(doc["trunks"]):
                Trunk.create(position=i, **t)
        if "dids" in todo:
            Did.delete().execute()
            for i, d in enumerate(doc["dids"]):
                row = Did.create(position=i, **{k: v for k, v in d.items()
                                                if k != "time_rules"})
                for j, r in enumerate(d["time_rules"]):
                    DidTimeRule.create(did=row, position=j, **r)
        if "agents" in todo or "queues" in todo:
            _save_acd(doc, todo)
        if "acd" in todo:
            set_setting(ACD_SETTING, json.dumps(doc["acd"], ensure_ascii=False))
        if "schedules" in todo:
            TimeSchedule.delete().execute()
            for i, s in enumerate(doc["schedules"]):
                TimeSchedule.create(position=i, name=s["name"], tz=s["tz"],
                                    week=json.dumps(s["week"], ensure_ascii=False),
                                    makeup_as=s["makeup_as"])
        if "calendars" in todo:
            HolidayCalendar.delete().execute()
            for i, c in enumerate(doc["calendars"]):
                cal = HolidayCalendar.create(position=i, name=c["name"], note=c["note"])
                for kind, key in (("holiday", "holidays"), ("workday", "workdays")):
                    for j, day in enumerate(c[key]):
                        CalendarDay.create(calendar=cal, kind=kind, date=day["date"],
                                           name=day["name"], position=j)
        if "caller_lists" in todo:
            CallerList.delete().execute()
            for i, c in enumerate(doc["caller_lists"]):
                lst = CallerList.create(position=i, name=c["name"], note=c["note"])
                entries = [{"list": lst, "number": n, "position": j}
                           for j, n in enumerate(c["numbers"])]
                for start in range(0, len(entries), _BATCH):
                    CallerListEntry.insert_many(entries[start:start + _BATCH]).execute()
        if "blacklist" in todo:
            _save_blacklist(doc["blacklist"])
        if "autolock" in todo:
            AutoLockRule.delete().execute()
            for i, r in enumerate(doc["autolock"]):
                AutoLockRule.create(position=i, **{**r, "dids": json.dumps(r["dids"])})
        if "prompts" in todo:
            created = {p.name: p.created for p in Prompt.select()}
            Prompt.delete().execute()
            for i, p in enumerate(doc["prompts"]):
                Prompt.create(position=i, name=p["name"], text=p["text"],
                              created=created.get(p["name"], time.time()))
        if "ivr_flows" in todo:
            _save_flows(doc["ivr_flows"], report)
        if "lookups" in todo:
            _save_lookups(doc["lookups"])
        set_setting(SEEDED_SETTING, str(time.time()))
    return report


def _save_extensions(items: list[dict[str, Any]], report: SaveReport) -> None:
    wanted = {e["number"] for e in items}
    gone = [e.number for e in Extension.select() if e.number not in wanted]
    if gone:
        Extension.delete().where(Extension.number.in_(gone)).execute()
        # bindings of a deleted account must not outlive it across a restart
        Registration.delete().where(Registration.aor.in_(gone)).execute()
        # nor its features (a ring group seat or a DID to it is refused by validation)
        ExtensionFeatures.delete().where(ExtensionFeatures.number.in_(gone)).execute()
    for e in items:
        row = Extension.get_or_none(Extension.number == e["number"])
        if row is None:
            password = e["password"]
            if password is None:
                password = generate_sip_password()
                report.generated_passwords[e["number"]] = password
            Extension.create(number=e["number"], name=e["name"], sip_password=password,
                             enabled=e["enabled"], digest_algorithms=e["digest"])
            continue
        row.name, row.enabled, row.digest_algorithms = e["name"], e["enabled"], e["digest"]
        if e["password"] is not None:
            row.sip_password = e["password"]
        row.save()


def _save_features(items: list[dict[str, Any]]) -> None:
    """The section replaces every extension's features; voicemail PIN hashes stay."""
    ExtensionFeatures.update(**_FEATURE_OFF, updated=time.time()).execute()
    for f in items:
        row = {k: (f[k] or "") if k in _TEXT_FEATURES else f[k] for k in _FEATURE_COLUMNS}
        row["updated"] = time.time()
        ExtensionFeatures.insert(number=f["extension"], **row).on_conflict(
            conflict_target=[ExtensionFeatures.number],
            preserve=[getattr(ExtensionFeatures, k) for k in row]).execute()


def _save_groups(items: list[dict[str, Any]]) -> None:
    created = {g.number: g.created for g in RingGroup.select()}
    RingGroupMember.delete().execute()
    RingGroup.delete().execute()
    for g in items:
        row = RingGroup.create(number=g["number"], name=g["name"], strategy=g["strategy"],
                               ring_timeout=g["ring_timeout"], fallback=g["fallback"] or "",
                               enabled=g["enabled"],
                               created=created.get(g["number"], time.time()))
        for j, m in enumerate(g["members"]):
            RingGroupMember.create(group=row, position=j, extension=m["extension"],
                                   timeout=m["timeout"])


def _room_hashes(items: list[dict[str, Any]], report: SaveReport) -> dict[str, str]:
    """number -> the hash to store for rooms given a `pin` or new without one."""
    stored = {r.number for r in ConferenceRoom.select(ConferenceRoom.number)}
    out: dict[str, str] = {}
    for r in items:
        pin = r["pin"]
        if pin is None and r["pin_hash"] is None and r["number"] not in stored:
            pin = generate_room_pin(r["number"])
            report.generated_pins[r["number"]] = pin
        if pin is not None:
            out[r["number"]] = hash_pin(pin)
    return out


def generate_room_pin(number: str) -> str:
    """Six random digits that pass the weak-PIN rules (no run, no repeat, not the room)."""
    import secrets

    from firmware.switch.features.pin import weak_pin_reason

    while True:
        pin = f"{secrets.randbelow(10**6):06d}"
        if weak_pin_reason(number, pin) is None:
            return pin


def _save_rooms(items: list[dict[str, Any]], hashes: Mapping[str, str]) -> None:
    kept = {r.number: r.pin_hash for r in ConferenceRoom.select()}
    ConferenceRoom.delete().execute()
    for i, r in enumerate(items):
        pin_hash = hashes.get(r["number"]) or r["pin_hash"] or kept.get(r["number"], "")
        ConferenceRoom.create(number=r["number"], name=r["name"], pin_hash=pin_hash,
                              position=i)


def _save_acd(doc: Mapping[str, Any], todo: set[str]) -> None:
    # members reference agents: both are rewritten together (cascades clear the links)
    agents = doc["agents"]
    Agent.delete().execute()
    ids: dict[str, Agent] = {}
    for i, a in enumerate(agents):
        row = Agent.create(position=i, agent_id=a["id"], name=a["name"], wrap_up=a["wrap_up"],
                           login=a["login"])
        ids[a["id"]] = row
        for skill, level in a["skills"].items():
            AgentSkill.create(agent=row, skill=skill, level=level)
    AcdQueue.delete().execute()
    for i, q in enumerate(doc["queues"]):
        fields = {k: v for k, v in q.items() if k not in ("members", "supervisors")}
        for k in ("exit_keys", "skill_steps", "skills"):
            fields[k] = json.dumps(q[k], ensure_ascii=False)
        qrow = AcdQueue.create(position=i, **fields)
        for j, m in enumerate(q["members"]):
            QueueMember.create(queue=qrow, agent=ids[m["agent"]], position=j,
                               penalty=m["penalty"], weight=m["weight"])
        for s in q["supervisors"]:
            QueueSupervisor.create(queue=qrow, extension=s)


def _save_blacklist(items: list[dict[str, Any]]) -> None:
    created = {b.number: b.created for b in Blacklist.select()}
    Blacklist.delete().execute()
    now = time.time()
    rows = [{"position": i, "number": b["number"], "treatment": b["treatment"],
             "cause": b["cause"], "prompt": b["prompt"], "flow": b["flow"], "note": b["note"],
             "expires": None if b["expires"] is None else datetime.fromisoformat(
                 b["expires"]).timestamp(),
             "created": created.get(b["number"], now)} for i, b in enumerate(items)]
    for start in range(0, len(rows), _BATCH):  # a site may block thousands of numbers
        Blacklist.insert_many(rows[start:start + _BATCH]).execute()


def _save_flows(items: list[dict[str, Any]], report: SaveReport) -> None:
    wanted = {str(f["id"]) for f in items}
    IvrFlow.update(active=False).where(IvrFlow.active & IvrFlow.flow_id.not_in(
        list(wanted))).execute()
    for i, f in enumerate(items):
        flow_id = str(f["id"])
        current = IvrFlow.get_or_none((IvrFlow.flow_id == flow_id) & IvrFlow.active)
        content = _flow_content(f)
        if current is not None and _flow_content(json.loads(current.data)) == content:
            current.position = i
            current.save()
            continue
        last = (IvrFlow.select(peewee.fn.MAX(IvrFlow.version))
                .where(IvrFlow.flow_id == flow_id).scalar())
        # the box numbers versions; a file may ask for a higher number (its own scheme)
        asked = f.get("version")
        version = max((last or 0) + 1, asked if isinstance(asked, int) else 0)
        if current is not None:
            current.active = False
            current.save()
        data = {k: v for k, v in f.items() if k != "version"}
        IvrFlow.create(flow_id=flow_id, version=version, name=str(f.get("name", "")),
                       data=json.dumps({**data, "version": version}, ensure_ascii=False),
                       active=True, position=i)
        report.new_flow_versions[flow_id] = version


def activate_flow_version(db: peewee.Database, flow_id: str, version: int) -> None:
    """Make a stored version the active one (roll back, or forward again)."""
    with db.atomic(lock_type="IMMEDIATE"):
        row = IvrFlow.get_or_none((IvrFlow.flow_id == flow_id) & (IvrFlow.version == version))
        if row is None:
            raise KeyError(f"flow {flow_id!r} has no version {version}")
        current = IvrFlow.get_or_none((IvrFlow.flow_id == flow_id) & IvrFlow.active)
        position = current.position if current is not None else 0
        IvrFlow.update(active=False).where((IvrFlow.flow_id == flow_id)
                                           & IvrFlow.active).execute()
        row.active, row.position = True, position
        row.save()


def flow_versions(flow_id: str) -> list[tuple[int, bool, float]]:
    """(version, active, created) of every stored version, newest first."""
    return [(f.version, bool(f.active), f.created) for f in
            IvrFlow.select().where(IvrFlow.flow_id == flow_id).order_by(IvrFlow.version.desc())]



def active_locks(now: float) -> list[dict[str, Any]]:
    return [{"number": lk.number, "rule": lk.rule, "since": lk.since, "until": lk.until,
             "reason": lk.reason}
            for lk in NumberLock.select().where(NumberLock.unlocked_at.is_null()
                                                & (NumberLock.until > now))
            .order_by(NumberLock.since)]


def unlock(number: str, by: str, now: float) -> bool:
    """Mark the active lock(s) of `number` (any written form) as lifted by `by`."""
    from firmware.ivr.caller import normalize_cn

    n = (NumberLock.update(unlocked_at=now, unlocked_by=by)
         .where((NumberLock.number == normalize_cn(number)) & NumberLock.unlocked_at.is_null()
                & (NumberLock.until > now)).execute())
    return bool(n)
