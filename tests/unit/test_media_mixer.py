"""The mixer without sockets: who hears whom (mix-minus, whisper, listen, barge), 30+
parties, jitter buffering of 30 ms packets, bounded latency, tones."""

from __future__ import annotations

import numpy as np
import pytest

from firmware.media import g711
from firmware.media.codecs import Codec
from firmware.media.mixer import FRAME, MAX_BUFFER, Mixer, MixerError, Role, tone


def sine(freq: float, n: int, start: int = 0, level: float = 2000.0) -> np.ndarray:
    t = (np.arange(n) + start) / 8000
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def run(mixer: Mixer, freqs: dict[str, float], frames: int = 40,
        codecs: dict[str, Codec] | None = None, level: float = 2000.0
        ) -> dict[str, np.ndarray]:
    """Every party says its tone for `frames` frames; returns what each one heard."""
    codecs = codecs or {}
    heard: dict[str, list[np.ndarray]] = {k: [] for k in freqs}
    for i in range(frames):
        for key, f in freqs.items():
            codec = codecs.get(key, Codec.PCMA)
            mixer.push(key, g711.encode(codec, sine(f, FRAME, i * FRAME, level)))
        for name, payload in mixer.mix().items():
            heard[str(name)].append(g711.decode(codecs.get(str(name), Codec.PCMA), payload))
    # drop the priming frames
    return {k: np.concatenate(v[4:]).astype(np.float64) for k, v in heard.items()}


def level_at(pcm: np.ndarray, freq: float) -> float:
    """Amplitude of `freq` in `pcm` (a single-bin DFT)."""
    t = np.arange(len(pcm)) / 8000
    return float(2 * abs(np.sum(pcm * np.exp(-2j * np.pi * freq * t))) / len(pcm))


def test_each_party_hears_the_others_and_not_itself() -> None:
    m = Mixer()
    freqs = {"caller": 400.0, "agent": 1000.0, "third": 1700.0}
    for k in freqs:
        m.add(k, Codec.PCMA)
    heard = run(m, freqs)
    for who, pcm in heard.items():
        for other, f in freqs.items():
            amp = level_at(pcm, f)
            if other == who:
                assert amp < 30, f"{who} hears itself: {amp:.0f}"
            else:
                assert amp > 1500, f"{who} does not hear {other}: {amp:.0f}"


def test_laws_mix_together() -> None:
    m = Mixer()
    m.add("u", Codec.PCMU)
    m.add("a", Codec.PCMA)
    m.add("x", Codec.PCMA)
    heard = run(m, {"u": 500.0, "a": 1200.0, "x": 2100.0},
                codecs={"u": Codec.PCMU, "a": Codec.PCMA, "x": Codec.PCMA})
    assert level_at(heard["a"], 500.0) > 1500 and level_at(heard["u"], 1200.0) > 1500


def test_whisper_reaches_the_agent_only() -> None:
    m = Mixer()
    m.add("caller", Codec.PCMA)
    m.add("agent", Codec.PCMA)
    m.add("sup", Codec.PCMA, Role.WHISPER, target="agent")
    heard = run(m, {"caller": 400.0, "agent": 1000.0, "sup": 1700.0})
    assert level_at(heard["caller"], 1700.0) < 30, "the caller must not hear the whisper"
    assert level_at(heard["agent"], 1700.0) > 1500, "the agent hears the supervisor"
    assert level_at(heard["caller"], 1000.0) > 1500 and level_at(heard["agent"], 400.0) > 1500
    assert level_at(heard["sup"], 400.0) > 1500 and level_at(heard["sup"], 1000.0) > 1500


def test_listen_is_silent_and_barge_is_heard_by_all() -> None:
    m = Mixer()
    m.add("caller", Codec.PCMA)
    m.add("agent", Codec.PCMA)
    m.add("sup", Codec.PCMA, Role.LISTEN)
    heard = run(m, {"caller": 400.0, "agent": 1000.0, "sup": 1700.0})
    assert level_at(heard["caller"], 1700.0) < 30 and level_at(heard["agent"], 1700.0) < 30
    assert level_at(heard["sup"], 400.0) > 1500 and level_at(heard["sup"], 1000.0) > 1500

    m.set_role("sup", Role.BARGE)
    heard = run(m, {"caller": 400.0, "agent": 1000.0, "sup": 1700.0})
    assert level_at(heard["caller"], 1700.0) > 1500 and level_at(heard["agent"], 1700.0) > 1500
    assert level_at(heard["sup"], 1700.0) < 30


def test_thirty_two_parties_in_one_room() -> None:
    m = Mixer()
    freqs = {f"p{i}": 250.0 + 100.0 * i for i in range(32)}
    for k in freqs:
        m.add(k, Codec.PCMU)
    heard = run(m, freqs, frames=30, codecs=dict.fromkeys(freqs, Codec.PCMU), level=700.0)
    for who, pcm in heard.items():
        own = level_at(pcm, freqs[who])
        others = [level_at(pcm, f) for k, f in freqs.items() if k != who]
        assert own < 40, f"{who} hears itself ({own:.0f})"
        assert min(others) > 450, f"{who}: weakest other party {min(others):.0f}"


def test_thirty_millisecond_packets_play_without_gaps() -> None:
    m = Mixer()
    m.add("pcap", Codec.PCMA)
    m.add("ear", Codec.PCMA)
    src = sine(800.0, 240 * 40)
    out = []
    # packets of 240 samples every 30 ms against a 20 ms mixing clock
    sent = 0
    for tick in range(55):
        while sent < 40 and sent * 30 <= tick * 20:  # packets due by this tick
            m.push("pcap", g711.encode(Codec.PCMA, src[sent * 240:(sent + 1) * 240]))
            sent += 1
        out.append(g711.decode(Codec.PCMA, m.mix()["ear"]))
    pcm = np.concatenate(out[3:50]).astype(np.float64)
    frames = pcm.reshape(-1, FRAME)
    quiet = [i for i, f in enumerate(frames) if np.sqrt(np.mean(f**2)) < 500]
    assert quiet == [], f"gaps in frames {quiet}"
    assert m.stats("pcap")["underruns"] == 0


def test_a_fast_sender_cannot_build_up_latency() -> None:
    m = Mixer()
    m.add("fast", Codec.PCMA)
    m.add("ear", Codec.PCMA)
    for _ in range(50):
        m.push("fast", g711.encode(Codec.PCMA, sine(500.0, FRAME)))
    assert m.stats("fast")["buffered"] <= MAX_BUFFER * FRAME
    assert m.stats("fast")["dropped"] > 0


def test_tones_are_heard_by_everyone() -> None:
    m = Mixer()
    m.add("a", Codec.PCMA)
    m.add("b", Codec.PCMA)
    m.announce(tone((1400.0,), 0.2))
    out = m.mix()
    for payload in out.values():
        assert np.sqrt(np.mean(g711.decode(Codec.PCMA, payload).astype(float) ** 2)) > 500


def test_impossible_requests_say_why() -> None:
    m = Mixer()
    m.add("a", Codec.PCMA)
    with pytest.raises(MixerError, match="already"):
        m.add("a", Codec.PCMA)
    with pytest.raises(MixerError, match="whisper"):
        m.add("s", Codec.PCMA, Role.WHISPER)
    with pytest.raises(MixerError, match="not in the mix"):
        m.set_role("zz", Role.LISTEN)
    m.push("stranger", b"\xd5" * 160)  # a late packet after leaving: ignored
    m.remove("a")
    assert m.mix() == {}
