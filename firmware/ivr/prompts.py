"""The stock prompt catalogue: every prompt name the box ships, with its Mandarin text.

A build step will synthesise these with espeak-ng (cmn voice) into
`prompts/zh/<name>.wav`; admins may replace any of them, or add their own, by
uploading recordings. A flow may only refer to a name that is either here or uploaded,
so a caller never hears silence where a prompt should be.

Names are also file names on the box, so they are restricted to a safe alphabet
(`PROMPT_NAME_RE`): no dots, no leading slash, nothing that walks out of the directory.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from firmware.ivr.errors import FlowError
from firmware.ivr.flow import Flow
from firmware.ivr.phone_prompts import PHONE, VOICEMAIL
from firmware.ivr.say import say_integer

PROMPT_NAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*(?:/[A-Za-z0-9_][A-Za-z0-9_-]*)*")


@dataclass(frozen=True)
class Prompt:
    name: str
    text: str  # Mandarin, as spoken
    group: str  # say | ivr | queue | voicemail | gas96777


def _group(group: str, entries: Mapping[str, str]) -> dict[str, Prompt]:
    return {name: Prompt(name, text, group) for name, text in entries.items()}


# Words `say.py` concatenates. Digits are their own names, as in Asterisk's digits/.
_SAY = {
    "0": "零", "1": "一", "2": "二", "3": "三", "4": "四",
    "5": "五", "6": "六", "7": "七", "8": "八", "9": "九",
    "yao": "幺", "liang": "两",
    "ten": "十", "hundred": "百", "thousand": "千",
    "ten_thousand": "万", "hundred_million": "亿",
    "minus": "负", "point": "点",
    "yuan": "元", "jiao": "角", "fen": "分", "zheng": "整",
    "year": "年", "month": "月", "day": "日", "weekday": "星期",
    "star": "星号", "pound": "井号",
}

_IVR = {
    "invalid_input": "您的输入有误，请重新输入。",
    "no_input": "对不起，没有收到您的按键。",
    "enter_then_pound": "输入完毕请按井号键。",
    "please_hold": "请稍候，正在为您转接。",
    "transfer_failed": "对不起，转接失败，请稍后再拨。",
    "system_busy": "对不起，系统繁忙，请稍后再拨。",
    "call_recorded": "为了提高服务质量，您的通话可能会被录音。",
    "number_restricted": "对不起，您的号码已被限制呼入。",
    "after_hours": "现在是非工作时间。",
    "holiday_closed": "节假日期间暂停服务。",
    "goodbye": "感谢您的来电，再见。",
    "minutes": "分钟",
}

_QUEUE = {
    # Position counts the caller (1 = next), as the ACD's Announce does: 您当前排在第二位.
    "queue_position_is": "您当前排在第",
    "queue_position_unit": "位。",
    "queue_estimated_wait": "预计等待时间约为",
    "queue_all_busy": "坐席正忙，请稍候。",
    "queue_thank_you": "感谢您的耐心等待，您的来电对我们很重要。",
    "queue_callback_offer": "如需我们给您回电，请按星号键。",
    "queue_callback_registered": "已为您登记回电，我们将尽快与您联系，再见。",
}

_VOICEMAIL = {
    "vm_leave_message": "请在提示音后留言，留言完毕请挂机或按井号键。",
    "vm_saved": "您的留言已保存，再见。",
}

_GAS_96777 = {
    "gas_welcome": "您好，欢迎致电96777燃气服务热线。为了提高服务质量，您的通话可能会被录音。",
    "gas_main_menu": (
        "燃气泄漏或抢修请按1，报修请按2，缴费查询请按3，投诉建议请按4，人工服务请按0。"
    ),
    "gas_enter_account": "请输入您的燃气用户号，以井号键结束。",
    "gas_amount_due_is": "您的当前应缴金额为",
    "gas_billing_menu": "重听请按1，返回主菜单请按9，人工服务请按0。",
    "gas_billing_unavailable": "抱歉，暂时无法查询您的账户，正在为您转接人工服务。",
    "gas_after_hours": "现在是非工作时间，燃气泄漏等紧急情况请不要挂机，正在为您转接抢修值班人员。",
    "gas_holiday": "节假日期间仅受理燃气泄漏等紧急抢修，正在为您转接抢修值班人员。",
    "gas_leak_safety": (
        "如闻到燃气异味，请立即关闭燃气阀门，打开门窗通风，不要开关电器，不要使用明火。"
    ),
}

_FEATURES = {
    # call control (firmware/switch/callcontrol/): park slots, rooms, failed codes
    "park_parked_at": "通话已驻留，取回请拨",
    "feature_failed": "对不起，操作未能完成。",
    "rec_start": "请在提示音后开始录音，录完请按井号键。",
    "rec_saved": "录音已保存。",
    "rec_bad_code": "录音编号无效或已过期，请在网页上重新获取。",
    "conf_enter_pin": "请输入会议密码，以井号键结束。",
    "conf_wrong_pin": "密码错误。",
}

CATALOGUE: Mapping[str, Prompt] = {
    **_group("say", _SAY),
    **_group("ivr", _IVR),
    **_group("queue", _QUEUE),
    **_group("voicemail", {**_VOICEMAIL, **VOICEMAIL}),
    **_group("gas96777", _GAS_96777),
    **_group("features", _FEATURES),
    **_group("phone", PHONE),
}


def check_prompts(flow: Flow, uploaded: Collection[str] = ()) -> list[FlowError]:
    """Every prompt the flow plays must be stock or uploaded, and have a safe name.

    `say` readings are not listed per node: they only use words of the `say` group,
    which a unit test keeps in step with say.py.
    """
    errors: list[FlowError] = []
    for nid, node in flow.nodes.items():
        for path, name in node.prompt_refs():
            if not PROMPT_NAME_RE.fullmatch(name):
                errors.append(FlowError(nid, path, f"bad prompt name {name!r}"))
            elif name not in CATALOGUE and name not in uploaded:
                errors.append(
                    FlowError(nid, path, f"prompt {name!r} is neither stock nor uploaded"))
    return errors


def queue_announcement(position: int | None, minutes: int | None) -> list[str]:
    """Prompt names for the ACD's position / estimated-wait announcement.

    第二位 is an ordinal, so 2 stays 二; 两分钟 counts minutes, so 2 becomes 两.
    """
    out: list[str] = []
    if position is not None and position > 0:
        out += ["queue_position_is", *say_integer(position), "queue_position_unit"]
    if minutes is not None and minutes > 0:
        out += ["queue_estimated_wait", *say_integer(minutes, measure=True), "minutes"]
    return out
