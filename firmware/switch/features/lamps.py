"""The lamps of the phones: BLF (dialog package), message waiting (message-summary) and
agent presence (PIDF), as event packages for the SIP event server.

Device state comes from the SIP legs themselves (every leg to or from an extension,
whatever created it: a direct call, an ACD offer, a feature code, voicemail), so a lamp
shows what the phone really does. Changes are noted synchronously and told to the
subscribers from the event loop right after, one NOTIFY per burst; a dialog that ended
is reported `terminated` in that NOTIFY and forgotten afterwards.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from drivers.sip import dialog_info, message_summary, pidf
from drivers.sip.subscribe import EventPackage, Subscription
from drivers.sip.uri import parse_name_addr
from firmware.acd import AcdError
from firmware.switch.channel import Channel, ChannelState, Direction
from firmware.switch.features.mailboxes import VoicemailStore

if TYPE_CHECKING:
    from drivers.sip.endpoint import SipEndpoint
    from drivers.sip.event_server import SipEventServer
    from firmware.switch.acd_call import AcdService

log = logging.getLogger(__name__)

DIALOG = "dialog"
MWI = "message-summary"
PRESENCE = "presence"
# Lamps must heal after a switchd restart (subscriptions live in memory): the phones
# refresh within this.
BLF_MAX_EXPIRES = 600
MWI_MAX_EXPIRES = 3600

_STATE = {
    ChannelState.OFFERED: "trying",
    ChannelState.DIALING: "trying",
    ChannelState.RINGING: "early",
    ChannelState.EARLY: "early",
    ChannelState.UP: "confirmed",
    ChannelState.ENDED: "terminated",
}


def _host_of(uri: str) -> str:
    try:
        return parse_name_addr(uri).sip_uri.host
    except ValueError:
        return "ccbox"


class Lamps:
    def __init__(self, is_extension: Callable[[str], bool], voicemail: VoicemailStore,
                 voicemail_on: Callable[[str], bool],
                 acd: Callable[[], AcdService | None] = lambda: None) -> None:
        self.is_extension = is_extension
        self.voicemail = voicemail
        self.voicemail_on = voicemail_on
        self.acd = acd  # the ACD in force (a site reload may replace it)
        self.events: SipEventServer | None = None
        self.endpoint: SipEndpoint | None = None
        self.loop = asyncio.get_running_loop()
        self._dialogs: dict[str, dict[str, dialog_info.DialogView]] = {}
        self._dirty: set[str] = set()
        self._flush_pending = False
        self._agent_device: dict[str, str] = {}
        self._xml: dict[tuple[str, str], str] = {}  # (ext, entity) -> its dialogs, rendered

    def packages(self) -> dict[str, EventPackage]:
        return {
            DIALOG: EventPackage(DIALOG, dialog_info.CONTENT_TYPE, BLF_MAX_EXPIRES,
                                 BLF_MAX_EXPIRES, self._resolve_extension, self._render_dialog),
            MWI: EventPackage(MWI, message_summary.CONTENT_TYPE, MWI_MAX_EXPIRES,
                              MWI_MAX_EXPIRES, self._resolve_mailbox, self._render_mwi),
            PRESENCE: EventPackage(PRESENCE, pidf.CONTENT_TYPE, BLF_MAX_EXPIRES,
                                   BLF_MAX_EXPIRES, self._resolve_presence,
                                   self._render_presence),
        }

    # --- BLF: device state of the extensions ----------------------------------------
    def channel_changed(self, ch: Channel) -> None:
        """A SIP leg was created or changed state (called synchronously: note only)."""
        ext = ch.peer_name
        if ch.tech != "sip" or not ext:
            return
        views = self._dialogs.setdefault(ext, {})
        # the phone's view: it initiated a leg it sent to us, it receives ours
        direction = "initiator" if ch.direction is Direction.INBOUND else "recipient"
        remote = ch.called if ch.direction is Direction.INBOUND else ch.caller.number
        views[ch.id] = dialog_info.DialogView(
            id=ch.id, state=_STATE[ch.state], direction=direction,
            call_id=getattr(ch, "call_id", ""), local_tag=getattr(ch, "remote_tag", "") or "",
            remote_tag=getattr(ch, "local_tag", ""), remote_identity=remote,
            remote_display=ch.caller.name if ch.direction is Direction.OUTBOUND else "")
        self._mark(ext)

    def dialogs(self, ext: str) -> list[dialog_info.DialogView]:
        return list(self._dialogs.get(ext, {}).values())

    def _mark(self, ext: str) -> None:
        self._dirty.add(ext)
        for key in [k for k in self._xml if k[0] == ext]:
            del self._xml[key]
        if not self._flush_pending:
            self._flush_pending = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_pending = False
        dirty, self._dirty = self._dirty, set()
        for ext in dirty:
            if self.events is not None:
                self.events.changed(DIALOG, ext)
            views = self._dialogs.get(ext, {})
            for key in [k for k, v in views.items() if v.state == "terminated"]:
                del views[key]
            if not views:
                self._dialogs.pop(ext, None)
            for cached in [k for k in self._xml if k[0] == ext]:
                del self._xml[cached]

    def _resolve_extension(self, subscriber: str, requested: str) -> str | int:
        return requested if self.is_extension(requested) else 404

    def _render_dialog(self, sub: Subscription) -> bytes:
        host = _host_of(sub.local_uri)
        entity = f"sip:{sub.resource}@{host}"
        inner = self._xml.get((sub.resource, entity))
        if inner is None:
            views = [
                v if not v.remote_identity or v.remote_identity.startswith("sip:")
                else _with_identity(v, f"sip:{v.remote_identity}@{host}")
                for v in self.dialogs(sub.resource)
            ]
            inner = self._xml[(sub.resource, entity)] = dialog_info.dialogs_xml(entity, views)
        return dialog_info.document(entity, sub.next_version(), inner)

    # --- message waiting --------------------------------------------------------------
    def _resolve_mailbox(self, subscriber: str, requested: str) -> str | int:
        # a phone subscribes to its own AOR or to a voicemail number: its own mailbox;
        # another extension's mailbox is that user's business
        if requested == subscriber or not self.is_extension(requested):
            return subscriber
        return 403

    def _summary(self, box: str, host: str) -> message_summary.Summary:
        new, saved = self.voicemail.counts(box)
        return message_summary.Summary(new, saved, account=f"sip:{box}@{host}")

    def _render_mwi(self, sub: Subscription) -> bytes:
        return message_summary.render(self._summary(sub.resource, _host_of(sub.local_uri)))

    def mailbox_changed(self, box: str) -> None:
        """Counts of `box` changed: subscribers, else the phone's contacts unsolicited."""
        events = self.events
        if events is None:
            return
        if events.watched(MWI, box):
            events.changed(MWI, box)
        else:
            self._unsolicited(box)

    def registered(self, box: str, contact: str) -> None:
        """A phone (re-)registered: set its lamp, unless it subscribes for itself."""
        events = self.events
        if events is None or events.watched(MWI, box):
            return
        if not self.voicemail_on(box) and self.voicemail.counts(box) == (0, 0):
            return
        self._unsolicited(box, only=contact)

    def _unsolicited(self, box: str, only: str | None = None) -> None:
        events, ep = self.events, self.endpoint
        if events is None or ep is None:
            return
        for b in ep.location.lookup(box, time.time()):
            if only is not None and b.contact != only:
                continue
            host = ep.local_host_for(b.source.host)
            body = message_summary.render(self._summary(box, host))
            events.send_unsolicited(MWI, body, box, b.contact, b.source)

    # --- agent presence ----------------------------------------------------------------
    def _agent_of(self, number: str) -> str | None:
        acd = self.acd()
        if acd is None:
            return None
        agents = {a.id for a in acd.engine.config.agents}
        if number in agents:
            return number
        for agent in agents:
            if acd.engine.agent_status(agent).device == number:
                return agent
        return None

    def _resolve_presence(self, subscriber: str, requested: str) -> str | int:
        if self._agent_of(requested) is not None or self.is_extension(requested):
            return requested
        return 404

    def _render_presence(self, sub: Subscription) -> bytes:
        entity = f"sip:{sub.resource}@{_host_of(sub.local_uri)}"
        agent = self._agent_of(sub.resource)
        acd = self.acd()
        if agent is None or acd is None:
            return pidf.render(entity, False, "no agent")
        st = acd.engine.agent_status(agent)
        state = str(getattr(st.state, "value", st.state))
        note = f"{state}: {st.reason}" if st.reason and state == "not-ready" else state
        return pidf.render(entity, state == "ready", note)

    def agent_changed(self, agent: str) -> None:
        events, acd = self.events, self.acd()
        if events is None or acd is None:
            return
        try:
            device = acd.engine.agent_status(agent).device
        except AcdError:
            return
        if device:
            self._agent_device[agent] = device
        for resource in {agent, self._agent_device.get(agent, agent)}:
            events.changed(PRESENCE, resource)


def _with_identity(v: dialog_info.DialogView, identity: str) -> dialog_info.DialogView:
    return dataclasses.replace(v, remote_identity=identity)
