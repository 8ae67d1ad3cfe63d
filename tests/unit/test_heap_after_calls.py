"""What an ended call leaves in switchd's heap, and the log line of a slow collection."""

from __future__ import annotations

import asyncio
import gc
import logging
import weakref

import pytest

from drivers.sip.addr import Address
from drivers.sip.channel import SipChannel
from drivers.sip.endpoint import Directory, SipConfig, SipEndpoint
from firmware.media.engine import MediaEngine
from firmware.switch.causes import Cause
from firmware.switch.channel import Direction, Party
from firmware.system.gc_pauses import watch_pauses
from tests.peers.ports import free_port, rtp_range


class _Nobody(Directory):
    def password(self, number: str) -> str | None:
        return None


class _Call:
    """Stands in for the switch's Call: all an ended dialog must not keep alive."""

    def channel_hungup(self, ch: object, cause: Cause) -> None:
        pass


def test_an_ended_dialog_kept_for_retransmissions_does_not_keep_its_call() -> None:
    async def scenario() -> tuple[weakref.ref[_Call], SipChannel, SipEndpoint]:
        media = MediaEngine("127.0.0.1", *rtp_range(10))
        await media.start()
        ep = SipEndpoint(SipConfig("127.0.0.1", free_port()), media, _Nobody(),
                         lambda e: None)
        await ep.start()
        try:
            call = _Call()
            ch = SipChannel(ep, Direction.OUTBOUND, Party("9001"), "9002", call_id="c1@x",
                            dest=Address("udp", "127.0.0.1", 9), local_host="127.0.0.1")
            ch.listener = call  # type: ignore[assignment]
            ch.attach_media(await media.allocate())
            ep.dialogs[ch.dialog_key] = ch
            ch.hangup(Cause.NORMAL_CLEARING)
            ref = weakref.ref(call)
            del call
            gc.collect()
            return ref, ch, ep
        finally:
            await ep.stop()
            await media.stop()

    ref, ch, ep = asyncio.run(scenario())
    assert ch.ended and ep.dialogs.get(ch.dialog_key) is ch  # still there for late BYE/ACK
    assert ref() is None, "the ended dialog must let its call go"
    assert ch.media is None


def test_a_slow_collection_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]
    callback = watch_pauses(warn_after=0.05, clock=lambda: now[0])
    try:
        with caplog.at_level(logging.WARNING, logger="firmware.system.gc_pauses"):
            callback("start", {"generation": 2})
            now[0] += 0.01
            callback("stop", {"generation": 2, "collected": 5})
            assert caplog.records == []  # 10 ms: not worth a line
            callback("start", {"generation": 2})
            now[0] += 0.2
            callback("stop", {"generation": 2, "collected": 7})
    finally:
        gc.callbacks.remove(callback)
    (rec,) = caplog.records
    assert "generation 2 paused switchd for 200 ms" in rec.getMessage()
