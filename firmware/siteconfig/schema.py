"""The site document: every section an admin can set, field by field, with defaults.

This is the one description of the configuration. `ccbox config import` checks a file
against it, the database is read back into it, `ccbox config export` prints it (fields
at their default left out), and the web UI validates its forms with it. Cross-object
rules (a member must be an agent, a DID's flow must exist, ...) are in validate.py.

docs/en/site-config.md documents every field; a unit test keeps the two in step.
"""

from __future__ import annotations

from typing import Any

from firmware.acd import Strategy
from firmware.ivr.errors import Findings as FlowFindings
from firmware.ivr.prompts import PROMPT_NAME_RE
from firmware.ivr.timerules import DAY_NAMES, parse_calendar, parse_schedule
from firmware.siteconfig.errors import DocPath, Findings
from firmware.siteconfig.types import (
    NAME,
    AnyMapping,
    Bool,
    DateTime,
    Enum,
    Field,
    FieldType,
    Float,
    Int,
    ListOf,
    MapOf,
    Nullable,
    Number,
    Obj,
    Str,
    Target,
)

SCHEMA_VERSION = 1
DEFAULT_TZ = "Asia/Shanghai"
DTMF = Str(r"[0-9*#ABCD]", "one DTMF key: 0-9, *, #, A-D")
EXTENSION_NUMBER = Str(r"[0-9]{2,15}", "2 to 15 digits")
AGENT_ID = Str(r"[A-Za-z0-9_.-]{1,32}", "letters, digits, '_', '-', '.', up to 32")
PROMPT_NAME = Str(PROMPT_NAME_RE.pattern, "letters, digits, '_', '-', '/' between parts")

# Where a call to a DID (or a treated caller) goes.
DID_TARGET = Target({"flow": True, "queue": True, "extension": True, "group": True,
                     "conference": True, "external": True, "hangup": False})
# Phone features (decision 0019): numbers as the switch's own feature rules take them.
SECONDS_5_300 = Int(5, 300)
GROUP_NUMBER = Str(r"50[0-9]{2}", "5000-5099")
ROOM_NUMBER = Str(r"60[0-9]{2}", "6000-6099")
FORWARD_NUMBER = Str(r"[0-9]{2,21}", "an extension, a ring group, or 0 + an outside number")
OUTSIDE_NUMBER = Str(r"0[0-9]{2,20}", "0 + an outside number (dialled out through the trunk)")
FALLBACK = Str(r"(vm:)?[0-9]{2,21}", "an extension, a ring group, 0 + an outside number, "
               "or vm:MAILBOX")
PIN = Str(r"[0-9]{4,12}", "4 to 12 digits")
PIN_HASH = Str(r"\$argon2id\$\S+", "an argon2id hash, as `config export --with-secrets` "
               "writes it", max_len=400)
# Where a caller leaving a queue goes (the ACD's Target kinds).
QUEUE_TARGET = Target({"queue": True, "voicemail": True, "callback": False,
                       "extension": True, "hangup": False})

EXTENSION = Obj("extension", (
    Field("number", EXTENSION_NUMBER, doc="what phones dial; the SIP user name"),
    Field("name", Str(allow_empty=True), "", "display name"),
    Field("password", Nullable(Str(max_len=128)), None,
          "SIP digest password; exported only with --with-secrets; on import, left out: "
          "an existing extension keeps its password, a new one gets a generated one",
          secret=True),
    Field("enabled", Bool(), True, "a disabled extension can neither register nor be called"),
    Field("digest", Str(r"(MD5|SHA-256)(,(MD5|SHA-256))?", "MD5, SHA-256 or MD5,SHA-256"),
          "MD5", "digest algorithms offered to the phone, in order"),
), key="number")

FEATURES = Obj("extension features", (
    Field("extension", EXTENSION_NUMBER, doc="an extension of `extensions`"),
    Field("forward_always", Nullable(FORWARD_NUMBER), None,
          "forward every call (*72); an extension, ring group or 0 + outside number"),
    Field("forward_busy", Nullable(FORWARD_NUMBER), None, "forward when busy (*90)"),
    Field("forward_no_answer", Nullable(FORWARD_NUMBER), None,
          "forward after no_answer_timeout (*92)"),
    Field("no_answer_timeout", SECONDS_5_300, 20, "seconds of ringing before 'no answer'"),
    Field("dnd", Bool(), False, "do not disturb (*78): callers get busy"),
    Field("mobile", Nullable(OUTSIDE_NUMBER), None,
          "one-number: after mobile_delay this outside number rings too"),
    # 0 (mobile at once) is what `ccbox ext set --mobile-delay` allows
    Field("mobile_delay", Int(0, 300), 10, "seconds the desk phone rings alone"),
    Field("voicemail", Bool(), False, "unanswered calls leave a message (the PIN is not "
          "in the site file: `ccbox ext set --pin`, or the web UI)"),
    Field("remote_answer", Bool(), False, "the agent desk may answer this phone and "
          "click-to-dial picks it up (only phones that accept NOTIFY Event: talk)"),
), key="extension", shorthand="extension")

GROUP_MEMBER = Obj("group member", (
    Field("extension", EXTENSION_NUMBER),
    Field("timeout", Nullable(SECONDS_5_300), None,
          "sequential: this member's turn (default: the group's ring_timeout)"),
), key="extension", shorthand="extension")

RING_GROUP = Obj("ring group", (
    Field("number", GROUP_NUMBER, doc="what phones and DIDs dial (`group:NUMBER`)"),
    Field("name", Str(allow_empty=True), "", "display name"),
    Field("strategy", Enum(("simultaneous", "sequential")), "simultaneous",
          "ring every member at once, or one after the other in order"),
    Field("ring_timeout", SECONDS_5_300, 20,
          "simultaneous: how long all ring; sequential: each member's default turn"),
    Field("members", ListOf(GROUP_MEMBER), [], "extensions, in order"),
    Field("fallback", Nullable(FALLBACK), None,
          "when nobody answered: a number, or vm:MAILBOX (default: the call ends)"),
    Field("enabled", Bool(), True, "a disabled group is not dialable"),
), key="number")

CONFERENCE_ROOM = Obj("conference room", (
    Field("number", ROOM_NUMBER, doc="what phones dial; DIDs send callers with "
          "`conference:NUMBER`"),
    Field("name", Str(allow_empty=True), "", "display name"),
    Field("pin", Nullable(PIN), None,
          "import only: the PIN callers type (stored as a hash, never exported); left "
          "out, an existing room keeps its PIN and a new one gets a generated PIN",
          secret=True),
    Field("pin_hash", Nullable(PIN_HASH), None,
          "the stored PIN hash; exported only with --with-secrets, so a box can be "
          "rebuilt from its export", secret=True),
), key="number")

TRUNK = Obj("trunk", (
    Field("name", NAME, doc="the admin's name for the line ('e1', 'fxo1')"),
    Field("kind", Enum(("pri", "fxo", "sip")), doc="signalling of the line"),
    Field("port", Str(r"[A-Za-z0-9_.-]{1,32}", "the driver's name, e.g. span1"),
          doc="the driver's name for the span or port (a PRI span is 'span1')"),
    Field("description", Str(allow_empty=True), "", "free text"),
    Field("enabled", Bool(), True, "a disabled trunk's DIDs do not answer"),
), key="name")

DID_RULE = Obj("time rule", (
    Field("schedule", NAME, doc="a schedule of the `schedules` section"),
    Field("target", DID_TARGET, doc="where the call goes while the schedule is open"),
))

DID = Obj("DID", (
    Field("number", Number(max_len=20), doc="the called number as the trunk delivers it"),
    Field("name", Str(allow_empty=True), "", "free text"),
    Field("trunk", Nullable(NAME), None, "only calls arriving on this trunk (default: any)"),
    Field("target", DID_TARGET, doc="where the call goes when no time rule is open"),
    Field("time_rules", ListOf(DID_RULE), [],
          "分时段: the first rule whose schedule is open decides"),
    Field("calendar", Nullable(NAME), None, "holiday calendar for the time rules"),
    Field("holiday", Nullable(DID_TARGET), None,
          "where calls go on a holiday of `calendar` (default: as when closed)"),
    Field("priority", Int(0, 100), 0, "queue priority when the target is a queue"),
), key="number")

MEMBER = Obj("member", (
    Field("agent", AGENT_ID),
    Field("penalty", Int(0, 100), 0, "lower is offered first"),
    Field("weight", Float(positive=True), 1, "weighted-random share"),
), key="agent", shorthand="agent")

SKILL_STEP = Obj("skill step", (
    Field("after", Float(min=0), doc="seconds of waiting"),
    Field("max_penalty", Nullable(Int(0, 100)), None),
    Field("min_level", Nullable(Int(1, 10)), None),
))

QUEUE = Obj("queue", (
    Field("name", NAME, doc="what flows and DIDs call it (`queue:NAME`)"),
    Field("strategy", Enum(tuple(s.value for s in Strategy)), "ring-all",
          "how callers are offered to agents (decision 0009)"),
    Field("members", ListOf(MEMBER), [], "agents, in order (linear, ties)"),
    Field("supervisors", ListOf(EXTENSION_NUMBER, unique=True), [],
          "extensions allowed to listen/whisper/barge on this queue's agents"),
    Field("skills", MapOf(NAME, Int(1, 10)), {},
          "skills (minimum level) a caller of this queue needs (strategy skills)"),
    Field("ring_timeout", Float(positive=True, max=600), 15, "seconds per offer"),
    Field("retry", Float(min=0, max=600), 5,
          "pause before a new round once every agent was tried"),
    Field("wrap_up", Float(min=0, max=3600), 0, "seconds after each call"),
    Field("ring_in_use", Bool(), False, "offer agents whose phone is busy"),
    Field("max_wait", Nullable(Float(positive=True, max=86400)), None,
          "seconds; then the caller goes to timeout_target"),
    Field("timeout_target", Nullable(QUEUE_TARGET), None, "where a caller goes after max_wait"),
    Field("empty_target", Nullable(QUEUE_TARGET), None,
          "when no member is logged in (default: callers wait)"),
    Field("moh_class", NAME, "default", "music on hold (custom/moh.wav replaces the stock one)"),
    Field("announce_frequency", Float(min=0, max=3600), 0,
          "seconds between position/wait announcements; 0: none"),
    Field("announce_position", Bool(), True, "say the caller's position"),
    Field("announce_ewt", Bool(), True, "say the estimated wait"),
    Field("announce_on_join", Bool(), True, "first announcement at once on joining"),
    Field("periodic_prompt", Nullable(PROMPT_NAME), None, "played every periodic_frequency s"),
    Field("periodic_frequency", Float(min=0, max=3600), 0, "seconds"),
    Field("callback_key", Nullable(DTMF), None, "key that leaves a callback request"),
    Field("exit_keys", MapOf(DTMF, QUEUE_TARGET), {}, "key -> target"),
    Field("skill_steps", ListOf(SKILL_STEP),
          [{"after": 0, "max_penalty": None, "min_level": None}],
          "pool widening for strategy skills"),
    Field("default_aht", Float(positive=True, max=86400), 180,
          "seconds, for the wait estimate until calls were handled"),
    Field("aht_window", Int(1, 10000), 20, "handled calls in the rolling handle time"),
    Field("smart_routing", Bool(), True, "智能路由: returning caller -> last agent"),
    Field("outbound_trace", Bool(), True, "总机溯源: call-back -> the agent who called"),
), key="name")

AGENT = Obj("agent", (
    Field("id", AGENT_ID, doc="what queues list as members (often the extension)"),
    Field("name", Str(allow_empty=True), "", "display name"),
    Field("wrap_up", Nullable(Float(min=0, max=3600)), None, "overrides the queue's"),
    Field("skills", MapOf(NAME, Int(1, 10)), {}, "skill -> level 1..10"),
    Field("login", Nullable(EXTENSION_NUMBER), None,
          "extension the agent is logged in at when switchd starts"),
), key="id")

ACD_SETTINGS = Obj("ACD settings", (
    Field("not_ready_reasons", ListOf(Str(max_len=40), unique=True),
          ["break", "lunch", "meeting", "training"], "reason codes agents may give"),
    Field("max_missed_offers", Int(0, 100), 3, "consecutive misses -> not ready; 0: off"),
    Field("ready_on_login", Bool(), True, "ready at once after login (else not ready)"),
    Field("served_memory_days", Float(min=0, max=3650), 7, "智能路由 memory"),
    Field("outbound_memory_days", Float(min=0, max=3650), 3, "总机溯源 memory"),
))


def _check_schedule(value: dict[str, Any], path: DocPath, found: Findings, label: str) -> None:
    flow_found = FlowFindings()
    raw = {"tz": value["tz"], "week": value["week"], "makeup_as": value["makeup_as"]}
    parse_schedule(raw, "", flow_found)
    _relay(flow_found, path, found, label)


def _check_calendar(value: dict[str, Any], path: DocPath, found: Findings, label: str) -> None:
    flow_found = FlowFindings()
    raw = {"holidays": value["holidays"], "workdays": value["workdays"]}
    parse_calendar(raw, "", flow_found)
    _relay(flow_found, path, found, label)


def _relay(flow_found: FlowFindings, path: DocPath, found: Findings, label: str) -> None:
    """Time-rule findings use dotted fields ('.week.mon.0'): turn them into paths."""
    for e in flow_found.errors:
        parts: list[str | int] = [int(p) if p.isdigit() else p
                                  for p in e.field.split(".") if p]
        found.error((*path, *parts), e.message, label)


SCHEDULE = Obj("schedule", (
    Field("name", NAME, doc="what DIDs and flows call it"),
    Field("tz", Str(), DEFAULT_TZ, "zoneinfo time zone"),
    Field("week", MapOf(Str(), ListOf(Str())), doc="day or span ('mon-fri') -> "
          "['HH:MM-HH:MM', ...]; end exclusive; overnight ranges belong to their start day"),
    Field("makeup_as", Enum(DAY_NAMES), "mon", "调休 make-up days use this weekday's hours"),
), key="name", extra=_check_schedule)

CALENDAR_DAY = Obj("calendar day", (
    Field("date", Str(), doc="'YYYY-MM-DD' or 'YYYY-MM-DD/YYYY-MM-DD' (inclusive)"),
    Field("name", Str(allow_empty=True), "", "春节, 国庆节 ..."),
), key="date", shorthand="date")

CALENDAR = Obj("holiday calendar", (
    Field("name", NAME, doc="what DIDs and flows call it"),
    Field("note", Str(allow_empty=True), "", "free text"),
    Field("holidays", ListOf(CALENDAR_DAY), [], "days closed whatever the weekday"),
    Field("workdays", ListOf(CALENDAR_DAY), [], "调休 make-up working days"),
), key="name", extra=_check_calendar)

CALLER_LIST = Obj("caller list", (
    Field("name", NAME, doc="what flows' caller nodes call it (`list: NAME`)"),
    Field("note", Str(allow_empty=True), "", "free text"),
    Field("numbers", ListOf(Number(prefix=True), unique=True), [],
          "numbers, or prefixes ending in '*'"),
), key="name")

_TREATMENT = (
    Field("treatment", Enum(("reject", "prompt", "flow")), "reject",
          "reject: release with `cause`; prompt: answer, play `prompt`, hang up; "
          "flow: run IVR flow `flow`"),
    Field("cause", Int(1, 127), 21, "Q.850 cause for reject (21 call rejected)"),
    Field("prompt", Nullable(PROMPT_NAME), None, "for treatment prompt"),
    Field("flow", Nullable(NAME), None, "for treatment flow"),
)

BLACKLIST = Obj("blacklist entry", (
    Field("number", Number(prefix=True), doc="a number, or a prefix ending in '*'"),
    *_TREATMENT,
    Field("note", Str(allow_empty=True, max_len=500), "", "why (shown in lists)"),
    Field("expires", Nullable(DateTime()), None, "no longer applies from then"),
), key="number")

AUTOLOCK = Obj("auto-lock rule", (
    Field("name", NAME, doc="shown with the locks it sets"),
    Field("calls", Int(2, 10000), doc="this many calls ..."),
    Field("minutes", Float(positive=True, max=10080), doc="... within this many minutes"),
    Field("days", Float(positive=True, max=3650), doc="... lock the number this long"),
    Field("dids", ListOf(Number(max_len=20), unique=True), [],
          "count calls to these DIDs only (default: every DID)"),
    Field("exempt", Nullable(NAME), None, "caller list never locked (VIPs, 110/119 ...)"),
    *_TREATMENT,
    Field("enabled", Bool(), True, "a disabled rule counts nothing"),
), key="name")

PROMPT = Obj("prompt", (
    Field("name", PROMPT_NAME, doc="file DATA/prompts/custom/NAME.wav"),
    Field("text", Str(allow_empty=True, max_len=1000), "", "what the recording says"),
    Field("file", Nullable(Str(max_len=500)), None,
          "import only: a WAV next to the site file, copied to DATA/prompts/custom"),
), key="name")

FLOW = AnyMapping()


def _check_lookup(value: dict[str, Any], path: DocPath, found: Findings, label: str) -> None:
    from firmware.ivr.http_lookup import parse_template, url_problem

    problem = url_problem(value["url"])
    if problem:
        found.error((*path, "url"), problem, label)
        return
    placeholders, _ = parse_template(value["url"])
    if value["params"]:
        for name in placeholders:
            if name not in value["params"]:
                found.error((*path, "url"), f"unknown placeholder {{{name}}} (params: "
                            f"{', '.join(value['params'])})", label)
    for header in value["headers"]:
        if header.lower() == "authorization":
            found.error((*path, "headers", header), "put the token in `bearer_token` (a "
                        "secret: masked in exports, never logged)", label)
    for var, dotted in value["outputs"].items():
        if any(not p for p in dotted.split(".")):
            found.error((*path, "outputs", var), f"{dotted!r} is not a dotted path "
                        "(e.g. due.date)", label)
    if not value["outputs"]:
        found.error((*path, "outputs"), "name at least one variable the lookup sets", label)


HEADER_NAME = Str(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}", "an HTTP header name")
LOOKUP = Obj("lookup", (
    Field("name", NAME, doc="what a flow's lookup node calls it (`adapter: NAME`)"),
    Field("type", Enum(("http",)), "http", "http: a JSON answer over HTTP(S)"),
    Field("url", Str(max_len=2000), doc="URL template; `{param}` placeholders take the "
          "flow's params, URL-encoded"),
    Field("method", Enum(("GET", "POST")), "GET",
          "GET: params not in the URL go in the query; POST: they are a JSON body"),
    Field("params", ListOf(NAME, unique=True), [],
          "parameters a flow must give (default: the URL's placeholders)"),
    Field("outputs", MapOf(NAME, Str(r"[^\s]+", "a dotted path such as due.date")),
          doc="flow variable -> dotted path in the JSON answer"),
    Field("timeout", Float(positive=True, max=30), 5, "seconds for the HTTP request"),
    Field("headers", MapOf(HEADER_NAME, Str(allow_empty=True, max_len=1000)), {},
          "extra request headers (not for secrets: use bearer_token)"),
    Field("bearer_token", Nullable(Str(allow_empty=True, max_len=1000)), None,
          "sent as `Authorization: Bearer ...`; a secret: exported only with "
          "--with-secrets, never logged; on import, left out: the stored one is kept",
          secret=True),
    Field("description", Str(allow_empty=True), "", "free text"),
), key="name", extra=_check_lookup)

# Section name -> type, in document (and export) order.
SECTIONS: dict[str, FieldType] = {
    "extensions": ListOf(EXTENSION),
    "extension_features": ListOf(FEATURES),
    "ring_groups": ListOf(RING_GROUP),
    "conference_rooms": ListOf(CONFERENCE_ROOM),
    "trunks": ListOf(TRUNK),
    "dids": ListOf(DID),
    "queues": ListOf(QUEUE),
    "agents": ListOf(AGENT),
    "acd": ACD_SETTINGS,
    "schedules": ListOf(SCHEDULE),
    "calendars": ListOf(CALENDAR),
    "caller_lists": ListOf(CALLER_LIST),
    "blacklist": ListOf(BLACKLIST),
    "autolock": ListOf(AUTOLOCK),
    "prompts": ListOf(PROMPT),
    "ivr_flows": ListOf(FLOW),
    "lookups": ListOf(LOOKUP),
}
# The field naming each object of a list section (labels, duplicates).
KEYS = {"extensions": "number", "extension_features": "extension", "ring_groups": "number",
        "conference_rooms": "number", "trunks": "name", "dids": "number", "queues": "name",
        "agents": "id", "schedules": "name", "calendars": "name", "caller_lists": "name",
        "blacklist": "number", "autolock": "name", "prompts": "name", "ivr_flows": "id",
        "lookups": "name"}


def empty_document() -> dict[str, Any]:
    doc: dict[str, Any] = {"schema": SCHEMA_VERSION}
    for name, kind in SECTIONS.items():
        doc[name] = {} if isinstance(kind, Obj) else []
    return doc
