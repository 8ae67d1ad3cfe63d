"""The child supervision behind `ccbox run`, with stand-in daemons."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

DRIVER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from firmware.cli.supervise import ChildSpec, Supervisor

    cfg = json.loads(sys.argv[1])
    specs = [
        ChildSpec(c["name"], [sys.executable, "-c", c["code"]], Path(c["ready_file"]).exists)
        for c in cfg["children"]
    ]
    sup = Supervisor(specs, ready_timeout=cfg["ready_timeout"], stop_timeout=3,
                     on_ready=lambda: print("ccbox ready", flush=True))
    sys.exit(sup.run())
    """
)

# A daemon that becomes ready by creating a file and records the signal that stops it.
WELL_BEHAVED = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path
    ready, log = Path({ready!r}), Path({log!r})
    def bye(signum, frame):
        log.write_text(signal.Signals(signum).name)
        sys.exit(0)
    signal.signal(signal.SIGTERM, bye)
    signal.signal(signal.SIGINT, bye)
    print("starting up", file=sys.stderr, flush=True)
    ready.touch()
    while True:
        time.sleep(0.05)
    """
)


def _start(
    tmp_path: Path, children: list[dict[str, str]], ready_timeout: float = 10
) -> subprocess.Popen[str]:
    cfg = {"children": children, "ready_timeout": ready_timeout}
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    return subprocess.Popen(
        [sys.executable, str(script), json.dumps(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _good(tmp_path: Path, name: str) -> dict[str, str]:
    ready, log = tmp_path / f"{name}.ready", tmp_path / f"{name}.signal"
    return {
        "name": name,
        "code": WELL_BEHAVED.format(ready=str(ready), log=str(log)),
        "ready_file": str(ready),
    }


def _wait_for_line(proc: subprocess.Popen[str], text: str, timeout: float = 10) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if text in line:
            return
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"no {text!r} from the supervisor")


def test_ready_then_ctrl_c_stops_children_and_exits_0(tmp_path: Path) -> None:
    proc = _start(tmp_path, [_good(tmp_path, "switchd"), _good(tmp_path, "webd")])
    _wait_for_line(proc, "ccbox ready")
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    # Each child got exactly the forwarded SIGTERM (own process group: no direct SIGINT).
    assert (tmp_path / "switchd.signal").read_text() == "SIGTERM"
    assert (tmp_path / "webd.signal").read_text() == "SIGTERM"
    assert "[switchd] starting up" in err and "[webd] starting up" in err


def test_sigterm_also_stops_cleanly(tmp_path: Path) -> None:
    proc = _start(tmp_path, [_good(tmp_path, "switchd")])
    _wait_for_line(proc, "ccbox ready")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert (tmp_path / "switchd.signal").read_text() == "SIGTERM"


def test_child_death_exits_nonzero_with_its_last_lines(tmp_path: Path) -> None:
    # It dies once its sibling is up: a sibling still starting Python has no SIGTERM
    # handler yet, and the check below is about stopping a running daemon.
    webd_ready = tmp_path / "webd.ready"
    crashing = {
        "name": "switchd",
        "code": "import sys, time, pathlib; p = pathlib.Path(" + repr(str(webd_ready)) + ")\n"
        "for _ in range(400):\n    if p.exists(): break\n    time.sleep(0.05)\n"
        "print('binding 0.0.0.0:5060', file=sys.stderr)\n"
        "print('OSError: [Errno 98] Address already in use', file=sys.stderr); sys.exit(1)",
        "ready_file": str(tmp_path / "never"),
    }
    proc = _start(tmp_path, [crashing, _good(tmp_path, "webd")])
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 1
    assert "ccbox ready" not in out
    assert "switchd exited unexpectedly (exit status 1)" in err
    tail = err[err.index("last lines from switchd") :]
    assert "Address already in use" in tail
    # The survivor is stopped, not left behind holding its port.
    deadline = time.monotonic() + 5
    while not (tmp_path / "webd.signal").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (tmp_path / "webd.signal").read_text() == "SIGTERM"


def test_not_ready_in_time_is_an_error(tmp_path: Path) -> None:
    slow = {
        "name": "switchd",
        "code": "import time, sys; print('still loading', file=sys.stderr, flush=True);"
        " time.sleep(60)",
        "ready_file": str(tmp_path / "never"),
    }
    t0 = time.monotonic()
    proc = _start(tmp_path, [slow], ready_timeout=1)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 1
    assert "switchd not ready after 1 s" in err and "still loading" in err
    assert time.monotonic() - t0 < 8
