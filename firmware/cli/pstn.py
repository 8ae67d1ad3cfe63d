"""`ccbox pstn call`: a call from the simulated PSTN (board `sim`) into the box.

Sent to switchd as `{"cmd": "pstn_call", ...}` on its control socket; switchd's PSTN
simulator places the call over the emulated E1 and answers when the call has ended,
so this command waits for the whole call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from firmware.cli.errors import CliError
from firmware.cli.status import NO_ANSWER, query, switchd_socket

NOT_ANSWERED = 1
# Time on top of the call itself for the box to answer (its ring timeout is 60 s).
_SETUP_ALLOWANCE = 75.0


def call(data_dir: Path, number: str, caller: str, play: Path | None, dtmf: str | None,
         seconds: float, line: str | None = None, cid: str = "fsk",
         hangup: str = "polarity") -> int:
    if play is not None and not play.is_file():
        raise CliError(f"cannot play {play}: no such file")
    request: dict[str, Any] = {"cmd": "pstn_call", "number": number, "from": caller,
                               "seconds": seconds}
    if line:
        # an analog line: no number is dialled; the line's setting says where it goes
        request.update(line=line, cid=cid, hangup=hangup)
    if play is not None:
        request["play"] = str(play.resolve())  # switchd has its own working directory
    if dtmf:
        request["dtmf"] = dtmf
    reply = query(switchd_socket(data_dir), request, timeout=seconds + _SETUP_ALLOWANCE)
    if reply.get("ok") is False or "error" in reply:
        raise CliError(f"switchd: {reply.get('error', 'pstn call failed')}", NO_ANSWER)
    report = reply.get("call")
    if not isinstance(report, dict):
        raise CliError(f"switchd sent no call report: {reply!r}", NO_ANSWER)
    print(format_report(report))
    return 0 if report.get("answer_ms") is not None else NOT_ANSWERED


def format_report(r: dict[str, Any]) -> str:
    if "hangup_method" in r:
        return format_fxo_report(r)
    lines = [f"call {r.get('caller')} -> {r.get('number')} on B-channel {r.get('channel')}"]
    if r.get("answer_ms") is not None:
        lines.append(f"  answered after {r['answer_ms']:.0f} ms (SETUP to CONNECT), "
                     f"talked {r.get('talk_seconds')} s")
    else:
        lines.append("  not answered")
    lines.append(f"  released by {r.get('released_by') or '?'}, cause {r.get('cause')} "
                 f"({r.get('cause_text') or '-'})")
    if r.get("heard_seconds"):
        lines.append(f"  heard {r['heard_seconds']} s from the box at {r.get('heard_dbfs')} dBFS")
    return "\n".join(lines)


def format_fxo_report(r: dict[str, Any]) -> str:
    lines = [f"call {r.get('caller')} on an FXO line, caller ID {r.get('caller_id')}, "
             f"{r.get('rings')} ring(s)"]
    if r.get("answer_ms") is not None:
        lines.append(f"  answered after {r['answer_ms']:.0f} ms, talked {r.get('talk_seconds')} s")
    else:
        lines.append(f"  not answered ({r.get('result')})")
    detect = r.get("disconnect_detect_ms")
    how = f", the box noticed the {r.get('hangup_method')} after {detect:.0f} ms" \
        if detect is not None else ""
    lines.append(f"  released by {r.get('released_by') or '?'}{how}")
    if r.get("heard_seconds"):
        lines.append(f"  heard {r['heard_seconds']} s from the box at {r.get('heard_dbfs')} dBFS")
    return "\n".join(lines)
