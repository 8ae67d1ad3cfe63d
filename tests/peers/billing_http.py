"""A stand-in billing system for lookup tests: a real HTTP server on 127.0.0.1.

GET/POST .../due?account=N answers {"amount": 123.45 (`amount`), "due": {"date": "2026-12-25"}};
accounts `500` (HTTP 500), `html` (not JSON), `nodate` (no due.date) and `slow`
(answers after 1.6 s) misbehave; `down` makes every answer HTTP 503. Every request
is kept in `seen`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.peers.ports import free_port


@dataclass
class Seen:
    paths: list[str] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)


class Billing:
    """A billing system: /api/due?account=N answers by account; some accounts misbehave."""

    def __init__(self) -> None:
        self.seen = Seen()
        self.port = free_port()
        self.down = False  # True: every request gets HTTP 503
        self.amount = 123.45  # what every account owes
        seen = self.seen
        me = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                seen.paths.append(self.path)
                seen.auth.append(self.headers.get("Authorization"))
                length = int(self.headers.get("Content-Length") or 0)
                seen.bodies.append(self.rfile.read(length) if length else b"")
                account = self.path.rpartition("account=")[2]
                if account == "slow":
                    time.sleep(1.6)
                try:
                    self._send(account)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the box gave up waiting: that is the point of the test

            def _send(self, account: str) -> None:
                if me.down:
                    self.send_error(503, "maintenance")
                    return
                if account == "500":
                    self.send_error(500, "database down")
                    return
                body = {"html": b"<html>maintenance</html>",
                        "nodate": b'{"amount": 12.5, "due": {}}'}.get(
                    account, json.dumps({"amount": me.amount, "account": account,
                                         "due": {"date": "2026-12-25"}}).encode())
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
