"""Per-line FXO settings from the database: the JSON setting `fxo.ports`.

    {"fxo1": {"inbound": "96777", "answer_on_polarity": false,
              "hangup_on_polarity": true, "busy_detect": true,
              "silence_timeout": 30, "echo_cancel": true},
     "*": {...defaults for every line...}}

Keys are port names (`fxo1`, `fxo2`, as `ccbox status` shows them). A wrong key or
value is logged and left out; the line keeps the default for it and still works.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable
from typing import Any

from drivers.fxo.line import FxoConfig
from drivers.fxo.trunk import PortSettings

log = logging.getLogger(__name__)

SETTING = "fxo.ports"
_LINE_FIELDS = {f.name: f.type for f in dataclasses.fields(FxoConfig)}


def _coerce(key: str, value: Any) -> Any:
    default = getattr(FxoConfig(), key)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError("must be a number of seconds (0 or more)")
    return type(default)(value)


def port_settings(raw: dict[str, Any], name: str) -> PortSettings:
    inbound = PortSettings().inbound
    echo = True
    line: dict[str, Any] = {}
    for key, value in raw.items():
        try:
            if key == "inbound":
                if not isinstance(value, str) or not value.strip() or \
                        not all(c.isdigit() or c in "*#" for c in value.strip()):
                    raise ValueError("must be the number to deliver the calls to")
                inbound = value.strip()
            elif key == "echo_cancel":
                if not isinstance(value, bool):
                    raise ValueError("must be true or false")
                echo = value
            elif key in _LINE_FIELDS:
                line[key] = _coerce(key, value)
            else:
                raise ValueError("unknown setting")
        except ValueError as e:
            log.error("setting %s, line %s: %s %r %s; using the default", SETTING, name,
                      key, value, e)
    return PortSettings(inbound=inbound, echo_cancel=echo, line=FxoConfig(**line))


def parse(text: str | None, names: Iterable[str]) -> dict[str, PortSettings]:
    data: dict[str, Any] = {}
    if text:
        try:
            loaded = json.loads(text)
            if not isinstance(loaded, dict):
                raise ValueError("not a JSON object")
            data = loaded
        except ValueError as e:
            log.error("setting %s is not a JSON object of line -> settings (%s); "
                      "every FXO line uses the defaults", SETTING, e)
    common = data.get("*", {}) if isinstance(data.get("*"), dict) else {}
    out = {}
    for name in names:
        own = data.get(name, {})
        if not isinstance(own, dict):
            log.error("setting %s: %s is not an object; using the defaults", SETTING, name)
            own = {}
        out[name] = port_settings({**common, **own}, name)
    return out


def load(names: Iterable[str]) -> dict[str, PortSettings]:
    """Read the setting (touches the database: call before the event loop carries
    calls, or from a thread)."""
    from firmware.db.settings import get_setting

    try:
        text = get_setting(SETTING)
    except Exception as e:  # no database (unit use) or a broken one: defaults
        log.error("cannot read setting %s: %s; FXO lines use the defaults", SETTING, e)
        text = None
    return parse(text, names)
