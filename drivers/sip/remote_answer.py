"""Answering a desk phone from the box (sans-I/O): the requests only, no sockets.

Two conventions most desk phones share (BroadSoft's remote call control, followed by
Yealink, Polycom and Grandstream):
- a phone that already rings answers when it gets an out-of-dialog NOTIFY with
  `Event: talk` (empty body) naming the ringing call's parties; it then sends its 200 to
  the INVITE as if the user had picked up;
- a phone picks up an INVITE by itself when it carries
  `Call-Info: <sip:BOX>;answer-after=0` (the box's own calls to it: click to dial).
Neither is safe for every phone (an unknown one ignores it or rejects the NOTIFY), so
the switch uses them only for extensions an admin marked as able to.
"""

from __future__ import annotations

import secrets

from drivers.sip.addr import Address
from drivers.sip.message import Headers, Request
from drivers.sip.subscribe import Local
from drivers.sip.transaction import new_branch

TALK_EVENT = "talk"


def talk_notify(target: str, from_uri: str, to_uri: str, dest: Address,
                local: Local) -> Request:
    """The NOTIFY that makes a ringing phone answer.

    `target`: the phone's contact (Request-URI); `from_uri`/`to_uri`: the ringing
    INVITE's From (the caller shown) and To (the phone), as name-addrs without tags. Out
    of dialog: a Call-ID and From tag of its own, no To tag."""
    h = Headers()
    h.add("via", local.via(dest, new_branch()))
    h.add("max-forwards", "70")
    h.add("from", f"{from_uri};tag={secrets.token_hex(6)}")
    h.add("to", to_uri)
    h.add("call-id", secrets.token_hex(12))
    h.add("cseq", f"{secrets.randbelow(10000) + 1} NOTIFY")
    h.add("contact", local.contact(dest))
    h.add("event", TALK_EVENT)
    h.add("subscription-state", "active")  # as the unsolicited MWI phones take
    h.add("user-agent", local.user_agent)
    return Request("NOTIFY", target, h, b"")


def auto_answer_header(host: str) -> tuple[str, str]:
    """The header that makes a phone pick up the box's INVITE at once."""
    return "call-info", f"<sip:{host}>;answer-after=0"
