"""`Bridge`: the media of one conversation — any number of legs (RTP or E1/FXO frames),
each with a role, some perhaps on hold — and the recording of it.

The cheapest plumbing that does the job is chosen again on every change:
- two full parties that can relay (RTP<->RTP: `MediaEngine.bridge`; a line and an RTP
  leg: `FrameBridge`) keep the packet-level relay of 0007: no decoding, no clock;
- anything else (a third party, a monitor, two lines, a conference room) goes through a
  `Mixer` clocked by the media engine's 20 ms ticker;
- a held leg is taken out of both and hears music on hold from its own player.
Legs move between bridges with `remove()` here and `add()` there (transfer, park,
pickup, conference): the leg itself is never closed by a bridge.

Recording (one file per call): the same `StereoRecorder` stays with the bridge whatever
the plumbing; left is the caller, right what the caller heard (so a supervisor's
whisper, which the caller does not hear, is not in the customer's recording). The
recorder places audio by arrival time whenever the stream changes, so switching
between relay and mixing, hold, or a new agent simply continues the file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy.typing as npt

from firmware.media.codecs import Codec
from firmware.media.engine import MediaBridge, MediaEngine, RtpLeg
from firmware.media.frame_bridge import FrameBridge
from firmware.media.frame_leg import FrameLeg
from firmware.media.g711 import encode
from firmware.media.leg import MediaLeg
from firmware.media.mixer import FRAME, Mixer, MixerError, Role
from firmware.media.player import PromptPlayer
from firmware.media.recorder import StereoRecorder

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

TICK = 0.02
_MIX_SSRC = 0x4D495820  # "MIX ": the recorder's stream id for mixed audio
_MAX_CATCH_UP = 3  # frames mixed in one tick after a stall; older ones are skipped


class BridgeError(MixerError):
    """A request the bridge cannot carry out (the leg is not in it, ...)."""


class _Member:
    __slots__ = ("held", "player", "role", "target")

    def __init__(self, role: Role, target: MediaLeg | None) -> None:
        self.role = role
        self.target = target
        self.held = False
        self.player: PromptPlayer | None = None


class Bridge:
    def __init__(self, engine: MediaEngine, recorder: StereoRecorder | None = None,
                 caller: MediaLeg | None = None, *, always_mix: bool = False,
                 moh: Path | None = None, name: str = "") -> None:
        self.engine = engine
        self.recorder = recorder
        self.caller = caller
        self.always_mix = always_mix
        self.moh = moh
        self.name = name
        self._members: dict[MediaLeg, _Member] = {}
        # mixing bridges (rooms): more parties recorded each from their own side
        self._party_recs: dict[MediaLeg, StereoRecorder] = {}
        self._relay: MediaBridge | FrameBridge | None = None
        self._mixer: Mixer | None = None
        self._due = 0.0
        self._rec_ts = 0
        self._active = True
        self.rebuilds = 0

    def __repr__(self) -> str:
        return f"<Bridge {self.name} {self.mode} {len(self._members)} legs>"

    # -- what the switch uses ----------------------------------------------------------
    @property
    def active(self) -> bool:
        return self._active

    @property
    def mode(self) -> str:
        """"relay", "mix" or "idle" (nobody to connect)."""
        return "relay" if self._relay else "mix" if self._mixer else "idle"

    @property
    def legs(self) -> tuple[MediaLeg, ...]:
        return tuple(self._members)

    @property
    def mixer(self) -> Mixer | None:
        return self._mixer

    def __contains__(self, leg: object) -> bool:
        return leg in self._members

    def role(self, leg: MediaLeg) -> Role:
        return self._member(leg).role

    def held(self, leg: MediaLeg) -> bool:
        return self._member(leg).held

    def add(self, leg: MediaLeg, role: Role = Role.PARTY, target: MediaLeg | None = None,
            *, held: bool = False) -> None:
        if not self._active:
            raise BridgeError("bridge is stopped")
        if leg in self._members:
            raise BridgeError(f"{leg!r} is already in this bridge")
        if role is Role.WHISPER and (target is None or target not in self._members):
            raise BridgeError("whisper needs a party of this bridge to whisper to")
        member = _Member(role, target)
        self._members[leg] = member
        if held:
            self._start_moh(leg, member)
        self._rebuild()

    def add_many(self, legs: Iterable[MediaLeg]) -> None:
        for leg in legs:
            if leg not in self._members:
                self._members[leg] = _Member(Role.PARTY, None)
        self._rebuild()

    def remove(self, leg: MediaLeg) -> None:
        member = self._members.pop(leg, None)
        if member is None:
            return
        self._stop_moh(leg, member)
        # a whisper aimed at the leaving party has nobody to whisper to: listen instead
        for other in self._members.values():
            if other.target is leg:
                other.role, other.target = Role.LISTEN, None
        self._rebuild()

    def set_role(self, leg: MediaLeg, role: Role, target: MediaLeg | None = None) -> None:
        member = self._member(leg)
        if role is Role.WHISPER and (target is None or target not in self._members
                                     or target is leg):
            raise BridgeError("whisper needs another party of this bridge")
        member.role, member.target = role, target
        self._rebuild()

    def hold(self, leg: MediaLeg, on: bool = True) -> None:
        """Take `leg` out of the conversation with music on hold (or bring it back)."""
        member = self._member(leg)
        if member.held == on:
            return
        if on:
            self._start_moh(leg, member)
        else:
            self._stop_moh(leg, member)
        self._rebuild()

    def set_recorder(self, recorder: StereoRecorder | None, caller: MediaLeg | None) -> None:
        self.recorder = recorder
        self.caller = caller
        self._rebuild()

    def record_party(self, leg: MediaLeg, recorder: StereoRecorder) -> None:
        """Record `leg`'s side of a mixing bridge: left what it says, right what it
        hears (a conference participant's own call record)."""
        self._party_recs[leg] = recorder
        self.engine.track_recorder(recorder)

    def stop_recording_party(self, leg: MediaLeg) -> None:
        rec = self._party_recs.pop(leg, None)
        if rec is not None:
            self.engine.untrack_recorder(rec)

    def announce(self, pcm: npt.ArrayLike) -> None:
        """A tone everyone in a mixing bridge hears (conference join/leave)."""
        if self._mixer is not None:
            self._mixer.announce(pcm)

    def refresh(self) -> None:
        """A leg's codec or direction changed (re-INVITE): plan again."""
        self._rebuild()

    def stop(self) -> None:
        """Disconnect everything; the legs stay open, the recorder is the owner's."""
        if not self._active:
            return
        self._active = False
        self._teardown()
        for leg, member in self._members.items():
            self._stop_moh(leg, member)
        self._members.clear()
        for leg in list(self._party_recs):
            self.stop_recording_party(leg)

    # -- plumbing ----------------------------------------------------------------------
    def _member(self, leg: MediaLeg) -> _Member:
        member = self._members.get(leg)
        if member is None:
            raise BridgeError(f"{leg!r} is not in this bridge")
        return member

    def _start_moh(self, leg: MediaLeg, member: _Member) -> None:
        member.held = True
        rec = self.recorder
        if rec is not None and leg is self.caller:
            # what the caller says while waiting stays in the recording (left)
            if isinstance(leg, RtpLeg):
                leg.audio_sink = lambda payload, ts, ssrc, now: rec.feed(
                    0, leg.codec or Codec.PCMU, payload, ts, ssrc, now)
            elif isinstance(leg, FrameLeg):
                line = leg
                ts = [0]

                def held_frame(frame: bytes) -> None:
                    rec.feed(0, line.codec, frame, ts[0], _MIX_SSRC - 1, self.engine.now())
                    ts[0] = (ts[0] + len(frame)) & 0xFFFFFFFF

                line.on_frame = held_frame
        loop = self.engine.loop
        if self.moh is None or loop is None:
            return
        send = _sender(leg)
        if send is None:
            return
        member.player = PromptPlayer(loop, send, leg.codec or Codec.PCMU)
        member.player.play([self.moh], repeat=True)

    def _stop_moh(self, leg: MediaLeg, member: _Member) -> None:
        if member.held and leg is self.caller and self.recorder is not None:
            _detach(leg)
        member.held = False
        if member.player is not None:
            member.player.stop()
            member.player = None

    def _teardown(self) -> None:
        relay, self._relay = self._relay, None
        if relay is not None:
            relay.stop()
        mixer, self._mixer = self._mixer, None
        if mixer is not None:
            self.engine.remove_ticker(self._on_tick)
            for leg in mixer.keys:
                assert isinstance(leg, MediaLeg)
                _detach(leg)
            if self.recorder is not None:
                self.engine.untrack_recorder(self.recorder)

    def _rebuild(self) -> None:
        if not self._active:
            return
        self.rebuilds += 1
        self._teardown()
        caller = self._members.get(self.caller) if self.caller is not None else None
        if caller is not None and caller.held and self.recorder is not None:
            self.engine.track_recorder(self.recorder)  # flushed while nobody relays
        live = [leg for leg, m in self._members.items() if not m.held and not _closed(leg)]
        if not live:
            return
        if (not self.always_mix and len(live) == 2
                and all(self._members[leg].role in (Role.PARTY, Role.BARGE) for leg in live)
                and self._try_relay(live[0], live[1])):
            return
        if len(live) >= 2 or self.always_mix:
            self._start_mix(live)

    def _try_relay(self, a: MediaLeg, b: MediaLeg) -> bool:
        rec = self.recorder if self.caller in (a, b) else None
        if b is self.caller:
            a, b = b, a
        if isinstance(a, RtpLeg) and isinstance(b, RtpLeg):
            if a.bridge is not None or b.bridge is not None:
                return False  # still in another relay: mix rather than steal it
            self._relay = self.engine.bridge(a, b, rec)
            return True
        if isinstance(a, FrameLeg) and isinstance(b, RtpLeg):
            self._relay = FrameBridge(a, b, rec, line_channel=0)
            return True
        if isinstance(a, RtpLeg) and isinstance(b, FrameLeg):
            self._relay = FrameBridge(b, a, rec, line_channel=1)
            return True
        return False

    def _start_mix(self, legs: list[MediaLeg]) -> None:
        mixer = Mixer()
        for leg in legs:
            member = self._members[leg]
            target = member.target if member.target in legs else None
            role = member.role if member.role is not Role.WHISPER or target else Role.LISTEN
            mixer.add(leg, leg.codec or Codec.PCMU, role, target)
        for leg in legs:
            _attach(leg, mixer)
        self._mixer = mixer
        self._due = self.engine.now()
        self.engine.add_ticker(self._on_tick)
        if self.recorder is not None and self.caller in legs:
            self.engine.track_recorder(self.recorder)

    def _on_tick(self, now: float) -> None:
        mixer = self._mixer
        if mixer is None:
            return
        done = 0
        while now >= self._due - 0.002 and done < _MAX_CATCH_UP:
            self._mix_once(mixer, self._due)
            self._due += TICK
            done += 1
        if now - self._due > _MAX_CATCH_UP * TICK:
            self._due = now + TICK  # a stall: skip, do not burst

    def _mix_once(self, mixer: Mixer, now: float) -> None:
        for leg, payload in mixer.mix().items():
            assert isinstance(leg, MediaLeg)
            if leg.codec is not None and leg.codec is not mixer.codec(leg):
                mixer.set_codec(leg, leg.codec)  # a re-INVITE changed the law
            _send(leg, payload)
        if self._party_recs:
            self._record_parties(mixer, now)
        self._record_caller(mixer, now)
        self._rec_ts = (self._rec_ts + FRAME) & 0xFFFFFFFF

    def _record_caller(self, mixer: Mixer, now: float) -> None:
        rec = self.recorder
        caller = self.caller
        if rec is None or caller is None or caller not in mixer:
            return
        heard = mixer.frame_out(caller)
        said = mixer.frame_in(caller)
        if heard is None or said is None:
            return
        _record(rec, 0, said, self._rec_ts, now)
        _record(rec, 1, heard, self._rec_ts, now)

    def _record_parties(self, mixer: Mixer, now: float) -> None:
        for leg, rec in self._party_recs.items():
            said, heard = mixer.frame_in(leg), mixer.frame_out(leg)
            if said is not None and heard is not None:
                _record(rec, 0, said, self._rec_ts, now)
                _record(rec, 1, heard, self._rec_ts, now)


def _record(rec: StereoRecorder, channel: int, pcm: np.ndarray, ts: int, now: float) -> None:
    rec.feed(channel, Codec.PCMA, encode(Codec.PCMA, pcm), ts, _MIX_SSRC + channel, now)


def _closed(leg: MediaLeg) -> bool:
    return bool(getattr(leg, "closed", False))


def _attach(leg: MediaLeg, mixer: Mixer) -> None:
    if isinstance(leg, RtpLeg):
        leg.audio_sink = lambda payload, _ts, _ssrc, _now: mixer.push(leg, payload)
    elif isinstance(leg, FrameLeg):
        leg.on_frame = lambda frame: mixer.push(leg, frame)


def _detach(leg: MediaLeg) -> None:
    if isinstance(leg, RtpLeg):
        leg.audio_sink = None
    elif isinstance(leg, FrameLeg):
        leg.on_frame = None


def _sender(leg: MediaLeg) -> Callable[[bytes], None] | None:
    if isinstance(leg, RtpLeg):
        return leg.send_audio
    if isinstance(leg, FrameLeg):
        return leg.write
    return None


def _send(leg: MediaLeg, payload: bytes) -> None:
    if isinstance(leg, RtpLeg):
        leg.send_audio(payload)
    elif isinstance(leg, FrameLeg):
        leg.write(payload)
