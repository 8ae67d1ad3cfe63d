"""`*77<code>`: record a prompt from a phone (decision 0017).

The web UI gives the admin a one-time code for a prompt name (recording_slots). Dialled
from any extension, the box answers, checks the code, says when to speak, beeps and
records until # or hang-up (at most two minutes). The recording is an 8 kHz mono 16-bit
WAV by construction; it is written next to its place and moved in, then registered
through the site service like an upload (so flows may use it at once), and logged.
Everything touching the disk or the database runs in a thread, off the call path.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import time
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from firmware.media.prompt_gen import BEEP
from firmware.switch.features.prompter import Prompter

log = logging.getLogger(__name__)

CODE = "*77"
MAX_SECONDS = 120.0
MIN_SECONDS = 1.0


async def record_prompt(io: Prompter, ext: str, code: str, data_dir: Path) -> str:
    """The dialogue; returns what was done (for the CDR)."""
    from firmware.siteconfig import recording_slots

    loop = asyncio.get_running_loop()
    slot = await loop.run_in_executor(None, recording_slots.peek, code)
    if slot is None:
        log.info("prompt recording from %s: no such code (or expired)", ext)
        await io.play(["rec_bad_code"], barge_in=False)
        return "record-prompt:bad-code"
    await io.play(["rec_start"])
    io.flush()
    await io.play([BEEP], barge_in=False)
    rec = await io.record(MAX_SECONDS)
    log.info("prompt recording %s from %s: %.1f s, ended by %s", slot.name, ext, rec.seconds,
             rec.ended_by)
    if rec.seconds < MIN_SECONDS:
        if rec.ended_by != "hangup":
            await io.play(["vm_too_short"], barge_in=False)
        return "record-prompt:too-short"
    saved = await loop.run_in_executor(None, save, data_dir, code, ext, rec.pcm)
    if rec.ended_by != "hangup":
        await io.play(["rec_saved" if saved else "feature_failed"], barge_in=False)
    return f"record-prompt:{saved or 'failed'}"


def save(data_dir: Path, code: str, ext: str, pcm: npt.NDArray[np.int16]) -> str | None:
    """Blocking: take the slot, write the WAV, register the prompt; its name or None."""
    from firmware.db.models import OpLog, Setting
    from firmware.siteconfig import SiteInvalid, SiteService, recording_slots

    slot = recording_slots.take(code)
    if slot is None:
        log.warning("prompt recording from %s: code expired while recording", ext)
        return None
    dest = data_dir / "prompts" / "custom" / f"{slot.name}.wav"
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".record-{secrets.token_hex(6)}.wav")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm.astype("<i2").tobytes())
    backup = None
    if dest.exists():
        backup = dest.with_name(f".backup-{secrets.token_hex(6)}.wav")
        os.replace(dest, backup)
    os.replace(tmp, dest)
    svc = SiteService(data_dir, Setting._meta.database)
    old = next((p for p in svc.document()["prompts"] if p["name"] == slot.name), None)
    item = {"name": slot.name, "text": old["text"] if old else f"recorded at {ext}"}
    try:
        svc.upsert("prompts", item, slot.name if old else None)
    except SiteInvalid as e:
        log.error("prompt recording %s from %s refused: %s", slot.name, ext, e)
        if backup is not None:
            os.replace(backup, dest)
        else:
            dest.unlink()
        return None
    if backup is not None:
        with contextlib.suppress(OSError):
            backup.unlink()
    seconds = round(len(pcm) / 8000, 2)
    OpLog.create(at=time.time(), actor=slot.by, address=f"phone {ext}", action="prompt.record",
                 target=slot.name, before=None,
                 after=json.dumps({"name": slot.name, "seconds": seconds, "extension": ext}))
    log.info("prompt %s recorded at %s (%.1f s) for %s", slot.name, ext, seconds, slot.by)
    return slot.name
