"""Smart-routing memory rebuilt from CDRs (firmware/switch/acd_history.py), on a real
SQLite file, and fed to a real engine: the returning caller reaches the same agent."""

from __future__ import annotations

import json
from pathlib import Path

from firmware.acd import (
    AcdConfig,
    AcdEngine,
    AgentConfig,
    CallServed,
    Member,
    Offer,
    OutboundCallMade,
    QueueConfig,
    Strategy,
)
from firmware.db.connection import open_db
from firmware.db.models import Cdr
from firmware.switch.acd_history import from_record, load_history

DAY = 86400.0
NOW = 1_800_000_000.0


def cdr(call_id: str, caller: str, called: str, start: float, **extra: str) -> None:
    Cdr.create(call_id=call_id, direction="inbound", caller=caller, called=called,
               start=start, end=start + 60, ring_seconds=1, talk_seconds=50, cause=16,
               extra=json.dumps(extra))


def test_each_kind_of_record_says_what_it_remembers() -> None:
    queue_call = from_record("+8613800138000", "96777", 10.0, {"queue": "q", "agent": "a1"})
    assert queue_call == CallServed("13800138000", "a1", 10.0)
    callback = from_record("8002", "057188881234", 11.0,
                           {"queue": "q", "agent": "a2", "callback": "1"})
    assert callback == CallServed("057188881234", "a2", 11.0)  # the customer, not the agent
    out = from_record("8003", "013900000000", 12.0,
                      {"agent": "a3", "agent_called": "13900000000"})
    assert out == OutboundCallMade("13900000000", "a3", 12.0)
    assert from_record("9001", "9002", 13.0, {"route": "extension"}) is None
    assert from_record("9001", "9002", 13.0, {"agent": "a1"}) is None  # not via a queue


def test_history_within_the_windows_oldest_first(tmp_path: Path) -> None:
    open_db(tmp_path)
    cdr("old", "13800000001", "96777", NOW - 9 * DAY, queue="q", agent="a1")  # too old
    cdr("c2", "13800000002", "96777", NOW - 2 * DAY, queue="q", agent="a2")
    cdr("c1", "13800000002", "96777", NOW - 3 * DAY, queue="q", agent="a1")
    cdr("c3", "8001", "013800000003", NOW - DAY, agent="a1", agent_called="13800000003")
    cdr("c4", "9001", "9002", NOW - DAY, route="x")
    got = load_history(NOW, served_days=7, outbound_days=3)
    assert got == [CallServed("13800000002", "a1", NOW - 3 * DAY),
                   CallServed("13800000002", "a2", NOW - 2 * DAY),
                   OutboundCallMade("13800000003", "a1", NOW - DAY)]


def test_an_unreadable_database_gives_no_history_not_an_error(tmp_path: Path) -> None:
    open_db(tmp_path)
    Cdr.drop_table()
    assert load_history(NOW, 7, 3) == []


def test_the_replayed_memory_routes_the_returning_caller(tmp_path: Path) -> None:
    open_db(tmp_path)
    cdr("c1", "13800000002", "96777", NOW - DAY, queue="q", agent="a2")
    config = AcdConfig(
        queues=(QueueConfig("q", strategy=Strategy.LINEAR,
                            members=(Member("a1"), Member("a2"))),),
        agents=(AgentConfig("a1"), AgentConfig("a2")))
    engine = AcdEngine(config)
    for event in load_history(NOW, 7, 3):
        engine.handle(event)
    engine.agent_login("a1", "801", now=NOW)
    engine.agent_login("a2", "802", now=NOW)
    offers = [a for a in engine.join("x", "q", "13800000002", now=NOW + 1)
              if isinstance(a, Offer)]
    assert [o.agent for o in offers] == ["a2"]  # linear alone would ring a1
