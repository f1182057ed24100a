"""行政复议, 行政诉讼 and 投诉举报 linked to a case (docs/legal.md; issue 5).

Reviews and lawsuits are actions on their case: each service runs through the case executor
(``services.cases.case_perform_action``: lock, permission, one history event, clock refresh,
in one transaction) and writes the linked record inside it. The periods come from
``requests_app.proceedings_rules`` with the agency's calendar; the agency's own deadlines
(the 答复 period of a review, the 举证 period of a lawsuit) are stored on the record with
``next_reminder_on`` for the sweep (``services.proceedings_sweep``).

A decision that corrects the reply and orders a new one (撤销并责令重新答复, 责令履行)
reopens the case through ``services.cases.case_reopen`` in the same transaction, with the
history saying which decision did it; the reopened case concludes again with its new reply,
so the report still counts it once.

Complaints are received by a supervising office (Arts 47, 51) about a subordinate agency; a
complaint linked to a case adds a history event to that case without changing it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from requests_app.calendars import calendar_for_agency
from requests_app.choices import AgencyKind, Role
from requests_app.models import (
    JUDGMENT_ROLLUP,
    REVIEW_ROLLUP,
    Agency,
    Case,
    CaseEvent,
    Complaint,
    ComplaintKind,
    EventKind,
    JudgmentKind,
    Lawsuit,
    Result,
    Review,
    ReviewDecision,
)
from requests_app.permissions import caseworker_of, is_staff_member
from requests_app.proceedings_rules import (
    ProceedingsRuleError,
    lawsuit_defense_due,
    lawsuit_judgment_due,
    review_answer_due,
    review_decision_due,
    review_law_for,
)
from requests_app.services.cases import actor_label, case_perform_action, case_reopen
from requests_app.services.errors import (
    ActionForbidden,
    ConcurrentChange,
    InvalidInput,
    TransitionRefused,
)

# Decisions that, by default, order the agency to reply again (the office may say otherwise).
REVIEW_ORDERS_NEW_REPLY = frozenset({ReviewDecision.REVOKED, ReviewDecision.ORDERED_TO_PERFORM})
WITHHELD_PREFIX = "withheld_"
REVIEW_FIRST_FROM = dt.date(2024, 1, 1)  # 复议法 2023 Art 23 ¶1(四)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _check_date(
    day, *, field: str, label: str, not_before: dt.date | None = None, before_label: str = ""
) -> dt.date:
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise InvalidInput(
            f"{label}不是有效日期。", f"{field} is not a valid date.", fields={field: ["invalid"]}
        )
    if day > timezone.localdate():
        raise InvalidInput(
            f"{label}不能晚于今天。",
            f"{field} cannot be in the future.",
            fields={field: ["future"]},
        )
    if not_before is not None and day < not_before:
        raise InvalidInput(
            f"{label}不能早于{before_label} {not_before}。",
            f"{field} cannot be before {not_before}.",
            fields={field: ["too_early"]},
        )
    return day


def _moment(day: dt.date, effective_at: dt.datetime | None) -> dt.datetime:
    """When a fact dated ``day`` happened: now if it is today, else noon of that day."""
    if effective_at is not None:
        return effective_at
    now = timezone.now()
    if day == timezone.localdate(now):
        return now
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def _rule_error(exc: ProceedingsRuleError, field: str) -> InvalidInput:
    return InvalidInput(str(exc), str(exc), fields={field: ["not_allowed"]})


def _reminder_start(due: dt.date | None, deadline: str, agency: Agency) -> dt.date | None:
    """The sweep first looks at a record on its earliest reminder day."""
    if due is None:
        return None
    from requests_app.services.proceedings_sweep import record_actions

    return min(a.on for a in record_actions(due, deadline, calendar_for_agency(agency)))


def _perform_on(
    case: Case, *, actor, kind: str, apply, effective_at, expected_version, data, reason=""
):
    return case_perform_action(
        case=case,
        actor=actor,
        kind=kind,
        apply=apply,
        effective_at=effective_at,
        expected_version=expected_version,
        data=data,
        reason=reason,
    )


def _record_step(
    record: Review | Lawsuit,
    *,
    kind: str,
    refused_when,
    refused: tuple[str, str],
    changes: dict,
    actor,
    effective_at,
    expected_version,
    data: dict,
    reason: str = "",
):
    """Change a review's or lawsuit's own fields on its locked row, as one event on its case.

    ``refused_when(locked)`` says the step was already taken; a value in ``changes`` may be a
    function of (locked record, locked case)."""
    done: list = []

    def apply(locked_case: Case) -> None:
        locked = type(record).objects.select_for_update().get(pk=record.pk)
        if refused_when(locked):
            raise TransitionRefused(*refused)
        for field, value in changes.items():
            setattr(locked, field, value(locked, locked_case) if callable(value) else value)
        locked.save(update_fields=list(changes))
        done.append(locked)

    _perform_on(
        record.case,
        actor=actor,
        kind=kind,
        apply=apply,
        effective_at=effective_at,
        expected_version=expected_version,
        data=data,
        reason=reason,
    )
    return done[0]


# --- 行政复议 ---------------------------------------------------------------------------
def review_file(
    *,
    case: Case,
    actor,
    filed_on: dt.date,
    review_body: str = "",
    applicant: str = "",
    effective_at=None,
    expected_version=None,
) -> Review:
    """Record an application for 行政复议 of the agency's act on ``case``. The law in force on
    ``filed_on`` decides the periods. Writes a ``review_filed`` event. Raises InvalidInput,
    ActionForbidden, ConcurrentChange."""
    floor = case.received_on or timezone.localtime(case.submitted_at).date()
    filed_on = _check_date(
        filed_on,
        field="filed_on",
        label="申请复议日期",
        not_before=floor,
        before_label="收到申请日期",
    )
    law = review_law_for(filed_on)
    body = (review_body or "").strip() or case.agency.review_body
    created: list[Review] = []
    data = {"filed_on": _iso(filed_on), "law": law, "review_body": body}

    def apply(locked: Case) -> None:
        review = Review.objects.create(
            case=locked,
            review_body=body,
            applicant=(applicant or "").strip() or locked.applicant_name,
            filed_on=filed_on,
            law=law,
        )
        data["review_id"] = review.pk  # the event, written after ``apply``, names the record
        created.append(review)

    _perform_on(
        case,
        actor=actor,
        kind=EventKind.REVIEW_FILED,
        apply=apply,
        effective_at=_moment(filed_on, effective_at),
        expected_version=expected_version,
        data=data,
    )
    return created[0]


def review_accept(
    *,
    review: Review,
    actor,
    accepted_on: dt.date,
    copy_received_on: dt.date | None = None,
    simplified: bool = False,
    effective_at=None,
    expected_version=None,
) -> Review:
    """The review body accepted the application (受理): the decision is due 60 days later, or
    30 under the simplified procedure (2023 law only). ``copy_received_on`` — the day the
    agency received the copy of the application — starts its 答复 period (10 working days;
    5 simplified; 10 calendar days under the 1999 law), reminded by the sweep."""
    accepted_on = _check_date(
        accepted_on,
        field="accepted_on",
        label="受理日期",
        not_before=review.filed_on,
        before_label="申请复议日期",
    )
    if copy_received_on is not None:
        copy_received_on = _check_date(
            copy_received_on,
            field="copy_received_on",
            label="收到申请书副本日期",
            not_before=review.filed_on,
            before_label="申请复议日期",
        )
    calendar = calendar_for_agency(review.case.agency)
    try:
        decision_due, decision_why = review_decision_due(
            accepted_on=accepted_on,
            law=review.law,
            simplified=simplified,
            extended=False,
            calendar=calendar,
        )
        answer_due, answer_why = (
            review_answer_due(
                copy_received_on=copy_received_on,
                law=review.law,
                simplified=simplified,
                calendar=calendar,
            )
            if copy_received_on
            else (None, None)
        )
    except ProceedingsRuleError as exc:
        raise _rule_error(exc, "simplified") from exc
    return _record_step(
        review,
        kind=EventKind.REVIEW_ACCEPTED,
        refused_when=lambda locked: locked.accepted_on is not None,
        refused=("该复议已登记受理。", "The review was already accepted."),
        changes={
            "accepted_on": accepted_on,
            "simplified": simplified,
            "decision_due_on": decision_due,
            "copy_received_on": copy_received_on,
            "answer_due_on": answer_due,
            "next_reminder_on": lambda locked, case: (
                _reminder_start(answer_due, "review_answer_due_on", case.agency)
                if locked.answered_on is None
                else None
            ),
        },
        actor=actor,
        effective_at=_moment(accepted_on, effective_at),
        expected_version=expected_version,
        data={
            "review_id": review.pk,
            "accepted_on": _iso(accepted_on),
            "simplified": simplified,
            "decision_due_on": _iso(decision_due),
            "decision_period": decision_why,
            "copy_received_on": _iso(copy_received_on),
            "answer_due_on": _iso(answer_due),
            "answer_period": answer_why,
        },
    )


def review_answer(
    *, review: Review, actor, answered_on: dt.date, effective_at=None, expected_version=None
) -> Review:
    """The agency submitted its written answer and evidence to the review body; its 答复
    reminders stop."""
    answered_on = _check_date(
        answered_on,
        field="answered_on",
        label="提交答复日期",
        not_before=review.filed_on,
        before_label="申请复议日期",
    )
    return _record_step(
        review,
        kind=EventKind.REVIEW_ANSWERED,
        refused_when=lambda locked: locked.answered_on is not None,
        refused=("已记录提交答复。", "The answer was already recorded."),
        changes={"answered_on": answered_on, "next_reminder_on": None},
        actor=actor,
        effective_at=_moment(answered_on, effective_at),
        expected_version=expected_version,
        data={
            "review_id": review.pk,
            "answered_on": _iso(answered_on),
            "answer_due_on": _iso(review.answer_due_on),
            "on_time": bool(review.answer_due_on and answered_on <= review.answer_due_on),
        },
    )


def review_extend(
    *, review: Review, actor, reason: str, effective_at=None, expected_version=None
) -> Review:
    """The review body extended its decision period once, by at most 30 days (复议法 2023
    Art 62 ¶1; 1999 Art 31 ¶1); not under the simplified procedure."""
    if not (reason or "").strip():
        raise InvalidInput("请说明延期理由。", "Give the reason.", fields={"reason": ["required"]})
    if review.accepted_on is None:
        raise TransitionRefused("复议尚未受理，不能延期。", "The review has not been accepted.")
    try:
        due, why = review_decision_due(
            accepted_on=review.accepted_on,
            law=review.law,
            simplified=review.simplified,
            extended=True,
            calendar=calendar_for_agency(review.case.agency),
        )
    except ProceedingsRuleError as exc:
        raise _rule_error(exc, "simplified") from exc
    return _record_step(
        review,
        kind=EventKind.REVIEW_EXTENDED,
        refused_when=lambda locked: locked.decision_extended or locked.decided_on is not None,
        refused=("该复议已延期或已作出决定。", "The review was already extended or decided."),
        changes={"decision_extended": True, "decision_due_on": due},
        actor=actor,
        effective_at=effective_at,
        expected_version=expected_version,
        data={"review_id": review.pk, "decision_due_on": _iso(due), "decision_period": why},
        reason=reason,
    )


def _decide(
    *,
    record: Review | Lawsuit,
    decision_field: str,
    decision: str,
    decided_on: dt.date,
    result_value: str,
    orders_new_reply: bool,
    note: str,
    actor,
    moment: dt.datetime,
    expected_version,
    kind: str,
    already: tuple[str, str],
    data: dict,
    reopen_reason: str,
):
    """Record a review decision or a judgment on its (locked) record as one event on the case,
    and reopen the case in the same transaction when the decision orders a new reply."""
    note = (note or "").strip()
    with transaction.atomic():
        decided = _record_step(
            record,
            kind=kind,
            refused_when=lambda locked: locked.decided_on is not None,
            refused=already,
            changes={
                "decided_on": decided_on,
                decision_field: decision,
                "result": result_value,
                "orders_new_reply": orders_new_reply,
                "note": note,
                "next_reminder_on": None,
            },
            actor=actor,
            effective_at=moment,
            expected_version=expected_version,
            data={
                **data,
                "decided_on": _iso(decided_on),
                decision_field: decision,
                "result": result_value,
                "orders_new_reply": orders_new_reply,
            },
            reason=note,
        )
        if orders_new_reply:
            case_reopen(
                case=record.case,
                actor=actor,
                reason=f"{reopen_reason}{note}".strip(),
                effective_at=moment,
            )
    return decided


def review_decide(
    *,
    review: Review,
    actor,
    decided_on: dt.date,
    decision: str,
    orders_new_reply: bool | None = None,
    note: str = "",
    effective_at=None,
    expected_version=None,
) -> Review:
    """Record the review decision and its roll-up (维持/驳回 → upheld; 变更/撤销/确认违法/确认
    无效/责令履行 → corrected; 调解/和解/撤回/终止 → other).

    ``orders_new_reply`` (by default true for 撤销 and 责令履行) reopens the case for a new
    reply through ``case_reopen`` — which needs the office head (approver) — in the same
    transaction: if the case cannot be reopened, nothing is recorded. Raises InvalidInput,
    ActionForbidden, TransitionRefused, ConcurrentChange."""
    if decision not in ReviewDecision.values:
        raise InvalidInput(
            "复议决定类型无效。",
            f"'{decision}' is not a review decision.",
            fields={"decision": [f"choose one of: {', '.join(ReviewDecision.values)}"]},
        )
    decided_on = _check_date(
        decided_on,
        field="decided_on",
        label="决定日期",
        not_before=review.accepted_on or review.filed_on,
        before_label="受理日期" if review.accepted_on else "申请复议日期",
    )
    result_value = REVIEW_ROLLUP[ReviewDecision(decision)]
    if orders_new_reply is None:
        orders_new_reply = decision in REVIEW_ORDERS_NEW_REPLY
    if orders_new_reply and result_value != Result.CORRECTED:
        raise InvalidInput(
            "只有纠正类决定才能责令重新答复。",
            "Only a correcting decision can order a new reply.",
            fields={"orders_new_reply": ["not_a_correction"]},
        )
    moment = _moment(decided_on, effective_at)
    label = ReviewDecision(decision).label
    return _decide(
        record=review,
        decision_field="decision",
        decision=decision,
        decided_on=decided_on,
        result_value=result_value,
        orders_new_reply=orders_new_reply,
        note=note,
        actor=actor,
        moment=moment,
        expected_version=expected_version,
        kind=EventKind.REVIEW_DECIDED,
        already=("该复议已作出决定。", "The review was already decided."),
        data={"review_id": review.pk, "decision_due_on": _iso(review.decision_due_on)},
        reopen_reason=(
            f"{review.review_body or '行政复议机关'} {decided_on} 行政复议决定“{label}”，责令重新答复。"
        ),
    )


# --- 行政诉讼 ---------------------------------------------------------------------------
def lawsuit_file(
    *,
    case: Case,
    actor,
    filed_on: dt.date,
    court: str = "",
    plaintiff: str = "",
    after_review: bool | None = None,
    review: Review | None = None,
    appeal_of: Lawsuit | None = None,
    simple_procedure: bool = False,
    review_body_co_defendant: bool = False,
    copy_received_on: dt.date | None = None,
    effective_at=None,
    expected_version=None,
) -> Lawsuit:
    """Record a 行政诉讼 about ``case`` (立案 on ``filed_on``), or an appeal of an earlier
    judgment (``appeal_of``: instance + 1; the report counts first instances only). The
    judgment is due 6 months after 立案, 45 days under the simple procedure, 3 months on
    appeal; ``copy_received_on`` starts the agency's 15-day 举证 period (reminded)."""
    floor = case.received_on or timezone.localtime(case.submitted_at).date()
    instance = 1
    if appeal_of is not None:
        if appeal_of.case_id != case.pk:
            raise InvalidInput(
                "上诉须针对同一申请的判决。",
                "An appeal must be of a judgment on the same case.",
                fields={"appeal_of": ["other_case"]},
            )
        if appeal_of.decided_on is None:
            raise InvalidInput(
                "原审尚未裁判，不能上诉。",
                "The judgment appealed has not been given.",
                fields={"appeal_of": ["not_decided"]},
            )
        instance = appeal_of.instance + 1
        floor = appeal_of.decided_on
        after_review = appeal_of.after_review
        review = appeal_of.review
    if review is not None:
        if review.case_id != case.pk:
            raise InvalidInput(
                "复议须属于同一申请。",
                "The review must belong to the same case.",
                fields={"review": ["other_case"]},
            )
        if after_review is False:
            raise InvalidInput(
                "已指定前置复议，不能为直接起诉。",
                "A suit after a review cannot be direct.",
                fields={"after_review": ["contradicts_review"]},
            )
        after_review = True
    after_review = bool(after_review)
    filed_on = _check_date(
        filed_on, field="filed_on", label="立案日期", not_before=floor, before_label="可起诉日期"
    )
    if copy_received_on is not None:
        copy_received_on = _check_date(
            copy_received_on,
            field="copy_received_on",
            label="收到起诉状副本日期",
            not_before=filed_on,
            before_label="立案日期",
        )
    calendar = calendar_for_agency(case.agency)
    try:
        judgment_due, judgment_why = lawsuit_judgment_due(
            filed_on=filed_on,
            instance=instance,
            simple_procedure=simple_procedure,
            calendar=calendar,
        )
    except ProceedingsRuleError as exc:
        raise _rule_error(exc, "simple_procedure") from exc
    defense_due, defense_why = (
        lawsuit_defense_due(copy_received_on=copy_received_on, calendar=calendar)
        if copy_received_on
        else (None, None)
    )
    warnings = []
    if (
        instance == 1
        and not after_review
        and filed_on >= REVIEW_FIRST_FROM
        and (case.outcome or "").startswith(WITHHELD_PREFIX)
    ):
        warnings.append(
            "不予公开答复自2024年1月1日起应先申请行政复议（《行政复议法》第二十三条第一款第（四）项）。"
        )
    created: list[Lawsuit] = []
    data = {
        "filed_on": _iso(filed_on),
        "instance": instance,
        "after_review": after_review,
        "appeal_of": appeal_of.pk if appeal_of else None,
        "judgment_due_on": _iso(judgment_due),
        "judgment_period": judgment_why,
        "defense_due_on": _iso(defense_due),
        "defense_period": defense_why,
        "warnings": warnings,
    }

    def apply(locked: Case) -> None:
        created.append(
            Lawsuit.objects.create(
                case=locked,
                court=(court or "").strip() or locked.agency.court,
                plaintiff=(plaintiff or "").strip() or locked.applicant_name,
                filed_on=filed_on,
                after_review=after_review,
                review=review,
                review_body_co_defendant=review_body_co_defendant,
                instance=instance,
                appeal_of=appeal_of,
                simple_procedure=simple_procedure,
                judgment_due_on=judgment_due,
                copy_received_on=copy_received_on,
                defense_due_on=defense_due,
                next_reminder_on=_reminder_start(
                    defense_due, "lawsuit_defense_due_on", locked.agency
                ),
            )
        )
        data["lawsuit_id"] = created[0].pk

    _perform_on(
        case,
        actor=actor,
        kind=EventKind.LAWSUIT_FILED,
        apply=apply,
        effective_at=_moment(filed_on, effective_at),
        expected_version=expected_version,
        data=data,
    )
    return created[0]


def lawsuit_defend(
    *, lawsuit: Lawsuit, actor, submitted_on: dt.date, effective_at=None, expected_version=None
) -> Lawsuit:
    """The agency submitted its evidence, the normative documents and its defence (举证,
    行政诉讼法 Art 67); its reminders stop."""
    submitted_on = _check_date(
        submitted_on,
        field="submitted_on",
        label="提交答辩举证日期",
        not_before=lawsuit.filed_on,
        before_label="立案日期",
    )
    return _record_step(
        lawsuit,
        kind=EventKind.LAWSUIT_DEFENDED,
        refused_when=lambda locked: locked.defense_submitted_on is not None,
        refused=("已记录答辩举证。", "The defence was already recorded."),
        changes={"defense_submitted_on": submitted_on, "next_reminder_on": None},
        actor=actor,
        effective_at=_moment(submitted_on, effective_at),
        expected_version=expected_version,
        data={
            "lawsuit_id": lawsuit.pk,
            "submitted_on": _iso(submitted_on),
            "defense_due_on": _iso(lawsuit.defense_due_on),
            "on_time": bool(lawsuit.defense_due_on and submitted_on <= lawsuit.defense_due_on),
        },
    )


def lawsuit_decide(
    *,
    lawsuit: Lawsuit,
    actor,
    decided_on: dt.date,
    judgment: str,
    orders_new_reply: bool = False,
    note: str = "",
    effective_at=None,
    expected_version=None,
) -> Lawsuit:
    """Record the judgment (or ruling) and its roll-up (驳回诉讼请求 → upheld; 撤销/履行/确认
    违法/确认无效/变更 → corrected; 撤诉/调解/裁定驳回起诉 → other). A first-instance judgment
    may still be appealed, so reopening is the office's call: ``orders_new_reply`` reopens
    the case (through ``case_reopen``, by the office head) once the judgment is final."""
    if judgment not in JudgmentKind.values:
        raise InvalidInput(
            "裁判类型无效。",
            f"'{judgment}' is not a judgment kind.",
            fields={"judgment": [f"choose one of: {', '.join(JudgmentKind.values)}"]},
        )
    decided_on = _check_date(
        decided_on,
        field="decided_on",
        label="裁判日期",
        not_before=lawsuit.filed_on,
        before_label="立案日期",
    )
    result_value = JUDGMENT_ROLLUP[JudgmentKind(judgment)]
    if orders_new_reply and result_value != Result.CORRECTED:
        raise InvalidInput(
            "只有纠正类裁判才能判决重新答复。",
            "Only a correcting judgment can order a new reply.",
            fields={"orders_new_reply": ["not_a_correction"]},
        )
    moment = _moment(decided_on, effective_at)
    label = JudgmentKind(judgment).label
    return _decide(
        record=lawsuit,
        decision_field="judgment",
        decision=judgment,
        decided_on=decided_on,
        result_value=result_value,
        orders_new_reply=orders_new_reply,
        note=note,
        actor=actor,
        moment=moment,
        expected_version=expected_version,
        kind=EventKind.LAWSUIT_DECIDED,
        already=("该诉讼已作出裁判。", "The lawsuit was already decided."),
        data={"lawsuit_id": lawsuit.pk, "instance": lawsuit.instance},
        reopen_reason=f"{lawsuit.court or '人民法院'} {decided_on} 判决“{label}”，判令重新答复。",
    )


# --- 投诉、举报 -------------------------------------------------------------------------
COMPLAINT_ROLES = {Role.SUPERVISOR, Role.HANDLER, Role.APPROVER, Role.ADMINISTRATOR}


def supervises(office: Agency, agency: Agency) -> bool:
    """May ``office`` receive complaints about ``agency``? Its ancestors may (上一级行政机关),
    and so may a government's office (政府信息公开工作主管部门) for the agencies under that
    government (Arts 47, 51) — not for that government itself, nor for itself: a complaint
    about a government goes to the government above it."""
    if agency.path.startswith(office.path) and office.pk != agency.pk:
        return True
    return bool(
        office.kind == AgencyKind.OFFICE
        and office.parent_id
        and agency.path.startswith(office.parent.path)
        and agency.pk not in (office.pk, office.parent_id)
    )


def may_receive_complaints(user, office: Agency) -> bool:
    if user is None or user.is_superuser:
        return True
    worker = caseworker_of(user)
    if worker is None or worker.role not in COMPLAINT_ROLES:
        return False
    if worker.role == Role.ADMINISTRATOR:
        return office.path.startswith(worker.agency.path)
    return worker.agency_id == office.pk


def complaint_office(complaint: Complaint) -> Agency | None:
    """The office that deals with a complaint: the one that received it, else the complained-of
    agency's parent (上一级行政机关)."""
    return complaint.received_by or complaint.agency.parent


def may_handle_complaint(user, complaint: Complaint) -> bool:
    """May ``user`` record how ``complaint`` was dealt with (``complaint_handle``)?"""
    office = complaint_office(complaint)
    return office is not None and may_receive_complaints(user, office)


def _is_staff(user) -> bool:
    return bool(user and user.is_active and is_staff_member(user))


def complaint_receiving_offices(user) -> list[Agency]:
    """The offices ``user`` may record complaints for (``may_receive_complaints``) that
    supervise at least one agency: one with agencies under it, or a government's office."""
    if not _is_staff(user):
        return []
    worker = caseworker_of(user)
    if user.is_superuser:
        scope = Agency.objects.all()
    elif not may_receive_complaints(user, worker.agency):
        return []  # a registrar or an auditor records for no office
    else:
        scope = Agency.objects.subtree(worker.agency)
    parents = set(scope.filter(parent__isnull=False).values_list("parent_id", flat=True))
    return [
        office
        for office in scope.select_related("parent").order_by("path")
        if may_receive_complaints(user, office)
        and (office.pk in parents or (office.kind == AgencyKind.OFFICE and office.parent_id))
    ]


def may_record_complaints(user) -> bool:
    """Whether ``complaint_receiving_offices(user)`` has any, in at most one query (the
    admin asks on every page, for the 投诉举报 add link): the user's own agency is among
    its offices whenever any is."""
    if not _is_staff(user):
        return False
    if user.is_superuser:
        return Agency.objects.filter(parent__isnull=False).exists()
    agency = caseworker_of(user).agency
    if not may_receive_complaints(user, agency):
        return False
    if agency.kind == AgencyKind.OFFICE and agency.parent_id:
        return True
    return Agency.objects.filter(parent=agency).exists()


def complaint_subjects(offices: list[Agency]) -> list[Agency]:
    """The agencies one of ``offices`` ``supervises`` (Arts 47, 51), in tree order: those
    under an office, and for a government's office those under its government (the service's
    rule itself, asked of the agencies within reach)."""
    governments = {
        office.parent.path
        for office in offices
        if office.kind == AgencyKind.OFFICE and office.parent_id
    }
    roots: list[str] = []
    for root in sorted({*(office.path for office in offices), *governments}):
        if not any(root.startswith(kept) for kept in roots):
            roots.append(root)
    if not roots:
        return []
    reach = Q()
    for root in roots:
        reach |= Q(path__startswith=root)
    return [
        agency
        for agency in Agency.objects.filter(reach).order_by("path")
        if any(supervises(office, agency) for office in offices)
    ]


def _complaint_event(
    complaint: Complaint,
    *,
    actor,
    kind: str,
    at,
    data: dict,
    reason="",
    expected_version: int | None = None,
) -> None:
    """The event on the complaint's case (none without one), the case locked; with
    ``expected_version`` the case must still be at that version."""
    if complaint.case_id is None:
        return
    case = Case.objects.select_for_update().only("pk", "state", "version").get(pk=complaint.case_id)
    if expected_version is not None and case.version != expected_version:
        raise ConcurrentChange(
            "该申请已被他人修改，请刷新后重试。",
            "The case was changed by someone else; reload and try again.",
        )
    CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        actor_label=actor_label(actor),
        effective_at=at,
        from_state=case.state,
        to_state=case.state,
        data={"complaint_id": complaint.pk, **data},
        reason=reason,
    )


def complaint_receive(
    *,
    actor,
    agency: Agency,
    filed_on: dt.date,
    received_by: Agency | None = None,
    kind: str = ComplaintKind.COMPLAINT,
    complainant: str = "",
    summary: str = "",
    case: Case | int | None = None,
    effective_at=None,
    expected_version: int | None = None,
) -> Complaint:
    """A supervising office receives a 投诉 or 举报 about ``agency`` (Arts 47, 51), optionally
    about one of its cases (which then gets a ``complaint_received`` event). Counted in the
    report of the year filed. Raises InvalidInput, ActionForbidden.

    ``case`` may be given by id: the supervising office names a case of the agency it may not
    otherwise open. It is looked up only once the office's right to receive the complaint is
    established, and a missing id and another agency's case get the same answer."""
    if received_by is None:
        worker = caseworker_of(actor)
        if worker is None:
            raise InvalidInput(
                "请指定受理投诉的机关。",
                "Name the office that received the complaint.",
                fields={"received_by": ["required"]},
            )
        received_by = worker.agency
    if not may_receive_complaints(actor, received_by):
        raise ActionForbidden(
            "您无权为该机关登记投诉举报。", "You may not record complaints for this office."
        )
    if not supervises(received_by, agency):
        raise InvalidInput(
            f"{received_by.name}不是{agency.name}的上级机关或政府信息公开工作主管部门。",
            "The receiving office does not supervise that agency.",
            fields={"agency": ["not_supervised"]},
        )
    if kind not in ComplaintKind.values:
        raise InvalidInput("类型无效。", "Unknown kind.", fields={"kind": ["invalid_choice"]})
    if isinstance(case, int):
        case = Case.objects.filter(pk=case, agency=agency).first()
        named_elsewhere = case is None  # missing, or another agency's: the same answer
    else:
        named_elsewhere = case is not None and case.agency_id != agency.pk
    if named_elsewhere:
        raise InvalidInput(
            "所涉申请不属于被投诉机关。",
            "The case does not belong to that agency.",
            fields={"case": ["other_agency"]},
        )
    filed_on = _check_date(filed_on, field="filed_on", label="收到日期")
    if not (summary or "").strip():
        raise InvalidInput(
            "请填写投诉举报内容。", "Summarise the complaint.", fields={"summary": ["required"]}
        )
    with transaction.atomic():
        complaint = Complaint.objects.create(
            case=case,
            agency=agency,
            received_by=received_by,
            kind=kind,
            filed_on=filed_on,
            complainant=(complainant or "").strip(),
            summary=summary.strip(),
        )
        _complaint_event(
            complaint,
            actor=actor,
            kind=EventKind.COMPLAINT_RECEIVED,
            at=_moment(filed_on, effective_at),
            data={"filed_on": _iso(filed_on), "kind": kind, "received_by": received_by.name},
            reason=complaint.summary,
            expected_version=expected_version,
        )
    return complaint


def complaint_handle(
    *,
    complaint: Complaint,
    actor,
    handled_on: dt.date,
    result: str,
    is_substantiated: bool | None = None,
    effective_at=None,
    expected_version: int | None = None,
) -> Complaint:
    """Record how the supervising office dealt with the complaint and its result (Art 47:
    督促整改, 通报批评, a 处分 proposal…). Once. With ``expected_version``, the complaint's case
    must still be at that version (a stale screen gets ConcurrentChange)."""
    if not may_handle_complaint(actor, complaint):
        raise ActionForbidden("您无权处理该投诉举报。", "You may not handle this complaint.")
    if not (result or "").strip():
        raise InvalidInput("请填写处理结果。", "Give the result.", fields={"result": ["required"]})
    handled_on = _check_date(
        handled_on,
        field="handled_on",
        label="处理日期",
        not_before=complaint.filed_on,
        before_label="收到日期",
    )
    with transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        if locked.handled_on is not None:
            raise TransitionRefused("该投诉举报已处理。", "The complaint was already handled.")
        locked.handled_on = handled_on
        locked.result = result.strip()
        locked.is_substantiated = is_substantiated
        locked.save(update_fields=["handled_on", "result", "is_substantiated"])
        _complaint_event(
            locked,
            actor=actor,
            kind=EventKind.COMPLAINT_HANDLED,
            at=_moment(handled_on, effective_at),
            data={"handled_on": _iso(handled_on), "is_substantiated": is_substantiated},
            reason=locked.result,
            expected_version=expected_version,
        )
    return locked
