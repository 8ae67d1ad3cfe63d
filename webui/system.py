"""Host figures for the system status page: uptime, CPU, memory, disk (from /proc and
statvfs; no extra package), joined with what switchd says about channels, phones and
calls."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

_cpu_lock = threading.Lock()
_last_cpu: tuple[float, float] | None = None  # (busy, total) jiffies at the last sample


def _cpu_times() -> tuple[float, float] | None:
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return None
    values = [float(v) for v in first[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0.0)  # idle + iowait
    total = sum(values[:8])
    return total - idle, total


def cpu_percent() -> float | None:
    """CPU use since the previous call (the page refreshes every few seconds); the first
    call measures over 0.2 s."""
    global _last_cpu
    with _cpu_lock:
        now = _cpu_times()
        if now is None:
            return None
        before = _last_cpu
        if before is None:
            time.sleep(0.2)
            before, now = now, _cpu_times() or now
        _last_cpu = now
    busy, total = now[0] - before[0], now[1] - before[1]
    return round(100.0 * busy / total, 1) if total > 0 else None


def memory() -> dict[str, int] | None:
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return None
    info = {}
    for line in lines:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            info[key] = int(parts[0]) * 1024
    total = info.get("MemTotal", 0)
    available = info.get("MemAvailable", info.get("MemFree", 0))
    return {"total": total, "used": total - available, "available": available}


def disk(path: Path) -> dict[str, int] | None:
    try:
        st = os.statvfs(path)
    except OSError:
        return None
    total = st.f_blocks * st.f_frsize
    free = st.f_bavail * st.f_frsize
    return {"total": total, "used": total - free, "free": free}


def host_uptime() -> float | None:
    try:
        return float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def load_average() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def figures(data_dir: Path, switchd: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "time": time.time(), "host_uptime": host_uptime(), "cpu_percent": cpu_percent(),
        "load": load_average(), "cpus": os.cpu_count(), "memory": memory(),
        "disk": disk(data_dir), "switchd": None,
    }
    if switchd is not None:
        regs = switchd.get("registrations")
        calls = switchd.get("active_calls")
        spans = switchd.get("spans")
        fxo = switchd.get("fxo")
        out["switchd"] = {
            "uptime": switchd.get("uptime"), "board": switchd.get("board"),
            "extensions": switchd.get("extensions"),
            "registrations": [{"aor": r.get("aor"), "source": r.get("source"),
                               "user_agent": r.get("user_agent"),
                               "expires_in": r.get("expires_in")}
                              for r in regs if isinstance(r, dict)]
            if isinstance(regs, list) else [],
            "active_calls": [{k: c.get(k) for k in ("id", "caller", "called", "callee",
                                                    "state", "age", "talk")}
                             for c in calls if isinstance(c, dict)]
            if isinstance(calls, list) else [],
            "completed_calls": switchd.get("completed_calls"),
            "spans": [s for s in spans if isinstance(s, dict)] if isinstance(spans, list)
            else [],
            "fxo": [p for p in fxo if isinstance(p, dict)] if isinstance(fxo, list) else [],
        }
        alarms = [f"{s.get('name')}: {s.get('alarm')}" for s in out["switchd"]["spans"]
                  if s.get("alarm")]
        alarms += [f"{s.get('name')}: D-channel {s.get('dchannel')}"
                   for s in out["switchd"]["spans"] if s.get("dchannel") not in (None, "up")]
        alarms += [f"{p.get('name')}: {p.get('alarm')}" for p in out["switchd"]["fxo"]
                   if p.get("alarm")]
        out["switchd"]["alarms"] = alarms
    return out
