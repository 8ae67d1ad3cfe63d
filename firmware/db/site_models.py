"""Tables of the call-center configuration (migration 4): what an admin sets.

Read and written as a whole through `firmware.siteconfig` (which validates before it
writes, and turns rows into the engines' types); the web UI's admin pages use that
package too, never these tables directly. Lists keep the admin's order in `position`.
JSON columns hold small structured values that are always read with their row.
`number_lock` is state, not configuration: switchd writes it when a caller is locked.
"""

from __future__ import annotations

import time

import peewee

from firmware.db.models import BaseModel


class Trunk(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField(unique=True)
    kind = peewee.CharField()  # pri | fxo | sip
    port = peewee.CharField()  # the driver's name: "span1"
    description = peewee.TextField(default="")
    enabled = peewee.BooleanField(default=True)
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "trunk"


class Did(BaseModel):
    id = peewee.AutoField()
    number = peewee.CharField(unique=True)
    name = peewee.CharField(default="")
    trunk = peewee.CharField(null=True)  # a Trunk name; NULL: any trunk
    target = peewee.CharField()  # "flow:gas_hotline_96777", "queue:repair", ...
    calendar = peewee.CharField(null=True)
    holiday = peewee.CharField(null=True)  # target on a holiday of `calendar`
    priority = peewee.IntegerField(default=0)
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "did"


class DidTimeRule(BaseModel):
    id = peewee.AutoField()
    did = peewee.ForeignKeyField(Did, on_delete="CASCADE", backref="time_rules")
    position = peewee.IntegerField(default=0)
    schedule = peewee.CharField()
    target = peewee.CharField()

    class Meta:
        table_name = "did_time_rule"


class TimeSchedule(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField(unique=True)
    tz = peewee.CharField(default="Asia/Shanghai")
    week = peewee.TextField()  # JSON: {"mon-fri": ["08:00-18:00"]}
    makeup_as = peewee.CharField(default="mon")
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "time_schedule"


class HolidayCalendar(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField(unique=True)
    note = peewee.TextField(default="")
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "holiday_calendar"


class CalendarDay(BaseModel):
    """A holiday or a 调休 make-up working day (or a range of them), as typed."""

    id = peewee.AutoField()
    calendar = peewee.ForeignKeyField(HolidayCalendar, on_delete="CASCADE", backref="days")
    kind = peewee.CharField()  # holiday | workday
    date = peewee.CharField()  # "2026-02-15" or "2026-02-15/2026-02-23"
    name = peewee.CharField(default="")
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "calendar_day"


class Agent(BaseModel):
    id = peewee.AutoField()
    agent_id = peewee.CharField(unique=True)
    name = peewee.CharField(default="")
    wrap_up = peewee.FloatField(null=True)  # NULL: the queue's
    login = peewee.CharField(null=True)  # extension logged in at when switchd starts
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "agent"


class AgentSkill(BaseModel):
    id = peewee.AutoField()
    agent = peewee.ForeignKeyField(Agent, on_delete="CASCADE", backref="skills")
    skill = peewee.CharField()
    level = peewee.IntegerField()

    class Meta:
        table_name = "agent_skill"
        indexes = ((("agent", "skill"), True),)


class AcdQueue(BaseModel):
    """Every `QueueConfig` field (firmware/acd/config.py)."""

    id = peewee.AutoField()
    name = peewee.CharField(unique=True)
    position = peewee.IntegerField(default=0)
    strategy = peewee.CharField(default="ring-all")
    ring_timeout = peewee.FloatField(default=15.0)
    retry = peewee.FloatField(default=5.0)
    wrap_up = peewee.FloatField(default=0.0)
    ring_in_use = peewee.BooleanField(default=False)
    max_wait = peewee.FloatField(null=True)
    timeout_target = peewee.CharField(null=True)
    empty_target = peewee.CharField(null=True)
    moh_class = peewee.CharField(default="default")
    announce_frequency = peewee.FloatField(default=0.0)
    announce_position = peewee.BooleanField(default=True)
    announce_ewt = peewee.BooleanField(default=True)
    announce_on_join = peewee.BooleanField(default=True)
    periodic_prompt = peewee.CharField(null=True)
    periodic_frequency = peewee.FloatField(default=0.0)
    callback_key = peewee.CharField(null=True)
    exit_keys = peewee.TextField(default="{}")  # JSON: {"9": "queue:general"}
    skill_steps = peewee.TextField(default="[]")  # JSON list of {after, max_penalty, min_level}
    skills = peewee.TextField(default="{}")  # JSON: skill -> minimum level a caller needs
    default_aht = peewee.FloatField(default=180.0)
    aht_window = peewee.IntegerField(default=20)
    smart_routing = peewee.BooleanField(default=True)
    outbound_trace = peewee.BooleanField(default=True)

    class Meta:
        table_name = "acd_queue"


class QueueMember(BaseModel):
    id = peewee.AutoField()
    queue = peewee.ForeignKeyField(AcdQueue, on_delete="CASCADE", backref="members")
    agent = peewee.ForeignKeyField(Agent, on_delete="CASCADE", backref="memberships")
    position = peewee.IntegerField(default=0)
    penalty = peewee.IntegerField(default=0)
    weight = peewee.FloatField(default=1.0)

    class Meta:
        table_name = "queue_member"
        indexes = ((("queue", "agent"), True),)


class QueueSupervisor(BaseModel):
    id = peewee.AutoField()
    queue = peewee.ForeignKeyField(AcdQueue, on_delete="CASCADE", backref="supervisors")
    extension = peewee.CharField()

    class Meta:
        table_name = "queue_supervisor"
        indexes = ((("queue", "extension"), True),)


class IvrFlow(BaseModel):
    """Every saved version of every flow; one active version per flow id (a partial
    unique index in the migration). Old versions stay for calls still running them and
    for the history."""

    id = peewee.AutoField()
    flow_id = peewee.CharField(index=True)
    version = peewee.IntegerField()
    name = peewee.CharField(default="")
    data = peewee.TextField()  # the flow's JSON
    active = peewee.BooleanField(default=False)
    created = peewee.FloatField(default=time.time)
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "ivr_flow"
        indexes = ((("flow_id", "version"), True),)


class CallerList(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField(unique=True)
    note = peewee.TextField(default="")
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "caller_list"


class CallerListEntry(BaseModel):
    id = peewee.AutoField()
    list = peewee.ForeignKeyField(CallerList, on_delete="CASCADE", backref="entries")
    number = peewee.CharField()  # number or prefix ending in '*'
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "caller_list_entry"


class Blacklist(BaseModel):
    id = peewee.AutoField()
    number = peewee.CharField(unique=True)  # number or prefix ending in '*'
    treatment = peewee.CharField(default="reject")  # reject | prompt | flow
    cause = peewee.IntegerField(default=21)
    prompt = peewee.CharField(null=True)
    flow = peewee.CharField(null=True)
    note = peewee.TextField(default="")
    expires = peewee.FloatField(null=True)
    created = peewee.FloatField(default=time.time)
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "blacklist"


class AutoLockRule(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField(unique=True)
    calls = peewee.IntegerField()
    minutes = peewee.FloatField()
    days = peewee.FloatField()
    dids = peewee.TextField(default="[]")  # JSON list; empty: every DID
    exempt = peewee.CharField(null=True)  # a caller list
    treatment = peewee.CharField(default="reject")
    cause = peewee.IntegerField(default=21)
    prompt = peewee.CharField(null=True)
    flow = peewee.CharField(null=True)
    enabled = peewee.BooleanField(default=True)
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "autolock_rule"


class NumberLock(BaseModel):
    """A number locked by an auto-lock rule (or by hand). Active while `unlocked_at` is
    NULL and `until` is in the future; unlocked rows stay as the record of who did it."""

    id = peewee.AutoField()
    number = peewee.CharField(index=True)
    rule = peewee.CharField(default="")
    since = peewee.FloatField()
    until = peewee.FloatField(index=True)
    reason = peewee.TextField(default="")
    unlocked_at = peewee.FloatField(null=True)
    unlocked_by = peewee.CharField(null=True)

    class Meta:
        table_name = "number_lock"


class Prompt(BaseModel):
    """An uploaded recording: DATA/prompts/custom/<name>.wav."""

    id = peewee.AutoField()
    name = peewee.CharField(unique=True)
    text = peewee.TextField(default="")
    created = peewee.FloatField(default=time.time)
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "prompt"


class ConferenceRoom(BaseModel):
    """A conference room (6000-6099, migration 8). The PIN is an argon2id hash: callers
    type it on a keypad, as a voicemail PIN (firmware/switch/features/pin.py)."""

    id = peewee.AutoField()
    number = peewee.CharField(unique=True)
    name = peewee.CharField(default="")
    pin_hash = peewee.CharField()
    position = peewee.IntegerField(default=0)

    class Meta:
        table_name = "conference_room"


SITE_MODELS: list[type[peewee.Model]] = [
    Trunk, Did, DidTimeRule, TimeSchedule, HolidayCalendar, CalendarDay, Agent, AgentSkill,
    AcdQueue, QueueMember, QueueSupervisor, IvrFlow, CallerList, CallerListEntry, Blacklist,
    AutoLockRule, NumberLock, Prompt, ConferenceRoom,
]
