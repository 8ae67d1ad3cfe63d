"""A web UI on a fresh data dir with one user per role, an extension and a recorded call."""

from __future__ import annotations

import math
import struct
import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from firmware.db.connection import open_db
from firmware.db.models import ROLES, Cdr, Extension, User
from firmware.db.site_models import AcdQueue, Agent, QueueMember, QueueSupervisor
from webui import sessions, tokens
from webui.app import build_web
from webui.passwords import hash_password
from webui.web import Web

from .client import Client

PASSWORD = "Test-Passw0rd-123"
RECORDING = "recordings/2026/01/31/call-1.wav"


@cache
def password_hash() -> str:
    # One argon2 hash for every test user: hashing is the slow part of a fixture.
    return hash_password(PASSWORD)


def write_wav(path: Path, seconds: float = 2.0, rate: int = 8000) -> None:
    """A stereo 16-bit tone, like the box's recordings (caller left, agent right)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = bytearray()
    for i in range(int(seconds * rate)):
        left = int(8000 * math.sin(2 * math.pi * 440 * i / rate))
        right = int(8000 * math.sin(2 * math.pi * 660 * i / rate))
        frames += struct.pack("<hh", left, right)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def add_cdr(call_id: str, start: float, recording: str | None = None, caller: str = "13800138000",
            called: str = "8001", talk: float = 30.0, direction: str = "in") -> Cdr:
    cdr: Cdr = Cdr.create(call_id=call_id, direction=direction, caller=caller, called=called,
                          callee=called, start=start, answer=start + 5, end=start + 5 + talk,
                          ring_seconds=5.0, talk_seconds=talk, cause=16,
                          cause_text="NORMAL_CLEARING", released_by="caller",
                          recording=recording, extra="{}")
    return cdr


@dataclass
class Box:
    web: Web
    data_dir: Path
    users: dict[str, User]  # by role; plus "victim", an agent others act on
    cdr: Cdr
    wallboard_token: str = ""  # a wallboard-role API token

    def client(self, role: str | None, address: str = "127.0.0.1") -> tuple[Client, str]:
        """A client signed in as `role` (None: anonymous) and its CSRF token."""
        c = Client(self.web.app, address)
        if role is None:
            return c, ""
        token, csrf = sessions.create_for_test(self.users[role])
        c.cookies[sessions.COOKIE] = token
        return c, csrf

    def bearer(self, role: str, agent: str | None = None, extension: str | None = None
               ) -> tuple[Client, dict[str, str]]:
        """A client without cookies and the Authorization header of a new `role` token."""
        _row, secret = tokens.create(f"{role} token", role, "admin1", agent=agent,
                                     extension=extension)
        return Client(self.web.app), {"Authorization": f"Bearer {secret}"}


def make_box(data_dir: Path) -> Box:
    db = open_db(data_dir)
    users = {role: User.create(name=f"{role}1", role=role, password_hash=password_hash())
             for role in ROLES}
    users["victim"] = User.create(name="victim", role="agent", password_hash=password_hash())
    # the agent works as agent 8001 at extension 8001; the supervisor at 8101 supervises
    # queue "general", of which 8001 is a member
    User.update(agent="8001", extension="8001").where(User.id == users["agent"].id).execute()
    User.update(extension="8101").where(User.id == users["supervisor"].id).execute()
    users = {k: User.get_by_id(u.id) for k, u in users.items()}
    Extension.create(number="8001", name="坐席01", sip_password="SecretSip123456x")
    Extension.create(number="8101", name="班长", sip_password="SecretSip123456y")
    queue = AcdQueue.create(name="general")
    QueueMember.create(queue=queue, agent=Agent.create(agent_id="8001", name="坐席01"))
    QueueSupervisor.create(queue=queue, extension="8101")
    write_wav(data_dir / RECORDING)
    cdr = add_cdr("call-1", 1_769_817_600.0, RECORDING)
    _row, secret = tokens.create("lobby screen", "wallboard", "admin1")
    return Box(build_web(db, data_dir), data_dir, users, cdr, secret)

