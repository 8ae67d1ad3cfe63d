"""Smart-routing memory across restarts, rebuilt from the call records.

The ACD engine remembers who served a number (智能路由) and who called a number out
(总机溯源) in memory only; its windows are days long, so a restart of switchd (an upgrade,
a power cut) must not forget them. The CDRs already hold both facts: a queue call's
`extra` names the queue and the agent who answered; a callback names the agent and the
customer it called; an outbound call made by a logged-in agent carries `agent` and
`agent_called` (set by the ACD service when the call goes out). `load_history` reads
them, oldest first, in a thread before the engine is built; the engine gets them as
CallServed / OutboundCallMade events, exactly as if it had seen the calls.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from firmware.acd import CallServed, OutboundCallMade
from firmware.acd.routing import DAY
from firmware.db.models import Cdr
from firmware.ivr.caller import normalize_cn

log = logging.getLogger(__name__)

History = list[CallServed | OutboundCallMade]


def routing_number(number: str) -> str:
    """The form numbers are remembered and looked up in (national form: a PSTN caller
    shows 13800138000 whether the agent dialled 0 13800138000 or +86 138 0013 8000)."""
    return normalize_cn(number)


def from_record(caller: str, called: str, start: float, extra: dict[str, Any]
                ) -> CallServed | OutboundCallMade | None:
    """What one call record tells the smart-routing memory, if anything."""
    agent = extra.get("agent")
    if not isinstance(agent, str) or not agent:
        return None
    dialled = extra.get("agent_called")
    if isinstance(dialled, str) and dialled:
        return OutboundCallMade(routing_number(dialled), agent, start)
    if extra.get("callback"):
        return CallServed(routing_number(called), agent, start)  # the customer called back
    if extra.get("queue"):
        return CallServed(routing_number(caller), agent, start)
    return None


def load_history(now: float, served_days: float, outbound_days: float) -> History:
    """Every remembered contact still inside its window, oldest first (blocking: run it
    in a thread). A database that cannot be read gives no history, never an error: smart
    routing is a preference, and calls must flow without it."""
    since = now - max(served_days, outbound_days) * DAY
    out: History = []
    try:
        query: Any = (Cdr.select(Cdr.caller, Cdr.called, Cdr.start, Cdr.extra)
                      .where((Cdr.start >= since) & Cdr.extra.contains('"agent"'))
                      .order_by(Cdr.start))
        rows: list[dict[str, Any]] = list(query.dicts())
        for row in rows:
            try:
                extra = json.loads(row["extra"] or "{}")
            except ValueError:
                continue
            if isinstance(extra, dict):
                event = from_record(str(row["caller"]), str(row["called"]),
                                    float(row["start"]), extra)
                if event is not None:
                    out.append(event)
    except Exception as e:  # see the docstring: no history rather than no calls
        log.error("smart routing starts without history: cannot read the call records: %s", e)
        return []
    return out
