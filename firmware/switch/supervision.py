"""Who may monitor whom: the one seam between call control and the configuration.

`may_monitor(supervisor, agent)` is what call control asks before listen / whisper /
barge / force release / force transfer. Until the per-queue `supervisors` of the
configuration database are on main, the rule is read from `DATA/acd.json`:
`"supervisors": {"8101": ["repair", "emergency"]}` (queue names, or "*" for every
queue): a supervisor may monitor an agent who is a member of one of their queues.
The demo makes 8101 the supervisor of all four demo queues.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEMO_SUPERVISORS: dict[str, list[str]] = {"8101": ["*"]}


class SupervisorPolicy:
    def __init__(self, supervisors: Mapping[str, Sequence[str]],
                 queue_members: Mapping[str, Sequence[str]]) -> None:
        self.supervisors = {str(k): {str(q) for q in v} for k, v in supervisors.items()}
        self.queue_members = {str(k): {str(m) for m in v} for k, v in queue_members.items()}

    def may_monitor(self, supervisor: str, agent: str) -> bool:
        queues = self.supervisors.get(supervisor)
        if not queues or supervisor == agent:
            return False
        if "*" in queues:
            return any(agent in members for members in self.queue_members.values())
        return any(agent in self.queue_members.get(q, set()) for q in queues)

    def groups_of(self, supervisor: str) -> list[str]:
        queues = self.supervisors.get(supervisor, set())
        return sorted(self.queue_members) if "*" in queues else sorted(queues)


def load_policy(data_dir: Path, acd: Mapping[str, Any] | None = None) -> SupervisorPolicy:
    """From DATA/acd.json (or the demo ACD, `acd`, when there is no file)."""
    data: Mapping[str, Any] = acd or {}
    path = data_dir / "acd.json"
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            data = loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError) as e:
            log.error("%s: %s; no supervisor may monitor", path, e)
            data = {}
        supervisors = data.get("supervisors", {})
    else:
        supervisors = data.get("supervisors", DEMO_SUPERVISORS)
    members: dict[str, list[str]] = {}
    for q in data.get("queues", []):
        if isinstance(q, dict) and "name" in q:
            members[str(q["name"])] = [
                str(m if isinstance(m, str | int) else m.get("agent", ""))
                for m in q.get("members", [])]
    if not isinstance(supervisors, dict):
        log.error("acd.json: 'supervisors' must map an extension to queue names")
        supervisors = {}
    return SupervisorPolicy(supervisors, members)
