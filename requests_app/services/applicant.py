"""What the applicant does on their own pages (``portal``): answer a 补正, withdraw, ask the
office a question; and the office's answer to that question.

Each is one transaction with one history event, through the same ``case_perform_action`` as every other
action; the steps the applicant takes have no user as actor and are labelled
``APPLICANT_LABEL`` in the history. The office is told through the notifications it already
reads (an inbox row, and an e-mail when the caseworker has an address).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from requests_app.choices import Role
from requests_app.models import AttachmentKind, Case, CaseEvent, Caseworker, EventKind
from requests_app.services.cases import (
    APPLICANT_LABEL,
    case_perform_action,
    case_receive_supplement,
    case_withdraw,
    required_text,
)
from requests_app.services.errors import InvalidInput, TransitionRefused
from requests_app.services.intake import online_receipt_day
from requests_app.services.notifications import notifications_create, user_notifications

SUPPLEMENT_MAX_CHARS = 5000
QUESTION_MAX_CHARS = 500
ANSWER_MAX_CHARS = 2000
# Unanswered questions a case may hold at once: enough for a person, not for a flood.
OPEN_QUESTIONS_MAX = 3


def _too_long(text: str, limit: int, field: str) -> None:
    if len(text) > limit:
        raise InvalidInput(
            f"内容不能超过 {limit} 个字。",
            f"At most {limit} characters.",
            fields={field: ["max_length"]},
        )


def _office_recipients(case: Case) -> list:
    """Who hears of the applicant's step: the handler, or the office's registrars and
    approvers while nobody handles the case."""
    if case.handler_id:
        return [case.handler]
    workers = Caseworker.objects.filter(
        agency_id=case.agency_id, role__in=[Role.REGISTRAR, Role.APPROVER]
    ).select_related("user")
    return [w.user for w in workers if w.user.is_active]


def _tell_office(case: Case, event: CaseEvent, *, subject: str, body: str) -> None:
    notifications_create(
        user_notifications(
            users=_office_recipients(case),
            case=case,
            kind=f"applicant_{event.kind}",
            subject=subject,
            body=body,
            key=f"event:{event.pk}:office",
        )
    )


def _last_event(case: Case, kind: str) -> CaseEvent:
    return CaseEvent.objects.filter(case=case, kind=kind).order_by("-pk").first()


def applicant_supplement_answer(*, case: Case, text: str, files=(), at=None) -> Case:
    """The applicant answers the 补正 notice online: it is the 补正 received, R′ the day it
    counts as received by the rules for online channels (that day, or the next working day),
    and the reply clock restarts from R′ (Art 30); ``files`` (uploads) are stored as 补正材料
    in the same transaction. The handler is told. Raises InvalidInput,
    TransitionRefused (no 补正 awaited), ConcurrentChange."""
    text = required_text(
        text,
        field="text",
        message="请填写补正内容。",
        message_en="Write what you supplement.",
    )
    _too_long(text, SUPPLEMENT_MAX_CHARS, "text")
    at = at or timezone.now()
    with transaction.atomic():
        case = case_receive_supplement(
            case=case,
            actor=None,
            received_on=online_receipt_day(case.agency, at),
            effective_at=at,
            text=text,
            by_applicant=True,
        )
        event = _last_event(case, EventKind.RECEIVE_SUPPLEMENT)
        if files:
            from requests_app.services.attachments import attachments_store

            attachments_store(case=case, files=[(AttachmentKind.SUPPLEMENT, f) for f in files])
            case.refresh_from_db()
        _tell_office(
            case,
            event,
            subject=f"申请人已在网上补正（{case.tracking_number}）",
            body=(
                f"申请 {case.tracking_number} 的申请人已提交补正：\n{text}\n\n"
                f"补正收到日期 {case.restarted_on}，答复期限重新计算至 {case.reply_due_on}。"
            ),
        )
    return case


def applicant_withdraw(*, case: Case, reason: str = "", at=None) -> Case:
    """The applicant withdraws on their pages (any open state). The office is told. Raises
    InvalidInput, TransitionRefused (already concluded), ConcurrentChange."""
    reason = (reason or "").strip()
    _too_long(reason, QUESTION_MAX_CHARS, "reason")
    with transaction.atomic():
        case = case_withdraw(
            case=case, actor=None, reason=reason, effective_at=at, by_applicant=True
        )
        event = _last_event(case, EventKind.WITHDRAW)
        _tell_office(
            case,
            event,
            subject=f"申请人已撤回申请（{case.tracking_number}）",
            body=f"申请 {case.tracking_number} 已由申请人在网上撤回。"
            + (f"\n理由：{reason}" if reason else ""),
        )
    return case


def applicant_question_ask(*, case: Case, text: str, at=None) -> CaseEvent:
    """A short message from the applicant to the office, kept in the history and answered
    from the admin (``case_question_answer``). The office is told. At most
    ``OPEN_QUESTIONS_MAX`` unanswered at once. Raises InvalidInput, ConcurrentChange."""
    text = required_text(
        text, field="text", message="请填写留言内容。", message_en="Write your message."
    )
    _too_long(text, QUESTION_MAX_CHARS, "text")
    if len(questions_unanswered(case)) >= OPEN_QUESTIONS_MAX:
        raise InvalidInput(
            f"您已有 {OPEN_QUESTIONS_MAX} 条留言待答复，请等待答复后再留言。",
            f"{OPEN_QUESTIONS_MAX} messages are awaiting an answer already.",
            fields={"text": ["too_many_open"]},
        )
    with transaction.atomic():
        case = case_perform_action(
            case=case,
            actor=None,
            kind=EventKind.QUESTION_ASKED,
            apply=lambda c: None,
            effective_at=at,
            reason=text,
            label=APPLICANT_LABEL,
        )
        event = _last_event(case, EventKind.QUESTION_ASKED)
        _tell_office(
            case,
            event,
            subject=f"申请人留言（{case.tracking_number}）",
            body=f"申请 {case.tracking_number} 的申请人留言：\n{text}\n\n请在案件页面答复。",
        )
    return event


def questions_unanswered(case: Case) -> list[CaseEvent]:
    """The applicant's messages on ``case`` that the office has not answered, oldest first."""
    events = list(
        CaseEvent.objects.filter(
            case=case, kind__in=[EventKind.QUESTION_ASKED, EventKind.QUESTION_ANSWERED]
        ).order_by("pk")
    )
    answered = {e.data.get("question_id") for e in events if e.kind == EventKind.QUESTION_ANSWERED}
    return [e for e in events if e.kind == EventKind.QUESTION_ASKED and e.pk not in answered]


def case_question_answer(
    *, case: Case, actor, question_id: int, text: str, expected_version=None
) -> Case:
    """The office answers the applicant's message ``question_id``: a history event the
    applicant sees on their pages (and an e-mail when they gave an address). Raises
    InvalidInput, ActionForbidden, TransitionRefused (already answered), ConcurrentChange."""
    text = required_text(
        text, field="text", message="请填写答复内容。", message_en="Write the answer."
    )
    _too_long(text, ANSWER_MAX_CHARS, "text")
    question = CaseEvent.objects.filter(
        case=case, kind=EventKind.QUESTION_ASKED, pk=question_id
    ).first()
    if question is None:
        raise InvalidInput(
            "未找到该留言。", "No such message on this case.", fields={"question_id": ["invalid"]}
        )

    def apply(locked: Case) -> None:
        # Checked under the case's lock: two caseworkers answering at once, one wins.
        if CaseEvent.objects.filter(
            case=locked, kind=EventKind.QUESTION_ANSWERED, data__question_id=question_id
        ).exists():
            raise TransitionRefused("该留言已答复。", "This message was answered already.")

    return case_perform_action(
        case=case,
        actor=actor,
        kind=EventKind.QUESTION_ANSWERED,
        apply=apply,
        data={"question_id": question_id, "question": question.reason},
        reason=text,
        expected_version=expected_version,
    )
