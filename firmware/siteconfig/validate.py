"""Validate a whole site document and build the `Site` switchd runs.

Two passes, both collecting every finding: the fields of each object (schema.py), then
the rules between objects (a member must be an agent, a DID's flow must exist, an IVR
flow may only transfer to queues that exist ...). Only a document without errors is
built; the same function serves `ccbox config import`, switchd's reload and the web UI.
"""

from __future__ import annotations

import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from firmware.acd import (
    AcdConfig,
    AgentConfig,
    ConfigError,
    Member,
    QueueConfig,
    SkillStep,
    Strategy,
    Target,
    TargetKind,
)
from firmware.db.sip_passwords import weak_password_reason
from firmware.ivr import Flow, IvrEnv
from firmware.ivr.adapters import BUILTIN_ADAPTERS, AdapterSpec
from firmware.ivr.errors import Findings as FlowFindings
from firmware.ivr.errors import FlowError
from firmware.ivr.flow import TransferKind, TransferNode
from firmware.ivr.http_lookup import HttpLookupConfig, parse_template
from firmware.ivr.parse import parse_flow
from firmware.ivr.prompts import CATALOGUE
from firmware.ivr.timerules import HolidayCalendar, WeeklySchedule, parse_calendar, parse_schedule
from firmware.ivr.validate import check_flow
from firmware.siteconfig.errors import DocPath, Findings, SiteError, SiteInvalid
from firmware.siteconfig.model import (
    AutoLockRule,
    BlacklistEntry,
    CallTarget,
    DidRoute,
    DidRule,
    ExtensionSpec,
    RoomSpec,
    Site,
    Treatment,
    TrunkSpec,
)
from firmware.siteconfig.schema import KEYS, SCHEMA_VERSION, SECTIONS, empty_document
from firmware.siteconfig.types import BAD, Obj, unique_keys
from firmware.siteconfig.yamlio import RawInt
from firmware.switch.causes import Cause
from firmware.switch.features.pin import weak_pin_reason

_CAUSES = frozenset(c.value for c in Cause)
RESERVED_LISTS = frozenset({"blacklist"})  # the blacklist is offered to flows as a list


@dataclass(frozen=True)
class Context:
    """What validation may look at outside the document."""

    custom_prompts: Path | None = None  # DATA/prompts/custom: uploads must be there
    source_dir: Path | None = None  # the imported file's directory (prompt `file`)
    adapters: Mapping[str, AdapterSpec] = field(default_factory=lambda: dict(BUILTIN_ADAPTERS))


@dataclass
class Result:
    doc: dict[str, Any] | None  # the canonical document (defaults filled in)
    site: Site | None
    errors: list[SiteError]
    warnings: list[SiteError]

    @property
    def ok(self) -> bool:
        return not self.errors and self.site is not None

    def raise_for_errors(self) -> Site:
        if not self.ok or self.site is None:
            raise SiteInvalid(self.errors, self.warnings)
        return self.site


def validate(raw: object, ctx: Context | None = None) -> Result:
    ctx = ctx or Context()
    found = Findings()
    doc = normalize(raw, found)
    site = None
    if doc is not None and not found.errors:
        site = _build(doc, ctx, found)
        if found.errors:
            site = None
    return Result(doc if not found.errors else None, site, found.errors, found.warnings)


def normalize(raw: object, found: Findings) -> dict[str, Any] | None:
    """Field checks of every section; the canonical document, or None."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        found.error((), "a site file is a mapping of sections (extensions:, queues:, ...)")
        return None
    doc = empty_document()
    for key in raw:
        if key != "schema" and key not in SECTIONS:
            import difflib

            close = difflib.get_close_matches(str(key), list(SECTIONS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            found.error((str(key),), f"unknown section{hint}")
    schema = raw.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        found.error(("schema",), f"this box reads schema {SCHEMA_VERSION}, the file has "
                    f"{schema!r}")
    for name, kind in SECTIONS.items():
        given = raw.get(name)
        if given is None:
            if not isinstance(kind, Obj):
                continue  # an absent or empty list section: no objects
            given = {}
        value = kind.check(given, (name,), found, "")
        if value is not BAD:
            doc[name] = value
    for name, key in KEYS.items():
        # on the file's own values, so a duplicate is reported with the other errors
        given = raw.get(name)
        if isinstance(given, list):
            items = [{key: _text(x.get(key))} if isinstance(x, dict) else {} for x in given]
            unique_keys(items, key, (name,), found, name.rstrip("s").replace("_", " "))
    return doc


def _text(value: object) -> object:
    return value.raw if isinstance(value, RawInt) else value


# --- cross-object checks and building ---------------------------------------------


class _Builder:
    def __init__(self, doc: dict[str, Any], ctx: Context, found: Findings) -> None:
        self.doc = doc
        self.ctx = ctx
        self.found = found
        self.extensions = {e["number"] for e in doc["extensions"]}
        self.queues = {q["name"] for q in doc["queues"]}
        self.agents = {a["id"] for a in doc["agents"]}
        self.dids = {d["number"] for d in doc["dids"]}
        self.groups = {g["number"] for g in doc["ring_groups"]}
        self.rooms = {r["number"] for r in doc["conference_rooms"]}
        self.flow_ids = {str(f.get("id")) for f in doc["ivr_flows"]}
        self.prompts = frozenset(p["name"] for p in doc["prompts"])
        self.schedules: dict[str, WeeklySchedule] = {}
        self.calendars: dict[str, HolidayCalendar] = {}

    def err(self, path: DocPath, message: str, label: str = "") -> None:
        self.found.error(path, message, label)

    # helpers
    def prompt_known(self, name: str) -> bool:
        return name in CATALOGUE or name in self.prompts

    def check_call_target(self, text: str, path: DocPath, label: str) -> None:
        t = CallTarget.parse(text)
        if t.kind == "flow" and t.value not in self.flow_ids:
            self.err(path, f"no IVR flow {t.value!r} (ivr_flows)", label)
        elif t.kind == "queue" and t.value not in self.queues:
            self.err(path, f"no queue {t.value!r}", label)
        elif t.kind == "extension" and t.value not in self.extensions:
            hint = (f" (a ring group: write 'group:{t.value}')" if t.value in self.groups
                    else f" (a conference room: write 'conference:{t.value}')"
                    if t.value in self.rooms else "")
            self.err(path, f"no extension {t.value!r}{hint}", label)
        elif t.kind == "group" and t.value not in self.groups:
            self.err(path, f"no ring group {t.value!r} (ring_groups)", label)
        elif t.kind == "conference" and t.value not in self.rooms:
            self.err(path, f"no conference room {t.value!r} (conference_rooms)", label)
        elif t.kind == "external" and not t.value.lstrip("+").isdigit():
            self.err(path, f"{t.value!r} is not a dialable outside number", label)

    def check_queue_target(self, text: str | None, path: DocPath, label: str,
                           own: str) -> None:
        if text is None:
            return
        kind, _, value = text.partition(":")
        if kind == "queue":
            if value not in self.queues:
                self.err(path, f"no queue {value!r}", label)
            elif value == own:
                self.err(path, "loops back to the same queue", label)
        elif kind in ("extension", "voicemail") and value not in self.extensions:
            self.err(path, f"no extension {value!r}", label)

    def treatment(self, item: Mapping[str, Any], path: DocPath, label: str) -> Treatment:
        kind = item["treatment"]
        if kind == "prompt":
            prompt = item["prompt"] or "number_restricted"
            if not self.prompt_known(prompt):
                self.err((*path, "prompt"), f"prompt {prompt!r} is neither stock nor uploaded",
                         label)
            return Treatment("prompt", item["cause"], prompt, None)
        if kind == "flow":
            if item["flow"] is None:
                self.err((*path, "flow"), "treatment flow needs `flow`", label)
            elif item["flow"] not in self.flow_ids:
                self.err((*path, "flow"), f"no IVR flow {item['flow']!r}", label)
            return Treatment("flow", item["cause"], None, item["flow"])
        if item["cause"] not in _CAUSES:
            self.err((*path, "cause"), f"{item['cause']} is not a Q.850 cause the switch "
                     "knows", label)
        return Treatment("reject", item["cause"])


def _build(doc: dict[str, Any], ctx: Context, found: Findings) -> Site:
    b = _Builder(doc, ctx, found)
    extensions = _extensions(b)
    _extension_features(b)
    _ring_groups(b)
    rooms = _rooms(b)
    trunks = {t["name"]: TrunkSpec(t["name"], t["kind"], t["port"], t["enabled"])
              for t in doc["trunks"]}
    _schedules_calendars(b)
    lists = _caller_lists(b)
    prompts = _prompts(b)
    acd, logins, supervisors = _acd(b)
    blacklist = _blacklist(b)
    lists["blacklist"] = tuple(e.pattern for e in blacklist)
    lookups = _lookups(b)
    env = IvrEnv(schedules=dict(b.schedules), calendars=dict(b.calendars), lists=lists,
                 adapters={**ctx.adapters, **{n: c.spec for n, c in lookups.items()}},
                 uploaded_prompts=prompts)
    flows = _flows(b, env)
    dids = _dids(b, trunks)
    autolock = _autolock(b, lists)
    treatment_flows = _treatment_flows(b, blacklist, autolock, env)
    return Site(extensions=extensions, trunks=trunks, dids=dids, acd=acd, logins=logins,
                supervisors=supervisors, flows=flows, env=env, blacklist=blacklist,
                autolock=autolock, prompts=prompts, treatment_flows=treatment_flows,
                lookups=lookups, rooms=rooms, ring_groups=frozenset(b.groups))


def _lookups(b: _Builder) -> dict[str, HttpLookupConfig]:
    """The configured HTTP lookups; their specs join the built-in adapters' for flows."""
    out: dict[str, HttpLookupConfig] = {}
    for i, x in enumerate(b.doc["lookups"]):
        if x["name"] in b.ctx.adapters:
            b.err(("lookups", i, "name"), f"{x['name']!r} is a built-in adapter",
                  f"lookup {x['name']!r}")
            continue
        placeholders, _ = parse_template(x["url"])
        params = tuple(x["params"]) or tuple(placeholders)
        out[x["name"]] = HttpLookupConfig(
            name=x["name"], url=x["url"], method=x["method"], params=params,
            outputs=dict(x["outputs"]), timeout=float(x["timeout"]),
            headers=dict(x["headers"]), bearer_token=x["bearer_token"] or None,
            description=x["description"])
    return out


def _extensions(b: _Builder) -> tuple[ExtensionSpec, ...]:
    out = []
    for i, e in enumerate(b.doc["extensions"]):
        label = f"extension {e['number']!r}"
        if e["password"] is not None:
            reason = weak_password_reason(e["number"], e["password"])
            if reason:
                b.err(("extensions", i, "password"), reason, label)
        algs = e["digest"].split(",")
        if len(set(algs)) != len(algs):
            b.err(("extensions", i, "digest"), "an algorithm is listed twice", label)
        if e["number"] in b.dids:
            b.err(("extensions", i, "number"), "is also a DID", label)
        out.append(ExtensionSpec(e["number"], e["name"], e["password"], e["enabled"],
                                 e["digest"]))
    return tuple(out)


def _internal(b: _Builder, number: str) -> str | None:
    """What `number` is on this site: "extension", "ring group", "conference room"."""
    if number in b.extensions:
        return "extension"
    if number in b.groups:
        return "ring group"
    if number in b.rooms:
        return "conference room"
    return None


def _forward_problem(b: _Builder, owner: str, target: str) -> str | None:
    """The switch's rule for a forward or fallback (features/settings.check_target)."""
    if target == owner:
        return f"cannot be {owner} itself"
    if _internal(b, target) in ("extension", "ring group"):
        return None
    if target.startswith("0") and target not in b.extensions:
        return None  # trunk prefix 0 + an outside number
    return (f"{target!r} is neither an extension, a ring group of this site nor 0 + an "
            "outside number")


def _extension_features(b: _Builder) -> None:
    for i, f in enumerate(b.doc["extension_features"]):
        number = f["extension"]
        label = f"features of {number!r}"
        path: DocPath = ("extension_features", i)
        if number not in b.extensions:
            b.err((*path, "extension"), f"no extension {number!r}", label)
        for key in ("forward_always", "forward_busy", "forward_no_answer"):
            if f[key] is None:
                continue
            problem = _forward_problem(b, number, f[key])
            if problem:
                # a user's own *72 may outlive the number it forwards to: the call then
                # rings the phone itself; a warning, so the site still loads
                b.found.warn((*path, key), problem, label)


def _ring_groups(b: _Builder) -> None:
    for i, g in enumerate(b.doc["ring_groups"]):
        number = g["number"]
        label = f"ring group {number!r}"
        path: DocPath = ("ring_groups", i)
        if number in b.extensions:
            b.err((*path, "number"), "is also an extension", label)
        if number in b.dids:
            b.err((*path, "number"), "is also a DID", label)
        seen: set[str] = set()
        for j, m in enumerate(g["members"]):
            if m["extension"] not in b.extensions:
                b.err((*path, "members", j, "extension"), f"no extension {m['extension']!r}",
                      label)
            if m["extension"] in seen:
                b.err((*path, "members", j, "extension"),
                      f"extension {m['extension']} is listed twice", label)
            seen.add(m["extension"])
        fb = g["fallback"]
        if fb is not None:
            if fb.startswith("vm:"):
                if fb[3:] not in b.extensions:
                    b.err((*path, "fallback"), f"no mailbox {fb[3:]!r} (an extension)", label)
            else:
                problem = _forward_problem(b, number, fb)
                if problem:
                    b.err((*path, "fallback"), problem, label)


def _rooms(b: _Builder) -> dict[str, RoomSpec]:
    out: dict[str, RoomSpec] = {}
    for i, r in enumerate(b.doc["conference_rooms"]):
        number = r["number"]
        label = f"conference room {number!r}"
        path: DocPath = ("conference_rooms", i)
        if number in b.extensions:
            b.err((*path, "number"), "is also an extension", label)
        if number in b.dids:
            b.err((*path, "number"), "is also a DID", label)
        if r["pin"] is not None and r["pin_hash"] is not None:
            b.err((*path, "pin"), "give either `pin` or `pin_hash`, not both", label)
        elif r["pin"] is not None:
            reason = weak_pin_reason(number, r["pin"])
            if reason:
                b.err((*path, "pin"), reason.replace("extension number", "room number"),
                      label)
        out[number] = RoomSpec(number, r["name"], r["pin_hash"] or "")
    return out


def _schedules_calendars(b: _Builder) -> None:
    scratch = FlowFindings()  # already checked field by field in schema.py
    for s in b.doc["schedules"]:
        sched = parse_schedule({"tz": s["tz"], "week": s["week"], "makeup_as": s["makeup_as"]},
                               "", scratch)
        if sched is not None:
            b.schedules[s["name"]] = sched
    for c in b.doc["calendars"]:
        cal = parse_calendar({"holidays": c["holidays"], "workdays": c["workdays"]}, "",
                             scratch)
        if cal is not None:
            b.calendars[c["name"]] = cal


def _caller_lists(b: _Builder) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for i, lst in enumerate(b.doc["caller_lists"]):
        if lst["name"] in RESERVED_LISTS:
            b.err(("caller_lists", i, "name"), f"{lst['name']!r} is reserved (flows see the "
                  "blacklist under that name)", f"caller list {lst['name']!r}")
        out[lst["name"]] = tuple(lst["numbers"])
    return out


def _prompts(b: _Builder) -> frozenset[str]:
    for i, p in enumerate(b.doc["prompts"]):
        label = f"prompt {p['name']!r}"
        path: DocPath = ("prompts", i)
        src: Path | None = None
        if p["file"] is not None:
            if b.ctx.source_dir is None:
                b.err((*path, "file"), "`file` is only read by `ccbox config import`", label)
                continue
            src = (b.ctx.source_dir / p["file"]).resolve()
        elif b.ctx.custom_prompts is not None:
            src = b.ctx.custom_prompts / f"{p['name']}.wav"
            if not src.is_file():
                b.err(path, f"no recording {src} (upload it, or give `file` next to the "
                      "site file)", label)
                continue
        if src is not None:
            problem = wav_problem(src)
            if problem:
                b.err((*path, "file") if p["file"] else path, problem, label)
    return b.prompts


def wav_problem(path: Path) -> str | None:
    """Why `path` cannot be played as a prompt, or None."""
    try:
        with wave.open(str(path), "rb") as w:
            fmt = (w.getframerate(), w.getnchannels(), w.getsampwidth())
    except FileNotFoundError:
        return f"{path}: no such file"
    except (OSError, wave.Error, EOFError) as e:
        return f"{path}: not a WAV file ({e})"
    if fmt != (8000, 1, 2):
        return (f"{path}: must be 8000 Hz mono 16-bit, is {fmt[0]} Hz {fmt[1]} ch "
                f"{8 * fmt[2]}-bit (convert: sox IN.wav -r 8000 -c 1 -b 16 OUT.wav)")
    return None


def _queue_target(text: str | None) -> Target | None:
    if text is None:
        return None
    kind, _, value = text.partition(":")
    return Target(TargetKind(kind), value)


def _acd(b: _Builder) -> tuple[AcdConfig, dict[str, str], dict[str, frozenset[str]]]:
    logins: dict[str, str] = {}
    device_of: dict[str, str] = {}
    agents = []
    for i, a in enumerate(b.doc["agents"]):
        label = f"agent {a['id']!r}"
        if a["login"] is not None:
            if a["login"] not in b.extensions:
                b.err(("agents", i, "login"), f"no extension {a['login']!r}", label)
            elif a["login"] in device_of:
                b.err(("agents", i, "login"), f"extension {a['login']} is also the login of "
                      f"agent {device_of[a['login']]!r}", label)
            else:
                device_of[a["login"]] = a["id"]
                logins[a["id"]] = a["login"]
        agents.append(AgentConfig(a["id"], a["name"], dict(a["skills"]), a["wrap_up"]))
    queues = []
    supervisors: dict[str, frozenset[str]] = {}
    for i, q in enumerate(b.doc["queues"]):
        label = f"queue {q['name']!r}"
        path: DocPath = ("queues", i)
        if q["name"] == "NONE":
            b.err((*path, "name"), "NONE is the queue log's word for 'all queues'", label)
        seen: set[str] = set()
        for j, m in enumerate(q["members"]):
            if m["agent"] not in b.agents:
                b.err((*path, "members", j, "agent"), f"no agent {m['agent']!r} (agents)", label)
            if m["agent"] in seen:
                b.err((*path, "members", j, "agent"), f"agent {m['agent']!r} is listed twice",
                      label)
            seen.add(m["agent"])
        for j, s in enumerate(q["supervisors"]):
            if s not in b.extensions:
                b.err((*path, "supervisors", j), f"no extension {s!r}", label)
        for key in ("timeout_target", "empty_target"):
            b.check_queue_target(q[key], (*path, key), label, q["name"])
        for key, target in q["exit_keys"].items():
            b.check_queue_target(target, (*path, "exit_keys", key), label, q["name"])
        if q["max_wait"] is not None and q["timeout_target"] is None:
            b.err((*path, "timeout_target"), "required with max_wait", label)
        if q["callback_key"] is not None and q["callback_key"] in q["exit_keys"]:
            b.err((*path, "callback_key"), "is also an exit key", label)
        if q["periodic_prompt"] is not None:
            if q["periodic_frequency"] <= 0:
                b.err((*path, "periodic_frequency"), "must be more than 0 with "
                      "periodic_prompt", label)
            if not b.prompt_known(q["periodic_prompt"]):
                b.err((*path, "periodic_prompt"), f"prompt {q['periodic_prompt']!r} is "
                      "neither stock nor uploaded", label)
        steps = q["skill_steps"]
        if not steps or steps[0]["after"] != 0:
            b.err((*path, "skill_steps"), "must start with a step at after: 0", label)
        for j in range(1, len(steps)):
            if steps[j]["after"] <= steps[j - 1]["after"]:
                b.err((*path, "skill_steps", j, "after"), "must be later than the step "
                      "before", label)
        supervisors[q["name"]] = frozenset(q["supervisors"])
        queues.append(QueueConfig(
            q["name"], Strategy(q["strategy"]),
            tuple(Member(m["agent"], m["penalty"], float(m["weight"])) for m in q["members"]),
            ring_timeout=float(q["ring_timeout"]), retry=float(q["retry"]),
            wrap_up=float(q["wrap_up"]), ring_in_use=q["ring_in_use"],
            max_wait=None if q["max_wait"] is None else float(q["max_wait"]),
            timeout_target=_queue_target(q["timeout_target"]),
            empty_target=_queue_target(q["empty_target"]), moh_class=q["moh_class"],
            announce_frequency=float(q["announce_frequency"]),
            announce_position=q["announce_position"], announce_ewt=q["announce_ewt"],
            announce_on_join=q["announce_on_join"], periodic_prompt=q["periodic_prompt"],
            periodic_frequency=float(q["periodic_frequency"]), callback_key=q["callback_key"],
            exit_keys={k: t for k, v in q["exit_keys"].items()
                       if (t := _queue_target(v)) is not None},
            skill_steps=tuple(SkillStep(float(s["after"]), s["max_penalty"], s["min_level"])
                              for s in steps) or (SkillStep(0.0),),
            default_aht=float(q["default_aht"]), aht_window=q["aht_window"],
            smart_routing=q["smart_routing"], outbound_trace=q["outbound_trace"],
            skills=dict(q["skills"])))
    s = b.doc["acd"]
    config = AcdConfig()
    if not b.found.errors:
        try:
            config = AcdConfig(tuple(queues), tuple(agents),
                               not_ready_reasons=tuple(s["not_ready_reasons"]),
                               max_missed_offers=s["max_missed_offers"],
                               ready_on_login=s["ready_on_login"],
                               served_memory_days=float(s["served_memory_days"]),
                               outbound_memory_days=float(s["outbound_memory_days"]))
        except ConfigError as e:  # a rule only the engine knows: still say where
            b.err(("queues",), str(e))
    return config, logins, supervisors


def _blacklist(b: _Builder) -> tuple[BlacklistEntry, ...]:
    out = []
    for i, e in enumerate(b.doc["blacklist"]):
        label = f"blacklist entry {e['number']!r}"
        t = b.treatment(e, ("blacklist", i), label)
        expires = None if e["expires"] is None else datetime.fromisoformat(
            e["expires"]).timestamp()
        out.append(BlacklistEntry(e["number"], t, e["note"], expires))
    return tuple(out)


def _autolock(b: _Builder, lists: Mapping[str, tuple[str, ...]]) -> tuple[AutoLockRule, ...]:
    out = []
    for i, r in enumerate(b.doc["autolock"]):
        label = f"auto-lock rule {r['name']!r}"
        path: DocPath = ("autolock", i)
        for j, did in enumerate(r["dids"]):
            if did not in b.dids:
                b.err((*path, "dids", j), f"no DID {did!r}", label)
        exempt: tuple[str, ...] = ()
        if r["exempt"] is not None:
            if r["exempt"] not in lists:
                b.err((*path, "exempt"), f"no caller list {r['exempt']!r}", label)
            else:
                exempt = lists[r["exempt"]]
        t = b.treatment(r, path, label)
        out.append(AutoLockRule(r["name"], r["calls"], float(r["minutes"]) * 60,
                                float(r["days"]) * 86400, t, frozenset(r["dids"]), exempt,
                                r["enabled"]))
    return tuple(out)


def _dids(b: _Builder, trunks: Mapping[str, TrunkSpec]) -> dict[str, DidRoute]:
    out: dict[str, DidRoute] = {}
    for i, d in enumerate(b.doc["dids"]):
        label = f"DID {d['number']!r}"
        path: DocPath = ("dids", i)
        if d["trunk"] is not None and d["trunk"] not in trunks:
            b.err((*path, "trunk"), f"no trunk {d['trunk']!r}", label)
        b.check_call_target(d["target"], (*path, "target"), label)
        rules = []
        for j, r in enumerate(d["time_rules"]):
            b.check_call_target(r["target"], (*path, "time_rules", j, "target"), label)
            sched = b.schedules.get(r["schedule"])
            if sched is None:
                b.err((*path, "time_rules", j, "schedule"), f"no schedule {r['schedule']!r}",
                      label)
                continue
            rules.append(DidRule(r["schedule"], sched,
                                 CallTarget.parse(r["target"], d["priority"])))
        calendar = None
        if d["calendar"] is not None:
            calendar = b.calendars.get(d["calendar"])
            if calendar is None:
                b.err((*path, "calendar"), f"no holiday calendar {d['calendar']!r}", label)
        holiday = None
        if d["holiday"] is not None:
            b.check_call_target(d["holiday"], (*path, "holiday"), label)
            holiday = CallTarget.parse(d["holiday"], d["priority"])
            if d["calendar"] is None:
                b.err((*path, "holiday"), "needs a `calendar`", label)
        out[d["number"]] = DidRoute(d["number"], d["name"],
                                    CallTarget.parse(d["target"], d["priority"]),
                                    trunks.get(d["trunk"]) if d["trunk"] else None,
                                    tuple(rules), calendar, holiday)
    return out


def _flow_path(index: int, e: FlowError) -> DocPath:
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in e.field.split(".") if p]
    if e.node is None:
        return ("ivr_flows", index, *parts)
    if parts == ["node"]:
        parts = []
    return ("ivr_flows", index, "nodes", e.node, *parts)


def _flows(b: _Builder, env: IvrEnv) -> dict[str, Flow]:
    out: dict[str, Flow] = {}
    for i, raw in enumerate(b.doc["ivr_flows"]):
        data = {"schema": 1, "version": 1, **raw}
        label = f"IVR flow {str(raw.get('id'))!r}"
        ff = FlowFindings()
        flow, broken = parse_flow(data, ff)
        if flow is not None:
            check_flow(flow, env, ff, broken=broken)
            _flow_targets(b, flow, i, label)
        for e in ff.errors:
            b.err(_flow_path(i, e), e.message, _node_label(label, e))
        for e in ff.warnings:
            b.found.warn(_flow_path(i, e), e.message, _node_label(label, e))
        if flow is not None and not ff.errors:
            out[flow.id] = flow
    return out


def _node_label(label: str, e: FlowError) -> str:
    return f"{label} node {e.node!r}" if e.node else label


def _flow_targets(b: _Builder, flow: Flow, index: int, label: str) -> None:
    """Transfers must name queues and extensions of this site (templates are checked
    when they run)."""
    for nid, node in flow.nodes.items():
        if not isinstance(node, TransferNode) or "${" in node.target:
            continue
        path: DocPath = ("ivr_flows", index, "nodes", nid, "target")
        where = f"{label} node {nid!r}"
        if node.to is TransferKind.QUEUE and node.target not in b.queues:
            b.err(path, f"no queue {node.target!r}", where)
        elif node.to is TransferKind.EXTENSION and _internal(b, node.target) is None:
            # an internal number: an extension, a ring group or a conference room
            b.err(path, f"no extension, ring group or conference room {node.target!r}",
                  where)


def treatment_flow_id(prompt: str) -> str:
    return "_treatment-" + prompt.replace("/", "-")


def _treatment_flows(b: _Builder, blacklist: Sequence[BlacklistEntry],
                     autolock: Sequence[AutoLockRule], env: IvrEnv) -> dict[str, Flow]:
    """Answer, play the prompt, hang up: treatment `prompt` runs as a tiny flow, so it
    plays through the same IVR session as any announcement."""
    out: dict[str, Flow] = {}
    prompts = {t.prompt for t in [*(e.treatment for e in blacklist),
                                  *(r.treatment for r in autolock)]
               if t.kind == "prompt" and t.prompt}
    for prompt in sorted(prompts):
        if not b.prompt_known(prompt):
            continue  # reported by the treatment check
        data = {"schema": 1, "id": treatment_flow_id(prompt), "version": 1, "entry": "play",
                "nodes": {"play": {"kind": "play", "prompts": [prompt], "next": "end"},
                          "end": {"kind": "hangup", "cause": 16}}}
        ff = FlowFindings()
        flow, _ = parse_flow(data, ff)
        if flow is not None and not ff.errors:
            out[prompt] = flow
    return out
