"""ctypes binding of the parts of openr2 (Debian `libopenr2-3`, 1.3.x) the R2 trunk
uses. Facts from `openr2/r2context.h`, `r2chan.h`, `r2proto.h`; NULL for the MF and
transcoder interfaces selects openr2's own MF R2 tone code and A-law tables.

Debian's openr2 does its channel I/O itself on DAHDI file descriptors
(`openr2_chan_new_from_fd`): it reads and writes audio for the MF tones and uses DAHDI's
CAS ioctls for the line signals, so it only runs where DAHDI is loaded.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

LIBRARY = "libopenr2.so.3"

# openr2_variant_t (r2proto.h)
VARIANTS = {"china": 40, "cn": 40, "itu": 70, "mexico": 50, "brazil": 10, "argentina": 0}
# openr2_calling_party_category_t
CATEGORIES = {
    "national_subscriber": 0, "national_priority_subscriber": 1,
    "international_subscriber": 2, "international_priority_subscriber": 3,
    "collect_call": 4, "unknown": 5,
}
# openr2_call_mode_t
CALL_WITH_CHARGE, CALL_NO_CHARGE, CALL_SPECIAL = 0, 1, 2
# openr2_call_disconnect_cause_t
(CAUSE_BUSY_NUMBER, CAUSE_NETWORK_CONGESTION, CAUSE_UNALLOCATED_NUMBER, CAUSE_OUT_OF_ORDER,
 CAUSE_UNSPECIFIED, CAUSE_NO_ANSWER, CAUSE_NORMAL_CLEARING, CAUSE_COLLECT_CALL_REJECTED,
 CAUSE_FORCED_RELEASE, CAUSE_NUMBER_CHANGED) = range(10)
# openr2_log_level_t
LOG_ERROR, LOG_WARNING, LOG_NOTICE, LOG_DEBUG = 1, 2, 4, 8
LOG_ALL = 0xFFF

ChanCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
OfferedCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                             ctypes.c_int)
IntArgCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int)
ReadCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_ubyte), ctypes.c_int)
# va_list arrives as a pointer on x86-64/arm64: we keep only the format string
ContextLogCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p,
                                ctypes.c_void_p)
DigitCb = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char)
AniDigitCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char)
ChanLogCb = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p,
                             ctypes.c_void_p)


class EventInterface(ctypes.Structure):
    # openr2_event_interface_t, in its order
    _fields_ = [
        ("on_call_init", ChanCb),
        ("on_call_offered", OfferedCb),
        ("on_call_accepted", IntArgCb),
        ("on_call_answered", ChanCb),
        ("on_call_disconnect", IntArgCb),
        ("on_call_end", ChanCb),
        ("on_call_read", ReadCb),
        ("on_hardware_alarm", IntArgCb),
        ("on_os_error", IntArgCb),
        ("on_protocol_error", IntArgCb),
        ("on_line_blocked", ChanCb),
        ("on_line_idle", ChanCb),
        ("on_context_log", ContextLogCb),
        ("on_dnis_digit_received", DigitCb),
        ("on_ani_digit_received", AniDigitCb),
        ("on_billing_pulse_received", ChanCb),
    ]


_lib: Any = None


def load() -> Any:
    """The library with its prototypes set; OSError when it is not installed."""
    global _lib
    if _lib is not None:
        return _lib
    lib = ctypes.CDLL(ctypes.util.find_library("openr2") or LIBRARY)
    vp, i, cp = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
    protos: dict[str, tuple[Any, list[Any]]] = {
        "openr2_context_new": (vp, [vp, ctypes.POINTER(EventInterface), vp, i, i, i]),
        "openr2_context_delete": (None, [vp]),
        "openr2_context_set_log_level": (None, [vp, i]),
        "openr2_context_set_ani_first": (None, [vp, i]),
        "openr2_context_set_immediate_accept": (None, [vp, i]),
        "openr2_context_set_mf_threshold": (None, [vp, i]),
        "openr2_context_get_last_error": (i, [vp]),
        "openr2_context_error_string": (cp, [i]),
        "openr2_chan_new_from_fd": (vp, [vp, i, vp, vp]),
        "openr2_chan_delete": (None, [vp]),
        "openr2_chan_process_event": (i, [vp]),
        "openr2_chan_accept_call": (i, [vp, i]),
        "openr2_chan_answer_call": (i, [vp]),
        "openr2_chan_disconnect_call": (i, [vp, i]),
        "openr2_chan_make_call": (i, [vp, cp, cp, i]),
        "openr2_chan_set_idle": (i, [vp]),
        "openr2_chan_handle_cas": (i, [vp]),
        "openr2_chan_get_time_to_next_event": (i, [vp]),
        "openr2_chan_set_log_level": (i, [vp, i]),
        "openr2_chan_set_logging_func": (None, [vp, ChanLogCb]),
        "openr2_chan_enable_read": (None, [vp]),
        "openr2_chan_disable_read": (None, [vp]),
        "openr2_chan_get_number": (i, [vp]),
        "openr2_chan_get_call_state_string": (cp, [vp]),
        "openr2_chan_get_r2_state_string": (cp, [vp]),
        "openr2_chan_get_rx_cas_string": (cp, [vp]),
        "openr2_chan_get_tx_cas_string": (cp, [vp]),
        "openr2_proto_get_variant_string": (cp, [i]),
        "openr2_proto_get_disconnect_string": (cp, [i]),
        "openr2_proto_get_category_string": (cp, [i]),
        "openr2_proto_get_error": (cp, [i]),
        "openr2_get_version": (cp, []),
    }
    for name, (restype, argtypes) in protos.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    _lib = lib
    return lib


def text(raw: bytes | None) -> str:
    return raw.decode("ascii", "replace") if raw else ""


def variant(name: str) -> int:
    try:
        return VARIANTS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown R2 variant {name!r} (known: "
                         f"{', '.join(sorted(VARIANTS))})") from None


def category(name: str) -> int:
    try:
        return CATEGORIES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown calling party category {name!r} (known: "
                         f"{', '.join(CATEGORIES)})") from None


# Q.850 <-> R2 disconnect causes (group B signals).
_TO_Q850 = {
    CAUSE_BUSY_NUMBER: 17, CAUSE_NETWORK_CONGESTION: 34, CAUSE_UNALLOCATED_NUMBER: 1,
    CAUSE_OUT_OF_ORDER: 27, CAUSE_UNSPECIFIED: 31, CAUSE_NO_ANSWER: 19,
    CAUSE_NORMAL_CLEARING: 16, CAUSE_COLLECT_CALL_REJECTED: 21, CAUSE_FORCED_RELEASE: 16,
    CAUSE_NUMBER_CHANGED: 22,
}


def to_q850(r2_cause: int) -> int:
    return _TO_Q850.get(r2_cause, 31)


def from_q850(q850: int) -> int:
    if q850 == 17:
        return CAUSE_BUSY_NUMBER
    if q850 in (34, 38, 41, 42, 44, 47):
        return CAUSE_NETWORK_CONGESTION
    if q850 in (1, 3, 28):
        return CAUSE_UNALLOCATED_NUMBER
    if q850 == 27:
        return CAUSE_OUT_OF_ORDER
    if q850 in (18, 19):
        return CAUSE_NO_ANSWER
    if q850 == 22:
        return CAUSE_NUMBER_CHANGED
    if q850 in (16, 31) or q850 < 16:
        return CAUSE_NORMAL_CLEARING if q850 == 16 else CAUSE_UNSPECIFIED
    return CAUSE_UNSPECIFIED
