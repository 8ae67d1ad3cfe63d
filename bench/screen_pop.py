"""Prints the screen-pop latency (issue 5 figure): from the INVITE reaching the agent's
phone to the Delivered event in the agent's browser, median and p99.

A real box (`ccbox run --board sim`: switchd + webd), a sipp UAS as the agent's phone
(its `-trace_msg` timestamps the INVITE it receives), a sipp caller dialling a queue
CALLS times, and headless Chromium on the agent desk page with an EventSource of its own
that timestamps every Delivered event (performance.timeOrigin + now). Both clocks are
this machine's. The pop is sent when the ACD decides to ring the agent, just before the
INVITE leaves, so a negative figure means the desk had it before the phone did.

    .venv/bin/python bench/screen_pop.py [CALLS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.box import Box, BoxPorts, add_extensions  # noqa: E402
from tests.integration.phones import SipPhones  # noqa: E402
from tests.integration.site import import_site  # noqa: E402
from tests.peers.ports import free_port, rtp_range  # noqa: E402
from tests.peers.sipp import parse_message_log  # noqa: E402

PASSWORD = "Bench-Passw0rd-1"
SITE = {
    "dids": [{"number": "7500", "target": "queue:desk"}],
    "queues": [{"name": "desk", "members": ["9002"], "ring_timeout": 30}],
    "agents": [{"id": "9002", "login": "9002"}],
}


def _stamp(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").timestamp()


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = tmp / "data"
        add_extensions(data)
        import_site(data, SITE)
        subprocess.run([str(ROOT / ".venv" / "bin" / "ccbox"), "user", "add", "agent1",
                        "--role", "agent", "--agent", "9002", "--password-stdin", "--data",
                        str(data)], input=PASSWORD + "\n", text=True, check=True,
                       capture_output=True)
        subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c",
                        "import sys; from firmware.db.connection import open_db;"
                        "from firmware.db.models import User; open_db(__import__('pathlib')"
                        ".Path(sys.argv[1])); User.update(extension='9002').execute()",
                        str(data)], check=True)
        box = Box(data, BoxPorts(free_port(), free_port(), rtp_range(100)), tmp / "box.log")
        box.start(timeout=30)
        phones = SipPhones(box, tmp / "sipp")
        try:
            port, reg = phones.register("9002")
            assert reg.ok, reg.report()
            # one UAS serves every call, one after the other
            agent = phones.sipp("uas_answer", remote=None, local_port=port,
                                keys={"user": "9002", "challenge": "no", "ring_ms": 300},
                                calls=calls, timeout=600)
            agent.start().wait_ready()
            env = {**os.environ, "PROFILE": str(tmp / "profile")}
            node = subprocess.Popen(["node", str(ROOT / "bench" / "screen_pop.mjs"),
                                     f"http://127.0.0.1:{box.ports.web}",
                                     "agent1", PASSWORD], cwd=ROOT, env=env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert node.stdout is not None
            assert node.stdout.readline().strip() == "ready"
            caller = phones.sipp("uac_call", service="7500", user="9001",
                                 password="S3cret-9001x", keys={"user": "9001",
                                                                "talk_ms": 500},
                                 calls=calls, timeout=600)
            caller.start()
            result = caller.wait(timeout=600)
            agent.wait(timeout=60)
            time.sleep(1.0)
            assert node.stdin is not None
            node.stdin.write("dump\n")
            node.stdin.flush()
            pops = json.loads(node.stdout.readline())
            node.wait(60)
            if not result.ok:
                print(f"warning: the caller reported failures:\n{result.report()[-2000:]}")
            invites = [_stamp(m.stamp) for m in parse_message_log(agent._file("messages.log"))
                       if m.direction == "received" and m.start_line.startswith("INVITE")]
        finally:
            phones.close()
            box.stop()
    n = min(len(invites), len(pops))
    lat = [(pops[i]["at"] / 1000.0 - invites[i]) * 1000.0 for i in range(n)]
    lat.sort()
    p99 = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
    print(f"screen pop, INVITE at the agent's phone -> Delivered in the agent's browser "
          f"({n} calls through a queue)")
    print(f"  median {statistics.median(lat):6.1f} ms  p99 {p99:6.1f} ms  "
          f"min {lat[0]:6.1f} ms  max {lat[-1]:6.1f} ms")


if __name__ == "__main__":
    main()
