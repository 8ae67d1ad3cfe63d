"""Weekly schedules and holiday calendars (分时段, 节假日, 调休).

Evaluated at a time the caller passes in, never by reading the clock, so tests and the
"what would happen at ..." preview in the web UI use the same code as live calls.

Rules a Chinese hotline needs:
- per-weekday ranges, end exclusive ("08:00-18:00" is closed at 18:00:00); "24:00" as
  an end; overnight ranges ("22:00-06:00") belong to the day they start on, so a night
  shift that starts before a holiday still runs until its end;
- holidays by date or date range, which close the day whatever the weekday;
- make-up working days (调休, e.g. a Saturday worked to pay for a long holiday), which
  open a weekend day with the hours of an ordinary weekday (`makeup_as`, Monday unless
  told otherwise);
- a time zone per schedule (zoneinfo), Asia/Shanghai by default: the box may keep UTC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from firmware.ivr.errors import Findings

DEFAULT_TZ = "Asia/Shanghai"
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_SECONDS = 24 * 3600
_RANGE_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class TimeStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    HOLIDAY = "holiday"


@dataclass(frozen=True)
class TimeRange:
    """Seconds since local midnight; `end` may be 86400; start > end means overnight."""

    start: int
    end: int

    @property
    def overnight(self) -> bool:
        return self.start > self.end

    def __str__(self) -> str:
        def hm(s: int) -> str:
            return f"{s // 3600:02d}:{s % 3600 // 60:02d}"

        return f"{hm(self.start)}-{hm(self.end)}"


@dataclass(frozen=True)
class WeeklySchedule:
    """`week[0]` is Monday, as in `date.weekday()`."""

    week: tuple[tuple[TimeRange, ...], ...]
    tz: str = DEFAULT_TZ
    makeup_as: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "tz": self.tz,
            "week": {DAY_NAMES[i]: [str(r) for r in rs] for i, rs in enumerate(self.week) if rs},
            "makeup_as": DAY_NAMES[self.makeup_as],
        }


@dataclass(frozen=True)
class HolidayCalendar:
    holidays: Mapping[date, str] = field(default_factory=dict)  # date -> name (春节 ...)
    workdays: Mapping[date, str] = field(default_factory=dict)  # make-up working days

    def holiday(self, day: date) -> str | None:
        return self.holidays.get(day)

    def is_makeup_workday(self, day: date) -> bool:
        return day in self.workdays

    def to_dict(self) -> dict[str, object]:
        return {"holidays": _export(self.holidays), "workdays": _export(self.workdays)}


def _export(days: Mapping[date, str]) -> list[dict[str, str]]:
    """Runs of consecutive days with one name become one 'first/last' entry, as an
    admin would have typed them."""
    out: list[dict[str, str]] = []
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and day - runs[-1][-1] == timedelta(days=1) and days[runs[-1][0]] == days[day]:
            runs[-1].append(day)
        else:
            runs.append([day])
    for run in runs:
        text = run[0].isoformat()
        if len(run) > 1:
            text += "/" + run[-1].isoformat()
        entry = {"date": text}
        if days[run[0]]:
            entry["name"] = days[run[0]]
        out.append(entry)
    return out


def to_local(when: float | datetime, tz: str) -> datetime:
    """Epoch seconds or an aware datetime -> local time in `tz`.

    Naive datetimes are refused: guessing their zone is how a hotline ends up opening
    eight hours late on a box whose system clock runs in UTC.
    """
    zone = ZoneInfo(tz)
    if isinstance(when, datetime):
        if when.tzinfo is None:
            raise ValueError("naive datetime: give epoch seconds or an aware datetime")
        return when.astimezone(zone)
    return datetime.fromtimestamp(when, UTC).astimezone(zone)


def _ranges_starting_on(day: date, schedule: WeeklySchedule,
                        calendar: HolidayCalendar | None) -> tuple[TimeRange, ...]:
    if calendar is not None:
        if calendar.holiday(day) is not None:
            return ()
        if calendar.is_makeup_workday(day):
            return schedule.week[schedule.makeup_as]
    return schedule.week[day.weekday()]


def evaluate(schedule: WeeklySchedule, calendar: HolidayCalendar | None,
             when: float | datetime) -> TimeStatus:
    local = to_local(when, schedule.tz)
    day = local.date()
    tod = local.hour * 3600 + local.minute * 60 + local.second
    for r in _ranges_starting_on(day, schedule, calendar):
        if (r.start <= tod < r.end) if not r.overnight else tod >= r.start:
            return TimeStatus.OPEN
    for r in _ranges_starting_on(day - timedelta(days=1), schedule, calendar):
        if r.overnight and tod < r.end:
            return TimeStatus.OPEN
    if calendar is not None and calendar.holiday(day) is not None:
        return TimeStatus.HOLIDAY
    return TimeStatus.CLOSED


# --- parsing (JSON -> objects), collecting every error ----------------------------


def _parse_range(text: object, path: str, found: Findings) -> TimeRange | None:
    m = _RANGE_RE.match(text) if isinstance(text, str) else None
    if m is None:
        found.error(None, path, f"expected 'HH:MM-HH:MM', got {text!r}")
        return None
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
    if h1 > 23 or m1 > 59 or m2 > 59 or end > _DAY_SECONDS:
        found.error(None, path, f"time out of range in {text!r}")
        return None
    if start == end:
        found.error(None, path, f"empty range {text!r} (use 00:00-24:00 for all day)")
        return None
    if end == _DAY_SECONDS and start == 0:
        return TimeRange(0, _DAY_SECONDS)
    return TimeRange(start, end)


def _parse_days(key: str) -> list[int] | None:
    """'mon' or a span 'mon-fri'; spans may wrap ('fri-mon')."""
    parts = key.split("-")
    if len(parts) == 1 and parts[0] in DAY_NAMES:
        return [DAY_NAMES.index(parts[0])]
    if len(parts) == 2 and parts[0] in DAY_NAMES and parts[1] in DAY_NAMES:
        a, b = DAY_NAMES.index(parts[0]), DAY_NAMES.index(parts[1])
        return [(a + i) % 7 for i in range((b - a) % 7 + 1)]
    return None


def parse_schedule(data: object, path: str, found: Findings) -> WeeklySchedule | None:
    if not isinstance(data, dict):
        found.error(None, path, "expected an object")
        return None
    before = len(found.errors)
    for key in data:
        if key not in {"tz", "week", "makeup_as"}:
            found.error(None, f"{path}.{key}", "unknown field")
    tz = data.get("tz", DEFAULT_TZ)
    if not isinstance(tz, str):
        found.error(None, f"{path}.tz", "expected a time zone name")
        tz = DEFAULT_TZ
    else:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            found.error(None, f"{path}.tz", f"unknown time zone {tz!r}")
    makeup = data.get("makeup_as", "mon")
    if makeup not in DAY_NAMES:
        found.error(None, f"{path}.makeup_as", f"expected one of {', '.join(DAY_NAMES)}")
        makeup = "mon"
    week: list[list[TimeRange]] = [[] for _ in range(7)]
    raw_week = data.get("week")
    if not isinstance(raw_week, dict):
        found.error(None, f"{path}.week", "required: an object of day -> ranges")
        raw_week = {}
    for key, ranges in raw_week.items():
        days = _parse_days(key)
        if days is None:
            found.error(None, f"{path}.week.{key}", "expected a day ('mon') or span ('mon-fri')")
            continue
        if not isinstance(ranges, list):
            found.error(None, f"{path}.week.{key}", "expected a list of 'HH:MM-HH:MM'")
            continue
        for i, text in enumerate(ranges):
            r = _parse_range(text, f"{path}.week.{key}.{i}", found)
            if r is not None:
                for d in days:
                    week[d].append(r)
    if len(found.errors) > before:
        return None
    return WeeklySchedule(
        week=tuple(tuple(sorted(set(rs), key=lambda r: (r.start, r.end))) for rs in week),
        tz=tz,
        makeup_as=DAY_NAMES.index(makeup),
    )


def _parse_date(text: object, path: str, found: Findings) -> date | None:
    try:
        if isinstance(text, str) and len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    found.error(None, path, f"expected a date 'YYYY-MM-DD', got {text!r}")
    return None


def _parse_entries(entries: object, path: str, found: Findings) -> dict[date, str]:
    """Entries are 'YYYY-MM-DD', 'YYYY-MM-DD/YYYY-MM-DD' (ISO 8601 interval, inclusive),
    or {"date": ..., "name": ...} with the same date forms."""
    out: dict[date, str] = {}
    if not isinstance(entries, list):
        found.error(None, path, "expected a list")
        return out
    for i, entry in enumerate(entries):
        where = f"{path}.{i}"
        name = ""
        if isinstance(entry, dict):
            unknown = set(entry) - {"date", "name"}
            if unknown:
                found.error(None, f"{where}.{sorted(unknown)[0]}", "unknown field")
            name_obj = entry.get("name", "")
            if not isinstance(name_obj, str):
                found.error(None, f"{where}.name", "expected a string")
            else:
                name = name_obj
            entry, where = entry.get("date"), f"{where}.date"
        if isinstance(entry, str) and "/" in entry:
            first_text, _, last_text = entry.partition("/")
            first = _parse_date(first_text, where, found)
            last = _parse_date(last_text, where, found)
            if first is None or last is None:
                continue
            if last < first:
                found.error(None, where, "range ends before it starts")
                continue
            if (last - first).days > 366:
                found.error(None, where, "range longer than a year")
                continue
            for n in range((last - first).days + 1):
                out[first + timedelta(days=n)] = name
        else:
            day = _parse_date(entry, where, found)
            if day is not None:
                out[day] = name
    return out


def parse_calendar(data: object, path: str, found: Findings) -> HolidayCalendar | None:
    if not isinstance(data, dict):
        found.error(None, path, "expected an object")
        return None
    before = len(found.errors)
    for key in data:
        if key not in {"holidays", "workdays"}:
            found.error(None, f"{path}.{key}", "unknown field")
    holidays = _parse_entries(data.get("holidays", []), f"{path}.holidays", found)
    workdays = _parse_entries(data.get("workdays", []), f"{path}.workdays", found)
    for day in sorted(set(holidays) & set(workdays)):
        found.error(None, f"{path}.workdays", f"{day} is also a holiday")
    if len(found.errors) > before:
        return None
    return HolidayCalendar(holidays=holidays, workdays=workdays)
