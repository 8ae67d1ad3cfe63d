"""ctypes binding of the part of libpri (Debian libpri 1.6, `/usr/lib/libpri.so.1.4`) we use.

This module is the thin seam to C: every struct layout, constant and prototype the box
relies on is declared here and nowhere else. Layouts follow /usr/include/libpri.h field
by field; `tests/unit/test_dahdi_libpri.py` checks the sizes and offsets the compiler
gives for that header on this architecture and round-trips real events through them.

Ownership and lifetime, as libpri defines them:
- `struct pri` has no public destructor in 1.6 (`pri_link_destroy` is internal), so a
  controller lives until the process ends; callers stop driving it instead.
- An event pointer (from pri_check_event / pri_schedule_run) points into the controller
  and is overwritten by the next call: copy what you need at once.
- `q931_call *` stays valid until libpri destroys the call (after RELEASE COMPLETE, or
  `pri_hangup` on a call already in the null state). libpri 1.6 validates call pointers
  on its API and complains instead of crashing on a stale one.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    Union,
    c_char,
    c_char_p,
    c_int,
    c_long,
    c_ubyte,
    c_uint,
    c_void_p,
)
from typing import Any

log = logging.getLogger(__name__)

# --- constants from libpri.h --------------------------------------------------------------

PRI_NETWORK = 1
PRI_CPE = 2

PRI_DEBUG_Q921_RAW = 1 << 0
PRI_DEBUG_Q921_DUMP = 1 << 1
PRI_DEBUG_Q921_STATE = 1 << 2
PRI_DEBUG_CONFIG = 1 << 3
PRI_DEBUG_Q931_DUMP = 1 << 5
PRI_DEBUG_Q931_STATE = 1 << 6
PRI_DEBUG_Q931_ANOMALY = 1 << 7

PRI_SWITCH_UNKNOWN = 0
PRI_SWITCH_NI2 = 1
PRI_SWITCH_DMS100 = 2
PRI_SWITCH_LUCENT5E = 3
PRI_SWITCH_ATT4ESS = 4
PRI_SWITCH_EUROISDN_E1 = 5
PRI_SWITCH_EUROISDN_T1 = 6
PRI_SWITCH_NI1 = 7
PRI_SWITCH_GR303_EOC = 8
PRI_SWITCH_GR303_TMC = 9
PRI_SWITCH_QSIG = 10

# Names as chan_dahdi.conf spells them (`switchtype=`), so installers meet familiar words.
SWITCH_TYPES: dict[str, int] = {
    "national": PRI_SWITCH_NI2,
    "ni1": PRI_SWITCH_NI1,
    "dms100": PRI_SWITCH_DMS100,
    "lucent5e": PRI_SWITCH_LUCENT5E,
    "4ess": PRI_SWITCH_ATT4ESS,
    "euroisdn": PRI_SWITCH_EUROISDN_E1,
    "euroisdn_t1": PRI_SWITCH_EUROISDN_T1,
    "qsig": PRI_SWITCH_QSIG,
}

PRI_EVENT_DCHAN_UP = 1
PRI_EVENT_DCHAN_DOWN = 2
PRI_EVENT_RESTART = 3
PRI_EVENT_CONFIG_ERR = 4
PRI_EVENT_RING = 5
PRI_EVENT_HANGUP = 6
PRI_EVENT_RINGING = 7
PRI_EVENT_ANSWER = 8
PRI_EVENT_HANGUP_ACK = 9
PRI_EVENT_RESTART_ACK = 10
PRI_EVENT_FACILITY = 11
PRI_EVENT_INFO_RECEIVED = 12
PRI_EVENT_PROCEEDING = 13
PRI_EVENT_SETUP_ACK = 14
PRI_EVENT_HANGUP_REQ = 15
PRI_EVENT_NOTIFY = 16
PRI_EVENT_PROGRESS = 17
PRI_EVENT_KEYPAD_DIGIT = 18
PRI_EVENT_SERVICE = 19
PRI_EVENT_SERVICE_ACK = 20
PRI_EVENT_HOLD = 21
PRI_EVENT_RETRIEVE = 24
PRI_EVENT_CONNECT_ACK = 27

PRI_PROG_CALL_NOT_E2E_ISDN = 1 << 0
PRI_PROG_INBAND_AVAILABLE = 1 << 3

# Numbering plan identifier (low nibble of a "plan") and type of number (high nibble).
PRI_NPI_UNKNOWN = 0x0
PRI_NPI_E163_E164 = 0x1
PRI_NPI_PRIVATE = 0x9
PRI_TON_UNKNOWN = 0x0
PRI_TON_INTERNATIONAL = 0x1
PRI_TON_NATIONAL = 0x2
PRI_TON_NET_SPECIFIC = 0x3
PRI_TON_SUBSCRIBER = 0x4
PRI_TON_ABBREVIATED = 0x6
PRI_INTERNATIONAL_ISDN = 0x11
PRI_NATIONAL_ISDN = 0x21
PRI_LOCAL_ISDN = 0x41
PRI_UNKNOWN = 0x0

PRI_PRES_ALLOWED = 0x00
PRI_PRES_RESTRICTED = 0x20
PRI_PRES_USER_NUMBER_UNSCREENED = 0x00
PRES_ALLOWED_USER_NUMBER_NOT_SCREENED = PRI_PRES_ALLOWED | PRI_PRES_USER_NUMBER_UNSCREENED

PRI_TRANS_CAP_SPEECH = 0x0
PRI_TRANS_CAP_3_1K_AUDIO = 0x10
PRI_LAYER_1_ULAW = 0x22
PRI_LAYER_1_ALAW = 0x23

# Q.931 timer indexes (enum PRI_TIMERS_AND_COUNTERS), for pri_set_timer / pri_get_timer.
PRI_TIMER_N200 = 0
PRI_TIMER_T200 = 4
PRI_TIMER_T203 = 7
PRI_TIMER_T303 = 11
PRI_TIMER_T305 = 13
PRI_TIMER_T308 = 16
PRI_TIMER_T309 = 17
PRI_TIMER_T316 = 21

# The event channel word: B-channel in bits 0-7 (0xFF: any), span in 8-15, explicit 16.
CHANNEL_MASK = 0xFF
CHANNEL_ANY = 0xFF


def plan(ton: int, npi: int = PRI_NPI_E163_E164) -> int:
    """The Q.931 "type of number + numbering plan" octet libpri calls a plan."""
    return ((ton & 0x7) << 4) | (npi & 0xF)


def ton_of(plan_value: int) -> int:
    return (plan_value >> 4) & 0x7


def npi_of(plan_value: int) -> int:
    return plan_value & 0xF


# --- structs from libpri.h ----------------------------------------------------------------


class Timeval(Structure):
    _fields_ = [("tv_sec", c_long), ("tv_usec", c_long)]


class PartyName(Structure):
    _fields_ = [
        ("valid", c_int),
        ("presentation", c_int),
        ("char_set", c_int),
        ("str", c_char * 64),
    ]


class PartyNumber(Structure):
    _fields_ = [
        ("valid", c_int),
        ("presentation", c_int),
        ("plan", c_int),
        ("str", c_char * 64),
    ]


class PartySubaddress(Structure):
    _fields_ = [
        ("valid", c_int),
        ("type", c_int),
        ("odd_even_indicator", c_int),
        ("length", c_int),
        ("data", c_ubyte * 32),
    ]


class PartyId(Structure):
    _fields_ = [("name", PartyName), ("number", PartyNumber), ("subaddress", PartySubaddress)]


class EventGeneric(Structure):
    _fields_ = [("e", c_int)]


class EventError(Structure):
    _fields_ = [("e", c_int), ("err", c_char * 256)]


class EventRestart(Structure):
    # also the layout of pri_event_restart_ack
    _fields_ = [("e", c_int), ("channel", c_int)]


class EventRinging(Structure):
    # also the layout of pri_event_answer
    _fields_ = [
        ("e", c_int),
        ("channel", c_int),
        ("cref", c_int),
        ("progress", c_int),
        ("progressmask", c_int),
        ("call", c_void_p),
        ("useruserinfo", c_char * 260),
        ("subcmds", c_void_p),
    ]


class EventRing(Structure):
    _fields_ = [
        ("e", c_int),
        ("channel", c_int),
        ("callingpres", c_int),
        ("callingplanani", c_int),
        ("callingplan", c_int),
        ("callingani", c_char * 256),
        ("callingnum", c_char * 256),
        ("callingname", c_char * 256),
        ("calledplan", c_int),
        ("ani2", c_int),
        ("callednum", c_char * 256),
        ("redirectingnum", c_char * 256),
        ("redirectingname", c_char * 256),
        ("redirectingreason", c_int),
        ("callingplanrdnis", c_int),
        ("useruserinfo", c_char * 260),
        ("flexible", c_int),
        ("cref", c_int),
        ("ctype", c_int),
        ("layer1", c_int),
        ("complete", c_int),
        ("call", c_void_p),
        ("callingsubaddr", c_char * 256),
        ("progress", c_int),
        ("progressmask", c_int),
        ("origcalledname", c_char * 256),
        ("origcallednum", c_char * 256),
        ("callingplanorigcalled", c_int),
        ("origredirectingreason", c_int),
        ("reversecharge", c_int),
        ("subcmds", c_void_p),
        ("calling", PartyId),
        ("called_subaddress", PartySubaddress),
        ("keypad_digits", c_char * 64),
    ]


class EventHangup(Structure):
    _fields_ = [
        ("e", c_int),
        ("channel", c_int),
        ("cause", c_int),
        ("cref", c_int),
        ("call", c_void_p),
        ("aoc_units", c_long),
        ("useruserinfo", c_char * 260),
        ("subcmds", c_void_p),
        ("call_held", c_void_p),
        ("call_active", c_void_p),
    ]


class EventProceeding(Structure):
    # also the layout of PRI_EVENT_PROGRESS
    _fields_ = [
        ("e", c_int),
        ("channel", c_int),
        ("cref", c_int),
        ("progress", c_int),
        ("progressmask", c_int),
        ("cause", c_int),
        ("call", c_void_p),
        ("subcmds", c_void_p),
    ]


class EventSetupAck(Structure):
    _fields_ = [
        ("e", c_int),
        ("channel", c_int),
        ("call", c_void_p),
        ("subcmds", c_void_p),
        ("progressmask", c_int),
    ]


class EventNotify(Structure):
    _fields_ = [
        ("e", c_int),
        ("channel", c_int),
        ("info", c_int),
        ("subcmds", c_void_p),
        ("call", c_void_p),
    ]


class EventKeypadDigit(Structure):
    _fields_ = [
        ("e", c_int),
        ("channel", c_int),
        ("call", c_void_p),
        ("digits", c_char * 64),
        ("subcmds", c_void_p),
    ]


class EventCallOnly(Structure):
    # the common head of hold / retrieve / connect_ack events
    _fields_ = [("e", c_int), ("channel", c_int), ("call", c_void_p)]


class PriEvent(Union):
    """`pri_event`: the views we read. The ring view is the largest member, so the union
    has the C size even without the views we leave out (facility, service, ...)."""

    _fields_ = [
        ("e", c_int),
        ("gen", EventGeneric),
        ("restart", EventRestart),
        ("err", EventError),
        ("ring", EventRing),
        ("hangup", EventHangup),
        ("ringing", EventRinging),
        ("answer", EventRinging),
        ("restartack", EventRestart),
        ("proceeding", EventProceeding),
        ("setup_ack", EventSetupAck),
        ("notify", EventNotify),
        ("digit", EventKeypadDigit),
        ("callonly", EventCallOnly),
    ]


# int (*pri_io_cb)(struct pri *pri, void *buf, int buflen)
IoCallback = CFUNCTYPE(c_int, c_void_p, c_void_p, c_int)
# void (*)(struct pri *pri, char *text)
MessageCallback = CFUNCTYPE(None, c_void_p, c_char_p)

# name: (restype, argtypes)
_PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    "pri_new_cb": (c_void_p, [c_int, c_int, c_int, IoCallback, IoCallback, c_void_p]),
    "pri_get_userdata": (c_void_p, [c_void_p]),
    "pri_set_debug": (None, [c_void_p, c_int]),
    "pri_check_event": (POINTER(PriEvent), [c_void_p]),
    "pri_schedule_next": (POINTER(Timeval), [c_void_p]),
    "pri_schedule_run": (POINTER(PriEvent), [c_void_p]),
    "pri_set_overlapdial": (None, [c_void_p, c_int]),
    "pri_set_timer": (c_int, [c_void_p, c_int, c_int]),
    "pri_get_timer": (c_int, [c_void_p, c_int]),
    "pri_set_inbanddisconnect": (None, [c_void_p, c_uint]),
    "pri_new_call": (c_void_p, [c_void_p]),
    "pri_sr_new": (c_void_p, []),
    "pri_sr_free": (None, [c_void_p]),
    "pri_sr_set_channel": (c_int, [c_void_p, c_int, c_int, c_int]),
    "pri_sr_set_bearer": (c_int, [c_void_p, c_int, c_int]),
    "pri_sr_set_called": (c_int, [c_void_p, c_char_p, c_int, c_int]),
    "pri_sr_set_caller": (c_int, [c_void_p, c_char_p, c_char_p, c_int, c_int]),
    "pri_setup": (c_int, [c_void_p, c_void_p, c_void_p]),
    "pri_acknowledge": (c_int, [c_void_p, c_void_p, c_int, c_int]),
    "pri_proceeding": (c_int, [c_void_p, c_void_p, c_int, c_int]),
    "pri_progress": (c_int, [c_void_p, c_void_p, c_int, c_int]),
    "pri_need_more_info": (c_int, [c_void_p, c_void_p, c_int, c_int]),
    "pri_answer": (c_int, [c_void_p, c_void_p, c_int, c_int]),
    "pri_hangup": (c_int, [c_void_p, c_void_p, c_int]),
    "pri_destroycall": (None, [c_void_p, c_void_p]),
    "pri_information": (c_int, [c_void_p, c_void_p, c_char]),
    "pri_keypad_facility": (c_int, [c_void_p, c_void_p, c_char_p]),
    "pri_reset": (c_int, [c_void_p, c_int]),
    "pri_set_message": (None, [MessageCallback]),
    "pri_set_error": (None, [MessageCallback]),
    "pri_event2str": (c_char_p, [c_int]),
    "pri_cause2str": (c_char_p, [c_int]),
    "pri_get_version": (c_char_p, []),
    # Exported by libpri 1.6 but absent from libpri.h: whether a call pointer is still
    # one of the controller's calls (it only compares addresses, so a stale pointer is
    # safe to ask about). libpri frees some calls without any event -- e.g. RELEASE
    # COMPLETE for a call refused before it was acknowledged -- and this is how a span
    # notices.
    "q931_is_call_valid": (c_int, [c_void_p, c_void_p]),
}

_CANDIDATES = ("/usr/lib/libpri.so.1.4", "libpri.so.1.4", "libpri.so.1")


class LibpriUnavailable(OSError):
    """libpri is not installed (Debian: libpri1.4)."""


def _on_message(_pri: int | None, text: bytes | None) -> None:
    if text:
        log.debug("libpri: %s", text.decode("ascii", "replace").rstrip())


def _on_error(_pri: int | None, text: bytes | None) -> None:
    if text:
        log.warning("libpri: %s", text.decode("ascii", "replace").rstrip())


# Module lifetime: libpri keeps these function pointers globally.
_MESSAGE_CB = MessageCallback(_on_message)
_ERROR_CB = MessageCallback(_on_error)

_lib: ctypes.CDLL | None = None


def load() -> ctypes.CDLL:
    """The library with every prototype declared; loaded once per process."""
    global _lib
    if _lib is not None:
        return _lib
    found = ctypes.util.find_library("pri")
    errors = []
    for name in (*_CANDIDATES, *((found,) if found else ())):
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise LibpriUnavailable("libpri not found: " + "; ".join(errors))
    for fname, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, fname)
        fn.restype = restype
        fn.argtypes = argtypes
    # libpri prints to stdout/stderr by default; the box logs through `logging` instead.
    lib.pri_set_message(_MESSAGE_CB)
    lib.pri_set_error(_ERROR_CB)
    _lib = lib
    return lib


def version() -> str:
    raw = load().pri_get_version()
    return raw.decode() if isinstance(raw, bytes) else "?"


def cause_text(cause: int) -> str:
    raw = load().pri_cause2str(cause)
    return raw.decode() if isinstance(raw, bytes) else str(cause)


def event_name(e: int) -> str:
    raw = load().pri_event2str(e)
    return raw.decode() if isinstance(raw, bytes) else str(e)
