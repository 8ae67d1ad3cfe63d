"""Tables stay aligned when cells hold Chinese text."""

from __future__ import annotations

from firmware.cli.table import display_width, format_table


def test_cjk_counts_double() -> None:
    assert display_width("坐席01") == 6
    assert display_width("班长") == 4
    assert display_width("abc") == 3


def test_columns_line_up() -> None:
    text = format_table(("number", "name", "x"), [("8001", "坐席01", "A"), ("8101", "班长", None)])
    lines = text.splitlines()
    # Where the third column starts, in terminal columns, must be the same on every line.
    starts = [display_width(ln[: ln.rindex(last)]) for ln, last in zip(lines, "xA-", strict=True)]
    assert starts[0] == starts[1] == starts[2]
