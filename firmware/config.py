"""How a box is started: the command-line level settings and the board description.

Everything an admin can change lives in the database; this is only what a daemon must
know before it can open the database and its sockets.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
# The image installs the tree under /opt/ccbox, so board/ sits next to firmware/; the
# variable lets a test or a developer point at other board files.
BOARD_DIR_ENV = "CCBOX_BOARD_DIR"
DATA_DIR_ENV = "CCBOX_DATA"
DEFAULT_DATA_DIR = Path("/data")

_BOARD_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class ConfigError(ValueError):
    pass


def _check_port(what: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise ConfigError(f"{what} {port} is not a port number (1..65535)")


def parse_port_range(text: str) -> tuple[int, int]:
    """'20000-20999' -> (20000, 20999): an even first port (RTP even, RTCP odd), A < B,
    both within 1024..65535."""
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
    if not m:
        raise ConfigError(f"port range {text!r} must look like 20000-20999")
    low, high = int(m.group(1)), int(m.group(2))
    for port in (low, high):
        if not 1024 <= port <= 65535:
            raise ConfigError(f"port range {text!r}: {port} is outside 1024..65535")
    if low >= high:
        raise ConfigError(f"port range {text!r}: the first port must be below the last")
    if low % 2:
        raise ConfigError(
            f"port range {text!r}: the first port must be even (RTP on even ports, RTCP on odd)"
        )
    return low, high


def default_data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


@dataclass
class BoxConfig:
    board: str
    data_dir: Path
    sip_port: int = 5060
    web_port: int = 8080
    rtp_min: int = 20000
    rtp_max: int = 23999
    bind_host: str = "0.0.0.0"
    advertise_host: str | None = None  # what phones are told to reach; None: guess

    def __post_init__(self) -> None:
        _check_port("SIP port", self.sip_port)
        _check_port("web port", self.web_port)
        parse_port_range(self.rtp_range)
        if self.sip_port == self.web_port:
            raise ConfigError(f"SIP and web UI cannot share port {self.sip_port}")
        if self.rtp_min <= self.sip_port <= self.rtp_max:
            raise ConfigError(f"SIP port {self.sip_port} is inside the RTP range {self.rtp_range}")
        if self.rtp_min <= self.web_port <= self.rtp_max:
            raise ConfigError(f"web port {self.web_port} is inside the RTP range {self.rtp_range}")

    @property
    def rtp_range(self) -> str:
        return f"{self.rtp_min}-{self.rtp_max}"


def board_dir() -> Path:
    return Path(os.environ.get(BOARD_DIR_ENV) or REPO_ROOT / "board")


def available_boards() -> list[str]:
    root = board_dir()
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob("*/board.json"))


def load_board(name: str) -> dict[str, Any]:
    """The parsed `board/<name>/board.json`."""
    if not _BOARD_NAME.match(name):
        raise ConfigError(f"board name {name!r} must be lower-case letters, digits and dashes")
    path = board_dir() / name / "board.json"
    if not path.is_file():
        known = ", ".join(available_boards()) or "none"
        raise ConfigError(f"unknown board {name!r} (no {path}); known boards: {known}")
    try:
        board = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(board, dict):
        raise ConfigError(f"{path}: must hold a JSON object")
    if board.get("name") != name:
        raise ConfigError(f'{path}: "name" is {board.get("name")!r}, expected {name!r}')
    return board
