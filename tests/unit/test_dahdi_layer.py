"""The DAHDI layer above the ioctl seam, on the host: ABI numbers, channel roles and
checks, event draining, the FXO port's signal mapping, ELAST handling in the readers,
and a PRI call between two `DahdiTelephony`s through a fake kernel (tests/unit/
dahdi_fake.py) wired like dahdi_dynamic_loc. The same code runs on real DAHDI in the
VM tier (tests/vm)."""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
from pathlib import Path
from typing import Any

import pytest

from drivers.dahdi import io, ioctl
from drivers.dahdi.channels import DahdiChannel, DahdiConfigError, channel_number
from drivers.dahdi.fxo_port import DahdiFxoPort, fxo_signal
from drivers.dahdi.telephony import DahdiTelephony
from drivers.fxo.port import LineSignal
from firmware.media import frame_leg
from firmware.media.frame_leg import FrameLeg
from firmware.switch.causes import Cause
from firmware.switch.channel import Channel, Party
from tests.unit.dahdi_fake import FakeDahdi, pri_span_sigtypes

BOARD = Path(__file__).resolve().parents[2] / "board" / "vm-dahdi" / "board.json"


def test_ioctl_numbers_and_struct_sizes_follow_the_dahdi_abi() -> None:
    # _IOW('\xda', 38, int) etc. as the kernel computes them
    assert ioctl.SPECIFY == 0x4004DA26
    assert ioctl.SET_BLOCKSIZE == 0x4004DA01
    assert ioctl.HOOK == 0x4004DA07
    assert ioctl.GETEVENT == 0x8004DA08
    assert ioctl.SETLAW == 0x4004DA27
    assert ctypes.sizeof(ioctl._Params) == 136
    assert ioctl.GET_PARAMS == 0xC088DA05
    assert ctypes.sizeof(ioctl._DialOperation) == 260
    assert io.SIG_HDLCFCS == 0x380 and io.SIG_CLEAR == 0x80 and io.SIG_CAS == 0x8000


def test_channel_numbers_count_across_spans() -> None:
    assert channel_number(1, 16) == 16
    assert channel_number(2, 1) == 32
    assert channel_number(3, 31) == 93
    assert channel_number(2, 1, "T1") == 25
    with pytest.raises(ValueError):
        channel_number(1, 32)


def test_an_audio_channel_gets_20ms_blocks_and_its_law() -> None:
    fake = FakeDahdi(sigtypes={1: io.SIG_CLEAR})
    ch = DahdiChannel(fake, 1, "audio", law=io.LAW_ALAW)
    assert ("blocksize", 1, 160) in fake.calls
    assert ("law", 1, io.LAW_ALAW) in fake.calls
    assert ("buffers", 1, (io.AUDIO_BUFFERS, 160)) in fake.calls
    ch.close()


def test_a_channel_whose_signalling_does_not_fit_the_board_is_a_clear_error() -> None:
    fake = FakeDahdi(sigtypes={16: io.SIG_CLEAR})
    with pytest.raises(DahdiConfigError, match=r"channel 16 .*0x80.*dchan= or hardhdlc="):
        DahdiChannel(fake, 16, "hdlc")
    assert not fake.fds, "the refused channel was left open"
    with pytest.raises(DahdiConfigError, match="cannot open DAHDI channel 99"):
        DahdiChannel(fake, 99, "audio")


def test_events_are_drained_in_order_and_alarms_tracked() -> None:
    fake = FakeDahdi(sigtypes={1: io.SIG_CLEAR})
    ch = DahdiChannel(fake, 1, "audio")
    seen: list[int] = []
    ch.on_event = seen.append
    fake.events[1].extend([io.EVENT_ALARM, io.EVENT_BADFCS])
    assert ch.events() == [io.EVENT_ALARM, io.EVENT_BADFCS]
    assert seen == [io.EVENT_ALARM, io.EVENT_BADFCS] and ch.alarmed
    fake.events[1].append(io.EVENT_NOALARM)
    ch.drain()
    assert not ch.alarmed and ch.events() == []


@pytest.mark.parametrize(("event", "offhook", "ringing", "signal"), [
    (io.EVENT_RINGBEGIN, False, False, LineSignal.RING_ON),
    (io.EVENT_RINGOFFHOOK, False, False, LineSignal.RING_ON),
    (io.EVENT_RINGOFFHOOK, False, True, None),  # the same burst, reported twice
    (io.EVENT_RINGOFFHOOK, True, False, None),
    (io.EVENT_RINGEROFF, False, True, LineSignal.RING_OFF),
    (io.EVENT_POLARITY, True, False, LineSignal.POLARITY),
    (io.EVENT_ONHOOK, True, False, LineSignal.LOOP_DROP),
    (io.EVENT_ONHOOK, False, False, None),
    (io.EVENT_DIALCOMPLETE, True, False, LineSignal.DIAL_DONE),
    (io.EVENT_ALARM, True, False, None),
])
def test_fxo_signal_mapping(event: int, offhook: bool, ringing: bool,
                            signal: LineSignal | None) -> None:
    assert fxo_signal(event, offhook, ringing) is signal


def test_the_dahdi_fxo_port_signals_and_commands() -> None:
    fake = FakeDahdi(sigtypes={32: io.SIG_FXSKS})
    port = DahdiFxoPort("fxo1", DahdiChannel(fake, 32, "fxo", law=io.LAW_ALAW))
    got: list[LineSignal] = []
    port.on_signal = got.append
    fake.events[32].extend([io.EVENT_RINGBEGIN, io.EVENT_RINGOFFHOOK, io.EVENT_RINGEROFF])
    port.events_pending()
    assert got == [LineSignal.RING_ON, LineSignal.RING_OFF]
    port.set_hook(True)
    assert fake.calls[-1] == ("hook", 32, io.OFFHOOK)
    fake.events[32].extend([io.EVENT_POLARITY, io.EVENT_ONHOOK])
    port.events_pending()
    assert got[2:] == [LineSignal.POLARITY, LineSignal.LOOP_DROP]
    port.dial("0571#")
    assert fake.calls[-1] == ("dial", 32, "T0571#")  # type: ignore[comparison-overlap]
    with pytest.raises(ValueError):
        port.dial("12,3")
    port.set_hook(False)
    assert fake.calls[-1] == ("hook", 32, io.ONHOOK)


def test_a_frame_leg_fetches_dahdi_events_on_elast_and_keeps_reading(
        monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Any] = [OSError(ioctl.ELAST, "event"), b"\xd5" * 160, BlockingIOError()]

    def fake_read(fd: int, n: int) -> bytes:
        item = reads.pop(0)
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, bytes)
        return item

    monkeypatch.setattr(frame_leg, "os", _OsWithRead(fake_read))
    leg = FrameLeg(-1, owns_fd=False)
    drained: list[bool] = []
    got: list[bytes] = []
    leg.on_event_pending = lambda: drained.append(True)
    leg.on_frame = got.append
    leg._readable()
    assert drained == [True] and got == [b"\xd5" * 160] and not leg.closed


class _OsWithRead:
    """The `os` module as frame_leg sees it, with a scripted read()."""

    def __init__(self, read: Any) -> None:
        self.read = read

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


def _board() -> dict[str, Any]:
    value = json.loads(BOARD.read_text())
    assert isinstance(value, dict)
    return value


def _far(board: dict[str, Any]) -> dict[str, Any]:
    far: dict[str, Any] = json.loads(json.dumps(board))
    for span in far["telephony"]["spans"]:
        if span.pop("reserved", None) is None:
            span["reserved"] = "box"
    return far


def _pri_only(board: dict[str, Any]) -> dict[str, Any]:
    board["telephony"]["spans"] = [s for s in board["telephony"]["spans"]
                                   if s["signalling"] == "pri"]
    return board


class Recorder:
    def __init__(self) -> None:
        self.answered = asyncio.Event()
        self.ended = asyncio.Event()
        self.cause: Cause | None = None

    def channel_ringing(self, ch: Channel) -> None: ...
    def channel_progress(self, ch: Channel) -> None: ...
    def channel_dtmf(self, ch: Channel, digit: str) -> None: ...
    def channel_hold(self, ch: Channel, held: bool) -> None: ...

    def channel_answered(self, ch: Channel) -> None:
        self.answered.set()

    def channel_hungup(self, ch: Channel, cause: Cause) -> None:
        self.cause = cause
        self.ended.set()


def test_a_pri_call_between_two_dahdi_telephonies_over_the_fake_kernel() -> None:
    fake = FakeDahdi(sigtypes={**pri_span_sigtypes(1), **pri_span_sigtypes(2)})

    async def main() -> dict[str, Any]:
        box = DahdiTelephony(_pri_only(_board()), fake, fxo_settings_loader=lambda n: {})
        far = DahdiTelephony(_pri_only(_far(_board())), fake,
                             fxo_settings_loader=lambda n: {})
        assert not box.errors and not far.errors
        offered: asyncio.Queue[Channel] = asyncio.Queue()
        box.start(offered.put_nowait)
        far.start(lambda ch: ch.hangup(Cause.CALL_REJECTED))
        try:
            for _ in range(200):
                if box.status()["spans"][0]["dchannel"] == "up" and \
                        far.status()["spans"][0]["dchannel"] == "up":
                    break
                await asyncio.sleep(0.01)
            rec = Recorder()
            legs = far.trunks[0].originate("96777", Party("13800138000"), rec)
            ch = await asyncio.wait_for(offered.get(), 5)
            ch.answer()
            await asyncio.wait_for(rec.answered.wait(), 5)
            heard = bytearray()
            assert ch.media is not None and legs[0].media is not None
            ch.media.on_frame = heard.extend  # type: ignore[attr-defined]
            legs[0].media.write(b"\x11" * 160)  # type: ignore[attr-defined]
            for _ in range(100):
                if heard:
                    break
                await asyncio.sleep(0.01)
            box_rec = Recorder()
            ch.listener = box_rec
            legs[0].hangup(Cause.NORMAL_CLEARING)
            await asyncio.wait_for(box_rec.ended.wait(), 5)
            return {"caller": ch.caller.number, "called": ch.called, "heard": bytes(heard),
                    "cause": box_rec.cause, "status": box.status()["spans"][0]}
        finally:
            await box.stop()
            await far.stop()

    res = asyncio.run(main())
    assert res["caller"] == "13800138000" and res["called"] == "96777"
    assert res["heard"] == b"\x11" * 160
    assert res["cause"] is Cause.NORMAL_CLEARING
    assert res["status"]["driver"] == "dahdi" and res["status"]["alarm"] is None
    # the B-channels were opened as 20 ms A-law audio, the D-channel as HDLC
    assert ("blocksize", 1, 160) in fake.calls and ("law", 31, io.LAW_ALAW) in fake.calls
    assert not any(c[0] == "blocksize" and c[1] == 16 for c in fake.calls)
    assert not fake.fds, "channels left open after stop()"


def test_a_misconfigured_span_is_reported_and_the_others_still_come_up() -> None:
    sig = {**pri_span_sigtypes(1)}
    sig[16] = io.SIG_CLEAR  # system.conf says bchan=16 where the board has its D-channel
    fake = FakeDahdi(sigtypes=sig)
    board = _board()
    board["telephony"]["spans"][0]["reserved"] = None  # (keep span 1)
    tel = DahdiTelephony(board, fake, fxo_settings_loader=lambda n: {})
    assert tel.trunks == []
    assert any("span 1" in e and "dchan=" in e for e in tel.errors), tel.errors
    assert any("span 3" in e for e in tel.errors), tel.errors  # no CAS channels in the fake
    assert not fake.fds
    assert tel.status()["telephony_errors"] == tel.errors


def test_span_alarms_show_in_the_status() -> None:
    fake = FakeDahdi(sigtypes={**pri_span_sigtypes(1)}, alarms={1: 1 << 3 | 1 << 8})
    tel = DahdiTelephony(_pri_only(_board()), fake, fxo_settings_loader=lambda n: {})
    assert tel.status()["spans"][0]["alarm"] == "red, LOS"
    asyncio.run(tel.stop())
