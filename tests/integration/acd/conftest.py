"""Fixtures of the queue tests: a box started from the test's own site file, the agents'
desk and the callers.

A test names its site with `@uses(site(...))` (tests/integration/acd/agents.py); the
box imports it with `ccbox config import` before it starts, as an installer prepares a
box, so every test starts from exactly the configuration it describes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware.media.prompt_gen import ensure_stock
from tests.integration.acd.agents import Callers, Desk
from tests.integration.box import clone_data_dir
from tests.integration.phones import SipPhones
from tests.integration.site import import_site


@pytest.fixture(scope="session")
def prompts_template(data_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The extensions template with the stock prompts already made: every queue test's
    box would otherwise spend its first second synthesising the same 64 files."""
    template = tmp_path_factory.mktemp("ccbox-acd-template") / "data"
    clone_data_dir(data_template, template)
    ensure_stock(template)
    return template


@pytest.fixture
def box_data(tmp_path: Path, prompts_template: Path, request: pytest.FixtureRequest) -> Path:
    data = tmp_path / "data"
    clone_data_dir(prompts_template, data)
    marker = request.node.get_closest_marker("site")
    assert marker is not None, "a queue test names its site with @uses(site(...))"
    import_site(data, marker.args[0])
    return data


@pytest.fixture
def desk(phones: SipPhones) -> Desk:
    return Desk(phones)


@pytest.fixture
def callers(phones: SipPhones) -> Callers:
    return Callers(phones)
