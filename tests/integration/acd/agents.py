"""Queue tests with real phones: agents' desk phones and callers as sipp, against a box.

An agent's phone is a sipp UAS (tests/sipp/uas_agent.xml) registered as the agent's
extension; it rings for `answer_after` seconds and then answers, unless the box cancels
first (never answering: `answer_after=None`). What each phone received is read back
from its sipp message trace (sipp flushes it per message, so it can be read while sipp
runs): every INVITE with the time it arrived (µs, the wall clock the box's queue log
also uses), who it showed as caller, and whether it was answered or cancelled.

Callers are extensions dialling a DID routed to a queue (or to an IVR flow that
transfers to one), so every call can come from a different number and an offer is
matched to its caller by the INVITE's From.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integration.box import EXTENSIONS, Box
from tests.integration.phones import SipPhones
from tests.peers.sipp import SCENARIOS, SipMessage, Sipp, SippResult, parse_message_log

# Extensions 9005-9019 in addition to the template's 9001-9004; the site files of the
# queue tests declare them (with these passwords) so agents and callers can register.
EXTRA_EXTENSIONS: dict[str, str] = {f"90{n:02d}": f"S3cret-90{n:02d}x" for n in range(5, 20)}
PASSWORDS: dict[str, str] = {**EXTENSIONS, **EXTRA_EXTENSIONS}

AGENT_TEMPLATE = SCENARIOS / "uas_agent.xml"
NEVER_MS = 600_000  # "never answers": the box's ring timeout always comes first


QUEUE = "7100"  # the usual DID straight to queue q


def uses(doc: dict[str, Any]) -> pytest.MarkDecorator:
    """The site file a test's box starts with (the box_data fixture imports it)."""
    return pytest.mark.site(doc)


def queue(name: str, strategy: str, members: list[Any], **options: Any) -> dict[str, Any]:
    """A queue of the site file with short timers. Smart routing is off unless a test is
    about it: a caller would otherwise go back to the agent who served them last."""
    return {"name": name, "strategy": strategy, "members": members, "ring_timeout": 4,
            "retry": 0.5, "smart_routing": False, "outbound_trace": False, **options}


def extensions_section() -> list[dict[str, Any]]:
    """The site file's `extensions`: the template's four (keeping their passwords) and the
    extra ones with theirs."""
    out: list[dict[str, Any]] = [{"number": n, "name": "test"} for n in EXTENSIONS]
    out += [{"number": n, "name": "test", "password": p} for n, p in EXTRA_EXTENSIONS.items()]
    return out


def site(queues: list[dict[str, Any]], agents: Iterable[str], *,
         dids: Mapping[str, str] | None = None, logged_in: Iterable[str] | None = None,
         agent_options: Mapping[str, Mapping[str, Any]] | None = None,
         acd: Mapping[str, Any] | None = None, flows: list[dict[str, Any]] | None = None,
         priorities: Mapping[str, int] | None = None) -> dict[str, Any]:
    """A site document for a queue test. `dids`: number -> target ("queue:q",
    "flow:f"); agents are logged in at their own extension at start unless `logged_in`
    names a subset."""
    agents = list(agents)
    logged = set(agents if logged_in is None else logged_in)
    options = agent_options or {}
    doc: dict[str, Any] = {
        "extensions": extensions_section(),
        "dids": [{"number": n, "target": t, "priority": (priorities or {}).get(n, 0)}
                 for n, t in (dids or {}).items()],
        "queues": queues,
        "agents": [{"id": a, **({"login": a} if a in logged else {}), **options.get(a, {})}
                   for a in agents],
    }
    if acd is not None:
        doc["acd"] = dict(acd)
    if flows is not None:
        doc["ivr_flows"] = flows
    return doc


# -- what a phone received --------------------------------------------------------------


@dataclass(frozen=True)
class Ring:
    """One offer as the agent's phone saw it."""

    agent: str  # the extension whose phone rang
    at: float  # INVITE arrival, wall clock (s)
    caller: str  # the number the INVITE showed (From user)
    call_id: str
    outcome: str  # "answered", "cancelled", or "ringing" (nothing after the 180 yet)
    ended_at: float | None  # the CANCEL, or the 200 OK the phone sent

    def __str__(self) -> str:
        return f"{self.agent}<-{self.caller}@{self.at:.3f}:{self.outcome}"


_FROM_USER = re.compile(r"sip:([^@;>]+)@")


def stamp(msg: SipMessage) -> float:
    """The wall time of a sipp trace entry (its separator line, µs)."""
    struct = time.strptime(msg.stamp.split(".")[0], "%Y-%m-%d %H:%M:%S")
    frac = float("0." + msg.stamp.split(".")[1]) if "." in msg.stamp else 0.0
    return time.mktime(struct) + frac


def rings_in(agent: str, messages: list[SipMessage]) -> list[Ring]:
    invites: dict[str, SipMessage] = {}
    ended: dict[str, tuple[str, float]] = {}
    for m in messages:
        call_id = m.header("Call-ID") or ""
        if m.direction == "received" and not m.is_response and m.method == "INVITE":
            invites.setdefault(call_id, m)
        elif m.direction == "received" and not m.is_response and m.method == "CANCEL":
            ended.setdefault(call_id, ("cancelled", stamp(m)))
        elif m.direction == "sent" and m.status == 200 and m.method == "INVITE":
            ended.setdefault(call_id, ("answered", stamp(m)))
    out = []
    for call_id, inv in invites.items():
        found = _FROM_USER.search(inv.header("From") or "")
        outcome, at = ended.get(call_id, ("ringing", None))
        out.append(Ring(agent, stamp(inv), found.group(1) if found else "", call_id,
                        outcome, at))
    return sorted(out, key=lambda r: r.at)


class AgentPhone:
    def __init__(self, ext: str, sipp: Sipp) -> None:
        self.ext = ext
        self.sipp = sipp

    def rings(self) -> list[Ring]:
        return rings_in(self.ext, parse_message_log(self.sipp.workdir /
                                                    f"{self.sipp.name}.messages.log"))


class Desk:
    """The agents' phones of one test, registered to the box and answering."""

    def __init__(self, phones: SipPhones) -> None:
        self.phones = phones
        self.agents: dict[str, AgentPhone] = {}

    def phone(self, ext: str, answer_after: float | None = 0.2, calls: int = 20,
              timeout: float = 120.0) -> AgentPhone:
        """Register `ext` and answer up to `calls` offers after `answer_after` s of
        ringing (None: never; the box's ring timeout cancels)."""
        ring_ms = NEVER_MS if answer_after is None else max(1, round(answer_after * 1000))
        scenario = self.phones.workdir / f"uas_agent_{ext}_{ring_ms}.xml"
        scenario.write_text(AGENT_TEMPLATE.read_text().replace("@ring_ms@", str(ring_ms)))
        port, reg = self.phones.register(ext, password=PASSWORDS[ext])
        assert reg.ok, f"{ext} could not register:\n{reg.report()}"
        s = self.phones.sipp(str(scenario), remote=None, local_port=port, calls=calls,
                             keys={"user": ext}, timeout=timeout)
        s.start().wait_ready()
        self.agents[ext] = AgentPhone(ext, s)
        return self.agents[ext]

    def other_phone(self, ext: str, scenario: str,
                    keys: Mapping[str, str | int | float] | None = None,
                    timeout: float = 60.0) -> Sipp:
        """A phone that is not an agent's (a customer called back...): `scenario` as UAS
        on the port `ext` registered from."""
        port, reg = self.phones.register(ext, password=PASSWORDS[ext])
        assert reg.ok, f"{ext} could not register:\n{reg.report()}"
        return self.phones.answer(scenario, ext, port, keys, timeout)

    def rings(self) -> list[Ring]:
        """Every offer every phone received, in the order they arrived."""
        return sorted((r for a in self.agents.values() for r in a.rings()), key=lambda r: r.at)

    def wait_rings(self, count: int, timeout: float = 15.0,
                   answered: bool = False) -> list[Ring]:
        """Poll until `count` offers arrived (answered ones, if `answered`)."""
        deadline = time.monotonic() + timeout
        while True:
            rings = [r for r in self.rings() if not answered or r.outcome == "answered"]
            if len(rings) >= count or time.monotonic() > deadline:
                return rings
            time.sleep(0.05)


# -- callers ------------------------------------------------------------------------------


class Callers:
    """Extensions calling queue numbers; each call from its own number."""

    def __init__(self, phones: SipPhones) -> None:
        self.phones = phones
        self.calls: dict[str, Sipp] = {}

    def call(self, caller: str, number: str, hold: float, timeout: float = 60.0) -> Sipp:
        """`caller` dials `number` and hangs up `hold` s after the box answered (the box
        answers a queue call at once and plays music on hold)."""
        s = self.phones.dial("uac_call", caller, number, password=PASSWORDS[caller],
                             keys={"pre_play_ms": 0, "talk_ms": round(hold * 1000)},
                             timeout=timeout)
        self.calls[caller] = s
        return s

    def call_until_box_hangs_up(self, caller: str, number: str,
                                timeout: float = 60.0) -> Sipp:
        """`caller` dials `number` and stays until the box hangs up (a callback request
        confirmed, a hang-up treatment)."""
        s = self.phones.dial("uac_call_callee_hangs_up", caller, number,
                             password=PASSWORDS[caller], timeout=timeout)
        self.calls[caller] = s
        return s

    def many(self, caller: str, number: str, calls: int, hold: float,
             rate: float = 50.0, timeout: float = 120.0) -> Sipp:
        """`calls` calls one after the other (sipp -m N -l 1) from `caller`, each hung
        up `hold` s after the box answered it."""
        s = self.phones.sipp("uac_call", service=number, user=caller,
                             password=PASSWORDS[caller], calls=calls,
                             keys={"user": caller, "pre_play_ms": 0,
                                   "talk_ms": round(hold * 1000)},
                             timeout=timeout, extra_args=["-r", f"{rate:g}"])
        self.calls[caller] = s
        return s.start()

    def answered_calls(self, caller: str, number: str, calls: int, hold: float,
                       rounds: int = 5) -> int:
        """`many` until the box has answered `calls` calls: on a starved machine the box
        sheds load with 503 (its overload guard, RFC 3261 21.5.4), and a phone tries
        again, as these do, a second later. Fails on any other failure. Returns how
        many calls were answered (`calls`, unless every round was refused)."""
        done = 0
        for _ in range(rounds):
            result = self.many(caller, number, calls - done, hold).wait(timeout=150)
            outcomes = call_outcomes(result)
            assert "failed" not in outcomes.values(), result.report()
            done += sum(1 for o in outcomes.values() if o == "answered")
            if done >= calls:
                break
            time.sleep(1.0)
        return done

    def wait_all(self, timeout: float = 60.0) -> dict[str, SippResult]:
        return {c: s.wait(timeout=timeout) for c, s in self.calls.items()}


def call_outcomes(result: SippResult) -> dict[str, str]:
    """Each call of a caller run by Call-ID: "answered" (a 200 to its INVITE), "refused"
    (503: the box shedding load while the machine is starved, RFC 3261 21.5.4), or
    "failed"."""
    out: dict[str, str] = {}
    for m in result.received():
        call_id = m.header("Call-ID") or ""
        if m.method == "INVITE" and m.status == 200:
            out[call_id] = "answered"
        elif m.method == "INVITE" and m.status == 503:
            out.setdefault(call_id, "refused")
    for m in result.sent("INVITE"):
        out.setdefault(m.header("Call-ID") or "", "failed")
    return out


# -- what the box wrote -------------------------------------------------------------------


def queue_log(box: Box) -> list[list[str]]:
    path = box.data / "logs" / "queue_log"
    if not path.exists():
        return []
    return [line.split("|") for line in path.read_text().splitlines() if line]


def wait_queue_log(box: Box, event: str, count: int = 1, timeout: float = 10.0,
                   queue: str | None = None) -> list[list[str]]:
    """Queue-log records of `event` once at least `count` are there (written by a thread)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [r for r in queue_log(box)
                if r[4] == event and (queue is None or r[2] == queue)]
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def agent_command(box: Box, agent: str, action: str, **extra: str) -> dict[str, Any]:
    """What the CTI/feature codes do: switchd's `agent` control command."""
    from tests.integration.test_pri_sim import control

    reply: dict[str, Any] = control(box, {"cmd": "agent", "agent": agent, "action": action,
                                          **extra})
    return reply


def data_path(box: Box, *parts: str) -> Path:
    return box.data.joinpath(*parts)


# -- reading results ----------------------------------------------------------------------


def by_caller(rings: list[Ring]) -> dict[str, list[Ring]]:
    out: dict[str, list[Ring]] = {}
    for r in rings:
        out.setdefault(r.caller, []).append(r)
    return out


def answered_by(rings: list[Ring]) -> dict[str, str]:
    """caller -> the agent who answered them."""
    return {r.caller: r.agent for r in rings if r.outcome == "answered"}


class Clock:
    """Test time from a start, to place calls at set offsets."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def at(self, offset: float) -> None:
        delay = self.t0 + offset - time.monotonic()
        if delay > 0:
            time.sleep(delay)
