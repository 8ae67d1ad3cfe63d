"""Routing from the site configuration: DIDs, per-DID time rules (分时段), blacklist
treatments, auto-lock with unlock; the demo site's ACD; the queue-log writer."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from firmware.acd import AcdEngine, Offer
from firmware.siteconfig import Site, validate
from firmware.siteconfig.demo import DEMO_SITE
from firmware.siteconfig.yamlio import load
from firmware.switch.acd_call import QueueLogWriter
from firmware.switch.causes import Cause
from firmware.switch.directory import ExtensionDirectory, ExtensionInfo
from firmware.switch.router import Reject, Route, Router
from firmware.switch.screening import Lock, Screener
from tests.unit.test_switch_router_trunk import Leg

TZ = ZoneInfo("Asia/Shanghai")
SITE = """\
extensions:
  - {number: "9002"}
  - {number: "9003"}
trunks:
  - {name: e1, kind: pri, port: span1}
dids:
  - number: "96777"
    trunk: e1
    target: queue:night
    priority: 7
    time_rules:
      - {schedule: morning, target: extension:9002}
      - {schedule: office, target: flow:menu}
    calendar: cn
    holiday: hangup
  - number: "7100"
    target: extension:9003
queues:
  - {name: night}
agents: []
schedules:
  - {name: morning, week: {mon-fri: ["08:00-12:00"]}}
  - {name: office, week: {mon-fri: ["08:00-18:00"]}}
calendars:
  - name: cn
    holidays: ["2026-10-01/2026-10-07"]
    workdays: ["2026-10-10"]
caller_lists:
  - {name: vip, numbers: ["13900000000"]}
blacklist:
  - {number: "0571000*", treatment: reject, cause: 21}
  - {number: "13800000000", treatment: prompt}
  - {number: "13700000000", treatment: flow, flow: menu,
     expires: "2026-06-01T00:00:00+08:00"}
autolock:
  - {name: nuisance, calls: 3, minutes: 10, days: 1, dids: ["96777"], exempt: vip,
     treatment: prompt, prompt: number_restricted}
ivr_flows:
  - id: menu
    entry: bye
    nodes:
      bye: {kind: play, prompts: [goodbye], next: end}
      end: {kind: hangup}
"""


def site(text: str = SITE) -> Site:
    data, _ = load(textwrap.dedent(text))
    result = validate(data)
    assert result.ok, result.errors
    assert result.site is not None
    return result.site


def at(year: int, month: int, day: int, hour: int) -> float:
    return dt.datetime(year, month, day, hour, tzinfo=TZ).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def router(s: Site, now: float) -> tuple[Router, Clock, list[Lock]]:
    d = ExtensionDirectory()
    d.replace([ExtensionInfo("9002", "", "pw", True), ExtensionInfo("9003", "", "pw", True)])
    clock = Clock(now)
    r = Router(d, clock=clock)
    locks: list[Lock] = []
    r.routes, r.treatment_flows = s.dids, s.treatment_flows
    r.screener = Screener(s, locks.append)
    return r, clock, locks


def call(r: Router, caller: str, called: str = "96777", tech: str = "pri") -> Any:
    leg = Leg(tech, called)
    leg.caller = type(leg.caller)(caller)
    leg.peer_name = "span1/3" if tech == "pri" else "9001"
    return r.route(leg)


def test_per_did_time_rules_choose_the_target() -> None:
    s = site()
    r, clock, _ = router(s, at(2026, 12, 2, 9))  # Wednesday 09:00: first rule
    assert call(r, "1") == Route("extension", "9002")
    clock.now = at(2026, 12, 2, 14)  # 14:00: second rule
    assert call(r, "2") == Route("ivr", "menu")
    clock.now = at(2026, 12, 2, 20)  # night: the default, with the DID's priority
    assert call(r, "3") == Route("queue", "night", 7)
    clock.now = at(2026, 10, 2, 10)  # 国庆 holiday: released
    rej = call(r, "4")
    assert isinstance(rej, Reject) and rej.cause is Cause.NORMAL_CLEARING
    clock.now = at(2026, 10, 10, 10)  # 调休 Saturday works as a Monday
    assert call(r, "5") == Route("extension", "9002")


def test_did_bound_to_a_trunk_and_reachable_from_extensions() -> None:
    r, _, _ = router(site(), at(2026, 12, 2, 20))
    assert call(r, "9001", tech="sip") == Route("queue", "night", 7)
    assert call(r, "1", "7100") == Route("extension", "9003")
    assert call(r, "1", "9002") == Route("extension", "9002")  # extension from the trunk
    assert call(r, "9001", "013800138000", tech="sip") == Route("trunk", "13800138000")


def test_blacklist_treatments() -> None:
    r, _, _ = router(site(), at(2026, 5, 1, 20))
    rej = call(r, "057100012345")
    assert isinstance(rej, Reject) and rej.cause is Cause.CALL_REJECTED
    assert "blacklist 0571000*" in rej.why
    played = call(r, "+8613800000000")  # international form of the same number
    assert isinstance(played, Route) and played.kind == "ivr" and played.flow is not None
    assert played.flow.nodes["play"].prompts == ("number_restricted",)  # type: ignore
    assert call(r, "13700000000") == Route("ivr", "menu")
    r.clock = Clock(at(2026, 6, 2, 20))  # expired
    assert call(r, "13700000000") == Route("queue", "night", 7)


def test_auto_lock_after_n_calls_then_unlock() -> None:
    s = site()
    r, clock, locks = router(s, at(2026, 12, 2, 20))
    for i in range(3):  # the third call in the window still goes through, and locks
        clock.now += 60
        assert call(r, "13912345678") == Route("queue", "night", 7), i
    assert [lk.number for lk in locks] == ["13912345678"]
    treated = call(r, "13912345678")
    assert isinstance(treated, Route) and treated.flow is not None and "locked" in treated.note
    # other DIDs are not counted by this rule, VIPs never
    assert call(r, "13912345678", "7100") == Route("extension", "9003")
    for _ in range(5):
        assert call(r, "13900000000") == Route("queue", "night", 7)
    assert r.screener is not None and r.screener.unlock("+8613912345678")
    assert call(r, "13912345678") == Route("queue", "night", 7)
    # counting started again from zero after the unlock
    assert call(r, "13912345678") == Route("queue", "night", 7)


def test_calls_spread_out_do_not_lock_and_lock_expires() -> None:
    r, clock, locks = router(site(), at(2026, 12, 2, 20))
    for _ in range(6):
        clock.now += 301  # two per 10 minutes at most
        call(r, "13911112222")
    assert locks == []
    for _ in range(3):
        call(r, "13911112222")
    assert len(locks) == 1
    clock.now += 86400 + 1
    assert call(r, "13911112222") == Route("queue", "night", 7)


def test_locks_reloaded_from_storage_unlock_by_absence() -> None:
    s = site()
    screener = Screener(s)
    now = at(2026, 12, 2, 20)
    screener.load_locks([Lock("13911112222", "nuisance", now - 10, now + 100, "test")], now)
    assert screener.check("96777", "13911112222", now) is not None
    screener.load_locks([], now)  # an admin unlocked it in the database
    assert screener.check("96777", "13911112222", now) is None


def test_demo_acd_has_four_queues_with_agents_logged_in() -> None:
    data, _ = load(DEMO_SITE.read_text(encoding="utf-8"))
    s = validate(data).site
    assert s is not None
    engine = AcdEngine(s.acd)
    for agent, device in s.logins.items():
        engine.agent_login(agent, device, now=0.0)
    offers = [a for a in engine.join("c1", "emergency", "139", 100, now=1.0)
              if isinstance(a, Offer)]
    assert len(offers) == 10  # ring-all


def test_queue_log_writer_appends_lines(tmp_path: Path) -> None:
    w = QueueLogWriter(tmp_path / "logs" / "queue_log")
    w.write("1|c|q|NONE|ENTERQUEUE||139|1")
    w.write("2|c|q|a|CONNECT|1|801|0")
    w.close()
    assert (tmp_path / "logs" / "queue_log").read_text().splitlines()[1].endswith("|0")


def test_site_caller_lists_and_blacklist_feed_the_ivr_caller_condition() -> None:
    from firmware.ivr import IvrRunner, Transfer

    s = site(SITE.replace("""  - id: menu
    entry: bye""", """  - id: vip
    entry: who
    nodes:
      who:
        kind: caller
        rules: [{list: vip, next: fast}, {list: blacklist, next: bye}]
        default: slow
      fast: {kind: transfer, to: queue, target: night, priority: 90}
      slow: {kind: transfer, to: queue, target: night}
      bye: {kind: hangup}
  - id: menu
    entry: bye"""))
    flow = s.flows["vip"]

    def first_transfer(caller: str) -> Transfer | None:
        runner = IvrRunner(flow, {"caller": caller, "called": "96777"}, 0.0, env=s.env)
        return next((a for a in runner.start(0.0) if isinstance(a, Transfer)), None)

    vip = first_transfer("+8613900000000")
    assert vip is not None and vip.priority == 90
    other = first_transfer("13911112222")
    assert other is not None and other.priority == 0
    assert first_transfer("057100099999") is None  # on the blacklist: hung up
