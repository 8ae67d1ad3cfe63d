"""Tables of the agent desktop and the API (migration 6): API tokens, the minimal
customer record the screen pop shows, and call notes."""

from __future__ import annotations

import time

import peewee

from firmware.db.models import BaseModel


class ApiToken(BaseModel):
    """A bearer token for a program or a wallboard, scoped to one role."""

    id = peewee.AutoField()
    name = peewee.CharField()
    prefix = peewee.CharField()  # the first characters, to tell tokens apart in the list
    token_hash = peewee.CharField(unique=True)  # SHA-256 of the token: never the token
    role = peewee.CharField()  # a user role, or "wallboard"
    agent = peewee.CharField(null=True)  # for role agent: the ACD agent it acts as
    extension = peewee.CharField(null=True)  # and that agent's / supervisor's phone
    created = peewee.FloatField(default=time.time)
    created_by = peewee.CharField()
    expires = peewee.FloatField(null=True)
    last_used = peewee.FloatField(null=True)
    revoked = peewee.BooleanField(default=False)

    class Meta:
        table_name = "api_token"


class Customer(BaseModel):
    id = peewee.AutoField()
    name = peewee.CharField(default="")
    address = peewee.TextField(default="")
    note = peewee.TextField(default="")
    created = peewee.FloatField(default=time.time)
    updated = peewee.FloatField(default=time.time)

    class Meta:
        table_name = "customer"


class CustomerNumber(BaseModel):
    id = peewee.AutoField()
    customer = peewee.ForeignKeyField(Customer, on_delete="CASCADE", backref="numbers")
    number = peewee.CharField(unique=True)  # as the caller ID arrives (national form)

    class Meta:
        table_name = "customer_number"


class CustomerOrder(BaseModel):
    """A customer's order or work order (维修/报修 ...): the service desk extends this."""

    id = peewee.AutoField()
    customer = peewee.ForeignKeyField(Customer, on_delete="CASCADE", backref="orders")
    created = peewee.FloatField(default=time.time)
    subject = peewee.TextField()
    status = peewee.CharField(default="open")
    call_id = peewee.CharField(null=True)
    created_by = peewee.CharField()

    class Meta:
        table_name = "customer_order"


class CallNote(BaseModel):
    id = peewee.AutoField()
    call_id = peewee.CharField(index=True)
    author = peewee.CharField()
    text = peewee.TextField()
    disposition = peewee.CharField(default="")
    customer = peewee.ForeignKeyField(Customer, null=True, on_delete="SET NULL",
                                      backref="notes")
    created = peewee.FloatField(default=time.time)

    class Meta:
        table_name = "call_note"


WEB_MODELS: list[type[peewee.Model]] = [ApiToken, Customer, CustomerNumber, CustomerOrder,
                                        CallNote]
