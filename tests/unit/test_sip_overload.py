"""Overload protection: new calls get 503 + Retry-After while the loop is behind,
and are accepted again once it has caught up."""

from __future__ import annotations

import asyncio
import socket
import time

from drivers.sip.endpoint import Directory, SipConfig, SipEndpoint
from drivers.sip.overload import LoadGuard
from firmware.media.engine import MediaEngine
from tests.peers.ports import free_port, rtp_range


def test_guard_sheds_above_high_and_recovers_below_low() -> None:
    g = LoadGuard(high=0.05, low=0.01, alpha=1.0)
    assert not g.observe(0.03) and not g.shedding
    assert g.observe(0.2) and g.shedding and g.episodes == 1
    assert not g.observe(0.03) and g.shedding  # between low and high: still shedding
    assert g.refuse() and g.shed_count == 1
    assert g.observe(0.001) and not g.shedding
    assert not g.refuse() and g.shed_count == 1


def test_guard_smooths_a_single_late_timer() -> None:
    g = LoadGuard(high=0.05, low=0.01, alpha=0.3)
    g.observe(0.1)  # one 100 ms hiccup (e.g. a page fault storm) is not an overload
    assert not g.shedding
    for _ in range(5):
        g.observe(0.1)
    assert g.shedding


class _One(Directory):
    def password(self, number: str) -> str | None:
        return "secret" if number == "8001" else None


INVITE = (
    "INVITE sip:8002@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{branch}\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:8001@127.0.0.1>;tag=a1\r\n"
    "To: <sip:8002@127.0.0.1>\r\n"
    "Call-ID: overload-{branch}\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:8001@127.0.0.1:{port}>\r\n"
    "Content-Length: 0\r\n\r\n"
)


def test_invites_during_a_stall_get_503_and_calls_are_accepted_after() -> None:
    async def scenario() -> tuple[str, str, str]:
        media = MediaEngine("127.0.0.1", *rtp_range(100))
        await media.start()
        port = free_port()  # UDP and TCP: the endpoint listens on both
        ep = SipEndpoint(SipConfig("127.0.0.1", port), media, _One(), lambda e: None)
        await ep.start()
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        me = sock.getsockname()[1]

        async def ask(branch: str) -> str:
            msg = INVITE.format(port=me, branch=branch).encode()
            sock.sendto(msg, ("127.0.0.1", port))
            while True:
                reply = (await asyncio.wait_for(loop.sock_recv(sock, 65535), 2)).decode()
                # the 407 of an earlier INVITE comes again (we never ACK it): skip it
                if f"branch=z9hG4bK-{branch}" in reply and not reply.startswith("SIP/2.0 100"):
                    return reply

        try:
            before = await ask("b1")
            for _ in range(4):  # the loop stalls again and again: it cannot keep up
                await asyncio.sleep(0.03)
                time.sleep(0.15)
            await asyncio.sleep(0.03)
            during = await ask("b2")
            for _ in range(100):  # then it catches up
                await asyncio.sleep(0.02)
                if not ep.load.shedding:
                    break
            after = await ask("b3")
        finally:
            sock.close()
            await ep.stop()
            await media.stop()
        return before, during, after

    before, during, after = asyncio.run(scenario())
    assert before.startswith("SIP/2.0 407")
    assert during.startswith("SIP/2.0 503")
    assert "\r\nRetry-After: 5\r\n" in during
    assert after.startswith("SIP/2.0 407")
