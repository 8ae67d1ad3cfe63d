"""What a flow may refer to outside itself: site-wide schedules, holiday calendars,
caller lists, lookup adapters and uploaded prompts.

Validation and the runner resolve a name in the flow first, then here, so a flow
exported with its own definitions runs the same on another box.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from firmware.ivr.adapters import BUILTIN_ADAPTERS, AdapterSpec
from firmware.ivr.timerules import HolidayCalendar, WeeklySchedule

# Variables the switch sets on every call before the flow starts.
CALL_VARS = frozenset({"caller", "caller_name", "called", "trunk", "call_id"})


@dataclass(frozen=True)
class IvrEnv:
    schedules: Mapping[str, WeeklySchedule] = field(default_factory=dict)
    calendars: Mapping[str, HolidayCalendar] = field(default_factory=dict)
    lists: Mapping[str, Collection[str]] = field(default_factory=dict)
    adapters: Mapping[str, AdapterSpec] = field(default_factory=lambda: dict(BUILTIN_ADAPTERS))
    uploaded_prompts: frozenset[str] = frozenset()
