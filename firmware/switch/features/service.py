"""`PhoneFeatures`: the phone features on a running switch (decision 0019).

One per switchd. It plugs into the switch's seams and owns nothing the switch needs
to run without it:
- the router's numbering plugins: our feature codes (`*72` ...) and ring groups
  (5000-5099) become routes of kind "feature" and "group";
- the switch's route handlers: "extension" calls follow forwarding, DND, one-number
  and voicemail (`Hunt`), "group" calls ring the group, "feature" calls run a code;
- the switch's voicemail hook (the IVR's voicemail node);
- the SIP endpoint: its channel watchers (device state for BLF) and SUBSCRIBE/NOTIFY
  (`SipEventServer` with the dialog, message-summary and presence packages);
- the bus: REGISTER sets a phone's message lamp, agent events its presence.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.sip.event_server import SipEventServer
from firmware.media.prompt_gen import PromptFiles
from firmware.switch.causes import Cause
from firmware.switch.events import AgentStateChanged, Event, Registered
from firmware.switch.features import codes, record_prompt, voicemail
from firmware.switch.features.dialing import HuntRun
from firmware.switch.features.hunt import Hunt
from firmware.switch.features.lamps import Lamps
from firmware.switch.features.mailboxes import VoicemailStore, load_index
from firmware.switch.features.pin import PinGuard
from firmware.switch.features.prompter import AppSession, LivePrompter, answer, ask
from firmware.switch.features.remote_answer import RemoteAnswer
from firmware.switch.features.settings import (
    GROUP_NUMBER,
    FeatureStore,
    FeatureTable,
    load_table,
)
from firmware.switch.router import Reject, Route

if TYPE_CHECKING:
    from drivers.sip.endpoint import SipEndpoint
    from firmware.switch.call import Call
    from firmware.switch.core import Switch

log = logging.getLogger(__name__)


class PhoneFeatures:
    def __init__(self, switch: Switch, data_dir: Path) -> None:
        self.switch = switch
        self.data_dir = data_dir
        self.prompts = PromptFiles(data_dir)
        self.store = FeatureStore(data_dir, on_change=self._features_changed)
        self.voicemail = VoicemailStore(data_dir, on_change=self._mailbox_changed)
        self.pins = PinGuard()
        self.lamps = Lamps(self.is_extension, self.voicemail,
                           lambda box: self.store.table.of(box).voicemail,
                           lambda: self.switch.acd)
        self.events: SipEventServer | None = None
        self.remote_answer = RemoteAnswer(lambda ext: self.store.table.of(ext).remote_answer,
                                          lambda: self.events)
        self.loop = asyncio.get_running_loop()

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self, endpoint: SipEndpoint | None) -> None:
        self.store.start()
        self.voicemail.start()
        await self.reload()
        sw = self.switch
        sw.router.plugins.append(self.route_number)
        sw.route_handlers["extension"] = self._dial_number
        sw.route_handlers["group"] = self._dial_number
        sw.route_handlers["feature"] = self._feature
        sw.voicemail = self.leave_voicemail
        sw.bus.subscribe(self._on_event)
        if endpoint is not None:
            self.events = SipEventServer(endpoint, self.lamps.packages())
            self.lamps.events = self.events
            self.lamps.endpoint = endpoint
            endpoint.channel_watchers.append(self.lamps.channel_changed)
        log.info("phone features: %d extension(s) with features, %d ring group(s), "
                 "%d mailbox(es) with messages", len(self.store.table.extensions),
                 len(self.store.table.groups), len(self.voicemail.index))

    def stop(self) -> None:
        if self.events is not None:
            self.events.stop()
        self.store.stop()
        self.voicemail.stop()

    async def reload(self) -> None:
        """Re-read features, ring groups and messages (a thread); a change made on the
        box meanwhile wins over what the read saw."""
        loop = asyncio.get_running_loop()
        f0, v0 = self.store.begin_reload(), self.voicemail.begin_reload()
        table: FeatureTable = await loop.run_in_executor(None, load_table)
        index = await loop.run_in_executor(None, load_index)
        self.store.finish_reload(f0, table)
        self.voicemail.finish_reload(v0, index)

    def status(self) -> dict[str, Any]:
        t = self.store.table
        return {"phone_features": {
            "extensions": {n: f.public() for n, f in sorted(t.extensions.items())},
            "ring_groups": sorted(t.groups),
            "mailboxes": {b: dict(zip(("new", "saved"), self.voicemail.counts(b),
                                      strict=True)) for b in self.voicemail.mailboxes()},
        }}

    # --- numbering ---------------------------------------------------------------------
    def is_extension(self, number: str) -> bool:
        ext = self.switch.router.directory.get(number)
        return ext is not None and ext.enabled

    def is_group(self, number: str) -> bool:
        return self.store.table.group(number) is not None

    def route_number(self, number: str, from_trunk: bool) -> Route | Reject | None:
        if number.startswith("*"):
            if codes.parse(number) is None:
                return None  # someone else's code (call control), or nobody's
            if from_trunk:
                return Reject(Cause.UNALLOCATED_NUMBER, f"{number}: feature codes are for "
                              "extensions only")
            return Route("feature", number)
        if GROUP_NUMBER.match(number) and self.is_group(number):
            return Route("group", number)
        return None

    # --- calls -------------------------------------------------------------------------
    def _dial_number(self, call: Call, route: Route) -> Cause | None:
        hunt = Hunt(self.store.table, self.is_extension, self.switch.ring_timeout)
        if route.kind == "group":
            call.extra["ring_group"] = route.target
        return HuntRun(self.switch, call, hunt, self._deposit).start(route.target)

    def leave_voicemail(self, call: Call, box: str) -> Cause | None:
        """The IVR's voicemail node: a message in `box` (an extension's mailbox)."""
        if not self.is_extension(box):
            log.warning("call %s: mailbox %s is not an extension", call.id, box)
            return Cause.NO_ROUTE_DESTINATION
        return self._deposit(call, box, "unavailable")

    def _deposit(self, call: Call, box: str, reason: str) -> Cause | None:
        if call.a.ended:
            return Cause.NORMAL_CLEARING
        self._leave_bridge(call)
        call.extra["voicemail"] = box
        answer(call)
        caller = voicemail.Caller(call.a.caller.number, call.a.caller.name, call.id)

        async def body(io: LivePrompter) -> None:
            msg = await voicemail.leave_message(io, self.voicemail, box, reason, caller)
            if msg is not None:
                call.extra["voicemail_message"] = msg.path

        AppSession(call, self.prompts, f"voicemail {box}", body).start()
        return None

    def _leave_bridge(self, call: Call) -> None:
        """A transferred caller waits in the call's bridge (music on hold): take them out
        so the greeting and the recording have the leg to themselves."""
        bridge = call.bridge
        leg = call.a.media
        if bridge is None or leg is None:
            return
        remove = getattr(bridge, "remove", None)
        if remove is not None and leg in getattr(bridge, "legs", ()):
            remove(leg)

    def _feature(self, call: Call, route: Route) -> Cause | None:
        parsed = codes.parse(route.target)
        ext = call.a.peer_name if call.a.tech == "sip" else ""
        if parsed is None or not self.is_extension(ext):
            return Cause.UNALLOCATED_NUMBER
        code, arg = parsed
        call.extra["feature"] = code
        answer(call)
        if code in ("*97", "*98"):
            body = self._mailbox_body(call, ext, own=code == "*97", arg=arg)
        elif code == record_prompt.CODE:

            async def body(io: LivePrompter) -> None:
                call.extra["feature_result"] = await record_prompt.record_prompt(
                    io, ext, arg, self.data_dir)
        else:
            ctx = codes.CodeContext(self.store, self.is_extension, self.is_group,
                                    self._agent_command() if self.switch.acd else None,
                                    self._agent_at, self._reasons)

            async def body(io: LivePrompter) -> None:
                call.extra["feature_result"] = await codes.run_code(io, ctx, ext, code, arg)

        AppSession(call, self.prompts, f"feature {code}", body).start()
        return None

    def _mailbox_body(self, call: Call, ext: str, own: bool, arg: str) -> Any:
        async def body(io: LivePrompter) -> None:
            box = ext if own else (arg or await _ask_mailbox(io))
            if not self.is_extension(box):
                await io.play(["vm_no_mailbox", "goodbye"], barge_in=False)
                return
            pin_hash = self.store.table.of(box).pin_hash
            if pin_hash:
                if not await voicemail.check_pin(io, box, pin_hash, self.pins):
                    return
            elif not own:
                # from another phone the PIN is the only proof of who is listening
                await io.play(["vm_no_pin", "goodbye"], barge_in=False)
                return
            call.extra["mailbox"] = box
            await voicemail.mailbox_menu(io, self.voicemail, box)

        return body

    # --- agents ------------------------------------------------------------------------
    def _agent_command(self) -> Any:
        def command(agent: str, cmd: str, device: str, reason: str) -> None:
            acd = self.switch.acd
            if acd is None:
                raise RuntimeError("no ACD")
            acd.agent_command(agent, cmd, device, reason or "break")

        return command

    def _agent_at(self, device: str) -> str | None:
        acd = self.switch.acd
        if acd is None:
            return None
        engine = acd.engine
        for a in engine.config.agents:
            st = engine.agent_status(a.id)
            if st.device == device and str(getattr(st.state, "value", st.state)) != "logged-out":
                return a.id
        return None

    def _reasons(self) -> tuple[str, ...]:
        acd = self.switch.acd
        if acd is None:
            return ("break",)
        return tuple(acd.engine.config.not_ready_reasons) or ("break",)

    # --- lamps -------------------------------------------------------------------------
    def _features_changed(self, old: FeatureTable, new: FeatureTable) -> None:
        for box in set(old.extensions) | set(new.extensions):
            if old.of(box).voicemail != new.of(box).voicemail:
                self.loop.call_soon(self.lamps.mailbox_changed, box)

    def _mailbox_changed(self, box: str) -> None:
        self.loop.call_soon(self.lamps.mailbox_changed, box)

    def _on_event(self, ev: Event) -> None:
        if isinstance(ev, Registered):
            box = ev.aor.removeprefix("sip:").split("@")[0]
            self.loop.call_soon(self.lamps.registered, box, ev.contact)
        elif isinstance(ev, AgentStateChanged):
            self.loop.call_soon(self.lamps.agent_changed, ev.agent)


async def _ask_mailbox(io: LivePrompter) -> str:
    return await ask(io, ["vm_enter_mailbox"], 15)
