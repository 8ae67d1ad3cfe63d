"""Screening of calls to the box's public numbers (DIDs): blacklist, auto-lock, locks.

On the call path, so everything is in memory: the blacklist and the rules come from the
validated site, locks are loaded from the database when switchd starts or reloads, and
a lock this module creates is handed to `on_lock` (switchd persists it with a
write-behind thread). Nothing here waits on the database or reads the clock.

Auto-lock (误报/骚扰拦截): a rule counts the calls of each number to its DIDs in a
sliding window; the call that makes the count reach `calls` within `minutes` still goes
through, and locks the number for `days`: from the next call on, the rule's treatment
applies, until the lock expires or an admin unlocks it (`ccbox blacklist unlock`).
Numbers are compared in national form (firmware/ivr/caller.py), so +8613912345678 and
13912345678 are one caller. Withheld numbers are never counted or locked.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from firmware.ivr.caller import is_anonymous, normalize_cn
from firmware.siteconfig.model import AutoLockRule, BlacklistEntry, Site, Treatment

log = logging.getLogger(__name__)

DEFAULT_TREATMENT = Treatment("reject", 21)
_SWEEP_EVERY = 4096  # counted calls between sweeps of numbers that stopped calling


@dataclass(frozen=True)
class Lock:
    number: str  # national form
    rule: str
    since: float
    until: float
    reason: str


@dataclass(frozen=True)
class Verdict:
    """This call gets `treatment` instead of its DID's target."""

    treatment: Treatment
    why: str


class Screener:
    def __init__(self, site: Site, on_lock: Callable[[Lock], None] | None = None) -> None:
        self.on_lock = on_lock
        self._site = site
        self._rules: dict[str, AutoLockRule] = {}
        self._hits: dict[str, dict[str, deque[float]]] = {}  # rule -> number -> times
        self._locks: dict[str, Lock] = {}
        self._counted = 0
        self.configure(site)

    # --- configuration and state ------------------------------------------------------
    def configure(self, site: Site) -> None:
        """New blacklist and rules. A rule whose counting changed starts counting afresh
        (a shorter window must not lock on calls counted under the old one)."""
        self._site = site
        # The blacklist indexed for the call path: exact numbers by national form, and
        # prefixes; the first entry in the admin's order that matches wins.
        self._exact: dict[str, tuple[int, BlacklistEntry]] = {}
        self._prefixes: list[tuple[str, int, BlacklistEntry]] = []
        for i, entry in enumerate(site.blacklist):
            if entry.pattern.endswith("*"):
                self._prefixes.append((normalize_cn(entry.pattern[:-1]), i, entry))
            else:
                self._exact.setdefault(normalize_cn(entry.pattern), (i, entry))
        rules = {r.name: r for r in site.autolock}
        for name, old in self._rules.items():
            new = rules.get(name)
            if new is None or (new.calls, new.window, new.dids, new.exempt) != (
                    old.calls, old.window, old.dids, old.exempt):
                self._hits.pop(name, None)
        self._rules = rules

    def load_locks(self, locks: Iterable[Lock], now: float) -> None:
        """The active locks as stored. A number no longer among them was unlocked by an
        admin: its counts start again from zero."""
        fresh = {lk.number: lk for lk in locks if lk.until > now}
        for number in set(self._locks) - set(fresh):
            self._forget_counts(number)
        self._locks = fresh

    def unlock(self, number: str) -> bool:
        key = normalize_cn(number)
        self._forget_counts(key)
        return self._locks.pop(key, None) is not None

    def locks(self, now: float) -> list[Lock]:
        return sorted((lk for lk in self._locks.values() if lk.until > now),
                      key=lambda lk: lk.since)

    # --- the call path ------------------------------------------------------------------
    def check(self, did: str, caller: str, now: float) -> Verdict | None:
        """Screen one call from `caller` to DID `did` (and count it)."""
        number = normalize_cn(caller)
        entry = self._blacklisted(number, now)
        if entry is not None:
            return Verdict(entry.treatment, f"blacklist {entry.pattern}")
        if is_anonymous(caller):
            return None
        lock = self._locks.get(number)
        if lock is not None and lock.until <= now:
            del self._locks[number]
        elif lock is not None:
            # a lock holds where its rule counts (its DIDs; all when it names none)
            rule = self._rules.get(lock.rule)
            if rule is None or not rule.dids or did in rule.dids:
                treatment = rule.treatment if rule is not None else DEFAULT_TREATMENT
                return Verdict(treatment, f"locked ({lock.reason})")
        for rule in self._rules.values():
            if rule.counts(did, caller):
                self._count(rule, number, now)
        return None

    def _blacklisted(self, number: str, now: float) -> BlacklistEntry | None:
        hits = [(i, e) for p, i, e in self._prefixes if number.startswith(p)]
        exact = self._exact.get(number)
        if exact is not None:
            hits.append(exact)
        for _, entry in sorted(hits, key=lambda h: h[0]):
            if entry.expires is None or now < entry.expires:
                return entry
        return None

    def _count(self, rule: AutoLockRule, number: str, now: float) -> None:
        hits = self._hits.setdefault(rule.name, {}).setdefault(number, deque())
        hits.append(now)
        while hits and hits[0] <= now - rule.window:
            hits.popleft()
        self._counted += 1
        if self._counted % _SWEEP_EVERY == 0:
            self._sweep(now)
        if len(hits) < rule.calls or number in self._locks:
            return
        reason = (f"{rule.name}: {len(hits)} calls in {rule.window / 60:g} min, "
                  f"locked {rule.lock_for / 86400:g} d")
        lock = Lock(number, rule.name, now, now + rule.lock_for, reason)
        self._locks[number] = lock
        self._forget_counts(number)
        log.warning("number %s locked by auto-lock rule %s", number, reason)
        if self.on_lock is not None:
            self.on_lock(lock)

    def _forget_counts(self, number: str) -> None:
        for per_rule in self._hits.values():
            per_rule.pop(number, None)

    def _sweep(self, now: float) -> None:
        for name, per_rule in self._hits.items():
            rule = self._rules.get(name)
            window = rule.window if rule is not None else 0.0
            for number in [n for n, h in per_rule.items() if not h or h[-1] <= now - window]:
                del per_rule[number]
