"""Runs one call through a flow, sans I/O.

In the style of h11/aioquic: the runner owns no socket, clock or task. The switch
feeds it events with the current time and executes the actions it returns; the runner
says when it next wants to be woken (`next_timer`) and the switch calls
`handle_timer` then. The same object therefore runs on a live call, in unit tests
with a fake clock, and in the web UI's flow simulator.

Behaviour modelled on what callers know from Asterisk/FreeSWITCH IVRs:
- barge-in: on an interruptible prompt a key stops playback at once;
- type-ahead: keys pressed during an interruptible prompt are kept for the next menu or
  collect (an experienced caller types "3 1234567#" through the greeting); an
  interruptible prompt reached with keys pending is skipped; keys pressed during an
  uninterruptible prompt are dropped, as Asterisk's Playback() does;
- menu and collect timeouts run from the end of the prompt, the inter-digit timeout
  from the last key; invalid keys and timeouts share one retry budget per node entry;
  pending type-ahead is flushed on a mistake (the rest is likely garbage too);
- a cap on node entries per call (`Flow.max_steps`) so that even a flow that bypassed
  validation, or a dead line looping through menu timeouts, ends.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from enum import Enum, auto

from firmware.ivr.actions import (
    Action,
    Digit,
    Event,
    Hangup,
    HangupCall,
    Log,
    LogValue,
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
from firmware.ivr.caller import is_anonymous, matches
from firmware.ivr.env import IvrEnv
from firmware.ivr.expr import ExprError, evaluate, render
from firmware.ivr.flow import (
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
from firmware.ivr.say import SayError, say
from firmware.ivr.timerules import TimeStatus
from firmware.ivr.timerules import evaluate as time_status
from firmware.switch.causes import Cause

STEP_CAP_CAUSE = Cause.NORMAL_UNSPECIFIED  # the flow broke, not the caller or network


class _Phase(Enum):
    IDLE = auto()  # before start()
    PLAYING = auto()  # waiting for PromptDone
    INPUT = auto()  # menu/collect waiting for keys
    LOOKUP = auto()  # waiting for LookupResult
    TRANSFERRING = auto()  # call handed over; only TransferFailed matters
    DONE = auto()


class IvrRunner:
    def __init__(self, flow: Flow, call_vars: Mapping[str, str], now: float, *,
                 env: IvrEnv | None = None) -> None:
        """`now` and every later `now` are epoch seconds (time.time()): the same clock
        serves timers and the time-of-day rules."""
        self.flow = flow
        self.env = env or IvrEnv()
        self._vars: dict[str, str] = dict(call_vars)
        self._created = now
        self._phase = _Phase.IDLE
        self._node: Node | None = None
        self._next: str | None = None  # node to enter once the current step returns
        self._steps = 0
        self._typeahead: deque[str] = deque()
        self._deadline: float | None = None
        self._attempts = 0  # failed tries at the current menu/collect
        self._collected = ""
        self._play_seq = 0
        self._playing: int | None = None  # id of the Play we wait for
        self._barge_in = False
        self._lookup_seq = 0
        self._looking_up: int | None = None
        self._out: list[Action] = []
        self._secret_vars: set[str] = set()  # PINs: never handed on with a transfer

    # --- public API ---------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once the runner no longer drives the call (transferred, voicemail,
        hung up). After a transfer it still accepts TransferFailed."""
        return self._phase in (_Phase.TRANSFERRING, _Phase.DONE)

    @property
    def variables(self) -> Mapping[str, str]:
        return dict(self._vars)

    @property
    def node_id(self) -> str | None:
        return None if self._node is None else self._node.id

    def start(self, now: float) -> list[Action]:
        if self._phase is not _Phase.IDLE:
            raise RuntimeError("IvrRunner.start() called twice")
        self._log("ivr_start", flow=self.flow.id, version=self.flow.version)
        self._goto(self.flow.entry)
        return self._run(now)

    def handle(self, event: Event, now: float) -> list[Action]:
        if self._phase is _Phase.IDLE:
            raise RuntimeError("IvrRunner.handle() before start()")
        if self._phase is _Phase.DONE:
            return []
        match event:
            case Hangup():
                if self._phase is _Phase.TRANSFERRING:
                    # The queue or extension owns the call now and logs its end.
                    self._phase = _Phase.DONE
                else:
                    self._log("caller_hangup", node=self.node_id)
                    self._end(now, "caller_hangup")
            case PromptDone(play_id):
                if self._phase is _Phase.PLAYING and play_id == self._playing:
                    self._playing = None
                    self._prompt_done(now)
            case Digit(digit):
                self._digit(digit, now)
            case LookupResult():
                if self._phase is _Phase.LOOKUP and event.request_id == self._looking_up:
                    self._lookup_result(event)
            case TransferFailed(cause):
                if self._phase is _Phase.TRANSFERRING:
                    self._transfer_failed(cause, now)
        return self._run(now)

    def next_timer(self) -> float | None:
        return self._deadline

    def handle_timer(self, now: float) -> list[Action]:
        """Call at or after next_timer(); an early or spurious call does nothing."""
        if self._deadline is None or now < self._deadline:
            return []
        self._deadline = None
        node = self._node
        if self._phase is _Phase.INPUT:
            if isinstance(node, MenuNode):
                self._input_failed("timeout", now)
            elif isinstance(node, CollectNode):
                if self._collected or node.min_digits == 0:
                    self._finish_collect(now)
                else:
                    self._input_failed("timeout", now)
        elif self._phase is _Phase.LOOKUP and isinstance(node, LookupNode):
            self._looking_up = None
            self._log("lookup_failed", node=node.id, error="timeout")
            self._goto(node.on_fail)
        return self._run(now)

    # --- stepping -----------------------------------------------------------------

    def _run(self, now: float) -> list[Action]:
        while self._next is not None and self._phase is not _Phase.DONE:
            nid, self._next = self._next, None
            self._enter(nid, now)
        out, self._out = self._out, []
        return out

    def _goto(self, nid: str) -> None:
        self._next = nid

    def _log(self, event: str, **data: LogValue) -> None:
        self._out.append(Log(event, data))

    def _end(self, now: float, reason: str) -> None:
        self._log("ivr_end", reason=reason, steps=self._steps,
                  seconds=round(now - self._created, 3))
        self._phase = _Phase.DONE
        self._deadline = None
        self._next = None

    def _hangup(self, cause: Cause, now: float, reason: str) -> None:
        self._out.append(HangupCall(cause))
        self._end(now, reason)

    def _enter(self, nid: str, now: float) -> None:
        self._steps += 1
        if self._steps > self.flow.max_steps:
            self._log("step_cap", node=nid, steps=self.flow.max_steps)
            self._hangup(STEP_CAP_CAUSE, now, "step_cap")
            return
        node = self.flow.nodes.get(nid)
        if node is None:  # only a flow that skipped validation gets here
            self._log("flow_error", node=nid, error="missing node")
            self._hangup(STEP_CAP_CAUSE, now, "flow_error")
            return
        self._node = node
        self._attempts = 0
        self._collected = ""
        self._deadline = None
        self._playing = self._looking_up = None
        self._log("node", node=nid, kind=node.kind)
        match node:
            case PlayNode():
                self._enter_prompt(node.prompts, node.barge_in, node.next)
            case MenuNode():
                self._out.append(StartCollect(1, "", node.timeout))
                if self._typeahead:
                    self._phase = _Phase.INPUT
                    self._menu_key(node, self._typeahead.popleft(), now)
                else:
                    self._play(node.prompt, node.barge_in)
            case CollectNode():
                self._enter_collect(node, now)
            case TimeNode():
                self._enter_time(node, now)
            case CallerNode():
                self._enter_caller(node)
            case SetNode():
                self._enter_set(node)
            case LookupNode():
                self._enter_lookup(node, now)
            case SayNode():
                self._enter_say(node)
            case TransferNode():
                self._enter_transfer(node, now)
            case VoicemailNode():
                try:
                    box = render(node.box, self._vars)
                except ExprError as e:
                    self._log("flow_error", node=nid, error=str(e))
                    self._hangup(Cause.NORMAL_CLEARING, now, "flow_error")
                    return
                self._out.append(Voicemail(box))
                self._end(now, "voicemail")
            case HangupNode():
                try:
                    cause = Cause(node.cause)
                except ValueError:  # validation rejects it; unvalidated flows still end
                    cause = Cause.NORMAL_CLEARING
                self._hangup(cause, now, "hangup_node")

    def _play(self, prompts: tuple[str, ...], barge_in: bool) -> None:
        self._play_seq += 1
        self._playing = self._play_seq
        self._barge_in = barge_in
        self._phase = _Phase.PLAYING
        self._out.append(Play(self._play_seq, prompts, barge_in))

    def _enter_prompt(self, prompts: tuple[str, ...], barge_in: bool, nxt: str) -> None:
        if barge_in and self._typeahead:
            # The caller is already typing ahead: an interruptible prompt would be
            # cut by the first frame anyway.
            self._log("prompt_skipped", node=self.node_id, reason="typeahead")
            self._goto(nxt)
        elif not prompts:
            self._goto(nxt)
        else:
            self._play(prompts, barge_in)

    def _prompt_done(self, now: float) -> None:
        node = self._node
        if isinstance(node, PlayNode | SayNode):
            self._goto(node.next)
        elif isinstance(node, MenuNode | CollectNode):
            self._await_input(now)

    def _await_input(self, now: float) -> None:
        node = self._node
        self._phase = _Phase.INPUT
        if isinstance(node, MenuNode):
            self._deadline = now + node.timeout
        elif isinstance(node, CollectNode):
            wait = node.inter_timeout if self._collected else node.first_timeout
            self._deadline = now + wait

    # --- digits -------------------------------------------------------------------

    def _digit(self, digit: str, now: float) -> None:
        node = self._node
        if self._phase is _Phase.PLAYING:
            if not self._barge_in:
                self._log("digit_ignored", node=self.node_id, digit=self._shown(digit))
                return
            self._out.append(StopPlayback())
            self._playing = None
            if isinstance(node, MenuNode):
                self._phase = _Phase.INPUT
                self._menu_key(node, digit, now)
            elif isinstance(node, CollectNode):
                self._phase = _Phase.INPUT
                self._collect_digit(node, digit, now)
            elif isinstance(node, PlayNode | SayNode):
                self._log("barge_in", node=node.id, digit=digit)
                self._typeahead.append(digit)
                self._goto(node.next)
        elif self._phase is _Phase.INPUT:
            if isinstance(node, MenuNode):
                self._menu_key(node, digit, now)
            elif isinstance(node, CollectNode):
                self._collect_digit(node, digit, now)
        elif self._phase is _Phase.LOOKUP:
            self._typeahead.append(digit)  # the menu after the lookup gets it
        # After a transfer, keys belong to the queue or the agent, not to the IVR.

    def _shown(self, digit: str) -> str:
        node = self._node
        return "*" if isinstance(node, CollectNode) and node.secret else digit

    def _menu_key(self, node: MenuNode, digit: str, now: float) -> None:
        self._deadline = None
        self._log("digit", node=node.id, digit=digit)
        target = node.branches.get(digit)
        if target is None:
            self._input_failed("invalid", now)
            return
        self._log("branch", node=node.id, key=digit, to=target)
        self._goto(target)

    def _enter_collect(self, node: CollectNode, now: float) -> None:
        self._out.append(StartCollect(node.max_digits, node.terminator, node.first_timeout))
        if not self._typeahead:
            if node.prompt:
                self._play(node.prompt, node.barge_in)
            else:
                self._await_input(now)
            return
        self._await_input(now)
        while (self._typeahead and self._phase is _Phase.INPUT and self._node is node
               and self._next is None):
            self._collect_digit(node, self._typeahead.popleft(), now)

    def _collect_digit(self, node: CollectNode, digit: str, now: float) -> None:
        self._log("digit", node=node.id, digit=self._shown(digit))
        if node.terminator and digit == node.terminator:
            self._finish_collect(now)
        elif digit not in node.allowed:
            self._input_failed("invalid", now)
        else:
            self._collected += digit
            if len(self._collected) >= node.max_digits:
                self._finish_collect(now)
            else:
                self._deadline = now + node.inter_timeout

    def _finish_collect(self, now: float) -> None:
        node = self._node
        assert isinstance(node, CollectNode)
        self._deadline = None
        if len(self._collected) < node.min_digits:
            self._input_failed("invalid", now)
            return
        self._vars[node.var] = self._collected
        if node.secret:
            self._secret_vars.add(node.var)
        value = "*" * len(self._collected) if node.secret else self._collected
        self._log("collected", node=node.id, var=node.var, value=value)
        self._goto(node.next)

    def _input_failed(self, kind: str, now: float) -> None:
        """An invalid key or a timeout at a menu/collect: retry or take the exit."""
        node = self._node
        assert isinstance(node, MenuNode | CollectNode)
        self._deadline = None
        self._attempts += 1
        self._collected = ""
        self._typeahead.clear()
        self._log(kind, node=node.id, attempt=self._attempts)
        if self._attempts > node.retries:
            if isinstance(node, MenuNode):
                target = node.on_invalid if kind == "invalid" else node.on_timeout
            else:
                target = node.on_fail
            self._log("retries_exhausted", node=node.id, to=target)
            if target is None:
                self._hangup(Cause.NORMAL_CLEARING, now, f"no_{kind}_branch")
            else:
                self._goto(target)
            return
        notice = node.invalid_prompt if kind == "invalid" else node.timeout_prompt
        again = (node.retry_prompt or node.prompt) if isinstance(node, MenuNode) else node.prompt
        if notice or again:
            self._play(notice + again, node.barge_in)
        else:
            self._await_input(now)

    # --- instant nodes ------------------------------------------------------------

    def _enter_time(self, node: TimeNode, now: float) -> None:
        schedule = self.flow.schedules.get(node.schedule) or self.env.schedules.get(node.schedule)
        calendar = None
        if node.calendar is not None:
            calendar = (self.flow.calendars.get(node.calendar)
                        or self.env.calendars.get(node.calendar))
        if schedule is None:
            self._log("flow_error", node=node.id, error=f"no schedule {node.schedule!r}")
            status = TimeStatus.CLOSED
        else:
            status = time_status(schedule, calendar, now)
        if status is TimeStatus.OPEN:
            target = node.open
        elif status is TimeStatus.HOLIDAY and node.holiday is not None:
            target = node.holiday
        else:
            target = node.closed
        self._log("time", node=node.id, status=status.value, to=target)
        self._goto(target)

    def _enter_caller(self, node: CallerNode) -> None:
        caller = self._vars.get("caller", "")
        if is_anonymous(caller):
            target = node.anonymous or node.default
            self._log("caller", node=node.id, match="anonymous", to=target)
            self._goto(target)
            return
        for i, rule in enumerate(node.rules):
            entries = rule.numbers
            if rule.list is not None:
                entries = tuple(self.flow.lists.get(rule.list)
                                or self.env.lists.get(rule.list) or ())
            if matches(caller, entries):
                self._log("caller", node=node.id, match=rule.list or f"rules.{i}", to=rule.next)
                self._goto(rule.next)
                return
        self._log("caller", node=node.id, match="default", to=node.default)
        self._goto(node.default)

    def _enter_set(self, node: SetNode) -> None:
        try:
            if node.expr is not None:
                value = evaluate(node.expr, self._vars)
            else:
                value = render(node.value or "", self._vars)
        except ExprError as e:
            self._log("set_failed", node=node.id, var=node.var, error=str(e))
            self._goto(node.on_fail or node.next)
            return
        self._vars[node.var] = value
        self._log("set", node=node.id, var=node.var, value=value)
        self._goto(node.next)

    def _enter_lookup(self, node: LookupNode, now: float) -> None:
        try:
            params = {k: render(v, self._vars) for k, v in node.params.items()}
        except ExprError as e:
            self._log("lookup_failed", node=node.id, error=str(e))
            self._goto(node.on_fail)
            return
        self._lookup_seq += 1
        self._looking_up = self._lookup_seq
        self._phase = _Phase.LOOKUP
        self._deadline = now + node.timeout
        self._out.append(Lookup(self._lookup_seq, node.adapter, params, node.timeout))

    def _lookup_result(self, event: LookupResult) -> None:
        node = self._node
        assert isinstance(node, LookupNode)
        self._looking_up = None
        self._deadline = None
        if event.error is not None or event.variables is None:
            self._log("lookup_failed", node=node.id, error=event.error or "no result")
            self._goto(node.on_fail)
            return
        self._vars.update({k: str(v) for k, v in event.variables.items()})
        self._log("lookup_ok", node=node.id, variables=",".join(sorted(event.variables)))
        self._goto(node.next)

    def _enter_say(self, node: SayNode) -> None:
        try:
            words = say(node.format, render(node.value, self._vars), style=node.style)
        except (ExprError, SayError) as e:
            self._log("say_failed", node=node.id, error=str(e))
            self._goto(node.on_fail or node.next)
            return
        self._enter_prompt(node.before + tuple(words) + node.after, node.barge_in, node.next)

    def _enter_transfer(self, node: TransferNode, now: float) -> None:
        try:
            target = render(node.target, self._vars)
        except ExprError as e:
            self._log("transfer_failed", node=node.id, error=str(e))
            if node.on_fail is not None:
                self._goto(node.on_fail)
            else:
                self._hangup(Cause.NORMAL_CLEARING, now, "flow_error")
            return
        self._typeahead.clear()  # keys meant for the IVR must not reach the agent
        priority = node.priority if node.to is TransferKind.QUEUE else 0
        self._log("transfer", node=node.id, to=node.to.value, target=target, priority=priority)
        shared = {k: v for k, v in self._vars.items() if k not in self._secret_vars}
        self._out.append(Transfer(node.to, target, priority, shared))
        self._end(now, "transfer")
        self._phase = _Phase.TRANSFERRING  # still listening for TransferFailed

    def _transfer_failed(self, cause: Cause, now: float) -> None:
        node = self._node
        assert isinstance(node, TransferNode)
        self._log("transfer_failed", node=node.id, cause=int(cause), to=node.on_fail)
        if node.on_fail is None:
            self._hangup(cause, now, "transfer_failed")
        else:
            # Back in the IVR: a later ivr_end closes the session again.
            self._log("ivr_resume", node=node.id)
            self._phase = _Phase.PLAYING  # any non-final phase; _enter sets the real one
            self._goto(node.on_fail)
