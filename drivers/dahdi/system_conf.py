"""`/etc/dahdi/system.conf` from the board file and the database: a pure function.

`dahdi_cfg` reads it to configure spans and channels. What the board says (spans,
framing, timeslots, D-channel, FXO ports and their DAHDI channel numbers) is merged
with what the admin set in the database (setting `dahdi.spans`: per span `framing`,
`line_code`, `crc4`, `timing`), validated, and written as:

    loadzone = cn                    China's tones for DAHDI's tone generator
    defaultzone = cn
    dynamic=loc,1:0,31,0             only for a board span with "dynamic" (VM loopback);
                                     such a span gets no span= line (DAHDI refuses it)
    span=1,1,0,ccs,hdb3,crc4         span=<n>,<timing>,<line build-out>,<framing>,<coding>[,crc4]
    bchan=1-15,17-31                 B-channels (PRI) ...
    hardhdlc=16                      ... and the D-channel (hardhdlc or dchan)
    cas=1-15:1101                    MFC/R2: CAS channels, idle ABCD bits 1101
    fxsks=32                         an FXO port: FXS signalling, kewlstart

DAHDI numbers channels across spans: channel = 31 * (span - 1) + timeslot for E1 (24
for T1). Timing 1, 2, ... ranks the spans that take the clock from the line
(`far_end`); 0 means the span never gives timing (`internal`). No `echocanceller=`: the
box cancels echo on FXO legs itself (drivers/fxo/echo.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

SETTING = "dahdi.spans"
_FRAMINGS = {"E1": ("ccs", "cas"), "T1": ("esf", "d4")}
_CODINGS = {"E1": ("hdb3", "ami"), "T1": ("b8zs", "ami")}
_CHANNELS = {"E1": 31, "T1": 24}
_OVERRIDABLE = ("framing", "line_code", "crc4", "timing")
R2_IDLE_BITS = "1101"  # ITU-T Q.421 idle state, China No.1 as elsewhere


class SystemConfError(ValueError):
    """The board or the settings cannot make a valid system.conf; says what and where."""


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    start = prev = None
    for n in sorted(numbers):
        if start is None:
            start = prev = n
        elif prev is not None and n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if start != prev else f"{start}")
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if start != prev else f"{start}")
    return ",".join(out)


def parse_timeslots(text: str, where: str) -> list[int]:
    slots: list[int] = []
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        try:
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if a > b:
                    raise ValueError
                slots += list(range(a, b + 1))
            else:
                slots.append(int(part))
        except ValueError:
            raise SystemConfError(f"{where}: timeslots {text!r}: {part!r} is not N or N-M"
                                  ) from None
    return slots


def _span_lines(n: int, span: Mapping[str, Any], timing: int) -> list[str]:
    where = f"span {n}"
    kind = str(span.get("type", "E1")).upper()
    if kind not in _CHANNELS:
        raise SystemConfError(f"{where}: type {kind!r} is not E1 or T1")
    framing = str(span.get("framing", _FRAMINGS[kind][0])).lower()
    coding = str(span.get("line_code", _CODINGS[kind][0])).lower()
    if framing not in _FRAMINGS[kind]:
        raise SystemConfError(f"{where}: framing {framing!r} is not one of "
                              f"{', '.join(_FRAMINGS[kind])} for {kind}")
    if coding not in _CODINGS[kind]:
        raise SystemConfError(f"{where}: line code {coding!r} is not one of "
                              f"{', '.join(_CODINGS[kind])} for {kind}")
    crc4 = span.get("crc4", kind == "E1")
    if not isinstance(crc4, bool):
        raise SystemConfError(f"{where}: crc4 must be true or false")
    if crc4 and kind != "E1":
        raise SystemConfError(f"{where}: crc4 exists on E1 only")
    width = _CHANNELS[kind]
    signalling = str(span.get("signalling", "pri")).lower()
    default_slots = "1-15,17-31" if kind == "E1" else "1-23"
    slots = parse_timeslots(str(span.get("timeslots", default_slots)), where)
    bad = [s for s in slots if not 1 <= s <= width]
    if bad:
        raise SystemConfError(f"{where}: timeslot {bad[0]} is outside 1-{width}")
    base = width * (n - 1)
    line = f"span={n},{timing},0,{framing},{coding}" + (",crc4" if crc4 else "")
    if span.get("dynamic"):
        # A dynamic span (dahdi_dynamic_loc) has no line to configure: DAHDI refuses
        # DAHDI_SPANCONFIG for it (EINVAL, seen in the VM tier), so the line is only
        # documented; its channels are configured as usual.
        line = f"# {line}  (dynamic span: no line configuration)"
    lines = [line]
    channels = [base + s for s in slots]
    if signalling == "pri":
        if framing not in ("ccs", "esf"):
            raise SystemConfError(f"{where}: PRI needs CCS framing, not {framing!r}")
        d = int(span.get("d_channel", 16 if kind == "E1" else 24))
        if d in slots:
            raise SystemConfError(f"{where}: D-channel {d} is also listed as a B-channel")
        if not 1 <= d <= width:
            raise SystemConfError(f"{where}: D-channel {d} is outside 1-{width}")
        hdlc = str(span.get("hdlc", "software")).lower()
        if hdlc not in ("software", "hardware"):
            raise SystemConfError(f"{where}: hdlc must be software or hardware")
        lines.append(f"bchan={_ranges(channels)}")
        lines.append(f"{'hardhdlc' if hdlc == 'hardware' else 'dchan'}={base + d}")
    elif signalling == "r2":
        if framing != "cas":
            raise SystemConfError(f"{where}: MFC/R2 needs CAS framing, not {framing!r}")
        lines.append(f"cas={_ranges(channels)}:{R2_IDLE_BITS}")
    else:
        raise SystemConfError(f"{where}: signalling {signalling!r} is not pri or r2")
    return lines


def _merged(span: Mapping[str, Any], override: Any, n: int) -> dict[str, Any]:
    merged = dict(span)
    if override is None:
        return merged
    if not isinstance(override, dict):
        raise SystemConfError(f"setting {SETTING}: span {n} must be an object")
    for key, value in override.items():
        if key not in _OVERRIDABLE:
            raise SystemConfError(f"setting {SETTING}: span {n}: {key!r} cannot be set "
                                  f"(only {', '.join(_OVERRIDABLE)})")
        merged[key] = value
    return merged


def generate(board: Mapping[str, Any], overrides: Mapping[str, Any] | None = None) -> str:
    """The system.conf text for `board` (a board.json object) with the database's span
    `overrides` ({"1": {"crc4": false}}); SystemConfError says what is wrong."""
    tel = board.get("telephony", {})
    spans = list(tel.get("spans", []))
    overrides = overrides or {}
    for key in overrides:
        if not str(key).isdigit() or not 1 <= int(key) <= len(spans):
            raise SystemConfError(f"setting {SETTING}: there is no span {key} on board "
                                  f"{board.get('name', '?')}")
    out = [f"# /etc/dahdi/system.conf for board {board.get('name', '?')}, generated by ccbox.",
           "# Do not edit: change the board file or the settings, then apply them.",
           "loadzone = cn", "defaultzone = cn"]
    merged = [_merged(s, overrides.get(str(n)), n) for n, s in enumerate(spans, start=1)]
    for s in merged:
        if s.get("dynamic"):
            out.append(f"dynamic={s['dynamic']}")
    rank = 0
    used: dict[int, str] = {}
    for n, s in enumerate(merged, start=1):
        timing = str(s.get("timing", "far_end"))
        if timing == "far_end":
            rank += 1
            t = rank
        elif timing == "internal":
            t = 0
        else:
            raise SystemConfError(f"span {n}: timing {timing!r} is not far_end or internal")
        out.append("")
        lines = _span_lines(n, s, t)
        out += lines
        width = _CHANNELS[str(s.get("type", "E1")).upper()]
        for ch in range(width * (n - 1) + 1, width * n + 1):
            used[ch] = f"span {n}"
    fxo = list(tel.get("fxo", []))
    if fxo:
        out.append("")
    for port in fxo:
        where = f"FXO port {port.get('port', '?')}"
        ch = port.get("dahdi_channel")
        if not isinstance(ch, int) or isinstance(ch, bool) or ch < 1:
            raise SystemConfError(f"{where}: dahdi_channel must be a channel number")
        if ch in used:
            raise SystemConfError(f"{where}: DAHDI channel {ch} belongs to {used[ch]}")
        used[ch] = where
        out.append(f"fxsks={ch}")
    return "\n".join(out) + "\n"


def load_overrides() -> dict[str, Any]:
    """The `dahdi.spans` setting (reads the database)."""
    from firmware.db.settings import get_setting

    raw = get_setting(SETTING)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError as e:
        raise SystemConfError(f"setting {SETTING} is not JSON: {e}") from None
    if not isinstance(value, dict):
        raise SystemConfError(f"setting {SETTING} must be an object of span -> settings")
    return value
