"""The shipped 96777 gas hotline example, walked like a caller with a controllable clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from firmware.ivr.actions import (
    Action,
    Digit,
    HangupCall,
    Log,
    Lookup,
    LookupResult,
    Play,
    PromptDone,
    StopPlayback,
    Transfer,
)
from firmware.ivr.adapters import AdapterError, DemoBilling
from firmware.ivr.examples import load_json
from firmware.ivr.flow import PRIORITY_MAX, TransferKind
from firmware.ivr.prompts import CATALOGUE
from firmware.ivr.runner import IvrRunner
from firmware.ivr.validate import load_flow, validate
from firmware.switch.causes import Cause

FLOW = load_flow(load_json())
SH = ZoneInfo("Asia/Shanghai")


class Call:
    """Plays the switch's part: remembers the prompt in progress, runs lookups."""

    def __init__(self, when: datetime, caller: str = "13912345678") -> None:
        self.now = when.replace(tzinfo=SH).timestamp()
        self.runner = IvrRunner(FLOW, {"caller": caller, "called": "96777"}, self.now)
        self.playing: Play | None = None
        self.history: list[Action] = []
        self.billing = DemoBilling()
        self._take(self.runner.start(self.now))

    def _take(self, actions: list[Action]) -> list[Action]:
        self.history += actions
        for a in actions:
            if isinstance(a, Play):
                self.playing = a
            elif isinstance(a, StopPlayback):
                self.playing = None
            elif isinstance(a, Lookup):
                self.now += 0.2
                try:
                    result = LookupResult(a.request_id, self.billing.query(a.params["account"]))
                except AdapterError as e:
                    result = LookupResult(a.request_id, error=str(e))
                return [*actions, *self._take(self.runner.handle(result, self.now))]
        return actions

    def press(self, keys: str) -> list[Action]:
        out: list[Action] = []
        for k in keys:
            self.now += 0.3
            out += self._take(self.runner.handle(Digit(k), self.now))
        return out

    def prompt_ends(self) -> list[Action]:
        assert self.playing is not None, "nothing is playing"
        play, self.playing = self.playing, None
        self.now += 3
        return self._take(self.runner.handle(PromptDone(play.play_id), self.now))

    def silence(self) -> list[Action]:
        deadline = self.runner.next_timer()
        assert deadline is not None
        self.now = deadline
        return self._take(self.runner.handle_timer(self.now))

    def prompts(self) -> list[tuple[str, ...]]:
        return [a.prompts for a in self.history if isinstance(a, Play)]

    def transfer(self) -> Transfer:
        (t,) = [a for a in self.history if isinstance(a, Transfer)]
        return t

    def branches(self) -> list[object]:
        return [a.data["to"] for a in self.history if isinstance(a, Log) and a.event == "branch"]


WORKDAY = datetime(2025, 3, 4, 10, 0)  # Tuesday
SUNDAY_NIGHT = datetime(2025, 3, 9, 23, 0)


def test_example_validates_cleanly_and_uses_stock_prompts() -> None:
    report = validate(load_json())
    assert report.ok, report.errors
    assert report.warnings == ()
    for node in FLOW.nodes.values():
        for _, name in node.prompt_refs():
            assert name in CATALOGUE


def test_daytime_1_goes_to_emergency_with_top_priority_even_during_the_greeting() -> None:
    call = Call(WORKDAY)
    assert call.prompts() == [("gas_welcome",)]
    call.press("1")
    t = call.transfer()
    assert (t.kind, t.target, t.priority) == (TransferKind.QUEUE, "emergency", PRIORITY_MAX)
    assert call.prompts() == [("gas_welcome",)]  # the menu prompt never played


def test_daytime_2_goes_to_repair() -> None:
    call = Call(WORKDAY)
    call.prompt_ends()
    assert call.prompts()[-1] == ("gas_main_menu",)
    call.prompt_ends()
    call.press("2")
    assert (call.transfer().target, call.transfer().priority) == ("repair", 0)


def test_4_complaints_and_0_operator() -> None:
    call = Call(WORKDAY)
    call.prompt_ends()
    call.press("4")
    assert call.transfer().target == "complaints"
    call = Call(WORKDAY)
    call.prompt_ends()
    call.press("0")
    assert call.transfer().target == "general"


def test_9_is_invalid_then_retry() -> None:
    call = Call(WORKDAY)
    call.prompt_ends()
    call.prompt_ends()
    call.press("9")
    assert call.prompts()[-1] == ("invalid_input", "gas_main_menu")
    call.press("2")  # barges into the retry prompt
    assert call.transfer().target == "repair"


def test_invalid_three_times_reaches_an_operator() -> None:
    call = Call(WORKDAY)
    call.prompt_ends()
    call.press("9")
    call.press("8")
    call.press("7")
    assert call.transfer().target == "general"


def test_silence_takes_the_timeout_path() -> None:
    call = Call(WORKDAY)
    call.prompt_ends()
    call.prompt_ends()
    call.silence()
    assert call.prompts()[-1] == ("no_input", "gas_main_menu")
    call.prompt_ends()
    call.silence()
    call.prompt_ends()
    call.silence()
    assert call.transfer().target == "general"
    assert call.runner.finished


def test_sunday_night_announces_then_emergency_only() -> None:
    call = Call(SUNDAY_NIGHT)
    assert call.prompts() == [("gas_after_hours",)]
    call.press("2")  # no menu at night; the announcement cannot be skipped
    assert not [a for a in call.history if isinstance(a, Transfer)]
    call.prompt_ends()
    t = call.transfer()
    assert (t.target, t.priority) == ("emergency", PRIORITY_MAX)


def test_weekday_evening_is_closed_too() -> None:
    call = Call(datetime(2025, 3, 4, 18, 0))
    assert call.prompts() == [("gas_after_hours",)]


def test_national_day_holiday() -> None:
    call = Call(datetime(2025, 10, 1, 10, 0))
    assert call.prompts() == [("gas_holiday",)]
    call.prompt_ends()
    assert call.transfer().target == "emergency"


def test_makeup_working_saturday_is_open_and_a_plain_saturday_is_not() -> None:
    call = Call(datetime(2025, 2, 8, 10, 0))  # Saturday worked for the Spring Festival
    assert call.prompts() == [("gas_welcome",)]
    call = Call(datetime(2025, 2, 15, 10, 0))
    assert call.prompts() == [("gas_after_hours",)]


def test_self_service_balance() -> None:
    call = Call(WORKDAY)
    call.press("3")
    assert call.prompts()[-1] == ("gas_enter_account",)
    call.press("1234567#")
    amount = DemoBilling().query("1234567")["amount_due"]
    assert amount == "419.69"  # 四百一十九点六九元: 一十 is kept inside a number
    assert call.prompts()[-1] == ("gas_amount_due_is", "4", "hundred", "1", "ten", "9",
                                  "point", "6", "9", "yuan")
    call.prompt_ends()
    assert call.prompts()[-1] == ("gas_billing_menu",)
    call.press("1")  # hear it again
    assert call.prompts()[-1][0] == "gas_amount_due_is"
    call.prompt_ends()
    call.press("9")  # back to the main menu
    assert call.prompts()[-1] == ("gas_main_menu",)
    call.press("2")
    assert call.transfer().target == "repair"
    assert call.transfer().variables["account"] == "1234567"
    assert call.branches() == ["billing_account", "billing_say", "main_menu", "repair"]


def test_unknown_account_goes_to_an_operator() -> None:
    call = Call(WORKDAY)
    call.press("3")
    call.press("0123456#")
    assert call.prompts()[-1] == ("gas_billing_unavailable",)
    call.prompt_ends()
    assert call.transfer().target == "general"


def test_nuisance_caller_is_refused() -> None:
    call = Call(WORKDAY, caller="+86 571 0000 0123")
    assert call.prompts() == [("number_restricted",)]
    out = call.prompt_ends()
    assert HangupCall(Cause.CALL_REJECTED) in out
