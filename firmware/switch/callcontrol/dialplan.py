"""The numbers and keys of call control in the shared dial plan (BRIEF), and its timers."""

from __future__ import annotations

import re

from firmware.media.mixer import Role

PARK_NUMBER = "700"  # transfer or dial 700 to park; the slot is announced
PARK_SLOTS = tuple(str(n) for n in range(701, 721))
PARK_TIMEOUT = 120.0  # then the call rings the phone that parked it again
ROOMS = re.compile(r"60\d\d")  # conference rooms 6000-6099 (PIN per room)
PICKUP = "*8"  # *8 group pickup, *8 + extension directed pickup

# in-call keys: ## + number + # blind transfer, *2 + number + # consultation, then
# *3 three-way and *0 back to the caller
BLIND = "##"
CONSULT = "*2"
THREE_WAY = "*3"
BACK = "*0"
DIGIT_TIMEOUT = 5.0  # a feature code not finished within this is forgotten

# supervision: *51/*52/*53 + extension; keys 4/5/6 switch mode during the session
MODES = {"listen": Role.LISTEN, "whisper": Role.WHISPER, "barge": Role.BARGE}
MODE_KEYS = {"4": "listen", "5": "whisper", "6": "barge"}
MONITOR_CODES = {"*51": "listen", "*52": "whisper", "*53": "barge"}
PIN_TRIES = 3
