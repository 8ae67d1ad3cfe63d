"""Agent session transitions: allowed ones yield timestamped events, impossible ones say why."""

from __future__ import annotations

import pytest

from firmware.acd import (
    AgentBusy,
    AgentConfig,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentNotReady,
    AgentReady,
    AgentRinging,
    AgentState,
    AgentWrapUp,
    TransitionError,
)
from firmware.acd.agent import Agent


def ready_agent() -> Agent:
    a = Agent(AgentConfig("1001"))
    a.login("8001", 0.0, ready=True)
    return a


def test_login_ready_or_not_ready() -> None:
    a = Agent(AgentConfig("1001"))
    assert a.login("8001", 5.0, ready=True) == [AgentLoggedIn("1001", 5.0, "8001"),
                                                 AgentReady("1001", 5.0)]
    b = Agent(AgentConfig("1002"))
    assert b.login("8002", 5.0, ready=False)[1] == AgentNotReady("1002", 5.0, "login")


def test_full_call_cycle_events() -> None:
    a = ready_agent()
    assert a.ring("c1", "q", 1.0) == [AgentRinging("1001", 1.0, "c1", "q")]
    assert a.answer(2.0) == [AgentBusy("1001", 2.0, "c1", "q")]
    assert a.hang_up(30.0, wrap_up=10.0) == [AgentWrapUp("1001", 30.0, "c1", "q", 40.0)]
    assert a.state is AgentState.WRAP_UP and a.last_call_end == 30.0
    assert a.wrap_done(40.0) == [AgentReady("1001", 40.0)]
    assert a.call_id is None


def test_no_wrap_up_goes_straight_back_to_ready() -> None:
    a = ready_agent()
    a.ring("c1", "q", 1.0)
    a.answer(2.0)
    assert a.hang_up(30.0, wrap_up=0.0) == [AgentReady("1001", 30.0)]


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        ("logged-out", "ready", "agent 1001: cannot go ready while logged out"),
        ("logged-out", "not_ready", "agent 1001: cannot go not ready while logged out"),
        ("logged-out", "logout", "agent 1001: cannot log out while logged out"),
        ("ringing", "ready", "agent 1001: cannot go ready while ringing for call c1"),
        ("on-call", "logout", "agent 1001: cannot log out while on call c1"),
        ("on-call", "move", "agent 1001: cannot move to device 8009 while on call c1"),
        ("ringing", "move", "agent 1001: cannot move to device 8009 while ringing for call c1"),
        ("not-ready", "ring", "agent 1001: cannot ring for call c2 while not ready (break)"),
        ("ready", "answer", "agent 1001: cannot answer while ready"),
        ("ready", "hang_up", "agent 1001: cannot end a call while ready"),
        ("on-call", "wrap_done", "agent 1001: cannot end wrap-up while on call c1"),
    ],
)
def test_impossible_transitions_are_refused_clearly(setup: str, action: str, message: str) -> None:
    a = Agent(AgentConfig("1001"))
    if setup != "logged-out":
        a.login("8001", 0.0, ready=True)
    if setup in ("ringing", "on-call"):
        a.ring("c1", "q", 1.0)
    if setup == "on-call":
        a.answer(2.0)
    if setup == "not-ready":
        a.not_ready("break", 1.0)
    steps = {
        "ready": lambda: a.ready(3.0),
        "not_ready": lambda: a.not_ready("break", 3.0),
        "logout": lambda: a.logout(3.0),
        "move": lambda: a.login("8009", 3.0, ready=True),
        "ring": lambda: a.ring("c2", "q", 3.0),
        "answer": lambda: a.answer(3.0),
        "hang_up": lambda: a.hang_up(3.0, 0.0),
        "wrap_done": lambda: a.wrap_done(3.0),
    }
    with pytest.raises(TransitionError) as err:
        steps[action]()
    assert str(err.value) == message


def test_repeated_commands_are_harmless() -> None:
    a = ready_agent()
    assert a.ready(1.0) == []
    assert a.login("8001", 1.0, ready=True) == []
    a.not_ready("lunch", 2.0)
    assert a.not_ready("lunch", 3.0) == []
    assert a.not_ready("break", 4.0) == [AgentNotReady("1001", 4.0, "break")]


def test_move_to_another_device_keeps_the_state() -> None:
    a = ready_agent()
    a.not_ready("training", 1.0)
    assert a.login("8005", 2.0, ready=True) == [AgentLoggedIn("1001", 2.0, "8005", "8001")]
    assert a.state is AgentState.NOT_READY and a.device == "8005"


def test_consecutive_misses_lead_to_not_ready_and_ready_resets_them() -> None:
    a = ready_agent()
    for t in (1.0, 2.0):
        a.ring("c", "q", t)
        assert a.ring_ended(t + 0.5, missed=True, max_missed=3) == [AgentReady("1001", t + 0.5)]
    a.ring("c", "q", 3.0)
    assert a.ring_ended(3.5, missed=True, max_missed=3) == [
        AgentNotReady("1001", 3.5, "no answer")]
    a.ready(4.0)
    assert a.missed == 0
    a.ring("c", "q", 5.0)
    a.ring_ended(5.5, missed=False, max_missed=3)  # cancelled: not the agent's fault
    assert a.missed == 0


def test_zero_disables_auto_not_ready() -> None:
    a = ready_agent()
    for t in range(10):
        a.ring("c", "q", float(t))
        a.ring_ended(t + 0.5, missed=True, max_missed=0)
    assert a.state is AgentState.READY and a.missed == 10


def test_not_ready_during_a_call_is_taken_after_it() -> None:
    a = ready_agent()
    a.ring("c1", "q", 1.0)
    a.answer(2.0)
    assert a.not_ready("lunch", 3.0) == []
    assert a.hang_up(10.0, wrap_up=0.0) == [AgentNotReady("1001", 10.0, "lunch")]
    # ... unless they change their mind.
    a.ready(11.0)
    a.ring("c2", "q", 12.0)
    a.answer(13.0)
    a.not_ready("lunch", 14.0)
    a.ready(15.0)
    assert a.hang_up(20.0, wrap_up=0.0) == [AgentReady("1001", 20.0)]


def test_logout_from_wrap_up_and_not_ready() -> None:
    a = ready_agent()
    a.not_ready("break", 1.0)
    assert a.logout(2.0) == [AgentLoggedOut("1001", 2.0, "8001")]
    assert a.device is None and a.state is AgentState.LOGGED_OUT
