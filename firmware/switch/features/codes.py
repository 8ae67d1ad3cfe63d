"""The dialled feature codes of the phone features (brief's dial plan), answered by the box.

    *72[number]  forward always on     *73  off
    *90[number]  forward on busy on    *91  off
    *92[number]  forward no answer on  *93  off
    *78          do not disturb on     *79  off
    *97          own voicemail         *98[mailbox]  any mailbox (PIN required)
    *11[agent]   agent login           *12  logout
    *13          ready                 *14[reason digit]  not ready
    *77[code]    record a prompt (the one-time code from the web UI; record_prompt.py)

A number left out is asked for ("enter the number, then #"); every code confirms what
it did with a prompt and hangs up. The codes of call control (*8 pickup, *5x
supervision) are not matched here and go their own way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from firmware.acd import AcdError
from firmware.ivr.prompts import CATALOGUE
from firmware.ivr.say import say_digits
from firmware.switch.features.prompter import Prompter, Sound, ask
from firmware.switch.features.settings import (
    FORWARD_KINDS,
    FeatureError,
    FeatureStore,
    check_target,
)

log = logging.getLogger(__name__)

CODES: dict[str, str] = {
    "*72": "forward-always-on", "*73": "forward-always-off",
    "*90": "forward-busy-on", "*91": "forward-busy-off",
    "*92": "forward-no-answer-on", "*93": "forward-no-answer-off",
    "*78": "dnd-on", "*79": "dnd-off",
    "*97": "voicemail", "*98": "voicemail-any",
    "*11": "agent-login", "*12": "agent-logout", "*13": "agent-ready",
    "*14": "agent-not-ready",
    "*77": "record-prompt",
}  # fmt: skip
# the codes that take digits after them (the others must be dialled alone)
TAKES_DIGITS = frozenset({"*72", "*90", "*92", "*98", "*11", "*14", "*77"})


def parse(number: str) -> tuple[str, str] | None:
    """'*728002' -> ('*72', '8002'); None if not one of our codes."""
    code, rest = number[:3], number[3:]
    if code not in CODES or not (rest.isdigit() or rest == ""):
        return None
    if rest and code not in TAKES_DIGITS:
        return None
    return code, rest


@dataclass
class CodeContext:
    """What the codes act on."""

    features: FeatureStore
    is_extension: Callable[[str], bool]
    is_group: Callable[[str], bool]
    agent_command: Callable[[str, str, str, str], None] | None  # agent, cmd, device, reason
    agent_at: Callable[[str], str | None]  # device -> agent logged in there
    reasons: Callable[[], tuple[str, ...]]  # not-ready reason codes, in digit order


_FORWARD = {"*72": "always", "*90": "busy", "*92": "no-answer"}
_FORWARD_OFF = {"*73": "always", "*91": "busy", "*93": "no-answer"}
_PROMPT_KIND = {"always": "always", "busy": "busy", "no-answer": "no_answer"}


async def run_code(io: Prompter, ctx: CodeContext, ext: str, code: str, arg: str) -> str:
    """Carry out `code` for extension `ext`; returns what was done (for the CDR)."""
    if code in _FORWARD:
        return await _forward_on(io, ctx, ext, _FORWARD[code], arg)
    if code in _FORWARD_OFF:
        kind = _FORWARD_OFF[code]
        ctx.features.set(ext, **{FORWARD_KINDS[kind]: ""})
        await io.play([f"fwd_{_PROMPT_KIND[kind]}_off"], barge_in=False)
        return f"forward-{kind}:off"
    if code in ("*78", "*79"):
        on = code == "*78"
        ctx.features.set(ext, dnd=on)
        await io.play(["dnd_on" if on else "dnd_off"], barge_in=False)
        return f"dnd:{'on' if on else 'off'}"
    if code.startswith("*1"):
        return await _agent(io, ctx, ext, code, arg)
    raise ValueError(f"{code} is not handled here")


async def _forward_on(io: Prompter, ctx: CodeContext, ext: str, kind: str, arg: str) -> str:
    target = arg or await ask(io, ["feature_enter_number"], 20)
    try:
        target = check_target(ext, target, ctx.is_extension, ctx.is_group)
    except FeatureError as e:
        log.info("extension %s: %s", ext, e)
        await io.play(["fwd_invalid"], barge_in=False)
        return f"forward-{kind}:refused"
    ctx.features.set(ext, **{FORWARD_KINDS[kind]: target})
    await io.play([f"fwd_{_PROMPT_KIND[kind]}_on", *say_digits(target)], barge_in=False)
    return f"forward-{kind}:{target}"


def reason_menu(reasons: tuple[str, ...]) -> list[Sound]:
    """休息请按一，午餐请按二 … for the reasons that have a stock word."""
    out: list[Sound] = ["agent_enter_reason"]
    for i, reason in enumerate(reasons[:9], start=1):
        word = f"agent_reason_{reason}"
        if word in CATALOGUE:
            out += [word, "press", *say_digits(str(i), yao=False)]
    return out


async def _agent(io: Prompter, ctx: CodeContext, ext: str, code: str, arg: str) -> str:
    if ctx.agent_command is None:
        await io.play(["feature_not_here"], barge_in=False)
        return "agent:no-acd"
    if code == "*11":
        agent = arg or await ask(io, ["agent_enter_id"], 12)
        command, reason, done = "login", "", "agent_logged_in"
    else:
        found = ctx.agent_at(ext)
        if found is None:
            await io.play(["agent_not_logged_in"], barge_in=False)
            return "agent:none"
        agent = found
        reason = ""
        if code == "*12":
            command, done = "logout", "agent_logged_out"
        elif code == "*13":
            command, done = "ready", "agent_ready"
        else:
            command, done = "notready", "agent_not_ready"
            reasons = ctx.reasons()
            digit = arg[:1] or await ask(io, reason_menu(reasons), 1, terminator="",
                                         timeout=6)
            index = int(digit) - 1 if digit.isdigit() and digit != "0" else 0
            reason = reasons[index] if 0 <= index < len(reasons) else reasons[0]
    try:
        ctx.agent_command(agent, command, ext, reason)
    except AcdError as e:
        log.info("extension %s: agent %s %s refused: %s", ext, agent, command, e)
        unknown = "unknown agent" in str(e) or "no agent" in str(e)
        await io.play(["agent_unknown" if unknown else "agent_refused"], barge_in=False)
        return f"agent-{command}:refused"
    await io.play([done], barge_in=False)
    return f"agent-{command}:{agent}" + (f":{reason}" if reason else "")
