"""IVR routes in the dial plan, the ACD file format and its demo, the queue-log writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware.acd import AcdEngine, Offer, Strategy
from firmware.switch.acd_call import QueueLogWriter
from firmware.switch.acd_setup import DEMO_AGENTS, AcdSetupError, load_acd, parse_acd
from firmware.switch.directory import ExtensionDirectory, ExtensionInfo
from firmware.switch.ivr_setup import load_ivr
from firmware.switch.router import Route, Router
from tests.unit.test_switch_router_trunk import Leg


def test_ivr_number_routes_from_trunk_and_extension_before_dids() -> None:
    d = ExtensionDirectory()
    d.replace([ExtensionInfo("9002", "desk", "pw", True)])
    r = Router(d, dids={"96777": "9002"}, ivr_routes={"96777": "gas_hotline_96777"})
    assert r.route(Leg("pri", "96777")) == Route("ivr", "gas_hotline_96777")
    assert r.route(Leg("sip", "96777")) == Route("ivr", "gas_hotline_96777")
    assert r.route(Leg("sip", "9002")) == Route("extension", "9002")


def test_demo_acd_has_four_queues_with_agents_logged_in(tmp_path: Path) -> None:
    config, logins = load_acd(tmp_path)
    assert [q.name for q in config.queues] == ["emergency", "repair", "complaints", "general"]
    assert logins == {a: a for a in DEMO_AGENTS} and len(DEMO_AGENTS) == 10
    engine = AcdEngine(config)
    for agent, device in logins.items():
        engine.agent_login(agent, device, now=0.0)
    offers = [a for a in engine.join("c1", "emergency", "139", 100, now=1.0)
              if isinstance(a, Offer)]
    assert len(offers) == 10  # ring-all


def test_acd_file_is_parsed_and_errors_name_the_field(tmp_path: Path) -> None:
    (tmp_path / "acd.json").write_text(json.dumps({
        "queues": [{"name": "q", "strategy": "round-robin", "members": ["a", {"agent": "b",
                    "penalty": 1}], "ring_timeout": 5}],
        "agents": [{"id": "a"}, {"id": "b", "wrap_up": 3}], "logins": {"a": "801"}}))
    config, logins = load_acd(tmp_path)
    assert config.queues[0].strategy is Strategy.ROUND_ROBIN
    assert config.queues[0].members[1].penalty == 1 and logins == {"a": "801"}
    with pytest.raises(AcdSetupError, match=r"queues\[0\].*ring_timout"):
        parse_acd({"queues": [{"name": "q", "ring_timout": 5}]})
    with pytest.raises(AcdSetupError):
        parse_acd({"queues": [{"name": "q", "strategy": "fastest"}]})


def test_ivr_loads_builtin_flow_and_skips_a_broken_one(tmp_path: Path) -> None:
    flows = tmp_path / "ivr" / "flows"
    flows.mkdir(parents=True)
    (flows / "broken.json").write_text(json.dumps({"schema": 1, "id": "x", "nodes": {}}))
    ivr = load_ivr(tmp_path)
    assert list(ivr.flows) == ["gas_hotline_96777"]
    assert "demo_billing" in ivr.adapters


def test_queue_log_writer_appends_lines(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "queue_log"
    w = QueueLogWriter(path)
    w.write("1|c|q|NONE|ENTERQUEUE||139|1")
    w.write("2|c|q|a|CONNECT|1|801|1")
    w.close()
    assert path.read_text().splitlines()[1].endswith("CONNECT|1|801|1")
