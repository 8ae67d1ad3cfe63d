"""Prints how long the call-record search page takes over 100,000 CDRs (issue 5 figure).

Renders through the real WSGI app (session, role check, query, template), in-process,
so the figure is webd's own work without network or browser time.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from firmware.db.connection import open_db
from firmware.db.models import Cdr, User
from tests.webtools.client import Client
from webui import sessions
from webui.app import build_web

ROWS = 100_000


def _fill(db: object) -> None:
    rnd = random.Random(5)
    start = time.time() - 90 * 86400
    batch = []
    for i in range(ROWS):
        t = start + i * 77.0
        talk = rnd.choice([0.0, rnd.uniform(5, 900)])
        batch.append({
            "call_id": f"bench-{i}", "direction": rnd.choice(["in", "in", "out", "internal"]),
            "caller": f"1380013{rnd.randrange(10000):04d}", "called": f"80{rnd.randrange(100):02d}",
            "callee": f"80{rnd.randrange(100):02d}" if talk else "", "start": t,
            "answer": t + 5 if talk else None, "end": t + 5 + talk, "ring_seconds": 5.0,
            "talk_seconds": talk, "cause": 16, "cause_text": "NORMAL_CLEARING",
            "released_by": "caller", "recording": None, "extra": "{}",
            "queue": rnd.choice(["emergency", "repair", "complaints", "general", ""]),
            "agent": f"80{rnd.randrange(1, 11):02d}" if talk else "",
        })
        if len(batch) == 1000:
            Cdr.insert_many(batch).execute()
            batch.clear()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        db = open_db(data)
        with db.atomic():
            _fill(db)
        admin = User.create(name="bench", role="admin", password_hash="x")
        web = build_web(db, data)
        client = Client(web.app)
        client.cookies[sessions.COOKIE] = sessions.create_for_test(admin)[0]
        queries = {
            "newest page": "/cdrs",
            "page 200": "/cdrs?page=200",
            "by number": "/cdrs?number=13800130042",
            "direction+time+min talk": "/cdrs?direction=in&start=2020-01-01T00:00"
            "&end=2100-01-01T00:00&min_seconds=600",
            "by agent": "/cdrs?agent=8003",
            "queue+time+talk range": "/cdrs?queue=repair&start=2020-01-01T00:00"
            "&end=2100-01-01T00:00&min_seconds=60&max_seconds=300",
        }
        print(f"call-record search over {ROWS:,} CDRs (in-process WSGI, median of 20)")
        for name, url in queries.items():
            times = []
            for _ in range(20):
                t0 = time.perf_counter()
                r = client.get(url)
                times.append(time.perf_counter() - t0)
                assert r.status == 200, r.status
            print(f"  {name:26s} median {statistics.median(times) * 1000:6.1f} ms"
                  f"  max {max(times) * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
