"""Weekly schedules, overnight ranges, holidays and make-up working days (调休)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from firmware.ivr.errors import Findings
from firmware.ivr.timerules import (
    HolidayCalendar,
    TimeStatus,
    WeeklySchedule,
    evaluate,
    parse_calendar,
    parse_schedule,
    to_local,
)

SH = ZoneInfo("Asia/Shanghai")


def at(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0) -> float:
    """Epoch seconds of a Shanghai wall-clock time: what the runner is given."""
    return datetime(y, mo, d, h, mi, s, tzinfo=SH).timestamp()


def schedule(week: object, **extra: object) -> WeeklySchedule:
    found = Findings()
    sched = parse_schedule({"week": week, **extra}, "s", found)
    assert sched is not None, found.errors
    return sched


def calendar(data: object) -> HolidayCalendar:
    found = Findings()
    cal = parse_calendar(data, "c", found)
    assert cal is not None, found.errors
    return cal


OFFICE = schedule({"mon-fri": ["08:00-18:00"]})
CN = calendar({
    "holidays": [{"date": "2025-10-01/2025-10-08", "name": "国庆节"}, "2025-01-01"],
    "workdays": [{"date": "2025-09-28", "name": "调休"}, "2025-10-11"],
})


def test_weekday_hours_end_is_exclusive() -> None:
    # 2025-03-04 is a Tuesday
    assert evaluate(OFFICE, None, at(2025, 3, 4, 7, 59, 59)) is TimeStatus.CLOSED
    assert evaluate(OFFICE, None, at(2025, 3, 4, 8)) is TimeStatus.OPEN
    assert evaluate(OFFICE, None, at(2025, 3, 4, 17, 59, 59)) is TimeStatus.OPEN
    assert evaluate(OFFICE, None, at(2025, 3, 4, 18)) is TimeStatus.CLOSED
    assert evaluate(OFFICE, None, at(2025, 3, 8, 10)) is TimeStatus.CLOSED  # Saturday


def test_time_zone_of_the_schedule_not_of_the_box() -> None:
    # 02:00 UTC is 10:00 in Shanghai: open, even if the box clock runs in UTC.
    when = datetime(2025, 3, 4, 2, 0, tzinfo=UTC)
    assert evaluate(OFFICE, None, when) is TimeStatus.OPEN
    assert evaluate(OFFICE, None, when.timestamp()) is TimeStatus.OPEN
    london = schedule({"mon-fri": ["08:00-18:00"]}, tz="Europe/London")
    assert evaluate(london, None, when) is TimeStatus.CLOSED  # 02:00 in London
    with pytest.raises(ValueError):
        to_local(datetime(2025, 3, 4, 10, 0), "Asia/Shanghai")


def test_overnight_range_belongs_to_the_day_it_starts() -> None:
    night = schedule({"fri": ["22:00-06:00"]})
    assert evaluate(night, None, at(2025, 3, 7, 21, 59)) is TimeStatus.CLOSED  # Friday
    assert evaluate(night, None, at(2025, 3, 7, 23)) is TimeStatus.OPEN
    assert evaluate(night, None, at(2025, 3, 8, 5, 59)) is TimeStatus.OPEN  # Saturday early
    assert evaluate(night, None, at(2025, 3, 8, 6)) is TimeStatus.CLOSED
    assert evaluate(night, None, at(2025, 3, 8, 23)) is TimeStatus.CLOSED  # not Saturday's
    assert evaluate(night, None, at(2025, 3, 7, 3)) is TimeStatus.CLOSED  # Thursday had none


def test_overnight_shift_runs_into_a_holiday_morning() -> None:
    night = schedule({"mon-sun": ["20:00-08:00"]})
    # 2025-09-30 (working day) 20:00 -> 10-01 08:00 continues; 10-01 evening does not start
    assert evaluate(night, CN, at(2025, 10, 1, 7)) is TimeStatus.OPEN
    assert evaluate(night, CN, at(2025, 10, 1, 9)) is TimeStatus.HOLIDAY
    assert evaluate(night, CN, at(2025, 10, 1, 21)) is TimeStatus.HOLIDAY


def test_all_day_and_several_ranges() -> None:
    split = schedule({"mon": ["08:30-12:00", "13:30-17:30"], "sun": ["00:00-24:00"]})
    assert evaluate(split, None, at(2025, 3, 3, 12, 30)) is TimeStatus.CLOSED  # lunch
    assert evaluate(split, None, at(2025, 3, 3, 14)) is TimeStatus.OPEN
    assert evaluate(split, None, at(2025, 3, 9, 0)) is TimeStatus.OPEN
    assert evaluate(split, None, at(2025, 3, 9, 23, 59, 59)) is TimeStatus.OPEN


def test_holiday_closes_a_weekday() -> None:
    assert evaluate(OFFICE, CN, at(2025, 10, 1, 10)) is TimeStatus.HOLIDAY  # Wednesday
    assert evaluate(OFFICE, CN, at(2025, 10, 8, 10)) is TimeStatus.HOLIDAY  # range end incl.
    assert evaluate(OFFICE, CN, at(2025, 10, 9, 10)) is TimeStatus.OPEN
    assert evaluate(OFFICE, CN, at(2025, 1, 1, 10)) is TimeStatus.HOLIDAY
    assert CN.holiday(date(2025, 10, 3)) == "国庆节"


def test_makeup_working_day_uses_weekday_hours() -> None:
    # 2025-09-28 is a Sunday and 2025-10-11 a Saturday, both worked (调休)
    assert evaluate(OFFICE, CN, at(2025, 9, 28, 10)) is TimeStatus.OPEN
    assert evaluate(OFFICE, CN, at(2025, 9, 28, 19)) is TimeStatus.CLOSED
    assert evaluate(OFFICE, CN, at(2025, 10, 11, 8)) is TimeStatus.OPEN
    assert evaluate(OFFICE, None, at(2025, 10, 11, 8)) is TimeStatus.CLOSED
    assert evaluate(OFFICE, CN, at(2025, 10, 18, 10)) is TimeStatus.CLOSED  # plain Saturday
    friday = schedule({"mon-thu": ["08:00-18:00"], "fri": ["08:00-12:00"]}, makeup_as="fri")
    assert evaluate(friday, CN, at(2025, 10, 11, 13)) is TimeStatus.CLOSED


def test_day_spans_wrap_around_the_week() -> None:
    weekend = schedule({"sat-sun": ["09:00-12:00"], "fri-mon": ["20:00-21:00"]})
    assert evaluate(weekend, None, at(2025, 3, 9, 10)) is TimeStatus.OPEN  # Sunday
    assert evaluate(weekend, None, at(2025, 3, 10, 20, 30)) is TimeStatus.OPEN  # Monday
    assert evaluate(weekend, None, at(2025, 3, 11, 20, 30)) is TimeStatus.CLOSED  # Tuesday


def test_schedule_errors_name_the_field() -> None:
    found = Findings()
    data = {
        "tz": "Mars/Olympus",
        "week": {"mon": ["08:00-18:00", "9-17", "10:00-10:00", "23:00-25:00"], "xyz": []},
        "makeup_as": "monday",
        "colour": "red",
    }
    assert parse_schedule(data, "schedules.office", found) is None
    fields = {e.field for e in found.errors}
    assert fields == {
        "schedules.office.tz",
        "schedules.office.week.mon.1",
        "schedules.office.week.mon.2",
        "schedules.office.week.mon.3",
        "schedules.office.week.xyz",
        "schedules.office.makeup_as",
        "schedules.office.colour",
    }
    assert all(e.node is None for e in found.errors)


def test_calendar_errors() -> None:
    found = Findings()
    data = {
        "holidays": ["2025-02-30", "2025-05-05/2025-05-01", {"date": "2025-06-01", "x": 1}],
        "workdays": ["2025-01-01", "2025-06-01"],
    }
    assert parse_calendar(data, "calendars.cn", found) is None
    messages = {(e.field, e.message.split(" ")[0]) for e in found.errors}
    assert ("calendars.cn.holidays.0", "expected") in messages
    assert ("calendars.cn.holidays.1", "range") in messages
    assert ("calendars.cn.holidays.2.x", "unknown") in messages
    assert ("calendars.cn.workdays", "2025-06-01") in messages


def test_round_trip_merges_runs() -> None:
    data = CN.to_dict()
    assert data["holidays"] == [{"date": "2025-01-01"},
                                {"date": "2025-10-01/2025-10-08", "name": "国庆节"}]
    assert calendar(data) == CN
    assert schedule(OFFICE.to_dict()["week"]) == OFFICE
