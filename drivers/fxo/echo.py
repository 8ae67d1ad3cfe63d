"""Line echo cancellation for analog legs (spandsp's LMS canceller via ctypes).

An FXO port's 2-to-4-wire hybrid returns part of what the box sends: the SIP caller
hears themselves ~20-40 ms late. The canceller models that echo path from the audio
sent (`tx`) and subtracts it from the audio received (`rx`). It only works when both
streams are sample-aligned with a constant delay, which is why `FxoLeg` writes one
frame per frame read (the line's own clock) and tells the canceller exactly what went.

spandsp's G.168 `echo_can_*` would be the first choice, but Debian's build prints two
debug lines to stdout per sample; `modem_echo_can_*` is the same LMS core without
double-talk handling, so a Geigel detector here freezes adaption while the far end
(the PSTN caller) talks over the echo. See docs/decisions (FXO record).

Cost: one ctypes call per sample (8,000 a second per line); see docs/performance.md.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from firmware.media import spandsp

# 32 ms tail: one frame of pairing delay plus the hybrid's few ms. (Longer tails make this
# LMS diverge: its step size is not normalised to the tail.)
TAIL_SAMPLES = 256
# Geigel: near-end speech when |rx| exceeds this share of the recent |tx| peak
# (a hybrid returns at most about -6 dB).
GEIGEL = 0.5
HANGOVER_FRAMES = 2


def _energy(x: npt.NDArray[np.int16]) -> float:
    v = x.astype(np.float64)
    return float(np.dot(v, v))


class EchoCanceller:
    def __init__(self, tail: int = TAIL_SAMPLES) -> None:
        self._lib = spandsp.load()
        self._state = self._lib.modem_echo_can_init(tail)
        if not self._state:
            raise MemoryError("modem_echo_can_init")
        self._update = self._lib.modem_echo_can_update
        self._tail_frames = max(1, tail // 160 + 1)
        self._tx_peaks: list[int] = []
        self._adapting = True
        self._hold = 0
        self._lib.modem_echo_can_adaption_mode(self._state, 1)

    def _double_talk(self, tx: npt.NDArray[np.int16], rx: npt.NDArray[np.int16]) -> bool:
        self._tx_peaks.append(int(np.max(np.abs(tx.astype(np.int32)))) if len(tx) else 0)
        del self._tx_peaks[: -self._tail_frames - 1]
        rx_peak = int(np.max(np.abs(rx.astype(np.int32)))) if len(rx) else 0
        return rx_peak > GEIGEL * max(self._tx_peaks) or max(self._tx_peaks) < 64

    def process(self, tx: npt.NDArray[np.int16], rx: npt.NDArray[np.int16]
                ) -> npt.NDArray[np.int16]:
        """`rx` with the echo of `tx` (sent during the same 160 samples) taken out."""
        if not self._state:
            return rx
        if self._double_talk(tx, rx):
            self._hold = HANGOVER_FRAMES
        elif self._hold:
            self._hold -= 1
        adapt = self._hold == 0
        if adapt != self._adapting:
            self._lib.modem_echo_can_adaption_mode(self._state, int(adapt))
            self._adapting = adapt
        update, state = self._update, self._state
        txl = tx.tolist()
        n = len(txl)
        out = np.array([update(state, txl[i] if i < n else 0, r)
                        for i, r in enumerate(rx.tolist())], dtype=np.int16)
        # A canceller must never add energy: with no echo on the line the LMS only
        # injects its misadjustment noise (which would also hide silence).
        if _energy(out) > _energy(rx):
            return rx
        return out

    def reset(self) -> None:
        if self._state:
            self._lib.modem_echo_can_flush(self._state)
        self._tx_peaks.clear()

    def close(self) -> None:
        if self._state:
            self._lib.modem_echo_can_free(self._state)
            self._state = None

    def __del__(self) -> None:
        self.close()
