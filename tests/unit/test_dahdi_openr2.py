"""openr2 binding on the host: the library loads, a China-variant context is made with
our callback table, cause mapping both ways, and a channel that is not a DAHDI fd is
refused with openr2's own reason (the calls themselves run in the VM tier)."""

from __future__ import annotations

import ctypes
import os

import pytest

from drivers.dahdi import openr2 as r2
from drivers.dahdi.channels import DahdiChannel
from drivers.dahdi.r2_trunk import R2Trunk


def test_a_china_context_is_made_and_named() -> None:
    lib = r2.load()
    assert r2.text(lib.openr2_get_version()).startswith("1.")
    assert r2.text(lib.openr2_proto_get_variant_string(r2.variant("china"))) == "CN"
    assert r2.text(lib.openr2_proto_get_category_string(r2.category("national_subscriber"))
                   ) == "National Subscriber"
    iface = r2.EventInterface()
    ctx = lib.openr2_context_new(None, ctypes.byref(iface), None, r2.variant("china"), 11, 8)
    assert ctx
    lib.openr2_context_delete(ctx)


@pytest.mark.parametrize(("q850", "r2cause"), [
    (17, r2.CAUSE_BUSY_NUMBER), (34, r2.CAUSE_NETWORK_CONGESTION),
    (1, r2.CAUSE_UNALLOCATED_NUMBER), (27, r2.CAUSE_OUT_OF_ORDER),
    (16, r2.CAUSE_NORMAL_CLEARING), (19, r2.CAUSE_NO_ANSWER),
])
def test_causes_cross_both_ways(q850: int, r2cause: int) -> None:
    assert r2.from_q850(q850) == r2cause
    assert r2.to_q850(r2cause) == q850


def test_unknown_variant_and_category_are_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"known: .*china"):
        r2.variant("atlantis")
    with pytest.raises(ValueError, match="national_subscriber"):
        r2.category("vip")


def test_a_channel_that_is_not_dahdi_is_refused_by_openr2() -> None:
    r, w = os.pipe()
    try:
        ch = DahdiChannel.__new__(DahdiChannel)
        ch.fd, ch.channo, ch.name, ch.alarmed = r, 63, "span3/1", False
        with pytest.raises(RuntimeError, match="openr2 refused DAHDI channel 63"):
            R2Trunk("span3", {1: ch}, {})
    finally:
        os.close(r)
        os.close(w)
