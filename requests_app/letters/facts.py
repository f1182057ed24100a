"""The facts a letter is drafted from: the case, its history, its fee notice, its agency.

``letter_facts`` returns the values of every placeholder for one kind, or raises
``LetterNotApplicable`` saying which fact is missing (a 收费通知书 without a fee notice…).
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

from requests_app.choices import ConsulteeKind, Outcome
from requests_app.clock import provisional_clause, provisional_years_of
from requests_app.models import Case, EventKind, LetterKind
from requests_app.services.cases import SEARCH_OUTCOMES, default_legal_basis, search_records

from .defaults import (
    DECISION_KINDS,
    KIND_LEGAL_BASIS,
    NON_PROCESSING_OUTCOMES,
    REMEDIES,
    REMEDIES_REVIEW_FIRST,
    REPLY_FAMILIES,
)

K = LetterKind
REVIEW_FIRST_FROM = dt.date(2024, 1, 1)
GENERAL_REPLY_BASIS = "《政府信息公开条例》第三十六条"

# Placeholder -> what it holds (shown to administrators editing templates).
FIELDS: dict[str, str] = {
    "applicant_name": "申请人姓名/名称",
    "tracking_number": "申请编号",
    "description": "所需信息内容描述",
    "document_number": "文件名称、文号",
    "submitted_on": "提交日期",
    "received_on": "收到申请日期",
    "reply_due_on": "答复期限",
    "information_form": "信息提供形式",
    "delivery_method": "获取信息方式",
    "agency_name": "机关名称",
    "review_body": "行政复议机关",
    "court": "管辖法院",
    "supplement_items": "需补正事项",
    "supplement_period_days": "补正期限（工作日）",
    "supplement_due_on": "补正截止日期",
    "extension_days": "延长工作日数",
    "extension_reason": "延期理由",
    "consultee": "被征求意见方",
    "consultation_due_on": "征求意见截止日期",
    "fee_amount": "信息处理费金额（元）",
    "fee_method": "计收方式",
    "fee_computation": "计算过程",
    "fee_due_on": "缴费截止日期",
    "outcome_label": "答复结果",
    "search_record": "检索情况（经检索没有、不属于本机关负责公开的答复）",
    "legal_basis": "法律依据",
    "concluded_on": "办结日期",
    "non_processing_reason": "不予处理的原因",
    "letter_date": "文书日期",
}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


class LetterNotApplicable(ValueError):
    """The case lacks a fact the letter states."""


def cn_date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


def due_date_text(case: Case, field: str) -> str:
    """A due date as the applicant reads it, with the clause that it may move when it was
    computed on a provisional calendar year (the notice of that year not yet published)."""
    day = getattr(case, field)
    clause = provisional_clause(provisional_years_of(case.clock, field)) if day else ""
    return cn_date(day) + clause


def _latest(case: Case, kind: str):
    return case.events.filter(kind=kind).order_by("-effective_at", "-pk").first()


def reply_outcome(case: Case) -> str:
    return case.outcome or case.draft_outcome


def kind_legal_basis(case: Case, kind: str) -> str:
    if kind in REPLY_FAMILIES:
        outcome = reply_outcome(case)
        if case.outcome and case.legal_basis:
            return case.legal_basis
        if case.outcome:
            return default_legal_basis(outcome) or GENERAL_REPLY_BASIS
        # Art 36 lists the kinds of reply; it is the basis when the outcome has no own article.
        return case.draft_legal_basis or default_legal_basis(outcome) or GENERAL_REPLY_BASIS
    if kind == K.NON_PROCESSING_NOTICE:
        return case.legal_basis or default_legal_basis(case.outcome)
    return KIND_LEGAL_BASIS[kind]


def letter_facts(case: Case, kind: str, *, on: dt.date) -> dict[str, str]:
    """The placeholder values for ``kind`` on ``case``. Raises LetterNotApplicable."""
    agency = case.agency
    facts = {
        "applicant_name": case.applicant_name,
        "tracking_number": case.tracking_number,
        "description": case.description,
        "document_number": case.document_number or "—",
        "submitted_on": cn_date(timezone.localtime(case.submitted_at).date()),
        "received_on": cn_date(case.received_on),
        "reply_due_on": due_date_text(case, "reply_due_on"),
        "information_form": case.get_information_form_display(),
        "delivery_method": case.get_delivery_method_display(),
        "agency_name": agency.name,
        "review_body": agency.review_body or "本机关的上一级行政机关或者本级人民政府",
        "court": agency.court or "有管辖权的人民法院",
        "concluded_on": cn_date(case.concluded_on),
        "letter_date": cn_date(on),
    }
    if case.received_on is None:
        raise LetterNotApplicable("申请尚未登记收到日期。")
    if kind == K.SUPPLEMENT_NOTICE:
        event = _latest(case, EventKind.REQUEST_SUPPLEMENT)
        if event is None:
            raise LetterNotApplicable("该申请没有补正告知记录。")
        facts["supplement_items"] = event.data.get("items", "")
        facts["supplement_period_days"] = str(event.data.get("period_days", ""))
        facts["supplement_due_on"] = due_date_text(case, "supplement_due_on")
    elif kind == K.EXTENSION_NOTICE:
        event = _latest(case, EventKind.EXTEND)
        if event is None:
            raise LetterNotApplicable("该申请没有延期答复记录。")
        facts["extension_days"] = str(event.data.get("days", ""))
        facts["extension_reason"] = event.reason or "需要进一步检索、审查"
    elif kind == K.THIRD_PARTY_CONSULTATION:
        event = (
            case.events.filter(
                kind=EventKind.START_CONSULTATION,
                data__consultee_kind=ConsulteeKind.THIRD_PARTY,
            )
            .order_by("-effective_at", "-pk")
            .first()
        )
        if event is None:
            raise LetterNotApplicable("该申请没有征求第三方意见的记录。")
        facts["consultee"] = event.data.get("consultee", "")
        facts["consultation_due_on"] = due_date_text(case, "consultation_due_on")
    elif kind == K.FEE_NOTICE:
        notice = case.fee_notices.order_by("-issued_on", "-pk").first()
        if notice is None:
            raise LetterNotApplicable("该申请没有收费通知记录。")
        facts["fee_amount"] = str(notice.amount_yuan)
        facts["fee_method"] = notice.get_method_display() or "—"
        facts["fee_computation"] = (notice.computation or {}).get("text", "—")
        facts["fee_due_on"] = due_date_text(case, "fee_due_on")
    elif kind in REPLY_FAMILIES:
        outcome = reply_outcome(case)
        if outcome not in REPLY_FAMILIES[kind]:
            raise LetterNotApplicable("该申请的答复结果不属于此类答复书。")
        facts["outcome_label"] = str(Outcome(outcome).label)
        facts["search_record"] = search_statement(case) if outcome in SEARCH_OUTCOMES else ""
    elif kind == K.NON_PROCESSING_NOTICE:
        if case.outcome not in NON_PROCESSING_OUTCOMES:
            raise LetterNotApplicable("该申请不是因逾期不补正或逾期未缴费而终止的。")
        facts["non_processing_reason"] = (
            f"本机关已告知您在{cn_date(case.supplement_due_on)}前补正申请，您无正当理由逾期未补正。"
            if case.outcome == Outcome.ABANDONED_NO_SUPPLEMENT
            else "本机关已向您发出收费通知，您逾期未缴纳信息处理费。"
        )
    facts["legal_basis"] = kind_legal_basis(case, kind)
    return facts


def search_statement(case: Case) -> str:
    """The reply's account of the search (检索记录), one sentence per search: the burden of a
    reasonable search is on the agency, so the letter says what was searched."""
    sentences = []
    for event in search_records(case):
        data = event.data
        searched_on = dt.date.fromisoformat(data["searched_on"])
        sentence = (
            f"本机关于{cn_date(searched_on)}以“{data['keywords']}”为关键词，"
            f"检索了{data['sources'].rstrip('。；;')}"
        )
        if data.get("units_asked"):
            sentence += f"，并询问了{data['units_asked'].rstrip('。；;')}"
        sentence += f"，检索结果：{data['result'].rstrip('。；;')}。"
        sentences.append(sentence)
    return "".join(sentences)


def remedies(case: Case, kind: str, facts: dict, *, on: dt.date) -> str:
    """The remedies a decision letter states: the review body within 60 days and the court
    within 6 months; a refusal to disclose goes to review first from 2024-01-01."""
    if kind not in DECISION_KINDS:
        return ""
    document = "答复" if kind in REPLY_FAMILIES else "告知"
    review_first = kind == K.REPLY_WITHHELD and on >= REVIEW_FIRST_FROM
    text = REMEDIES_REVIEW_FIRST if review_first else REMEDIES
    return text.format(document=document, review_body=facts["review_body"], court=facts["court"])


def fill(template: str, facts: dict[str, str]) -> str:
    """Replace each ``{field}``; a field the template names but the facts lack is an error."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in facts:
            raise LetterNotApplicable(f"模板中的字段 {{{name}}} 不适用于此类文书。")
        return str(facts[name])

    return PLACEHOLDER.sub(value, template)


def unknown_placeholders(text: str) -> list[str]:
    return sorted({name for name in PLACEHOLDER.findall(text or "") if name not in FIELDS})


# --- the remedies, computed for the applicant's pages -----------------------------------------
REVIEW_DAYS = 60  # 行政复议法 Art 20: within 60 days of learning of the act
SUIT_MONTHS = 6  # 行政诉讼法 Art 46: within 6 months of learning of the act


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def remedy_deadlines(kind: str, start: dt.date, *, calendar) -> dict:
    """The last days for review and suit when a decision of ``kind`` was received on
    ``start``: the periods run from the day after (期间开始之日不计算在内), and a period ending
    on a non-working day ends on the next working day. A refusal decided from 2024-01-01 goes
    to review first: the court's 15 days then run from the review decision, not from here."""
    review_first = kind == K.REPLY_WITHHELD and start >= REVIEW_FIRST_FROM
    review_by = calendar.working_day_on_or_after(start + dt.timedelta(days=REVIEW_DAYS))
    suit_by = (
        None if review_first else calendar.working_day_on_or_after(_add_months(start, SUIT_MONTHS))
    )
    return {"review_by": review_by, "suit_by": suit_by, "review_first": review_first}


def case_remedies(case: Case) -> dict | None:
    """What the applicant may do against the decision that concluded ``case``: the clause of
    the decision letter (the one served, else as it would be drafted), where to apply and the
    last days, counted from the day the decision was served. ``None`` when nothing was decided
    against the applicant's interest to challenge (open, withdrawn)."""
    from requests_app.calendars import calendar_for_agency
    from requests_app.letters.defaults import reply_kind_for
    from requests_app.models import Letter

    if case.is_open or not case.outcome:
        return None
    kind = (
        K.NON_PROCESSING_NOTICE
        if case.outcome in NON_PROCESSING_OUTCOMES
        else reply_kind_for(case.outcome)
    )
    if kind is None:
        return None
    start = case.replied_on or case.concluded_on
    if start is None:
        return None
    letter = (
        Letter.objects.filter(case=case, kind=kind, served_on__isnull=False)
        .order_by("-served_on", "-pk")
        .first()
    )
    if letter is not None:
        clause = letter.content.get("remedies", "")
        start = letter.served_on
    else:
        try:
            facts = letter_facts(case, kind, on=start)
        except LetterNotApplicable:
            return None
        clause = remedies(case, kind, facts, on=start)
    if not clause:
        return None
    agency = case.agency
    return {
        "clause": clause,
        "served_on": start,
        "review_body": agency.review_body or "本机关的上一级行政机关或者本级人民政府",
        "court": agency.court or "有管辖权的人民法院",
        **remedy_deadlines(kind, start, calendar=calendar_for_agency(agency)),
    }
