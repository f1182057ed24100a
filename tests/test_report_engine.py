"""The report formats as data and the engine's counting rules (docs/reporting.md)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reporting.engine import (
    ReportInputError,
    ReportInputs,
    cell_queryset,
    compute_report,
)
from reporting.formats import FORMATS, format_for_year, gov2019, gov2021, legacy2014
from reporting.formats.base import ALL_OUTCOMES, APPLICANT_COLUMNS
from requests_app.models import Complaint, FeeNotice, Lawsuit, Review
from tests.report_helpers import case_row, city_tree

D = dt.date
SH = ZoneInfo("Asia/Shanghai")


def report(year, code="city", **kwargs):
    return compute_report(ReportInputs.build(year=year, agency=code, **kwargs))


@pytest.fixture
def city(db):
    return city_tree()


# --- formats as data ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [gov2021.FORMAT, gov2019.FORMAT], ids=lambda f: f.code)
def test_each_outcome_is_counted_by_exactly_one_row_of_table3(fmt):
    for outcome in ALL_OUTCOMES:
        rows = [r.key for r in fmt.outcome_rows if outcome in r.outcomes]
        assert len(rows) == 1, (outcome, rows)


def test_legacy_reply_rows_partition_the_outcomes():
    reply_rows = [legacy2014.FORMAT.row(k) for k in legacy2014.REPLIED_PARTS]
    for outcome in ALL_OUTCOMES:
        assert sum(outcome in r.outcomes for r in reply_rows) == 1, outcome
    assert {
        "needs_creation",
        "duplicate",
        "excessive",
        "confirm_or_reissue",
        "abandoned_no_fee",
        "withdrawn",
        "other",
    } == legacy2014.OTHER_OUTCOMES


def test_gov2019_has_one_other_row_where_gov2021_has_three():
    keys19 = [r.key for r in gov2019.FORMAT.table3]
    keys21 = [r.key for r in gov2021.FORMAT.table3]
    assert keys21[keys21.index("other_no_supplement") : keys21.index("concluded_total")] == [
        "other_no_supplement",
        "other_no_fee",
        "other_other",
    ]
    assert keys19[keys19.index("not_processed_confirm") + 1] == "other"
    assert len(keys21) == 25 and len(keys19) == 23
    assert gov2019.FORMAT.row("other").outcomes == (
        gov2021.FORMAT.row("other_no_supplement").outcomes
        | gov2021.FORMAT.row("other_no_fee").outcomes
        | gov2021.FORMAT.row("other_other").outcomes
    )


@pytest.mark.parametrize(
    ("year", "code"),
    [
        (2008, "legacy2014"),
        (2018, "legacy2014"),
        (2019, "gov2019"),
        (2020, "gov2019"),
        (2021, "gov2021"),
        (2030, "gov2021"),
    ],
)
def test_format_in_force_by_year(year, code):
    assert format_for_year(year).code == code


# --- counting rules ----------------------------------------------------------------------


def test_received_in_december_replied_in_january_is_carried_over(city):
    office = city["office"]
    case_row(office, received_on=D(2021, 12, 28), concluded_on=D(2022, 1, 6), outcome="disclosed")
    r21 = report(2021)
    r22 = report(2022)
    t21, t22 = r21.cells["table3"], r22.cells["table3"]
    assert t21["new_received"]["natural_person"] == 1
    assert t21["concluded_total"]["total"] == 0
    assert t21["carried_out"]["natural_person"] == 1
    assert t22["new_received"]["total"] == 0
    assert t22["carried_in"]["natural_person"] == 1
    assert t22["disclosed"]["natural_person"] == 1
    assert t22["concluded_total"]["total"] == 1
    assert t22["carried_out"]["total"] == 0
    assert r21.failed_checks == [] and r22.failed_checks == []


def test_each_measure_on_a_mixed_year(city):
    office, street = city["office"], city["street"]
    case_row(office, received_on=D(2021, 5, 1), concluded_on=D(2021, 6, 1))  # before the year
    case_row(office, received_on=D(2021, 11, 1), concluded_on=D(2022, 2, 1), outcome="not_exist")
    case_row(street, received_on=D(2020, 11, 1))  # still open: carried in and out
    case_row(
        street,
        received_on=D(2022, 3, 1),
        concluded_on=D(2022, 3, 9),
        outcome="withheld_personal_privacy",
        applicant_type="legal_service_org",
    )
    case_row(office, received_on=D(2022, 12, 31), applicant_type="other_org")
    case_row(office, received_on=D(2023, 1, 3), concluded_on=D(2023, 1, 4))  # after the year
    t = report(2022).cells["table3"]
    assert t["new_received"] == {
        "natural_person": 0, "commercial_enterprise": 0, "research_institution": 0,
        "public_interest_org": 0, "legal_service_org": 1, "other_org": 1, "total": 2,
    }  # fmt: skip
    assert t["carried_in"]["natural_person"] == 2 and t["carried_in"]["total"] == 2
    assert t["unable_not_held"]["natural_person"] == 1
    assert t["withheld_third_party"]["legal_service_org"] == 1
    assert t["concluded_total"]["total"] == 2
    assert t["carried_out"]["natural_person"] == 1
    assert t["carried_out"]["other_org"] == 1
    assert t["carried_out"]["total"] == 2


def test_no_descendants_counts_the_agency_alone(city):
    case_row(city["city"], received_on=D(2022, 1, 5))
    case_row(city["district"], received_on=D(2022, 1, 5))
    case_row(city["street"], received_on=D(2022, 1, 5))
    assert report(2022, "city").cells["table3"]["new_received"]["total"] == 3
    assert (
        report(2022, "city", include_descendants=False).cells["table3"]["new_received"]["total"]
        == 1
    )
    assert report(2022, "xixiu").cells["table3"]["new_received"]["total"] == 2
    assert report(2022, "city-office").cells["table3"]["new_received"]["total"] == 0


def test_cutoff_before_a_conclusion_leaves_the_case_carried_out(city):
    case_row(city["office"], received_on=D(2022, 12, 1), concluded_on=D(2022, 12, 20))
    early = datetime_sh(2022, 12, 15, 12)
    t = report(2022, cutoff=early).cells["table3"]
    assert (t["concluded_total"]["total"], t["carried_out"]["total"]) == (0, 1)
    t = report(2022).cells["table3"]
    assert (t["concluded_total"]["total"], t["carried_out"]["total"]) == (1, 0)
    # A day is known when it is on or before the cutoff's local date.
    on_the_day = datetime_sh(2022, 12, 20, 0)
    assert report(2022, cutoff=on_the_day).cells["table3"]["concluded_total"]["total"] == 1


def datetime_sh(*parts):
    return dt.datetime(*parts, tzinfo=SH)


def test_reviews_and_lawsuits_take_the_result_known_at_the_cutoff(city):
    c = case_row(city["street"], received_on=D(2022, 2, 1), concluded_on=D(2022, 2, 20))
    Review.objects.create(case=c, filed_on=D(2022, 3, 1), decided_on=D(2022, 4, 1), result="upheld")
    Review.objects.create(
        case=c, filed_on=D(2022, 11, 1), decided_on=D(2023, 1, 10), result="corrected"
    )
    Review.objects.create(
        case=c, filed_on=D(2021, 11, 1), decided_on=D(2022, 1, 10), result="other"
    )
    Lawsuit.objects.create(case=c, filed_on=D(2022, 5, 1), after_review=False, result="pending")
    first = Lawsuit.objects.create(
        case=c, filed_on=D(2022, 6, 1), after_review=True, decided_on=D(2022, 9, 1),
        result="corrected",
    )  # fmt: skip
    Lawsuit.objects.create(case=c, filed_on=D(2022, 10, 1), after_review=True, appeal_of=first,
                           instance=2, result="upheld")  # fmt: skip
    t4 = report(2022).cells["table4"]
    assert t4["review"] == {"upheld": 1, "corrected": 0, "other": 0, "pending": 1, "total": 2}
    assert t4["litigation_direct"] == {
        "upheld": 0, "corrected": 0, "other": 0, "pending": 1, "total": 1}  # fmt: skip
    assert t4["litigation_after_review"] == {
        "upheld": 0, "corrected": 1, "other": 0, "pending": 0, "total": 1}  # fmt: skip
    later = report(2022, cutoff=datetime_sh(2023, 1, 31, 23, 59, 59)).cells["table4"]
    assert later["review"] == {"upheld": 1, "corrected": 1, "other": 0, "pending": 0, "total": 2}
    legacy = report(2022, format="legacy2014").cells
    assert (legacy["review_total"], legacy["review_upheld"], legacy["review_other"]) == (2, 1, 1)
    assert (legacy["litigation_total"], legacy["litigation_corrected"]) == (2, 1)
    assert legacy["litigation_other"] == 1


def test_legacy_complaints_fees_channels_and_extensions(city):
    street = city["street"]
    a = case_row(street, received_on=D(2018, 3, 1), concluded_on=D(2018, 4, 20),
                 channel="post_unsigned", is_extended=True)  # fmt: skip
    case_row(street, received_on=D(2018, 3, 2), concluded_on=D(2018, 3, 2), channel="oral",
             outcome="already_public")  # fmt: skip
    case_row(street, received_on=D(2018, 3, 3), channel="fax")
    case_row(street, received_on=D(2018, 3, 4), channel="email", concluded_on=D(2018, 3, 9),
             outcome="withheld_process_info")  # fmt: skip
    FeeNotice.objects.create(case=a, amount_yuan=Decimal("300.00"), issued_on=D(2018, 3, 10),
                             paid_on=D(2018, 3, 15))  # fmt: skip
    FeeNotice.objects.create(case=a, amount_yuan=Decimal("50.50"), issued_on=D(2018, 3, 10),
                             paid_on=D(2018, 3, 16))  # fmt: skip
    FeeNotice.objects.create(case=a, amount_yuan=Decimal("10"), issued_on=D(2018, 3, 10),
                             paid_on=D(2018, 3, 16), waived=True)  # fmt: skip
    FeeNotice.objects.create(case=a, amount_yuan=Decimal("70"), issued_on=D(2018, 12, 10))
    Complaint.objects.create(agency=street, filed_on=D(2018, 6, 1))
    Complaint.objects.create(agency=city["office"], filed_on=D(2017, 6, 1))
    cells = report(2018, format="legacy2014").cells
    expected = {
        "received_total": 4, "received_in_person": 1, "received_fax": 1, "received_online": 1,
        "received_post": 1, "concluded_total": 3, "concluded_on_time": 2,
        "concluded_extended": 1, "replied_total": 3, "replied_already_public": 1,
        "replied_disclosed": 1, "replied_withheld": 1, "withheld_not_government_info": 1,
        "complaints_total": 1, "fees_collected_yuan": "350.50",
    }  # fmt: skip
    for key, value in expected.items():
        assert cells[key] == value, key
    others = set(cells) - set(expected)
    assert {k: cells[k] for k in others} == dict.fromkeys(others, 0)


def test_a_case_concluded_without_receipt_fails_the_identity_and_says_why(city):
    case_row(city["office"], received_on=None, concluded_on=D(2022, 5, 1), outcome="disclosed")
    case_row(city["office"], received_on=D(2022, 5, 1), concluded_on=D(2022, 5, 2))
    # Withdrawn before receipt: never received (Art 31), so it is no hole and counts nowhere.
    case_row(city["office"], received_on=None, concluded_on=D(2022, 5, 3), outcome="withdrawn")
    result = report(2022)
    failed = result.failed_checks
    assert [c.name for c in failed] == ["一+二=三(七)+四"]
    assert "natural_person: 1+0 ≠ 2+0" in failed[0].detail
    assert "1 件已办结申请没有收到日期(R)" in failed[0].detail


@pytest.mark.parametrize("code", sorted(FORMATS))
def test_withdrawn_before_receipt_counts_nowhere(city, code):
    # Withdrawn from ``submitted`` (through the services): a conclusion date, no R.
    from requests_app.services.cases import case_withdraw

    submitted = case_row(city["office"], received_on=None)
    case_withdraw(
        case=submitted, actor=None,
        effective_at=dt.datetime(2022, 5, 3, 10, tzinfo=SH),
    )  # fmt: skip
    submitted.refresh_from_db()
    assert (submitted.received_on, submitted.concluded_on, submitted.outcome) == (
        None, D(2022, 5, 3), "withdrawn"
    )  # fmt: skip
    case_row(city["office"], received_on=D(2022, 5, 1), concluded_on=D(2022, 5, 2),
             outcome="withdrawn")  # fmt: skip
    result = report(2022, format=code)
    assert result.failed_checks == []
    cells = result.cells
    if code == "legacy2014":
        assert (cells["received_total"], cells["concluded_total"], cells["replied_total"],
                cells["replied_other"]) == (1, 1, 1, 1)  # fmt: skip
    else:
        table3 = cells["table3"]
        other = "other_other" if code == "gov2021" else "other"
        assert [table3[k]["total"] for k in ("new_received", "carried_in", other,
                "concluded_total", "carried_out")] == [1, 0, 1, 1, 0]  # fmt: skip
    inputs = ReportInputs.build(year=2022, agency="city", format=code)
    key = "concluded_total"
    assert list(cell_queryset(inputs, key).values_list("received_on", flat=True)) == [D(2022, 5, 1)]


def test_carry_check_compares_last_years_carried_out(city):
    case_row(city["office"], received_on=D(2021, 12, 1))
    result = report(2022)
    carry = next(c for c in result.checks if c.name == "二=上年(2021)四")
    assert carry.ok and result.cells["table3"]["carried_in"]["total"] == 1


def test_bad_inputs_are_refused(city):
    with pytest.raises(ReportInputError, match="unknown agency code"):
        ReportInputs.build(year=2022, agency="nope")
    with pytest.raises(ReportInputError, match="unknown report format"):
        ReportInputs.build(year=2022, agency="city", format="gov1999")
    with pytest.raises(ReportInputError, match="before 2022"):
        ReportInputs.build(year=2022, agency="city", cutoff=datetime_sh(2021, 12, 31, 23))
    with pytest.raises(ReportInputError, match="time zone"):
        ReportInputs.build(year=2022, agency="city", cutoff=dt.datetime(2022, 12, 31))


def test_a_report_takes_a_fixed_number_of_queries(city):
    for i in range(30):
        case_row(city["street"], received_on=D(2022, 1, 1) + dt.timedelta(days=i),
                 concluded_on=D(2022, 3, 1), outcome=sorted(ALL_OUTCOMES)[i % 27])  # fmt: skip
    for fmt in FORMATS:
        inputs = ReportInputs.build(year=2022, agency=city["city"], format=fmt)
        with CaptureQueriesContext(connection) as ctx:
            compute_report(inputs)
        # cases (with last year's carried-out), reviews, lawsuits, complaints, fees
        assert len(ctx.captured_queries) == 5, fmt


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_cell_equals_the_count_of_its_queryset(city, fmt):
    outcomes = sorted(ALL_OUTCOMES)
    for i in range(60):
        c = case_row(
            [city["office"], city["street"], city["district"]][i % 3],
            received_on=D(2021, 10, 1) + dt.timedelta(days=5 * i),
            concluded_on=(D(2021, 10, 3) + dt.timedelta(days=6 * i)) if i % 4 else None,
            outcome=outcomes[i % 27],
            applicant_type=APPLICANT_COLUMNS[i % 6],
            channel=["online", "post", "in_person", "fax", "email", "oral", "post_unsigned"][i % 7],
            is_extended=bool(i % 5 == 0),
        )
        if i % 7 == 0:
            Review.objects.create(case=c, filed_on=D(2022, 1, 1) + dt.timedelta(days=i),
                                  result=["upheld", "corrected", "other", "pending"][i % 4],
                                  decided_on=D(2022, 2, 1) + dt.timedelta(days=5 * i))  # fmt: skip
        if i % 9 == 0:
            Lawsuit.objects.create(case=c, filed_on=D(2022, 1, 1) + dt.timedelta(days=i),
                                   after_review=bool(i % 2), result="upheld")  # fmt: skip
            Complaint.objects.create(agency=c.agency, case=c, filed_on=D(2022, 4, 1))
            FeeNotice.objects.create(case=c, amount_yuan=Decimal("100"), issued_on=D(2022, 4, 1),
                                     paid_on=D(2022, 4, 2))  # fmt: skip
    inputs = ReportInputs.build(year=2022, agency="city", format=fmt)
    result = compute_report(inputs)
    assert result.failed_checks == []
    if fmt == "legacy2014":
        for key, value in result.cells.items():
            qs = cell_queryset(inputs, key)
            if key == "fees_collected_yuan":
                assert sum(f.amount_yuan for f in qs) == Decimal(value)
            else:
                assert qs.count() == value, key
        assert result.cells["received_total"] == 41  # R = 2021-10-01 + 5i, i = 19..59
    else:
        for key, row in result.cells["table3"].items():
            for col, value in row.items():
                assert cell_queryset(inputs, key, col).count() == value, (key, col)
        for key, row in result.cells["table4"].items():
            for col, value in row.items():
                assert cell_queryset(inputs, key, col).count() == value, (key, col)
        assert result.cells["table3"]["new_received"]["total"] == 41
