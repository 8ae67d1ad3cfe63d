"""CPU per FXO line: echo canceller, caller-ID receivers (idle line), busy/silence
detection (line in a call). Prints seconds of CPU per second of line audio."""

from __future__ import annotations

import time

import numpy as np

from drivers.fxo.callerid import CallerIdReceiver
from drivers.fxo.echo import EchoCanceller
from drivers.fxo.tones import CadenceDetector, SilenceDetector

SECONDS = 10
rng = np.random.default_rng(1)
audio = (rng.normal(0, 3000, 8000 * SECONDS)).astype(np.int16)
frames = [audio[i:i + 160] for i in range(0, len(audio), 160)]


def per_second(fn: object) -> float:
    t = time.process_time()
    for f in frames:
        fn(f)  # type: ignore[operator]
    return (time.process_time() - t) / SECONDS


ec = EchoCanceller()
cid = CallerIdReceiver()
busy = CadenceDetector()
silence = SilenceDetector(30.0)
print(f"echo canceller      : {100 * per_second(lambda f: ec.process(f, f)):.2f} % of a core")
print(f"caller-ID receivers : {100 * per_second(cid.feed):.2f} % of a core (idle line)")
print(f"busy + silence      : {100 * per_second(lambda f: (busy.feed(f), silence.feed(f))):.2f}"
      " % of a core (line in a call)")
