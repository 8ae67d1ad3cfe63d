"""Stock prompts of the phone features (feature codes, voicemail, agent codes).

Kept apart from the IVR's own catalogue so the two grow without stepping on each other;
`prompts.CATALOGUE` includes both. Sentences end where the code appends a number
(`fwd_always_on` + the digits of the target).
"""

from __future__ import annotations

PHONE = {
    "feature_enter_number": "请输入号码，以井号键结束。",
    "fwd_always_on": "无条件转移已开启，转移到",
    "fwd_busy_on": "遇忙转移已开启，转移到",
    "fwd_no_answer_on": "无应答转移已开启，转移到",
    "fwd_always_off": "无条件转移已取消。",
    "fwd_busy_off": "遇忙转移已取消。",
    "fwd_no_answer_off": "无应答转移已取消。",
    "fwd_invalid": "该号码不能作为转移号码。",
    "dnd_on": "免打扰已开启。",
    "dnd_off": "免打扰已取消。",
    "feature_not_here": "对不起，本话机不能使用该功能。",
    "agent_enter_id": "请输入工号，以井号键结束。",
    "agent_logged_in": "签入成功。",
    "agent_logged_out": "签出成功。",
    "agent_ready": "已示闲，可以接听来电。",
    "agent_not_ready": "已示忙。",
    "agent_enter_reason": "请选择示忙原因：",
    "agent_reason_break": "休息",
    "agent_reason_lunch": "午餐",
    "agent_reason_meeting": "会议",
    "agent_reason_training": "培训",
    "press": "请按",
    "agent_unknown": "工号不存在。",
    "agent_not_logged_in": "本话机没有签入的坐席。",
    "agent_refused": "当前状态不能进行该操作。",
}

VOICEMAIL = {
    "vm_extension": "您拨打的分机",
    "vm_unavailable": "暂时无人接听。",
    "vm_busy": "正忙。",
    "vm_enter_mailbox": "请输入信箱号码，以井号键结束。",
    "vm_enter_pin": "请输入信箱密码，以井号键结束。",
    "vm_wrong_pin": "密码错误。",
    "vm_locked": "密码错误次数过多，请稍后再试，再见。",
    "vm_no_mailbox": "该信箱不存在。",
    "vm_no_pin": "该信箱未设置密码，不能从其他话机收听。",
    "vm_you_have": "您有",
    "vm_new_count": "条新留言，",
    "vm_saved_count": "条已保存的留言。",
    "vm_main_menu": "听新留言请按1，听已保存的留言请按2，录制问候语请按0，退出请按星号键。",
    "vm_message_no": "第",
    "vm_message_unit": "条留言，",
    "vm_from": "来自",
    "vm_message_menu": "重听请按1，保存请按2，删除请按3，下一条请按井号键，返回主菜单请按星号键。",
    "vm_message_saved": "留言已保存。",
    "vm_message_deleted": "留言已删除。",
    "vm_no_more": "没有更多留言了。",
    "vm_no_messages": "没有留言。",
    "vm_record_greeting": "请在提示音后录制问候语，录制完毕请按井号键。",
    "vm_greeting_saved": "问候语已保存。",
    "vm_too_short": "录音太短，没有保存。",
}
