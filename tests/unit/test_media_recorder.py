import wave
from pathlib import Path

import numpy as np
import pytest

from firmware.media import g711
from firmware.media.codecs import Codec
from firmware.media.recorder import StereoRecorder

RATE = 8000
START = 1000.0  # the engine clock is arbitrary; make sure nothing assumes zero


def tone(seconds: float, freq: float = 1000.0, amplitude: int = 8000) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def stream(
    rec: StereoRecorder,
    channel: int,
    codec: Codec,
    begin: float,
    seconds: float,
    ts0: int = 12345,
    ssrc: int = 77,
    jitter: float = 0.0,
) -> None:
    """Feed `seconds` of tone as 20 ms packets arriving from `begin`, flushing as time passes."""
    payload = g711.encode(codec, tone(seconds))
    rng = np.random.default_rng(channel)
    for i in range(0, len(payload), 160):
        arrival = START + begin + i / RATE + float(rng.uniform(0, jitter))
        rec.feed(channel, codec, payload[i : i + 160], (ts0 + i) & 0xFFFFFFFF, ssrc, arrival)
        if i % 1600 == 0:
            rec.flush(arrival)


def read(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, RATE)
        frames = w.readframes(w.getnframes())
    return np.frombuffer(frames, dtype="<i2").reshape(-1, 2).astype(np.float64)


def rms(audio: np.ndarray, channel: int, begin: float, end: float) -> float:
    part = audio[int(begin * RATE) : int(end * RATE), channel]
    return float(np.sqrt(np.mean(part**2)))


def test_left_then_gap_then_right(tmp_path: Path) -> None:
    path = tmp_path / "2024" / "05" / "01" / "call.wav"
    rec = StereoRecorder(path, START)
    stream(rec, 0, Codec.PCMU, 0.0, 1.0, jitter=0.03)
    stream(rec, 1, Codec.PCMA, 1.5, 1.0, ts0=2**32 - 4000, ssrc=88, jitter=0.03)
    seconds = rec.close(START + 3.0)
    assert seconds == pytest.approx(3.0, abs=0.01)
    audio = read(path)
    assert len(audio) == pytest.approx(3.0 * RATE, abs=80)
    loud = 8000 / np.sqrt(2)
    assert rms(audio, 0, 0.05, 0.95) == pytest.approx(loud, rel=0.05)
    assert rms(audio, 1, 0.05, 0.95) < 20
    assert rms(audio, 0, 1.1, 1.4) < 20 and rms(audio, 1, 1.1, 1.4) < 20
    assert rms(audio, 1, 1.55, 2.45) == pytest.approx(loud, rel=0.05)
    assert rms(audio, 0, 1.5, 3.0) < 20
    assert rms(audio, 0, 2.6, 3.0) < 20 and rms(audio, 1, 2.6, 3.0) < 20
    assert rec.late_packets == 0


def test_timestamps_place_audio_despite_jitter(tmp_path: Path) -> None:
    rec = StereoRecorder(tmp_path / "j.wav", START)
    stream(rec, 0, Codec.PCMU, 0.0, 1.0, jitter=0.1)
    rec.close(START + 1.5)
    audio = read(tmp_path / "j.wav")
    expected = g711.decode(Codec.PCMU, g711.encode(Codec.PCMU, tone(1.0))).astype(np.float64)
    # Placed by RTP timestamp, the tone is continuous: find it and compare.
    # The tone's first sample is 0, so the first non-zero one is its second.
    begin = int(np.argmax(np.abs(audio[:, 0]) > 0)) - 1
    assert 0 <= begin < 0.1 * RATE
    assert np.array_equal(audio[begin : begin + 8000, 0], expected)


def test_hold_is_placed_by_arrival(tmp_path: Path) -> None:
    path = tmp_path / "hold.wav"
    rec = StereoRecorder(path, START)
    stream(rec, 0, Codec.PCMU, 0.0, 0.5, ts0=0)
    # After a 1 s hold the phone carries on as if no time had passed.
    stream(rec, 0, Codec.PCMU, 1.5, 0.5, ts0=4000)
    rec.close(START + 2.0)
    audio = read(path)
    assert rms(audio, 0, 0.6, 1.45) < 20
    assert rms(audio, 0, 1.55, 1.95) > 4000


def test_new_ssrc_is_placed_by_arrival(tmp_path: Path) -> None:
    path = tmp_path / "ssrc.wav"
    rec = StereoRecorder(path, START)
    stream(rec, 1, Codec.PCMA, 0.0, 0.5, ts0=0, ssrc=1)
    # A transfer: a new source whose timestamps are close to the old ones.
    stream(rec, 1, Codec.PCMA, 0.8, 0.5, ts0=100, ssrc=2)
    rec.close(START + 1.5)
    audio = read(path)
    assert rms(audio, 1, 0.55, 0.75) < 20
    assert rms(audio, 1, 0.85, 1.25) > 4000


def test_late_packets_are_dropped_and_counted(tmp_path: Path) -> None:
    rec = StereoRecorder(tmp_path / "late.wav", START)
    stream(rec, 0, Codec.PCMU, 0.0, 1.0, ts0=0)
    rec.flush(START + 1.5)
    assert rec.seconds == pytest.approx(1.3)
    rec.feed(0, Codec.PCMU, b"\x00" * 160, 1600, 77, START + 0.2)
    assert rec.late_packets == 1
    rec.close(START + 1.5)
    assert rms(read(tmp_path / "late.wav"), 0, 0.19, 0.23) < 6000


def test_header_is_valid_after_every_flush(tmp_path: Path) -> None:
    path = tmp_path / "partial.wav"
    rec = StereoRecorder(path, START)
    with wave.open(str(path), "rb") as w:
        assert w.getnframes() == 0
    stream(rec, 0, Codec.PCMU, 0.0, 1.0)
    rec.flush(START + 1.0)
    # Read while still recording, as after a power cut.
    with wave.open(str(path), "rb") as w:
        assert w.getnframes() == int(0.8 * RATE)
        assert len(w.readframes(w.getnframes())) == int(0.8 * RATE) * 4
    assert path.stat().st_size == 44 + int(0.8 * RATE) * 4
    rec.close(START + 1.0)
    with wave.open(str(path), "rb") as w:
        assert w.getnframes() == RATE


def test_codec_change_mid_call(tmp_path: Path) -> None:
    path = tmp_path / "reinvite.wav"
    rec = StereoRecorder(path, START)
    stream(rec, 0, Codec.PCMU, 0.0, 0.5, ts0=0, ssrc=5)
    stream(rec, 0, Codec.PCMA, 0.5, 0.5, ts0=4000, ssrc=5)
    rec.close(START + 1.0)
    audio = read(path)
    assert rms(audio, 0, 0.05, 0.45) == pytest.approx(rms(audio, 0, 0.55, 0.95), rel=0.05)


def test_close_is_idempotent_and_stops_feeding(tmp_path: Path) -> None:
    rec = StereoRecorder(tmp_path / "c.wav", START)
    assert rec.close(START + 0.5) == pytest.approx(0.5)
    rec.feed(0, Codec.PCMU, b"\x00" * 160, 0, 1, START + 0.6)
    rec.flush(START + 2.0)
    assert rec.close(START + 3.0) == pytest.approx(0.5)
    assert rec.closed


# Deferred open: the file is created on the recorder's file thread ---------------------


def _wait_files() -> None:
    from firmware.media.recorder import _file_thread

    _file_thread().submit(lambda: None).result(5)  # jobs run in order


def test_deferred_open_records_the_same_audio(tmp_path: Path) -> None:
    now_path, later_path = tmp_path / "now.wav", tmp_path / "d" / "later.wav"
    for path, defer in ((now_path, False), (later_path, True)):
        rec = StereoRecorder(path, START, defer_open=defer)
        stream(rec, 0, Codec.PCMA, 0.0, 1.0)
        stream(rec, 1, Codec.PCMA, 1.2, 1.0, ssrc=88)
        _wait_files()
        assert rec.close(START + 2.5) == pytest.approx(2.5, abs=0.01)
    # Equal but for the value of silence written before the right channel had a codec
    # (0 when flushed at once; A-law's silence code decodes to 8 when flushed later).
    assert np.max(np.abs(read(now_path) - read(later_path))) <= 8


def test_call_ending_before_the_file_exists_still_leaves_the_whole_recording(
        tmp_path: Path) -> None:
    import threading

    from firmware.media.recorder import _file_thread

    gate = threading.Event()
    _file_thread().submit(gate.wait, 5)  # a disk that takes its time
    path = tmp_path / "slow.wav"
    rec = StereoRecorder(path, START, defer_open=True)
    stream(rec, 0, Codec.PCMU, 0.0, 1.0)
    assert not path.exists()
    assert rec.close(START + 1.0) == pytest.approx(1.0, abs=0.01)
    gate.set()
    _wait_files()
    audio = read(path)
    assert len(audio) == pytest.approx(RATE, abs=80)
    assert rms(audio, 0, 0.05, 0.95) == pytest.approx(8000 / np.sqrt(2), rel=0.05)


def test_a_file_that_cannot_be_created_fails_the_recording_not_the_call(
        tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file where the day's directory should be")
    rec = StereoRecorder(tmp_path / "taken" / "x.wav", START, defer_open=True)
    _wait_files()
    stream_error = None
    try:
        stream(rec, 0, Codec.PCMU, 0.0, 0.5)
    except OSError as e:  # the engine drops the recorder and logs it
        stream_error = e
    assert stream_error is not None and rec.failed is not None
    rec.feed(0, Codec.PCMU, b"\xff" * 160, 0, 1, START)  # ignored, never buffered
    assert rec.close(START + 1.0) == 0.0
