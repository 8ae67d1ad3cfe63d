"""Dial plan for PSTN trunks: calls from the E1 to extensions (number or DID), and
extensions dialling out with the trunk prefix."""

from __future__ import annotations

from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, Direction, Party
from firmware.switch.directory import ExtensionDirectory, ExtensionInfo
from firmware.switch.router import Reject, Route, Router


class Leg(Channel):
    def __init__(self, tech: str, called: str) -> None:
        self.tech = tech
        super().__init__(Direction.INBOUND, Party("13800138000"), called)

    @property
    def media(self) -> None:
        return None

    def ring(self) -> None: ...
    def progress(self) -> None: ...
    def answer(self) -> None: ...
    def hangup(self, cause: Cause) -> None: ...
    def hold(self, held: bool) -> None: ...


def router() -> Router:
    d = ExtensionDirectory()
    d.replace([ExtensionInfo("9002", "desk", "pw", True), ExtensionInfo("9003", "", "pw", False)])
    return Router(d, dids={"96777": "9002"})


def test_pstn_call_to_an_extension_number() -> None:
    assert router().route(Leg("pri", "9002")) == Route("extension", "9002")


def test_pstn_call_to_a_did() -> None:
    assert router().route(Leg("pri", "96777")) == Route("extension", "9002")


def test_pstn_call_to_an_unknown_number() -> None:
    r = router().route(Leg("pri", "12345"))
    assert isinstance(r, Reject) and r.cause is Cause.UNALLOCATED_NUMBER


def test_pstn_calls_never_go_back_out() -> None:
    r = router().route(Leg("pri", "013800138000"))
    assert isinstance(r, Reject) and r.cause is Cause.UNALLOCATED_NUMBER


def test_extension_dials_out_with_the_prefix() -> None:
    assert router().route(Leg("sip", "013800138000")) == Route("trunk", "13800138000")


def test_prefix_alone_or_disabled_extension() -> None:
    r = router().route(Leg("sip", "0"))
    assert isinstance(r, Reject)
    r = router().route(Leg("sip", "9003"))
    assert isinstance(r, Reject) and r.cause is Cause.SUBSCRIBER_ABSENT
