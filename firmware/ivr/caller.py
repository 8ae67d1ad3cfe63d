"""Caller-ID matching for `caller` nodes (blacklists, VIP lists, area prefixes).

Caller IDs arrive in several shapes for the same subscriber: "+8657188881234" from a
SIP trunk, "057188881234" from an E1 span, "13912345678" or "+8613912345678" for a
mobile. Lists are written the way staff write numbers (national form), so both sides
are reduced to the national form before comparing.
"""

from __future__ import annotations

from collections.abc import Iterable

# What carriers and PBXs put in the caller ID when it is withheld or unknown.
_ANONYMOUS = frozenset({"", "anonymous", "unknown", "restricted", "private", "unavailable"})


def is_anonymous(caller: str) -> bool:
    text = caller.strip().lower()
    return text in _ANONYMOUS or not any(c.isdigit() for c in text)


def normalize_cn(number: str) -> str:
    """National form: '+86 571 8888-1234' -> '057188881234', '+8613912345678' -> '13912345678'."""
    digits = "".join(c for c in number if c.isdigit() or c == "+")
    for intl in ("+86", "0086"):
        if digits.startswith(intl):
            rest = digits[len(intl):]
            # Mobiles (1xx) have no trunk prefix; landlines take the leading 0 back.
            return rest if rest.startswith("1") else "0" + rest
    return digits.lstrip("+")


def matches(caller: str, entries: Iterable[str]) -> bool:
    """Entries are numbers, or prefixes ending in '*' ('0571*' = Hangzhou landlines)."""
    number = normalize_cn(caller)
    for entry in entries:
        entry = entry.strip()
        if entry.endswith("*"):
            if number.startswith(normalize_cn(entry[:-1])):
                return True
        elif number == normalize_cn(entry):
            return True
    return False
