"""RFC 3842 message-summary bodies (`application/simple-message-summary`).

    Messages-Waiting: yes
    Message-Account: sip:8001@192.168.1.10
    Voice-Message: 2/8 (0/0)

`Voice-Message: new/old (urgent new/urgent old)`; the lamp follows Messages-Waiting.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTENT_TYPE = "application/simple-message-summary"


@dataclass(frozen=True)
class Summary:
    new: int
    old: int
    urgent_new: int = 0
    urgent_old: int = 0
    account: str = ""
    waiting: bool | None = None  # None: waiting when there are new messages

    @property
    def lamp(self) -> bool:
        return self.new > 0 if self.waiting is None else self.waiting


def render(s: Summary) -> bytes:
    lines = [f"Messages-Waiting: {'yes' if s.lamp else 'no'}"]
    if s.account:
        lines.append(f"Message-Account: {s.account}")
    lines.append(f"Voice-Message: {s.new}/{s.old} ({s.urgent_new}/{s.urgent_old})")
    return ("\r\n".join(lines) + "\r\n").encode("ascii", "replace")


def parse(body: bytes) -> Summary:
    waiting: bool | None = None
    account = ""
    counts = (0, 0, 0, 0)
    for line in body.decode("utf-8", "replace").splitlines():
        name, _, value = line.partition(":")
        key, value = name.strip().lower(), value.strip()
        if key == "messages-waiting":
            waiting = value.lower() == "yes"
        elif key == "message-account":
            account = value
        elif key == "voice-message":
            main, _, urgent = value.partition("(")
            n, _, o = main.strip().partition("/")
            un, _, uo = urgent.rstrip(")").partition("/")
            counts = (int(n), int(o), int(un or 0), int(uo or 0))
    if waiting is None:
        raise ValueError("no Messages-Waiting line")
    return Summary(*counts, account=account, waiting=waiting)
