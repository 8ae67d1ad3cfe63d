"""`IvrSession`: drives one `IvrRunner` on a live call (the I/O half of 0008's seam).

The switch answers the caller's leg and hands the session every key the leg reports;
the session turns the runner's actions into playback, a timer, adapter tasks, a
transfer through the switch, a hangup or a bus event. Everything runs on the event
loop; nothing here blocks (prompt files are read once and cached by the player,
adapters run as tasks with the node's timeout).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from firmware.ivr import (
    Action,
    Digit,
    Event,
    Flow,
    Hangup,
    HangupCall,
    IvrEnv,
    IvrRunner,
    Log,
    Lookup,
    LookupResult,
    Play,
    PromptDone,
    StartCollect,
    StopPlayback,
    Transfer,
    TransferFailed,
    Voicemail,
)
from firmware.ivr.adapters import AdapterError, LookupAdapter
from firmware.media.codecs import Codec
from firmware.media.engine import RtpLeg
from firmware.media.frame_leg import FrameLeg
from firmware.media.player import PromptPlayer
from firmware.media.prompt_gen import PromptFiles
from firmware.switch.causes import Cause
from firmware.switch.events import IvrLogged

if TYPE_CHECKING:
    from firmware.switch.call import Call

log = logging.getLogger(__name__)

# How much of the IVR path goes into the CDR's `extra` (a menu loop must not make a
# call record of kilobytes).
PATH_MAX = 40


@dataclass
class IvrServices:
    """What every IVR session on the box shares: active flows by id, the site
    environment, prompt files, lookup adapters and the clock."""

    flows: dict[str, Flow]
    prompts: PromptFiles
    env: IvrEnv = field(default_factory=IvrEnv)
    adapters: Mapping[str, LookupAdapter] = field(default_factory=dict)
    clock: Callable[[], float] = time.time


class TransferTarget(Protocol):
    def ivr_transfer(self, call: Call, action: Transfer) -> Cause | None:
        """Start the transfer; a cause if it failed at once (nothing to dial)."""
        ...

    def ivr_voicemail(self, call: Call, box: str) -> Cause | None:
        """Let the caller leave a message in `box`; a cause if that cannot be done."""
        ...


def make_player(call: Call, loop: asyncio.AbstractEventLoop) -> PromptPlayer | None:
    """A player into the caller's leg, whatever its kind; None without media."""
    leg = call.a.media
    if isinstance(leg, RtpLeg):
        return PromptPlayer(loop, leg.send_audio, leg.codec or Codec.PCMU)
    if isinstance(leg, FrameLeg):
        return PromptPlayer(loop, leg.write, leg.codec)
    return None


class IvrSession:
    def __init__(self, call: Call, flow: Flow, env: IvrEnv, prompts: PromptFiles,
                 adapters: Mapping[str, LookupAdapter], target: TransferTarget,
                 clock: Callable[[], float] = time.time) -> None:
        self.call = call
        self.flow = flow
        self.prompts = prompts
        self.adapters = adapters
        self.target = target
        self.clock = clock  # epoch seconds; tests may shift it (time rules)
        self.loop = asyncio.get_running_loop()
        self.runner = IvrRunner(flow, {
            "caller": call.a.caller.number, "caller_name": call.a.caller.name,
            "called": call.a.called, "trunk": call.a.peer_name, "call_id": call.id,
        }, clock(), env=env)
        self.player: PromptPlayer | None = None
        self.path: list[str] = []  # nodes and keys, for the call record
        self.transfer: Transfer | None = None  # pending or done
        self._timer: asyncio.TimerHandle | None = None
        self._lookups: set[asyncio.Task[None]] = set()
        self._closed = False

    # --- from the call -------------------------------------------------------------------
    def start(self) -> None:
        self.call.a.answer()
        self.player = make_player(self.call, self.loop)
        self._execute(self.runner.start(self.clock()))

    def digit(self, digit: str) -> None:
        self._feed(Digit(digit))

    def hangup(self) -> None:
        self._feed(Hangup())
        self.close()

    def transfer_failed(self, cause: Cause) -> None:
        """The transfer target could not take the call: back into the flow."""
        self.transfer = None
        self._feed(TransferFailed(cause))

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.player is not None:
            self.player.stop()
        for task in self._lookups:
            task.cancel()

    def extra(self) -> dict[str, str]:
        out = {"ivr_flow": f"{self.flow.id}@{self.flow.version}",
               "ivr_path": ",".join(self.path[:PATH_MAX])}
        if self.transfer is not None:
            out["ivr_transfer"] = f"{self.transfer.kind.value}:{self.transfer.target}"
        return out

    # --- runner plumbing -----------------------------------------------------------------
    def _feed(self, event: Event) -> None:
        if self._closed:
            return
        self._execute(self.runner.handle(event, self.clock()))

    def _execute(self, actions: list[Action]) -> None:
        for action in actions:
            if self._closed:
                return
            self._do(action)
        self._arm_timer()

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due = self.runner.next_timer()
        if due is None or self._closed:
            return
        # the runner's clock is epoch seconds; the loop's is monotonic
        self._timer = self.loop.call_at(self.loop.time() + max(0.0, due - self.clock()),
                                        self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self._closed:
            return
        self._execute(self.runner.handle_timer(self.clock()))
        if self._timer is None and self.runner.next_timer() is not None:
            self._arm_timer()  # fired a hair early: try again

    def _do(self, action: Action) -> None:
        match action:
            case Play(play_id, names, _barge_in):
                self._play(play_id, names)
            case StopPlayback():
                if self.player is not None:
                    self.player.stop()
            case StartCollect():
                pass  # digits are always forwarded; in-band detection always runs on E1
            case Lookup():
                self._lookup(action)
            case Log(event, data):
                self._log(event, data)
            case Transfer():
                if self.player is not None:
                    self.player.stop()
                self.transfer = action
                cause = self.target.ivr_transfer(self.call, action)
                if cause is not None:
                    self.loop.call_soon(self.transfer_failed, cause)
            case Voicemail(box):
                if self.player is not None:
                    self.player.stop()
                cause = self.target.ivr_voicemail(self.call, box)
                if cause is not None:
                    log.warning("call %s: no voicemail in box %s (cause %d)", self.call.id,
                                box, int(cause))
                    self.call.finish(Cause.NORMAL_CLEARING, "system")
            case HangupCall(cause):
                self.call.finish(cause, "system")

    def _play(self, play_id: int, names: tuple[str, ...]) -> None:
        files = []
        for name in names:
            path = self.prompts.path(name)
            if path is None:
                log.warning("call %s: prompt %s has no file", self.call.id, name)
            files.append(path)
        done = lambda: self._feed(PromptDone(play_id))  # noqa: E731
        if self.player is None:
            self.loop.call_soon(done)  # no media: the runner must still move on
        else:
            self.player.play(files, done)

    def _lookup(self, action: Lookup) -> None:
        adapter = self.adapters.get(action.adapter)
        if adapter is None:
            self.loop.call_soon(self._feed, LookupResult(
                action.request_id, error=f"no adapter {action.adapter!r}"))
            return

        async def run() -> None:
            try:
                result = await asyncio.wait_for(adapter.lookup(action.params), action.timeout)
            except TimeoutError:
                log.warning("call %s: lookup %s: no result within the node's timeout "
                            "(%g s)", self.call.id, action.adapter, action.timeout)
                self._feed(LookupResult(action.request_id, error="timeout"))
            except AdapterError as e:
                self._feed(LookupResult(action.request_id, error=str(e) or "failed"))
            except Exception as e:  # a broken adapter must not kill the call
                log.exception("adapter %s failed", action.adapter)
                self._feed(LookupResult(action.request_id, error=repr(e)))
            else:
                self._feed(LookupResult(action.request_id, dict(result)))

        task = self.loop.create_task(run())
        self._lookups.add(task)
        task.add_done_callback(self._lookups.discard)

    def _log(self, event: str, data: Mapping[str, str | int | float | bool | None]) -> None:
        if event == "node":
            self.path.append(str(data.get("node")))
        elif event == "digit":
            self.path.append(f"key:{data.get('digit')}")
        self.call.publish(IvrLogged(self.clock(), self.call.id, event, dict(data)))
