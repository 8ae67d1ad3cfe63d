"""Q.850 cause codes: the one hangup vocabulary of the switch.

Every driver maps its own signalling to these (SIP status codes per RFC 3398, ISDN
natively, FXO from tone/polarity detection), so the CDR and the router never see
protocol-specific codes.
"""

from __future__ import annotations

from enum import IntEnum


class Cause(IntEnum):
    UNALLOCATED_NUMBER = 1
    NO_ROUTE_DESTINATION = 3
    NORMAL_CLEARING = 16
    USER_BUSY = 17
    NO_USER_RESPONSE = 18
    NO_ANSWER = 19
    SUBSCRIBER_ABSENT = 20
    CALL_REJECTED = 21
    NUMBER_CHANGED = 22
    NON_SELECTED_USER_CLEARING = 26
    DESTINATION_OUT_OF_ORDER = 27
    INVALID_NUMBER_FORMAT = 28
    NORMAL_UNSPECIFIED = 31
    NO_CIRCUIT_AVAILABLE = 34
    NETWORK_OUT_OF_ORDER = 38
    TEMPORARY_FAILURE = 41
    SWITCH_CONGESTION = 42
    REQUESTED_CHAN_UNAVAIL = 44
    BEARER_CAPABILITY_NOT_AVAIL = 58
    INCOMPATIBLE_DESTINATION = 88
    RECOVERY_ON_TIMER_EXPIRE = 102
    INTERWORKING = 127
    # Not in Q.850: the caller gave up before answer (SIP CANCEL, ISDN DISCONNECT in
    # alerting). Kept apart from NORMAL_CLEARING so CDRs can tell "abandoned" from "ended".
    ORIGINATOR_CANCEL = 487


# RFC 3398 section 8.2.6.1, SIP status -> Q.850
_SIP_TO_Q850: dict[int, Cause] = {
    400: Cause.INTERWORKING,
    401: Cause.CALL_REJECTED,
    402: Cause.CALL_REJECTED,
    403: Cause.CALL_REJECTED,
    404: Cause.UNALLOCATED_NUMBER,
    405: Cause.INTERWORKING,
    406: Cause.INTERWORKING,
    407: Cause.CALL_REJECTED,
    408: Cause.RECOVERY_ON_TIMER_EXPIRE,
    410: Cause.NUMBER_CHANGED,
    413: Cause.INTERWORKING,
    414: Cause.INTERWORKING,
    415: Cause.INTERWORKING,
    416: Cause.INTERWORKING,
    420: Cause.INTERWORKING,
    421: Cause.INTERWORKING,
    423: Cause.INTERWORKING,
    480: Cause.NO_USER_RESPONSE,
    481: Cause.INTERWORKING,
    482: Cause.INTERWORKING,
    483: Cause.INTERWORKING,
    484: Cause.INVALID_NUMBER_FORMAT,
    485: Cause.UNALLOCATED_NUMBER,
    486: Cause.USER_BUSY,
    487: Cause.ORIGINATOR_CANCEL,
    488: Cause.INCOMPATIBLE_DESTINATION,
    500: Cause.TEMPORARY_FAILURE,
    501: Cause.INTERWORKING,
    502: Cause.NETWORK_OUT_OF_ORDER,
    503: Cause.TEMPORARY_FAILURE,
    504: Cause.RECOVERY_ON_TIMER_EXPIRE,
    505: Cause.INTERWORKING,
    580: Cause.BEARER_CAPABILITY_NOT_AVAIL,
    600: Cause.USER_BUSY,
    603: Cause.CALL_REJECTED,
    604: Cause.UNALLOCATED_NUMBER,
    606: Cause.INCOMPATIBLE_DESTINATION,
}

# RFC 3398 section 7.2.4.1, Q.850 -> SIP status (with reason phrase)
_Q850_TO_SIP: dict[Cause, tuple[int, str]] = {
    Cause.UNALLOCATED_NUMBER: (404, "Not Found"),
    Cause.NO_ROUTE_DESTINATION: (404, "Not Found"),
    Cause.USER_BUSY: (486, "Busy Here"),
    Cause.NO_USER_RESPONSE: (408, "Request Timeout"),
    Cause.NO_ANSWER: (480, "Temporarily Unavailable"),
    Cause.SUBSCRIBER_ABSENT: (480, "Temporarily Unavailable"),
    Cause.CALL_REJECTED: (603, "Decline"),
    Cause.NUMBER_CHANGED: (410, "Gone"),
    Cause.DESTINATION_OUT_OF_ORDER: (502, "Bad Gateway"),
    Cause.INVALID_NUMBER_FORMAT: (484, "Address Incomplete"),
    Cause.NO_CIRCUIT_AVAILABLE: (503, "Service Unavailable"),
    Cause.NETWORK_OUT_OF_ORDER: (503, "Service Unavailable"),
    Cause.TEMPORARY_FAILURE: (503, "Service Unavailable"),
    Cause.SWITCH_CONGESTION: (503, "Service Unavailable"),
    Cause.REQUESTED_CHAN_UNAVAIL: (503, "Service Unavailable"),
    Cause.BEARER_CAPABILITY_NOT_AVAIL: (488, "Not Acceptable Here"),
    Cause.INCOMPATIBLE_DESTINATION: (488, "Not Acceptable Here"),
    Cause.RECOVERY_ON_TIMER_EXPIRE: (504, "Server Time-out"),
    Cause.ORIGINATOR_CANCEL: (487, "Request Terminated"),
}


def cause_from_sip(status: int) -> Cause:
    if status in _SIP_TO_Q850:
        return _SIP_TO_Q850[status]
    if 400 <= status < 500:
        return Cause.INTERWORKING
    if 500 <= status < 600:
        return Cause.TEMPORARY_FAILURE
    return Cause.NORMAL_UNSPECIFIED


def sip_from_cause(cause: Cause) -> tuple[int, str]:
    return _Q850_TO_SIP.get(cause, (480, "Temporarily Unavailable"))
