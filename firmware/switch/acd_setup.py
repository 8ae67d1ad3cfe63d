"""Queues and agents at switch start, until the web UI keeps them in the database.

`DATA/acd.json` if present, else the 96777 demo: queues emergency (ring-all), repair,
complaints and general (round-robin), each with agents 8001-8010 as members, every
agent logged in at the extension of the same number and ready, so `make run` reaches a
phone at once. Format:

    {"queues": [{"name": "repair", "strategy": "round-robin", "members": ["8001"],
                 "ring_timeout": 15, "wrap_up": 0, "max_wait": null, ...}],
     "agents": [{"id": "8001", "name": "", "wrap_up": null}],
     "logins": {"8001": "8001"}}

`logins` maps agent -> device (extension) to log in at start.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from firmware.acd import AcdConfig, AgentConfig, Member, QueueConfig, Strategy

DEMO_AGENTS = [str(n) for n in range(8001, 8011)]
# QueueConfig fields a file may set as plain numbers / booleans / strings.
_SCALARS = {"ring_timeout", "retry", "wrap_up", "ring_in_use", "max_wait",
            "announce_frequency", "announce_position", "announce_ewt", "announce_on_join",
            "periodic_prompt", "periodic_frequency", "default_aht", "smart_routing",
            "outbound_trace", "moh_class", "callback_key"}


class AcdSetupError(ValueError):
    pass


def demo_config() -> dict[str, Any]:
    queues = [{"name": "emergency", "strategy": "ring-all", "members": DEMO_AGENTS}]
    queues += [{"name": n, "strategy": "round-robin", "members": DEMO_AGENTS}
               for n in ("repair", "complaints", "general")]
    return {"queues": queues, "agents": [{"id": a} for a in DEMO_AGENTS],
            "logins": {a: a for a in DEMO_AGENTS}}


def parse_acd(data: Mapping[str, Any]) -> tuple[AcdConfig, dict[str, str]]:
    """(engine config, agent -> device logins); AcdSetupError names what is wrong."""
    try:
        queues = []
        for i, q in enumerate(data.get("queues", [])):
            unknown = set(q) - _SCALARS - {"name", "strategy", "members"}
            if unknown:
                raise AcdSetupError(f"queues[{i}]: unknown field(s) {sorted(unknown)}")
            members = tuple(Member(str(m)) if isinstance(m, str | int)
                            else Member(str(m["agent"]), int(m.get("penalty", 0)))
                            for m in q.get("members", []))
            scalars = {k: v for k, v in q.items() if k in _SCALARS}
            queues.append(QueueConfig(str(q["name"]), Strategy(q.get("strategy", "ring-all")),
                                      members, **scalars))
        agents = tuple(AgentConfig(str(a["id"]), str(a.get("name", "")),
                                   wrap_up=a.get("wrap_up"))
                       for a in data.get("agents", []))
        config = AcdConfig(tuple(queues), agents, seed=data.get("seed"))
    except AcdSetupError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise AcdSetupError(f"ACD configuration: {e}") from e
    logins = {str(k): str(v) for k, v in data.get("logins", {}).items()}
    return config, logins


def load_acd(data_dir: Path) -> tuple[AcdConfig, dict[str, str]]:
    path = data_dir / "acd.json"
    if not path.is_file():
        return parse_acd(demo_config())
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AcdSetupError(f"{path}: {e}") from e
    if not isinstance(data, dict):
        raise AcdSetupError(f"{path}: not a JSON object")
    return parse_acd(data)
