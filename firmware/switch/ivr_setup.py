"""Load what the switch's IVR needs at start: flows, number -> flow routes, prompts.

Until the web UI edits flows in the database, flows are the shipped examples plus any
`DATA/ivr/flows/*.json`, and the routes are the JSON setting `ivr.routes`
(`{"number": "flow id"}`; a number is a DID on a trunk or a number dialled from an
extension). Without the setting the demo route applies: 96777 -> the gas hotline, so
`make run` answers 96777 from the sim E1 and from any extension.

`CCBOX_CLOCK_OFFSET` (seconds, tests only) shifts the IVR's wall clock, so an
integration test can be inside or outside office hours whatever the real time is.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from firmware.db.settings import get_setting
from firmware.ivr import Flow, FlowInvalid, IvrEnv, load_flow
from firmware.ivr.adapters import DemoBilling, LookupAdapter
from firmware.ivr.examples import load_json
from firmware.media.prompt_gen import PromptFiles
from firmware.switch.ivr_call import IvrServices

log = logging.getLogger(__name__)

ROUTES_SETTING = "ivr.routes"
DEMO_ROUTES = {"96777": "gas_hotline_96777"}
CLOCK_OFFSET_ENV = "CCBOX_CLOCK_OFFSET"


def ivr_clock() -> Callable[[], float]:
    raw = os.environ.get(CLOCK_OFFSET_ENV, "").strip()
    if not raw:
        return time.time
    offset = float(raw)
    log.warning("IVR clock shifted by %+.0f s (%s, for tests only)", offset, CLOCK_OFFSET_ENV)
    return lambda: time.time() + offset


def load_routes() -> dict[str, str]:
    """The number -> flow id map (reads the database: call from a thread)."""
    raw = get_setting(ROUTES_SETTING)
    if raw is None:
        return dict(DEMO_ROUTES)
    try:
        routes = json.loads(raw)
        if not isinstance(routes, dict):
            raise ValueError("not an object")
        return {str(k): str(v) for k, v in routes.items()}
    except ValueError as e:
        log.error("setting %s is not a JSON object of number -> flow id (%s); no IVR routes",
                  ROUTES_SETTING, e)
        return {}


def load_ivr(data_dir: Path) -> IvrServices:
    """Flows (each validated; a broken one is logged and left out), prompts, adapters."""
    prompts = PromptFiles(data_dir)
    uploaded = frozenset(p.stem for p in prompts.custom.glob("*.wav"))
    env = IvrEnv(uploaded_prompts=uploaded)
    sources: list[tuple[str, object]] = [("built-in gas_hotline_96777", load_json())]
    for path in sorted((data_dir / "ivr" / "flows").glob("*.json")):
        try:
            sources.append((str(path), json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError) as e:
            log.error("IVR flow %s unreadable: %s", path, e)
    flows: dict[str, Flow] = {}
    for where, data in sources:
        try:
            flow = load_flow(data, env)
        except FlowInvalid as e:
            log.error("IVR flow %s is invalid, not activated: %s", where, e)
            continue
        flows[flow.id] = flow  # a data-dir flow replaces the built-in of the same id
    adapters: dict[str, LookupAdapter] = {"demo_billing": DemoBilling()}
    return IvrServices(flows, prompts, env, adapters, ivr_clock())
