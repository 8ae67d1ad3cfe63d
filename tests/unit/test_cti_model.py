"""The CTI model, sans I/O: bus events in, CTI events out; queue figures; the queue-log
tail read at start-up."""

from __future__ import annotations

from pathlib import Path

from firmware.acd.queuelog import Abandon, CompleteCaller, Connect, EnterQueue
from firmware.cti.model import CtiModel, local_midnight
from firmware.cti.queuelog_tail import read_since
from firmware.cti.stats import ALL, queue_figures
from firmware.switch.causes import Cause
from firmware.switch.events import (
    AgentStateChanged,
    CallEnded,
    ConnectionCleared,
    Established,
    Held,
    Originated,
    QueueLogged,
    Retrieved,
)

T0 = local_midnight(1_769_817_600.0) + 9 * 3600  # 09:00 local


def names(out: list[dict[str, object]]) -> list[str]:
    return [str(e["event"]) for e in out]


def test_an_acd_call_from_offer_to_clear() -> None:
    m = CtiModel(T0)
    m.handle(AgentStateChanged(T0, "8001", "AgentLoggedIn", {"device": "8001"}))
    out = m.handle(AgentStateChanged(T0, "8001", "AgentReady", {}))
    assert out[0]["state"] == "ready" and out[0]["device"] == "8001"
    out = m.handle(Originated(T0 + 1, "c1", "pri/1", "13800138000", "96777", "pri"))
    assert names(out) == ["Offered"] and out[0]["device"] == ""
    out = m.handle(QueueLogged(T0 + 2, EnterQueue(T0 + 2, "c1", "repair", "NONE",
                                                  "13800138000", 1)))
    assert names(out) == ["Queued", "QueueChanged"] and out[1]["waiting"] == 1
    # the ACD rings the agent: the screen pop, before anyone answers
    out = m.handle(AgentStateChanged(T0 + 3, "8001", "AgentRinging",
                                     {"call_id": "c1", "queue": "repair"}))
    assert names(out) == ["Delivered", "AgentState"]
    pop = out[0]
    assert (pop["device"], pop["caller"], pop["queue"], pop["agent"]) == (
        "8001", "13800138000", "repair", "8001")
    assert out[1]["kind"] == "AgentBusy" and out[1]["caller"] == "13800138000"
    out = m.handle(QueueLogged(T0 + 5, Connect(T0 + 5, "c1", "repair", "8001", 3.0, "8001",
                                               2.0)))
    assert names(out) == ["Dequeued", "QueueChanged"] and out[1]["waiting"] == 0
    out = m.handle(Established(T0 + 5, "c1", "sip/7", "8001"))
    assert names(out) == ["Established"] and m.calls["c1"].devices == {"8001": "connected"}
    out = m.handle(Held(T0 + 6, "c1", "pri/1", "8001"))
    assert out[0]["device"] == "8001" and out[0]["held"] == ""
    out = m.handle(Retrieved(T0 + 7, "c1", "pri/1", "8001"))
    assert names(out) == ["Retrieved"]
    out = m.handle(ConnectionCleared(T0 + 9, "c1", "sip/7", Cause.NORMAL_CLEARING, "callee"))
    assert out[0]["device"] == "8001" and out[0]["cause"] == "NORMAL_CLEARING"
    out = m.handle(CallEnded(T0 + 9, "c1", "13800138000", "96777", "8001", T0 + 1, T0 + 5,
                             T0 + 9, Cause.NORMAL_CLEARING, "callee", None,
                             {"queue": "repair", "agent": "8001"}))
    assert names(out) == ["CallCleared"] and out[0]["talk"] == 4.0
    assert "c1" not in m.calls
    out = m.handle(AgentStateChanged(T0 + 9, "8001", "AgentWrapUp",
                                     {"call_id": "c1", "queue": "repair", "until": T0 + 39}))
    assert out[0]["state"] == "wrap-up" and out[0]["wrap_until"] == T0 + 39
    assert out[0]["kind"] == "AgentWorkingAfterCall" and out[0]["since"] == T0 + 9


def test_an_abandoned_offer_clears_the_agent_connection() -> None:
    m = CtiModel(T0)
    m.handle(AgentStateChanged(T0, "8002", "AgentLoggedIn", {"device": "8002"}))
    m.handle(Originated(T0, "c2", "sip/1", "8003", "7201", "sip"))
    m.handle(AgentStateChanged(T0 + 1, "8002", "AgentRinging", {"call_id": "c2",
                                                                "queue": "q"}))
    out = m.handle(CallEnded(T0 + 2, "c2", "8003", "7201", "", T0, None, T0 + 2,
                             Cause.NORMAL_CLEARING, "caller", None, {}))
    # the caller's own device (8003) and the ringing agent's each hear it cleared
    assert [(e["event"], e.get("device")) for e in out] == [
        ("ConnectionCleared", "8003"), ("ConnectionCleared", "8002"), ("CallCleared", None)]


def test_queue_figures_follow_the_acd_definitions() -> None:
    records = [EnterQueue(T0, "a", "q", "NONE", "1", 1), Connect(T0 + 10, "a", "q", "8001",
                                                                 10.0, "8001", 1.0),
               CompleteCaller(T0 + 70, "a", "q", "8001", 10.0, 60.0, 1),
               EnterQueue(T0, "b", "q", "NONE", "2", 2), Abandon(T0 + 30, "b", "q", "NONE",
                                                                 1, 2, 30.0),
               EnterQueue(T0, "c", "q", "NONE", "3", 3), Abandon(T0 + 2, "c", "q", "NONE",
                                                                 1, 3, 2.0),
               EnterQueue(T0, "d", "other", "NONE", "4", 1)]
    figs = queue_figures(records, ["q", "other"])
    q = figs["q"]
    assert (q["offered"], q["answered"], q["abandoned"], q["short_abandoned"]) == (3, 1, 2, 1)
    assert q["service_level"] == 0.5  # 1 within 20 s of (3 offered - 1 short abandon)
    assert figs["other"]["service_level"] == 0.0 and figs[ALL]["offered"] == 4


def test_todays_records_are_read_from_the_end_of_a_long_queue_log(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    lines = [EnterQueue(T0 - 86400 + i, f"old{i}", "q", "NONE", "1", 1).line()
             for i in range(20000)]
    lines += [EnterQueue(T0 + i, f"new{i}", "q", "NONE", "1", 1).line() for i in range(5)]
    path.write_text("\n".join(lines) + "\nnot a record\n", encoding="utf-8")
    got = read_since(path, local_midnight(T0))
    assert [r.call_id for r in got] == [f"new{i}" for i in range(5)]
    assert read_since(tmp_path / "missing", 0.0) == []
