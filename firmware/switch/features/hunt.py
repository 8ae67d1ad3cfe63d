"""Where a call to an extension or a ring group goes, step by step, sans I/O.

`Hunt` is told the number dialled and, after each step, how the step failed; it answers
with the next step: ring these legs for this long (`Ring`), take a message
(`ToVoicemail`), or give up with a cause (`GiveUp`). It reads only a `FeatureTable`
snapshot and the extension directory, so every path is a unit test with no call.

What a desk-phone user expects, in order (decision 0019):
1. forward always wins (the user wants calls elsewhere);
2. do not disturb is "busy": forward on busy if set, else voicemail if on, else busy;
3. the desk phone rings; with one-number the mobile joins after `mobile_delay` (at
   once when the desk phone is not registered) and the no-answer time counts from
   then; a busy phone goes to forward on busy / voicemail / busy, anything else
   (no answer, not registered, unreachable) to forward on no answer / voicemail;
4. a forward target is followed like a dialled number (its own features apply), at
   most `MAX_FORWARDS` times; a target already visited in this call is a loop and is
   not rung again (the call takes the visited extension's voicemail or gives up).
Ring groups ring their members as they are: no member's forwarding, DND members
skipped; simultaneous rings everyone for `ring_timeout`, sequential one member after
the other for each member's timeout; nobody answering leads to the group's fallback
(a number, `vm:MAILBOX`, or nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from firmware.switch.causes import Cause
from firmware.switch.features.settings import (
    OUTSIDE_NUMBER,
    VOICEMAIL_PREFIX,
    FeatureTable,
    RingGroupInfo,
)

MAX_FORWARDS = 5


@dataclass(frozen=True)
class Leg:
    kind: str  # "extension" or "trunk"
    number: str  # an extension, or the outside number without the trunk prefix


@dataclass(frozen=True)
class Ring:
    owner: str  # the extension or ring group this step rings for
    legs: tuple[Leg, ...]
    timeout: float  # no answer after this many seconds
    later: tuple[Leg, ...] = ()  # one-number: rung too once `later_after` has passed
    later_after: float = 0.0


@dataclass(frozen=True)
class ToVoicemail:
    box: str
    reason: str  # "busy" or "unavailable": which greeting the caller hears


@dataclass(frozen=True)
class GiveUp:
    cause: Cause


Step = Ring | ToVoicemail | GiveUp


@dataclass(frozen=True)
class Diversion:
    """One forward of this call, for the call record and the CSTA Diverted event."""

    reason: str  # always, busy, no-answer, dnd, group-fallback
    source: str
    target: str

    def __str__(self) -> str:
        return f"{self.reason}:{self.source}>{self.target}"


@dataclass
class Hunt:
    table: FeatureTable
    is_extension: Callable[[str], bool]
    default_timeout: float = 60.0
    diversions: list[Diversion] = field(default_factory=list)
    visited: set[str] = field(default_factory=set)
    current: Step | None = None
    _group: RingGroupInfo | None = None
    _members: list[str] = field(default_factory=list)  # sequential: the ones still to ring

    def start(self, number: str) -> Step:
        return self._set(self._number(number, Cause.NO_ANSWER))

    def failed(self, cause: Cause) -> Step:
        """The current `Ring` ended without an answer, for `cause` (busy beats the rest,
        as the call ranks its legs' causes)."""
        step = self.current
        if not isinstance(step, Ring):
            return self._set(GiveUp(cause))
        if self._group is not None and step.owner == self._group.number:
            return self._set(self._group_next(cause))
        ext = step.owner
        if not self.is_extension(ext):  # an outside number (forward to the PSTN)
            return self._set(GiveUp(cause))
        if cause is Cause.USER_BUSY:
            return self._set(self._busy(ext, cause))
        return self._set(self._no_answer(ext, cause))

    def _set(self, step: Step) -> Step:
        self.current = step
        return step

    # --- numbers ------------------------------------------------------------------------
    def _number(self, number: str, cause: Cause) -> Step:
        if self.is_extension(number):
            return self._extension(number, cause)
        group = self.table.group(number)
        if group is not None:
            return self._start_group(group, cause)
        if OUTSIDE_NUMBER.match(number):
            return Ring(number, (Leg("trunk", number[1:]),), self.default_timeout)
        return GiveUp(Cause.UNALLOCATED_NUMBER)

    def _forward(self, reason: str, source: str, target: str, cause: Cause) -> Step | None:
        """Follow a forward (None: not followed, the source is treated as if it had none).

        A forward always back into this call's path is ignored: the source rings itself.
        Any other forward back to a visited extension ends at that one's mailbox."""
        if len(self.diversions) >= MAX_FORWARDS:
            return None
        if target in self.visited:
            return None if reason == "always" else self._end(target, cause)
        self.diversions.append(Diversion(reason, source, target))
        return self._number(target, cause)

    def _extension(self, ext: str, cause: Cause) -> Step:
        if ext in self.visited:
            return self._end(ext, cause)
        self.visited.add(ext)
        f = self.table.of(ext)
        if f.forward_always:
            step = self._forward("always", ext, f.forward_always, cause)
            if step is not None:
                return step
        if f.dnd:
            return self._busy(ext, Cause.USER_BUSY, dnd=True)
        # without anywhere to go on to, ring as long as any call rings
        wait = (float(f.no_answer_timeout) if f.forward_no_answer or f.voicemail
                else self.default_timeout)
        desk = (Leg("extension", ext),)
        if f.mobile:  # stored as dialled: the trunk prefix, then the number
            return Ring(ext, desk, f.mobile_delay + wait, (Leg("trunk", f.mobile[1:]),),
                        float(f.mobile_delay))
        return Ring(ext, desk, wait)

    def _busy(self, ext: str, cause: Cause, dnd: bool = False) -> Step:
        f = self.table.of(ext)
        if f.forward_busy:
            step = self._forward("dnd" if dnd else "busy", ext, f.forward_busy, cause)
            if step is not None:
                return step
        if f.voicemail:
            return ToVoicemail(ext, "busy")
        return GiveUp(Cause.USER_BUSY)

    def _no_answer(self, ext: str, cause: Cause) -> Step:
        f = self.table.of(ext)
        if f.forward_no_answer:
            step = self._forward("no-answer", ext, f.forward_no_answer, cause)
            if step is not None:
                return step
        if f.voicemail:
            return ToVoicemail(ext, "unavailable")
        return GiveUp(cause)

    def _end(self, ext: str, cause: Cause) -> Step:
        """A loop back to `ext`, which did not answer before: its mailbox, or the end."""
        if self.table.of(ext).voicemail:
            return ToVoicemail(ext, "unavailable")
        return GiveUp(cause)

    # --- ring groups ----------------------------------------------------------------------
    def _start_group(self, group: RingGroupInfo, cause: Cause) -> Step:
        if group.number in self.visited:
            return GiveUp(cause)
        self.visited.add(group.number)
        self._group = group
        members = [m.extension for m in group.members
                   if self.is_extension(m.extension) and not self.table.of(m.extension).dnd]
        if not members:
            return self._group_fallback(group, Cause.USER_BUSY)
        if group.strategy == "sequential":
            self._members = members
            return self._group_next(cause)
        return Ring(group.number, tuple(Leg("extension", m) for m in members),
                    float(group.ring_timeout))

    def _group_next(self, cause: Cause) -> Step:
        group = self._group
        assert group is not None
        if group.strategy == "sequential" and self._members:
            ext = self._members.pop(0)
            timeout = next((m.timeout for m in group.members if m.extension == ext), None)
            return Ring(group.number, (Leg("extension", ext),),
                        float(timeout or group.ring_timeout))
        return self._group_fallback(group, cause)

    def _group_fallback(self, group: RingGroupInfo, cause: Cause) -> Step:
        self._group = None
        fb = group.fallback
        if fb.startswith(VOICEMAIL_PREFIX):
            box = fb[len(VOICEMAIL_PREFIX):]
            self.diversions.append(Diversion("group-fallback", group.number, fb))
            if self.is_extension(box):  # named explicitly: a message even if voicemail is off
                return ToVoicemail(box, "unavailable")
            return GiveUp(cause)
        if fb:
            step = self._forward("group-fallback", group.number, fb, cause)
            if step is not None:
                return step
        return GiveUp(cause)
