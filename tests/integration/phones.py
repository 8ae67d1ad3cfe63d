"""sipp phones pointed at a box: register, answer, call, with artifacts per test."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from tests.integration.box import EXTENSIONS, Box
from tests.peers.ports import free_port, release_block
from tests.peers.sipp import Sipp, SippResult


class SipPhones:
    """Factory for sipp runs against one box; kills whatever it started on close()."""

    def __init__(self, box: Box, workdir: Path) -> None:
        self.box = box
        self.workdir = workdir
        self.started: list[Sipp] = []

    def sipp(self, scenario: str, **kwargs: object) -> Sipp:
        kwargs.setdefault("remote", self.box.sip_addr)
        s = Sipp(scenario, self.workdir, **kwargs)  # type: ignore[arg-type]
        self.started.append(s)
        return s

    def register(
        self,
        ext: str,
        *,
        port: int | None = None,
        password: str | None = None,
        scenario: str = "register_auth",
        local_ip: str = "127.0.0.1",
        expires: int = 300,
        timeout: float = 10.0,
    ) -> tuple[int, SippResult]:
        """One REGISTER exchange for `ext` from local_ip:port. Returns (port, result)."""
        port = port if port is not None else free_port()
        result = self.sipp(
            scenario,
            local_port=port,
            local_ip=local_ip,
            user=ext,
            password=password if password is not None else EXTENSIONS[ext],
            keys={"user": ext, "expires": expires},
            timeout=timeout,
        ).run()
        return port, result

    def answer(
        self,
        scenario: str,
        ext: str,
        port: int,
        keys: Mapping[str, str | int | float] | None = None,
        timeout: float = 30.0,
    ) -> Sipp:
        """Start a UAS scenario as `ext` on `port` (the port it registered from)."""
        s = self.sipp(
            scenario,
            remote=None,
            local_port=port,
            keys={"user": ext, "challenge": "no", **(keys or {})},
            timeout=timeout,
        )
        return s.start().wait_ready()

    def registered_phone(
        self,
        ext: str,
        scenario: str,
        keys: Mapping[str, str | int | float] | None = None,
        timeout: float = 30.0,
    ) -> Sipp:
        """Register `ext` from a fresh port, then run `scenario` as UAS on that port."""
        port, reg = self.register(ext)
        assert reg.ok, f"{ext} could not register:\n{reg.report()}"
        return self.answer(scenario, ext, port, keys, timeout)

    def dial(
        self,
        scenario: str,
        caller: str,
        number: str,
        *,
        keys: Mapping[str, str | int | float] | None = None,
        password: str | None = None,
        auth_user: str | None = None,
        timeout: float = 30.0,
        local_ip: str = "127.0.0.1",
    ) -> Sipp:
        """Start a caller scenario from extension `caller` to `number` (in the background)."""
        return self.sipp(
            scenario,
            service=number,
            user=auth_user or caller,
            password=password if password is not None else EXTENSIONS[auth_user or caller],
            keys={"user": caller, **(keys or {})},
            timeout=timeout,
            local_ip=local_ip,
        ).start()

    def call(
        self,
        scenario: str,
        caller: str,
        number: str,
        *,
        keys: Mapping[str, str | int | float] | None = None,
        password: str | None = None,
        auth_user: str | None = None,
        timeout: float = 30.0,
        local_ip: str = "127.0.0.1",
    ) -> SippResult:
        """Run a caller scenario from extension `caller` to `number` and wait for it."""
        return self.dial(
            scenario,
            caller,
            number,
            keys=keys,
            password=password,
            auth_user=auth_user,
            timeout=timeout,
            local_ip=local_ip,
        ).wait()

    def close(self) -> None:
        for s in self.started:
            s.kill()
        # hand the sipp ports back: a session runs hundreds of sipp processes, and ports
        # never returned scatter over the range until no box finds a 200-port RTP block
        for s in self.started:
            release_block(s.local_port, 1)
            release_block(s.media_port, 4)
