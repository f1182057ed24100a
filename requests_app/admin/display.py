"""How the admin shows a case: masked personal data, the history and the clock, readably.

Pure functions over values and the stored JSON; the templates only lay them out.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import timezone

from requests_app.choices import (
    CaseState,
    ConsulteeKind,
    Outcome,
    PageDecision,
    Timeliness,
    WithholdBasis,
)
from requests_app.clock import PROVISIONAL_MARK, provisional_years_of
from requests_app.models import EventKind

MASK = "*"


# --- personal data (masked in lists and exports unless the user may see it) -----------------
def mask_id_number(value: str) -> str:
    value = value or ""
    if len(value) <= 8:
        return MASK * len(value)
    return value[:6] + MASK * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    value = value or ""
    if len(value) <= 7:
        return MASK * len(value)
    return value[:3] + MASK * (len(value) - 7) + value[-4:]


def mask_email(value: str) -> str:
    if not value or "@" not in value:
        return MASK * len(value or "")
    local, domain = value.split("@", 1)
    return f"{local[:1]}{MASK * 3}@{domain}"


def mask_address(value: str) -> str:
    value = value or ""
    if len(value) <= 6:
        return MASK * len(value)
    return value[:6] + MASK * 6


# --- labels ---------------------------------------------------------------------------------
SERVICE_METHODS = {
    "direct": "直接送达（申请人签收）",
    "entrusted": "委托送达",
    "post": "邮寄（中国邮政）",
    "electronic": "电子送达",
    "email": "电子邮件",
    "online": "网上平台",
    "fax": "传真",
}

DUE_FIELD_LABELS = {
    "reply_due_on": "答复期限",
    "supplement_notice_due_on": "补正告知期限",
    "supplement_due_on": "申请人补正期限",
    "fee_due_on": "缴费期限",
    "consultation_due_on": "征求意见期限",
    "records_task_due_on": "交办答复期限",
}

# Keys of CaseEvent.data and their Chinese labels; ids are internal and not shown.
DATA_LABELS = {
    "received_on": "收到日期",
    "on": "日期",
    "outcome": "结果",
    "legal_basis": "法律依据",
    "handler": "承办人",
    "items": "补正事项",
    "period_days": "补正期限（工作日）",
    "served_on": "送达日期",
    "service_method": "送达方式",
    "consultee_kind": "征求意见对象类型",
    "consultee": "征求意见对象",
    "sent_on": "发出日期",
    "closed_on": "结束日期",
    "opinion": "意见",
    "days": "延长工作日数",
    "approver": "批准人",
    "reply_by": "答复期限",
    "amount_yuan": "金额（元）",
    "method": "计收方式",
    "paid_on": "缴费日期",
    "waived": "减免",
    "reopened_on": "重新办理日期",
    "previous_outcome": "原结果",
    "channel": "渠道",
    "field": "期限",
    "previous": "原日期",
    "new": "新日期",
    "reason": "原因",
    "deadline": "期限",
    "due": "到期日",
    "days_before": "提前工作日数",
    "recipients": "通知对象",
    # 文书 (services.letters)
    "number": "文号",
    "title": "标题",
    # 复议与诉讼, 投诉举报 (services.proceedings)
    "filed_on": "提起日期",
    "law": "适用法律",
    "review_body": "复议机关",
    "accepted_on": "受理日期",
    "simplified": "简易程序",
    "copy_received_on": "收到申请书副本日期",
    "answer_due_on": "答复期限",
    "answer_period": "答复期限依据",
    "answered_on": "提交答复日期",
    "on_time": "按期",
    "decision_due_on": "复议决定期限",
    "decision_period": "决定期限依据",
    "decided_on": "决定/裁判日期",
    "decision": "决定",
    "judgment": "裁判结果",
    "result": "结果归类",
    "orders_new_reply": "责令重新答复",
    "court": "人民法院",
    "instance": "审级",
    "after_review": "经复议后起诉",
    "defense_due_on": "答辩举证期限",
    "defense_period": "答辩期限依据",
    "submitted_on": "提交日期",
    "judgment_due_on": "审理期限",
    "judgment_period": "审理期限依据",
    "warnings": "提示",
    # 检索记录 (services.cases.case_record_search)
    "searched_on": "检索日期",
    "keywords": "检索关键词",
    "sources": "检索的档案和系统",
    "units_asked": "询问的单位",
    # 办理提醒 (services.cases.case_send_reminder) and the applicant's messages
    "manual": "人工提醒",
    "to": "提醒对象",
    "question": "留言",
    "text": "内容",
    # A record's purpose (a case record, or a proof of service)
    "purpose": "用途",
    "received_by": "受理机关",
    "handled_on": "处理日期",
    "is_substantiated": "情况属实",
    # 年度报告 (services.history)
    "cause": "引起变化的事项",
    # Records and their review (services/records.py).
    "page": "页码",
    "basis": "不予公开依据",
    "rect": "区域（点）",
    "names": "第三方姓名",
    "terms": "检索词",
    "found": "找到",
    "regions": "区域数",
    "pages": "页数",
    "size": "大小（字节）",
    "sequence": "公开文本版本",
    "files": "文件数",
    "sha256": "SHA-256",
    "release_sha256": "公开文本 SHA-256",
    "returned_for_approval": "退回重新审核",
    # 送达 proof and 交办.
    "carrier": "寄送单位",
    "tracking_number": "邮件号",
    "entrusted_to": "受委托签收人",
    "unit": "交办单位",
    "answer_days": "交办期限（工作日）",
    "due_on": "交办答复期限",
    "answer": "交办答复",
    "asked_by": "交办人",
}
# Data is shown in the order above, whatever order the database keeps a JSON object's keys in
# (PostgreSQL's jsonb sorts them by length, SQLite keeps them as written).
DATA_ORDER = {key: position for position, key in enumerate(DATA_LABELS)}
# The sweep's action kind and run date (the event's own kind and time say it), a letter's or
# complaint's kind (its title and the event say it) and, by their suffix, internal ids
# (``letter_id``, ``review_id``, ``report_ids``: the row names the record in words).
HIDDEN_DATA_KEYS = {"kind", "appeal_of"}
HIDDEN_DATA_SUFFIXES = ("_id", "_ids")
SWEEP_EVENTS = {EventKind.REMINDER_SENT, EventKind.ESCALATED, EventKind.CLOSURE_PROPOSED}


def state_label(value: str) -> str:
    if not value:
        return ""
    try:
        return str(CaseState(value).label)
    except ValueError:
        return value


def _choice_label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def is_hidden_data_key(key: str) -> bool:
    return key in HIDDEN_DATA_KEYS or key.endswith(HIDDEN_DATA_SUFFIXES)


def data_value(key: str, value: Any) -> str:
    from requests_app.models import JudgmentKind, Result, ReviewDecision, ReviewLaw

    if value is None or value == "":
        return "—"
    if key in ("outcome", "previous_outcome"):
        return _choice_label(Outcome, value)
    if key == "decision" and value in PageDecision.values:
        return _choice_label(PageDecision, value)
    if key == "basis":
        return _choice_label(WithholdBasis, value)
    choices = {
        "law": ReviewLaw,
        "decision": ReviewDecision,
        "judgment": JudgmentKind,
        "result": Result,
        "cause": EventKind,
    }.get(key)
    if choices is not None:
        return _choice_label(choices, value)
    if key == "instance":
        return {1: "一审", 2: "二审"}.get(value, str(value))
    if key == "consultee_kind":
        return _choice_label(ConsulteeKind, value)
    if key == "service_method":
        return SERVICE_METHODS.get(value, str(value))
    if key == "carrier":
        from requests_app.services.cases import CARRIERS

        return CARRIERS.get(value, str(value))
    if key == "answer":
        from requests_app.models import TaskAnswer

        return _choice_label(TaskAnswer, value)
    if key in ("field", "deadline"):
        return DUE_FIELD_LABELS.get(value, str(value))
    if isinstance(value, list | tuple):
        return "、".join(str(item) for item in value) or "—"
    if key == "channel":
        from requests_app.choices import Channel

        return _choice_label(Channel, value)
    if key == "method":
        from requests_app.models import FeeNotice

        return _choice_label(FeeNotice.Method, value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


# What services.calendar records as a clock change's reason ("calendar changed: <scope>
# <what>", scope "national" or an agency's code), said in Chinese.
CALENDAR_CHANGES = [
    (re.compile(r"^(\d{4}) schedule loaded from (.+)$"), "载入 {0} 年节假日安排（来源：{1}）"),
    (re.compile(r"^(\d{4}) schedule removed$"), "删除 {0} 年节假日安排"),
    (re.compile(r"^(\d{4}-\d{2}-\d{2}) (holiday|workday) removed$"), "删除 {0} 的{1}"),
    (re.compile(r"^(\d{4}-\d{2}-\d{2}) (holiday|workday) ?(.*)$"), "{0} 设为{1} {2}"),
]


def calendar_change_text(text: str) -> str:
    scope, _, what = text.partition(" ")
    if scope == "national":
        where = "全国"
    else:
        from requests_app.models import Agency

        where = Agency.objects.filter(code=scope).values_list("name", flat=True).first() or scope
    for pattern, template in CALENDAR_CHANGES:
        match = pattern.match(what)
        if match:
            from requests_app.models import CalendarDay

            parts = [
                _choice_label(CalendarDay.Kind, part) if part in CalendarDay.Kind.values else part
                for part in match.groups()
            ]
            return f"{where}：" + template.format(*parts).strip()
    return text


def _reason(event) -> str:
    """The reason, with the action code a clock change records turned into its label."""
    if event.kind == EventKind.DUE_CHANGED:
        if event.reason in EventKind.values:
            return f"因“{EventKind(event.reason).label}”重新计算"
        if event.reason.startswith("calendar changed: "):
            return "节假日安排变更：" + calendar_change_text(
                event.reason.removeprefix("calendar changed: ")
            )
    return event.reason


def event_rows(events) -> list[dict[str, Any]]:
    """The history as rows: when (effective, and recorded when entered later), who, what,
    from → to, the data with labels, the reason."""
    rows = []
    for event in events:
        effective = timezone.localtime(event.effective_at)
        recorded = timezone.localtime(event.recorded_at)
        hidden = {"on"} if event.kind in SWEEP_EVENTS else set()
        data = [
            (DATA_LABELS.get(key, key), data_value(key, value))
            for key, value in sorted(
                (event.data or {}).items(),
                key=lambda item: DATA_ORDER.get(item[0], len(DATA_ORDER)),
            )
            if key not in hidden
            and not is_hidden_data_key(key)
            and not (key == "reason" and value == event.reason)
        ]
        rows.append(
            {
                "effective_at": effective,
                "recorded_at": recorded,
                "entered_later": abs(recorded - effective) > dt.timedelta(minutes=5),
                "actor": event.actor_label or (event.actor.get_username() if event.actor else ""),
                "kind": _choice_label(EventKind, event.kind),
                "kind_code": event.kind,
                "from_state": state_label(event.from_state),
                "to_state": state_label(event.to_state),
                "state_changed": event.from_state != event.to_state,
                "data": data,
                "reason": _reason(event),
            }
        )
    return rows


# --- the clock ------------------------------------------------------------------------------
def _d(value) -> str:
    return value or "—"


def clock_sections(clock: dict) -> list[dict[str, Any]]:
    """``Case.clock`` (the explanation of requests_app.clock) as titled sections of lines.

    Each deadline: its date, and how it was reached (anchor, days, exclusions, extension).
    """
    if not clock:
        return []
    if not clock.get("received_on"):
        return [{"title": "答复期限", "lines": [clock.get("note") or "收到日期(R)尚未确定。"]}]

    def mark(field: str) -> str:
        # A date computed on a provisional year (statutory holidays only) says so.
        return PROVISIONAL_MARK if provisional_years_of(clock, field) else ""

    sections = []
    rule_set = clock.get("rule_set") or {}
    basis = [f"适用：{rule_set.get('name', '—')}"]
    basis.append(f"收到申请日期(R)：{clock['received_on']}")
    if clock.get("restarted_on"):
        basis.append(f"补正后收到日期(R′)：{clock['restarted_on']}")
    basis.append(
        "收到当日计入期限"
        if clock.get("count_receipt_day")
        else "收到当日不计入（期间开始之日不计算在内）"
    )
    sections.append({"title": "计算依据", "lines": basis})

    reply = clock.get("reply") or {}
    if reply:
        anchor_kinds = {
            "received": "收到申请日期(R)",
            "supplement_received": "补正后收到日期(R′)",
            "reopened": "重新办理日期",
        }
        lines = [
            f"起算日：{_d(reply.get('anchor'))}（{anchor_kinds.get(reply.get('anchor_kind'), reply.get('anchor_kind') or '—')}）",
            f"法定期限：{reply.get('statutory_days')} 个工作日（{reply.get('article', '')}）",
        ]
        for item in reply.get("excluded") or []:
            if item.get("kind") == "consultation":
                who = _choice_label(ConsulteeKind, item.get("consultee_kind"))
                what = f"征求{who}“{item.get('consultee', '')}”意见"
            else:
                what = "收费通知待缴费（暂停计算）"
            note = "（对方尚未答复，暂按全部期限计）" if item.get("provisional") else ""
            lines.append(
                f"扣除：{what} {item.get('from')} 至 {item.get('to')}，"
                f"{item.get('working_days', 0)} 个工作日{note}"
            )
        extension = reply.get("extension")
        if extension:
            late = "（于原期限届满后批准）" if extension.get("granted_after_due") else ""
            lines.append(
                f"延期：{extension.get('days')} 个工作日，{extension.get('on')} 经 "
                f"{extension.get('approver') or '—'} 批准{late}"
            )
        lines.append(
            f"合计：{reply.get('working_days_total')} 个工作日 → {_d(reply.get('computed_due_on'))}"
        )
        if reply.get("later_reply_date"):
            lines.append(f"依《条例》第三十五条确定的答复期限：{reply['later_reply_date']}")
        if reply.get("stopped") == "awaiting_supplement":
            lines.append("待补正期间答复期限停止计算，收到补正后重新计算。")
        sections.append(
            {"title": f"答复期限：{_d(reply.get('due_on'))}{mark('reply_due_on')}", "lines": lines}
        )

    notice = clock.get("supplement_notice")
    if notice:
        lines = [
            f"自 {notice.get('from')} 起 {notice.get('working_days')} 个工作日内告知（{notice.get('article', '')}）",
            f"实际告知日期：{_d(notice.get('served_on'))}",
        ]
        sections.append(
            {
                "title": f"补正告知期限：{_d(notice.get('due_on'))}{mark('supplement_notice_due_on')}",
                "lines": lines,
            }
        )

    supplement = clock.get("supplement")
    if supplement:
        lines = [
            f"补正告知送达：{_d(supplement.get('served_on'))}，期限 {supplement.get('period_days')} 个工作日",
            f"收到补正：{_d(supplement.get('received_on'))}",
        ]
        if supplement.get("restarts_clock"):
            lines.append("收到补正后答复期限重新起算（《条例》第三十条）")
        sections.append(
            {
                "title": f"申请人补正期限：{_d(supplement.get('due_on'))}{mark('supplement_due_on')}",
                "lines": lines,
            }
        )

    fee = clock.get("fee")
    if fee:
        lines = [
            f"收费通知送达：{_d(fee.get('served_on'))}，{fee.get('working_days')} 个工作日内缴纳（{fee.get('article', '')}）",
            f"缴费日期：{_d(fee.get('paid_on'))}",
        ]
        if fee.get("pauses_reply_clock"):
            lines.append("待缴费期间答复期限暂停计算")
        sections.append(
            {"title": f"缴费期限：{_d(fee.get('due_on'))}{mark('fee_due_on')}", "lines": lines}
        )

    consultations = clock.get("consultations") or []
    for number, consultation in enumerate(consultations, start=1):
        # The stored mark is the latest consultation's (consultation_due_on).
        marked = mark("consultation_due_on") if number == len(consultations) else ""
        who = _choice_label(ConsulteeKind, consultation.get("consultee_kind"))
        lines = [
            f"征求{who}“{consultation.get('consultee', '')}”意见，{consultation.get('sent_on')} 发出，"
            f"{consultation.get('working_days')} 个工作日",
            f"结束日期：{_d(consultation.get('closed_on'))}",
        ]
        sections.append(
            {"title": f"征求意见期限：{_d(consultation.get('due_on'))}{marked}", "lines": lines}
        )

    timeliness = clock.get("timeliness")
    if timeliness:
        value = _choice_label(Timeliness, timeliness.get("value"))
        lines = [f"办结日期：{_d(timeliness.get('concluded_on'))}，{value}"]
        if timeliness.get("working_days_late"):
            lines.append(f"逾期 {timeliness['working_days_late']} 个工作日")
        sections.append({"title": "办理时效", "lines": lines})

    provisional = provisional_years_of(clock)
    if provisional:
        years = "、".join(str(y) for y in provisional)
        names = "、".join(
            DUE_FIELD_LABELS.get(field, field)
            for field in clock.get("provisional_due") or {}
            if provisional_years_of(clock, field)
        )
        sections.append(
            {
                "title": f"暂定期限：{years} 年放假安排尚未公布",
                "lines": [
                    f"{names}按《全国年节及纪念日放假办法》规定的法定节假日计算，未计调休；",
                    f"国务院办公厅公布 {years} 年放假安排并载入日历后，系统自动重新计算，"
                    "期限如有变动记入办理记录。",
                ],
                "warning": True,
            }
        )
    if clock.get("missing_years"):
        years = "、".join(str(y) for y in clock["missing_years"])
        sections.append(
            {
                "title": "日历不完整",
                "lines": [
                    f"{years} 年的节假日安排尚未载入，涉及的期限按普通周末暂计，请载入日历后核对。"
                ],
                "warning": True,
            }
        )
    return sections
