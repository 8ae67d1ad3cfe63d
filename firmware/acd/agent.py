"""Agent sessions: who is logged in where, and in which state.

A session belongs to the agent, not the phone: an agent logs in at any extension and may
move to another while idle. The session validates every transition and returns the
events it caused; the engine decides the side effects on calls (cancel an offer, etc.).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from firmware.acd.config import LOGIN, NO_ANSWER, AgentConfig
from firmware.acd.errors import TransitionError


class AgentState(StrEnum):
    LOGGED_OUT = "logged-out"
    READY = "ready"
    NOT_READY = "not-ready"
    RINGING = "ringing"
    ON_CALL = "on-call"
    WRAP_UP = "wrap-up"


# Agent events: every state change yields one, for the CTI server and the wallboard.
@dataclass(frozen=True)
class AgentEvent:
    agent: str
    time: float


@dataclass(frozen=True)
class AgentLoggedIn(AgentEvent):
    device: str
    previous_device: str | None = None  # set when the agent moved to another extension


@dataclass(frozen=True)
class AgentLoggedOut(AgentEvent):
    device: str


@dataclass(frozen=True)
class AgentReady(AgentEvent):
    pass


@dataclass(frozen=True)
class AgentNotReady(AgentEvent):
    reason: str


@dataclass(frozen=True)
class AgentRinging(AgentEvent):
    call_id: str
    queue: str


@dataclass(frozen=True)
class AgentBusy(AgentEvent):
    call_id: str
    queue: str


@dataclass(frozen=True)
class AgentWrapUp(AgentEvent):
    call_id: str
    queue: str
    until: float


class Agent:
    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.id = config.id
        self.state = AgentState.LOGGED_OUT
        self.device: str | None = None
        self.reason: str | None = None  # while NOT_READY
        self.call_id: str | None = None  # the call ringing, talking or wrapped up
        self.queue: str | None = None
        self.since = 0.0  # last state change
        self.logged_in_at: float | None = None
        self.last_call_end: float | None = None
        self.wrap_started: float | None = None
        self.wrap_until: float | None = None
        self.missed = 0  # consecutive unanswered offers
        self.pending_reason: str | None = None  # not-ready asked for during a call

    # -- description for error messages -------------------------------------------------

    def describe(self) -> str:
        match self.state:
            case AgentState.LOGGED_OUT:
                return "logged out"
            case AgentState.NOT_READY:
                return f"not ready ({self.reason})"
            case AgentState.RINGING:
                return f"ringing for call {self.call_id}"
            case AgentState.ON_CALL:
                return f"on call {self.call_id}"
            case AgentState.WRAP_UP:
                return f"in wrap-up after call {self.call_id}"
            case _:
                return "ready"

    def _refuse(self, what: str) -> TransitionError:
        return TransitionError(f"agent {self.id}: cannot {what} while {self.describe()}")

    @property
    def logged_in(self) -> bool:
        return self.state is not AgentState.LOGGED_OUT

    def idle_since(self) -> float:
        """What longest-idle sorts on: the end of the last call, else the login."""
        if self.last_call_end is not None:
            return self.last_call_end
        return self.logged_in_at if self.logged_in_at is not None else self.since

    # -- commands ------------------------------------------------------------------------

    def login(self, device: str, now: float, *, ready: bool) -> list[AgentEvent]:
        if self.state is AgentState.LOGGED_OUT:
            self.device = device
            self.logged_in_at = now
            self.last_call_end = None
            self.missed = 0
            first: AgentEvent = AgentLoggedIn(self.id, now, device)
            if ready:
                return [first, self._become_ready(now)]
            return [first, self._become_not_ready(LOGIN, now)]
        if device == self.device:
            return []
        if self.state in (AgentState.RINGING, AgentState.ON_CALL):
            raise self._refuse(f"move to device {device}")
        previous, self.device = self.device, device
        return [AgentLoggedIn(self.id, now, device, previous)]

    def logout(self, now: float) -> list[AgentEvent]:
        """Allowed from every logged-in state but a call; the engine first cancels a
        ringing offer and closes a wrap-up."""
        if self.state in (AgentState.LOGGED_OUT, AgentState.ON_CALL):
            raise self._refuse("log out")
        device = self.device or ""
        self._set(AgentState.LOGGED_OUT, now)
        self.device = self.reason = self.call_id = self.queue = None
        self.wrap_started = self.wrap_until = self.pending_reason = None
        self.logged_in_at = None
        return [AgentLoggedOut(self.id, now, device)]

    def ready(self, now: float) -> list[AgentEvent]:
        match self.state:
            case AgentState.READY:
                return []  # idempotent: a feature code pressed twice is not an error
            case AgentState.ON_CALL:
                self.pending_reason = None  # changed their mind about the break
                return []
            case AgentState.NOT_READY | AgentState.WRAP_UP:
                self.missed = 0
                return [self._become_ready(now)]
            case _:
                raise self._refuse("go ready")

    def not_ready(self, reason: str, now: float) -> list[AgentEvent]:
        match self.state:
            case AgentState.ON_CALL:
                # Taken after the call (and its wrap-up): "not ready after this call".
                self.pending_reason = reason
                return []
            case AgentState.NOT_READY if reason == self.reason:
                return []
            case AgentState.READY | AgentState.NOT_READY | AgentState.WRAP_UP:
                return [self._become_not_ready(reason, now)]
            case AgentState.RINGING:
                return [self._become_not_ready(reason, now)]
            case _:
                raise self._refuse("go not ready")

    # -- driven by calls (the engine guarantees the preconditions) ------------------------

    def ring(self, call_id: str, queue: str, now: float) -> list[AgentEvent]:
        if self.state is not AgentState.READY:
            raise self._refuse(f"ring for call {call_id}")
        self._set(AgentState.RINGING, now)
        self.call_id, self.queue = call_id, queue
        return [AgentRinging(self.id, now, call_id, queue)]

    def answer(self, now: float) -> list[AgentEvent]:
        if self.state is not AgentState.RINGING:
            raise self._refuse("answer")
        self._set(AgentState.ON_CALL, now)
        self.missed = 0
        assert self.call_id is not None and self.queue is not None
        return [AgentBusy(self.id, now, self.call_id, self.queue)]

    def ring_ended(self, now: float, *, missed: bool, max_missed: int) -> list[AgentEvent]:
        """The offer is over without an answer: failed (missed) or cancelled."""
        if self.state is not AgentState.RINGING:
            raise self._refuse("stop ringing")
        self.call_id = self.queue = None
        if missed:
            self.missed += 1
            if max_missed and self.missed >= max_missed:
                return [self._become_not_ready(NO_ANSWER, now)]
        return [self._become_ready(now)]

    def hang_up(self, now: float, wrap_up: float) -> list[AgentEvent]:
        if self.state is not AgentState.ON_CALL:
            raise self._refuse("end a call")
        self.last_call_end = now
        if wrap_up > 0:
            self._set(AgentState.WRAP_UP, now)
            self.wrap_started, self.wrap_until = now, now + wrap_up
            assert self.call_id is not None and self.queue is not None
            return [AgentWrapUp(self.id, now, self.call_id, self.queue, self.wrap_until)]
        return [self._after_work(now)]

    def wrap_done(self, now: float) -> list[AgentEvent]:
        if self.state is not AgentState.WRAP_UP:
            raise self._refuse("end wrap-up")
        return [self._after_work(now)]

    # -- internals -----------------------------------------------------------------------

    def _after_work(self, now: float) -> AgentEvent:
        if self.pending_reason is not None:
            reason, self.pending_reason = self.pending_reason, None
            return self._become_not_ready(reason, now)
        return self._become_ready(now)

    def _become_ready(self, now: float) -> AgentEvent:
        self._set(AgentState.READY, now)
        return AgentReady(self.id, now)

    def _become_not_ready(self, reason: str, now: float) -> AgentEvent:
        self._set(AgentState.NOT_READY, now)
        self.reason = reason
        return AgentNotReady(self.id, now, reason)

    def _set(self, state: AgentState, now: float) -> None:
        self.reason = None  # _become_not_ready sets the new one
        if state is not AgentState.WRAP_UP:
            self.wrap_started = self.wrap_until = None
        if state in (AgentState.READY, AgentState.NOT_READY):
            self.call_id = self.queue = None
        self.state = state
        self.since = now
