"""The asyncio half of SUBSCRIBE/NOTIFY: runs the sans-I/O `Notifier` on the endpoint.

The endpoint hands over authenticated SUBSCRIBEs (new ones and refreshes inside a
subscription dialog); the switch's feature modules call `changed(package, resource)`
when a lamp should change and `send_unsolicited` for phones that never subscribed
(message waiting after a REGISTER). NOTIFYs go out as client transactions whose
answers come back here through `NotifyTxn`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drivers.sip.addr import Address
from drivers.sip.message import Request, Response
from drivers.sip.subscribe import (
    EventPackage,
    Local,
    Notifier,
    Outgoing,
    SubscribeResult,
    Subscription,
    unsolicited_notify,
)
from drivers.sip.transaction import ClientTransaction, ServerTransaction

if TYPE_CHECKING:
    from drivers.sip.endpoint import SipEndpoint

log = logging.getLogger(__name__)


@dataclass(eq=False)
class NotifyTxn:
    """The owner of one NOTIFY's client transaction (`txn.data`)."""

    server: SipEventServer
    sub: Subscription | None  # None: an unsolicited NOTIFY, nobody waits for its answer

    def on_response(self, resp: Response) -> None:
        if resp.status >= 200:
            self.server._answered(self, resp.status)

    def on_timeout(self) -> None:
        self.server._answered(self, 408)


class SipEventServer:
    def __init__(self, ep: SipEndpoint, packages: Mapping[str, EventPackage]) -> None:
        self.ep = ep
        self.notifier = Notifier(packages, Local(ep.via, ep.contact, ep.user_agent))
        self.loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self.counters = {"subscribes": 0, "notifies": 0, "notify_failures": 0,
                         "unsolicited": 0}
        ep.events = self

    @property
    def packages(self) -> Mapping[str, EventPackage]:
        return self.notifier.packages

    def _now(self) -> float:
        return self.loop.time()

    # --- from the endpoint ------------------------------------------------------------
    def subscribe(self, req: Request, source: Address, txn: ServerTransaction,
                  user: str) -> None:
        """`user`: the authenticated extension ("" for a request inside a dialog)."""
        self.counters["subscribes"] += 1
        result = self.notifier.subscribe(req, source, user, txn.to_tag, self._now())
        self._answer(txn, result)

    def _answer(self, txn: ServerTransaction, result: SubscribeResult) -> None:
        self.ep.respond(txn, result.response)
        sub = result.subscription
        if result.response.status >= 300:
            log.info("SUBSCRIBE %s from %s refused: %d %s", txn.request.uri, txn.source,
                     result.response.status, result.response.reason)
        elif sub is not None:
            log.debug("subscription %s to %s/%s by %s, %s", sub.call_id, sub.package,
                      sub.resource, sub.subscriber, sub.state.value)
        if sub is not None:
            self._send([(sub, n) for n in result.notifies])

    # --- from the application --------------------------------------------------------
    def changed(self, package: str, resource: str) -> None:
        """The state of `resource` in `package` changed: tell every subscriber."""
        self._send(self.notifier.changed(package, resource, self._now()))

    def watched(self, package: str, resource: str) -> bool:
        return bool(self.notifier.watching(package, resource))

    def send_unsolicited(self, package: str, body: bytes, aor: str, contact: str,
                         dest: Address) -> None:
        pkg = self.notifier.packages[package]
        host = self.ep.local_host_for(dest.host)
        req = unsolicited_notify(pkg, body, f"sip:{aor}@{host}", contact, dest,
                                 Local(self.ep.via, self.ep.contact, self.ep.user_agent))
        self.counters["unsolicited"] += 1
        txn = self.ep.send_request(req, dest, None)
        txn.data = NotifyTxn(self, None)

    def send_notify(self, req: Request, dest: Address) -> None:
        """An out-of-dialog NOTIFY built elsewhere (remote answer: Event: talk)."""
        self.counters["unsolicited"] += 1
        txn = self.ep.send_request(req, dest, None)
        txn.data = NotifyTxn(self, None)

    def stop(self) -> None:
        """Tell every subscriber we are going away (they re-subscribe when we are back)."""
        self._send(self.notifier.terminate_all("deactivated", self._now()))
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def status(self) -> dict[str, object]:
        subs = [{"package": s.package, "resource": s.resource, "subscriber": s.subscriber,
                 "expires_in": s.expires_in(self._now())} for s in self.notifier]
        return {"subscriptions": subs, "event_counters": dict(self.counters)}

    # --- plumbing ------------------------------------------------------------------------
    def _send(self, outgoing: list[Outgoing]) -> None:
        for sub, req in outgoing:
            self.counters["notifies"] += 1
            txn: ClientTransaction = self.ep.send_request(req, sub.dest, None)
            txn.data = NotifyTxn(self, sub)
        self._rearm()

    def _answered(self, owner: NotifyTxn, status: int) -> None:
        sub = owner.sub
        if status >= 300:
            self.counters["notify_failures"] += 1
            if sub is None:
                log.info("unsolicited NOTIFY refused: %d", status)
        elif sub is None:
            log.debug("unsolicited NOTIFY answered %d", status)
        if sub is None:
            return
        if status >= 300 and sub.state.value == "active":
            log.info("subscription %s/%s of %s ends: NOTIFY answered %d", sub.package,
                     sub.resource, sub.subscriber, status)
        self._send([(sub, n) for n in self.notifier.notify_answered(sub, status,
                                                                    self._now())])

    def _rearm(self) -> None:
        when = self.notifier.next_timer()
        if when is None:
            return
        if self._timer is not None and self._timer_at is not None and self._timer_at <= when:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = when
        self._timer = self.loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        now = self._now()
        self._send(self.notifier.handle_timer(now))
