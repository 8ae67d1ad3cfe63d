"""PIDF presence bodies (RFC 3863, `application/pidf+xml`) for agent state.

`basic` is `open` when the agent can take a call (logged in and ready), `closed`
otherwise; `note` carries the ACD state as words a phone can show ("ready",
"not-ready: break", "on-call", "logged-out").
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

NS = "urn:ietf:params:xml:ns:pidf"
CONTENT_TYPE = "application/pidf+xml"


def render(entity: str, open_: bool, note: str) -> bytes:
    basic = "open" if open_ else "closed"
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\r\n'
        f'<presence xmlns="{NS}" entity={quoteattr(entity)}>\r\n'
        '  <tuple id="acd">\r\n'
        f"    <status><basic>{basic}</basic></status>\r\n"
        f"    <note>{escape(note)}</note>\r\n"
        "  </tuple>\r\n"
        "</presence>\r\n"
    )
    return text.encode("utf-8")


def parse(body: bytes) -> tuple[str, bool, str]:
    """(entity, open, note)."""
    root = ET.fromstring(body)
    basic = root.find(f"{{{NS}}}tuple/{{{NS}}}status/{{{NS}}}basic")
    note = root.find(f"{{{NS}}}tuple/{{{NS}}}note")
    return (root.get("entity", ""), basic is not None and (basic.text or "") == "open",
            (note.text or "") if note is not None else "")
