"""Walking SIP header text with quoted strings in it (RFC 3261 25.1 quoted-string).

Commas, semicolons and angle brackets inside `"..."` are text, not structure, and a
backslash inside quotes escapes the next character. Every splitter of the stack goes
through `scan`, so they all agree on what is quoted.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import Enum


class At(Enum):
    PLAIN = "plain"  # structure: separators count here
    QUOTED = "quoted"  # inside "...", including the closing quote
    ESCAPED = "escaped"  # the character after a backslash inside quotes


def scan(text: str) -> Iterator[tuple[int, str, At]]:
    quoted = escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
            yield i, ch, At.ESCAPED
        elif quoted:
            if ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            yield i, ch, At.QUOTED
        else:
            if ch == '"':
                quoted = True
                yield i, ch, At.QUOTED
            else:
                yield i, ch, At.PLAIN


def split_unquoted(text: str, sep: str, angle_brackets: bool = False) -> list[str]:
    """Split at `sep` outside quotes (and outside <...> if asked). Parts are kept as they
    are, empty ones included: callers decide whether an empty element is an error."""
    # Most header values have no quotes and no brackets: then quoting cannot change the
    # answer and str.split gives it for a fraction of the character walk's cost.
    if sep not in text:
        return [text]
    if '"' not in text and (not angle_brackets or "<" not in text):
        return text.split(sep)
    return split_scanning(text, sep, angle_brackets)


def split_scanning(text: str, sep: str, angle_brackets: bool = False) -> list[str]:
    """`split_unquoted` by walking every character (the reference for its fast paths)."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch, at in scan(text):
        if at is not At.PLAIN:
            continue
        if angle_brackets and ch == "<":
            depth += 1
        elif angle_brackets and ch == ">":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def has_bare_nul(text: str) -> bool:
    """A NUL is only legal escaped inside a quoted string (RFC 4475 3.1.1.2)."""
    if "\x00" not in text:
        return False
    return any(ch == "\x00" and at is not At.ESCAPED for _, ch, at in scan(text))
