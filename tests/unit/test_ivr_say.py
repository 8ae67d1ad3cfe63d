"""Mandarin readings: prompt-name sequences for numbers, amounts, digits and dates."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware.ivr.prompts import CATALOGUE
from firmware.ivr.say import (
    SAY_PROMPTS,
    AmountStyle,
    SayError,
    SayKind,
    say,
    say_amount,
    say_date,
    say_digits,
    say_integer,
    say_number,
)

# Prompt name -> character, to write expectations as the Mandarin a listener hears.
_CHARS = {name: CATALOGUE[name].text for name in SAY_PROMPTS}


def spoken(words: list[str]) -> str:
    return "".join(_CHARS[w] for w in words)


@pytest.mark.parametrize(("n", "text"), [
    (0, "零"),
    (1, "一"),
    (2, "二"),
    (10, "十"),
    (15, "十五"),
    (20, "二十"),
    (22, "二十二"),
    (105, "一百零五"),
    (110, "一百一十"),
    (200, "两百"),
    (1000, "一千"),
    (1005, "一千零五"),
    (1010, "一千零一十"),
    (1050, "一千零五十"),
    (1200, "一千二百"),
    (2000, "两千"),
    (2222, "两千二百二十二"),
    (10010, "一万零一十"),
    (10100, "一万零一百"),
    (11000, "一万一千"),
    (20000, "两万"),
    (100000, "十万"),
    (150000, "十五万"),
    (120000, "十二万"),
    (1000000, "一百万"),
    (10000000, "一千万"),
    (100000000, "一亿"),
    (100010000, "一亿零一万"),
    (100001000, "一亿零一千"),
    (100000005, "一亿零五"),
    (101000000, "一亿零一百万"),
    (220000000, "两亿二千万"),
    (1002003004, "十亿零二百万三千零四"),
    (10**12, "一万亿"),
    (12 * 10**11, "一万二千亿"),
    (2 * 10**12, "两万亿"),
    (10**12 + 1, "一万亿零一"),
    (10**16 - 1, "九千九百九十九万九千九百九十九亿九千九百九十九万九千九百九十九"),
])
def test_integers(n: int, text: str) -> None:
    assert spoken(say_integer(n)) == text


def test_brief_examples_as_prompt_names() -> None:
    assert say_amount("1234.5") == ["1", "thousand", "2", "hundred", "3", "ten", "4",
                                    "point", "5", "yuan"]
    assert say_integer(15) == ["ten", "5"]
    assert say_integer(10010) == ["1", "ten_thousand", "0", "1", "ten"]
    assert say_integer(100000000) == ["1", "hundred_million"]


def test_liang_counts_a_measure_word_only_when_alone() -> None:
    assert spoken(say_integer(2, measure=True)) == "两"
    assert spoken(say_integer(12, measure=True)) == "十二"
    assert spoken(say_integer(2)) == "二"


def test_negative_and_limits() -> None:
    assert spoken(say_integer(-15)) == "负十五"
    assert say_integer(10**16 - 1)[0] == "9"
    with pytest.raises(SayError):
        say_integer(10**16)


@pytest.mark.parametrize(("value", "text"), [
    ("12.05", "十二点零五"),
    ("3.10", "三点一"),  # trailing zeros of a fraction are not read
    ("0.5", "零点五"),
    ("-0.5", "负零点五"),
    ("2.5", "二点五"),
    ("1,234", "一千二百三十四"),
    ("100", "一百"),
])
def test_decimal_numbers(value: str, text: str) -> None:
    assert spoken(say_number(value)) == text


@pytest.mark.parametrize(("value", "text"), [
    ("12.05", "十二点零五元"),
    ("1234.5", "一千二百三十四点五元"),
    ("2", "两元"),
    ("2.00", "两元"),
    ("0.5", "零点五元"),
    ("0", "零元"),
    ("12.345", "十二点三五元"),  # rounded half-up to the fen
    ("20000", "两万元"),
])
def test_amount_point_style(value: str, text: str) -> None:
    assert spoken(say_amount(value)) == text


@pytest.mark.parametrize(("value", "text"), [
    ("12.05", "十二元零五分"),
    ("12.50", "十二元五角"),
    ("12", "十二元整"),
    ("2", "两元整"),
    ("0.05", "五分"),
    ("0.2", "两角"),
    ("10.05", "十元零五分"),
    ("1234.56", "一千二百三十四元五角六分"),
    ("0", "零元"),
    ("-3.5", "负三元五角"),
])
def test_amount_yuan_jiao_fen(value: str, text: str) -> None:
    assert spoken(say_amount(value, style=AmountStyle.YUAN_JIAO_FEN)) == text


def test_digits_read_one_as_yao() -> None:
    assert spoken(say_digits("96777")) == "九六七七七"
    assert spoken(say_digits("10086")) == "幺零零八六"
    assert spoken(say_digits("0571-8888 1234", yao=False)) == "零五七一八八八八一二三四"
    assert spoken(say_digits("*1#")) == "星号幺井号"
    with pytest.raises(SayError):
        say_digits("12a")
    with pytest.raises(SayError):
        say_digits("--")


def test_dates() -> None:
    assert spoken(say_date("2025-03-08")) == "二零二五年三月八日"
    assert spoken(say_date(date(2025, 12, 20))) == "二零二五年十二月二十日"
    assert spoken(say_date("2025-03-09", weekday=True)) == "二零二五年三月九日星期日"
    assert spoken(say_date("2025-03-04", weekday=True)) == "二零二五年三月四日星期二"
    with pytest.raises(SayError):
        say_date("2025-02-30")


def test_bad_values() -> None:
    for bad in ("", "abc", "NaN", "Infinity"):
        with pytest.raises(SayError):
            say_number(bad)


def test_dispatch() -> None:
    assert say(SayKind.NUMBER, "15") == ["ten", "5"]
    assert say(SayKind.AMOUNT, "2", style=AmountStyle.YUAN_JIAO_FEN) == ["liang", "yuan", "zheng"]
    assert say(SayKind.DIGITS, "12") == ["yao", "2"]
    assert say(SayKind.DATE, "2025-01-01")[-1] == "day"


def test_every_reading_uses_catalogue_prompts() -> None:
    # Sweep many values: any new word in say.py must also be added to the catalogue.
    words: set[str] = set()
    for n in [*range(0, 2100, 7), 10**4, 10**8, 10**12, 2 * 10**8, 10**16 - 1]:
        words.update(say_integer(n), say_integer(-n, measure=True))
    for v in ("0.01", "0.2", "12.05", "3", "-9.99"):
        for style in AmountStyle:
            words.update(say_amount(v, style=style))
    words.update(say_digits("0123456789*#"), say_date("2025-06-01", weekday=True))
    assert words <= SAY_PROMPTS
    assert set(CATALOGUE) >= SAY_PROMPTS


_UNITS = {"ten": 10, "hundred": 100, "thousand": 1000}


def _read_back(words: list[str]) -> int:
    """A listener's reading of the prompt names back into a number."""
    if "hundred_million" in words:
        i = words.index("hundred_million")
        return _read_back(words[:i]) * 10**8 + _read_back(words[i + 1:])
    if "ten_thousand" in words:
        i = words.index("ten_thousand")
        return _read_back(words[:i]) * 10**4 + _read_back(words[i + 1:])
    total, digit = 0, None
    for w in words:
        if w in _UNITS:
            total += (1 if digit is None else digit) * _UNITS[w]
            digit = None
        elif w != "0":
            digit = 2 if w == "liang" else int(w)
    return total + (digit or 0)


@given(st.integers(min_value=1, max_value=10**16 - 1), st.booleans())
def test_readings_are_exact_and_follow_the_zero_rules(n: int, measure: bool) -> None:
    words = say_integer(n, measure=measure)
    assert _read_back(words) == n
    assert words[-1] != "0"  # no trailing 零
    assert all(not (a == b == "0") for a, b in pairwise(words))  # one 零 per run
    assert "liang" not in words[1:]  # 两 only leads
    # 十 drops its 一 only at the very start: elsewhere a digit says how many tens.
    assert all(words[i - 1] in "123456789" for i, w in enumerate(words) if w == "ten" and i)
    assert words.count("hundred_million") <= 1 and words.count("ten_thousand") <= 2
