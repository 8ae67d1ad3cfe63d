"""Fixtures for the integration suite: free ports, a data dir, the box, sipp phones.

Every test gets its own box (`box` fixture): own SIP/web ports, its own 200-port RTP
range, its own data dir holding extensions 9001-9004 (passwords in box.EXTENSIONS).
The box is stopped with SIGINT (SIGKILL after 10 s) whatever happens; when a test fails
its report carries the box's output and the path of every artifact (sipp traces,
baresip log, data dir).

sipp and baresip are installed by scripts/bootstrap.sh: if they are missing the tests
fail, they do not skip.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from tests.integration.box import Box, BoxError, BoxPorts, add_extensions, clone_data_dir
from tests.integration.phones import SipPhones
from tests.peers.baresip import BARESIP
from tests.peers.ports import free_port, release_block, rtp_range
from tests.peers.sipp import SIPP

BOX_KEY = pytest.StashKey[Box]()
DIRS_KEY = pytest.StashKey[list[Path]]()


@pytest.fixture(scope="session")
def peer_tools() -> None:
    """sipp 3.6 and baresip must be installed (scripts/bootstrap.sh does it)."""
    missing = [p for p in (SIPP, BARESIP) if shutil.which(p) is None]
    if missing:
        pytest.fail(
            f"missing {', '.join(missing)}: run scripts/bootstrap.sh "
            "(Debian packages sip-tester and baresip-core)",
            pytrace=False,
        )
    out = subprocess.run([SIPP, "-v"], capture_output=True, text=True, check=False).stdout
    if "v3." not in out:
        pytest.fail(f"unexpected sipp version: {out.strip()!r}", pytrace=False)


@pytest.fixture
def box_ports() -> Iterator[BoxPorts]:
    ports = BoxPorts(sip=free_port(), web=free_port(), rtp=rtp_range(200))
    yield ports
    # after the box fixture's teardown (it depends on this one): the box is stopped
    low, high = ports.rtp
    release_block(low, high - low + 1)


@pytest.fixture(scope="session")
def data_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with extensions 9001-9004, made once by `ccbox ext add` and then copied."""
    template = tmp_path_factory.mktemp("ccbox-template") / "data"
    error = None
    try:
        add_extensions(template)
    except BoxError as e:
        error = str(e)
    if error is not None:
        pytest.fail(f"could not create the test extensions:\n{error}", pytrace=False)
    return template


@pytest.fixture
def box_data(tmp_path: Path, data_template: Path, request: pytest.FixtureRequest) -> Path:
    data = tmp_path / "data"
    clone_data_dir(data_template, data)
    _remember_dir(request, data)
    return data


@pytest.fixture
def box(
    box_data: Path,
    box_ports: BoxPorts,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    peer_tools: None,
) -> Iterator[Box]:
    b = Box(box_data, box_ports, tmp_path / "box.log")
    request.node.stash[BOX_KEY] = b
    error = None
    try:
        b.start(timeout=20)
    except BoxError as e:
        error = str(e)
    if error is not None:
        b.stop()
        pytest.fail(error, pytrace=False)
    try:
        yield b
    finally:
        b.stop(timeout=10)


@pytest.fixture
def sipp_dir(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    d = tmp_path / "sipp"
    d.mkdir(exist_ok=True)
    _remember_dir(request, d)
    return d


@pytest.fixture
def phones(box: Box, sipp_dir: Path) -> Generator[SipPhones, None, None]:
    p = SipPhones(box, sipp_dir)
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def peers_dir(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A per-test directory for peer artifacts (baresip config/logs, sipp traces)."""
    d = tmp_path / "peers"
    d.mkdir(exist_ok=True)
    _remember_dir(request, d)
    return d


def _remember_dir(request: pytest.FixtureRequest, d: Path) -> None:
    request.node.stash.setdefault(DIRS_KEY, []).append(d)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not report.failed or report.when not in ("setup", "call"):
        return
    dirs = item.stash.get(DIRS_KEY, [])
    if dirs:
        report.sections.append(("artifacts", "\n".join(str(d) for d in dirs)))
    box = item.stash.get(BOX_KEY, None)
    if box is not None:
        report.sections.append(("ccbox output (last 400 lines)", box.log_text(tail=400)))
