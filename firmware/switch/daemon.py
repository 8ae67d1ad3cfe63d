"""ccbox-switchd: SIP, media, switch. Keeps running when every other daemon is down."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from drivers.dahdi.telephony import DahdiTelephony
from drivers.sim.telephony import SimTelephony
from drivers.sip.addr import Address
from drivers.sip.endpoint import SipConfig, SipEndpoint
from drivers.sip.registrar import Binding
from firmware.acd import AcdError
from firmware.config import ConfigError, load_board, parse_port_range
from firmware.db.cdr_writer import CdrWriter
from firmware.db.connection import open_db
from firmware.db.registrations import RegistrationStore
from firmware.db.write_behind import WriteBehind
from firmware.media.engine import MediaEngine
from firmware.media.prompt_gen import PromptToolMissing, ensure_stock
from firmware.siteconfig import Site, SiteInvalid
from firmware.siteconfig.legacy_rooms import import_legacy_rooms
from firmware.switch.bus import EventBus
from firmware.switch.callcontrol_setup import control_handler, install
from firmware.switch.control import ControlServer, Handler
from firmware.switch.core import Switch
from firmware.switch.cti_server import CtiServer
from firmware.switch.directory import ExtensionDirectory
from firmware.switch.features.service import PhoneFeatures
from firmware.switch.router import Router
from firmware.switch.site_runtime import SiteRuntime, load_failed, site_clock
from firmware.system.gc_pauses import freeze_startup_objects, watch_pauses
from firmware.system.notify import notify_ready, notify_stopping, notify_watchdog, setup_logging

log = logging.getLogger("ccbox.switchd")

DIRECTORY_REFRESH = 3.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="ccbox-switchd", description=__doc__)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--board", default="sim")
    p.add_argument("--sip-port", type=int, default=5060)
    p.add_argument("--rtp-ports", default="20000-23999")
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--advertise", default=None)
    p.add_argument("--no-record", action="store_true")
    return p.parse_args(argv)


class SwitchDaemon:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data: Path = args.data.resolve()
        self.started = time.time()
        self.stop_event = asyncio.Event()
        self._reload_lock = asyncio.Lock()

    async def run(self) -> None:
        args = self.args
        self.data.mkdir(parents=True, exist_ok=True)
        rtp_min, rtp_max = parse_port_range(args.rtp_ports)
        loop = asyncio.get_running_loop()
        open_db(self.data)
        self.directory = ExtensionDirectory()
        await loop.run_in_executor(None, self.directory.load_from_db)

        self.bus = EventBus()
        self.cdrs = CdrWriter(self.data)
        self.cdrs.start()
        self.bus.subscribe(self.cdrs.on_event)
        self.regstore = RegistrationStore(self.data)
        self.regstore.start()

        self.media = MediaEngine(args.bind, rtp_min, rtp_max)
        await self.media.start()
        cfg = SipConfig(bind_host=args.bind, port=args.sip_port, advertise_host=args.advertise)
        self.sip = SipEndpoint(cfg, self.media, self.directory, self.bus.publish,
                               self._binding_changed)
        restored = self._restore_bindings()
        await self.sip.start()
        await loop.run_in_executor(None, self._prepare_prompts)
        clock = site_clock()
        self.switch = Switch(self.bus, self.media, Router(self.directory, clock=clock),
                             self.data, self.sip, record=not args.no_record)
        # CTI listens to the bus from here on: agents the site logs in are seen
        self.cti = CtiServer(self.data / "run" / "cti.sock", self.switch, self.bus,
                             self.data / "logs" / "queue_log")
        self.lock_writer = WriteBehind("lock-writer", self.data)
        self.lock_writer.start()
        self.site = SiteRuntime(self.data, self.switch, clock, self.lock_writer)
        await loop.run_in_executor(None, import_legacy_rooms, self.data)
        try:
            site, locks = await loop.run_in_executor(None, self.site.load)
        except SiteInvalid as e:
            load_failed(e)
            site, locks = Site(), []
        self.site.apply(site, locks)
        self._setup_call_control()
        self.features = PhoneFeatures(self.switch, self.data)
        await self.features.start(self.sip)
        self.cti.commands.remote_answer = self.features.remote_answer
        self.sip.on_incoming = self.switch.incoming
        self.telephony = _telephony(args.board)
        handlers: dict[str, Handler] = {
            "status": self._status,
            "reload": self._reload,
            "ping": lambda _req: {"pong": time.time()},
            "agent": self._agent,
            "cc": control_handler(self.switch.cc),
            "restart": self._restart,
        }
        if self.telephony is not None:
            self.telephony.start(self.switch.incoming)
            self.switch.trunks = self.telephony
            handlers.update(self.telephony.handlers())
        self.control = ControlServer(self.data / "run" / "switchd.sock", handlers)
        await self.cti.start()
        await self.control.start()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop_event.set)
        log.info("switchd ready: SIP udp+tcp %s:%d, RTP %d-%d, %d extensions, "
                 "%d registrations restored", args.bind, args.sip_port, rtp_min, rtp_max,
                 len(self.directory.all()), restored)
        watch_pauses()
        if not os.environ.get("CCBOX_NO_GC_FREEZE"):
            log.debug("%d startup objects exempt from garbage collection",
                      freeze_startup_objects())
        notify_ready()
        tasks = [loop.create_task(self._refresh_directory()), loop.create_task(self._watchdog())]
        await self.stop_event.wait()
        notify_stopping()
        log.info("switchd stopping")
        for t in tasks:
            t.cancel()
        self.switch.shutdown()
        await asyncio.sleep(0.2)  # let the BYEs of the calls we ended leave
        if self.telephony is not None:
            await self.telephony.stop()
        await self.control.stop()
        await self.cti.stop()
        self.features.stop()
        await asyncio.sleep(0.05)  # the final NOTIFYs to subscribed phones
        await self.sip.stop()
        await self.media.stop()
        if self.switch.acd is not None:
            self.switch.acd.close()
        self.lock_writer.stop()
        self.cdrs.stop()
        self.regstore.stop()
        log.info("switchd stopped")

    # Site configuration ---------------------------------------------------------------------
    def _prepare_prompts(self) -> None:
        """Stock prompts, in a thread before READY: a caller never reaches an IVR whose
        prompts are still being synthesised."""
        try:
            ensure_stock(self.data)
        except PromptToolMissing as e:
            # the box still switches calls; IVR callers hear silence, which the log explains
            log.error("no stock prompts: %s", e)

    def _setup_call_control(self) -> None:
        install(self.switch)  # conference rooms as a route (their PINs come with the site)
        # per-queue `supervisors` of the site configuration, always the one in force
        self.switch.cc.may_monitor = self.site.may_monitor

    def _agent(self, req: dict[str, Any]) -> dict[str, Any]:
        """{"cmd": "agent", "agent": "8001", "action": "login|logout|ready|notready",
        "device": "8001", "reason": "break"}"""
        acd = self.switch.acd
        if acd is None:
            raise ValueError("no ACD configured")
        agent = str(req.get("agent", ""))
        try:
            acd.agent_command(agent, str(req.get("action", "")),
                              str(req.get("device", "")), str(req.get("reason", "break")))
            st = acd.engine.agent_status(agent)
        except AcdError as e:
            raise ValueError(str(e)) from e
        return {"agent": agent, "state": getattr(st.state, "value", str(st.state)),
                "reason": st.reason}

    # Persistence of bindings --------------------------------------------------------------
    def _binding_changed(self, b: Binding, removed: bool) -> None:
        if removed:
            self.regstore.delete(b.aor, b.contact)
        else:
            self.regstore.save(aor=b.aor, contact=b.contact,
                               source=f"{b.source.host}:{b.source.port}",
                               transport=b.source.transport, expires_at=b.expires_at,
                               user_agent=b.user_agent, call_id=b.call_id, cseq=b.cseq,
                               q=b.q)

    def _restore_bindings(self) -> int:
        n = 0
        for row in self.regstore.load_active(time.time()):
            host, _, port = str(row["source"]).rpartition(":")
            if not port.isdigit():
                continue
            b = Binding(row["aor"], row["contact"], Address(row["transport"], host, int(port)),
                        float(row["expires_at"]), row["call_id"], int(row["cseq"]),
                        float(row["q"]), row["user_agent"])
            self.sip.location.put(b, notify=False)
            n += 1
        return n

    # Control commands ---------------------------------------------------------------------
    def _status(self, _req: dict[str, Any]) -> dict[str, Any]:
        return {
            "daemon": "ccbox-switchd",
            "board": self.args.board,
            "uptime": round(time.time() - self.started, 1),
            "sip": {"port": self.args.sip_port, "transports": ["udp", "tcp"]},
            "extensions": len(self.directory.all()),
            **self.sip.status(),
            **self.switch.status(),
            "media": self.media.status() if hasattr(self.media, "status") else {},
            **(self.telephony.status() if self.telephony is not None else {}),
            "site": self.site.status(),
            **self.features.status(),
            "cdr_pending": self.cdrs.pending,
        }

    def _restart(self, req: dict[str, Any]) -> dict[str, Any]:
        """Stop, for systemd (Restart=always) to start switchd again: what only a start
        reads (FXO line settings, spans) then applies. Refused when nothing would start
        it again, and while calls are up unless `force` (they would be dropped)."""
        if not os.environ.get("NOTIFY_SOCKET"):
            return {"ok": False, "error": "switchd is not run by systemd here: restart it "
                    "by hand (ccbox run: stop and start it)"}
        active = len(self.switch.calls)
        if active and not req.get("force"):
            return {"ok": False, "calls": active,
                    "error": f"{active} call(s) in progress would be dropped"}
        log.warning("restart asked for over the control socket (%d call(s) up)", active)
        asyncio.get_running_loop().call_later(0.3, self.stop_event.set)
        return {"ok": True, "restarting": True, "calls": active}

    async def _reload(self, _req: dict[str, Any]) -> dict[str, Any]:
        """Re-read extensions and the site configuration; apply it live (no restart, no
        call dropped). An invalid stored configuration is refused whole: the running one
        stays."""
        loop = asyncio.get_running_loop()
        async with self._reload_lock:  # two imports at once: applied in the order read
            n = await loop.run_in_executor(None, self.directory.load_from_db)
            await self.features.reload()
            try:
                site, locks = await loop.run_in_executor(None, self.site.load)
            except SiteInvalid as e:
                log.error("reload refused, the running configuration stays: %s", e)
                raise ValueError(str(e)) from None
            return {"extensions": n, "applied": self.site.apply(site, locks)}

    async def _refresh_directory(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(DIRECTORY_REFRESH)
            try:
                await loop.run_in_executor(None, self.directory.load_from_db)
                await self.features.reload()
            except Exception as e:
                # keep serving with what we have; the database may be busy or broken
                log.error("cannot reload extensions from the database: %s", e)

    async def _watchdog(self) -> None:
        while True:
            notify_watchdog()
            await asyncio.sleep(2)


def _telephony(board_name: str) -> SimTelephony | DahdiTelephony | None:
    """The PSTN side the board describes; None when it has none we can drive."""
    try:
        board = load_board(board_name)
    except ConfigError as e:
        log.error("no telephony: %s", e)
        return None
    driver = board.get("telephony", {}).get("driver")
    if driver == "dahdi":
        return _dahdi_telephony(board)
    if driver != "sim":
        if driver:
            log.warning("telephony driver %r is not supported: no PSTN trunks", driver)
        return None
    try:
        return SimTelephony(board)
    except OSError as e:  # libpri missing, or no socketpairs
        log.error("no PSTN trunks: %s", e)
        return None


def _dahdi_telephony(board: dict[str, Any]) -> DahdiTelephony | None:
    from drivers.dahdi import ioctl

    if not ioctl.available():
        log.error("board %s has a DAHDI card, but %s is missing (DAHDI modules not "
                  "loaded?): no PSTN trunks", board.get("name"), ioctl.DEVICE)
        return None
    try:
        return DahdiTelephony(board, ioctl.DahdiIoctl())
    except OSError as e:
        log.error("no PSTN trunks: %s", e)
        return None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging("ccbox-switchd")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        log.warning("uvloop missing: running on stock asyncio (slower media path)")
    daemon = SwitchDaemon(args)
    try:
        asyncio.run(daemon.run())
    except OSError as e:
        log.error("switchd cannot start: %s", e)
        print(f"ccbox-switchd: cannot start: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
