"""The caller's record for the screen pop: the customer a number belongs to, their
recent calls, orders and notes. Numbers are matched as the caller ID arrives, and also
without a leading trunk 0 / with +86 removed, so 013800138000, +8613800138000 and
13800138000 find the same customer."""

from __future__ import annotations

import time
from typing import Any

from firmware.db.models import Cdr
from firmware.db.web_models import CallNote, Customer, CustomerNumber, CustomerOrder

RECENT = 10


def variants(number: str) -> list[str]:
    n = number.strip().replace(" ", "").replace("-", "")
    out = [n]
    if n.startswith("+86"):
        out.append(n[3:])
    if n.startswith("0086"):
        out.append(n[4:])
    if n.startswith("0") and len(n) > 8 and n[1] == "1":
        out.append(n[1:])  # a mobile number with the trunk prefix
    return list(dict.fromkeys(out))


def find(number: str) -> Customer | None:
    row = (CustomerNumber.select().where(CustomerNumber.number.in_(variants(number)))
           .first())
    return row.customer if row is not None else None


def when(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch)) if epoch else ""


def cdr_brief(c: Cdr) -> dict[str, Any]:
    return {"id": c.id, "call_id": c.call_id, "start": c.start, "when": when(c.start),
            "direction": c.direction, "caller": c.caller, "called": c.called,
            "callee": c.callee, "agent": c.agent, "queue": c.queue,
            "talk": round(c.talk_seconds), "answered": c.answer is not None}


def numbers_of(c: Customer) -> list[str]:
    return [n.number for n in CustomerNumber.select().where(CustomerNumber.customer == c)
            .order_by(CustomerNumber.id)]


def customer_dict(c: Customer) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "address": c.address, "note": c.note,
            "numbers": numbers_of(c)}


def lookup(number: str) -> dict[str, Any]:
    """What the agent sees when `number` calls (or is about to be called)."""
    customer = find(number)
    numbers = variants(number) if customer is None else numbers_of(customer)
    calls = (Cdr.select().where(Cdr.caller.in_(numbers) | Cdr.called.in_(numbers))
             .order_by(Cdr.start.desc()).limit(RECENT))
    out: dict[str, Any] = {"number": number, "customer": None, "orders": [], "notes": [],
                           "calls": [cdr_brief(c) for c in calls]}
    if customer is not None:
        out["customer"] = customer_dict(customer)
        out["orders"] = [{"id": o.id, "created": o.created, "when": when(o.created),
                          "subject": o.subject, "status": o.status}
                         for o in CustomerOrder.select().where(CustomerOrder.customer == customer)
                         .order_by(CustomerOrder.created.desc()).limit(RECENT)]
        out["notes"] = [{"call_id": n.call_id, "when": when(n.created), "author": n.author,
                         "text": n.text, "disposition": n.disposition}
                        for n in CallNote.select().where(CallNote.customer == customer)
                        .order_by(CallNote.created.desc()).limit(RECENT)]
    return out
