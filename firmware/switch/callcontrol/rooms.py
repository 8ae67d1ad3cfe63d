"""Conference rooms 6000-6099: the box answers, asks for the room's PIN (three tries),
then mixes the caller into the room's always-mixing bridge with a join tone. Each
participant keeps their own call and recording (left: them, right: the room).

The rooms and their PINs come from the site configuration (decision 0021): `pins` maps
a room to the argon2id hash of its PIN, verified in a thread (tens of ms) so the call
path never waits; keys typed meanwhile are ignored. Repeated wrong PINs lock a room's
PIN entry for a while (`PinGuard`, as voicemail); people in the room stay."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from firmware.media.bridge import Bridge
from firmware.media.mixer import tone
from firmware.media.player import PromptPlayer
from firmware.media.recorder import StereoRecorder
from firmware.switch.callcontrol.dialplan import PIN_TRIES
from firmware.switch.callcontrol.lookup import leg_name
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel
from firmware.switch.events import Conferenced, RecordingStarted
from firmware.switch.features.pin import PinGuard, verify_pin

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.callcontrol.api import CallControl

log = logging.getLogger(__name__)

JOIN_TONE = tone((880.0, 1320.0), 0.25)
LEAVE_TONE = tone((660.0, 440.0), 0.25)


@dataclass
class Room:
    number: str
    bridge: Bridge
    members: dict[str, Call] = field(default_factory=dict)  # call id -> participant call


@dataclass
class _PinEntry:
    room: str
    buf: str = ""
    tries: int = 0
    player: PromptPlayer | None = None
    checking: bool = False  # the hash is being verified (a thread): keys are ignored


class Rooms:
    def __init__(self, cc: CallControl, pins: dict[str, str] | None = None) -> None:
        self.cc = cc
        self.pins = dict(pins or {})  # room number -> argon2id hash of its PIN
        self.rooms: dict[str, Room] = {}
        self._entries: dict[str, _PinEntry] = {}  # call id -> PIN being entered
        self.guard = PinGuard()  # wrong PINs per room: a room locks after too many
        self.verify: Callable[[str, str], bool] = verify_pin

    def is_room(self, number: str) -> bool:
        return number in self.pins

    def enter(self, call: Call, number: str) -> Cause | None:
        """A call routed to room `number` (a DID, an IVR transfer): answer, ask the PIN."""
        if not self.is_room(number):
            return Cause.UNALLOCATED_NUMBER
        self.cc.device_calls.answer(call)
        self.ask_pin(call, number)
        return None

    def ask_pin(self, call: Call, room: str) -> None:
        entry = _PinEntry(room, player=self.cc.announcer.player(call.a))
        self._entries[call.id] = entry
        self._prompt(entry, ["conf_enter_pin"])

    def _prompt(self, entry: _PinEntry, names: list[str]) -> None:
        ivr = self.cc.switch.ivr
        if entry.player is None or ivr is None:
            return
        entry.player.play([ivr.prompts.path(n) for n in names])

    def digit(self, call: Call, ch: Channel, digit: str) -> bool:
        """A key of a caller entering a room's PIN (True: taken here)."""
        entry = self._entries.get(call.id)
        if entry is None or ch is not call.a:
            return False
        if entry.checking:
            return True
        if entry.player is not None:
            entry.player.stop()
        if digit != "#":
            entry.buf = (entry.buf + digit)[-16:]
            return True
        pin, entry.buf = entry.buf, ""
        if self.guard.locked(entry.room, time.time()):
            log.warning("room %s: PIN entry locked after repeated wrong PINs", entry.room)
            self._refuse(call, entry)
            return True
        entry.checking = True
        stored = self.pins.get(entry.room, "")
        future = asyncio.get_running_loop().run_in_executor(None, self.verify, stored, pin)
        future.add_done_callback(lambda f: self._checked(
            call, entry, not f.cancelled() and f.exception() is None and bool(f.result())))
        return True

    def _checked(self, call: Call, entry: _PinEntry, ok: bool) -> None:
        entry.checking = False
        if call.end_at is not None or call.a.ended or self._entries.get(call.id) is not entry:
            return
        if ok and self.is_room(entry.room):
            self.guard.succeeded(entry.room)
            self._entries.pop(call.id, None)
            self._join(call, entry.room)
            return
        log.info("room %s: wrong PIN from call %s", entry.room, call.id)  # never the digits
        entry.tries += 1
        if self.guard.failed(entry.room, time.time()):
            log.warning("room %s: locked for new callers after repeated wrong PINs",
                        entry.room)
            entry.tries = PIN_TRIES
        if entry.tries >= PIN_TRIES:
            self._refuse(call, entry)
            return
        self._prompt(entry, ["conf_wrong_pin", "conf_enter_pin"])

    def _refuse(self, call: Call, entry: _PinEntry) -> None:
        self._entries.pop(call.id, None)
        call.extra["conference_refused"] = entry.room
        self.cc.announcer.then_finish(call, ["conf_wrong_pin", "goodbye"])

    def _join(self, call: Call, number: str) -> None:
        switch = self.cc.switch
        room = self.rooms.get(number)
        if room is None:
            room = Room(number, Bridge(switch.media, always_mix=True, name=f"room {number}"))
            self.rooms[number] = room
        leg = call.a.media
        if leg is None:
            call.finish(Cause.NORMAL_CLEARING, "system")
            return
        room.bridge.add(leg)
        room.bridge.announce(JOIN_TONE)
        room.members[call.id] = call
        call.extra["conference"] = number
        # each participant's call is recorded from their side (left: them, right: the
        # room as they heard it); Call.finish closes it like any recording
        path, rec = switch.new_recorder(call.id, call.start)
        if isinstance(rec, StereoRecorder) and path is not None:
            call.recording_path, call.recorder = path, rec
            room.bridge.record_party(leg, rec)
            self.cc.publish(RecordingStarted(time.time(), call.id, str(path)))
        self.cc.publish(Conferenced(time.time(), call.id, leg_name(call.a),
                                    tuple(leg_name(c.a) for c in room.members.values())))

    def _leave(self, call: Call) -> None:
        number = call.extra.get("conference", "")
        room = self.rooms.get(number)
        if room is None or room.members.pop(call.id, None) is None:
            return
        if call.a.media is not None:
            room.bridge.stop_recording_party(call.a.media)
            room.bridge.remove(call.a.media)
        if room.members:
            room.bridge.announce(LEAVE_TONE)
        else:
            room.bridge.stop()
            del self.rooms[number]

    def call_finished(self, call: Call) -> None:
        self._entries.pop(call.id, None)
        if "conference" in call.extra:
            self._leave(call)

    def status(self) -> list[dict[str, Any]]:
        return [{"room": r.number, "parties": [leg_name(c.a) for c in r.members.values()],
                 "mode": r.bridge.mode} for r in self.rooms.values()]
