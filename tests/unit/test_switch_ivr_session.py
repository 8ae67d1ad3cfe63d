"""An IVR flow on a `Switch` with fake legs: digits drive the runner, a failed transfer
resumes the flow at `on_fail`, the call record keeps the path."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from firmware.ivr import load_flow
from firmware.media.codecs import Codec
from firmware.media.engine import MediaEngine
from firmware.media.prompt_gen import PromptFiles
from firmware.switch.bus import EventBus
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, ChannelListener, Direction, Party
from firmware.switch.core import Switch
from firmware.switch.directory import ExtensionDirectory, ExtensionInfo
from firmware.switch.events import CallEnded, Event, IvrLogged
from firmware.switch.ivr_call import IvrServices
from firmware.switch.router import Router
from tests.unit.test_switch_call import FakeLeg

FLOW = {
    "schema": 1, "id": "t", "version": 1, "entry": "menu",
    "nodes": {
        "menu": {"kind": "menu", "prompt": ["gas_main_menu"], "branches": {"1": "desk"},
                 "timeout": 5, "retries": 1, "on_invalid": "bye", "on_timeout": "bye"},
        "desk": {"kind": "transfer", "to": "extension", "target": "9002", "on_fail": "bye"},
        "bye": {"kind": "play", "prompts": ["goodbye"], "next": "end"},
        "end": {"kind": "hangup", "cause": 16},
    },
}


class Phones:
    def __init__(self) -> None:
        self.placed: list[FakeLeg] = []

    def originate(self, aor: str, caller: Party, listener: ChannelListener,
                  codecs: list[Codec]) -> Sequence[Channel]:
        leg = FakeLeg(Direction.OUTBOUND, aor)
        leg.listener = listener
        self.placed.append(leg)
        return [leg]


def test_busy_transfer_target_resumes_the_flow_at_on_fail(tmp_path: Path) -> None:
    async def main() -> None:
        bus = EventBus()
        events: list[Event] = []
        bus.subscribe(events.append)
        d = ExtensionDirectory()
        d.replace([ExtensionInfo("9002", "desk", "pw", True)])
        phones = Phones()
        sw = Switch(bus, MediaEngine("127.0.0.1", 30000, 30100),
                    Router(d, ivr_routes={"7000": "t"}), tmp_path, phones, record=False)
        sw.ivr = IvrServices({"t": load_flow(FLOW)}, PromptFiles(tmp_path))
        caller = FakeLeg(Direction.INBOUND, "13800138000", "7000")
        sw.incoming(caller)
        assert caller.log == ["answer"]  # the box answers for the IVR
        await asyncio.sleep(0.01)  # no media here: prompts "finish" at once
        call = next(iter(sw.calls.values()))
        call.channel_dtmf(caller, "1")
        assert [leg.peer_name for leg in phones.placed] == ["9002"]
        phones.placed[0].hangup(Cause.USER_BUSY)
        call.channel_hungup(phones.placed[0], Cause.USER_BUSY)
        for _ in range(5):
            await asyncio.sleep(0.01)
        ended = [e for e in events if isinstance(e, CallEnded)]
        assert len(ended) == 1 and ended[0].cause is Cause.NORMAL_CLEARING
        assert ended[0].extra["ivr_path"] == "menu,key:1,desk,bye,end", ended[0].extra
        logged = [e.event for e in events if isinstance(e, IvrLogged)]
        assert "transfer_failed" in logged and "ivr_resume" in logged, logged
        assert caller.log[-1] == "hangup:16"

    asyncio.run(main())
