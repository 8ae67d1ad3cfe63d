"""A stand-in for switchd's CTI socket in web tests: answers every command, remembers
them, and for Subscribe sends a snapshot, the events it was given, then closes (so an
event stream fetched through the in-process client ends)."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path
from typing import Any


class FakeCti:
    def __init__(self, data_dir: Path, snapshot: dict[str, Any] | None = None,
                 events: list[dict[str, Any]] | None = None,
                 replies: dict[str, dict[str, Any]] | None = None) -> None:
        path = self.path = data_dir / "run" / "cti.sock"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.snapshot = snapshot or {"time": 0, "agents": [], "queues": [], "calls": [],
                                     "reasons": ["break"], "totals": None}
        self.events = events or []
        self.replies = replies or {}
        self.commands: list[dict[str, Any]] = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            f = conn.makefile("rb")
            for line in f:
                req = json.loads(line)
                self.commands.append(req)
                cmd = req.get("cmd")
                if cmd == "Subscribe":
                    out = [{"ok": True, "snapshot": self.snapshot}, *self.events]
                    conn.sendall(b"".join(json.dumps(m).encode() + b"\n" for m in out))
                    return
                if cmd == "Snapshot":
                    reply: dict[str, Any] = {"ok": True, **self.snapshot}
                else:
                    reply = self.replies.get(str(cmd), {"ok": True, "done": cmd})
                conn.sendall(json.dumps(reply).encode() + b"\n")

    def close(self) -> None:
        # shutdown first: close() alone does not wake the thread blocked in accept()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.path.unlink(missing_ok=True)
