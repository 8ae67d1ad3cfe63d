"""IVR flows: model, validation, time rules, Mandarin `say`, prompt catalogue, and a
sans-I/O runner the switch drives (see runner.py and actions.py for the seam).

Typical use by the switch:

    flow = load_flow(stored_json, env)            # once, when the flow is activated
    runner = IvrRunner(flow, {"caller": ani, "called": dnis}, time.time(), env=env)
    execute(runner.start(time.time()))            # actions: Play, Transfer, ...
    ... on each call event: execute(runner.handle(event, time.time()))
    ... at runner.next_timer():  execute(runner.handle_timer(time.time()))
"""

from firmware.ivr.actions import (
    Action,
    Digit,
    Event,
    Hangup,
    HangupCall,
    Log,
    Lookup,
    LookupResult,
    Play,
    PromptDone,
    StartCollect,
    StopPlayback,
    Transfer,
    TransferFailed,
    Voicemail,
)
from firmware.ivr.env import IvrEnv
from firmware.ivr.errors import FlowError, FlowInvalid, Report
from firmware.ivr.flow import Flow, TransferKind
from firmware.ivr.runner import IvrRunner
from firmware.ivr.validate import load_flow, validate

__all__ = [
    "Action", "Digit", "Event", "Flow", "FlowError", "FlowInvalid", "Hangup", "HangupCall",
    "IvrEnv", "IvrRunner", "Log", "Lookup", "LookupResult", "Play", "PromptDone", "Report",
    "StartCollect", "StopPlayback", "Transfer", "TransferFailed", "TransferKind", "Voicemail",
    "load_flow", "validate",
]
