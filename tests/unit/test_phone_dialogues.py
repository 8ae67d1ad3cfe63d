"""Feature-code and voicemail dialogues with scripted keys (no call, no sockets)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from firmware.db.connection import open_db
from firmware.switch.features import codes, voicemail
from firmware.switch.features.mailboxes import NEW, SAVED, VoicemailStore
from firmware.switch.features.pin import PinGuard, hash_pin, verify_pin, weak_pin_reason
from firmware.switch.features.prompter import Recording, Sound
from firmware.switch.features.settings import FeatureStore


class Script:
    """A Prompter whose caller presses `keys` (one per collect) and says `audio`."""

    def __init__(self, keys: Sequence[str] = (), seconds: float = 3.0) -> None:
        self.keys: deque[str] = deque(keys)
        self.played: list[Sound] = []
        self.seconds = seconds

    async def play(self, sounds: Sequence[Sound], *, barge_in: bool = True) -> None:
        self.played.extend(sounds)

    async def collect(self, max_digits: int, *, terminator: str = "#",
                      first_timeout: float = 6.0, inter_timeout: float = 4.0) -> str:
        out = ""
        while self.keys and len(out) < max_digits:
            k = self.keys.popleft()
            if terminator and k == terminator:
                break
            out += k
        return out

    async def record(self, max_seconds: float, stop_keys: str = "#") -> Recording:
        pcm = (np.sin(np.arange(int(self.seconds * 8000)) / 3) * 8000).astype(np.int16)
        return Recording(pcm, "key")

    def flush(self) -> None:
        pass


def test_codes_parse_only_ours_with_digits_where_allowed() -> None:
    assert codes.parse("*728002") == ("*72", "8002")
    assert codes.parse("*72") == ("*72", "")
    assert codes.parse("*78") == ("*78", "")
    assert codes.parse("*788") is None  # DND takes no number
    assert codes.parse("*8") is None and codes.parse("*518001") is None  # call control's
    assert codes.parse("*72abc") is None
    assert codes.parse("*142") == ("*14", "2")


def test_weak_pins_are_refused_and_hashes_verify() -> None:
    for pin in ("12", "1111", "1234", "9876", "8001", "12a4"):
        assert weak_pin_reason("8001", pin), pin
    assert weak_pin_reason("8001", "2468") is None
    h = hash_pin("2468")
    assert "2468" not in h and verify_pin(h, "2468") and not verify_pin(h, "2469")


def test_pin_guard_locks_after_repeated_failures() -> None:
    g = PinGuard(limit=3, window=60, lock=100)
    assert not g.failed("8001", 0) and not g.failed("8001", 1)
    assert g.failed("8001", 2) and g.locked("8001", 50) and not g.locked("8002", 50)
    assert not g.locked("8001", 103)


def test_check_pin_three_tries_then_locked_box_is_refused() -> None:
    async def main() -> None:
        guard = PinGuard(limit=5)
        io = Script(["1", "#", "2", "#", "3", "#"])
        ok = await voicemail.check_pin(io, "8001", "h", guard, lambda h, p: p == "9")
        assert not ok and io.played.count("vm_wrong_pin") == 3
        io = Script(["9", "#"])
        assert await voicemail.check_pin(io, "8001", "h", guard, lambda h, p: p == "9")
        locked = PinGuard(limit=1)
        io = Script(["1", "#", "9", "#"])
        assert not await voicemail.check_pin(io, "8001", "h", locked, lambda h, p: p == "9")
        assert "vm_locked" in io.played
        io = Script(["9", "#"])
        assert not await voicemail.check_pin(io, "8001", "h", locked, lambda h, p: p == "9")

    asyncio.run(main())


def test_leave_listen_save_delete(tmp_path: Path) -> None:
    async def main() -> None:
        open_db(tmp_path)
        store = VoicemailStore(tmp_path)
        store.start()
        caller = voicemail.Caller("13800138000", "", "c1")
        io = Script(seconds=0.4)
        assert await voicemail.leave_message(io, store, "8001", "busy", caller) is None
        assert "vm_too_short" in io.played and store.counts("8001") == (0, 0)
        io = Script()
        first = await voicemail.leave_message(io, store, "8001", "busy", caller)
        assert first is not None and "vm_busy" in io.played and io.played[-1] == "vm_saved"
        await voicemail.leave_message(Script(), store, "8001", "unavailable", caller)
        assert store.counts("8001") == (2, 0)
        assert (tmp_path / first.path).stat().st_size > 8000 * 2 * 2
        # 1: new messages; first: # (next, heard: saved); second: 3 (delete); * leaves
        io = Script(["1", "#", "3", "*"])
        await voicemail.mailbox_menu(io, store, "8001")
        assert store.counts("8001") == (0, 1)
        assert [m.path for m in store.messages("8001", SAVED)] == [first.path]
        assert store.file(first) in io.played and "vm_message_deleted" in io.played
        assert io.played[-1] == "goodbye"
        assert store.flush(5)
        from firmware.db.models import VoicemailMessage

        rows = [(r.path, r.folder) for r in VoicemailMessage.select()]
        assert rows == [(first.path, SAVED)]
        assert len(list((tmp_path / "voicemail" / "8001").glob("*.wav"))) == 1
        # the owner records a greeting: callers hear it instead of the stock one
        await voicemail.mailbox_menu(Script(["0", "*"]), store, "8001")
        io = Script()
        await voicemail.leave_message(io, store, "8001", "busy", caller)
        assert io.played[0] == store.greeting("8001")
        assert store.messages("8001", NEW)
        store.stop()

    asyncio.run(main())


def test_forward_codes_validate_and_set(tmp_path: Path) -> None:
    async def main() -> None:
        open_db(tmp_path)
        store = FeatureStore(tmp_path)
        store.start()
        exts = {"8001", "8002"}
        ctx = codes.CodeContext(store, exts.__contains__, lambda n: n == "5000", None,
                                lambda d: None, lambda: ("break",))
        io = Script(["8", "0", "0", "2", "#"])
        assert await codes.run_code(io, ctx, "8001", "*72", "") == "forward-always:8002"
        assert store.table.of("8001").forward_always == "8002"
        assert "fwd_always_on" in io.played
        assert await codes.run_code(Script(), ctx, "8001", "*90", "8001") == (
            "forward-busy:refused")  # itself
        assert await codes.run_code(Script(), ctx, "8001", "*92", "5000") == (
            "forward-no-answer:5000")
        assert await codes.run_code(Script(), ctx, "8001", "*73", "") == "forward-always:off"
        assert store.table.of("8001").forward_always == ""
        no_acd = Script()
        assert await codes.run_code(no_acd, ctx, "8001", "*13", "") == "agent:no-acd"
        store.stop()

    asyncio.run(main())


def test_agent_codes_use_the_device_and_reason_digits() -> None:
    async def main() -> None:
        done: list[tuple[str, str, str, str]] = []

        def command(agent: str, cmd: str, device: str, reason: str) -> None:
            done.append((agent, cmd, device, reason))

        ctx = codes.CodeContext(FeatureStore.__new__(FeatureStore), lambda n: True,
                                lambda n: False, command, lambda d: "a7" if d == "8001" else None,
                                lambda: ("break", "lunch", "meeting"))
        assert await codes.run_code(Script(), ctx, "8001", "*11", "a9") == "agent-login:a9"
        io = Script(["2"])
        assert await codes.run_code(io, ctx, "8001", "*14", "") == "agent-notready:a7:lunch"
        assert io.played[:4] == ["agent_enter_reason", "agent_reason_break", "press", "1"]
        assert await codes.run_code(Script(), ctx, "8002", "*13", "") == "agent:none"
        assert done == [("a9", "login", "8001", ""), ("a7", "notready", "8001", "lunch")]

    asyncio.run(main())


@pytest.mark.parametrize("reasons", [("break",), ("custom",)])
def test_reason_menu_names_only_reasons_with_words(reasons: tuple[str, ...]) -> None:
    menu = codes.reason_menu(reasons)
    assert menu[0] == "agent_enter_reason"
    assert ("agent_reason_break" in menu) == ("break" in reasons)
