"""A validated site, in the types the engines take: what switchd runs.

Built by `validate.build_site` from the document; immutable, so switchd swaps the whole
thing in one assignment and a call keeps whatever objects it already holds (an IVR
session its `Flow`, a queued caller its queue entry).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from firmware.acd import AcdConfig
from firmware.ivr import Flow, IvrEnv
from firmware.ivr.caller import matches
from firmware.ivr.http_lookup import HttpLookupConfig
from firmware.ivr.timerules import (
    DEFAULT_TZ,
    HolidayCalendar,
    TimeStatus,
    WeeklySchedule,
    evaluate,
    to_local,
)


@dataclass(frozen=True)
class ExtensionSpec:
    number: str
    name: str
    password: str | None  # None: keep the stored one (or generate for a new extension)
    enabled: bool
    digest: str


@dataclass(frozen=True)
class TrunkSpec:
    name: str
    kind: str
    port: str  # the driver's name ("span1"); a PRI leg's peer_name is "span1/<slot>"
    enabled: bool


@dataclass(frozen=True)
class CallTarget:
    """Where a call goes: kind flow | queue | extension | external | hangup."""

    kind: str
    value: str = ""
    priority: int = 0  # queues

    @staticmethod
    def parse(text: str, priority: int = 0) -> CallTarget:
        kind, _, value = text.partition(":")
        return CallTarget(kind, value, priority)

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind


@dataclass(frozen=True)
class DidRule:
    schedule_name: str
    schedule: WeeklySchedule
    target: CallTarget


@dataclass(frozen=True)
class DidRoute:
    number: str
    name: str
    target: CallTarget
    trunk: TrunkSpec | None = None
    rules: tuple[DidRule, ...] = ()
    calendar: HolidayCalendar | None = None
    holiday: CallTarget | None = None

    def choose(self, now: float) -> tuple[CallTarget, str]:
        """(target, why) at epoch time `now`: the first rule whose schedule is open,
        else the holiday target on a holiday of the calendar, else the default."""
        for rule in self.rules:
            if evaluate(rule.schedule, self.calendar, now) is TimeStatus.OPEN:
                return rule.target, f"rule {rule.schedule_name}"
        if self.holiday is not None and self.calendar is not None:
            tz = self.rules[0].schedule.tz if self.rules else DEFAULT_TZ
            if self.calendar.holiday(to_local(now, tz).date()) is not None:
                return self.holiday, "holiday"
        return self.target, "default"

    def accepts(self, port: str) -> bool:
        """Does a call arriving on driver trunk `port` ("" for SIP/extension callers)
        reach this DID?"""
        if self.trunk is None:
            return True
        return self.trunk.enabled and (port == self.trunk.port or port == "")


@dataclass(frozen=True)
class Treatment:
    kind: str  # reject | prompt | flow
    cause: int = 21
    prompt: str | None = None
    flow: str | None = None

    def describe(self) -> str:
        if self.kind == "reject":
            return f"reject (cause {self.cause})"
        if self.kind == "prompt":
            return f"prompt {self.prompt}"
        return f"flow {self.flow}"


@dataclass(frozen=True)
class BlacklistEntry:
    pattern: str  # number, or prefix ending in '*'
    treatment: Treatment
    note: str = ""
    expires: float | None = None

    def applies(self, caller: str, now: float) -> bool:
        if self.expires is not None and now >= self.expires:
            return False
        return matches(caller, (self.pattern,))


@dataclass(frozen=True)
class AutoLockRule:
    name: str
    calls: int
    window: float  # seconds
    lock_for: float  # seconds
    treatment: Treatment
    dids: frozenset[str] = frozenset()  # empty: every DID
    exempt: tuple[str, ...] = ()  # patterns never locked
    enabled: bool = True

    def counts(self, did: str, caller: str) -> bool:
        if not self.enabled or (self.dids and did not in self.dids):
            return False
        return not matches(caller, self.exempt)


@dataclass(frozen=True)
class Site:
    extensions: tuple[ExtensionSpec, ...] = ()
    trunks: Mapping[str, TrunkSpec] = field(default_factory=dict)
    dids: Mapping[str, DidRoute] = field(default_factory=dict)
    acd: AcdConfig = field(default_factory=AcdConfig)
    logins: Mapping[str, str] = field(default_factory=dict)  # agent -> extension at start
    supervisors: Mapping[str, frozenset[str]] = field(default_factory=dict)  # queue -> exts
    flows: Mapping[str, Flow] = field(default_factory=dict)
    env: IvrEnv = field(default_factory=IvrEnv)
    blacklist: tuple[BlacklistEntry, ...] = ()
    autolock: tuple[AutoLockRule, ...] = ()
    prompts: frozenset[str] = frozenset()  # uploaded prompt names
    # generated flows for treatment "prompt" (answer, play, hang up), by prompt name
    treatment_flows: Mapping[str, Flow] = field(default_factory=dict)
    lookups: Mapping[str, HttpLookupConfig] = field(default_factory=dict)  # by name

    def may_monitor(self, supervisor: str, agent: str) -> bool:
        """May `supervisor` (an extension) listen/whisper/barge on agent `agent`?

        True when the supervisor is listed in `supervisors` of a queue the agent is a
        member of. `agent` is an agent id; the switch resolves an extension to the agent
        logged in there before asking (see SiteRuntime.may_monitor)."""
        for q in self.acd.queues:
            if supervisor in self.supervisors.get(q.name, frozenset()) and any(
                    m.agent == agent for m in q.members):
                return True
        return False

    def supervised_queues(self, supervisor: str) -> list[str]:
        return [q.name for q in self.acd.queues
                if supervisor in self.supervisors.get(q.name, frozenset())]
