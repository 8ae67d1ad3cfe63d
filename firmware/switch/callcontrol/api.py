"""`CallControl`: the one call-control API that in-call DTMF codes, dialled codes, SIP
REFER, the `cc` control command and the CTI server all use. A thin facade: each request
goes to the module that does that one thing; the hooks from the switch and its calls
(a dialled number, a key, a leg hanging up, a call ending) go to each module in turn."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from firmware.switch.callcontrol.announce import Announcer
from firmware.switch.callcontrol.consultation import Consultation, Consultations
from firmware.switch.callcontrol.device_calls import DeviceCalls
from firmware.switch.callcontrol.dialled import DialledCodes
from firmware.switch.callcontrol.feature_digits import FeatureDigits
from firmware.switch.callcontrol.hold import Holding
from firmware.switch.callcontrol.lookup import Lookup
from firmware.switch.callcontrol.parking import Parking
from firmware.switch.callcontrol.pickup import Pickup
from firmware.switch.callcontrol.rooms import Room, Rooms
from firmware.switch.callcontrol.supervision import Monitor, Supervision
from firmware.switch.callcontrol.threeway import ThreeWay
from firmware.switch.callcontrol.transfer import Transfers
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel

if TYPE_CHECKING:
    from firmware.switch.call import Call
    from firmware.switch.core import Switch


class CallControl:
    def __init__(self, switch: Switch, rooms: dict[str, str] | None = None,
                 may_monitor: Callable[[str, str], bool] | None = None) -> None:
        self.switch = switch
        self.lookup = Lookup(self)
        self.announcer = Announcer(switch)
        self.device_calls = DeviceCalls(self)
        self.holding = Holding(self)
        self.transfers = Transfers(self)
        self.consultations = Consultations(self)
        self.threeway = ThreeWay(self)
        self.parking = Parking(self)
        self.pickups = Pickup(self)
        self.supervision = Supervision(self)
        self.conference_rooms = Rooms(self, rooms)
        self.feature_digits = FeatureDigits(self)
        self.dialled_codes = DialledCodes(self)
        if may_monitor is not None:
            self.supervision.may_monitor = may_monitor

    def publish(self, event: Any) -> None:
        self.switch.bus.publish(event)

    # --- state and settings the switch and switchd read or set ---------------------------
    @property
    def consults(self) -> dict[str, Consultation]:
        return self.consultations.active

    @property
    def parked(self) -> dict[str, Call]:
        return self.parking.parked

    @property
    def park_timeout(self) -> float:
        return self.parking.timeout

    @park_timeout.setter
    def park_timeout(self, seconds: float) -> None:
        self.parking.timeout = seconds

    @property
    def monitors(self) -> dict[str, Monitor]:
        return self.supervision.monitors

    @property
    def may_monitor(self) -> Callable[[str, str], bool]:
        return self.supervision.may_monitor

    @may_monitor.setter
    def may_monitor(self, check: Callable[[str, str], bool]) -> None:
        self.supervision.may_monitor = check

    @property
    def rooms(self) -> dict[str, Room]:
        return self.conference_rooms.rooms

    @property
    def room_pins(self) -> dict[str, str]:
        return self.conference_rooms.pins

    @room_pins.setter
    def room_pins(self, pins: dict[str, str]) -> None:
        # a room in use keeps its bridge and members; a new PIN counts for new callers
        self.conference_rooms.pins = dict(pins)

    def enter_room(self, call: Call, number: str) -> Cause | None:
        """A call routed to a conference room (a DID, an IVR transfer): asks its PIN."""
        return self.conference_rooms.enter(call, number)

    # --- requests (each returns at once, or raises CallControlError) ----------------------
    def find_call(self, device: str) -> Call:
        return self.lookup.find_call(device)

    def hold(self, call_id: str | None, device: str) -> dict[str, str]:
        return self.holding.hold(call_id, device)

    def retrieve(self, call_id: str | None, device: str) -> dict[str, str]:
        return self.holding.retrieve(call_id, device)

    def clear_connection(self, call_id: str | None, device: str) -> dict[str, str]:
        return self.holding.clear_connection(call_id, device)

    def clear_call(self, call_id: str) -> dict[str, str]:
        return self.holding.clear_call(call_id)

    def blind_transfer(self, call_id: str | None, device: str, target: str,
                       *, kind: str = "blind") -> dict[str, str]:
        return self.transfers.blind_transfer(call_id, device, target, kind=kind)

    def consult(self, call_id: str | None, device: str, target: str) -> dict[str, str]:
        return self.consultations.consult(call_id, device, target)

    def complete_transfer(self, call_id: str | None, device: str) -> dict[str, str]:
        return self.consultations.complete_transfer(call_id, device)

    def conference_consult(self, call_id: str | None, device: str) -> dict[str, str]:
        return self.consultations.conference_consult(call_id, device)

    def cancel_consult(self, call_id: str | None, device: str) -> dict[str, str]:
        return self.consultations.cancel_consult(call_id, device)

    def conference(self, call_id: str | None, device: str, target: str) -> dict[str, str]:
        return self.threeway.conference(call_id, device, target)

    def ringing_calls(self, device: str | None = None) -> list[Call]:
        return self.pickups.ringing_calls(device)

    def pickup_with(self, leg: Channel, device: str | None) -> Call:
        return self.pickups.pickup_with(leg, device)

    def pickup(self, device: str, target: str | None = None) -> dict[str, str]:
        return self.pickups.pickup(device, target)

    def park(self, call_id: str | None, device: str) -> str:
        return self.parking.park(call_id, device)

    def unpark_with(self, leg: Channel, slot: str) -> Call:
        return self.parking.unpark_with(leg, slot)

    def retrieve_parked(self, device: str, slot: str) -> dict[str, str]:
        return self.parking.retrieve_parked(device, slot)

    def monitor_with(self, sup_call: Call, target: str, mode: str) -> Monitor:
        return self.supervision.monitor_with(sup_call, target, mode)

    def monitor(self, supervisor: str, target: str, mode: str = "listen") -> dict[str, str]:
        return self.supervision.monitor(supervisor, target, mode)

    def set_monitor_mode(self, supervisor: str, mode: str) -> dict[str, str]:
        return self.supervision.set_monitor_mode(supervisor, mode)

    def stop_monitor(self, supervisor: str) -> dict[str, str]:
        return self.supervision.stop_monitor(supervisor)

    def force_release(self, supervisor: str, target: str) -> dict[str, str]:
        return self.supervision.force_release(supervisor, target)

    def force_transfer(self, supervisor: str, target: str, to: str) -> dict[str, str]:
        return self.supervision.force_transfer(supervisor, target, to)

    def room_status(self) -> list[dict[str, Any]]:
        return self.conference_rooms.status()

    # --- from phones (SIP) ----------------------------------------------------------------
    def refer(self, call: Call, ch: Channel, target: str,
              replaces: Channel | None) -> str | None:
        return self.transfers.refer(call, ch, target, replaces)

    def replaces(self, call: Call, transferor: Channel, other_call: Call,
                 other_leg: Channel) -> None:
        self.transfers.replaces(call, transferor, other_call, other_leg)

    def phone_hold(self, call: Call, ch: Channel, held: bool) -> None:
        self.holding.phone_hold(call, ch, held)

    # --- hooks from the switch and the calls ----------------------------------------------
    def dialled(self, call: Call) -> bool:
        """A new call to a feature code or a room: handled here (True) or not ours."""
        return self.dialled_codes.dialled(call)

    def digit(self, call: Call, ch: Channel, digit: str) -> bool:
        """A key from a leg of `call`; True when call control took it."""
        return (self.conference_rooms.digit(call, ch, digit)
                or self.supervision.digit(call, ch, digit)
                or self.feature_digits.digit(call, ch, digit))

    def leg_hungup(self, call: Call, ch: Channel, cause: Cause) -> bool:
        """A leg of `call` hung up; True when call control dealt with it."""
        dealt = self.consultations.leg_hungup(call, ch)
        if dealt is not None:
            return dealt
        return self.threeway.leg_hungup(call, ch)

    def call_finished(self, call: Call) -> None:
        """The call is over: whatever call control held for it goes too."""
        self.consultations.call_finished(call)
        self.conference_rooms.call_finished(call)
        self.feature_digits.call_finished(call)
        self.threeway.call_finished(call)
        self.parking.call_finished(call)
        self.supervision.call_finished(call)

    def consult_target_hungup(self, call: Call, leg: Channel) -> None:
        self.consultations.target_hungup(call, leg)

    def via_ended(self, via: Call) -> None:
        self.consultations.via_ended(via)

    def status(self) -> dict[str, Any]:
        return {
            "consultations": self.consultations.status(),
            "parked": {slot: call.id for slot, call in self.parked.items()},
            "monitors": self.supervision.status(),
            "rooms": self.conference_rooms.status(),
        }
