"""Call control: hold, transfer, consultation, 3-way, conference rooms, pickup, park and
supervision on live calls — one API (`CallControl`, api.py) for in-call DTMF feature
codes, dialled codes, SIP REFER from phones, the `cc` control command and the CTI server.

Model (Asterisk's split): a `Channel` is a leg and stays with the `Call` that listens
to it; a media `Bridge` (firmware/media/bridge.py) is who hears whom; call control moves
legs between calls and their media between bridges. A call keeps its caller (`a`) and
its current other party (`b`); more parties (3-way) are `Call.parties`; a consultation
is a second bridge owned by the call; supervisors and conference participants keep
their own `Call` (their own record) and lend their leg's media to another bridge.

Every public method returns at once: it either raises `CallControlError` saying why the
request is impossible (and nothing changed), or it started the operation, whose
progress arrives as events on the bus (Held, Retrieved, Transferred, Conferenced,
Diverted, ConsultationStarted, MonitorChanged, ConnectionCleared, CallEnded).
Devices are extension numbers; a call is named by its id, or by a device on it.

One module per thing: lookup (finding calls, legs and targets), hold, transfer,
consultation, threeway, parking, pickup, supervision, rooms, feature_digits (in-call
keys), dialled (dialled codes), device_calls (the box ringing or answering a phone for
a request), announce (prompts to one leg), dialplan (the numbers and keys).
"""

from firmware.switch.callcontrol.api import CallControl
from firmware.switch.callcontrol.consultation import Consultation
from firmware.switch.callcontrol.dialplan import PARK_SLOTS, ROOMS
from firmware.switch.callcontrol.lookup import CallControlError, device_of, leg_name
from firmware.switch.callcontrol.rooms import Room
from firmware.switch.callcontrol.supervision import Monitor

__all__ = [
    "PARK_SLOTS",
    "ROOMS",
    "CallControl",
    "CallControlError",
    "Consultation",
    "Monitor",
    "Room",
    "device_of",
    "leg_name",
]
