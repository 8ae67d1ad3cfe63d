"""The analog legs' echo canceller removes the hybrid echo of a known signal, keeps the
far end's speech during double talk and stays converged after it."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from drivers.fxo.echo import EchoCanceller

RATE = 8000


def db(x: npt.NDArray[np.int16] | npt.NDArray[np.float64]) -> float:
    a = x.astype(np.float64)
    return float(10 * np.log10(np.mean(a * a) + 1e-9))


def test_echo_of_a_known_signal_is_reduced() -> None:
    rng = np.random.default_rng(1)
    n = 6 * RATE
    voice = np.convolve(rng.normal(0, 1, n), np.ones(4) / 4, "same")
    syllables = (np.sin(2 * np.pi * 2 * np.arange(n) / RATE) > 0) * 0.7 + 0.3
    tx = (voice * syllables * 6000).astype(np.int16)
    # hybrid: -10 dB, 25 ms late (a frame of pairing delay + the line), a little smear
    h = np.zeros(220)
    h[200], h[205], h[210] = 0.3, -0.15, 0.08
    echo = np.convolve(tx.astype(np.float64), h)[:n]
    near = np.zeros(n)
    near[4 * RATE:4 * RATE + RATE // 2] = 6000 * np.sin(2 * np.pi * 300 *
                                                        np.arange(RATE // 2) / RATE)
    rx = (echo + near + rng.normal(0, 20, n)).astype(np.int16)

    ec = EchoCanceller()
    out = np.concatenate([ec.process(tx[i:i + 160], rx[i:i + 160]) for i in range(0, n, 160)])
    ec.close()

    converged = slice(2 * RATE, 4 * RATE)
    erle = db(rx[converged]) - db(out[converged])
    print(f"echo return loss enhancement: {erle:.1f} dB")
    assert erle > 20
    talk = slice(4 * RATE, 4 * RATE + RATE // 2)
    assert abs(db(out[talk]) - db(near[talk])) < 1.0  # the far party is not cut
    after = slice(5 * RATE, 6 * RATE)
    assert db(rx[after]) - db(out[after]) > 20  # double talk did not spoil the model
