"""switchd's CTI socket (`DATA/run/cti.sock`): JSON lines, CSTA call model.

The asyncio half of firmware/cti: bus events go through `CtiModel` into CTI events,
which are written to every subscribed connection; requests are carried out by
`CtiCommands`. The call path never waits on a client: events are queued on the bus
callback and written in one batch per loop turn, a client whose unread output passes
`MAX_BUFFER` is dropped (it can subscribe again and gets a fresh snapshot), and the
queue figures are computed in a worker thread at most once per `STATS_EVERY`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from firmware.acd import AcdError
from firmware.cti.commands import CtiCommands
from firmware.cti.model import CtiModel, JsonDict
from firmware.cti.protocol import BAD_REQUEST, MAX_LINE, CtiError, decode, encode
from firmware.cti.queuelog_tail import read_since
from firmware.cti.stats import ALL, queue_figures
from firmware.switch.events import Event

if TYPE_CHECKING:
    from firmware.switch.bus import EventBus
    from firmware.switch.core import Switch

log = logging.getLogger(__name__)

MAX_BUFFER = 1 << 20  # bytes of events a client may leave unread before it is dropped
STATS_EVERY = 1.0


class _Client:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.subscribed = False

    def send(self, data: bytes) -> bool:
        if self.writer.is_closing():
            return False
        transport = self.writer.transport
        if transport.get_write_buffer_size() > MAX_BUFFER:
            log.warning("CTI client not reading: dropped (it gets a snapshot when it "
                        "subscribes again)")
            transport.abort()
            return False
        self.writer.write(data)
        return True


class CtiServer:
    def __init__(self, path: Path, switch: Switch, bus: EventBus, queue_log: Path) -> None:
        self.path = path
        self.switch = switch
        self.queue_log = queue_log
        self.model = CtiModel(time.time())
        self.commands = CtiCommands(switch, self.model, self.snapshot)
        self.clients: set[_Client] = set()
        self._pending: list[Event] = []
        self._flush_scheduled = False
        self._server: asyncio.AbstractServer | None = None
        self._stats: dict[str, JsonDict] = {}
        self._stats_version = -1
        self._stats_task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # subscribed now, before the site configuration logs agents in at start-up
        self.unsubscribe = bus.subscribe(self._on_event)

    # --- life --------------------------------------------------------------------------------
    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        records = await loop.run_in_executor(None, read_since, self.queue_log,
                                             self.model.day_start)
        self.model.load_records(records)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        for p in (self.path, tmp):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        self._server = await asyncio.start_unix_server(self._client, path=str(tmp),
                                                       limit=MAX_LINE)
        os.chmod(tmp, 0o660)
        os.replace(tmp, self.path)
        self._stats_task = loop.create_task(self._stats_loop())
        log.info("CTI on %s (%d queue-log records of today)", self.path, len(records))

    async def stop(self) -> None:
        self.unsubscribe()
        if self._stats_task is not None:
            self._stats_task.cancel()
        if self._server is not None:
            self._server.close()
            for c in list(self.clients):
                c.writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    # --- events ------------------------------------------------------------------------------
    def _on_event(self, ev: Event) -> None:
        # on the call path: only queue it; the model and the writes run after this turn
        self._pending.append(ev)
        if not self._flush_scheduled and self._loop is not None:
            self._flush_scheduled = True
            self._loop.call_soon(self._flush)
        elif self._loop is None:
            self._flush()  # before start(): keep the model current (agents log in)

    def _flush(self) -> None:
        self._flush_scheduled = False
        pending, self._pending = self._pending, []
        out: list[JsonDict] = []
        for ev in pending:
            try:
                out += self.model.handle(ev)
            except Exception:
                log.exception("CTI model failed on %r", ev)
        if out:
            self.broadcast(out)

    def broadcast(self, events: list[JsonDict]) -> None:
        subscribers = [c for c in self.clients if c.subscribed]
        if not subscribers:
            return
        data = b"".join(encode(e) for e in events)
        for c in subscribers:
            if not c.send(data):
                self.clients.discard(c)

    async def _stats_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(STATS_EVERY)
            try:
                if self.model.roll_day(time.time()):
                    log.info("CTI: a new day, queue figures start from zero")
                version = self.model.records_version
                if version == self._stats_version:
                    continue
                records = list(self.model.records)  # a copy for the thread
                stats = await loop.run_in_executor(None, queue_figures, records,
                                                   self._queue_names())
                self._stats_version = version
                changed = [{"event": "QueueStatistics", "time": time.time(), "queue": q,
                            **figs} for q, figs in stats.items() if self._stats.get(q) != figs]
                self._stats = stats
                if changed:
                    self.broadcast(changed)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("CTI queue figures failed")

    def _queue_names(self) -> list[str]:
        acd = self.switch.acd
        return [q.name for q in acd.engine.config.queues] if acd is not None else []

    # --- snapshot ----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Everything a client needs to draw its screen, consistent with the events
        that follow it on the same connection."""
        now = time.time()
        agents: list[JsonDict] = []
        queues: list[JsonDict] = []
        reasons: list[str] = []
        acd = self.switch.acd
        if acd is not None:
            cfg = acd.engine.config
            reasons = list(cfg.not_ready_reasons)
            member_of: dict[str, list[str]] = {}
            for q in cfg.queues:
                for m in q.members:
                    member_of.setdefault(m.agent, []).append(q.name)
            for a in cfg.agents:
                try:
                    st = acd.engine.agent_status(a.id)
                except AcdError:
                    continue
                view = self.model.agent_view(a.id)
                call = self.model.calls.get(st.call_id) if st.call_id else None
                agents.append({"agent": a.id, "name": a.name, "state": str(st.state),
                               "since": view.since, "device": st.device, "reason": st.reason,
                               "call": st.call_id, "queue": view.queue,
                               "wrap_until": st.wrap_until,
                               "caller": call.caller if call is not None else None,
                               "queues": member_of.get(a.id, [])})
            for q in cfg.queues:
                waiting = self.model.waiting.get(q.name, {})
                queues.append({"queue": q.name, "waiting": len(waiting),
                               "oldest": min(waiting.values()) if waiting else None,
                               "members": [m.agent for m in q.members],
                               "stats": self._stats.get(q.name)})
        calls = [{**(self.model.calls[c.id].public() if c.id in self.model.calls else {}),
                  **c.status()} for c in self.switch.calls.values()]
        return {"time": now, "agents": agents, "queues": queues, "calls": calls,
                "reasons": reasons, "totals": self._stats.get(ALL)}

    # --- connections -------------------------------------------------------------------------
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        self.clients.add(client)
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # longer than MAX_LINE
                    client.send(encode({"ok": False, "code": BAD_REQUEST,
                                        "error": "line too long"}))
                    break
                if not line:
                    break
                client.send(self._request(client, line))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.clients.discard(client)
            writer.close()

    def _request(self, client: _Client, line: bytes) -> bytes:
        rid: Any = None
        try:
            req = decode(line)
            rid = req.get("id")
            if req["cmd"] == "Subscribe":
                self._flush()  # events already in the switch's state: not sent again
                client.subscribed = True
                result = {"snapshot": self.snapshot()}
            else:
                result = self.commands.run(req)
            reply = {"ok": True, **result}
        except CtiError as e:
            reply = {"ok": False, "code": e.code, "error": str(e)}
        except Exception as e:
            log.exception("CTI request failed: %r", line[:200])
            reply = {"ok": False, "code": "internal", "error": str(e)}
        if rid is not None:
            reply["id"] = rid
        return encode(reply)
