"""Cost of BLF and message-waiting lamps in switchd (drivers/sip/subscribe.py and the
dialog-info / message-summary bodies), sans I/O: what a busy floor costs the event loop.

1. SUBSCRIBE handling: parse + authorise-free notifier work + the first NOTIFY, per
   subscription (a phone booting with 30 BLF keys does 30 of these).
2. A lamp change fanned out: one extension watched by W subscribers changes state;
   time to build every NOTIFY (serialised to bytes, as the transport would send them).
3. Sizing: 100 agents each watched by 30 BLF keys, 20 calls per second arriving, each
   call ~4 lamp changes (trying, early, confirmed, terminated) on the agent's phone.
Prints figures, asserts nothing.

    .venv/bin/python bench/blf_notify.py
"""

from __future__ import annotations

import statistics
import time

from drivers.sip import dialog_info
from drivers.sip.addr import Address
from drivers.sip.message import Request
from drivers.sip.parser import parse_message
from drivers.sip.subscribe import EventPackage, Local, Notifier, Subscription

LOCAL = Local(lambda dest, branch: f"SIP/2.0/UDP 10.0.0.1:5060;branch={branch};rport",
              lambda dest: "<sip:ccbox@10.0.0.1:5060>", "ccbox")
STATE: dict[str, list[dialog_info.DialogView]] = {}
XML: dict[str, str] = {}  # as lamps.py: each change's dialogs rendered once


def render(sub: Subscription) -> bytes:
    entity = f"sip:{sub.resource}@10.0.0.1"
    inner = XML.get(sub.resource)
    if inner is None:
        inner = XML[sub.resource] = dialog_info.dialogs_xml(entity, STATE.get(sub.resource, []))
    return dialog_info.document(entity, sub.next_version(), inner)


PKG = EventPackage("dialog", dialog_info.CONTENT_TYPE, 600, 600, lambda s, r: r, render)


def subscribe(i: int, target: str) -> Request:
    raw = (f"SUBSCRIBE sip:{target}@10.0.0.1 SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 10.0.1.{i % 250}:5062;branch=z9hG4bK{i:012d}\r\n"
           "Max-Forwards: 70\r\n"
           f"From: <sip:9{i:03d}@10.0.0.1>;tag=p{i}\r\nTo: <sip:{target}@10.0.0.1>\r\n"
           f"Call-ID: sub-{i}-{target}\r\nCSeq: 1 SUBSCRIBE\r\n"
           f"Contact: <sip:9{i:03d}@10.0.1.{i % 250}:5062>\r\nEvent: dialog\r\n"
           "Expires: 600\r\nContent-Length: 0\r\n\r\n").encode()
    msg = parse_message(raw)
    assert isinstance(msg, Request)
    return msg


def bench_subscribe(n: int = 3000) -> float:
    notifier = Notifier({"dialog": PKG}, LOCAL, per_subscriber=10**6, total=10**6)
    raws = [subscribe(i, f"8{i % 100:03d}").serialize() for i in range(n)]
    t0 = time.perf_counter()
    for i, raw in enumerate(raws):
        req = parse_message(raw)
        assert isinstance(req, Request)
        res = notifier.subscribe(req, Address("udp", "10.0.1.1", 5062), f"9{i:03d}",
                                 f"t{i}", 0.0)
        res.response.serialize()
        for n_ in res.notifies:
            n_.serialize()
    return (time.perf_counter() - t0) / n


def bench_fanout(watchers: int, rounds: int = 50) -> float:
    notifier = Notifier({"dialog": PKG}, LOCAL, per_subscriber=10**6, total=10**6)
    subs = []
    for i in range(watchers):
        res = notifier.subscribe(subscribe(i, "8001"), Address("udp", "10.0.1.1", 5062),
                                 f"9{i:03d}", f"t{i}", 0.0)
        assert res.subscription is not None
        subs.append(res.subscription)
    for s in subs:
        notifier.notify_answered(s, 200, 0.0)
    states = ["trying", "early", "confirmed", "terminated"]
    times = []
    for r in range(rounds):
        STATE["8001"] = [dialog_info.DialogView("sip/1", states[r % 4], "recipient",
                                                "abc", "t1", "t2", "sip:9001@10.0.0.1")]
        XML.pop("8001", None)
        t0 = time.perf_counter()
        out = notifier.changed("dialog", "8001", float(r))
        for _, req in out:
            req.serialize()
        times.append(time.perf_counter() - t0)
        for s in subs:
            notifier.notify_answered(s, 200, float(r))
    return statistics.median(times)


def main() -> None:
    per_sub = bench_subscribe()
    print(f"SUBSCRIBE handled (parse, 200, first NOTIFY, serialised): "
          f"{per_sub * 1e6:.0f} us each")
    for w in (1, 30, 100, 300):
        t = bench_fanout(w)
        print(f"one lamp change, {w:4d} watchers: {t * 1e3:.2f} ms "
              f"({t / w * 1e6:.0f} us per NOTIFY)")
    per_notify = bench_fanout(30) / 30
    load = 20 * 4 * 30 * per_notify
    print(f"sizing: 20 calls/s x 4 changes x 30 watchers = 2400 NOTIFY/s -> "
          f"{load * 100:.1f} % of one core for building them")


if __name__ == "__main__":
    main()
