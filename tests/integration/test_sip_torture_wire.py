"""RFC 4475 torture messages sent over real UDP to a live SIP endpoint: each gets the
answer a robust element gives, and none of them trips an internal error."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest

from drivers.sip.endpoint import Directory, SipConfig, SipEndpoint
from drivers.sip.parser import SipParseError, parse_message
from firmware.media.engine import MediaEngine
from tests.peers.ports import free_port, rtp_range

VECTORS = Path(__file__).parent.parent / "vectors" / "rfc4475"

# What the box answers. None: no answer (responses, or too broken to address a reply).
EXPECTED: dict[str, int | None] = {
    # valid messages (RFC 4475 3.1.1): handled by the endpoint like any other request
    "wsinv": 481,  # it carries a To tag: a request in a dialog we never had
    "intmeth": 501, "esc01": 407, "escnull": 401, "esc02": 501,
    "lwsdisp": 200, "longreq": 407, "dblreq": 401, "semiuri": 200, "transports": 200,
    "mpart01": 405, "unreason": None, "noreason": None,
    # invalid messages (3.1.2): refused by the parser with the right status
    "badinv01": 400, "clerr": 400, "scalar02": 400, "scalarlg": None, "quotbal": 400,
    "ltgtruri": 400, "lwsruri": 400, "lwsstart": 400, "trws": 400, "escruri": 400,
    "baddate": 407, "regbadct": 400, "badaspec": 400, "baddn": 400, "badvers": 505,
    "mismatch01": 400, "mismatch02": 400, "multi01": 400, "mcl01": 400, "ncl": 400,
    "bigcode": None, "insuf": None, "unkscm": 416, "novelsc": 416,
    # transaction and application layer semantics (3.3, 3.4)
    "badbranch": 200, "unksm2": 401, "cparam01": 401, "cparam02": 401, "regescrt": 401,
    "regaut01": 401, "bext01": 420, "invut": 415, "sdp01": 407, "zeromf": 200,
    "bcast": None,  # a stray response: dropped, never sent on to its broadcast Via
    "inv2543": 407,
}


class _Nobody(Directory):
    def password(self, number: str) -> str | None:
        return None


def test_vector_table_covers_every_file() -> None:
    assert {p.stem for p in VECTORS.glob("*.dat")} == set(EXPECTED)


def test_every_torture_message_gets_the_right_answer(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    answers: dict[str, int | None] = {}

    async def one(media: MediaEngine, name: str) -> int | None:
        # a fresh endpoint per vector: several vectors share branch and sent-by, and a
        # live transaction layer rightly treats the later ones as retransmissions
        port = free_port()  # UDP and TCP: the endpoint listens on both
        ep = SipEndpoint(SipConfig("127.0.0.1", port), media, _Nobody(), lambda e: None)
        await ep.start()
        loop = asyncio.get_running_loop()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind(("127.0.0.1", 0))
                sock.setblocking(False)
                sock.sendto((VECTORS / f"{name}.dat").read_bytes(), ("127.0.0.1", port))
                try:
                    reply = await asyncio.wait_for(loop.sock_recv(sock, 65535), 0.3)
                except TimeoutError:
                    return None
        finally:
            await ep.stop()
        # a 400 echoes the broken headers it complains about (RFC 3261 8.2.6.2), so
        # read only the status line
        status_line = reply.split(b"\r\n", 1)[0].decode()
        assert status_line.startswith("SIP/2.0 "), f"{name}: {status_line!r}"
        return int(status_line.split()[1])

    async def scenario() -> None:
        media = MediaEngine("127.0.0.1", *rtp_range(100))
        await media.start()
        try:
            for name in sorted(EXPECTED):
                answers[name] = await one(media, name)
        finally:
            await media.stop()

    asyncio.run(scenario())
    wrong = {n: (answers.get(n), want) for n, want in EXPECTED.items() if answers.get(n) != want}
    assert wrong == {}, f"(got, expected): {wrong}"
    internal = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert internal == []


def test_answers_to_malformed_requests_name_the_problem() -> None:
    data = (VECTORS / "mismatch01.dat").read_bytes()
    with pytest.raises(SipParseError) as e:
        parse_message(data)
    assert "CSeq" in e.value.reason
