"""Voicemail dialogues: leaving a message, and the mailbox menu behind `*97` / `*98`.

Both are coroutines over a `Prompter` (prompter.py), so unit tests play them with
scripted keys. Menu keys, as the prompts say:
  main menu:    1 new messages, 2 saved messages, 0 record the greeting, * leave;
  each message: 1 again, 2 save, 3 delete, # next, * back to the main menu.
A message played to its end (or skipped) counts as heard and moves to "saved", so the
lamp goes off once everything new was listened to.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from firmware.ivr.say import say_digits, say_integer
from firmware.media.prompt_gen import BEEP
from firmware.switch.features.mailboxes import NEW, SAVED, Message, VoicemailStore
from firmware.switch.features.pin import PinGuard, verify_pin
from firmware.switch.features.prompter import Prompter, Sound, ask

log = logging.getLogger(__name__)

MAX_MESSAGE_SECONDS = 120.0
MIN_MESSAGE_SECONDS = 1.0
MAX_GREETING_SECONDS = 30.0
PIN_TRIES = 3


@dataclass(frozen=True)
class Caller:
    number: str
    name: str
    call_id: str


async def leave_message(io: Prompter, store: VoicemailStore, box: str, reason: str,
                        caller: Caller) -> Message | None:
    """Greeting (the owner's, else stock: 您拨打的分机 8001 暂时无人接听 …), tone, record
    until # or hang-up; the message is kept if it has at least a second of audio."""
    greeting = store.greeting(box)
    sounds: list[Sound] = ([greeting] if greeting is not None else
                           ["vm_extension", *say_digits(box),
                            "vm_busy" if reason == "busy" else "vm_unavailable",
                            "vm_leave_message"])
    await io.play(sounds)  # a key skips the greeting
    io.flush()
    await io.play([BEEP], barge_in=False)
    rec = await io.record(MAX_MESSAGE_SECONDS)
    if rec.seconds < MIN_MESSAGE_SECONDS:
        log.info("voicemail %s: %.1f s from %s not kept (too short)", box, rec.seconds,
                 caller.number)
        if rec.ended_by != "hangup":
            await io.play(["vm_too_short", "goodbye"], barge_in=False)
        return None
    msg = await store.add(box, rec.pcm, caller=caller.number, caller_name=caller.name,
                          call_id=caller.call_id)
    if rec.ended_by != "hangup":
        await io.play(["vm_saved"], barge_in=False)
    return msg


async def check_pin(io: Prompter, box: str, pin_hash: str, guard: PinGuard,
                    verify: Callable[[str, str], bool] = verify_pin,
                    clock: Callable[[], float] = time.time) -> bool:
    """Ask for the mailbox PIN (3 tries; the mailbox locks after repeated failures)."""
    if guard.locked(box, clock()):
        await io.play(["vm_locked"], barge_in=False)
        return False
    loop = asyncio.get_running_loop()
    for _ in range(PIN_TRIES):
        pin = await ask(io, ["vm_enter_pin"], 12)
        # argon2 takes ~45 ms: never on the event loop
        ok: bool = bool(pin) and await loop.run_in_executor(None, verify, pin_hash, pin)
        if ok:
            guard.succeeded(box)
            return True
        log.info("voicemail %s: wrong PIN", box)  # never the digits
        if guard.failed(box, clock()):
            log.warning("voicemail %s: locked after repeated wrong PINs", box)
            await io.play(["vm_wrong_pin", "vm_locked"], barge_in=False)
            return False
        await io.play(["vm_wrong_pin"])
    await io.play(["goodbye"], barge_in=False)
    return False


def counts_sounds(new: int, saved: int) -> list[Sound]:
    return ["vm_you_have", *say_integer(new, measure=True), "vm_new_count",
            *say_integer(saved, measure=True), "vm_saved_count"]


async def mailbox_menu(io: Prompter, store: VoicemailStore, box: str) -> None:
    """The mailbox menu, once the caller is let in."""
    await io.play(counts_sounds(*store.counts(box)))
    quiet = 0
    while True:
        key = await ask(io, ["vm_main_menu"], 1, terminator="", timeout=8)
        if key == "":
            quiet += 1
            if quiet >= 2:
                break
            continue
        quiet = 0
        if key == "1":
            await _listen(io, store, box, NEW)
        elif key == "2":
            await _listen(io, store, box, SAVED)
        elif key == "0":
            await _record_greeting(io, store, box)
        elif key == "*":
            break
        else:
            await io.play(["invalid_input"])
            continue
        await io.play(counts_sounds(*store.counts(box)))
    await io.play(["goodbye"], barge_in=False)


async def _listen(io: Prompter, store: VoicemailStore, box: str, folder: str) -> None:
    messages = store.messages(box, folder)
    if not messages:
        await io.play(["vm_no_messages"])
        return
    i = 0
    while i < len(messages):
        m = messages[i]
        envelope: list[Sound] = ["vm_message_no", *say_integer(i + 1), "vm_message_unit"]
        if m.caller:
            envelope += ["vm_from", *say_digits(m.caller)]
        await io.play(envelope)
        await io.play([store.file(m)])  # a key stops the message: that key is the choice
        if m.folder == NEW:
            messages[i] = m = store.move(m, SAVED)
        key = await ask(io, ["vm_message_menu"], 1, terminator="", timeout=8)
        if key == "1":
            continue
        if key == "2":
            messages[i] = store.move(m, SAVED)
            await io.play(["vm_message_saved"])
        elif key == "3":
            store.delete(m)
            await io.play(["vm_message_deleted"])
        elif key == "*":
            return
        i += 1
    await io.play(["vm_no_more"])


async def _record_greeting(io: Prompter, store: VoicemailStore, box: str) -> None:
    await io.play(["vm_record_greeting"])
    io.flush()
    await io.play([BEEP], barge_in=False)
    rec = await io.record(MAX_GREETING_SECONDS)
    if rec.seconds < MIN_MESSAGE_SECONDS:
        await io.play(["vm_too_short"])
        return
    await store.save_greeting(box, rec.pcm)
    log.info("voicemail %s: new greeting, %.1f s", box, rec.seconds)
    await io.play(["vm_greeting_saved"])
