"""Where a SIP message came from or goes to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Address:
    transport: str  # "udp" or "tcp"
    host: str
    port: int

    @property
    def reliable(self) -> bool:
        return self.transport != "udp"

    def __str__(self) -> str:
        return f"{self.transport}:{self.host}:{self.port}"
