"""What `ccbox run` tells the developer: where to point a softphone and a browser."""

from __future__ import annotations

from firmware.cli.table import format_table
from firmware.config import BoxConfig


def banner(cfg: BoxConfig, host: str, extensions: list[tuple[str, str, str]],
           has_admin: bool = True, rooms: list[str] | None = None,
           room_pins: dict[str, str] | None = None) -> str:
    lines = [
        f"ccbox 呼叫中心一体机 — board {cfg.board}",
        f"  SIP server : {host}:{cfg.sip_port}  (UDP and TCP)",
        f"  RTP ports  : {cfg.rtp_range}/udp",
        f"  Web UI     : http://{host}:{cfg.web_port}/",
        f"  Data dir   : {cfg.data_dir}",
        "",
    ]
    if not has_admin:
        # No web password ships with the box (decision 0011): the first admin is made here.
        lines += [
            "  No web admin yet. Create one (the password is printed once):",
            f"    ccbox user add NAME --role admin --data {cfg.data_dir}",
            "",
        ]
    if extensions:
        lines += [
            "  Demo extensions: register a softphone with user = number, the password below,",
            f"  server {host}:{cfg.sip_port} (UDP or TCP).",
            format_table(("number", "name", "password"), extensions, indent="    "),
        ]
    else:
        lines.append("  No demo extensions (ccbox ext list --data DIR shows the accounts).")
    if room_pins:
        # stored as a hash: this first start is the only time the PIN can be shown
        lines += ["", "  Conference rooms: dial the number, type the PIN, then # (the PIN is "
                  "shown only now;", "  set another in the web UI: 系统配置 → 会议室).",
                  format_table(("room", "PIN"), sorted(room_pins.items()), indent="    ")]
    elif rooms:
        lines += ["", f"  Conference rooms {', '.join(rooms)}: dial one, type its PIN, then #"
                  " (PINs were shown", "  when set; set another in the web UI: 系统配置 → "
                  "会议室)."]
    lines += ["", "  Stop with Ctrl-C."]
    return "\n".join(lines)
