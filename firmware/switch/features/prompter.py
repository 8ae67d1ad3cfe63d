"""Box applications on a caller's leg: prompts, keys, recording, as plain coroutines.

Feature codes and voicemail are short dialogues ("enter the number, then #" ...). They
are written as coroutines over the narrow `Prompter` seam: `LivePrompter` plays into
and records from a live leg; unit tests drive the same coroutines with a scripted
prompter, without sockets or a clock. `AppSession` runs one on a `Call`: it gets the
caller's keys and the caller's hang-up from the call, and ends the call when the
dialogue is over.

Semantics callers know from IVRs: a key stops an interruptible prompt (barge-in) and
stays for the next question (type-ahead); keys pressed during an uninterruptible
prompt are dropped; the first key is awaited `first_timeout`, each next one
`inter_timeout`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from firmware.media.capture import Capture
from firmware.media.prompt_gen import PromptFiles
from firmware.switch.causes import Cause
from firmware.switch.ivr_call import make_player

if TYPE_CHECKING:
    from firmware.switch.call import Call

log = logging.getLogger(__name__)

Sound = str | Path  # a prompt name (custom, then stock), or a file (a message, a greeting)


class CallerGone(Exception):
    """The caller hung up: the dialogue stops here."""


@dataclass(frozen=True)
class Recording:
    pcm: npt.NDArray[np.int16]
    ended_by: str  # "key", "hangup" or "max"

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 8000


class Prompter(Protocol):
    async def play(self, sounds: Sequence[Sound], *, barge_in: bool = True) -> None: ...

    async def collect(self, max_digits: int, *, terminator: str = "#",
                      first_timeout: float = 6.0, inter_timeout: float = 4.0) -> str: ...

    async def record(self, max_seconds: float, stop_keys: str = "#") -> Recording: ...

    def flush(self) -> None: ...


async def ask(io: Prompter, sounds: Sequence[Sound], max_digits: int, *,
              terminator: str = "#", timeout: float = 6.0) -> str:
    """Play a question (interruptible), then collect the answer."""
    await io.play(sounds)
    return await io.collect(max_digits, terminator=terminator, first_timeout=timeout)


class LivePrompter:
    def __init__(self, call: Call, prompts: PromptFiles) -> None:
        self.call = call
        self.prompts = prompts
        self.loop = asyncio.get_running_loop()
        self.player = make_player(call, self.loop)
        self._keys: deque[str] = deque()
        self._wake: asyncio.Future[None] | None = None
        self.gone = False

    # --- from the call -------------------------------------------------------------
    def push(self, digit: str) -> None:
        self._keys.append(digit)
        self._poke()

    def hangup(self) -> None:
        self.gone = True
        if self.player is not None:
            self.player.stop()
        self._poke()

    def _poke(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def _wait(self, timeout: float | None) -> None:
        """Until a key, the hang-up, or `timeout` (None: forever)."""
        self._wake = self.loop.create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._wake), timeout)
        except TimeoutError:
            pass
        finally:
            self._wake = None

    def _check(self) -> None:
        if self.gone or self.call.end_at is not None:
            raise CallerGone

    # --- Prompter ------------------------------------------------------------------
    def flush(self) -> None:
        self._keys.clear()

    def paths(self, sounds: Sequence[Sound]) -> list[Path | None]:
        out: list[Path | None] = []
        for s in sounds:
            if isinstance(s, Path):
                out.append(s)
                continue
            path = self.prompts.path(s)
            if path is None:
                log.warning("call %s: prompt %s has no file", self.call.id, s)
            out.append(path)
        return out

    async def play(self, sounds: Sequence[Sound], *, barge_in: bool = True) -> None:
        self._check()
        if (barge_in and self._keys) or self.player is None or not sounds:
            return
        done: asyncio.Future[None] = self.loop.create_future()

        def finished() -> None:
            if not done.done():
                done.set_result(None)
            self._poke()

        self.player.play(self.paths(sounds), finished)
        try:
            while not done.done():
                self._check()
                if barge_in and self._keys:
                    break
                await self._wait(None)
        finally:
            if not done.done():
                self.player.stop()
        if not barge_in:
            self.flush()
        self._check()

    async def collect(self, max_digits: int, *, terminator: str = "#",
                      first_timeout: float = 6.0, inter_timeout: float = 4.0) -> str:
        digits = ""
        timeout = first_timeout
        while len(digits) < max_digits:
            self._check()
            if not self._keys:
                await self._wait(timeout)
                self._check()
                if not self._keys:
                    break  # timed out
            key = self._keys.popleft()
            if terminator and key == terminator:
                break
            digits += key
            timeout = inter_timeout
        return digits

    async def record(self, max_seconds: float, stop_keys: str = "#") -> Recording:
        self._check()
        leg = self.call.a.media
        if leg is None:
            return Recording(np.zeros(0, dtype=np.int16), "hangup")
        full = False

        def on_full() -> None:
            nonlocal full
            full = True
            self.loop.call_soon(self._poke)

        self.flush()
        capture = Capture(leg, max_seconds, on_full)
        capture.start()
        deadline = self.loop.time() + max_seconds + 0.5
        ended_by = "max"
        try:
            while not full:
                if self.gone or self.call.end_at is not None:
                    ended_by = "hangup"
                    break
                if any(k in stop_keys for k in self._keys):
                    ended_by = "key"
                    break
                self._keys.clear()
                left = deadline - self.loop.time()
                if left <= 0:
                    break
                await self._wait(left)
        finally:
            capture.stop()
        self.flush()
        # a key pressed in-band (E1, FXO) is in the audio: leave its tone out
        return Recording(capture.pcm(trim_end=0.25 if ended_by == "key" else 0.0), ended_by)


class AppSession:
    """Runs a dialogue coroutine on a call; the call ends when it returns."""

    def __init__(self, call: Call, prompts: PromptFiles, name: str,
                 body: Callable[[LivePrompter], Awaitable[None]]) -> None:
        self.call = call
        self.name = name
        self.io = LivePrompter(call, prompts)
        self.body = body
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.call.app = self
        self.task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        try:
            await self.body(self.io)
        except CallerGone:
            pass
        except Exception:
            # a bug in one dialogue must not leave the caller in silence forever
            log.exception("call %s: %s failed", self.call.id, self.name)
        finally:
            if self.io.player is not None:
                self.io.player.stop()
            if self.call.end_at is None:
                self.call.finish(Cause.NORMAL_CLEARING, "system")

    # --- CallApp -------------------------------------------------------------------
    def digit(self, digit: str) -> None:
        self.io.push(digit)

    def call_ended(self) -> None:
        self.io.hangup()


def answer(call: Call) -> None:
    """The box answers the caller (charging starts; the phone is busy for the ACD)."""
    if call.answer_at is None:
        call.answer_at = time.time()
    call.a.answer()
    call.mark_in_use(call.a)
