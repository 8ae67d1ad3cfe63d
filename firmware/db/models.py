"""The tables of the box (the live schema; `migrations.py` is how a database gets there).

Times are float epoch seconds everywhere, like the switch's events, so a CDR, a binding
and an extension compare without conversions.
"""

from __future__ import annotations

import time

import peewee


class BaseModel(peewee.Model):
    pass


class Extension(BaseModel):
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
    call_id = peewee.CharField(unique=True)
    direction = peewee.CharField(default="")
    caller = peewee.CharField(index=True)
    called = peewee.CharField(index=True)
    callee = peewee.CharField(default="")  # who actually answered; "" when nobody did
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

    class Meta:
        table_name = "cdr"


class Setting(BaseModel):
    key = peewee.CharField(primary_key=True)
    value = peewee.TextField()

    class Meta:
        table_name = "setting"


MODELS: list[type[peewee.Model]] = [Extension, Registration, Cdr, Setting]
