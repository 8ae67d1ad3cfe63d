"""Stock prompt files: synthesise the Mandarin catalogue with espeak-ng, once.

`DATA/prompts/stock/<name>.wav` is generated from `firmware.ivr.prompts.CATALOGUE` as
8 kHz mono 16-bit PCM, the format the prompt player reads without any conversion on
the call path. Next to each file, `<name>.wav.sha1` holds the hash of what produced it
(text, voice, tool version), so a changed catalogue text or a new espeak-ng regenerates
just that prompt and an unchanged one costs one small read at start.

An admin's recording in `DATA/prompts/custom/<name>.wav` wins over the stock file
(`PromptFiles.path`). Music on hold is generated here too (`moh`), a soft chime
sequence made with numpy, because the box must never put a caller in dead silence.

Synthesis is a subprocess per prompt; callers run `ensure_stock` in a thread before
the daemon reports READY, never on the event loop.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import wave
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from firmware.ivr.prompts import CATALOGUE, PROMPT_NAME_RE

log = logging.getLogger(__name__)

RATE = 8000
VOICE = "cmn"
MOH = "moh"  # the generated music-on-hold file's name (not a catalogue prompt)
BEEP = "beep"  # the tone before a voicemail recording starts (generated, like MOH)
# A little slower than espeak-ng's default 175 wpm (callers are often elderly), but not
# much: its Mandarin is already slow (the 96777 welcome runs about 15 s).
SPEED_WPM = 170
_TIMEOUT = 30.0


class PromptToolMissing(RuntimeError):
    """espeak-ng (or sox) is not installed: stock prompts cannot be generated."""


class PromptFiles:
    """Where the WAV of a prompt name is: custom upload first, then stock."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "prompts"
        self.stock = self.root / "stock"
        self.custom = self.root / "custom"

    def path(self, name: str) -> Path | None:
        if not PROMPT_NAME_RE.fullmatch(name):
            return None  # never let a name walk out of the prompt directories
        for base in (self.custom, self.stock):
            p = base / f"{name}.wav"
            if p.is_file():
                return p
        return None


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise PromptToolMissing(
            f"{name} is not installed; stock prompts need it "
            "(Debian: apt-get install espeak-ng sox, or run scripts/bootstrap.sh)")
    return path


def _espeak_version(espeak: str) -> str:
    out = subprocess.run([espeak, "--version"], capture_output=True, text=True,
                         timeout=_TIMEOUT, check=False)
    return out.stdout.strip()


def _digest(text: str, version: str) -> str:
    return hashlib.sha1(f"{VOICE}|{SPEED_WPM}|{RATE}|{version}|{text}".encode()).hexdigest()


def _synthesise(espeak: str, sox: str, text: str, dest: Path) -> None:
    # espeak-ng speaks at 22.05 kHz; sox resamples with a proper anti-alias filter,
    # which a naive decimation would not give (audible aliasing on sibilants).
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp.wav")
    try:
        raw = subprocess.run([espeak, "-v", VOICE, "-s", str(SPEED_WPM), "--stdout", text],
                             capture_output=True, timeout=_TIMEOUT, check=True).stdout
        subprocess.run([sox, "-q", "-t", "wav", "-", "-r", str(RATE), "-c", "1", "-b", "16",
                        "-e", "signed-integer", str(tmp)],
                       input=raw, capture_output=True, timeout=_TIMEOUT, check=True)
        os.replace(tmp, dest)  # atomic: a reader never sees half a prompt
    finally:
        tmp.unlink(missing_ok=True)


def write_wav(path: Path, pcm: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.astype("<i2").tobytes())
    os.replace(tmp, path)


def moh_pcm(seconds: float = 8.0) -> np.ndarray:
    """A quiet, slow arpeggio of soft bell tones (C major, decaying), loopable."""
    notes = [523.25, 659.25, 783.99, 659.25, 587.33, 698.46, 880.0, 698.46]
    step = seconds / len(notes)
    n = int(step * RATE)
    t = np.arange(n) / RATE
    envelope = np.exp(-3.0 * t) * np.minimum(1.0, t / 0.01)  # 10 ms attack, no click
    out = [np.sin(2 * np.pi * f * t) * envelope + 0.3 * np.sin(4 * np.pi * f * t) * envelope
           for f in notes]
    # about -16 dBFS peak: audible on a handset, never harsh
    return (np.concatenate(out) * 0.12 * 32767).astype(np.int16)


def beep_pcm(seconds: float = 0.4, freq: float = 1000.0) -> np.ndarray:
    """The record tone: 1 kHz, about -10 dBFS, 5 ms ramps (no click)."""
    t = np.arange(int(seconds * RATE)) / RATE
    ramp = np.minimum(1.0, np.minimum(t, seconds - t) / 0.005)
    return (np.sin(2 * np.pi * freq * t) * ramp * 0.3 * 32767).astype(np.int16)


def ensure_stock(data_dir: Path, names: Iterable[str] | None = None) -> list[Path]:
    """Generate the missing or outdated stock prompts (all of CATALOGUE by default) and
    the MOH file; returns the paths written. Raises PromptToolMissing without espeak-ng."""
    files = PromptFiles(data_dir)
    wanted = list(CATALOGUE) if names is None else [n for n in names if n in CATALOGUE]
    written: list[Path] = []
    moh = files.stock / f"{MOH}.wav"
    if not moh.is_file():
        write_wav(moh, moh_pcm())
        written.append(moh)
    beep = files.stock / f"{BEEP}.wav"
    if not beep.is_file():
        write_wav(beep, beep_pcm())
        written.append(beep)
    if not wanted:
        return written
    espeak, sox = _tool("espeak-ng"), _tool("sox")
    version = _espeak_version(espeak)
    def one(name: str) -> Path | None:
        text = CATALOGUE[name].text
        dest = files.stock / f"{name}.wav"
        stamp = dest.with_name(dest.name + ".sha1")
        digest = _digest(text, version)
        if dest.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
            return None
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            _synthesise(espeak, sox, text, dest)
        except (subprocess.SubprocessError, OSError) as e:
            # one bad prompt must not stop the box; the player reports it missing
            log.error("cannot generate prompt %s: %s", name, e)
            return None
        stamp.write_text(digest + "\n")
        return dest

    # espeak-ng is single-threaded: one process per core roughly divides the wait
    with ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        written += [p for p in pool.map(one, wanted) if p is not None]
    if written:
        log.info("generated %d stock prompt file(s) in %s", len(written), files.stock)
    return written
