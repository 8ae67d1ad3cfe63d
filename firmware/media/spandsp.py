"""ctypes binding of the part of spandsp (Debian libspandsp2, 0.0.6) the media core uses.

The one place that knows spandsp's C prototypes. Every `*_init` accepts NULL and
allocates its own state, so no struct layouts are needed (PEERS.md); states are opaque
pointers, freed with the matching `*_free`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from ctypes import CFUNCTYPE, POINTER, c_char_p, c_int, c_int16, c_size_t, c_uint8, c_void_p
from typing import Any

_CANDIDATES = ("libspandsp.so.2", "libspandsp.so")

_PROTOTYPES: dict[str, tuple[Any, list[Any]]] = {
    # dtmf_rx_state_t *dtmf_rx_init(dtmf_rx_state_t *s, digits_rx_callback_t cb, void *data)
    "dtmf_rx_init": (c_void_p, [c_void_p, c_void_p, c_void_p]),
    "dtmf_rx": (c_int, [c_void_p, POINTER(c_int16), c_int]),
    "dtmf_rx_get": (c_size_t, [c_void_p, c_char_p, c_int]),
    "dtmf_rx_free": (c_int, [c_void_p]),
    # caller ID (ADSI): adsi_rx_init(s, standard, put_msg, user_data)
    "adsi_rx_init": (c_void_p, [c_void_p, c_int, c_void_p, c_void_p]),
    "adsi_rx": (c_int, [c_void_p, POINTER(c_int16), c_int]),
    "adsi_rx_free": (c_int, [c_void_p]),
    "adsi_tx_init": (c_void_p, [c_void_p, c_int]),
    "adsi_tx": (c_int, [c_void_p, POINTER(c_int16), c_int]),
    "adsi_tx_put_message": (c_int, [c_void_p, POINTER(c_uint8), c_int]),
    "adsi_tx_free": (c_int, [c_void_p]),
    # LMS line echo canceller. (Debian's build of the G.168 `echo_can_*` prints debug
    # lines to stdout for every sample, so it is unusable in a daemon.)
    "modem_echo_can_init": (c_void_p, [c_int]),
    "modem_echo_can_update": (c_int16, [c_void_p, c_int16, c_int16]),
    "modem_echo_can_adaption_mode": (None, [c_void_p, c_int]),
    "modem_echo_can_flush": (None, [c_void_p]),
    "modem_echo_can_free": (None, [c_void_p]),
}

# void (*put_msg_func_t)(void *user_data, const uint8_t *msg, int len)
PUT_MSG = CFUNCTYPE(None, c_void_p, POINTER(c_uint8), c_int)

# adsi.h standards
ADSI_STANDARD_CLASS = 1  # Bell 202 FSK (Telcordia GR-30; North America, China)
ADSI_STANDARD_CLIP = 2  # V.23 FSK (ETSI EN 300 659-1)
ADSI_STANDARD_CLIP_DTMF = 5  # DTMF caller ID (ETSI EN 300 659-1 annex)

_lib: ctypes.CDLL | None = None


class SpandspUnavailable(OSError):
    """spandsp is not installed (Debian: libspandsp2)."""


def load() -> ctypes.CDLL:
    global _lib
    if _lib is not None:
        return _lib
    found = ctypes.util.find_library("spandsp")
    errors = []
    for name in (*_CANDIDATES, *((found,) if found else ())):
        try:
            lib = ctypes.CDLL(name)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise SpandspUnavailable("spandsp not found: " + "; ".join(errors))
    for fname, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, fname)
        fn.restype = restype
        fn.argtypes = argtypes
    _lib = lib
    return lib
