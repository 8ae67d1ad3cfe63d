"""The tables of the box (the live schema; `migrations.py` is how a database gets there).

Times are float epoch seconds everywhere, like the switch's events, so a CDR, a binding
and an extension compare without conversions.
"""

from __future__ import annotations

import re
import time

import peewee


class BaseModel(peewee.Model):
    pass


class Extension(BaseModel):
    id = peewee.AutoField()
    number = peewee.CharField(unique=True)
    name = peewee.CharField(default="")
    # Plain text on purpose: see docs/decisions/0003-sip-secrets.md.
    sip_password = peewee.CharField()
    enabled = peewee.BooleanField(default=True)
    created = peewee.FloatField(default=time.time)
    # Comma-separated, in the order offered: "MD5", "MD5,SHA-256", "SHA-256".
    digest_algorithms = peewee.CharField(default="MD5")

    class Meta:
        table_name = "extension"


class Registration(BaseModel):
    """A SIP binding, persisted so a restart of switchd keeps phones reachable."""

    aor = peewee.CharField()  # the extension number; the (aor, contact) index covers lookups
    contact = peewee.TextField()
    source = peewee.CharField()  # "ip:port" the REGISTER came from
    transport = peewee.CharField()  # "udp" or "tcp"
    expires_at = peewee.FloatField()
    user_agent = peewee.TextField(default="")
    call_id = peewee.TextField(default="")
    cseq = peewee.IntegerField(default=0)
    q = peewee.FloatField(default=1.0)

    class Meta:
        table_name = "registration"
        indexes = ((("aor", "contact"), True),)


class Cdr(BaseModel):
    id = peewee.AutoField()
    call_id = peewee.CharField(unique=True)
    direction = peewee.CharField(default="")
    caller = peewee.CharField(index=True)
    called = peewee.CharField(index=True)
    callee = peewee.CharField(default="", index=True)  # who answered; "" when nobody did
    start = peewee.FloatField(index=True)
    answer = peewee.FloatField(null=True)
    end = peewee.FloatField()
    # The caller's wait: from entering the box to answer, or to the end if unanswered.
    ring_seconds = peewee.FloatField()
    talk_seconds = peewee.FloatField()
    cause = peewee.IntegerField()  # Q.850
    cause_text = peewee.CharField(default="")
    released_by = peewee.CharField(default="")
    recording = peewee.TextField(null=True)  # relative to the data dir
    extra = peewee.TextField(default="{}")  # JSON object
    queue = peewee.CharField(default="")  # the queue the call went through ("" none)
    agent = peewee.CharField(default="")  # the ACD agent who took it

    class Meta:
        table_name = "cdr"
        indexes = ((("direction", "start"), False),)


class Setting(BaseModel):
    key = peewee.CharField(primary_key=True)
    value = peewee.TextField()

    class Meta:
        table_name = "setting"


ROLES = ("admin", "supervisor", "agent", "auditor", "field")
USER_NAME = re.compile(r"^[A-Za-z0-9_.@-]{2,32}$")
LANGUAGES = ("zh_CN", "en")


class User(BaseModel):
    """A web UI account (not a SIP account: those are extensions)."""

    id = peewee.AutoField()

    name = peewee.CharField(unique=True)
    password_hash = peewee.CharField()  # argon2id, see webui/passwords.py
    role = peewee.CharField()  # one of ROLES
    language = peewee.CharField(default="zh_CN")  # one of LANGUAGES
    enabled = peewee.BooleanField(default=True)
    failed_logins = peewee.IntegerField(default=0)  # consecutive, reset on success
    locked_until = peewee.FloatField(default=0.0)
    created = peewee.FloatField(default=time.time)
    agent = peewee.CharField(null=True)  # the ACD agent id this user works as (admin sets)
    extension = peewee.CharField(null=True)  # the phone they picked at the desk

    class Meta:
        table_name = "user"


class Session(BaseModel):
    token_hash = peewee.CharField(primary_key=True)
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", backref="sessions")
    csrf_token = peewee.CharField()
    created = peewee.FloatField()
    last_seen = peewee.FloatField()
    expires_at = peewee.FloatField(index=True)
    address = peewee.CharField(default="")

    class Meta:
        table_name = "session"


class OpLog(BaseModel):
    id = peewee.AutoField()
    at = peewee.FloatField(index=True, default=time.time)
    actor = peewee.CharField()
    address = peewee.CharField(default="")
    action = peewee.CharField()  # e.g. "extension.add", "recording.play"
    target = peewee.CharField(default="")
    before = peewee.TextField(null=True)  # JSON, never a secret
    after = peewee.TextField(null=True)

    class Meta:
        table_name = "oplog"


class ExtensionFeatures(BaseModel):
    """Call features of one extension (forwarding, DND, one-number, voicemail)."""

    number = peewee.CharField(primary_key=True)
    forward_always = peewee.CharField(default="")  # a number as dialled; "" = off
    forward_busy = peewee.CharField(default="")
    forward_no_answer = peewee.CharField(default="")
    no_answer_timeout = peewee.IntegerField(default=20)  # seconds before "no answer"
    dnd = peewee.BooleanField(default=False)
    mobile = peewee.CharField(default="")  # one-number: an outside number ("" = off)
    mobile_delay = peewee.IntegerField(default=10)  # desk rings alone this long
    voicemail = peewee.BooleanField(default=False)
    voicemail_pin_hash = peewee.CharField(default="")  # argon2id; "" = no PIN
    # the box may answer this phone's ringing calls (NOTIFY Event: talk, answer-after=0)
    remote_answer = peewee.BooleanField(default=False)
    updated = peewee.FloatField(default=time.time)

    class Meta:
        table_name = "extension_features"


class RingGroup(BaseModel):
    id = peewee.AutoField()
    number = peewee.CharField(unique=True)
    name = peewee.CharField(default="")
    strategy = peewee.CharField(default="simultaneous")  # or "sequential"
    # simultaneous: how long everyone rings; sequential: each member's default turn
    ring_timeout = peewee.IntegerField(default=20)
    fallback = peewee.CharField(default="")  # a number, or "vm:MAILBOX"; "" = give up
    enabled = peewee.BooleanField(default=True)
    created = peewee.FloatField(default=time.time)

    class Meta:
        table_name = "ring_group"


class RingGroupMember(BaseModel):
    id = peewee.AutoField()
    group = peewee.ForeignKeyField(RingGroup, on_delete="CASCADE", backref="members")
    position = peewee.IntegerField()
    extension = peewee.CharField()
    timeout = peewee.IntegerField(null=True)  # sequential: this member's turn

    class Meta:
        table_name = "ring_group_member"


class VoicemailMessage(BaseModel):
    id = peewee.AutoField()
    mailbox = peewee.CharField()
    folder = peewee.CharField(default="new")  # "new" or "saved"
    caller = peewee.CharField(default="")
    caller_name = peewee.CharField(default="")
    call_id = peewee.CharField(default="")
    created = peewee.FloatField()
    seconds = peewee.FloatField()
    path = peewee.TextField(unique=True)  # relative to the data dir

    class Meta:
        table_name = "voicemail_message"
        indexes = ((("mailbox", "folder"), False),)


MODELS: list[type[peewee.Model]] = [Extension, Registration, Cdr, Setting, User, Session, OpLog,
                                     ExtensionFeatures, RingGroup, RingGroupMember,
                                     VoicemailMessage]
