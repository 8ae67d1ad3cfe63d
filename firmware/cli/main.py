"""`ccbox`: the installer's and developer's command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import peewee

from firmware.cli import cdr, dahdi, ext, phone, pstn, run, siteconf, status, users
from firmware.cli.errors import CliError
from firmware.config import BoxConfig, ConfigError, default_data_dir, parse_port_range
from firmware.db.migrations import SchemaError
from firmware.db.models import LANGUAGES, ROLES


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1..65535)")
    return value


def _port_range(text: str) -> tuple[int, int]:
    try:
        return parse_port_range(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    data = argparse.ArgumentParser(add_help=False)
    data.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="data directory (default: $CCBOX_DATA, else /data)",
    )

    parser = argparse.ArgumentParser(prog="ccbox", description="ccbox call-center appliance")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", parents=[data], help="run switchd and webd in this terminal")
    p.add_argument("--board", default="sim", help="board name under board/ (default: sim)")
    p.add_argument("--sip-port", type=_port, default=5060, metavar="N")
    p.add_argument("--web-port", type=_port, default=8080, metavar="N")
    p.add_argument("--rtp-ports", type=_port_range, default=(20000, 23999), metavar="A-B")
    p.add_argument(
        "--advertise",
        metavar="HOST",
        help="address phones and browsers should use (default: guessed)",
    )
    p.add_argument(
        "--ready-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="give up when the daemons are not ready by then (default: 30)",
    )

    p = sub.add_parser("ext", help="extensions (SIP accounts)")
    ext_sub = p.add_subparsers(dest="ext_command", required=True, metavar="ACTION")
    q = ext_sub.add_parser("add", parents=[data], help="add an extension")
    q.add_argument("number")
    q.add_argument("--password", help="SIP password (default: a strong generated one)")
    q.add_argument("--name", default="", help="display name")
    q.add_argument(
        "--digest",
        default="MD5",
        help="digest algorithms offered to this phone, in order: MD5 (default, works with "
        "every phone), MD5,SHA-256 or SHA-256 (only for phones that support it)",
    )
    q = ext_sub.add_parser("list", parents=[data], help="list extensions")
    q.add_argument("--show-secrets", action="store_true", help="show SIP passwords")
    q = ext_sub.add_parser("del", parents=[data], help="delete an extension")
    q.add_argument("number")
    phone.add_parsers(ext_sub, sub, data)  # ext set|show, group ...

    sub.add_parser("status", parents=[data], help="ask the running switchd for its status")

    p = sub.add_parser("pstn", help="the simulated PSTN of board sim")
    pstn_sub = p.add_subparsers(dest="pstn_command", required=True, metavar="ACTION")
    q = pstn_sub.add_parser("call", parents=[data], help="call the box from the simulated PSTN")
    q.add_argument("number", nargs="?", default="",
                   help="the number dialled (an extension or DID of the box; not with --line)")
    q.add_argument("--from", dest="caller", default="13800138000", metavar="CALLER",
                   help="calling number (default: 13800138000)")
    q.add_argument("--play", type=Path, metavar="FILE.wav", help="what the caller says")
    q.add_argument("--dtmf", metavar="DIGITS", help="in-band DTMF, 1 s after the answer")
    q.add_argument("--seconds", type=float, default=10.0, metavar="N",
                   help="hang up N seconds after the answer (default: 10)")
    q.add_argument("--line", metavar="fxo1",
                   help="call on this FXO line instead of the E1 (NUMBER is then ignored)")
    q.add_argument("--cid", choices=("fsk", "fsk-v23", "dtmf", "none"), default="fsk",
                   help="FXO caller ID: FSK Bell 202 after the first ring (default), "
                   "FSK V.23, DTMF before the first ring, or none")
    q.add_argument("--hangup", choices=("polarity", "busy", "silence", "loop"),
                   default="polarity",
                   help="FXO: how the exchange tells the box the caller hung up "
                   "(default: polarity reversal)")

    p = sub.add_parser("user", help="web UI users (the first admin is made here)")
    user_sub = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    q = user_sub.add_parser("add", parents=[data], help="add a web UI user")
    q.add_argument("name")
    q.add_argument("--role", required=True, choices=ROLES)
    q.add_argument("--language", default="zh_CN", choices=LANGUAGES)
    q.add_argument("--agent", default=None, metavar="ID",
                   help="the ACD agent id this user works as at the agent desk")
    q.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of stdin "
                   "(default: generate a strong one and print it)")
    user_sub.add_parser("list", parents=[data], help="list web UI users")
    q = user_sub.add_parser("passwd", parents=[data],
                            help="set a new password (and unlock the user)")
    q.add_argument("name")
    q.add_argument("--password-stdin", action="store_true",
                   help="read the password from stdin (default: generate one)")
    q = user_sub.add_parser("unlock", parents=[data], help="clear a sign-in lockout")
    q.add_argument("name")

    p = sub.add_parser("config", help="the call-center configuration as a site file")
    cfg_sub = p.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    q = cfg_sub.add_parser("export", parents=[data], help="print the configuration as YAML")
    q.add_argument("--with-secrets", action="store_true",
                   help="include the extensions' SIP passwords")
    q = cfg_sub.add_parser("import", parents=[data],
                           help="check a site file, then apply it (all or nothing)")
    q.add_argument("file", type=Path, metavar="SITE.yaml")
    q.add_argument("--dry-run", action="store_true",
                   help="check and show what would change; change nothing")

    p = sub.add_parser("blacklist", help="blacklisted and locked calling numbers")
    bl_sub = p.add_subparsers(dest="blacklist_command", required=True, metavar="ACTION")
    bl_sub.add_parser("list", parents=[data], help="blacklist entries and active locks")
    q = bl_sub.add_parser("add", parents=[data], help="blacklist a number or prefix*")
    q.add_argument("number")
    q.add_argument("--treatment", choices=("reject", "prompt", "flow"), default="reject")
    q.add_argument("--cause", type=int, default=21, help="Q.850 cause for reject (21)")
    q.add_argument("--prompt", help="prompt for --treatment prompt (number_restricted)")
    q.add_argument("--flow", help="IVR flow for --treatment flow")
    q.add_argument("--note", default="")
    q.add_argument("--days", type=float, help="expires after N days (default: never)")
    q = bl_sub.add_parser("remove", parents=[data], help="take a number off the blacklist")
    q.add_argument("number")
    q = bl_sub.add_parser("unlock", parents=[data], help="lift an auto-lock")
    q.add_argument("number")
    q.add_argument("--by", help="who unlocks (for the record; default: your user name)")

    p = sub.add_parser("dahdi", help="DAHDI spans and FXO ports of the board")
    dahdi_sub = p.add_subparsers(dest="dahdi_command", required=True, metavar="ACTION")
    q = dahdi_sub.add_parser("conf", parents=[data],
                             help="print /etc/dahdi/system.conf from the board and settings")
    q.add_argument("--board", default=os.environ.get("CCBOX_BOARD", "sim"),
                   help="board name (default: $CCBOX_BOARD, else sim)")
    q.add_argument("--write", type=Path, default=None, metavar="PATH",
                   help="write it there instead of printing it")
    q.add_argument("--apply", action="store_true",
                   help="write it (to /etc/dahdi/system.conf unless --write) and run dahdi_cfg")

    p = sub.add_parser("cdr", help="call detail records")
    cdr_sub = p.add_subparsers(dest="cdr_command", required=True, metavar="ACTION")
    q = cdr_sub.add_parser("list", parents=[data], help="most recent calls first")
    q.add_argument("--limit", type=_positive, default=20, metavar="N")
    return parser


def _existing_data_dir(path: Path) -> Path:
    # Only `run` creates the data dir: a mistyped --data must not grow a new empty box.
    if not path.is_dir():
        raise CliError(
            f"data directory {path} does not exist "
            "(use --data DIR or CCBOX_DATA; `ccbox run` creates it)"
        )
    return path


def dispatch(args: argparse.Namespace) -> int:
    data_dir: Path = (args.data or default_data_dir()).absolute()
    if args.command == "run":
        low, high = args.rtp_ports
        cfg = BoxConfig(
            board=args.board,
            data_dir=data_dir,
            sip_port=args.sip_port,
            web_port=args.web_port,
            rtp_min=low,
            rtp_max=high,
            advertise_host=args.advertise,
        )
        return run.run(cfg, args.ready_timeout)
    data_dir = _existing_data_dir(data_dir)
    done = phone.dispatch(args, data_dir)
    if done is not None:
        return done
    if args.command == "ext":
        if args.ext_command == "add":
            return ext.add(data_dir, args.number, args.password, args.name, args.digest)
        if args.ext_command == "list":
            return ext.list_(data_dir, args.show_secrets)
        return ext.delete(data_dir, args.number)
    if args.command == "status":
        return status.status(data_dir)
    if args.command == "user":
        if args.user_command == "add":
            return users.add(data_dir, args.name, args.role, args.language, args.password_stdin,
                             args.agent)
        if args.user_command == "list":
            return users.list_(data_dir)
        if args.user_command == "passwd":
            return users.passwd(data_dir, args.name, args.password_stdin)
        return users.unlock(data_dir, args.name)
    if args.command == "config":
        if args.config_command == "export":
            return siteconf.export(data_dir, args.with_secrets)
        return siteconf.import_(data_dir, args.file, args.dry_run)
    if args.command == "blacklist":
        cmd = args.blacklist_command
        if cmd == "list":
            return siteconf.blacklist_list(data_dir)
        if cmd == "add":
            return siteconf.blacklist_add(data_dir, args.number, args.treatment, args.cause,
                                          args.prompt, args.flow, args.note, args.days)
        if cmd == "remove":
            return siteconf.blacklist_remove(data_dir, args.number)
        return siteconf.blacklist_unlock(data_dir, args.number, args.by)
    if args.command == "dahdi":
        return dahdi.conf(data_dir, args.board, args.write, args.apply)
    if args.command == "pstn":
        return pstn.call(data_dir, args.number, args.caller, args.play, args.dtmf, args.seconds,
                         args.line, args.cid, args.hangup)
    return cdr.list_(data_dir, args.limit)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return dispatch(args)
    except CliError as exc:
        print(f"ccbox: {exc}", file=sys.stderr)
        return exc.status
    except ConfigError as exc:
        print(f"ccbox: {exc}", file=sys.stderr)
        return 2
    except SchemaError as exc:
        print(f"ccbox: {exc}", file=sys.stderr)
        return 1
    except (OSError, peewee.DatabaseError) as exc:
        # Permissions, a full disk, a damaged file: say what, without a traceback.
        print(f"ccbox: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
