"""Stock prompt generation (espeak-ng + sox) and the prompt player's pacing."""

import asyncio
import shutil
import wave
from pathlib import Path

import numpy as np
import pytest

from firmware.ivr.prompts import CATALOGUE, Prompt
from firmware.media import g711, prompt_gen
from firmware.media.codecs import Codec
from firmware.media.player import PromptPlayer
from firmware.media.prompt_gen import BEEP, MOH, PromptFiles, PromptToolMissing, ensure_stock

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox come from scripts/bootstrap.sh")


@needs_espeak
def test_generates_8k_mono_once_and_regenerates_on_text_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = ensure_stock(tmp_path, ["goodbye", "1"])
    stock = tmp_path / "prompts" / "stock"
    assert sorted(p.name for p in written) == sorted(
        ["1.wav", "goodbye.wav", f"{MOH}.wav", f"{BEEP}.wav"])
    with wave.open(str(stock / "goodbye.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() > 8000  # 感谢您的来电，再见。 is over a second
    assert ensure_stock(tmp_path, ["goodbye", "1"]) == []  # cached by hash
    changed = {**CATALOGUE, "goodbye": Prompt("goodbye", "再见。", "ivr")}
    monkeypatch.setattr(prompt_gen, "CATALOGUE", changed)
    assert [p.name for p in ensure_stock(tmp_path, ["goodbye"])] == ["goodbye.wav"]


def test_missing_espeak_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PromptToolMissing, match="espeak-ng is not installed"):
        ensure_stock(tmp_path, ["goodbye"])


def test_custom_upload_overrides_stock_and_names_cannot_escape(tmp_path: Path) -> None:
    files = PromptFiles(tmp_path)
    prompt_gen.write_wav(files.stock / "goodbye.wav", np.zeros(160, np.int16))
    assert files.path("goodbye") == files.stock / "goodbye.wav"
    prompt_gen.write_wav(files.custom / "goodbye.wav", np.zeros(160, np.int16))
    assert files.path("goodbye") == files.custom / "goodbye.wav"
    assert files.path("../stock/goodbye") is None
    assert files.path("nothing") is None


def _tone(path: Path, frames: int, value: int) -> Path:
    prompt_gen.write_wav(path, np.full(frames * 160 - 40, value, np.int16))  # pads up
    return path


def test_player_paces_frames_plays_in_order_and_reports_done(tmp_path: Path) -> None:
    a = _tone(tmp_path / "a.wav", 5, 1000)
    b = _tone(tmp_path / "b.wav", 3, -1000)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sent: list[tuple[float, bytes]] = []
        done = loop.create_future()
        player = PromptPlayer(loop, lambda p: sent.append((loop.time(), p)), Codec.PCMA)
        start = loop.time()
        player.play([a, None, tmp_path / "missing.wav", b], lambda: done.set_result(loop.time()))
        end = await asyncio.wait_for(done, 2)
        assert len(sent) == 8 and all(len(p) == 160 for _, p in sent)
        pcm = [int(g711.decode(Codec.PCMA, p)[0]) for _, p in sent]
        assert all(x > 900 for x in pcm[:5]) and all(x < -900 for x in pcm[5:])
        # paced, not burst: 8 frames take ~160 ms, done comes after the last frame's slot
        assert 0.13 <= end - start <= 0.5
        gaps = np.diff([t for t, _ in sent])
        assert gaps.min() > 0.01

    asyncio.run(main())


def test_player_stop_cuts_at_once_without_done(tmp_path: Path) -> None:
    a = _tone(tmp_path / "a.wav", 50, 1000)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sent: list[bytes] = []
        called: list[bool] = []
        player = PromptPlayer(loop, sent.append, Codec.PCMU)
        player.play([a], lambda: called.append(True))
        await asyncio.sleep(0.1)
        player.stop()
        n = len(sent)
        await asyncio.sleep(0.1)
        assert 2 <= n <= 8 and len(sent) == n and not called and not player.playing

    asyncio.run(main())


def test_player_repeat_loops_until_stopped(tmp_path: Path) -> None:
    a = _tone(tmp_path / "a.wav", 2, 1000)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        sent: list[bytes] = []
        player = PromptPlayer(loop, sent.append, Codec.PCMU)
        player.play([a], repeat=True)
        await asyncio.sleep(0.15)
        assert player.playing and len(sent) >= 5
        player.stop()

    asyncio.run(main())
