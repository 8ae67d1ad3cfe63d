"""Site configuration: what validation, a live apply and call screening cost.

Prints figures (never asserts): validating the 96777 demo and a large synthetic site,
writing it to SQLite and reading it back, and per call on the call path the blacklist
lookup, auto-lock counting and DID time rules with a 10 000-entry blacklist.

    .venv/bin/python bench/site_config.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from firmware.db.connection import open_db
from firmware.siteconfig import SiteService, validate
from firmware.siteconfig.demo import DEMO_SITE
from firmware.siteconfig.store import load_document, save_document
from firmware.siteconfig.yamlio import load
from firmware.switch.screening import Screener


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """(median, max) seconds."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), max(times)


def large_site(agents: int = 300, queues: int = 40, blacklist: int = 10_000) -> dict[str, Any]:
    data, _ = load(DEMO_SITE.read_text(encoding="utf-8"))
    ids = [str(8001 + i) for i in range(agents)]
    data["extensions"] = [{"number": a} for a in ids] + [{"number": "8900"}]
    data["agents"] = [{"id": a, "login": a, "skills": {"gas": 1 + i % 10}}
                      for i, a in enumerate(ids)]
    base = data["queues"]
    data["queues"] = base + [
        {"name": f"q{n}", "strategy": "round-robin", "supervisors": ["8900"],
         "members": ids[n * 7 % agents:][:30]} for n in range(queues)]
    for q in base:
        q["members"], q["supervisors"] = ids[:50], ["8900"]
    data["blacklist"] = [{"number": f"139{n:08d}"} for n in range(blacklist - 100)]
    data["blacklist"] += [{"number": f"0571{n:03d}*"} for n in range(100)]
    data["dids"] += [{"number": f"9600{n}", "target": f"queue:q{n}",
                      "time_rules": [{"schedule": "office", "target": "queue:emergency"}]}
                     for n in range(queues)]
    return dict(data)


def main() -> None:
    demo, _ = load(DEMO_SITE.read_text(encoding="utf-8"))
    med, worst = timed(lambda: validate(demo), 20)
    print(f"validate demo 96777 site         : {med * 1e3:7.1f} ms median, {worst * 1e3:.1f} max")
    big = large_site()
    result = validate(big)
    assert result.ok and result.site is not None, result.errors[:3]
    med, worst = timed(lambda: validate(big), 5)
    print(f"validate large site (300 agents, 44 queues, 10 000 blacklist): "
          f"{med * 1e3:.0f} ms median, {worst * 1e3:.0f} max")
    with tempfile.TemporaryDirectory() as tmp:
        db = open_db(Path(tmp))
        doc = result.doc
        assert doc is not None
        med, worst = timed(lambda: save_document(db, doc), 3)
        print(f"write large site (one transaction): {med * 1e3:.0f} ms median")
        med, worst = timed(lambda: validate(load_document()), 3)
        print(f"read + validate large site (what switchd's reload does in a thread): "
              f"{med * 1e3:.0f} ms median")
        svc = SiteService(Path(tmp), db, notify=lambda _d: None)
        med, _ = timed(svc.export_yaml, 3)
        print(f"export large site               : {med * 1e3:.0f} ms median")

    site = result.site
    screener = Screener(site)
    now = time.time()
    callers = [f"1380000{n:04d}" for n in range(5000)]
    n = 0

    def screen() -> None:
        nonlocal n
        screener.check("96777", callers[n % len(callers)], now + n * 0.01)
        n += 1

    runs = 50_000
    t = time.perf_counter()
    for _ in range(runs):
        screen()
    per = (time.perf_counter() - t) / runs
    print(f"screen one call (10 000 blacklist entries, auto-lock counting): "
          f"{per * 1e6:.1f} us")
    did = site.dids["96000"]
    t = time.perf_counter()
    for i in range(runs):
        did.choose(now + i)
    print(f"DID time rule choice            : {(time.perf_counter() - t) / runs * 1e6:.1f} us")


if __name__ == "__main__":
    main()
