"""In-call feature keys from a phone: `##N#` blind transfer, `*2N#` consultation, and
while consulting `*3` three-way and `*0` back to the caller; a consulting agent's other
keys go to the queue or IVR it called."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from firmware.switch.callcontrol.dialplan import BACK, BLIND, CONSULT, DIGIT_TIMEOUT, THREE_WAY
from firmware.switch.callcontrol.lookup import CallControlError, device_of, leg_name
from firmware.switch.channel import Channel

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl

log = logging.getLogger(__name__)


@dataclass
class _Digits:
    buf: str = ""
    at: float = 0.0


class FeatureDigits:
    def __init__(self, cc: CallControl) -> None:
        self.cc = cc
        self._digits: dict[tuple[str, str], _Digits] = {}  # (call id, leg id) -> keys

    def digit(self, call: Call, ch: Channel, digit: str) -> bool:
        """A key from a phone on an answered call; True when it was a feature's."""
        if call.b is None or ch.tech != "sip" or not device_of(ch):
            return False
        cc = self.cc
        key = (call.id, ch.id)
        now = time.monotonic()
        state = self._digits.setdefault(key, _Digits())
        if now - state.at > DIGIT_TIMEOUT:
            state.buf = ""
        state.at = now
        buf = state.buf + digit
        cons = cc.consults.get(call.id)
        try:
            if cons is not None and cons.holder is ch:
                if buf in (THREE_WAY, BACK):
                    state.buf = ""
                    if buf == THREE_WAY:
                        cc.consultations.conference_consult(call.id, ch.id)
                    else:
                        cc.consultations.cancel_consult(call.id, ch.id)
                    return True
                state.buf = buf if buf in ("*",) else ""
                via, proxy = cons.via, cons.proxy
                if via is not None and proxy is not None and not state.buf:
                    for d in buf:  # the agent presses keys in the queue/IVR it called
                        via.channel_dtmf(proxy, d)
                return True
            if buf in ("#", BLIND, "*", CONSULT) or (
                    buf.startswith((BLIND, CONSULT)) and not buf.endswith("#")):
                state.buf = buf
                return len(buf) > 1 or digit in "#*"
            if buf.startswith(BLIND) and buf.endswith("#") and len(buf) > 3:
                state.buf = ""
                cc.transfers.blind_transfer(call.id, ch.id, buf[2:-1])
                return True
            if buf.startswith(CONSULT) and buf.endswith("#") and len(buf) > 3:
                state.buf = ""
                cc.consultations.consult(call.id, ch.id, buf[2:-1])
                return True
        except CallControlError as e:
            log.info("call %s: feature code %s from %s: %s", call.id, buf, leg_name(ch), e)
            call.extra["feature_error"] = str(e)
            return True
        state.buf = ""
        return False

    def call_finished(self, call: Call) -> None:
        for key in [k for k in self._digits if k[0] == call.id]:
            del self._digits[key]
