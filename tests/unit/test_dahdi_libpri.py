"""The ctypes layouts of drivers/dahdi/libpri.py against libpri.h, checked two ways:
the sizes and offsets gcc gives for /usr/include/libpri.h (1.6.0, x86_64/LP64), and
real events from two libpri instances whose fields must read back what was sent."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest

from drivers.dahdi import libpri as lp
from drivers.dahdi.pri_events import Ring
from drivers.dahdi.pri_loopback import pump
from drivers.dahdi.pri_span import PriSpan

# Measured with gcc offsetof()/sizeof() on this header (the test below re-measures when
# a compiler is there).
EXPECTED = {
    "pri_event": 2976,
    "pri_event_ring": 2976,
    "pri_event_hangup": 320,
    "pri_event_answer": 304,
    "pri_event_proceeding": 40,
    "pri_event_setup_ack": 32,
    "pri_event_keypad_digit": 88,
    "struct pri_party_id": 200,
    "pri_event_error": 260,
    "pri_event_notify": 32,
    "pri_event_ring.callingplan": 16,
    "pri_event_ring.callingnum": 276,
    "pri_event_ring.calledplan": 788,
    "pri_event_ring.callednum": 796,
    "pri_event_ring.flexible": 1832,
    "pri_event_ring.complete": 1848,
    "pri_event_ring.call": 1856,
    "pri_event_ring.subcmds": 2656,
    "pri_event_ring.calling": 2664,
    "pri_event_ring.keypad_digits": 2912,
    "pri_event_hangup.call": 16,
    "pri_event_hangup.aoc_units": 24,
    "pri_event_hangup.subcmds": 296,
    "pri_event_hangup.call_active": 312,
    "pri_event_answer.call": 24,
    "pri_event_answer.subcmds": 296,
    "pri_event_proceeding.call": 24,
    "pri_event_setup_ack.progressmask": 24,
    "pri_event_keypad_digit.digits": 16,
    "pri_event_keypad_digit.subcmds": 80,
}

OURS = {
    "pri_event": ctypes.sizeof(lp.PriEvent),
    "pri_event_ring": ctypes.sizeof(lp.EventRing),
    "pri_event_hangup": ctypes.sizeof(lp.EventHangup),
    "pri_event_answer": ctypes.sizeof(lp.EventRinging),
    "pri_event_proceeding": ctypes.sizeof(lp.EventProceeding),
    "pri_event_setup_ack": ctypes.sizeof(lp.EventSetupAck),
    "pri_event_keypad_digit": ctypes.sizeof(lp.EventKeypadDigit),
    "struct pri_party_id": ctypes.sizeof(lp.PartyId),
    "pri_event_error": ctypes.sizeof(lp.EventError),
    "pri_event_notify": ctypes.sizeof(lp.EventNotify),
    **{
        f"pri_event_ring.{f}": getattr(lp.EventRing, f).offset
        for f in ("callingplan", "callingnum", "calledplan", "callednum", "flexible",
                  "complete", "call", "subcmds", "calling", "keypad_digits")
    },
    **{f"pri_event_hangup.{f}": getattr(lp.EventHangup, f).offset
       for f in ("call", "aoc_units", "subcmds", "call_active")},
    "pri_event_answer.call": lp.EventRinging.call.offset,
    "pri_event_answer.subcmds": lp.EventRinging.subcmds.offset,
    "pri_event_proceeding.call": lp.EventProceeding.call.offset,
    "pri_event_setup_ack.progressmask": lp.EventSetupAck.progressmask.offset,
    "pri_event_keypad_digit.digits": lp.EventKeypadDigit.digits.offset,
    "pri_event_keypad_digit.subcmds": lp.EventKeypadDigit.subcmds.offset,
}


def test_layouts_match_the_measured_header() -> None:
    assert ctypes.sizeof(ctypes.c_void_p) == 8, "layouts were measured on LP64"
    assert OURS == EXPECTED


def _c_expr(key: str) -> str:
    if "." in key:
        struct, field = key.split(".")
        return f"offsetof({struct}, {field})"
    return f"sizeof({key})"


@pytest.mark.skipif(shutil.which("gcc") is None or not Path("/usr/include/libpri.h").exists(),
                    reason="needs gcc and libpri-dev to re-measure the header")
def test_layouts_match_what_gcc_says_now(tmp_path: Path) -> None:
    lines = [f'printf("%zu\\n", (size_t){_c_expr(k)});' for k in EXPECTED]
    src = tmp_path / "m.c"
    src.write_text("#include <stdio.h>\n#include <stddef.h>\n#include <libpri.h>\n"
                   "int main(void){" + "".join(lines) + "return 0;}\n")
    exe = tmp_path / "m"
    subprocess.run(["gcc", str(src), "-o", str(exe)], check=True, capture_output=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    measured = dict(zip(EXPECTED, (int(x) for x in out.split()), strict=True))
    assert measured == OURS


def test_library_loads_and_names_things() -> None:
    assert lp.version().startswith("1.")
    assert lp.cause_text(17) == "User busy"
    assert lp.event_name(lp.PRI_EVENT_RING) == "PRI_EVENT_RING"


def test_plan_octet() -> None:
    assert lp.plan(lp.PRI_TON_NATIONAL) == lp.PRI_NATIONAL_ISDN
    assert lp.plan(lp.PRI_TON_INTERNATIONAL) == lp.PRI_INTERNATIONAL_ISDN
    assert lp.ton_of(lp.PRI_LOCAL_ISDN) == lp.PRI_TON_SUBSCRIBER
    assert lp.npi_of(lp.PRI_NATIONAL_ISDN) == lp.PRI_NPI_E163_E164


def test_a_real_ring_event_reads_back_every_field_we_use() -> None:
    # Fields at both ends of the 2976-byte ring view: a wrong offset garbles one of them.
    net, cpe = PriSpan("net"), PriSpan("cpe")
    pump(net, cpe)
    net.call(17, "96777", "13800138000", called_ton=lp.PRI_TON_SUBSCRIBER,
             calling_ton=lp.PRI_TON_INTERNATIONAL, calling_name="Zhang")
    rings = [e for e in pump(net, cpe).of(cpe) if isinstance(e, Ring)]
    assert len(rings) == 1
    r = rings[0]
    assert (r.channel, r.calling, r.called) == (17, "13800138000", "96777")
    assert (r.calling_ton, r.called_ton, r.complete) == (1, 4, True)
    assert r.call.ref != 0 and r.call in cpe.calls.values()
