"""firmware.config: port ranges, BoxConfig checks and board files."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.config import BoxConfig, ConfigError, available_boards, load_board, parse_port_range


def test_port_range_ok() -> None:
    assert parse_port_range("20000-20999") == (20000, 20999)
    assert parse_port_range(" 10000 - 10001 ") == (10000, 10001)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("20000", "must look like"),
        ("a-b", "must look like"),
        ("20000-", "must look like"),
        ("20001-20999", "must be even"),
        ("20998-20000", "below the last"),
        ("20000-20000", "below the last"),
        ("1000-2000", "outside 1024..65535"),
        ("60000-70000", "outside 1024..65535"),
    ],
)
def test_port_range_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_port_range(text)


def test_box_config_defaults(tmp_path: Path) -> None:
    cfg = BoxConfig(board="sim", data_dir=tmp_path)
    assert (cfg.sip_port, cfg.web_port, cfg.rtp_range) == (5060, 8080, "20000-23999")
    assert cfg.bind_host == "0.0.0.0" and cfg.advertise_host is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sip_port": 0}, "not a port number"),
        ({"web_port": 70000}, "not a port number"),
        ({"rtp_min": 20001}, "must be even"),
        ({"sip_port": 8080}, "cannot share"),
        ({"sip_port": 20500}, "inside the RTP range"),
        ({"web_port": 20000}, "inside the RTP range"),
    ],
)
def test_box_config_errors(tmp_path: Path, kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BoxConfig(board="sim", data_dir=tmp_path, **kwargs)  # type: ignore[arg-type]


def test_sim_board_describes_the_emulated_hardware() -> None:
    board = load_board("sim")
    [span] = board["telephony"]["spans"]
    assert span["type"] == "E1" and span["b_channels"] == 30
    assert (span["signalling"], span["switchtype"], span["side"]) == ("pri", "euroisdn", "cpe")
    assert span["far_end"]["side"] == "net"
    assert len(board["telephony"]["fxo"]) == 2
    assert board["gsm"][0]["device"] == "pty"
    assert board["audio"]["alsa"] is False


def test_every_board_file_loads() -> None:
    assert {"sim", "x86-generic", "arm-generic"} <= set(available_boards())
    for name in available_boards():
        assert load_board(name)["name"] == name


@pytest.mark.parametrize(("name", "message"), [("nope", "unknown board"), ("../x", "board name")])
def test_bad_board_names(name: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_board(name)
