"""Caller-ID normalisation and matching for `caller` nodes."""

from __future__ import annotations

import pytest

from firmware.ivr.caller import is_anonymous, matches, normalize_cn


@pytest.mark.parametrize(("raw", "national"), [
    ("+8657188881234", "057188881234"),
    ("+86 571 8888-1234", "057188881234"),
    ("008657188881234", "057188881234"),
    ("+8613912345678", "13912345678"),
    ("13912345678", "13912345678"),
    ("057188881234", "057188881234"),
    ("(0571) 8888 1234", "057188881234"),
    ("+14155550100", "14155550100"),
])
def test_normalize(raw: str, national: str) -> None:
    assert normalize_cn(raw) == national


def test_matches_numbers_and_prefixes() -> None:
    entries = ["13800000000", "0571*", "+86 21*"]
    assert matches("+8613800000000", entries)
    assert matches("057188881234", entries)
    assert matches("+8602112345678", entries) is False  # "+860..." is not a valid form
    assert matches("+862112345678", entries)
    assert not matches("13800000001", entries)
    assert not matches("05721234567", entries)


@pytest.mark.parametrize("raw", ["", "  ", "anonymous", "Unknown", "PRIVATE", "restricted",
                                 "unavailable", "sip:anonymous"])
def test_anonymous(raw: str) -> None:
    assert is_anonymous(raw)


def test_not_anonymous() -> None:
    assert not is_anonymous("13912345678")
