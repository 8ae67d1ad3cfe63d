"""Queue log lines in Asterisk's queue_log layout, and back."""

from __future__ import annotations

import pytest

from firmware.acd import queuelog as ql


@pytest.mark.parametrize(
    ("record", "line"),
    [
        (ql.EnterQueue(1700000000.0, "c1", "q", "NONE", "13800000000", 3),
         "1700000000|c1|q|NONE|ENTERQUEUE||13800000000|3"),
        (ql.Connect(1700000012.5, "c1", "q", "1001", 12.5, "8001", 2.25),
         "1700000012.5|c1|q|1001|CONNECT|12.5|8001|2.25"),
        (ql.RingNoAnswer(1.0, "c1", "q", "1001", 15000), "1|c1|q|1001|RINGNOANSWER|15000"),
        (ql.CompleteCaller(2.0, "c1", "q", "1001", 12.0, 95.125, 1),
         "2|c1|q|1001|COMPLETECALLER|12|95.125|1"),
        (ql.Transfer(3.0, "c1", "q", "1001", "8100", 12.0, 30.0, 1),
         "3|c1|q|1001|TRANSFER|8100||12|30|1"),
        (ql.Abandon(4.0, "c1", "q", "NONE", 2, 5, 42.0), "4|c1|q|NONE|ABANDON|2|5|42"),
        (ql.ExitWithKey(5.0, "c1", "q", "NONE", "1", 2, 5, 42.0),
         "5|c1|q|NONE|EXITWITHKEY|1|2|5|42"),
        (ql.Pause(6.0, "NONE", "NONE", "1001", "lunch"), "6|NONE|NONE|1001|PAUSE|lunch"),
        (ql.AgentLogoff(7.0, "NONE", "NONE", "1001", "8001", 3600.0),
         "7|NONE|NONE|1001|AGENTLOGOFF|8001|3600"),
        (ql.AddMember(8.0, "NONE", "q", "1001"), "8|NONE|q|1001|ADDMEMBER"),
        (ql.WrapUpEnd(9.0, "c1", "q", "1001", 0.0004), "9|c1|q|1001|WRAPUPEND|0"),
    ],
)
def test_lines(record: ql.QueueLogRecord, line: str) -> None:
    assert record.line() == line


def test_parse_round_trip_and_errors() -> None:
    rec = ql.ExitWithTimeout(1700000000.25, "c9", "emergency", "NONE", 1, 4, 300.0)
    assert ql.parse_line(rec.line() + "\n") == rec
    with pytest.raises(ValueError, match="unknown queue log event 'BOGUS'"):
        ql.parse_line("1|c|q|NONE|BOGUS")
    with pytest.raises(ValueError, match="ABANDON needs 3 data columns, got 1"):
        ql.parse_line("1|c|q|NONE|ABANDON|2")
    with pytest.raises(ValueError, match="position is not a number: 'x'"):
        ql.parse_line("1|c|q|NONE|ABANDON|x|1|2")
    with pytest.raises(ValueError, match="at least 5"):
        ql.parse_line("1|c|q")
