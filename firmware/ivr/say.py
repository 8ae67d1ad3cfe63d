"""Mandarin readings of numbers, amounts, digit strings and dates as prompt names.

The IVR speaks by concatenating short stock prompts (as Asterisk's say.c does), so a
reading is a list of prompt names: 1234.5 yuan -> 1 thousand 2 hundred 3 ten 4 point 5
yuan. The Mandarin rules that matter on a hotline:

- 零 once for any run of zeros inside a number (1005 一千零五, 10010 一万零一十), none
  at the end (1200 一千二百), and 零 where a 万/亿 group below the top one lacks its
  thousands (100010000 一亿零一万);
- 十 at the very start drops its 一 (15 十五, 100000 十万) but keeps it inside (一千零一十);
- 两 instead of 二 for the leading 2 before 百/千/万/亿 (两千, 两万) and for a bare 2
  counting a measure word (两元, 两角), 二 everywhere else (十二, 二十, 二点五);
- digit strings (account and phone numbers) read 1 as 幺 (yāo), as Chinese operators
  and hotlines do, so it cannot be misheard as 七;
- years as digit strings with 零 (二零二五年), months and days as numbers.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

DIGITS = tuple(str(d) for d in range(10))
# Prompt names of the words (their Mandarin text is in prompts.py).
TEN, HUNDRED, THOUSAND = "ten", "hundred", "thousand"
WAN, YI = "ten_thousand", "hundred_million"  # 万, 亿
LIANG, YAO, MINUS, POINT = "liang", "yao", "minus", "point"
YUAN, JIAO, FEN, ZHENG = "yuan", "jiao", "fen", "zheng"
YEAR, MONTH, DAY, WEEKDAY = "year", "month", "day", "weekday"
STAR, POUND = "star", "pound"

_IN_GROUP_UNITS = ("", TEN, HUNDRED, THOUSAND)
MAX_NUMBER = 10**16 - 1  # 九千九百九十九万亿...: beyond that, read digits instead

SAY_PROMPTS: frozenset[str] = frozenset((
    *DIGITS, TEN, HUNDRED, THOUSAND, WAN, YI, LIANG, YAO, MINUS, POINT,
    YUAN, JIAO, FEN, ZHENG, YEAR, MONTH, DAY, WEEKDAY, STAR, POUND,
))


class SayKind(StrEnum):
    NUMBER = "number"
    AMOUNT = "amount"
    DIGITS = "digits"
    DATE = "date"


class AmountStyle(StrEnum):
    POINT = "point"  # 十二点零五元: what utility hotlines say for a balance
    YUAN_JIAO_FEN = "yuan_jiao_fen"  # 十二元零五分: the bank-counter reading


class SayError(ValueError):
    """A value that cannot be read (not a number, out of range, bad date)."""


def _group(value: int, *, first: bool, liang_alone: bool) -> list[str]:
    """Read 1..9999. `first`: this group starts the whole number (十/两 rules apply).
    `liang_alone`: a lone leading 2 in the units place is followed by a unit or a
    measure word, so it is 两 (两万, 两元)."""
    out: list[str] = []
    zero_pending = False
    for pos in (3, 2, 1, 0):
        d = value // 10**pos % 10
        if d == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append("0")
            zero_pending = False
        leading = first and not out
        if pos == 1 and d == 1 and leading:
            out.append(TEN)
            continue
        if d == 2 and leading and (pos >= 2 or (pos == 0 and liang_alone)):
            out.append(LIANG)
        else:
            out.append(DIGITS[d])
        if pos:
            out.append(_IN_GROUP_UNITS[pos])
    return out


def _below_yi(value: int, *, first: bool, liang_alone: bool) -> list[str]:
    """Read 1..99999999: an optional 万 group, then the units group."""
    high, low = divmod(value, 10**4)
    out: list[str] = []
    if high:
        out += [*_group(high, first=first, liang_alone=True), WAN]
        if low and low < 1000:
            out.append("0")  # 一万零一十
    if low:
        out += _group(low, first=first and not high, liang_alone=liang_alone)
    return out


def say_integer(value: int, *, measure: bool = False) -> list[str]:
    """`measure`: the number counts a following measure word (元, 角, 分 ...)."""
    if value < 0:
        return [MINUS, *say_integer(-value, measure=measure)]
    if value > MAX_NUMBER:
        raise SayError(f"{value} is too large to read")
    if value == 0:
        return ["0"]
    # Above 亿 the multiplier is itself read with 万: 1.2e12 is 一万二千亿, not 一万亿二千亿.
    high, low = divmod(value, 10**8)
    out: list[str] = []
    if high:
        out += [*_below_yi(high, first=True, liang_alone=True), YI]
        if low and low < 10**7:
            out.append("0")  # 一亿零一万
    if low:
        out += _below_yi(low, first=not high, liang_alone=measure)
    return out


def _decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int | str):
        try:
            d = Decimal(str(value).strip().replace(",", ""))
        except InvalidOperation:
            raise SayError(f"not a number: {value!r}") from None
    else:
        raise SayError(f"not a number: {value!r}")
    if not d.is_finite():
        raise SayError(f"not a number: {value!r}")
    return d


def _fraction_digits(d: Decimal) -> str:
    """Digits after the point, trailing zeros dropped ('12.50' -> '5')."""
    text = format(abs(d), "f")
    return text.partition(".")[2].rstrip("0")


def say_number(value: object, *, measure: bool = False) -> list[str]:
    """Integers and decimals: 12.05 -> 十二点零五 (fraction read digit by digit)."""
    d = _decimal(value)
    sign = [MINUS] if d < 0 and d != 0 else []
    whole = int(abs(d))
    frac = _fraction_digits(d)
    if not frac:
        return sign + say_integer(whole, measure=measure)
    return sign + say_integer(whole) + [POINT] + [DIGITS[int(c)] for c in frac]


def say_amount(value: object, *, style: AmountStyle = AmountStyle.POINT) -> list[str]:
    """An amount in yuan, rounded half-up to the fen."""
    d = _decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if style is AmountStyle.POINT:
        return [*say_number(d, measure=True), YUAN]
    sign = [MINUS] if d < 0 else []
    fen_total = int(abs(d) * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if fen_total == 0:
        return ["0", YUAN]
    out: list[str] = []
    if yuan:
        out += [*say_integer(yuan, measure=True), YUAN]
    if jiao:
        out += [*say_integer(jiao, measure=True), JIAO]
    elif yuan and fen:
        out.append("0")  # 十二元零五分
    if fen:
        out += [*say_integer(fen, measure=True), FEN]
    if not jiao and not fen:
        out.append(ZHENG)  # 十二元整
    return sign + out


def say_digits(value: str, *, yao: bool = True) -> list[str]:
    """Digit by digit; spaces and dashes (as in '0571-8888 1234') are skipped."""
    out: list[str] = []
    for c in value:
        if c in " -":
            continue
        if c == "1" and yao:
            out.append(YAO)
        elif c in DIGITS:
            out.append(c)
        elif c == "*":
            out.append(STAR)
        elif c == "#":
            out.append(POUND)
        else:
            raise SayError(f"cannot read {c!r} as a digit")
    if not out:
        raise SayError("no digits to read")
    return out


def say_date(value: date | str, *, weekday: bool = False) -> list[str]:
    """2025-03-08 -> 二零二五年三月八日 [星期六]."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise SayError(f"not a date 'YYYY-MM-DD': {value!r}") from None
    out = [*say_digits(str(value.year), yao=False), YEAR]
    out += [*say_integer(value.month), MONTH, *say_integer(value.day), DAY]
    if weekday:
        wd = value.isoweekday()
        out += [WEEKDAY, DAY if wd == 7 else DIGITS[wd]]  # 星期日 for Sunday
    return out


def say(kind: SayKind, value: str, *, style: AmountStyle = AmountStyle.POINT) -> list[str]:
    """The dispatcher the runner uses for `say` nodes."""
    if kind is SayKind.NUMBER:
        return say_number(value)
    if kind is SayKind.AMOUNT:
        return say_amount(value, style=style)
    if kind is SayKind.DIGITS:
        return say_digits(value)
    return say_date(value)
