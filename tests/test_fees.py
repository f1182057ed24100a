"""信息处理费 (国办函〔2020〕109号): both methods at every tier boundary, the computation shown,
the applicant's applications counted per agency per calendar month, issue and waiver."""

from __future__ import annotations

from decimal import Decimal

import pytest

from requests_app.choices import CaseState as S
from requests_app.fees import count_rate, fee_by_count, fee_by_pages
from requests_app.models import CaseEvent, EventKind, FeeNotice
from requests_app.services.errors import InvalidInput
from requests_app.services.fees import fee_compute_for_case, fee_issue_for_case, fee_waive
from tests.clock_calendars import at, case_received, d, load_official


@pytest.mark.parametrize(
    ("items", "total", "rate_of_last"),
    [
        (10, "0.00", "0"),
        (11, "100.00", "100"),
        (30, "2000.00", "100"),
        (31, "2200.00", "200"),
        (40, "4000.00", "200"),
        (41, "4300.00", "300"),
        (50, "7000.00", "300"),
        (51, "7400.00", "400"),
    ],
)
def test_by_count_at_every_boundary(items, total, rate_of_last):
    assert fee_by_count(items).amount == Decimal(total)
    assert count_rate(items) == Decimal(rate_of_last)


@pytest.mark.parametrize(
    ("pages", "amount"),
    [
        (1, "0.00"),
        (30, "0.00"),
        (31, "10.00"),
        (100, "700.00"),
        (101, "720.00"),
        (200, "2700.00"),
        (201, "2740.00"),
    ],
)
def test_by_pages_at_every_boundary(pages, amount):
    assert fee_by_pages(pages).amount == Decimal(amount)


def test_the_computation_is_shown_line_by_line():
    computation = fee_by_pages(201)
    assert computation.text == (
        "按量计收：共 201 页。第1–30页：30页×0元＝0元；第31–100页：70页×10元＝700元；"
        "第101–200页：100页×20元＝2000元；第201–201页：1页×40元＝40元。合计 2740.00 元。"
    )
    assert computation.as_dict()["lines"][3] == {
        "first": 201,
        "last": 201,
        "units": 1,
        "rate_yuan": "40",
        "subtotal_yuan": "40",
    }
    assert fee_by_count(3, already=29).text == (
        "按件计收：本月此前已申请 29 件，本次为第 30–32 件。第30–30件：1件×100元＝100元；"
        "第31–32件：2件×200元＝400元。合计 500.00 元。"
    )


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_bad_quantities_are_refused(bad):
    with pytest.raises(ValueError):
        fee_by_pages(bad)
    with pytest.raises(ValueError):
        fee_by_count(bad)


@pytest.fixture
def calendars(db):
    load_official(2025)


def test_by_count_counts_the_applicants_applications_to_the_agency_that_month(
    calendars, tree, office, approver
):
    # Ten earlier applications in March by the same ID number; one in February, one to
    # another agency and one by someone else do not count.
    for day in range(3, 13):
        case_received(office, approver, f"2025-03-{day:02d}")
    case_received(office, approver, "2025-02-28")
    case_received(office, approver, "2025-03-05", id_number="", applicant_name="李四")
    from tests.factories import caseworker

    dept_worker = caseworker(tree["dept"], "approver")
    case_received(tree["dept"], dept_worker, "2025-03-06")
    eleventh = case_received(office, approver, "2025-03-20")
    computation = fee_compute_for_case(case=eleventh, method="by_count")
    assert (computation.already, computation.amount) == (10, Decimal("100.00"))
    tenth = office.cases.get(received_on=d("2025-03-12"))
    assert fee_compute_for_case(case=tenth, method="by_count").amount == Decimal("0.00")


def test_without_an_id_the_applicant_is_name_and_phone(calendars, office, approver):
    for day in range(3, 14):
        case_received(office, approver, f"2025-03-{day:02d}", id_number="", applicant_name="王五")
    case_received(
        office, approver, "2025-03-14", id_number="", applicant_name="王五", phone="13900139000"
    )
    twelfth = case_received(office, approver, "2025-03-17", id_number="", applicant_name="王五")
    assert fee_compute_for_case(case=twelfth, method="by_count").already == 11


def test_issue_records_the_amount_method_and_computation_then_waiver(calendars, office, approver):
    case = case_received(office, approver, "2025-03-03")
    case, computation = fee_issue_for_case(
        case=case, actor=approver, method="by_pages", pages=101, effective_at=at("2025-03-05")
    )
    assert case.state == S.AWAITING_FEE
    notice = FeeNotice.objects.get(case=case)
    assert (notice.amount_yuan, notice.method) == (Decimal("720.00"), "by_pages")
    assert notice.computation == computation.as_dict()
    assert notice.computation["text"].endswith("合计 720.00 元。")
    # 20 working days from 5 March 2025.
    assert case.fee_due_on == d("2025-04-02")
    case = fee_waive(
        case=case, actor=approver, reason="申请人为低保户", effective_at=at("2025-03-06")
    )
    notice.refresh_from_db()
    assert (notice.waived, notice.waiver_reason, notice.paid_on) == (True, "申请人为低保户", None)
    assert case.state == S.PROCESSING
    event = CaseEvent.objects.filter(case=case, kind=EventKind.RECORD_FEE_PAYMENT).get()
    assert (event.reason, event.data["waived"]) == ("申请人为低保户", True)


def test_nothing_to_charge_and_bad_input_are_refused(calendars, office, approver):
    case = case_received(office, approver, "2025-03-03")
    with pytest.raises(InvalidInput) as error:
        fee_issue_for_case(case=case, actor=approver, method="by_pages", pages=30)
    assert error.value.message.startswith("按规定不收费：按量计收：共 30 页。")
    with pytest.raises(InvalidInput):
        fee_issue_for_case(case=case, actor=approver, method="by_weight")
    with pytest.raises(InvalidInput):
        fee_issue_for_case(case=case, actor=approver, method="by_pages", pages=None)
    with pytest.raises(InvalidInput):
        fee_waive(case=case, actor=approver, reason=" ")
    case.refresh_from_db()
    assert case.state == S.PROCESSING
    assert FeeNotice.objects.count() == 0
