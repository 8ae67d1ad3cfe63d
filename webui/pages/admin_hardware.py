"""E1 spans and FXO ports: what the board has, with the settings an admin may change
(`dahdi.spans`: framing, line code, CRC4, timing per span; `fxo.ports`: per line the
inbound number, echo cancelling and disconnect supervision; see decision 0012).

The values are checked with the same code that uses them (drivers/dahdi/system_conf.py
generates system.conf from board + settings; drivers/fxo/settings.py reads the line
settings), so a value the page accepts is one the switch accepts. Both are read when
switchd starts: the page says so after a save and offers the restart, which switchd
refuses while calls are up unless the admin confirms they may be dropped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import bottle

from drivers.dahdi import system_conf
from drivers.fxo import settings as fxo_settings
from drivers.fxo.line import FxoConfig
from firmware.cli.errors import CliError
from firmware.cli.status import query, switchd_socket
from firmware.config import ConfigError, load_board
from firmware.db.settings import get_setting, set_setting
from webui import oplog, switchd
from webui.web import Ctx, Web

SPAN_FIELDS = ("framing", "line_code", "crc4", "timing")
FRAMINGS = {"E1": ("ccs", "cas"), "T1": ("esf", "d4")}
CODINGS = {"E1": ("hdb3", "ami"), "T1": ("b8zs", "ami")}
TIMINGS = ("far_end", "internal")
# What the page offers per FXO line (the rest of FxoConfig keeps its default).
PORT_BOOLS = ("echo_cancel", "answer_on_polarity", "hangup_on_polarity", "busy_detect")
PORT_NUMBERS = ("silence_timeout", "ring_timeout", "cid_timeout")
DEFAULT_BOARD = "sim"


def _json_setting(key: str) -> dict[str, Any]:
    try:
        value = json.loads(get_setting(key) or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def board_name(ctx: Ctx) -> tuple[str, bool]:
    """(the board switchd runs on, whether switchd said so)."""
    try:
        name = switchd.status(ctx.web.data_dir).get("board")
    except switchd.SwitchdDown:
        return DEFAULT_BOARD, False
    return (str(name), True) if name else (DEFAULT_BOARD, False)


def spans_of(board: Mapping[str, Any], overrides: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for n, s in enumerate(board.get("telephony", {}).get("spans", []), start=1):
        own = overrides.get(str(n), {}) if isinstance(overrides.get(str(n)), dict) else {}
        kind = str(s.get("type", "E1")).upper()
        out.append({"n": n, "type": kind, "signalling": s.get("signalling", ""),
                    "timeslots": s.get("timeslots", ""), "board": s,
                    "framing": str(own.get("framing", s.get("framing", ""))).lower(),
                    "line_code": str(own.get("line_code", s.get("line_code", ""))).lower(),
                    "crc4": bool(own.get("crc4", s.get("crc4", kind == "E1"))),
                    "timing": str(own.get("timing", s.get("timing", "far_end"))),
                    "framings": FRAMINGS.get(kind, ()), "codings": CODINGS.get(kind, ())})
    return out


def ports_of(board: Mapping[str, Any], setting: Mapping[str, Any]) -> list[dict[str, Any]]:
    names = [f"fxo{n}" for n, _ in enumerate(board.get("telephony", {}).get("fxo", []),
                                              start=1)]
    parsed = fxo_settings.parse(json.dumps(setting), names)
    out = []
    for name in names:
        p = parsed[name]
        row: dict[str, Any] = {"name": name, "inbound": p.inbound, "echo_cancel": p.echo_cancel}
        for k in PORT_BOOLS[1:] + PORT_NUMBERS:
            row[k] = getattr(p.line, k)
        out.append(row)
    return out


def spans_only(board: Mapping[str, Any]) -> dict[str, Any]:
    """The board without its FXO ports: the span settings are checked on their own (on
    board sim the FXO ports are simulated and have no DAHDI channel numbers)."""
    tel = dict(board.get("telephony", {}))
    tel["fxo"] = []
    return {**board, "telephony": tel}


def check_port(name: str, values: Mapping[str, Any]) -> list[str]:
    """The errors of one line's settings, by the rules drivers/fxo/settings.py applies
    (there they are logged and the default is used; here they are refused)."""
    errors = []
    inbound = values.get("inbound")
    if not isinstance(inbound, str) or not inbound.strip() or \
            not all(c.isdigit() or c in "*#" for c in inbound.strip()):
        errors.append(f"{name} inbound: must be the number to deliver the calls to")
    for k in PORT_NUMBERS:
        try:
            fxo_settings._coerce(k, values.get(k))
        except ValueError as e:
            errors.append(f"{name} {k}: {e}")
    return errors


def register(web: Web) -> None:
    def page(ctx: Ctx, errors: list[str] | None = None, note: str = "",
             restart: dict[str, Any] | None = None, status: int = 200,
             span_form: list[dict[str, Any]] | None = None,
             port_form: list[dict[str, Any]] | None = None) -> str:
        name, confirmed = board_name(ctx)
        try:
            board = load_board(name)
        except ConfigError as e:
            raise bottle.HTTPError(500, f"board {name}: {e}") from None
        overrides = _json_setting(system_conf.SETTING)
        spans = span_form or spans_of(board, overrides)
        try:
            conf = system_conf.generate(board, overrides)
        except system_conf.SystemConfError:
            try:  # board sim: its FXO ports are simulated, not DAHDI channels
                conf = system_conf.generate(spans_only(board), overrides)
            except system_conf.SystemConfError as e:
                conf = f"# {e}"
        bottle.response.status = status
        return ctx.render("admin_hardware.tpl", board=name, confirmed=confirmed,
                          description=board.get("description", ""), spans=spans,
                          ports=port_form or ports_of(board, _json_setting(fxo_settings.SETTING)),
                          conf=conf, errors=errors or [], note=note, restart=restart,
                          timings=TIMINGS, port_bools=PORT_BOOLS, port_numbers=PORT_NUMBERS,
                          driver=board.get("telephony", {}).get("driver", ""))

    @web.route("GET", "/admin/hardware", "site.view")
    def show(ctx: Ctx) -> str:
        return page(ctx)

    @web.route("POST", "/admin/hardware/spans", "site.edit")
    def save_spans(ctx: Ctx) -> str:
        name, _ = board_name(ctx)
        board = load_board(name)
        before = _json_setting(system_conf.SETTING)
        f = bottle.request.forms
        overrides: dict[str, dict[str, Any]] = {}
        form_rows = spans_of(board, before)
        for row in form_rows:
            n = row["n"]
            row.update({"framing": f.getunicode(f"span{n}.framing", ""),
                        "line_code": f.getunicode(f"span{n}.line_code", ""),
                        "crc4": f.get(f"span{n}.crc4") == "1",
                        "timing": f.getunicode(f"span{n}.timing", "")})
            own = {k: row[k] for k in SPAN_FIELDS
                   if str(row[k]).lower() != str(row["board"].get(k, "")).lower()
                   or k not in row["board"]}
            if own:
                overrides[str(n)] = own
        try:
            system_conf.generate(spans_only(board), overrides)
        except system_conf.SystemConfError as e:
            return page(ctx, [str(e)], status=400, span_form=form_rows)
        set_setting(system_conf.SETTING, json.dumps(overrides, sort_keys=True))
        oplog.record(ctx.user.name, ctx.address, "hardware.spans", system_conf.SETTING,
                     before, overrides)
        return page(ctx, note="Saved. Spans are configured when switchd starts: restart "
                    "switchd to apply (on the box, system.conf is generated then too).")

    @web.route("POST", "/admin/hardware/ports", "site.edit")
    def save_ports(ctx: Ctx) -> str:
        name, _ = board_name(ctx)
        board = load_board(name)
        before = _json_setting(fxo_settings.SETTING)
        f = bottle.request.forms
        setting: dict[str, Any] = {k: v for k, v in before.items() if k == "*"}
        errors: list[str] = []
        rows = []
        for row in ports_of(board, before):
            port = row["name"]
            values: dict[str, Any] = {"inbound": f.getunicode(f"{port}.inbound", "").strip()}
            for k in PORT_BOOLS:
                values[k] = f.get(f"{port}.{k}") == "1"
            for k in PORT_NUMBERS:
                text = f.getunicode(f"{port}.{k}", "").strip()
                try:
                    values[k] = float(text)
                except ValueError:
                    values[k] = text
            errors += check_port(port, values)
            rows.append({"name": port, **values})
            defaults = FxoConfig()
            setting[port] = {k: v for k, v in values.items()
                             if k in ("inbound", "echo_cancel")
                             or getattr(defaults, k, None) != v}
        if errors:
            return page(ctx, errors, status=400, port_form=rows)
        set_setting(fxo_settings.SETTING, json.dumps(setting, sort_keys=True))
        oplog.record(ctx.user.name, ctx.address, "hardware.fxo_ports", fxo_settings.SETTING,
                     before, setting)
        return page(ctx, note="Saved. FXO line settings are read when switchd starts: "
                    "restart switchd to apply.")

    @web.route("POST", "/admin/hardware/restart", "site.edit")
    def restart(ctx: Ctx) -> str:
        force = bottle.request.forms.get("force") == "1"
        try:
            reply = query(switchd_socket(ctx.web.data_dir), {"cmd": "restart", "force": force},
                          timeout=switchd.TIMEOUT)
        except CliError as e:
            reply = {"ok": False, "error": str(e)}
        oplog.record(ctx.user.name, ctx.address, "switchd.restart", "switchd",
                     None, {"force": force, "ok": reply.get("ok") is not False})
        return page(ctx, restart=reply, status=200 if reply.get("ok") is not False else 409)
