"""`SipChannel`: one B2BUA leg — a SIP dialog (UAS for inbound, UAC for outbound) plus
the RTP leg the box anchors for it. It turns SIP into `ChannelListener` callbacks and the
switch's commands into SIP.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING
from urllib.parse import unquote

from drivers.sip.addr import Address
from drivers.sip.message import Headers, Request, Response, make_response, sibling_request
from drivers.sip.sdp import AudioOffer, SdpError, build_sdp, parse_sdp, reverse_direction
from drivers.sip.transaction import (
    ClientTransaction,
    ServerTransaction,
    State,
    new_branch,
)
from drivers.sip.uri import parse_name_addr, tag_of
from firmware.media.codecs import Codec
from firmware.switch.causes import Cause, cause_from_sip, sip_from_cause
from firmware.switch.channel import Channel, ChannelState, Direction, Party

if TYPE_CHECKING:
    from drivers.sip.endpoint import SipEndpoint
    from firmware.media.engine import RtpLeg
    from firmware.media.leg import MediaLeg

log = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, NOTIFY"


class SipChannel(Channel):
    tech = "sip"

    def __init__(
        self,
        ep: SipEndpoint,
        direction: Direction,
        caller: Party,
        called: str,
        *,
        call_id: str,
        dest: Address,
        local_host: str,
    ) -> None:
        super().__init__(direction, caller, called)
        self.ep = ep
        self.call_id = call_id
        self.dest = dest  # where requests of this dialog go (the phone's real address)
        self.local_host = local_host
        self.local_tag = secrets.token_hex(6)
        self.remote_tag: str | None = None
        self.local_uri = ""
        self.remote_uri = ""
        self.remote_target = ""
        self.route_set: list[str] = []
        # headers the switch adds to our first INVITE (Call-Info answer-after: remote answer)
        self.invite_headers: list[tuple[str, str]] = []
        self.local_cseq = secrets.randbelow(10000) + 1
        self.leg: RtpLeg | None = None
        self.codec: tuple[Codec, int] | None = None
        self.dtmf_pt: int | None = None
        self.remote_held = False  # the remote party put the call on hold
        self.held_by_peer = False  # the switch told us the other party holds
        self.invite_txn: ServerTransaction | None = None  # inbound INVITE
        self.invite_ctxn: ClientTransaction | None = None  # outbound INVITE
        self.reinvite: ClientTransaction | None = None
        self._cancel_pending = False
        self._sdp_version = 1
        self._sdp_session = secrets.randbelow(2**31)
        self.dialog_key: tuple[str, str] = (call_id, self.local_tag)

    @property
    def media(self) -> MediaLeg | None:
        return self.leg

    # Media -------------------------------------------------------------------------------
    def attach_media(self, leg: RtpLeg) -> None:
        self.leg = leg
        leg.on_dtmf = self._dtmf

    def _dtmf(self, digit: str) -> None:
        if self.listener and not self.ended:
            self.listener.channel_dtmf(self, digit)

    def apply_remote_sdp(self, offer: AudioOffer, choose: bool) -> bool:
        """Take the remote's SDP. With `choose`, pick our codec from it (we are answering)."""
        if choose or self.codec is None:
            codecs = offer.codecs()
            if self.codec is not None:
                # keep the codec of the call when the remote still offers it
                same = [c for c in codecs if c[0] is self.codec[0]]
                codecs = same or codecs
            if not codecs:
                return False
            self.codec = codecs[0]
        self.dtmf_pt = offer.dtmf_pt()
        if self.leg is not None and self.codec is not None:
            self.leg.set_codec(self.codec[0], self.codec[1], self.dtmf_pt)
            self.leg.set_direction(offer.direction if offer.host not in ("0.0.0.0", "::")
                                   else "inactive")
            if offer.port and offer.host not in ("0.0.0.0", "::"):
                self.leg.set_remote(offer.host, offer.port)
        self.remote_held = offer.on_hold
        return True

    def local_sdp(self, direction: str = "sendrecv", offer_codecs: list[Codec] | None = None
                  ) -> bytes:
        assert self.leg is not None
        if offer_codecs is not None:
            codecs = [(c, c.payload_type) for c in offer_codecs]
        else:
            assert self.codec is not None
            codecs = [self.codec]
        self._sdp_version += 1
        return build_sdp(self.local_host, self.leg.local_port, codecs,
                         101 if offer_codecs is not None or self.dtmf_pt is None
                         else self.dtmf_pt,
                         direction, self._sdp_session, self._sdp_version)

    def _our_direction(self) -> str:
        if self.held_by_peer and self.remote_held:
            return "inactive"
        if self.held_by_peer:
            return "sendonly"
        if self.remote_held:
            return "recvonly"
        return "sendrecv"

    # Requests in this dialog ---------------------------------------------------------------
    def new_request(self, method: str, body: bytes = b"", ctype: str = "") -> Request:
        if method not in ("ACK", "CANCEL"):
            self.local_cseq += 1
        h = Headers()
        h.add("via", self.ep.via(self.dest, new_branch()))
        for r in self.route_set:
            h.add("route", r)
        h.add("max-forwards", "70")
        h.add("from", f"{self.local_uri};tag={self.local_tag}")
        to = self.remote_uri + (f";tag={self.remote_tag}" if self.remote_tag else "")
        h.add("to", to)
        h.add("call-id", self.call_id)
        h.add("cseq", f"{self.local_cseq} {method}")
        if method in ("INVITE", "UPDATE"):
            h.add("contact", self.ep.contact(self.dest))
            h.add("allow", ALLOW)
        h.add("user-agent", self.ep.user_agent)
        if body:
            h.add("content-type", ctype)
        return Request(method, self.remote_target or self.remote_uri.strip("<>"), h, body)

    # Commands from the switch ---------------------------------------------------------------
    def ring(self) -> None:
        if self.invite_txn is None or self.state not in (ChannelState.OFFERED,):
            return
        self.state = ChannelState.RINGING
        self._respond_invite(180)

    def progress(self) -> None:
        if self.invite_txn is None or self.state not in (ChannelState.OFFERED,
                                                         ChannelState.RINGING):
            return
        self.state = ChannelState.EARLY
        self._respond_invite(183, self.local_sdp(self._our_direction()))

    def answer(self) -> None:
        if self.invite_txn is None or self.state in (ChannelState.UP, ChannelState.ENDED):
            return
        self.state = ChannelState.UP
        self._respond_invite(200, self.local_sdp(self._our_direction()))

    def _respond_invite(self, status: int, sdp: bytes = b"", reason: str | None = None) -> None:
        assert self.invite_txn is not None
        resp = make_response(self.invite_txn.request, status, reason, self.local_tag)
        if status < 300:
            resp.headers.add("contact", self.ep.contact(self.dest))
            resp.headers.add("allow", ALLOW)
        resp.headers.add("server", self.ep.user_agent)
        if sdp:
            resp.headers.add("content-type", "application/sdp")
            resp.body = sdp
        self.ep.respond(self.invite_txn, resp)

    def hangup(self, cause: Cause) -> None:
        if self.state is ChannelState.ENDED:
            return
        prev = self.state
        self.state = ChannelState.ENDED
        if self.direction is Direction.INBOUND and prev is not ChannelState.UP:
            status, reason = sip_from_cause(cause)
            if self.invite_txn is not None:
                self._respond_invite(status, reason=reason)
        elif prev is ChannelState.UP:
            self.ep.send_in_dialog(self, self.new_request("BYE"))
        elif self.direction is Direction.OUTBOUND:
            self._cancel()
        self._release()
        self._detach()

    def _cancel(self) -> None:
        ctxn = self.invite_ctxn
        if ctxn is None:
            return  # INVITE not sent yet: nothing on the wire to undo
        if ctxn.state is not State.PROCEEDING:
            self._cancel_pending = True  # RFC 3261 9.1: wait for a provisional response
            return
        self.ep.send_request(sibling_request(ctxn.request, "CANCEL"), self.dest, None)

    def hold(self, held: bool) -> None:
        if self.held_by_peer == held:
            return
        self.held_by_peer = held
        if self.state is not ChannelState.UP or self.leg is None:
            return
        self._send_reinvite()

    def _send_reinvite(self) -> None:
        if self.reinvite is not None and self.reinvite.state in (State.CALLING,
                                                                 State.PROCEEDING):
            return  # one offer at a time (RFC 3261 14.1); re-sent when this one ends
        req = self.new_request("INVITE", self.local_sdp(self._our_direction()),
                               "application/sdp")
        self.reinvite = self.ep.send_request(req, self.dest, self)

    def _release(self) -> None:
        if self.leg is not None:
            self.leg.close()
        self.ep.forget(self)

    # Outbound INVITE -------------------------------------------------------------------------
    def send_invite(self, codecs: list[Codec]) -> None:
        if self.ended:
            self._release()
            return
        body = self.local_sdp("sendrecv", offer_codecs=codecs)
        req = self.new_request("INVITE", body, "application/sdp")
        for name, value in self.invite_headers:
            req.headers.add(name, value)
        self.invite_ctxn = self.ep.send_request(req, self.dest, self)

    def on_response(self, resp: Response, txn: ClientTransaction) -> None:
        method = txn.request.method
        if txn is self.reinvite or (method == "INVITE" and txn is not self.invite_ctxn):
            self._reinvite_response(resp, txn)
            return
        if method != "INVITE":
            return  # BYE/CANCEL/INFO answers need nothing more
        status = resp.status
        if status == 100:
            return
        to_tag = tag_of(resp.headers.get("to"))
        if status < 200:
            if self._cancel_pending and self.ended:
                self._cancel_pending = False
                self._cancel()
                return
            if self.ended:
                return
            self.remote_tag = to_tag or self.remote_tag
            if resp.body and self._take_answer(resp.body):
                self.state = ChannelState.EARLY
                if self.listener:
                    self.listener.channel_progress(self)
            elif self.state is ChannelState.DIALING:
                self.state = ChannelState.RINGING
                if self.listener:
                    self.listener.channel_ringing(self)
            return
        if status < 300:
            first = self.remote_tag is None or self.state is not ChannelState.UP
            self.remote_tag = to_tag
            contact = resp.headers.get("contact")
            if contact:
                try:
                    self.remote_target = str(parse_name_addr(contact).uri)
                except ValueError:
                    pass
            self.route_set = list(reversed(resp.headers.get_all("record-route")))
            self.dialog_key = (self.call_id, self.local_tag)
            self._send_ack(txn)
            if self.ended:
                # answered after we gave up (CANCEL crossed the 200): end it properly
                self.ep.send_in_dialog(self, self.new_request("BYE"))
                return
            if first and self.state is not ChannelState.UP:
                if resp.body and not self._take_answer(resp.body):
                    log.warning("%s: unusable SDP answer, hanging up", self)
                    self.ep.send_in_dialog(self, self.new_request("BYE"))
                    self._ended_by_remote(Cause.INCOMPATIBLE_DESTINATION)
                    return
                self.state = ChannelState.UP
                if self.listener:
                    self.listener.channel_answered(self)
            return
        if self.ended:
            self._release()
            return
        self._ended_by_remote(cause_from_sip(status))

    def _take_answer(self, body: bytes) -> bool:
        try:
            offer = parse_sdp(body)
        except SdpError as e:
            log.warning("%s: bad SDP: %s", self, e)
            return False
        return self.apply_remote_sdp(offer, choose=False)

    def _send_ack(self, txn: ClientTransaction) -> None:
        num = txn.request.cseq[0]
        ack = self.new_request("ACK")
        ack.headers.set("cseq", f"{num} ACK")
        self.ep.send_stateless(ack, self.dest)

    def _reinvite_response(self, resp: Response, txn: ClientTransaction) -> None:
        if resp.status < 200:
            return
        if resp.status < 300:
            self._send_ack(txn)
            if resp.body:
                self._take_answer(resp.body)
        if txn is self.reinvite:
            self.reinvite = None
            # the hold state may have changed while that offer was out
            if self.state is ChannelState.UP and resp.status < 300:
                want = self._our_direction()
                sent = _direction_of(txn.request.body)
                if sent != want:
                    self._send_reinvite()

    def on_timeout(self, txn: ClientTransaction) -> None:
        if txn is self.invite_ctxn and not self.ended:
            self._ended_by_remote(Cause.RECOVERY_ON_TIMER_EXPIRE)
        elif txn.request.method == "BYE":
            log.info("%s: BYE not answered", self)

    def _ended_by_remote(self, cause: Cause) -> None:
        if self.state is ChannelState.ENDED:
            return
        self.state = ChannelState.ENDED
        self._release()
        if self.listener:
            self.listener.channel_hungup(self, cause)
        self._detach()

    def _detach(self) -> None:
        # The endpoint keeps an ended dialog for 32 s to answer late retransmissions; it
        # must not keep the call with it (its other legs, bridge, recorder, hunt...):
        # at 100 calls/s that was 3 000 dead calls in the heap and garbage collections
        # that paused switchd for 200 ms.
        self.listener = None
        self.leg = None

    # Requests from the remote ---------------------------------------------------------------
    def on_request(self, req: Request, txn: ServerTransaction) -> None:
        m = req.method
        if m == "BYE":
            self.ep.respond(txn, make_response(req, 200, None, self.local_tag))
            self._ended_by_remote(Cause.NORMAL_CLEARING)
        elif m == "INVITE":
            self._on_reinvite(req, txn)
        elif m == "INFO":
            self.ep.respond(txn, make_response(req, 200, None, self.local_tag))
            digit = _info_digit(req)
            if digit and self.listener:
                self.listener.channel_dtmf(self, digit)
        elif m == "REFER":
            self._on_refer(req, txn)
        elif m == "NOTIFY":
            # progress of a REFER we sent (none yet) or an unsolicited one: accept it
            self.ep.respond(txn, make_response(req, 200, None, self.local_tag))
        elif m in ("OPTIONS", "UPDATE") and not req.body:
            self.ep.respond(txn, make_response(req, 200, None, self.local_tag))
        else:
            resp = make_response(req, 501, None, self.local_tag)
            resp.headers.add("allow", ALLOW)
            self.ep.respond(txn, resp)

    # REFER (RFC 3515) -----------------------------------------------------------------
    def _on_refer(self, req: Request, txn: ServerTransaction) -> None:
        """Transfer requested by the phone: Refer-To names the target; with Replaces
        (RFC 3891) it names one of our other dialogs (attended transfer)."""
        refer_to = req.headers.get("refer-to")
        refer = getattr(self.listener, "channel_refer", None)
        if self.state is not ChannelState.UP or refer is None:
            self.ep.respond(txn, make_response(req, 603, "Decline (no call to transfer)",
                                               self.local_tag))
            return
        try:
            if not refer_to:
                raise ValueError("no Refer-To")
            uri = parse_name_addr(refer_to).sip_uri
            target = uri.user_unescaped
            replaces = _replaces_of(uri.headers)
        except ValueError as e:
            self.ep.respond(txn, make_response(req, 400, f"Bad Request ({e})",
                                               self.local_tag))
            return
        other = None
        if replaces is not None:
            other = self.ep.find_dialog(*replaces)
            if other is None:
                self.ep.respond(txn, make_response(
                    req, 481, "Call/Transaction Does Not Exist (Replaces)", self.local_tag))
                return
        self.ep.respond(txn, make_response(req, 202, None, self.local_tag))
        self.refer_notify(100, "Trying", final=False)
        error = refer(self, target, other)
        if error:
            log.info("%s: REFER to %s refused: %s", self, target, error)
            self.refer_notify(603, "Declined", final=True)
        # success: call control sends the final NOTIFY before it releases this leg

    def refer_notify(self, status: int, reason: str, *, final: bool) -> None:
        """A NOTIFY of the implicit `refer` subscription with a sipfrag status line."""
        if self.state is not ChannelState.UP:
            return
        req = self.new_request("NOTIFY", f"SIP/2.0 {status} {reason}\r\n".encode(),
                               "message/sipfrag;version=2.0")
        req.headers.add("event", "refer")
        req.headers.add("subscription-state",
                        "terminated;reason=noresource" if final else "active;expires=60")
        req.headers.add("contact", self.ep.contact(self.dest))
        self.ep.send_in_dialog(self, req)

    def _on_reinvite(self, req: Request, txn: ServerTransaction) -> None:
        if self.state is not ChannelState.UP:
            self.ep.respond(txn, make_response(req, 491, None, self.local_tag))
            return
        if self.reinvite is not None and self.reinvite.state in (State.CALLING,
                                                                 State.PROCEEDING):
            self.ep.respond(txn, make_response(req, 491, None, self.local_tag))
            return
        was_held = self.remote_held
        if req.body:
            try:
                offer = parse_sdp(req.body)
            except SdpError as e:
                self.ep.respond(txn, make_response(req, 488, f"Not Acceptable Here ({e})",
                                                   self.local_tag))
                return
            if not self.apply_remote_sdp(offer, choose=True):
                self.ep.respond(txn, make_response(req, 488, None, self.local_tag))
                return
        contact = req.headers.get("contact")
        if contact:
            try:
                self.remote_target = str(parse_name_addr(contact).uri)
            except ValueError:
                pass
        resp = make_response(req, 200, None, self.local_tag)
        resp.headers.add("contact", self.ep.contact(self.dest))
        resp.headers.add("content-type", "application/sdp")
        resp.body = self.local_sdp(self._our_direction())
        self.ep.respond(txn, resp)
        if was_held != self.remote_held and self.listener:
            self.listener.channel_hold(self, self.remote_held)

    def on_ack(self, req: Request) -> None:
        pass  # the layer stopped retransmitting our 2xx; nothing else to do

    def on_ack_timeout(self) -> None:
        log.warning("%s: no ACK for our 200 OK, ending the call", self)
        if not self.ended:
            self.ep.send_in_dialog(self, self.new_request("BYE"))
            self._ended_by_remote(Cause.RECOVERY_ON_TIMER_EXPIRE)

    def on_cancel(self) -> None:
        if self.state in (ChannelState.UP, ChannelState.ENDED):
            return
        self._respond_invite(487)
        self._ended_by_remote(Cause.ORIGINATOR_CANCEL)


def _replaces_of(headers: str) -> tuple[str, str, str] | None:
    """(call-id, to-tag, from-tag) from a Refer-To URI's `?Replaces=...` header."""
    if not headers:
        return None
    for part in headers.split("&"):
        name, _, value = part.partition("=")
        if name.strip().lower() != "replaces":
            continue
        text = unquote(value)
        call_id, *rest = text.split(";")
        params = {}
        for item in rest:
            key, _, val = item.partition("=")
            params[key.strip().lower()] = val.strip()
        to_tag, from_tag = params.get("to-tag"), params.get("from-tag")
        if not call_id or not to_tag or not from_tag:
            raise ValueError("Replaces needs a Call-ID, to-tag and from-tag")
        return call_id, to_tag, from_tag
    return None


def _direction_of(sdp: bytes) -> str:
    try:
        return parse_sdp(sdp).direction
    except SdpError:
        return "sendrecv"


def _info_digit(req: Request) -> str | None:
    ctype = (req.headers.get("content-type") or "").lower()
    if "dtmf" not in ctype:
        return None
    for line in req.body.decode("utf-8", "replace").splitlines():
        k, _, v = line.partition("=")
        if k.strip().lower() == "signal" and v.strip():
            return v.strip()[0]
    if ctype.startswith("application/dtmf") and req.body.strip():
        return req.body.decode("utf-8", "replace").strip()[0]
    return None


__all__ = ["ALLOW", "SipChannel", "reverse_direction"]
