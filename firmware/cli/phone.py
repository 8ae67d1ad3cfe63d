"""`ccbox ext set|show` (an extension's call features) and `ccbox group ...` (ring groups).

Everything is validated before it is written (a forward target must be an extension,
a ring group or 0 + an outside number; timeouts 5-300 s; PINs not trivial), then a
running switchd is told to reload: the change applies to the next call.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

import peewee

from firmware.cli.errors import CliError
from firmware.cli.status import tell_switchd_reload
from firmware.cli.table import format_table
from firmware.db.connection import open_db
from firmware.db.models import (
    Extension,
    ExtensionFeatures,
    RingGroup,
    RingGroupMember,
    VoicemailMessage,
)
from firmware.switch.features.pin import hash_pin, weak_pin_reason
from firmware.switch.features.settings import (
    OFF,
    OUTSIDE_NUMBER,
    STRATEGIES,
    ExtFeatures,
    FeatureError,
    GroupMember,
    RingGroupInfo,
    check_group,
    check_target,
    check_timeout,
)

OFF_WORDS = ("off", "none", "")


def _on_off(text: str) -> bool:
    t = text.strip().lower()
    if t in ("on", "yes", "1", "true"):
        return True
    if t in ("off", "no", "0", "false"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r}: say on or off")


def add_parsers(ext_sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                data: argparse.ArgumentParser) -> None:
    q = ext_sub.add_parser("set", parents=[data], help="call features of an extension")
    q.add_argument("number")
    for kind in ("always", "busy", "no-answer"):
        q.add_argument(f"--forward-{kind}", metavar="NUMBER",
                       help=f"forward {kind.replace('-', ' ')} to an extension, a ring group "
                       "or 0 + an outside number; 'off' to cancel")
    q.add_argument("--no-answer-timeout", type=int, metavar="SECONDS",
                   help="ring this long before no-answer forwarding or voicemail (default 20)")
    q.add_argument("--dnd", type=_on_off, metavar="on|off", help="do not disturb")
    q.add_argument("--mobile", metavar="0NUMBER",
                   help="one-number: also ring this outside number (with the trunk prefix 0); "
                   "'off' to cancel")
    q.add_argument("--mobile-delay", type=int, metavar="SECONDS",
                   help="the desk phone rings alone this long first (default 10; 0: both "
                   "at once)")
    q.add_argument("--voicemail", type=_on_off, metavar="on|off", help="voicemail")
    q.add_argument("--remote-answer", type=_on_off, metavar="on|off",
                   help="the desk may answer this phone (CTI Answer, click-to-dial picks up "
                   "by itself): only for phones that take NOTIFY Event: talk and "
                   "Call-Info answer-after (Yealink, Polycom, Grandstream, BroadSoft)")
    pin = q.add_mutually_exclusive_group()
    pin.add_argument("--voicemail-pin-stdin", action="store_true",
                     help="read the voicemail PIN (4-12 digits) from stdin")
    pin.add_argument("--no-voicemail-pin", action="store_true",
                     help="remove the PIN (the mailbox is then reachable from its own "
                     "phone only)")
    q = ext_sub.add_parser("show", parents=[data], help="an extension's call features")
    q.add_argument("number")

    p = sub.add_parser("group", help="ring groups (dialled as 5000-5099)")
    g = p.add_subparsers(dest="group_command", required=True, metavar="ACTION")
    for name, text in (("add", "add a ring group"), ("set", "change a ring group")):
        q = g.add_parser(name, parents=[data], help=text)
        q.add_argument("number", help="5000-5099")
        q.add_argument("--name")
        q.add_argument("--members", metavar="EXT[:SECONDS],...",
                       help="extensions in ringing order; a sequential group may give a "
                       "member its own ring time (8001:15)")
        q.add_argument("--strategy", choices=STRATEGIES)
        q.add_argument("--ring-timeout", type=int, metavar="SECONDS",
                       help="simultaneous: how long all ring; sequential: each member's "
                       "default turn (default 20)")
        q.add_argument("--fallback", metavar="NUMBER|vm:MAILBOX",
                       help="when nobody answers: a number, or vm:8001 for a mailbox; 'off'")
        q.add_argument("--enabled", type=_on_off, metavar="on|off")
    g.add_parser("list", parents=[data], help="list ring groups")
    q = g.add_parser("del", parents=[data], help="delete a ring group")
    q.add_argument("number")


def _lookups() -> tuple[set[str], set[str]]:
    exts = {e.number for e in Extension.select(Extension.number)}
    groups = {r.number for r in RingGroup.select(RingGroup.number)}
    return exts, groups


def _features(number: str) -> ExtFeatures:
    row = ExtensionFeatures.get_or_none(ExtensionFeatures.number == number)
    if row is None:
        return OFF
    return ExtFeatures(row.forward_always, row.forward_busy, row.forward_no_answer,
                       int(row.no_answer_timeout), bool(row.dnd), row.mobile,
                       int(row.mobile_delay), bool(row.voicemail), row.voicemail_pin_hash,
                       bool(row.remote_answer))


def ext_set(data_dir: Path, args: argparse.Namespace) -> int:
    number = args.number
    open_db(data_dir)
    exts, groups = _lookups()
    if number not in exts:
        raise CliError(f"no extension {number}")
    f = _features(number)
    changes: dict[str, object] = {}
    try:
        for kind, field in (("always", "forward_always"), ("busy", "forward_busy"),
                            ("no_answer", "forward_no_answer")):
            value = getattr(args, f"forward_{kind}")
            if value is not None:
                changes[field] = ("" if value.strip().lower() in OFF_WORDS else
                                  check_target(number, value, exts.__contains__,
                                               groups.__contains__))
        if args.no_answer_timeout is not None:
            changes["no_answer_timeout"] = check_timeout("--no-answer-timeout",
                                                         args.no_answer_timeout)
        if args.dnd is not None:
            changes["dnd"] = args.dnd
        if args.mobile is not None:
            mobile = args.mobile.strip()
            if mobile.lower() in OFF_WORDS:
                changes["mobile"] = ""
            elif OUTSIDE_NUMBER.match(mobile) and mobile not in exts:
                changes["mobile"] = mobile
            else:
                raise FeatureError(f"--mobile {mobile!r}: give the outside number with the "
                                   "trunk prefix 0, as dialled from a phone (013800138000)")
        if args.mobile_delay is not None:
            if not 0 <= args.mobile_delay <= 120:
                raise FeatureError("--mobile-delay must be 0 to 120 seconds")
            changes["mobile_delay"] = args.mobile_delay
        if args.voicemail is not None:
            changes["voicemail"] = args.voicemail
        if args.remote_answer is not None:
            changes["remote_answer"] = args.remote_answer
    except FeatureError as e:
        raise CliError(str(e)) from None
    if args.voicemail_pin_stdin:
        pin = sys.stdin.readline().strip()
        reason = weak_pin_reason(number, pin)
        if reason:
            raise CliError(f"voicemail PIN for {number} refused: {reason}")
        changes["pin_hash"] = hash_pin(pin)
    elif args.no_voicemail_pin:
        changes["pin_hash"] = ""
    if not changes:
        raise CliError("nothing to change: give at least one option (see --help)")
    new = dataclasses.replace(f, **changes)  # type: ignore[arg-type]
    row = dataclasses.asdict(new)
    row["voicemail_pin_hash"] = row.pop("pin_hash")
    ExtensionFeatures.insert(number=number, updated=time.time(), **row).on_conflict(
        conflict_target=[ExtensionFeatures.number],
        preserve=[getattr(ExtensionFeatures, k) for k in (*row, "updated")]).execute()
    print(f"extension {number}: " + _describe(new))
    _reload(data_dir)
    return 0


def _describe(f: ExtFeatures) -> str:
    parts = []
    for label, value in (("forward always", f.forward_always), ("forward busy", f.forward_busy),
                         ("forward no answer", f.forward_no_answer)):
        if value:
            parts.append(f"{label} -> {value}")
    if f.forward_no_answer or f.voicemail:
        parts.append(f"no answer after {f.no_answer_timeout} s")
    if f.dnd:
        parts.append("do not disturb")
    if f.mobile:
        parts.append(f"one-number {f.mobile} after {f.mobile_delay} s")
    if f.voicemail:
        parts.append("voicemail" + (" with PIN" if f.pin_hash else " (no PIN)"))
    if f.remote_answer:
        parts.append("remote answer")
    return ", ".join(parts) or "no features"


def ext_show(data_dir: Path, number: str) -> int:
    open_db(data_dir)
    if Extension.get_or_none(Extension.number == number) is None:
        raise CliError(f"no extension {number}")
    f = _features(number)
    new = (VoicemailMessage.select().where((VoicemailMessage.mailbox == number)
                                           & (VoicemailMessage.folder == "new")).count())
    saved = (VoicemailMessage.select().where((VoicemailMessage.mailbox == number)
                                             & (VoicemailMessage.folder != "new")).count())
    rows = [
        ("forward always", f.forward_always or "off"),
        ("forward busy", f.forward_busy or "off"),
        ("forward no answer", f.forward_no_answer or "off"),
        ("no-answer timeout", f"{f.no_answer_timeout} s"),
        ("do not disturb", "on" if f.dnd else "off"),
        ("one-number mobile", f"{f.mobile} after {f.mobile_delay} s" if f.mobile else "off"),
        ("voicemail", "on" if f.voicemail else "off"),
        ("voicemail PIN", "set" if f.pin_hash else "not set"),
        ("remote answer", "on" if f.remote_answer else "off"),
        ("messages", f"{new} new, {saved} saved"),
    ]
    print(format_table(("extension " + number, ""), rows))
    return 0


# --- ring groups ---------------------------------------------------------------------------
def _parse_members(text: str) -> tuple[GroupMember, ...]:
    out = []
    for item in (p.strip() for p in text.split(",")):
        if not item:
            continue
        ext, _, secs = item.partition(":")
        try:
            timeout = int(secs) if secs else None
        except ValueError:
            raise CliError(f"--members: {item!r} is not EXT or EXT:SECONDS") from None
        out.append(GroupMember(ext.strip(), timeout))
    return tuple(out)


def _group_info(row: RingGroup) -> RingGroupInfo:
    members = tuple(GroupMember(m.extension, m.timeout) for m in RingGroupMember.select()
                    .where(RingGroupMember.group == row.id)
                    .order_by(RingGroupMember.position))
    return RingGroupInfo(row.number, row.name, row.strategy, int(row.ring_timeout),
                         row.fallback, members, bool(row.enabled))


def group_save(data_dir: Path, args: argparse.Namespace, create: bool) -> int:
    db = open_db(data_dir)
    exts, groups = _lookups()
    row = RingGroup.get_or_none(RingGroup.number == args.number)
    if create and row is not None:
        raise CliError(f"ring group {args.number} already exists")
    if not create and row is None:
        raise CliError(f"no ring group {args.number}")
    if args.number in exts:
        raise CliError(f"{args.number} is an extension")
    old = _group_info(row) if row is not None else RingGroupInfo(args.number)
    changes: dict[str, object] = {}
    for field in ("name", "strategy", "ring_timeout", "enabled"):
        value = getattr(args, field)
        if value is not None:
            changes[field] = value
    if args.members is not None:
        changes["members"] = _parse_members(args.members)
    if args.fallback is not None:
        changes["fallback"] = "" if args.fallback.lower() in OFF_WORDS else args.fallback.strip()
    new = dataclasses.replace(old, **changes)  # type: ignore[arg-type]
    if create and not new.members:
        raise CliError("a ring group needs --members")
    try:
        check_group(new, exts.__contains__, (groups | {new.number}).__contains__)
    except FeatureError as e:
        raise CliError(str(e)) from None
    # through the site configuration: the whole site is checked (a DID's group:NUMBER,
    # an IVR transfer) and written in one transaction (decision 0021)
    item = {"number": new.number, "name": new.name, "strategy": new.strategy,
            "ring_timeout": new.ring_timeout, "fallback": new.fallback or None,
            "enabled": new.enabled,
            "members": [{"extension": m.extension, "timeout": m.timeout}
                        for m in new.members]}
    _site_change(data_dir, db, lambda svc: svc.upsert("ring_groups", item))
    print(f"ring group {new.number} {'added' if create else 'changed'}: {_group_line(new)}")
    _reload(data_dir)
    return 0


def _group_line(g: RingGroupInfo) -> str:
    members = ",".join(m.extension + (f":{m.timeout}" if m.timeout else "") for m in g.members)
    fb = f", then {g.fallback}" if g.fallback else ""
    off = "" if g.enabled else " (disabled)"
    return f"{g.strategy} {members}, {g.ring_timeout} s{fb}{off}"


def group_list(data_dir: Path) -> int:
    open_db(data_dir)
    rows = [(g.number, g.name, g.strategy, str(g.ring_timeout),
             ",".join(m.extension + (f":{m.timeout}" if m.timeout else "")
                      for m in _group_info(g).members),
             g.fallback or "-", "yes" if g.enabled else "no")
            for g in RingGroup.select().order_by(RingGroup.number)]
    if not rows:
        print("no ring groups")
        return 0
    print(format_table(("number", "name", "strategy", "timeout", "members", "fallback",
                        "enabled"), rows))
    return 0


def group_delete(data_dir: Path, number: str) -> int:
    db = open_db(data_dir)
    if RingGroup.get_or_none(RingGroup.number == number) is None:
        raise CliError(f"no ring group {number}")
    _site_change(data_dir, db, lambda svc: svc.remove("ring_groups", number),
                 f"cannot delete ring group {number}")
    print(f"ring group {number} deleted")
    _reload(data_dir)
    return 0


def _site_change(data_dir: Path, db: peewee.Database, change: Any,
                 refused: str = "refused") -> None:
    from firmware.siteconfig import SiteInvalid, SiteService

    try:
        change(SiteService(data_dir, db, notify=lambda _d: None))
    except SiteInvalid as e:
        raise CliError(f"{refused}: " + "; ".join(str(err) for err in e.errors)) from None


def dispatch(args: argparse.Namespace, data_dir: Path) -> int | None:
    """Our commands; None when `args` is someone else's."""
    if args.command == "ext" and args.ext_command == "set":
        return ext_set(data_dir, args)
    if args.command == "ext" and args.ext_command == "show":
        return ext_show(data_dir, args.number)
    if args.command == "group":
        cmd = args.group_command
        if cmd in ("add", "set"):
            return group_save(data_dir, args, create=cmd == "add")
        if cmd == "list":
            return group_list(data_dir)
        return group_delete(data_dir, args.number)
    return None


def _reload(data_dir: Path) -> None:
    note = tell_switchd_reload(data_dir)
    if note:
        print(note)
