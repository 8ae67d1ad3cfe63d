"""Per-extension features and ring groups: the data, its validation, and the in-memory
copy the switch routes with.

The call path reads a `FeatureTable` snapshot only: an immutable value swapped whole
by `FeatureStore`, which loads it from the database in a thread (at start, on
`reload`, every few seconds) and applies changes made on the box itself (feature
codes) at once in memory, writing them behind. A reload that raced a local change is
thrown away rather than undoing it: the next reload sees the written row.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import peewee

from firmware.db.write_behind import WriteBehind

log = logging.getLogger(__name__)

# Ring groups are dialled as 5000-5099 (700-720 are park slots, 6000-6099 conference
# rooms: see docs/decisions/0019-phone-features.md and the brief's dial plan).
GROUP_NUMBER = re.compile(r"^50[0-9]{2}$")
EXTENSION_NUMBER = re.compile(r"^[0-9]{2,15}$")
OUTSIDE_NUMBER = re.compile(r"^0[0-9]{2,20}$")  # trunk prefix 0 + the number
STRATEGIES = ("simultaneous", "sequential")
VOICEMAIL_PREFIX = "vm:"  # a ring group's fallback "vm:8001" leaves a message in 8001
MAX_TIMEOUT = 300
MIN_TIMEOUT = 5


class FeatureError(ValueError):
    """A setting that cannot be applied; the message says which and why."""


@dataclass(frozen=True)
class ExtFeatures:
    forward_always: str = ""
    forward_busy: str = ""
    forward_no_answer: str = ""
    no_answer_timeout: int = 20
    dnd: bool = False
    mobile: str = ""
    mobile_delay: int = 10
    voicemail: bool = False
    pin_hash: str = ""  # argon2id of the voicemail PIN; "" = none
    remote_answer: bool = False  # the phone takes NOTIFY Event: talk / answer-after=0

    def public(self) -> dict[str, object]:
        """What may be shown or logged: everything but the PIN hash."""
        out = dataclasses.asdict(self)
        out["pin"] = bool(out.pop("pin_hash"))
        return out


OFF = ExtFeatures()
FORWARD_KINDS = {"always": "forward_always", "busy": "forward_busy",
                 "no-answer": "forward_no_answer"}


@dataclass(frozen=True)
class GroupMember:
    extension: str
    timeout: int | None = None  # sequential: this member's turn (None: the group's)


@dataclass(frozen=True)
class RingGroupInfo:
    number: str
    name: str = ""
    strategy: str = "simultaneous"
    ring_timeout: int = 20
    fallback: str = ""
    members: tuple[GroupMember, ...] = ()
    enabled: bool = True


@dataclass(frozen=True)
class FeatureTable:
    extensions: Mapping[str, ExtFeatures] = field(default_factory=dict)
    groups: Mapping[str, RingGroupInfo] = field(default_factory=dict)

    def of(self, number: str) -> ExtFeatures:
        return self.extensions.get(number, OFF)

    def group(self, number: str) -> RingGroupInfo | None:
        g = self.groups.get(number)
        return g if g is not None and g.enabled else None

    def with_extension(self, number: str, features: ExtFeatures) -> FeatureTable:
        return FeatureTable({**self.extensions, number: features}, self.groups)


# --- validation ---------------------------------------------------------------------------
def check_timeout(name: str, value: int) -> int:
    if not MIN_TIMEOUT <= value <= MAX_TIMEOUT:
        raise FeatureError(f"{name} must be {MIN_TIMEOUT} to {MAX_TIMEOUT} seconds, not {value}")
    return value


def check_target(owner: str, target: str, is_extension: Callable[[str], bool],
                 is_group: Callable[[str], bool], what: str = "forward target") -> str:
    """A number a call can be sent on to: an extension, a ring group or 0 + an outside
    number. Raises FeatureError saying why not."""
    target = target.strip()
    if target == owner:
        raise FeatureError(f"{what} of {owner} cannot be {owner} itself")
    if OUTSIDE_NUMBER.match(target) and not is_extension(target):
        return target
    if is_extension(target) or is_group(target):
        return target
    raise FeatureError(f"{what} {target!r} of {owner} is neither an extension, a ring group "
                       "(5000-5099) nor 0 + an outside number")


def check_group(group: RingGroupInfo, is_extension: Callable[[str], bool],
                is_group: Callable[[str], bool]) -> RingGroupInfo:
    if not GROUP_NUMBER.match(group.number):
        raise FeatureError(f"ring group number {group.number!r} must be 5000-5099")
    if group.strategy not in STRATEGIES:
        raise FeatureError(f"ring group {group.number}: strategy {group.strategy!r} is not "
                           f"one of {', '.join(STRATEGIES)}")
    check_timeout(f"ring group {group.number} ring timeout", group.ring_timeout)
    seen = set()
    for m in group.members:
        if not is_extension(m.extension):
            raise FeatureError(f"ring group {group.number}: member {m.extension!r} is not an "
                               "extension")
        if m.extension in seen:
            raise FeatureError(f"ring group {group.number}: member {m.extension} is listed "
                               "twice")
        seen.add(m.extension)
        if m.timeout is not None:
            check_timeout(f"ring group {group.number} member {m.extension} timeout", m.timeout)
    fb = group.fallback
    if fb.startswith(VOICEMAIL_PREFIX):
        if not is_extension(fb[len(VOICEMAIL_PREFIX):]):
            raise FeatureError(f"ring group {group.number}: fallback mailbox {fb!r} is not an "
                               "extension")
    elif fb:
        check_target(group.number, fb, is_extension, is_group, "fallback")
    return group


# --- the store --------------------------------------------------------------------------
def load_table() -> FeatureTable:
    """Blocking (a thread): every extension's features and every ring group."""
    from firmware.db.models import ExtensionFeatures, RingGroup, RingGroupMember

    exts = {
        r.number: ExtFeatures(r.forward_always, r.forward_busy, r.forward_no_answer,
                              int(r.no_answer_timeout), bool(r.dnd), r.mobile,
                              int(r.mobile_delay), bool(r.voicemail), r.voicemail_pin_hash,
                              bool(r.remote_answer))
        for r in ExtensionFeatures.select()
    }
    members: dict[int, list[GroupMember]] = {}
    rows: Any = (RingGroupMember.select()
                 .order_by(RingGroupMember.position, RingGroupMember.id).dicts())
    for m in rows:
        members.setdefault(int(m["group"]), []).append(GroupMember(m["extension"], m["timeout"]))
    groups = {
        g.number: RingGroupInfo(g.number, g.name, g.strategy, int(g.ring_timeout), g.fallback,
                                tuple(members.get(g.id, [])), bool(g.enabled))
        for g in RingGroup.select()
    }
    return FeatureTable(exts, groups)


def _upsert(number: str, features: ExtFeatures, db: peewee.SqliteDatabase) -> object:
    from firmware.db.models import ExtensionFeatures

    row: dict[str, Any] = dataclasses.asdict(features)
    row["voicemail_pin_hash"] = row.pop("pin_hash")
    row["updated"] = time.time()
    fields = [getattr(ExtensionFeatures, k) for k in row]
    return (ExtensionFeatures.insert(number=number, **row)
            .on_conflict(conflict_target=[ExtensionFeatures.number], preserve=fields)
            .execute(db))


class FeatureStore:
    def __init__(self, data_dir: Path,
                 on_change: Callable[[FeatureTable, FeatureTable], None] | None = None
                 ) -> None:
        self.table = FeatureTable()
        self.on_change = on_change  # (old, new): lamps that depend on features
        self._writer = WriteBehind("feature-store", data_dir)
        self._version = 0

    def start(self) -> None:
        self._writer.start()

    def stop(self) -> None:
        self._writer.stop()

    def flush(self, timeout: float | None = None) -> bool:
        return self._writer.flush(timeout)

    def begin_reload(self) -> int:
        """Call on the loop before `load_table` runs in a thread; pass the result to
        `finish_reload`."""
        return self._version

    def finish_reload(self, started: int, table: FeatureTable) -> bool:
        """Install a table loaded by a thread, unless a local change happened meanwhile
        (or is still being written): then it is stale and the next reload is right."""
        if started != self._version or self._writer.pending:
            return False
        self._install(table)
        return True

    def set(self, number: str, **changes: object) -> ExtFeatures:
        """Change features of `number` now (in memory) and in the database (behind)."""
        old = self.table.of(number)
        new = dataclasses.replace(old, **changes)  # type: ignore[arg-type]
        if new == old:
            return new
        self._version += 1
        self._install(self.table.with_extension(number, new))
        log.info("features of %s now %s", number, new.public())
        self._writer.submit(partial(_upsert, number, new),
                            f"features of {number}: {new.public()}")
        return new

    def _install(self, table: FeatureTable) -> None:
        old, self.table = self.table, table
        if self.on_change is not None and old != table:
            self.on_change(old, table)
