"""Validation before a flow is activated.

Checks, each finding naming node and field:
- structure: required fields present and typed, no unknown fields (parse.py);
- values: DTMF keys, digit counts, timeouts and retries within bounds, names that
  resolve (schedules, calendars, lists, adapters, prompts), templates that parse;
- graph: the entry and every branch point to existing nodes; unreachable nodes are
  warnings; a loop that never waits on the caller is an error, because at run time it
  would spin (the runner's step cap is the backstop, not the plan).
All findings are returned, not only the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from firmware.ivr.env import CALL_VARS, IvrEnv
from firmware.ivr.errors import Findings, FlowInvalid, Report
from firmware.ivr.expr import NAME_RE, ExprError, expr_names, parse_expr, template_names
from firmware.ivr.flow import (
    DTMF_KEYS,
    PRIORITY_MAX,
    CallerNode,
    CollectNode,
    Flow,
    HangupNode,
    LookupNode,
    MenuNode,
    Node,
    PlayNode,
    SayNode,
    SetNode,
    TimeNode,
    TransferKind,
    TransferNode,
    VoicemailNode,
)
from firmware.ivr.parse import parse_flow
from firmware.ivr.prompts import check_prompts
from firmware.switch.causes import Cause

MAX_RETRIES = 9
MAX_INPUT_TIMEOUT = 60.0
MAX_LOOKUP_TIMEOUT = 30.0
MAX_DIGITS = 64
_DIALABLE = set("0123456789*#+")
_CAUSES = frozenset(c.value for c in Cause)


def validate(data: object, env: IvrEnv | None = None) -> Report:
    """Validate a flow as stored (JSON object)."""
    found = Findings()
    flow, broken = parse_flow(data, found)
    if flow is not None:
        check_flow(flow, env or IvrEnv(), found, broken=broken)
    return found.report()


def load_flow(data: object, env: IvrEnv | None = None) -> Flow:
    """Parse and validate; raise FlowInvalid (with every error) unless activatable."""
    found = Findings()
    flow, broken = parse_flow(data, found)
    if flow is not None:
        check_flow(flow, env or IvrEnv(), found, broken=broken)
    if found.errors or flow is None:
        raise FlowInvalid(found.errors)
    return flow


def check_flow(flow: Flow, env: IvrEnv, found: Findings, *,
               broken: frozenset[str] = frozenset()) -> None:
    """Semantic and graph checks on a parsed flow (also usable on flows built in code)."""
    known_vars = _known_vars(flow, env)
    for _nid, node in flow.nodes.items():
        _check_node(flow, env, node, known_vars, found)
    found.errors.extend(check_prompts(flow, env.uploaded_prompts))
    _check_graph(flow, broken, found)


# --- per node ---------------------------------------------------------------------


def _known_vars(flow: Flow, env: IvrEnv) -> set[str]:
    known = set(CALL_VARS)
    for node in flow.nodes.values():
        if isinstance(node, CollectNode | SetNode):
            known.add(node.var)
        elif isinstance(node, LookupNode) and node.adapter in env.adapters:
            known |= env.adapters[node.adapter].outputs
    return known


def _check_template(node: Node, path: str, text: str, known: set[str], found: Findings) -> None:
    try:
        names = template_names(text)
    except ExprError as e:
        found.error(node.id, path, str(e))
        return
    for name in names:
        if name not in known:
            found.warn(node.id, path, f"variable {name!r} is never set in this flow")


def _check_timeout(node: Node, path: str, value: float, limit: float, found: Findings) -> None:
    if not 0 < value <= limit:
        found.error(node.id, path, f"must be more than 0 and at most {limit:g} seconds")


def _check_retries(node: Node, value: int, found: Findings) -> None:
    if not 0 <= value <= MAX_RETRIES:
        found.error(node.id, "retries", f"must be between 0 and {MAX_RETRIES}")


def _check_var(node: Node, name: str, found: Findings) -> None:
    if not NAME_RE.fullmatch(name):
        found.error(node.id, "var", f"bad variable name {name!r}")


def _check_node(flow: Flow, env: IvrEnv, node: Node, known: set[str], found: Findings) -> None:
    nid = node.id
    match node:
        case PlayNode():
            if not node.prompts:
                found.error(nid, "prompts", "at least one prompt is required")
        case MenuNode():
            if not node.prompt:
                found.error(nid, "prompt", "at least one prompt is required")
            if not node.branches:
                found.error(nid, "branches", "at least one key is required")
            for key in node.branches:
                if len(key) != 1 or key not in DTMF_KEYS:
                    found.error(nid, f"branches.{key}", f"{key!r} is not a DTMF key ({DTMF_KEYS})")
            _check_timeout(node, "timeout", node.timeout, MAX_INPUT_TIMEOUT, found)
            _check_retries(node, node.retries, found)
            for branch in ("on_invalid", "on_timeout"):
                if getattr(node, branch) is None:
                    found.warn(nid, branch, "not set: the caller is hung up when retries run out")
        case CollectNode():
            _check_collect(node, found)
        case TimeNode():
            if node.schedule not in flow.schedules and node.schedule not in env.schedules:
                found.error(nid, "schedule", f"no schedule named {node.schedule!r}")
            if (node.calendar is not None and node.calendar not in flow.calendars
                    and node.calendar not in env.calendars):
                found.error(nid, "calendar", f"no holiday calendar named {node.calendar!r}")
        case CallerNode():
            if not node.rules and node.anonymous is None:
                found.warn(nid, "rules", "no rules: every call takes `default`")
            for i, rule in enumerate(node.rules):
                if (rule.list is None) == (not rule.numbers):
                    found.error(nid, f"rules.{i}", "give exactly one of `list` or `numbers`")
                elif (rule.list is not None and rule.list not in flow.lists
                      and rule.list not in env.lists):
                    found.error(nid, f"rules.{i}.list", f"no caller list named {rule.list!r}")
        case SetNode():
            _check_var(node, node.var, found)
            if (node.value is None) == (node.expr is None):
                found.error(nid, "value", "give exactly one of `value` or `expr`")
            elif node.value is not None:
                _check_template(node, "value", node.value, known, found)
            elif node.expr is not None:
                try:
                    names = expr_names(parse_expr(node.expr))
                except ExprError as e:
                    found.error(nid, "expr", str(e))
                else:
                    for name in names:
                        if name not in known:
                            found.warn(nid, "expr", f"variable {name!r} is never set in this flow")
        case LookupNode():
            spec = env.adapters.get(node.adapter)
            if spec is None:
                found.error(nid, "adapter", f"no lookup adapter named {node.adapter!r}")
            else:
                for missing in sorted(spec.params - set(node.params)):
                    found.error(nid, f"params.{missing}", f"required by adapter {spec.name!r}")
            for key, text in node.params.items():
                _check_template(node, f"params.{key}", text, known, found)
            _check_timeout(node, "timeout", node.timeout, MAX_LOOKUP_TIMEOUT, found)
        case SayNode():
            _check_template(node, "value", node.value, known, found)
        case TransferNode():
            _check_template(node, "target", node.target, known, found)
            if not node.target.strip():
                found.error(nid, "target", "required")
            elif (node.to is not TransferKind.QUEUE and "${" not in node.target
                  and not set(node.target) <= _DIALABLE):
                found.error(nid, "target", f"{node.target!r} is not a dialable number")
            if not 0 <= node.priority <= PRIORITY_MAX:
                found.error(nid, "priority", f"must be between 0 and {PRIORITY_MAX}")
            elif node.priority and node.to is not TransferKind.QUEUE:
                found.warn(nid, "priority", "only queues use a priority")
        case VoicemailNode():
            if not node.box.strip():
                found.error(nid, "box", "required")
            _check_template(node, "box", node.box, known, found)
        case HangupNode():
            if node.cause not in _CAUSES:
                found.error(nid, "cause", f"{node.cause} is not a Q.850 cause the switch knows")


def _check_collect(node: CollectNode, found: Findings) -> None:
    nid = node.id
    _check_var(node, node.var, found)
    if not 1 <= node.max_digits <= MAX_DIGITS:
        found.error(nid, "max_digits", f"must be between 1 and {MAX_DIGITS}")
    if not 0 <= node.min_digits <= node.max_digits:
        found.error(nid, "min_digits", "must be between 0 and max_digits")
    if node.terminator and (len(node.terminator) != 1 or node.terminator not in DTMF_KEYS):
        found.error(nid, "terminator", f"must be one DTMF key or empty, got {node.terminator!r}")
    if not node.allowed or not set(node.allowed) <= set(DTMF_KEYS):
        found.error(nid, "allowed", f"must be DTMF keys ({DTMF_KEYS})")
    elif node.terminator and node.terminator in node.allowed:
        found.error(nid, "terminator", "is also an allowed digit")
    _check_timeout(node, "first_timeout", node.first_timeout, MAX_INPUT_TIMEOUT, found)
    _check_timeout(node, "inter_timeout", node.inter_timeout, MAX_INPUT_TIMEOUT, found)
    _check_retries(node, node.retries, found)
    if node.on_fail is None:
        found.warn(nid, "on_fail", "not set: the caller is hung up when input fails")


# --- graph ------------------------------------------------------------------------


def _check_graph(flow: Flow, broken: frozenset[str], found: Findings) -> None:
    exists = set(flow.nodes) | broken
    if flow.entry and flow.entry not in exists:
        found.error(None, "entry", f"points to missing node {flow.entry!r}")
    for nid, node in flow.nodes.items():
        for path, target in node.edges():
            if target not in exists:
                found.error(nid, path, f"points to missing node {target!r}")

    graph = {nid: [t for _, t in n.edges() if t in flow.nodes] for nid, n in flow.nodes.items()}
    if not broken and flow.entry in flow.nodes:
        seen = _reachable(flow.entry, graph)
        for nid in flow.nodes:
            if nid not in seen:
                found.warn(nid, "node", "unreachable from the entry node")

    # A loop made only of nodes that take no caller time would spin at run time.
    instant = {nid for nid, n in flow.nodes.items() if not n.takes_caller_time()}
    for scc in _cycles({n: [t for t in graph[n] if t in instant] for n in instant}):
        first = next(nid for nid in flow.nodes if nid in scc)
        field = next(p for p, t in flow.nodes[first].edges() if t in scc)
        path = " -> ".join(_cycle_path(first, scc, graph))
        found.error(first, field, f"loop {path} never plays a prompt or waits for the caller")

    # A loop without menu or collect is legal (a closed-hours announcement may repeat)
    # but if nothing branches out of it the caller's only exit is hanging up.
    no_input = {nid for nid, n in flow.nodes.items() if not isinstance(n, MenuNode | CollectNode)}
    for scc in _cycles({n: [t for t in graph[n] if t in no_input] for n in no_input}):
        if any(t not in scc for n in scc for t in graph[n]) or scc <= instant:
            continue
        first = next(nid for nid in flow.nodes if nid in scc)
        found.warn(first, "node", "this loop has no exit: the caller can only hang up")


def _reachable(start: str, graph: Mapping[str, list[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for t in graph[stack.pop()]:
            if t not in seen:
                seen.add(t)
                stack.append(t)
    return seen


def _cycles(graph: Mapping[str, list[str]]) -> Iterable[frozenset[str]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[frozenset[str]] = []
    for root in graph:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = len(index)
                stack.append(v)
                on_stack.add(v)
            succ = graph[v]
            if i < len(succ):
                work.append((v, i + 1))
                w = succ[i]
                if w not in index:
                    work.append((w, 0))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            if low[v] == index[v]:
                comp: set[str] = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1 or v in graph[v]:
                    out.append(frozenset(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def _cycle_path(start: str, scc: frozenset[str], graph: Mapping[str, list[str]]) -> list[str]:
    """One concrete loop from `start` back to itself inside the component, for the message."""
    prev: dict[str, str] = {}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for t in graph[v]:
            if t == start:
                path = [v]
                while path[-1] != start:
                    path.append(prev[path[-1]])
                return [*reversed(path), start]
            if t in scc and t not in prev and t != start:
                prev[t] = v
                queue.append(t)
    return [start, start]  # pragma: no cover - a cycle component always has a path
