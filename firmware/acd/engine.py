"""The ACD engine, sans I/O.

`AcdEngine` takes commands and events with the time they happened and returns the
actions the switch must carry out, in order; `next_timer()` says when to call
`handle_timer()` next. It reads no clock, opens no socket and never awaits, so a test
drives it with made-up times and the switch drives it from its event loop.

Dispatch follows "greatest need": whenever something changes, waiting callers are served
in (priority desc, arrival) order across all queues, each taking the best free agent of
its own queue by that queue's strategy. A multi-queue agent therefore goes to the most
urgent, longest-waiting caller among their queues.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from firmware.acd.actions import (
    Action,
    Announce,
    CallEnded,
    CallServed,
    CancelOffer,
    Connect,
    DeviceInUse,
    Exit,
    ExitReason,
    InputEvent,
    KeyPressed,
    Offer,
    OfferAnswered,
    OfferFailed,
    OutboundCallMade,
    PlaceCallback,
    PlayPrompt,
    QueueLog,
    StartMoh,
)
from firmware.acd.agent import Agent, AgentEvent, AgentState
from firmware.acd.announce import estimated_wait, next_slot
from firmware.acd.config import AcdConfig, Member, Target, TargetKind
from firmware.acd.errors import AcdError, TransitionError
from firmware.acd.journal import Snapshot, agent_actions, end_record, exit_record
from firmware.acd.queue import Queue, QueueEntry
from firmware.acd.queuelog import (
    NONE,
    Abandon,
    AddMember,
    EnterQueue,
    QueueLogRecord,
    RemoveMember,
    RingCanceled,
    RingNoAnswer,
    WrapUpEnd,
)
from firmware.acd.queuelog import Connect as ConnectRecord
from firmware.acd.routing import RoutingMemory
from firmware.acd.selection import select_agents


class LeaveReason(StrEnum):
    ABANDON = "abandon"  # the caller hung up while waiting or while agents rang


@dataclass(frozen=True)
class AgentStatus:
    """A read-only view of an agent session (wallboard, tests, CTI queries)."""

    agent: str
    state: AgentState
    device: str | None
    reason: str | None
    call_id: str | None
    wrap_until: float | None
    missed: int


@dataclass
class _Connected:
    entry: QueueEntry
    agent: str
    at: float


class AcdEngine:
    def __init__(self, config: AcdConfig, *, rng: random.Random | None = None) -> None:
        self.config = config
        self._rng = rng if rng is not None else random.Random(config.seed)
        self._queues = {q.name: Queue(q) for q in config.queues}
        self._agents = {a.id: Agent(a) for a in config.agents}
        self._devices: dict[str, str] = {}  # device -> agent logged in there
        self._busy_devices: set[str] = set()
        self._entries: dict[str, QueueEntry] = {}  # waiting callers and callback requests
        self._connected: dict[str, _Connected] = {}
        self._talk: dict[str, float] = {}  # agent -> talk time of the call being wrapped up
        self._memory = RoutingMemory(config.served_memory_days, config.outbound_memory_days)
        self._seq = itertools.count(1)
        self._now = -math.inf
        # Live reconfiguration (see `reconfigure`): queues removed while callers wait in
        # them, and agents removed while logged in, until they are no longer needed.
        self._draining: set[str] = set()
        self._retired: set[str] = set()

    # === callers =========================================================================

    def join(
        self,
        call_id: str,
        queue: str,
        caller_number: str,
        priority: int = 0,
        skills: Mapping[str, int] | None = None,
        *,
        now: float,
    ) -> list[Action]:
        now = self._clock(now)
        q = self._queue(queue)
        if queue in self._draining:
            raise AcdError(f"queue {queue!r} was removed from the configuration")
        if call_id in self._entries or call_id in self._connected:
            raise AcdError(f"call {call_id} is already in the ACD")
        needed = q.config.skills if skills is None else skills
        entry = QueueEntry(
            call_id, queue, caller_number, priority, dict(needed), now, next(self._seq)
        )
        entry.orig_position = q.insert(entry)
        self._entries[call_id] = entry
        out: list[Action] = [
            self._log(EnterQueue(now, call_id, queue, NONE, caller_number, entry.orig_position))
        ]
        cfg = q.config
        entry.preferred = self._memory.preferred(
            caller_number, now, served=cfg.smart_routing, outbound=cfg.outbound_trace
        )
        if cfg.empty_target is not None and not self._anyone_logged_in(q):
            return out + self._exit(entry, cfg.empty_target, ExitReason.EMPTY, now)
        if cfg.max_wait is not None:
            entry.exit_at = now + cfg.max_wait
        if cfg.announce_frequency > 0:
            entry.next_announce = now + cfg.announce_frequency
        if cfg.periodic_prompt is not None:
            entry.next_periodic = now + cfg.periodic_frequency
        out.append(StartMoh(call_id, cfg.moh_class))
        out += self._dispatch(now)
        if cfg.announce_frequency > 0 and cfg.announce_on_join and not entry.offers:
            out.append(self._announcement(entry, q))
        return out

    def leave(
        self, call_id: str, reason: LeaveReason = LeaveReason.ABANDON, *, now: float
    ) -> list[Action]:
        """The caller hung up before reaching an agent (also: a callback request withdrawn)."""
        now = self._clock(now)
        entry = self._entries.get(call_id)
        if entry is None:
            raise AcdError(f"call {call_id} is not waiting in any queue")
        q = self._queues[entry.queue]
        position = q.position(entry)
        out = self._withdraw_offers(entry, now)
        self._drop(entry)
        wait = now - entry.joined_at
        out.append(self._log(Abandon(now, call_id, q.name, NONE, position,
                                     entry.orig_position, wait)))
        return out + self._dispatch(now)

    # === agents ==========================================================================

    def agent_login(self, agent: str, device: str, *, now: float) -> list[Action]:
        now = self._clock(now)
        a = self._agent(agent)
        owner = self._devices.get(device)
        if owner is not None and owner != agent:
            raise TransitionError(f"device {device} is in use by agent {owner}")
        snap = Snapshot.of(a)
        old_device = a.device
        out = self._after(a, snap, a.login(device, now, ready=self.config.ready_on_login), now)
        if old_device is not None and old_device != device:
            del self._devices[old_device]
        self._devices[device] = agent
        return out + self._dispatch(now)

    def agent_logout(self, agent: str, *, now: float) -> list[Action]:
        now = self._clock(now)
        a = self._agent(agent)
        snap = Snapshot.of(a)
        device = a.device
        events = a.logout(now)
        out = self._release_offer(agent, snap, device or "", now)
        out += self._after(a, snap, events, now)
        if device is not None:
            self._devices.pop(device, None)
        return out + self._exit_empty_queues(now) + self._dispatch(now)

    def agent_ready(self, agent: str, *, now: float) -> list[Action]:
        now = self._clock(now)
        a = self._agent(agent)
        snap = Snapshot.of(a)
        out = self._after(a, snap, a.ready(now), now)
        return out + self._dispatch(now)

    def agent_not_ready(self, agent: str, reason: str, *, now: float) -> list[Action]:
        now = self._clock(now)
        a = self._agent(agent)
        if reason not in self.config.reasons():
            known = ", ".join(sorted(self.config.reasons()))
            raise AcdError(f"agent {agent}: unknown not-ready reason {reason!r} (known: {known})")
        snap = Snapshot.of(a)
        events = a.not_ready(reason, now)
        out = self._release_offer(agent, snap, a.device or "", now)
        out += self._after(a, snap, events, now)
        return out + self._dispatch(now)

    def add_member(
        self, queue: str, agent: str, penalty: int = 0, weight: float = 1.0, *, now: float
    ) -> list[Action]:
        now = self._clock(now)
        q = self._queue(queue)
        self._agent(agent)
        if agent in q.members:
            raise AcdError(f"agent {agent} is already a member of queue {queue}")
        if penalty < 0 or weight <= 0:
            raise AcdError(f"queue {queue}: penalty must be >= 0 and weight > 0")
        q.add_member(Member(agent, penalty, weight))
        out: list[Action] = [self._log(AddMember(now, NONE, queue, agent))]
        return out + self._dispatch(now)

    def remove_member(self, queue: str, agent: str, *, now: float) -> list[Action]:
        now = self._clock(now)
        q = self._queue(queue)
        if agent not in q.members:
            raise AcdError(f"agent {agent} is not a member of queue {queue}")
        a = self._agents[agent]
        out: list[Action] = []
        if a.state is AgentState.RINGING and a.queue == queue:
            entry = self._entries[a.call_id or ""]
            out += self._cancel_offer(entry, agent, now)
        q.remove_member(agent)
        out.append(self._log(RemoveMember(now, NONE, queue, agent)))
        return out + self._exit_empty_queues(now) + self._dispatch(now)

    # === events from the switch ==========================================================

    def handle(self, event: InputEvent) -> list[Action]:
        match event:
            case OfferAnswered():
                return self._answered(event)
            case OfferFailed():
                return self._failed(event)
            case CallEnded():
                return self._ended(event)
            case KeyPressed():
                return self._key(event)
            case CallServed():
                # History may be replayed from storage: its time is not "now".
                self._memory.served(event.number, event.agent, event.now)
                return []
            case OutboundCallMade():
                self._memory.called_out(event.number, event.agent, event.now)
                return []
            case DeviceInUse():
                return self._device(event)

    def _answered(self, ev: OfferAnswered) -> list[Action]:
        now = self._clock(ev.now)
        entry = self._entries.get(ev.call_id)
        if entry is None or ev.agent not in entry.offers:
            # Answered after we cancelled (timeout, ring-all loser, caller gone): the
            # switch must drop that agent leg again.
            stale = self._agents.get(ev.agent)
            return [CancelOffer(ev.call_id, ev.agent, (stale.device if stale else None) or "")]
        q = self._queues[entry.queue]
        a = self._agents[ev.agent]
        device = a.device or ""
        ring_started = entry.offers.pop(ev.agent)
        self._drop(entry)
        out: list[Action] = []
        if not entry.callback:
            out.append(Connect(entry.call_id, a.id, device, q.name))
        out += self._after(a, Snapshot.of(a), a.answer(now), now)
        out.append(self._log(ConnectRecord(now, entry.call_id, q.name, a.id,
                                           now - entry.joined_at, device, now - ring_started)))
        for other in list(entry.offers):  # ring-all: the others stop ringing
            out += self._cancel_offer(entry, other, now)
        q.calls[a.id] += 1
        self._connected[entry.call_id] = _Connected(entry, a.id, now)
        self._memory.served(entry.caller_number, a.id, now)
        return out + self._dispatch(now)

    def _failed(self, ev: OfferFailed) -> list[Action]:
        now = self._clock(ev.now)
        entry = self._entries.get(ev.call_id)
        if entry is None or ev.agent not in entry.offers:
            return []  # already timed out or cancelled by us
        out = self._fail_offer(entry, ev.agent, now, cancel=False)
        return out + self._dispatch(now)

    def _ended(self, ev: CallEnded) -> list[Action]:
        now = self._clock(ev.now)
        conn = self._connected.get(ev.call_id)
        if conn is None:
            return []  # reported twice
        if conn.agent != ev.agent:
            raise AcdError(f"call {ev.call_id} is with agent {conn.agent}, not {ev.agent}")
        del self._connected[ev.call_id]
        entry, a = conn.entry, self._agents[conn.agent]
        q = self._queues[entry.queue]
        hold, talk = conn.at - entry.joined_at, now - conn.at
        head = (now, entry.call_id, q.name, a.id)
        record = end_record(ev.by, head, hold, talk, entry.orig_position, ev.target)
        out: list[Action] = [self._log(record)]
        wrap = a.config.wrap_up if a.config.wrap_up is not None else q.config.wrap_up
        if a.id in self._retired:
            wrap = 0.0  # removed from the configuration: logged out after this call
        out += self._after(a, Snapshot.of(a), a.hang_up(now, wrap), now)
        if a.id in self._retired:
            q.record_handle(talk)
            return out + self._reap(a.id, now) + self._dispatch(now)
        if a.state is AgentState.WRAP_UP:
            self._talk[a.id] = talk  # handle time is complete when the wrap-up ends
        else:
            q.record_handle(talk)
        return out + self._dispatch(now)

    def _key(self, ev: KeyPressed) -> list[Action]:
        now = self._clock(ev.now)
        entry = self._entries.get(ev.call_id)
        if entry is None or entry.callback:
            return []
        cfg = self._queues[entry.queue].config
        if ev.digit == cfg.callback_key and entry.caller_number:
            target = Target(TargetKind.CALLBACK)
        elif ev.digit in cfg.exit_keys:
            target = cfg.exit_keys[ev.digit]
        else:
            return []  # not a key this queue listens to (no number: no callback either)
        out = self._exit(entry, target, ExitReason.KEY, now, key=ev.digit)
        return out + self._dispatch(now)

    def _device(self, ev: DeviceInUse) -> list[Action]:
        now = self._clock(ev.now)
        if ev.in_use:
            self._busy_devices.add(ev.device)
            return []
        self._busy_devices.discard(ev.device)
        return self._dispatch(now)

    # === time ============================================================================

    def next_timer(self) -> float | None:
        times = [a.wrap_until for a in self._agents.values() if a.wrap_until is not None]
        times += [t for t in (e.due() for e in self._entries.values()) if t is not None]
        return min(times, default=None)

    def handle_timer(self, now: float) -> list[Action]:
        now = self._clock(now)
        out: list[Action] = []
        for e in self._entries.values():
            # Dispatch sets these again if they still hold: none may stay in the past.
            if e.retry_at is not None and e.retry_at <= now:
                e.retry_at = None
            if e.widen_at is not None and e.widen_at <= now:
                e.widen_at = None
        for a in self._agents.values():
            if a.state is AgentState.WRAP_UP and a.wrap_until is not None and a.wrap_until <= now:
                out += self._after(a, Snapshot.of(a), a.wrap_done(now), now)
        for e in list(self._entries.values()):
            if e.offer_deadline is not None and e.offer_deadline <= now:
                for agent in list(e.offers):
                    out += self._fail_offer(e, agent, now, cancel=True)
        for e in list(self._entries.values()):
            if e.exit_at is not None and e.exit_at <= now:
                target = self._queues[e.queue].config.timeout_target
                assert target is not None  # config validation: max_wait needs a target
                out += self._exit(e, target, ExitReason.TIMEOUT, now)
        out += self._dispatch(now)
        return out + self._announcements(now)

    # === queries =========================================================================

    def agent_status(self, agent: str) -> AgentStatus:
        a = self._agent(agent)
        return AgentStatus(a.id, a.state, a.device, a.reason, a.call_id, a.wrap_until, a.missed)

    def agent_at(self, device: str) -> str | None:
        """The agent logged in at `device`, if any (the switch asks on an outbound call)."""
        return self._devices.get(device)

    def waiting(self, queue: str) -> list[str]:
        """Call ids in service order (callback requests included: they hold places)."""
        return [e.call_id for e in self._queue(queue).entries]

    def position(self, call_id: str) -> int:
        entry = self._entries.get(call_id)
        if entry is None:
            raise AcdError(f"call {call_id} is not waiting in any queue")
        return self._queues[entry.queue].position(entry)

    # === dispatch ========================================================================

    def _dispatch(self, now: float) -> list[Action]:
        out: list[Action] = []
        if self._draining:
            self._forget_drained()
        # Busy hour means many callers and no free agent: then this costs one pass over
        # the agents, not callers × members.
        free = sum(1 for a in self._agents.values() if a.state is AgentState.READY)
        if not free or not self._entries:
            return out
        for e in sorted(self._entries.values(), key=QueueEntry.sort_key):
            if free == 0:
                break
            if e.offers:
                continue
            q = self._queues[e.queue]
            chosen = select_agents(q, e, self._agents, self._busy_devices, now, self._rng)
            out += self._offer(e, q, chosen, now)
            free -= len(chosen)
        return out

    def _offer(self, e: QueueEntry, q: Queue, agents: list[str], now: float) -> list[Action]:
        out: list[Action] = []
        timeout = q.config.ring_timeout
        for agent in agents:
            a = self._agents[agent]
            device = a.device or ""
            if e.callback:
                number = e.caller_number
                out.append(PlaceCallback(e.call_id, agent, device, number, timeout, q.name))
            else:
                out.append(Offer(e.call_id, agent, device, timeout, q.name, e.caller_number))
            out += self._after(a, Snapshot.of(a), a.ring(e.call_id, q.name, now), now)
            e.offers[agent] = now
            e.tried.add(agent)
        if agents:
            e.offer_deadline = now + timeout
        return out

    # === offers ending without an answer =================================================

    def _fail_offer(self, e: QueueEntry, agent: str, now: float, *, cancel: bool) -> list[Action]:
        """The agent did not take the call (no answer, busy, rejected, or our timeout)."""
        a = self._agents[agent]
        started = e.offers.pop(agent)
        out: list[Action] = [CancelOffer(e.call_id, agent, a.device or "")] if cancel else []
        out.append(self._log(RingNoAnswer(now, e.call_id, e.queue, agent,
                                          round((now - started) * 1000))))
        snap = Snapshot.of(a)
        events = a.ring_ended(now, missed=True, max_missed=self.config.max_missed_offers)
        out += self._after(a, snap, events, now)
        if not e.offers:
            e.offer_deadline = None
            e.last_fail_at = now
        return out

    def _cancel_offer(self, e: QueueEntry, agent: str, now: float) -> list[Action]:
        """We stop an offer that did not fail: the agent is not to blame."""
        a = self._agents[agent]
        out = self._stop_ringing(e, agent, a.device or "", now)
        out += self._after(a, Snapshot.of(a), a.ring_ended(now, missed=False, max_missed=0), now)
        return out

    def _release_offer(
        self, agent: str, snap: Snapshot, device: str, now: float
    ) -> list[Action]:
        """The agent left Ringing by their own command (logout, not ready): the caller
        stays queued and the agent is not counted as missing the offer."""
        if snap.state is not AgentState.RINGING or snap.call_id not in self._entries:
            return []
        return self._stop_ringing(self._entries[snap.call_id], agent, device, now)

    def _stop_ringing(self, e: QueueEntry, agent: str, device: str, now: float) -> list[Action]:
        started = e.offers.pop(agent)
        e.tried.discard(agent)  # not refused: the agent may be offered this call again
        if not e.offers:
            e.offer_deadline = None
        return [CancelOffer(e.call_id, agent, device),
                self._log(RingCanceled(now, e.call_id, e.queue, agent,
                                       round((now - started) * 1000)))]

    def _withdraw_offers(self, e: QueueEntry, now: float) -> list[Action]:
        out: list[Action] = []
        for agent in list(e.offers):
            out += self._cancel_offer(e, agent, now)
        return out

    # === leaving the queue ===============================================================

    def _exit(
        self, e: QueueEntry, target: Target, reason: ExitReason, now: float, key: str = ""
    ) -> list[Action]:
        q = self._queues[e.queue]
        position, wait = q.position(e), now - e.joined_at
        out = self._withdraw_offers(e, now)
        record = exit_record(reason, (now, e.call_id, q.name, NONE), position,
                             e.orig_position, wait, key)
        callback = target.kind is TargetKind.CALLBACK
        if callback and not e.caller_number:
            target, callback = Target(TargetKind.HANGUP), False  # no number to call back
        out += [self._log(record), Exit(e.call_id, target, reason, e.priority)]
        if callback:
            # The caller hangs up but their place is kept: same priority, same arrival
            # number, so the request is served exactly when the caller would have been.
            e.callback = True  # no live caller: no max wait, no announcements
            e.exit_at = e.next_announce = e.next_periodic = None
        else:
            self._drop(e)
        return out

    def _exit_empty_queues(self, now: float) -> list[Action]:
        """EXITEMPTY: the last logged-in member left a queue that has an empty treatment.
        Callback requests stay; they need no live caller."""
        out: list[Action] = []
        for q in self._queues.values():
            target = q.config.empty_target
            if target is None or self._anyone_logged_in(q):
                continue
            for e in list(q.entries):
                if not e.callback:
                    out += self._exit(e, target, ExitReason.EMPTY, now)
        return out

    def _drop(self, e: QueueEntry) -> None:
        self._queues[e.queue].remove(e)
        del self._entries[e.call_id]

    # === announcements ===================================================================

    def _announcements(self, now: float) -> list[Action]:
        out: list[Action] = []
        for e in self._entries.values():
            cfg = self._queues[e.queue].config
            if e.next_announce is not None and e.next_announce <= now:
                if not e.offers:  # no "you are first in line" while an agent rings
                    out.append(self._announcement(e, self._queues[e.queue]))
                e.next_announce = next_slot(e.next_announce, cfg.announce_frequency, now)
            if e.next_periodic is not None and e.next_periodic <= now:
                if not e.offers and cfg.periodic_prompt is not None:
                    out.append(PlayPrompt(e.call_id, cfg.periodic_prompt))
                e.next_periodic = next_slot(e.next_periodic, cfg.periodic_frequency, now)
        return out

    def _announcement(self, e: QueueEntry, q: Queue) -> Announce:
        position = q.position(e)
        working = (AgentState.READY, AgentState.RINGING, AgentState.ON_CALL, AgentState.WRAP_UP)
        staffed = sum(1 for m in q.members if self._agents[m].state in working)
        ewt = estimated_wait(position, q.aht(), staffed) if q.config.announce_ewt else None
        return Announce(e.call_id, position if q.config.announce_position else None, ewt)

    # === agent events -> queue log ========================================================

    def _after(
        self, a: Agent, snap: Snapshot, events: list[AgentEvent], now: float
    ) -> list[Action]:
        """Pass the agent's events on and log what the queue log needs from them."""
        out: list[Action] = []
        if snap.state is AgentState.WRAP_UP and a.state is not AgentState.WRAP_UP:
            wrap = now - (snap.wrap_started if snap.wrap_started is not None else now)
            out.append(self._log(WrapUpEnd(now, snap.call_id or NONE, snap.queue or NONE,
                                           a.id, wrap)))
            q = self._queues.get(snap.queue or "")
            if q is not None:
                q.record_handle(self._talk.pop(a.id, 0.0) + wrap)
        return out + agent_actions(a.id, snap, events)

    # === live reconfiguration ============================================================

    def reconfigure(self, config: AcdConfig, *, now: float) -> list[Action]:
        """Take a new configuration without disturbing anyone in the middle of something.

        Agents keep their sessions (logged in, state, device, missed count); queues that
        stay keep their callers in their places, their round-robin pointer and handle
        times, with the new settings applied to waiting callers (max wait and
        announcements recomputed from when each caller joined). Members are added and
        removed as for add_member/remove_member (ADDMEMBER/REMOVEMEMBER; an offer to a
        removed member is withdrawn without counting as a miss). A removed queue takes
        no new callers but keeps serving those waiting with its former members until it
        is empty (callers are never dropped because an admin reorganised the queues). A
        removed agent gets no further offers and is logged out once idle.
        """
        now = self._clock(now)
        out: list[Action] = []
        self.config = config
        self._memory.set_windows(config.served_memory_days, config.outbound_memory_days)
        agents = {a.id: a for a in config.agents}
        for agent_id, agent in self._agents.items():
            if agent_id in agents:
                agent.config = agents[agent_id]
                self._retired.discard(agent_id)
            else:
                self._retired.add(agent_id)
        for agent_id, ac in agents.items():
            if agent_id not in self._agents:
                self._agents[agent_id] = Agent(ac)
        queues = {q.name: q for q in config.queues}
        for name, q in self._queues.items():
            if name in queues:
                self._draining.discard(name)
                out += self._set_members(q, queues[name].members, now)
                q.reconfigure(queues[name])
                self._refresh_timers(q, now)
            else:
                self._draining.add(name)
        for name, qc in queues.items():
            if name not in self._queues:
                self._queues[name] = Queue(qc)
        for agent_id in sorted(self._retired):
            for q in self._queues.values():
                if agent_id in q.members:
                    out += self._drop_member(q, agent_id, now)
            out += self._reap(agent_id, now)
        out += self._exit_empty_queues(now) + self._drain_unstaffed(now)
        self._forget_drained()
        return out + self._dispatch(now)

    def draining(self) -> dict[str, int]:
        """Removed queues still serving their callers: name -> callers waiting."""
        return {name: len(self._queues[name].entries) for name in sorted(self._draining)}

    def _set_members(self, q: Queue, members: tuple[Member, ...], now: float) -> list[Action]:
        out: list[Action] = []
        wanted = {m.agent for m in members}
        for agent in [a for a in q.members if a not in wanted]:
            out += self._drop_member(q, agent, now)
        for m in members:
            if m.agent not in q.members:
                out.append(self._log(AddMember(now, NONE, q.name, m.agent)))
        q.set_members(members)
        return out

    def _drop_member(self, q: Queue, agent: str, now: float) -> list[Action]:
        out: list[Action] = []
        a = self._agents[agent]
        if a.state is AgentState.RINGING and a.queue == q.name and a.call_id in self._entries:
            out += self._cancel_offer(self._entries[a.call_id], agent, now)
        q.remove_member(agent)
        out.append(self._log(RemoveMember(now, NONE, q.name, agent)))
        return out

    def _refresh_timers(self, q: Queue, now: float) -> None:
        cfg = q.config
        for e in q.entries:
            if e.callback:
                continue
            e.exit_at = None if cfg.max_wait is None else e.joined_at + cfg.max_wait
            if cfg.announce_frequency <= 0:
                e.next_announce = None
            elif e.next_announce is None:
                e.next_announce = now + cfg.announce_frequency
            if cfg.periodic_prompt is None or cfg.periodic_frequency <= 0:
                e.next_periodic = None
            elif e.next_periodic is None:
                e.next_periodic = now + cfg.periodic_frequency

    def _reap(self, agent_id: str, now: float) -> list[Action]:
        """A removed agent: log out once idle, then forget."""
        a = self._agents.get(agent_id)
        if a is None or a.state in (AgentState.ON_CALL, AgentState.RINGING):
            return []
        out: list[Action] = []
        if a.logged_in:
            snap = Snapshot.of(a)
            device = a.device
            out += self._after(a, snap, a.logout(now), now)
            if device is not None:
                self._devices.pop(device, None)
        del self._agents[agent_id]
        self._retired.discard(agent_id)
        return out

    def _drain_unstaffed(self, now: float) -> list[Action]:
        """A removed queue none of whose former members is logged in could hold its
        callers forever: they go to its empty or timeout target if that still exists,
        else they are released (logged as EXITEMPTY)."""
        out: list[Action] = []
        for name in sorted(self._draining):
            q = self._queues[name]
            if self._anyone_logged_in(q):
                continue
            target = Target(TargetKind.HANGUP)
            for t in (q.config.empty_target, q.config.timeout_target):
                if t is not None and (t.kind is not TargetKind.QUEUE or (
                        t.value in self._queues and t.value not in self._draining)):
                    target = t
                    break
            for e in list(q.entries):
                if not e.callback:
                    out += self._exit(e, target, ExitReason.EMPTY, now)
        return out

    def _forget_drained(self) -> None:
        for name in list(self._draining):
            q = self._queues[name]
            busy = any(c.entry.queue == name for c in self._connected.values())
            if not q.entries and not busy:
                del self._queues[name]
                self._draining.discard(name)

    # === helpers =========================================================================

    def _clock(self, now: float) -> float:
        # A clock that steps back must not reorder the queue log or re-arm old timers.
        self._now = max(self._now, now)
        return self._now

    @staticmethod
    def _log(record: QueueLogRecord) -> QueueLog:
        return QueueLog(record)

    def _queue(self, name: str) -> Queue:
        q = self._queues.get(name)
        if q is None:
            raise AcdError(f"no queue {name!r}")
        return q

    def _agent(self, agent: str) -> Agent:
        a = self._agents.get(agent)
        if a is None:
            raise AcdError(f"no agent {agent!r}")
        return a

    def _anyone_logged_in(self, q: Queue) -> bool:
        return any(self._agents[m].logged_in for m in q.members)


