"""Who may hear which recording, and the waveform the player draws.

Hearing a call is more than seeing that it happened (decision 0016):
- admins and auditors: every recording (auditors are the oversight role);
- supervisors: calls of the queues they supervise (their extension is among the
  queue's `supervisors` in the site configuration), calls taken by those queues'
  members, and calls on their own extension;
- agents: their own calls (taken by their agent, or on their extension);
- field staff: none.
Every playback and download is written to the operation log by the route.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from firmware.db.models import Cdr, User
from firmware.db.site_models import AcdQueue, Agent, QueueMember, QueueSupervisor

ALL_RECORDINGS = frozenset({"admin", "auditor"})
PEAKS = 600  # columns of the waveform


def supervised(extension: str) -> tuple[set[str], set[str]]:
    """(queue names, member agent ids) supervised from `extension`."""
    queues = {q.name for q in AcdQueue.select(AcdQueue.name).join(QueueSupervisor)
              .where(QueueSupervisor.extension == extension)}
    agents = {a.agent_id for a in Agent.select(Agent.agent_id).join(QueueMember)
              .join(AcdQueue).where(AcdQueue.name.in_(queues))} if queues else set()
    return queues, agents


def own(user: User, cdr: Cdr) -> bool:
    return bool((user.agent and cdr.agent == user.agent)
                or (user.extension and user.extension in (cdr.callee, cdr.caller)))


def may_hear(user: User, cdr: Cdr) -> bool:
    if user.role in ALL_RECORDINGS:
        return True
    if user.role == "agent":
        return own(user, cdr)
    if user.role == "supervisor":
        if own(user, cdr):
            return True
        if not user.extension:
            return False
        queues, agents = supervised(user.extension)
        return bool((cdr.queue and cdr.queue in queues) or (cdr.agent and cdr.agent in agents)
                    or (cdr.callee and cdr.callee in agents))
    return False


def peaks(path: Path, columns: int = PEAKS) -> dict[str, object]:
    """Per channel, the peak level (0..1) of each of `columns` slices of the file: what
    the scrubber draws. Read in one go: a recording is minutes of 8 kHz 16-bit audio."""
    with wave.open(str(path), "rb") as w:
        channels, width, rate, frames = (w.getnchannels(), w.getsampwidth(),
                                         w.getframerate(), w.getnframes())
        raw = w.readframes(frames)
    if width != 2 or frames == 0:
        return {"seconds": frames / rate if rate else 0.0, "channels": []}
    samples = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)
    n = min(columns, len(samples))
    edges = np.linspace(0, len(samples), n + 1, dtype=int)
    out = []
    for ch in range(channels):
        mags = np.abs(samples[:, ch].astype(np.int32))
        cols = np.maximum.reduceat(mags, edges[:-1]) if n else np.zeros(0)
        out.append([round(float(v) / 32768.0, 3) for v in cols])
    return {"seconds": round(frames / rate, 3), "channels": out}
