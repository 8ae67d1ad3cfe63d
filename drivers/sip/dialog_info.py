"""RFC 4235 dialog-info bodies (`application/dialog-info+xml`), what BLF lamps read.

A lamp is off when the entity has no dialog (or only terminated ones), flashes for an
`early` dialog in which it is the `recipient` (ringing: pick it up), and is lit for
`confirmed` (on a call) and for the other live states. We always send the full state
(`state="full"`): a subscriber that missed a NOTIFY is right again with the next one.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

NS = "urn:ietf:params:xml:ns:dialog-info"
CONTENT_TYPE = "application/dialog-info+xml"
STATES = ("trying", "proceeding", "early", "confirmed", "terminated")


@dataclass(frozen=True)
class DialogView:
    """One dialog of the watched entity, as the body reports it."""

    id: str
    state: str  # one of STATES
    direction: str  # "initiator" (the entity called) or "recipient" (it is called)
    call_id: str = ""
    local_tag: str = ""
    remote_tag: str = ""
    remote_identity: str = ""  # sip:9001@host
    remote_display: str = ""
    event: str = ""  # for terminated: cancelled, rejected, local-bye, remote-bye, ...


def render(entity: str, version: int, dialogs: list[DialogView]) -> bytes:
    return document(entity, version, dialogs_xml(entity, dialogs))


def document(entity: str, version: int, inner: str) -> bytes:
    """The body around `inner` (from `dialogs_xml`): only the version differs between
    the subscribers of one entity, so a lamp change renders its dialogs once."""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\r\n<dialog-info xmlns="{NS}" '
            f'version="{version}" state="full" entity={quoteattr(entity)}>\r\n'
            f"{inner}</dialog-info>\r\n").encode()


def dialogs_xml(entity: str, dialogs: list[DialogView]) -> str:
    lines: list[str] = []
    for d in dialogs:
        if d.state not in STATES:
            raise ValueError(f"dialog state {d.state!r} is not one of {STATES}")
        attrs = f"id={quoteattr(d.id)}"
        if d.call_id:
            attrs += f" call-id={quoteattr(d.call_id)}"
        if d.local_tag:
            attrs += f" local-tag={quoteattr(d.local_tag)}"
        if d.remote_tag:
            attrs += f" remote-tag={quoteattr(d.remote_tag)}"
        attrs += f" direction={quoteattr(d.direction)}"
        lines.append(f"  <dialog {attrs}>")
        event = f" event={quoteattr(d.event)}" if d.event and d.state == "terminated" else ""
        lines.append(f"    <state{event}>{d.state}</state>")
        lines.append(f"    <local><identity>{escape(entity)}</identity></local>")
        if d.remote_identity:
            display = f" display={quoteattr(d.remote_display)}" if d.remote_display else ""
            lines.append(f"    <remote><identity{display}>{escape(d.remote_identity)}"
                         "</identity></remote>")
        lines.append("  </dialog>")
    return "".join(line + "\r\n" for line in lines)


@dataclass(frozen=True)
class ParsedDialogInfo:
    entity: str
    version: int
    state: str
    dialogs: dict[str, tuple[str, str]]  # id -> (state, direction)


def parse(body: bytes) -> ParsedDialogInfo:
    """The inverse of `render`, for tests and for watching other notifiers."""
    root = ET.fromstring(body)
    if root.tag != f"{{{NS}}}dialog-info":
        raise ValueError(f"not a dialog-info document: {root.tag}")
    dialogs = {}
    for d in root.findall(f"{{{NS}}}dialog"):
        st = d.find(f"{{{NS}}}state")
        dialogs[d.get("id", "")] = ((st.text or "").strip() if st is not None else "",
                                    d.get("direction", ""))
    return ParsedDialogInfo(root.get("entity", ""), int(root.get("version", "-1")),
                            root.get("state", ""), dialogs)
