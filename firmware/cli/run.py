"""`ccbox run`: the whole box on a dev machine, switchd and webd as child processes."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from firmware.cli.banner import banner
from firmware.cli.errors import CliError
from firmware.cli.status import switchd_socket
from firmware.cli.supervise import ChildSpec, Supervisor
from firmware.config import BoxConfig, load_board
from firmware.db.connection import open_db
from firmware.db.demo import ensure_demo_data
from firmware.db.models import User
from firmware.db.site_models import ConferenceRoom
from firmware.system.net import accepts_tcp, bind_problem, guess_advertise_host

READY_LINE = "ccbox ready"


def _local_host(bind_host: str) -> str:
    return "127.0.0.1" if bind_host in ("", "0.0.0.0") else bind_host


def _clear_stale_socket(path: Path) -> None:
    if not path.exists():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        # Left by a switchd that died: readiness would be seen before the new one binds.
        path.unlink(missing_ok=True)
        return
    finally:
        probe.close()
    raise CliError(f"a switchd is already running on this data dir ({path}); stop it first")


def _preflight(cfg: BoxConfig) -> None:
    checks = (
        ("SIP", cfg.sip_port, socket.SOCK_DGRAM, "udp", "--sip-port"),
        ("SIP", cfg.sip_port, socket.SOCK_STREAM, "tcp", "--sip-port"),
        ("web UI", cfg.web_port, socket.SOCK_STREAM, "tcp", "--web-port"),
    )
    for what, port, kind, proto, flag in checks:
        problem = bind_problem(cfg.bind_host, port, kind)
        if problem:
            raise CliError(
                f"cannot use {what} port {port}/{proto} on {cfg.bind_host}: {problem} "
                f"(another ccbox or PBX running? pick another port with {flag})"
            )


def children(cfg: BoxConfig) -> list[ChildSpec]:
    data = str(cfg.data_dir)
    sock = switchd_socket(cfg.data_dir)
    local = _local_host(cfg.bind_host)
    return [
        ChildSpec(
            "switchd",
            [
                sys.executable,
                "-m",
                "firmware.switch.daemon",
                "--data",
                data,
                "--sip-port",
                str(cfg.sip_port),
                "--rtp-ports",
                cfg.rtp_range,
                "--board",
                cfg.board,
                # Only an address the installer chose is pinned: otherwise switchd uses
                # the local address towards each peer (loopback peers get 127.0.0.1).
                *(["--advertise", cfg.advertise_host] if cfg.advertise_host else []),
            ],
            sock.is_socket,
        ),
        ChildSpec(
            "webd",
            [sys.executable, "-m", "webui.daemon", "--data", data, "--web-port", str(cfg.web_port)],
            lambda: accepts_tcp(local, cfg.web_port),
        ),
    ]


def run(cfg: BoxConfig, ready_timeout: float) -> int:
    load_board(cfg.board)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    db = open_db(cfg.data_dir)
    room_pins: dict[str, str] = {}
    demo = ensure_demo_data(db, cfg.data_dir, room_pins)
    rooms = [r.number for r in ConferenceRoom.select().order_by(ConferenceRoom.number)]
    has_admin = User.select().where((User.role == "admin") & User.enabled).exists()
    db.close()
    host = cfg.advertise_host or guess_advertise_host(cfg.bind_host)
    _clear_stale_socket(switchd_socket(cfg.data_dir))
    _preflight(cfg)
    print(banner(cfg, host, demo, has_admin, rooms, room_pins), flush=True)

    def ready() -> None:
        # one write: unbuffered (PYTHONUNBUFFERED), print() writes the text and the newline
        # separately and a daemon's log line from another thread could land in between
        sys.stdout.write(READY_LINE + "\n")
        sys.stdout.flush()

    return Supervisor(children(cfg), ready_timeout=ready_timeout, on_ready=ready).run()
