"""`PriSpan` back to back: a NET span (the simulated exchange) and a CPE span (the box),
frames passed between their queues in memory. No sockets, no threads; real libpri."""

from __future__ import annotations

import time

import pytest

from drivers.dahdi import libpri as lp
from drivers.dahdi.pri_events import (
    Answered,
    CallState,
    DChannelDown,
    DChannelUp,
    Digits,
    Hangup,
    PriEvent,
    Proceeding,
    RestartAcknowledged,
    Restarted,
    Ring,
    Ringing,
    SetupAcknowledged,
)
from drivers.dahdi.pri_loopback import pump
from drivers.dahdi.pri_span import PriSpan, e1_timeslots, t1_timeslots


def kinds(events: list[PriEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def one(events: list[PriEvent], kind: type) -> PriEvent:
    found = [e for e in events if isinstance(e, kind)]
    assert len(found) == 1, f"expected one {kind.__name__} in {kinds(events)}"
    return found[0]


@pytest.fixture
def spans() -> tuple[PriSpan, PriSpan]:
    net, cpe = PriSpan("net", name="exchange"), PriSpan("cpe", name="box")
    p = pump(net, cpe)
    assert kinds(p.of(net)) == ["DChannelUp"] and kinds(p.of(cpe)) == ["DChannelUp"]
    return net, cpe


def test_timeslots() -> None:
    assert e1_timeslots() == [*range(1, 16), *range(17, 32)]
    assert t1_timeslots() == list(range(1, 24))
    assert PriSpan("cpe", "national").timeslots == list(range(1, 24))
    assert PriSpan("cpe", channels=2).timeslots == [1, 2]
    with pytest.raises(ValueError):
        e1_timeslots(31)
    with pytest.raises(ValueError):
        PriSpan("cpe", "no-such-switch")
    with pytest.raises(ValueError):
        PriSpan("user")


def test_dchannel_comes_up(spans: tuple[PriSpan, PriSpan]) -> None:
    net, cpe = spans
    assert net.dchannel_up and cpe.dchannel_up
    assert cpe.free_channels() == e1_timeslots()


def test_inbound_call_alerting_connect_and_busy_release(spans: tuple[PriSpan, PriSpan]) -> None:
    net, cpe = spans
    out = net.call(5, "9002", "13800138000", called_ton=lp.PRI_TON_SUBSCRIBER,
                   calling_ton=lp.PRI_TON_NATIONAL)
    ring = one(pump(net, cpe).of(cpe), Ring)
    assert isinstance(ring, Ring)
    assert (ring.calling, ring.calling_ton, ring.called, ring.called_ton) == (
        "13800138000", lp.PRI_TON_NATIONAL, "9002", lp.PRI_TON_SUBSCRIBER)
    assert ring.channel == 5 and ring.complete
    assert cpe.busy_channels() == {5} and net.busy_channels() == {5}

    cpe.ringing(ring.call)
    got = pump(net, cpe).of(net)
    assert kinds(got) == ["Proceeding", "Ringing"]
    assert isinstance(got[1], Ringing) and got[1].inband and got[1].call is out

    cpe.answer(ring.call)
    assert kinds(pump(net, cpe).of(net)) == ["Answered"]
    assert out.state is CallState.UP and ring.call.state is CallState.UP

    cpe.hangup(ring.call, 17)
    p = pump(net, cpe)
    hang = one(p.of(net), Hangup)
    assert isinstance(hang, Hangup) and hang.cause == 17 and hang.call is out
    assert p.of(cpe) == []  # we cleared it: nothing to report back to us
    assert net.calls == {} and cpe.calls == {}
    assert out.ended and ring.call.ended


def test_outbound_call_released_by_the_network(spans: tuple[PriSpan, PriSpan]) -> None:
    net, cpe = spans
    call = cpe.call(31, "13800138000", "96777", called_ton=lp.PRI_TON_NATIONAL)
    ring = one(pump(net, cpe).of(net), Ring)
    assert isinstance(ring, Ring)
    assert (ring.channel, ring.called, ring.calling) == (31, "13800138000", "96777")
    net.proceeding(ring.call)
    net.ringing(ring.call)
    net.answer(ring.call)
    got = pump(net, cpe).of(cpe)
    assert kinds(got) == ["Proceeding", "Ringing", "Answered"]
    assert isinstance(got[2], Answered) and got[2].channel == 31
    net.hangup(ring.call, 16)
    p = pump(net, cpe)
    assert [(type(e).__name__, getattr(e, "cause", None)) for e in p.of(cpe)] == [
        ("Hangup", 16)]
    assert call.ended and cpe.free_channels() == e1_timeslots()


@pytest.mark.parametrize("cause", [17, 34, 44, 1])
def test_refusal_causes_survive(spans: tuple[PriSpan, PriSpan], cause: int) -> None:
    net, cpe = spans
    call = cpe.call(1, "555", "96777")
    ring = one(pump(net, cpe).of(net), Ring)
    assert isinstance(ring, Ring)
    net.hangup(ring.call, cause)  # refused before any answer: RELEASE COMPLETE
    hang = one(pump(net, cpe).of(cpe), Hangup)
    assert isinstance(hang, Hangup) and hang.cause == cause and hang.call is call
    assert cpe.calls == {} and net.calls == {}


def test_caller_gives_up_before_any_answer(spans: tuple[PriSpan, PriSpan]) -> None:
    net, cpe = spans
    call = cpe.call(1, "555", "96777")
    cpe.hangup(call, 16)
    pump(net, cpe)
    assert cpe.calls == {} and call.ended


def test_caller_gives_up_while_alerting(spans: tuple[PriSpan, PriSpan]) -> None:
    net, cpe = spans
    net.call(2, "9002", "13800138000")
    ring = one(pump(net, cpe).of(cpe), Ring)
    assert isinstance(ring, Ring)
    cpe.ringing(ring.call)
    pump(net, cpe)
    (out,) = net.calls.values()
    net.hangup(out, 16)
    hang = one(pump(net, cpe).of(cpe), Hangup)
    assert isinstance(hang, Hangup) and hang.cause == 16 and hang.call is ring.call
    assert cpe.calls == {} and net.calls == {}


def test_overlap_receiving() -> None:
    net = PriSpan("net", name="exchange", overlap=True)
    cpe = PriSpan("cpe", name="box", overlap=True)
    pump(net, cpe)
    out = net.call(3, "96", "13800138000", complete=False)
    ring = one(pump(net, cpe).of(cpe), Ring)
    assert isinstance(ring, Ring) and ring.called == "96" and not ring.complete
    cpe.more_digits(ring.call)
    ack = one(pump(net, cpe).of(net), SetupAcknowledged)
    assert isinstance(ack, SetupAcknowledged) and ack.call is out and ack.channel == 3
    net.send_digits(out, "777")
    digits = [e for e in pump(net, cpe).of(cpe) if isinstance(e, Digits)]
    assert "".join(d.digits for d in digits) == "777"
    assert ring.call.called == "96777"
    cpe.proceeding(ring.call)
    cpe.answer(ring.call)
    assert kinds(pump(net, cpe).of(net)) == ["Proceeding", "Answered"]


def test_restart_of_one_channel_drops_only_its_call(spans: tuple[PriSpan, PriSpan]) -> None:
    net, cpe = spans
    a = cpe.call(5, "111", "96777")
    b = cpe.call(6, "222", "96777")
    rings = [e for e in pump(net, cpe).of(net) if isinstance(e, Ring)]
    for r in rings:
        net.answer(r.call)
    pump(net, cpe)
    assert a.state is CallState.UP and b.state is CallState.UP
    dropped = cpe.restart(5)
    assert [(h.call, h.cause) for h in dropped] == [(a, 41)] and a.ended
    p = pump(net, cpe)
    on_net = p.of(net)
    assert [(type(e).__name__, getattr(e, "channel", None)) for e in on_net] == [
        ("Hangup", 5), ("Restarted", 5)]
    assert isinstance(on_net[0], Hangup) and on_net[0].cause == 41
    assert one(p.of(cpe), RestartAcknowledged) == RestartAcknowledged(5)
    assert net.busy_channels() == {6}
    # the call on channel 6 goes on
    cpe.hangup(b, 16)
    assert kinds(pump(net, cpe).of(net)) == ["Hangup"]


def test_restart_of_the_whole_interface(spans: tuple[PriSpan, PriSpan]) -> None:
    net, cpe = spans
    cpe.call(7, "111", "96777")
    pump(net, cpe)
    assert len(cpe.restart()) == 1
    p = pump(net, cpe)
    on_net = p.of(net)
    assert next(e for e in on_net if isinstance(e, Hangup)).channel == 7
    assert [e.channel for e in on_net if isinstance(e, Restarted)] == e1_timeslots()
    acked = [e.channel for e in p.of(cpe) if isinstance(e, RestartAcknowledged)]
    assert acked == e1_timeslots()
    assert net.calls == {} and cpe.calls == {}


def test_thirty_calls_fill_the_span(spans: tuple[PriSpan, PriSpan]) -> None:
    net, cpe = spans
    for ts in e1_timeslots():
        net.call(ts, "9002", f"1380013{ts:04d}")
    rings = [e for e in pump(net, cpe).of(cpe) if isinstance(e, Ring)]
    assert sorted(r.channel or 0 for r in rings) == e1_timeslots()
    assert cpe.free_channels() == [] and net.free_channels() == []


def _run_timers(spans: tuple[PriSpan, ...], until: float) -> list[tuple[PriSpan, PriEvent]]:
    """Sleep to each libpri deadline in turn (libpri reads the real clock) until `until`."""
    out = []
    while time.time() < until:
        due = min((t for s in spans if (t := s.next_timer()) is not None), default=until)
        time.sleep(max(0.0, min(due, until) - time.time()) + 0.002)
        for s in spans:
            out += [(s, e) for e in s.handle_timer()]
        yield_frames = [(s, f) for s in spans for f in s.frames_to_send()]
        for s, f in yield_frames:
            for other in spans:
                if other is not s:
                    out += [(other, e) for e in other.receive_frame(f)]
    return out


def test_idle_link_polls_on_t203_and_stays_up() -> None:
    net, cpe = PriSpan("net"), PriSpan("cpe")
    for s in (net, cpe):
        s.set_timer(lp.PRI_TIMER_T203, 150)  # 10 s in service; shortened to keep this fast
    pump(net, cpe)
    first = cpe.next_timer()
    assert first is not None and 0 < first - time.time() <= 0.2
    events = _run_timers((net, cpe), time.time() + 0.6)
    assert events == []  # RR polls went back and forth, nothing to report
    assert net.dchannel_up and cpe.dchannel_up


def test_link_loss_is_reported_after_t200_retries_and_recovers() -> None:
    net, cpe = PriSpan("net"), PriSpan("cpe")
    for s in (net, cpe):
        s.set_timer(lp.PRI_TIMER_T203, 100)
        s.set_timer(lp.PRI_TIMER_T200, 50)
        s.set_timer(lp.PRI_TIMER_N200, 2)
    pump(net, cpe)
    # cut the line: frames are produced and lost
    deadline = time.time() + 2.0
    down: list[PriEvent] = []
    while time.time() < deadline and len(down) < 2:
        due = min(t for s in (net, cpe) if (t := s.next_timer()) is not None)
        time.sleep(max(0.0, due - time.time()) + 0.002)
        for s in (net, cpe):
            down += [e for e in s.handle_timer() if isinstance(e, DChannelDown)]
            s.frames_to_send()
    assert len(down) == 2 and not net.dchannel_up and not cpe.dchannel_up
    # mend it: SABME retries bring the link back
    deadline = time.time() + 2.0
    up: list[PriEvent] = []
    while time.time() < deadline and not (net.dchannel_up and cpe.dchannel_up):
        due = min(t for s in (net, cpe) if (t := s.next_timer()) is not None)
        time.sleep(max(0.0, due - time.time()) + 0.002)
        for s in (net, cpe):
            up += s.handle_timer()
        up += [e for _, e in pump(net, cpe).events]
    assert net.dchannel_up and cpe.dchannel_up
    assert any(isinstance(e, DChannelUp) for e in up)
    # and a call goes through again
    net.call(1, "9002", "1")
    assert any(isinstance(e, Ring) for e in pump(net, cpe).of(cpe))


def test_proceeding_event_on_cpe_side(spans: tuple[PriSpan, PriSpan]) -> None:
    net, cpe = spans
    call = cpe.call(9, "123", "96777")
    ring = one(pump(net, cpe).of(net), Ring)
    assert isinstance(ring, Ring)
    net.proceeding(ring.call)
    got = one(pump(net, cpe).of(cpe), Proceeding)
    assert isinstance(got, Proceeding) and got.call is call and got.channel == 9
