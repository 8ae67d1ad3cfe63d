"""The site configuration inside switchd: loaded from the database, applied live.

`load()` runs in a thread (it reads the database and validates the whole site, exactly
as `ccbox config import` and the web UI do); `apply()` runs on the event loop and only
swaps references and feeds the ACD engine, so it is quick and never blocks a call:

- new callers get the new DIDs, time rules, blacklist and flows at once;
- an IVR session keeps the `Flow` (version) and environment it started with;
- queued callers stay queued in their place if their queue still exists; a removed
  queue keeps serving its callers until empty, takes no new ones, and says so in the
  log; agents stay logged in (removed agents are logged out once idle);
- auto-lock counts continue for rules whose counting did not change.

`CCBOX_CLOCK_OFFSET` (seconds, tests only) shifts the clock of IVR, ACD and the dial
plan's time rules, so a test can be inside or outside office hours whatever the time.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import peewee

from firmware.acd import AcdEngine, AcdError
from firmware.db.settings import get_setting
from firmware.db.site_models import NumberLock
from firmware.db.write_behind import WriteBehind
from firmware.ivr.adapters import DemoBilling, LookupAdapter
from firmware.ivr.http_lookup import HttpLookup
from firmware.media.prompt_gen import PromptFiles
from firmware.siteconfig import Context, Site, SiteInvalid, validate
from firmware.siteconfig.store import load_document
from firmware.switch.acd_call import AcdService
from firmware.switch.acd_history import History, load_history
from firmware.switch.ivr_call import IvrServices
from firmware.switch.screening import Lock, Screener

if TYPE_CHECKING:
    from firmware.switch.core import Switch

log = logging.getLogger(__name__)

CLOCK_OFFSET_ENV = "CCBOX_CLOCK_OFFSET"
LEGACY_SETTING = "ivr.routes"


def site_clock() -> Callable[[], float]:
    raw = os.environ.get(CLOCK_OFFSET_ENV, "").strip()
    if not raw:
        return time.time
    offset = float(raw)
    log.warning("IVR/ACD/time-rule clock shifted by %+.0f s (%s, for tests only)", offset,
                CLOCK_OFFSET_ENV)
    return lambda: time.time() + offset


def adapters(site: Site | None = None) -> dict[str, LookupAdapter]:
    """The built-in adapters and the site's configured lookups (`lookups:`)."""
    out: dict[str, LookupAdapter] = {"demo_billing": DemoBilling()}
    if site is not None:
        out.update({name: HttpLookup(cfg) for name, cfg in site.lookups.items()})
    return out


class SiteRuntime:
    def __init__(self, data_dir: Path, switch: Switch, clock: Callable[[], float],
                 lock_writer: WriteBehind | None = None) -> None:
        self.data_dir = data_dir
        self.switch = switch
        self.clock = clock
        self.lock_writer = lock_writer
        self.prompts = PromptFiles(data_dir)
        self.site = Site()
        self.screener = Screener(self.site, self._persist_lock)
        switch.router.screener = self.screener
        self.applied_at: float | None = None
        self._history: History = []  # smart-routing memory from the CDRs, read by load()

    # --- reading (in a thread) ------------------------------------------------------------
    def load(self) -> tuple[Site, list[Lock]]:
        """Read and validate the stored site; raises SiteInvalid (every error)."""
        if self.lock_writer is not None:
            self.lock_writer.flush(5.0)  # our own new locks are in the table first
        self._warn_legacy()
        result = validate(load_document(), Context(custom_prompts=self.prompts.custom))
        site = result.raise_for_errors()
        for w in result.warnings:
            log.warning("site configuration: %s", w)
        now = self.clock()
        if self.switch.acd is None:  # the engine is about to be built: its memory first
            self._history = load_history(now, site.acd.served_memory_days,
                                         site.acd.outbound_memory_days)
        rows = NumberLock.select().where(NumberLock.unlocked_at.is_null()
                                         & (NumberLock.until > now))
        locks = [Lock(r.number, r.rule, r.since, r.until, r.reason) for r in rows]
        return site, locks

    def _warn_legacy(self) -> None:
        if (self.data_dir / "acd.json").exists() or get_setting(LEGACY_SETTING) is not None \
                or any((self.data_dir / "ivr" / "flows").glob("*.json")):
            log.warning("DATA/acd.json, DATA/ivr/flows/*.json and the setting ivr.routes are "
                        "no longer read: the configuration is in the database "
                        "(ccbox config import site.yaml)")

    # --- applying (on the loop) -----------------------------------------------------------
    def apply(self, site: Site, locks: list[Lock]) -> dict[str, Any]:
        sw = self.switch
        if sw.ivr is None:
            sw.ivr = IvrServices(dict(site.flows), self.prompts, site.env, adapters(site),
                                 self.clock)
        else:
            # sessions already running hold their own Flow, env and adapters
            sw.ivr.flows = dict(site.flows)
            sw.ivr.env = site.env
            sw.ivr.adapters = adapters(site)
        sw.router.routes = site.dids
        sw.router.rooms = frozenset(site.rooms)
        # a room being used keeps its bridge and members; its new PIN counts for new callers
        sw.cc.room_pins = {n: r.pin_hash for n, r in site.rooms.items()}
        sw.router.treatment_flows = site.treatment_flows
        sw.router.clock = self.clock
        self.screener.configure(site)
        self.screener.load_locks(locks, self.clock())
        previous = self.site
        self.site = site
        summary: dict[str, Any] = {
            "dids": len(site.dids), "flows": len(site.flows), "queues": len(site.acd.queues),
            "agents": len(site.acd.agents), "blacklist": len(site.blacklist),
            "autolock_rules": len(site.autolock), "rooms": len(site.rooms),
            "locks": len(self.screener.locks(
                self.clock())),
        }
        summary.update(self._apply_acd(previous, site))
        self.applied_at = time.time()
        log.info("site configuration applied: %s", summary)
        return summary

    def _apply_acd(self, previous: Site, site: Site) -> dict[str, Any]:
        sw = self.switch
        if sw.acd is None:
            engine = AcdEngine(site.acd)
            for event in self._history:  # who served / called whom, before the restart
                engine.handle(event)
            self._history = []
            sw.acd = AcdService(sw, engine, self.prompts,
                                self.data_dir / "logs" / "queue_log", self.clock)
            new_agents = [a.id for a in site.acd.agents]
        else:
            # new agents, and agents whose login extension the admin just set or changed;
            # an agent who logged out by hand under an unchanged setting stays out
            new_agents = [a.id for a in site.acd.agents
                          if site.logins.get(a.id) != previous.logins.get(a.id)]
            sw.acd.execute(sw.acd.engine.reconfigure(site.acd, now=self.clock()))
        logged = 0
        for agent in new_agents:
            device = site.logins.get(agent)
            if device is None:
                continue
            try:
                sw.acd.agent_command(agent, "login", device)
                logged += 1
            except AcdError as e:
                log.error("agent %s cannot log in at %s: %s", agent, device, e)
        draining = sw.acd.engine.draining()
        for name, waiting in draining.items():
            log.warning("queue %s was removed: its %d waiting caller(s) stay queued and are "
                        "served by its former members; it takes no new callers", name,
                        waiting)
        return {"logged_in": logged, "draining": draining}

    # --- locks ------------------------------------------------------------------------------
    def _persist_lock(self, lock: Lock) -> None:
        if self.lock_writer is None:
            return
        row = {"number": lock.number, "rule": lock.rule, "since": lock.since,
               "until": lock.until, "reason": lock.reason}

        def insert(db: peewee.SqliteDatabase) -> object:
            return NumberLock.insert(**row).execute(db)

        self.lock_writer.submit(insert, f"number lock {row}")

    # --- queries ----------------------------------------------------------------------------
    def may_monitor(self, supervisor: str, agent: str) -> bool:
        """May extension `supervisor` listen/whisper/barge on `agent`? `agent` is an agent
        id or the extension an agent is logged in at (what *51 + number dials)."""
        site = self.site
        if not agent or supervisor == agent:
            return False
        agent_ids = {a.id for a in site.acd.agents}
        if agent not in agent_ids and self.switch.acd is not None:
            for a in agent_ids:
                try:
                    if self.switch.acd.engine.agent_status(a).device == agent:
                        agent = a
                        break
                except AcdError:
                    continue
        return site.may_monitor(supervisor, agent)

    def status(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "dids": sorted(self.site.dids),
            "queues": [q.name for q in self.site.acd.queues],
            "flows": {f.id: f.version for f in self.site.flows.values()},
            "locks": [{"number": lk.number, "rule": lk.rule, "until": round(lk.until)}
                      for lk in self.screener.locks(now)],
        }


def load_failed(e: SiteInvalid) -> None:
    log.error("%s", e)
    log.error("running without the stored call-center configuration until it is fixed "
              "(extensions still work); check it with: ccbox config export")
