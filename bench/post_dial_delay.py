"""Prints the post-dial delay of the sim board's E1 (issue 4 figure): a caller on the
simulated PSTN dials 96777 and the time from its SETUP to the box's CONNECT (the IVR of
the shipped demo site answers) is reported by the simulator's far end (libpri NET side),
call after call. Also SETUP -> CALL PROCEEDING.

A real box (`ccbox run --board sim`), its data directory made with the demo site
(firmware/siteconfig/demo, the docs' 96777 hotline). Calls one after another, each
held `--seconds`.

    .venv/bin/python bench/post_dial_delay.py [--calls N] [--seconds S]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from firmware.cli.status import query  # noqa: E402
from firmware.siteconfig.demo import DEMO_SITE  # noqa: E402
from tests.integration.box import Box, BoxPorts, add_extensions  # noqa: E402
from tests.integration.site import import_site  # noqa: E402
from tests.peers.ports import free_port, rtp_range  # noqa: E402


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=30)
    p.add_argument("--seconds", type=float, default=0.5)
    o = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "data"
        add_extensions(data)
        import_site(data, DEMO_SITE.read_text(encoding="utf-8"))
        box = Box(data, BoxPorts(free_port(), free_port(), rtp_range(100)), tmp / "box.log")
        box.start(timeout=60)
        answer: list[float] = []
        proceeding: list[float] = []
        failed = 0
        try:
            for _ in range(o.calls):
                reply: dict[str, Any] = query(
                    box.data / "run" / "switchd.sock",
                    {"cmd": "pstn_call", "number": "96777", "from": "13800138000",
                     "seconds": o.seconds}, timeout=o.seconds + 30)
                call = reply.get("call")
                if not isinstance(call, dict) or call.get("answer_ms") is None:
                    failed += 1
                    continue
                answer.append(float(call["answer_ms"]))
                if call.get("proceeding_ms") is not None:
                    proceeding.append(float(call["proceeding_ms"]))
                time.sleep(0.1)
        finally:
            box.stop()
    load = os.getloadavg()
    print(f"post-dial delay on the sim E1, {o.calls} calls to the 96777 IVR "
          f"({failed} not answered); load average {load[0]:.2f}")
    for name, values in (("SETUP -> CONNECT", answer), ("SETUP -> CALL PROCEEDING", proceeding)):
        if values:
            print(f"  {name}: median {statistics.median(values):.1f} ms, p99 "
                  f"{_pct(values, 0.99):.1f} ms, min {min(values):.1f}, max {max(values):.1f}"
                  f" (first call {values[0]:.1f} ms)")


if __name__ == "__main__":
    main()
