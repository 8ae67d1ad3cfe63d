"""`AcdService`: runs the sans-I/O `AcdEngine` on live calls (the I/O half of 0009).

One per switch. A caller joins a queue (from an IVR transfer); the service plays music
on hold and announcements into the caller's leg, rings agents' extensions for `Offer`,
hands the answering agent leg to the `Call` for `Connect` (bridge + recording as any
answered call), and reports what happens back to the engine. Queue-log lines go to
`DATA/logs/queue_log` through a writer thread; agent events go to the bus.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from firmware.acd import (
    AcdEngine,
    AcdError,
    Action,
    AgentEvent,
    Announce,
    CallEnded,
    CancelOffer,
    Connect,
    DeviceInUse,
    EndedBy,
    Exit,
    InputEvent,
    KeyPressed,
    Offer,
    OfferAnswered,
    OfferFailed,
    OfferFailure,
    OutboundCallMade,
    PlaceCallback,
    PlayPrompt,
    QueueLog,
    StartMoh,
    TargetKind,
)
from firmware.ivr.prompts import queue_announcement
from firmware.media.player import PromptPlayer
from firmware.media.prompt_gen import MOH, PromptFiles
from firmware.switch.acd_history import routing_number
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, Party
from firmware.switch.events import AgentStateChanged, QueueLogged
from firmware.switch.ivr_call import make_player
from firmware.switch.ringing import RingingLegs

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.core import Switch

log = logging.getLogger(__name__)

_BUSY = {Cause.USER_BUSY}
_REJECTED = {Cause.CALL_REJECTED}


class QueueLogWriter:
    """Appends queue-log lines from a thread: the call path never waits on the disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._q: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="queue-log", daemon=True)
        self._thread.start()

    def write(self, line: str) -> None:
        self._q.put(line)

    def close(self) -> None:
        self._q.put(None)
        self._thread.join(5)

    def _run(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            while True:
                line = self._q.get()
                if line is None:
                    return
                f.write(line + "\n")
                if self._q.empty():
                    f.flush()  # batch the writes of a burst, but never sit on a line


class _OfferLegs(RingingLegs):
    """Listener of the legs ringing one agent for one caller (not part of the Call yet)."""

    def __init__(self, service: AcdService, offer: Offer,
                 on_answer: Callable[[_OfferLegs, Channel], None] | None = None) -> None:
        super().__init__()
        self.service = service
        self.offer = offer
        self.then = on_answer  # a callback: dial the customer once the agent answers

    def won(self, ch: Channel) -> None:
        self.service.feed(OfferAnswered(self.offer.call_id, self.offer.agent,
                                        self.service.clock()))
        if self.then is not None and not self.done:
            self.then(self, ch)

    def lost(self, cause: Cause) -> None:
        self.service.offer_gone(self)
        if self.answered is not None:
            return  # answered then dropped before Connect: the engine gets CancelOffer path
        reason = (OfferFailure.BUSY if any(c in _BUSY for c in self.causes)
                  else OfferFailure.REJECTED if any(c in _REJECTED for c in self.causes)
                  else OfferFailure.NO_ANSWER)
        self.service.feed(OfferFailed(self.offer.call_id, self.offer.agent, reason,
                                      self.service.clock()))


class AcdService:
    def __init__(self, switch: Switch, engine: AcdEngine, prompts: PromptFiles,
                 log_path: Path, clock: Callable[[], float] = time.time) -> None:
        self.switch = switch
        self.engine = engine
        self.prompts = prompts
        self.clock = clock
        self.queue_log = QueueLogWriter(log_path)
        self.loop = asyncio.get_running_loop()
        self.calls: dict[str, Call] = {}  # waiting or connected through the ACD
        self.players: dict[str, PromptPlayer] = {}
        self.offers: dict[tuple[str, str], _OfferLegs] = {}
        self.agent_of: dict[str, str] = {}  # engine call id -> connected agent
        # switch call id -> engine call id where they differ (a callback's new call)
        self.engine_id: dict[str, str] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._moved: set[str] = set()  # calls that took an agent over from another call

    # --- commands ------------------------------------------------------------------------
    def join(self, call: Call, queue_name: str, priority: int) -> Cause | None:
        try:
            actions = self.engine.join(call.id, queue_name,
                                       routing_number(call.a.caller.number), priority,
                                       now=self.clock())
        except AcdError as e:
            log.warning("call %s cannot join queue %s: %s", call.id, queue_name, e)
            return Cause.NO_ROUTE_DESTINATION
        self.calls[call.id] = call
        call.acd = self
        call.extra["queue"] = queue_name
        player = make_player(call, self.loop)
        if player is not None:
            self.players[call.id] = player
        self.execute(actions)
        return None

    def agent_command(self, agent: str, command: str, device: str = "",
                      reason: str = "break") -> None:
        """login/logout/ready/notready; raises AcdError/TransitionError when impossible."""
        now = self.clock()
        if command == "login":
            actions = self.engine.agent_login(agent, device or agent, now=now)
        elif command == "logout":
            actions = self.engine.agent_logout(agent, now=now)
        elif command == "ready":
            actions = self.engine.agent_ready(agent, now=now)
        elif command == "notready":
            actions = self.engine.agent_not_ready(agent, reason, now=now)
        else:
            raise AcdError(f"unknown agent command {command!r}")
        self.execute(actions)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for player in self.players.values():
            player.stop()
        self.queue_log.close()

    # --- from the call -------------------------------------------------------------------
    def digit(self, call: Call, digit: str) -> None:
        if call.id in self.calls and call.id not in self.agent_of:
            self.feed(KeyPressed(call.id, digit, self.clock()))

    def call_finished(self, call: Call) -> None:
        """The call is over (any side): the engine hears abandon or completion."""
        if self.calls.pop(call.id, None) is None:
            return
        player = self.players.pop(call.id, None)
        if player is not None:
            player.stop()
        for key in [k for k in self.offers if k[0] == call.id]:
            self.offers.pop(key).cancel()
        now = self.clock()
        eid = self.engine_id.pop(call.id, call.id)
        agent = self.agent_of.pop(eid, None)
        try:
            if agent is None:
                self.execute(self.engine.leave(eid, now=now))
            else:
                # a callback's caller leg is the agent's: there "callee" is the customer
                agent_side = ("caller" if eid != call.id and call.id not in self._moved
                              else "callee")
                self._moved.discard(call.id)
                by = EndedBy.AGENT if call.released_by == agent_side else EndedBy.CALLER
                self.execute(self.engine.handle(CallEnded(eid, agent, by, now)))
        except AcdError as e:  # e.g. already exited for a callback
            log.debug("call %s end not taken by the ACD: %s", call.id, e)

    def agent_transferred(self, call: Call, target: str) -> None:
        """The connected agent passed the caller on (transfer, park): the queue logs
        TRANSFER and the agent goes to wrap-up; the call goes on without the ACD."""
        eid = self.engine_id.pop(call.id, call.id)
        agent = self.agent_of.pop(eid, None)
        self.calls.pop(call.id, None)
        call.acd = None
        if agent is None:
            return
        try:
            self.execute(self.engine.handle(CallEnded(eid, agent, EndedBy.TRANSFER,
                                                      self.clock(), target)))
        except AcdError as e:
            log.debug("call %s transfer not taken by the ACD: %s", call.id, e)

    def move_call(self, src: Call, dst: Call) -> None:
        """An attended transfer (REFER/Replaces) made `src`'s connected agent a party of
        `dst`: the agent's queue session follows, and ends when `dst` does."""
        if dst.acd is not None:
            return  # dst keeps its own queue agent; src's agent ends with src
        eid = self.engine_id.pop(src.id, src.id)
        if eid not in self.agent_of:
            return
        self.calls.pop(src.id, None)
        src.acd = None
        self.calls[dst.id] = dst
        dst.acd = self
        self.engine_id[dst.id] = eid
        self._moved.add(dst.id)

    def called_out(self, call: Call, number: str) -> None:
        """`call` goes out through a trunk to `number`. When an agent's phone placed it,
        the engine remembers the agent for 总机溯源 (the customer calling the hotline back
        reaches them), and the CDR says so, for the memory after a restart."""
        leg = call.a
        device = leg.peer_name if leg.tech == "sip" else ""
        agent = self.engine.agent_at(device) if device else None
        if agent is None:
            return
        call.extra.update(agent=agent, agent_called=number)
        self.feed(OutboundCallMade(routing_number(number), agent, self.clock()))

    def device_state(self, device: str, in_use: bool) -> None:
        # from the loop, not from inside whatever call event changed the state: the
        # engine may be in the middle of executing a Connect for this very device
        self.loop.call_soon(self.feed, DeviceInUse(device, in_use, self.clock()))

    def offer_gone(self, legs: _OfferLegs) -> None:
        key = (legs.offer.call_id, legs.offer.agent)
        if self.offers.get(key) is legs:
            del self.offers[key]

    # --- engine plumbing -----------------------------------------------------------------
    def feed(self, event: InputEvent) -> None:
        self.execute(self.engine.handle(event))

    def execute(self, actions: list[Action]) -> None:
        for action in actions:
            try:
                self._do(action)
            except Exception:
                # one failed action must not leave the others undone
                log.exception("ACD action %r failed", action)
        self._arm_timer()

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        due = self.engine.next_timer()
        if due is not None:
            self._timer = self.loop.call_at(self.loop.time() + max(0.0, due - self.clock()),
                                            self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.execute(self.engine.handle_timer(self.clock()))

    def _do(self, action: Action) -> None:
        match action:
            case Offer():
                self._offer(action)
            case CancelOffer(call_id, agent, _device):
                legs = self.offers.pop((call_id, agent), None)
                if legs is not None:
                    legs.cancel()
            case Connect(call_id, agent, _device, _queue):
                self._connect(call_id, agent)
            case StartMoh(call_id, _cls):
                self._moh(call_id)
            case Announce(call_id, position, ewt):
                minutes = None if ewt is None else max(1, math.ceil(ewt / 60))
                self._prompts_then_moh(call_id, queue_announcement(position, minutes))
            case PlayPrompt(call_id, prompt):
                self._prompts_then_moh(call_id, [prompt])
            case Exit():
                self._exit(action)
            case PlaceCallback():
                self._place_callback(action)
            case QueueLog(record):
                self.queue_log.write(record.line())
                self.switch.bus.publish(QueueLogged(record.time, record))
            case AgentEvent():
                data = {k: v for k, v in asdict(action).items() if k not in ("agent", "time")}
                self.switch.bus.publish(AgentStateChanged(
                    action.time, action.agent, type(action).__name__,
                    {k: v if isinstance(v, str | int | float | bool) or v is None else str(v)
                     for k, v in data.items()}))

    def _offer(self, offer: Offer) -> None:
        call = self.calls.get(offer.call_id)
        if call is None:
            return
        legs = _OfferLegs(self, offer)
        placed = self.switch.originate_extension(offer.device, call, legs)
        if not placed:
            # unregistered phone: a miss, as a ring that nobody answers
            self.loop.call_soon(self.feed, OfferFailed(offer.call_id, offer.agent,
                                                       OfferFailure.NO_ANSWER, self.clock()))
            return
        legs.legs = list(placed)
        self.offers[(offer.call_id, offer.agent)] = legs

    def _place_callback(self, action: PlaceCallback) -> None:
        """Ring the agent; once they answer, `_callback_answered` dials the customer."""
        offer = Offer(action.call_id, action.agent, action.device, action.ring_timeout,
                      action.queue, action.number)
        legs = _OfferLegs(self, offer, on_answer=self._callback_answered)
        placed = self.switch.originate_extension_for(action.device, Party(action.number),
                                                      legs)
        if not placed:
            self.loop.call_soon(self.feed, OfferFailed(action.call_id, action.agent,
                                                       OfferFailure.NO_ANSWER, self.clock()))
            return
        legs.legs = list(placed)
        self.offers[(action.call_id, action.agent)] = legs

    def _callback_answered(self, legs: _OfferLegs, ch: Channel) -> None:
        # the engine counts the agent as connected from here (no Connect for callbacks)
        self.offers.pop((legs.offer.call_id, legs.offer.agent), None)
        legs.done = True
        call = self.switch.callback_call(ch, legs.offer.caller_number)
        self.engine_id[call.id] = legs.offer.call_id
        self.agent_of[legs.offer.call_id] = legs.offer.agent
        self.calls[call.id] = call
        call.acd = self
        call.extra.update(queue=legs.offer.queue, agent=legs.offer.agent, callback="1")
        cause = self.switch.dial_number(call, legs.offer.caller_number)
        if cause is not None:
            call.finish(cause, "system")

    def _connect(self, call_id: str, agent: str) -> None:
        legs = self.offers.pop((call_id, agent), None)
        call = self.calls.get(call_id)
        if legs is None or legs.answered is None or call is None:
            return
        player = self.players.pop(call_id, None)
        if player is not None:
            player.stop()
        ch = legs.answered
        legs.done = True  # from now on the Call listens to this leg
        self.agent_of[call_id] = agent
        call.extra["agent"] = agent
        call.forks = [ch]
        ch.listener = call
        call.channel_answered(ch)

    def _moh(self, call_id: str) -> None:
        player = self.players.get(call_id)
        if player is not None:
            player.play([self.prompts.path(MOH)], repeat=True)

    def _prompts_then_moh(self, call_id: str, names: list[str]) -> None:
        player = self.players.get(call_id)
        if player is not None:
            player.play([self.prompts.path(n) for n in names], lambda: self._moh(call_id))

    def _exit(self, action: Exit) -> None:
        call = self.calls.pop(action.call_id, None)
        if call is None:
            return
        player = self.players.pop(action.call_id, None)
        if player is not None:
            player.stop()
        target = action.target
        log.info("call %s leaves its queue (%s) for %s %s", call.id, action.reason.value,
                 target.kind.value, target.value)
        if target.kind is TargetKind.QUEUE:
            cause = self.join(call, target.value, action.priority)
        elif target.kind is TargetKind.EXTENSION:
            cause = self.switch.dial_extension(call, target.value)
        elif target.kind is TargetKind.VOICEMAIL:
            cause = self.switch.ivr_voicemail(call, target.value)  # as an IVR's node does
        elif target.kind is TargetKind.CALLBACK and player is not None:
            player.play([self.prompts.path("queue_callback_registered")],
                        lambda: call.finish(Cause.NORMAL_CLEARING, "system"))
            return
        else:
            cause = Cause.NORMAL_CLEARING
        if cause is not None:
            call.finish(cause, "system")
