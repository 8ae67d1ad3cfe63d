"""Voicemail messages: files under DATA/voicemail/<mailbox>/, one database row each, and
the in-memory index the switch answers from (counts for the lamps, lists for the menu).

New messages are written to disk in a thread and their rows behind; moving and
deleting change the index at once and the database (and the file) behind, so the menu
never waits. A reload from the database (webd or the CLI may have changed messages)
is ignored while local changes are still being written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import peewee

from firmware.db.write_behind import WriteBehind
from firmware.media.prompt_gen import write_wav

log = logging.getLogger(__name__)

NEW = "new"
SAVED = "saved"
GREETING = "greeting.wav"


@dataclass(frozen=True)
class Message:
    mailbox: str
    folder: str
    caller: str
    caller_name: str
    call_id: str
    created: float
    seconds: float
    path: str  # relative to the data dir; also the message's identity


Index = Mapping[str, tuple[Message, ...]]  # mailbox -> messages, oldest first


def load_index() -> dict[str, tuple[Message, ...]]:
    """Blocking (a thread): every message of every mailbox."""
    from firmware.db.models import VoicemailMessage

    out: dict[str, list[Message]] = {}
    rows = VoicemailMessage.select().order_by(VoicemailMessage.created, VoicemailMessage.id)
    for r in rows:
        out.setdefault(r.mailbox, []).append(
            Message(r.mailbox, r.folder, r.caller, r.caller_name, r.call_id, float(r.created),
                    float(r.seconds), r.path))
    return {k: tuple(v) for k, v in out.items()}


def _insert(m: Message, db: peewee.SqliteDatabase) -> object:
    from firmware.db.models import VoicemailMessage

    row: dict[str, Any] = dataclasses.asdict(m)
    return VoicemailMessage.insert(**row).execute(db)


def _move(path: str, folder: str, db: peewee.SqliteDatabase) -> object:
    from firmware.db.models import VoicemailMessage

    return (VoicemailMessage.update(folder=folder)
            .where(VoicemailMessage.path == path).execute(db))


def _delete(path: str, data_dir: Path, db: peewee.SqliteDatabase) -> object:
    from firmware.db.models import VoicemailMessage

    n = VoicemailMessage.delete().where(VoicemailMessage.path == path).execute(db)
    # the row first: a crash between the two leaves an orphan file, never a row
    # pointing at nothing
    (data_dir / path).unlink(missing_ok=True)
    return n


class VoicemailStore:
    def __init__(self, data_dir: Path,
                 on_change: Callable[[str], None] | None = None) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "voicemail"
        self.on_change = on_change  # (mailbox): counts changed, lamps follow
        self.index: Index = {}
        self._writer = WriteBehind("voicemail-store", data_dir)
        self._version = 0

    def start(self) -> None:
        self._writer.start()

    def stop(self) -> None:
        self._writer.stop()

    def flush(self, timeout: float | None = None) -> bool:
        return self._writer.flush(timeout)

    # --- reading -------------------------------------------------------------------
    def messages(self, mailbox: str, folder: str) -> list[Message]:
        return [m for m in self.index.get(mailbox, ()) if m.folder == folder]

    def counts(self, mailbox: str) -> tuple[int, int]:
        msgs = self.index.get(mailbox, ())
        new = sum(1 for m in msgs if m.folder == NEW)
        return new, len(msgs) - new

    def file(self, m: Message) -> Path:
        return self.data_dir / m.path

    def greeting(self, mailbox: str) -> Path | None:
        p = self.root / mailbox / GREETING
        return p if p.is_file() else None

    def mailboxes(self) -> list[str]:
        return sorted(self.index)

    # --- reloads -------------------------------------------------------------------
    def begin_reload(self) -> int:
        return self._version

    def finish_reload(self, started: int, index: Index) -> bool:
        if started != self._version or self._writer.pending:
            return False
        old = self.index
        self.index = dict(index)
        for box in set(old) | set(index):
            if self._counts_in(old, box) != self.counts(box) and self.on_change is not None:
                self.on_change(box)
        return True

    @staticmethod
    def _counts_in(index: Index, box: str) -> tuple[int, int]:
        msgs = index.get(box, ())
        new = sum(1 for m in msgs if m.folder == NEW)
        return new, len(msgs) - new

    # --- changes -------------------------------------------------------------------
    async def add(self, mailbox: str, pcm: npt.NDArray[np.int16], *, caller: str,
                  caller_name: str, call_id: str) -> Message:
        """Write a new message (the WAV in a thread, the row behind)."""
        now = time.time()
        name = time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{secrets.token_hex(3)}"
        rel = f"voicemail/{mailbox}/{name}.wav"
        await asyncio.get_running_loop().run_in_executor(None, write_wav, self.data_dir / rel,
                                                         pcm)
        m = Message(mailbox, NEW, caller, caller_name, call_id, now, len(pcm) / 8000, rel)
        self._changed(mailbox, (*self.index.get(mailbox, ()), m))
        self._writer.submit(partial(_insert, m), f"voicemail message {dataclasses.asdict(m)}")
        log.info("voicemail: %.1f s message from %s in mailbox %s (%s)", m.seconds,
                 caller or "unknown", mailbox, rel)
        return m

    def move(self, m: Message, folder: str) -> Message:
        current = self._current(m)
        if current is None or current.folder == folder:
            return current or m
        moved = dataclasses.replace(current, folder=folder)
        self._changed(m.mailbox, tuple(moved if x.path == m.path else x
                                       for x in self.index.get(m.mailbox, ())))
        self._writer.submit(partial(_move, m.path, folder), f"move {m.path} to {folder}")
        return moved

    def delete(self, m: Message) -> None:
        if self._current(m) is None:
            return
        self._changed(m.mailbox, tuple(x for x in self.index.get(m.mailbox, ())
                                       if x.path != m.path))
        self._writer.submit(partial(_delete, m.path, self.data_dir), f"delete {m.path}")

    async def save_greeting(self, mailbox: str, pcm: npt.NDArray[np.int16]) -> Path:
        path = self.root / mailbox / GREETING
        await asyncio.get_running_loop().run_in_executor(None, write_wav, path, pcm)
        return path

    def _current(self, m: Message) -> Message | None:
        return next((x for x in self.index.get(m.mailbox, ()) if x.path == m.path), None)

    def _changed(self, mailbox: str, msgs: tuple[Message, ...]) -> None:
        self._version += 1
        index = dict(self.index)
        if msgs:
            index[mailbox] = msgs
        else:
            index.pop(mailbox, None)
        self.index = index
        if self.on_change is not None:
            self.on_change(mailbox)
