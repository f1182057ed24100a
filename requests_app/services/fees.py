"""信息处理费 for a case (条例 Art 42; 国办函〔2020〕109号): compute, issue, waive.

``fee_compute_for_case`` applies ``requests_app.fees`` to the case's facts: by count, the
application's position among the applicant's applications to the agency in the calendar month
of its receipt date R (the applicant identified by ID number, or by name and phone when there
is none); by pages, the pages given. ``fee_issue_for_case`` issues the notice through
``case_issue_fee_notice`` with the amount and the computation; ``fee_waive`` waives the
outstanding notice through ``case_record_fee_payment`` with the reason.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt

from django.db.models import Q

from requests_app.fees import BY_COUNT, BY_PAGES, FeeComputation, fee_by_count, fee_by_pages
from requests_app.models import Case
from requests_app.services.cases import case_issue_fee_notice, case_record_fee_payment
from requests_app.services.errors import InvalidInput

METHODS = (BY_COUNT, BY_PAGES)


def same_applicant_q(case: Case) -> Q:
    """The applications made by the applicant of ``case`` (ID number, else name and phone)."""
    number = (case.id_number or "").strip()
    if number:
        return Q(id_number=number)
    return Q(id_number="", applicant_name=case.applicant_name, phone=case.phone)


def applications_before_in_month(case: Case) -> int:
    """How many of the applicant's applications the agency received earlier in the calendar
    month of ``case``'s R (same day: earlier submission first)."""
    received = case.received_on
    first = received.replace(day=1)
    last = received.replace(day=_calendar.monthrange(received.year, received.month)[1])
    earlier = (
        Q(received_on__lt=received)
        | Q(received_on=received, submitted_at__lt=case.submitted_at)
        | Q(received_on=received, submitted_at=case.submitted_at, pk__lt=case.pk)
    )
    return (
        Case.objects.filter(agency_id=case.agency_id, received_on__gte=first, received_on__lte=last)
        .filter(same_applicant_q(case))
        .filter(earlier)
        .count()
    )


def fee_compute_for_case(*, case: Case, method: str, pages: int | None = None) -> FeeComputation:
    """The fee ``case`` would carry by ``method``. Raises InvalidInput."""
    if method == BY_COUNT:
        if case.received_on is None:
            raise InvalidInput(
                "申请尚未确定收到日期，无法按件计收。",
                "The case has no receipt date yet.",
                fields={"method": ["no_receipt_date"]},
            )
        return fee_by_count(1, already=applications_before_in_month(case))
    if method == BY_PAGES:
        if isinstance(pages, bool) or not isinstance(pages, int) or not 1 <= pages <= 1_000_000:
            raise InvalidInput(
                "按量计收须填写页数（正整数）。",
                "pages must be a positive whole number.",
                fields={"pages": ["invalid"]},
            )
        return fee_by_pages(pages)
    raise InvalidInput(
        "计收方式无效。",
        "method must be by_count or by_pages.",
        fields={"method": ["choose one of: by_count, by_pages"]},
    )


def fee_issue_for_case(
    *,
    case: Case,
    actor,
    method: str,
    pages: int | None = None,
    effective_at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> tuple[Case, FeeComputation]:
    """Compute the fee and serve the 收费通知 (``case_issue_fee_notice``) with the amount, the
    method and the computation. A computation of 0 元 is refused (nothing to charge)."""
    computation = fee_compute_for_case(case=case, method=method, pages=pages)
    if computation.amount <= 0:
        raise InvalidInput(
            f"按规定不收费：{computation.text}",
            "The computed fee is 0: no fee notice.",
            fields={"method": ["free"]},
        )
    case = case_issue_fee_notice(
        case=case,
        actor=actor,
        amount_yuan=computation.amount,
        computation=computation.as_dict(),
        method=method,
        effective_at=effective_at,
        expected_version=expected_version,
    )
    return case, computation


def fee_waive(*, case: Case, actor, reason: str, effective_at=None, expected_version=None) -> Case:
    """Waive the outstanding fee notice (减免, 办法 Art 6), saying why; the reply clock runs
    again and the notice is not counted as collected."""
    if not (reason or "").strip():
        raise InvalidInput(
            "请说明减免理由。", "Give the reason for the waiver.", fields={"reason": ["required"]}
        )
    return case_record_fee_payment(
        case=case,
        actor=actor,
        waived=True,
        reason=reason.strip(),
        effective_at=effective_at,
        expected_version=expected_version,
    )
