"""An audit of the report's counting rules against the law, rule by rule.

Each test pins one rule as docs/law.md and docs/reporting.md state it (the formats transcribed
from the official tables; the engine's measures on histories built through the services or
written as columns), so that a change that drifts from the law fails here even when the report
still balances.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.engine import ReportInputs, cell_queryset, compute_report
from reporting.formats import gov2019, gov2021, legacy2014
from reporting.formats.base import APPLICANT_COLUMNS, TABLE3_COLUMNS, Measure
from requests_app.choices import Channel, Outcome
from requests_app.models import Agency, Complaint, FeeNotice, Lawsuit, Review
from requests_app.services import cases as svc
from requests_app.services.intake import case_intake, case_submit
from requests_app.services.proceedings import review_decide, review_file
from tests.clock_calendars import load_official
from tests.factories import application_fields, record_search
from tests.report_helpers import case_row, city_tree

D = dt.date
SH = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC


def report(year, code="city", **kwargs):
    return compute_report(ReportInputs.build(year=year, agency=code, **kwargs))


def t3(year, code="city", **kwargs):
    return report(year, code, format="gov2021", **kwargs).cells["table3"]


def totals(table, *keys):
    return [table[k]["total"] for k in keys]


HEAD = ("new_received", "carried_in", "concluded_total", "carried_out")


# --- the formats, transcribed from the official tables (docs/reporting.md, 'Formats') ---------

# §5.1: row key → the outcomes it counts (None: a head or total row), in the table's order.
GOV2021_ROWS = {
    "new_received": None,
    "carried_in": None,
    "disclosed": {"already_public", "disclosed"},
    "partially_disclosed": {"partially_disclosed"},
    "withheld_state_secret": {"withheld_state_secret"},
    "withheld_prohibited_by_law": {"withheld_prohibited_by_law"},
    "withheld_security_stability": {"withheld_security_stability"},
    "withheld_third_party": {
        "withheld_commercial_secret",
        "withheld_personal_privacy",
        "withheld_third_party_other",
    },
    "withheld_internal_affairs": {"withheld_internal_affairs"},
    "withheld_process_info": {"withheld_process_info"},
    "withheld_law_enforcement_file": {"withheld_law_enforcement_file"},
    "withheld_administrative_query": {"withheld_administrative_query"},
    "unable_not_held": {"not_exist", "not_this_agency"},
    "unable_needs_creation": {"needs_creation"},
    "unable_unclear": {"unclear_after_supplement"},
    "not_processed_petition": {"petition_complaint"},
    "not_processed_duplicate": {"duplicate"},
    "not_processed_publication": {"publication"},
    "not_processed_excessive": {"excessive"},
    "not_processed_confirm": {"confirm_or_reissue"},
    "other_no_supplement": {"abandoned_no_supplement"},
    "other_no_fee": {"abandoned_no_fee"},
    "other_other": {"withdrawn", "other", "withheld_not_government_info"},
    "concluded_total": None,
    "carried_out": None,
}
MEASURES = {
    "new_received": Measure.NEW,
    "carried_in": Measure.CARRIED_IN,
    "carried_out": Measure.CARRIED_OUT,
}


def test_gov2021_rows_are_domain_tables_rows():
    fmt = gov2021.FORMAT
    assert [r.key for r in fmt.table3] == list(GOV2021_ROWS)
    for row in fmt.table3:
        expected = GOV2021_ROWS[row.key]
        assert row.outcomes == (None if expected is None else frozenset(expected)), row.key
        assert row.measure == MEASURES.get(row.key, Measure.CONCLUDED), row.key
        assert row.channels is None and row.extended is None, row.key
    assert fmt.columns == (
        "natural_person", "commercial_enterprise", "research_institution",
        "public_interest_org", "legal_service_org", "other_org", "total",
    )  # fmt: skip
    assert [(b.key, b.measure, b.after_review) for b in fmt.table4] == [
        ("review", Measure.REVIEW, None),
        ("litigation_direct", Measure.LITIGATION, False),
        ("litigation_after_review", Measure.LITIGATION, True),
    ]
    assert fmt.table4_columns == ("upheld", "corrected", "other", "pending", "total")


def test_gov2019_has_one_other_row_with_all_three_and_is_otherwise_gov2021():
    keys = list(GOV2021_ROWS)
    i = keys.index("other_no_supplement")
    expected = {k: v for k, v in GOV2021_ROWS.items() if not k.startswith("other_")}
    fmt = gov2019.FORMAT
    got = [r.key for r in fmt.table3]
    assert got == [*keys[:i], "other", *keys[i + 3 :]]
    for row in fmt.table3:
        if row.key == "other":
            assert row.outcomes == frozenset(
                {"abandoned_no_supplement", "abandoned_no_fee", "withdrawn", "other",
                 "withheld_not_government_info"}
            )  # fmt: skip
        else:
            want = expected[row.key]
            assert row.outcomes == (None if want is None else frozenset(want)), row.key
    assert fmt.table4 == gov2021.FORMAT.table4


# §5.2: key → (measure, outcomes, channels, extended, results).
N, C, RV, LT = Measure.NEW, Measure.CONCLUDED, Measure.REVIEW, Measure.LITIGATION


def _rule(measure, outcomes=None, channels=None, extended=None, results=None):
    return (measure, outcomes, channels, extended, results)


WITHHELD_LEGACY = {
    "withheld_state_secret": {"withheld_state_secret"},
    "withheld_commercial_secret": {"withheld_commercial_secret"},
    "withheld_personal_privacy": {"withheld_personal_privacy"},
    "withheld_security_stability": {"withheld_security_stability"},
    "withheld_not_government_info": {
        "withheld_not_government_info",
        "withheld_internal_affairs",
        "withheld_process_info",
    },
    "withheld_other_legal": {
        "withheld_prohibited_by_law",
        "withheld_third_party_other",
        "withheld_law_enforcement_file",
    },
}
LEGACY_ROWS = {
    "received_total": _rule(N),
    "received_in_person": _rule(N, channels={"in_person", "oral"}),
    "received_fax": _rule(N, channels={"fax"}),
    "received_online": _rule(N, channels={"online", "email"}),
    "received_post": _rule(N, channels={"post", "post_unsigned"}),
    "concluded_total": _rule(C),
    "concluded_on_time": _rule(C, extended=False),
    "concluded_extended": _rule(C, extended=True),
    "replied_total": _rule(C),
    "replied_already_public": _rule(C, {"already_public"}),
    "replied_disclosed": _rule(C, {"disclosed"}),
    "replied_partially_disclosed": _rule(C, {"partially_disclosed"}),
    "replied_withheld": _rule(C, set().union(*WITHHELD_LEGACY.values())),
    **{key: _rule(C, codes) for key, codes in WITHHELD_LEGACY.items()},
    "replied_not_this_agency": _rule(C, {"not_this_agency"}),
    "replied_not_exist": _rule(C, {"not_exist"}),
    "replied_supplement_notice": _rule(C, {"abandoned_no_supplement", "unclear_after_supplement"}),
    "replied_other_channel": _rule(
        C, {"petition_complaint", "publication", "withheld_administrative_query"}
    ),
    "replied_other": _rule(
        C,
        {"needs_creation", "duplicate", "excessive", "confirm_or_reissue", "abandoned_no_fee"}
        | {"withdrawn", "other"},
    ),
    "review_total": _rule(RV),
    "review_upheld": _rule(RV, results={"upheld"}),
    "review_corrected": _rule(RV, results={"corrected"}),
    "review_other": _rule(RV, results={"other", "pending"}),
    "litigation_total": _rule(LT),
    "litigation_upheld": _rule(LT, results={"upheld"}),
    "litigation_corrected": _rule(LT, results={"corrected"}),
    "litigation_other": _rule(LT, results={"other", "pending"}),
    "complaints_total": _rule(Measure.COMPLAINTS),
    "fees_collected_yuan": _rule(Measure.FEES),
}


def _frozen(value):
    return None if value is None else frozenset(value)


def test_legacy2014_rows_are_domain_tables_rows():
    fmt = legacy2014.FORMAT
    assert [r.key for r in fmt.rows] == list(LEGACY_ROWS)
    for row in fmt.rows:
        measure, outcomes, channels, extended, results = LEGACY_ROWS[row.key]
        assert (row.measure, row.outcomes, row.channels, row.extended, row.results) == (
            measure, _frozen(outcomes), _frozen(channels), extended, _frozen(results),
        ), row.key  # fmt: skip
        assert row.after_review is None, row.key  # 五、行政诉讼 counts direct and after review


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def city(db):
    return city_tree()


@pytest.fixture
def calendars(db):
    load_official(2024, 2025)


# --- 一/二/三/四 by applicant column -------------------------------------------------------------


@pytest.mark.parametrize("column", APPLICANT_COLUMNS)
def test_each_applicant_type_lands_in_its_own_column_in_every_measure(city, column):
    office = city["office"]
    neighbour = APPLICANT_COLUMNS[(APPLICANT_COLUMNS.index(column) + 1) % len(APPLICANT_COLUMNS)]
    kw = {"applicant_type": column}
    case_row(office, received_on=D(2021, 11, 2), **kw)  # 二 and 四
    case_row(office, received_on=D(2021, 12, 1), concluded_on=D(2022, 1, 5),
             outcome="needs_creation", **kw)  # 二 and 三(四)2  # fmt: skip
    case_row(office, received_on=D(2022, 3, 1), concluded_on=D(2022, 3, 9),
             outcome="withheld_commercial_secret", **kw)  # 一 and 三(三)4  # fmt: skip
    case_row(office, received_on=D(2022, 12, 30), **kw)  # 一 and 四
    case_row(office, received_on=D(2022, 5, 5), concluded_on=D(2022, 5, 6),
             outcome="confirm_or_reissue", applicant_type=neighbour)  # 一 and 三(五)5  # fmt: skip
    table = t3(2022)
    expected = {
        "new_received": (2, 1), "carried_in": (2, 0), "unable_needs_creation": (1, 0),
        "withheld_third_party": (1, 0), "not_processed_confirm": (0, 1),
        "concluded_total": (2, 1), "carried_out": (2, 0),
    }  # fmt: skip
    for key, (mine, theirs) in expected.items():
        want = dict.fromkeys(TABLE3_COLUMNS, 0)
        want.update({column: mine, neighbour: theirs, "total": mine + theirs})
        assert table[key] == want, key
    assert list(table["new_received"]) == list(TABLE3_COLUMNS)


# --- R and the conclusion at the year boundary (Asia/Shanghai) ---------------------------------


def _counter_case(office, moment):
    case, _ = case_intake(
        actor=None, agency=office, channel=Channel.IN_PERSON, fields=application_fields(),
        effective_at=moment,
    )  # fmt: skip
    return case


def test_receipt_on_31_december_and_on_1_january_by_local_date(calendars, city):
    office = city["office"]
    # 23:30 and 00:30 in Shanghai, given in UTC: the local date decides the year.
    late = _counter_case(office, dt.datetime(2024, 12, 31, 15, 30, tzinfo=UTC))
    early = _counter_case(office, dt.datetime(2024, 12, 31, 16, 30, tzinfo=UTC))
    assert (late.received_on, early.received_on) == (D(2024, 12, 31), D(2025, 1, 1))
    assert totals(t3(2024), *HEAD) == [1, 0, 0, 1]
    assert totals(t3(2025), *HEAD) == [1, 1, 0, 2]
    legacy = report(2024, format="legacy2014").cells
    assert (legacy["received_total"], legacy["received_in_person"]) == (1, 1)


def test_a_conclusion_at_0030_on_1_january_belongs_to_the_new_year(calendars, city):
    office = city["office"]
    case = _counter_case(office, dt.datetime(2024, 12, 30, 2, tzinfo=UTC))
    case = svc.case_withdraw(
        case=case, actor=None, effective_at=dt.datetime(2024, 12, 31, 16, 30, tzinfo=UTC)
    )
    assert case.concluded_on == D(2025, 1, 1)
    assert totals(t3(2024), *HEAD) == [1, 0, 0, 1]
    table = t3(2025)
    assert totals(table, *HEAD, "other_other") == [0, 1, 1, 0, 1]


def test_an_online_application_confirmed_the_next_day_is_new_in_the_next_year(calendars, city):
    office = city["office"]
    case, _ = case_submit(
        agency=office, fields=application_fields(),
        submitted_at=dt.datetime(2024, 12, 31, 21, tzinfo=SH),
    )  # fmt: skip
    # Unconfirmed at the year's end: no R, so not received in 2024 and not carried over.
    assert totals(t3(2024), *HEAD) == [0, 0, 0, 0]
    svc.case_confirm_receipt(
        case=case, actor=None, effective_at=dt.datetime(2025, 1, 2, 9, tzinfo=SH)
    )
    case.refresh_from_db()
    assert case.received_on == D(2025, 1, 2)
    assert totals(t3(2024), *HEAD) == [0, 0, 0, 0]
    assert totals(t3(2025), *HEAD) == [1, 0, 0, 1]
    assert report(2025, format="legacy2014").cells["received_online"] == 1


def test_automatic_confirmation_dates_r_by_the_local_submission_day(calendars, city):
    office = city["office"]
    office.auto_confirm_receipt = True
    office.save()

    def submit(moment):
        return case_submit(agency=office, fields=application_fields(), submitted_at=moment)[0]

    on_the_31st = submit(dt.datetime(2024, 12, 31, 15, 50, tzinfo=UTC))  # 23:50 local
    on_new_year = submit(dt.datetime(2024, 12, 31, 16, 30, tzinfo=UTC))  # 00:30 on 1 January
    assert on_the_31st.received_on == D(2024, 12, 31)
    assert on_new_year.received_on == D(2025, 1, 2)  # 1 January is a holiday: next working day
    assert totals(t3(2024), *HEAD) == [1, 0, 0, 1]
    assert totals(t3(2025), *HEAD) == [1, 1, 0, 2]


@pytest.mark.parametrize("code", ["legacy2014", "gov2019", "gov2021"])
def test_withdrawn_before_an_automatic_r_was_never_received(db, city, code):
    # Automatic confirmation dates R on the next working day when an application arrives on
    # a day off (the **Decision** in docs/law.md, 'The day of receipt R (Art 31)'). 31 Dec 2018
    # and 1 Jan 2019 were holidays: R is 2 January. Withdrawn the same evening, the application
    # was never received (Art 31).
    load_official(2018, 2019)
    office = city["office"]
    office.auto_confirm_receipt = True
    office.save()

    def submit_and_withdraw(submitted, withdrawn):
        case, _ = case_submit(agency=office, fields=application_fields(), submitted_at=submitted)
        return svc.case_withdraw(case=case, actor=None, effective_at=withdrawn)

    crossing = submit_and_withdraw(dt.datetime(2018, 12, 31, 20, tzinfo=SH),
                                   dt.datetime(2018, 12, 31, 22, tzinfo=SH))  # fmt: skip
    within = submit_and_withdraw(dt.datetime(2019, 1, 5, 20, tzinfo=SH),  # a Saturday
                                 dt.datetime(2019, 1, 6, 9, tzinfo=SH))  # fmt: skip
    assert (crossing.received_on, crossing.concluded_on) == (D(2019, 1, 2), D(2018, 12, 31))
    assert (within.received_on, within.concluded_on) == (D(2019, 1, 7), D(2019, 1, 6))
    case_row(office, received_on=D(2019, 1, 8), concluded_on=D(2019, 1, 9), outcome="withdrawn")
    for year in (2018, 2019):
        result = report(year, format=code)
        assert result.failed_checks == [], (year, result.failed_checks)
        counted = 1 if year == 2019 else 0  # only the withdrawal after R
        if code == "legacy2014":
            cells = result.cells
            assert [cells[k] for k in ("received_total", "received_online", "concluded_total",
                    "replied_other")] == [counted] * 4  # fmt: skip
        else:
            assert totals(result.cells["table3"], *HEAD) == [counted, 0, counted, 0]
        inputs = ReportInputs.build(year=year, agency="city", format=code)
        first = "received_total" if code == "legacy2014" else "new_received"
        for key in (first, "concluded_total"):
            assert cell_queryset(inputs, key).count() == counted, (year, key)


def test_the_stale_check_counts_one_case_by_the_engines_own_filters(db, city):
    """The stale flag asks ``case_measures`` which of 一 二 三 四 one case's values fall in (it
    runs ``measure_q`` over the values as constants, so it can judge a case as it was before a
    change); on every combination — never-received withdrawals, carried cases, a cutoff before
    the year's end — it must agree with ``measure_q`` filtering the stored rows."""
    from reporting.engine import CASE_MEASURES, Period, case_measures, default_cutoff, measure_q
    from requests_app.models import Case

    office = city["office"]
    days = (None, D(2018, 12, 31), D(2019, 1, 6), D(2019, 1, 7), D(2019, 1, 8), D(2019, 6, 30),
            D(2019, 7, 1), D(2019, 12, 31), D(2020, 1, 2))  # fmt: skip
    combos = []
    for outcome in ("withdrawn", "disclosed", ""):
        for received in days:
            for concluded in days:
                row = case_row(
                    office, received_on=received, concluded_on=concluded, outcome=outcome
                )
                combos.append((row.pk, {"received_on": received, "concluded_on": concluded,
                                        "outcome": outcome}))  # fmt: skip
    zone = ZoneInfo("Asia/Shanghai")
    for period in (
        Period(2019, default_cutoff(2019)),
        Period(2019, dt.datetime(2019, 6, 30, 12, tzinfo=zone)),
    ):
        inside = {
            measure: set(
                Case.objects.filter(measure_q(measure, period)).values_list("pk", flat=True)
            )
            for measure in CASE_MEASURES
        }
        for pk, values in combos:
            expected = {measure for measure in CASE_MEASURES if pk in inside[measure]}
            assert case_measures(values, period) == expected, (period.cutoff, values)


# --- 补正, abandonment and reopening across the year end ----------------------------------------


def _online_case(office, day: str):
    moment = dt.datetime.fromisoformat(f"{day}T10:00:00+08:00")
    case, _ = case_submit(agency=office, fields=application_fields(), submitted_at=moment)
    case = svc.case_confirm_receipt(case=case, actor=None, effective_at=moment)
    return svc.case_start_processing(case=case, actor=None, effective_at=moment)


def _at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+08:00")


def _reply(case, day: str, outcome: str):
    if outcome in svc.SEARCH_OUTCOMES:  # a reply of "not held" rests on a recorded search
        case = record_search(case, None, on=D.fromisoformat(day), effective_at=_at(day, 8))
    case = svc.case_submit_for_approval(
        case=case, actor=None, outcome=outcome, effective_at=_at(day, 9)
    )
    case = svc.case_approve(case=case, actor=None, effective_at=_at(day, 10))
    return svc.case_serve_reply(
        case=case, actor=None, served_on=D.fromisoformat(day), effective_at=_at(day, 11)
    )


def test_a_supplement_received_in_january_leaves_the_case_new_in_the_year_of_r(calendars, city):
    case = _online_case(city["office"], "2024-12-16")
    case = svc.case_request_supplement(
        case=case, actor=None, items="请提供文件名称", effective_at=_at("2024-12-18")
    )
    case = svc.case_receive_supplement(case=case, actor=None, effective_at=_at("2025-01-06"))
    case = _reply(case, "2025-01-20", Outcome.DISCLOSED)
    assert (case.received_on, case.restarted_on) == (D(2024, 12, 16), D(2025, 1, 6))
    # 一 counts R, not R′ (Art 30 restarts the clock, not the application).
    assert totals(t3(2024), *HEAD) == [1, 0, 0, 1]
    assert totals(t3(2025), *HEAD, "disclosed") == [0, 1, 1, 0, 1]


@pytest.mark.parametrize(
    ("outcome", "gov2021_row", "legacy_row"),
    [
        (Outcome.ABANDONED_NO_SUPPLEMENT, "other_no_supplement", "replied_supplement_notice"),
        (Outcome.ABANDONED_NO_FEE, "other_no_fee", "replied_other"),
    ],
)
def test_an_abandoned_case_is_concluded_on_its_closing_day(
    calendars, city, outcome, gov2021_row, legacy_row
):
    case = _online_case(city["office"], "2024-12-02")
    if outcome == Outcome.ABANDONED_NO_SUPPLEMENT:
        case = svc.case_request_supplement(
            case=case, actor=None, items="请提供文件名称", effective_at=_at("2024-12-04")
        )
        close = svc.case_abandon_no_supplement
    else:
        case = svc.case_issue_fee_notice(
            case=case, actor=None, amount_yuan="200.00", effective_at=_at("2024-12-04")
        )
        close = svc.case_abandon_no_fee
    case = close(case=case, actor=None, on=D(2025, 1, 8), effective_at=_at("2025-01-08"))
    assert (case.outcome, case.concluded_on) == (outcome, D(2025, 1, 8))
    assert totals(t3(2024), *HEAD) == [1, 0, 0, 1]
    table = t3(2025)
    assert totals(table, *HEAD, gov2021_row) == [0, 1, 1, 0, 1]
    assert report(2025, format="gov2019").cells["table3"]["other"]["total"] == 1
    legacy = report(2025, format="legacy2014").cells
    assert (legacy["concluded_total"], legacy[legacy_row]) == (1, 1)
    # An unpaid fee is no fee collected.
    assert report(2025, format="legacy2014").cells["fees_collected_yuan"] == "0.00"


def test_a_case_reopened_in_the_next_year_is_counted_once_there(calendars, city):
    case = _online_case(city["office"], "2024-03-04")
    case = _reply(case, "2024-03-20", Outcome.NOT_EXIST)
    review = review_file(case=case, actor=None, filed_on=D(2024, 4, 10))
    review = review_decide(review=review, actor=None, decided_on=D(2025, 6, 10), decision="revoked")
    case.refresh_from_db()
    assert (review.result, case.state, case.concluded_on) == ("corrected", "processing", None)
    case = _reply(case, "2025-07-01", Outcome.DISCLOSED)
    r24, r25 = report(2024, format="gov2021"), report(2025, format="gov2021")
    a, b = r24.cells["table3"], r25.cells["table3"]
    # Once in 2025: carried in, concluded with its final outcome, the earlier one gone.
    assert totals(b, *HEAD, "disclosed", "unable_not_held") == [0, 1, 1, 0, 1, 0]
    # 二 of 2025 is 四 of 2024, column by column; both years balance.
    assert a["carried_out"] == b["carried_in"]
    assert r24.failed_checks == [] and r25.failed_checks == []
    # The review counts in the year it was filed, with the result known at that cutoff.
    assert r24.cells["table4"]["review"]["pending"] == 1
    assert r25.cells["table4"]["review"]["total"] == 0


# --- scope: the agency alone or with its descendants, for every measure -------------------------


@pytest.fixture
def spread(city):
    """The same small history at the city itself and at a street two levels down."""
    for place in (city["city"], city["street"]):
        old = case_row(place, received_on=D(2021, 12, 1), concluded_on=D(2022, 1, 5),
                       outcome="publication")  # fmt: skip
        case_row(place, received_on=D(2021, 12, 2))
        new = case_row(place, received_on=D(2022, 2, 1), concluded_on=D(2022, 2, 9),
                       outcome="excessive", applicant_type="public_interest_org")  # fmt: skip
        case_row(place, received_on=D(2022, 12, 31), applicant_type="research_institution")
        Review.objects.create(case=old, filed_on=D(2022, 2, 1), decided_on=D(2022, 3, 1),
                              result="upheld")  # fmt: skip
        Lawsuit.objects.create(case=new, filed_on=D(2022, 3, 1), after_review=False,
                               decided_on=D(2022, 6, 1), result="other")  # fmt: skip
        # Both received by the city's office: each counts for the agency complained about.
        Complaint.objects.create(
            agency=place, received_by=city["office"], case=new, filed_on=D(2022, 4, 1)
        )
        FeeNotice.objects.create(case=new, amount_yuan=Decimal("110.00"),
                                 issued_on=D(2022, 2, 3), paid_on=D(2022, 2, 5))  # fmt: skip
    return city


@pytest.mark.parametrize(("descendants", "times"), [(False, 1), (True, 2)])
def test_every_measure_follows_the_scope(spread, descendants, times):
    result = report(2022, format="gov2021", include_descendants=descendants)
    table, t4 = result.cells["table3"], result.cells["table4"]
    assert totals(table, *HEAD) == [2 * times, 2 * times, 2 * times, 2 * times]
    assert table["not_processed_publication"]["natural_person"] == times
    assert table["not_processed_excessive"]["public_interest_org"] == times
    assert table["carried_out"]["research_institution"] == times
    assert t4["review"]["upheld"] == times
    assert t4["litigation_direct"]["other"] == times
    assert t4["litigation_after_review"]["total"] == 0
    assert result.extras["fees_collected_yuan"] == f"{110 * times}.00"
    assert result.extras["complaints_total"] == times
    assert result.failed_checks == []
    legacy = report(2022, format="legacy2014", include_descendants=descendants).cells
    assert (legacy["review_total"], legacy["litigation_other"], legacy["complaints_total"]) == (
        times, times, times,
    )  # fmt: skip
    # A middle agency with descendants counts its subtree once; alone, nothing of it.
    assert totals(t3(2022, "xixiu", include_descendants=descendants), *HEAD) == (
        [2, 2, 2, 2] if descendants else [0, 0, 0, 0]
    )


def test_a_suit_with_the_review_body_as_co_defendant_counts_once_for_the_agency(city):
    case = case_row(city["street"], received_on=D(2025, 2, 3), concluded_on=D(2025, 2, 20),
                    outcome="withheld_process_info")  # fmt: skip
    review = Review.objects.create(case=case, filed_on=D(2025, 3, 1), decided_on=D(2025, 4, 1),
                                   result="upheld")  # fmt: skip
    first = Lawsuit.objects.create(
        case=case, filed_on=D(2025, 4, 10), after_review=True, review=review,
        review_body_co_defendant=True, decided_on=D(2025, 8, 1), result="upheld",
    )  # fmt: skip
    Lawsuit.objects.create(case=case, filed_on=D(2025, 9, 1), after_review=True, review=review,
                           review_body_co_defendant=True, instance=2, appeal_of=first)  # fmt: skip
    for code in ("city", "xixiu", "xixiu-nanhua"):
        t4 = report(2025, code, format="gov2021").cells["table4"]
        assert t4["litigation_after_review"] == {
            "upheld": 1, "corrected": 0, "other": 0, "pending": 0, "total": 1,
        }, code  # fmt: skip
        assert t4["litigation_direct"]["total"] == 0
    alone = report(2025, "city", format="gov2021", include_descendants=False)
    assert alone.cells["table4"]["litigation_after_review"]["total"] == 0


# --- carry-over across years and the cutoff ----------------------------------------------------


def test_each_years_carried_in_is_last_years_carried_out_computed_separately(city):
    office, street = city["office"], city["street"]
    types = APPLICANT_COLUMNS
    for i in range(36):
        received = D(2022, 10, 1) + dt.timedelta(days=23 * i)
        duration = (None, 3, 40, 95, 200, 400)[i % 6]
        case_row(
            (office, street)[i % 2],
            received_on=received,
            concluded_on=None if duration is None else received + dt.timedelta(days=duration),
            outcome=("disclosed", "withdrawn", "duplicate", "abandoned_no_fee")[i % 4],
            applicant_type=types[i % len(types)],
        )
    for year in (2022, 2023, 2024):
        this = report(year, format="gov2021")
        # A cutoff after the year's end changes nothing in table 三 (known_until ≤ 31 Dec).
        late = report(year, format="gov2021", cutoff=dt.datetime(year + 1, 2, 1, tzinfo=SH))
        following = report(year + 1, format="gov2021")
        assert this.cells["table3"] == late.cells["table3"]
        assert this.cells["table3"]["carried_out"] == following.cells["table3"]["carried_in"]
        assert this.failed_checks == [] and following.failed_checks == []


@pytest.mark.parametrize(
    ("cutoff", "concluded", "carried_out"),
    [
        (dt.datetime(2024, 12, 31, 15, 59, 59, tzinfo=UTC), 2, 0),  # 23:59:59 local, 31 Dec
        (dt.datetime(2024, 12, 31, 16, 0, tzinfo=UTC), 2, 0),  # local midnight: same day range
        (dt.datetime(2024, 12, 31, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))), 2, 0),
        (dt.datetime(2024, 12, 30, 15, 59, tzinfo=UTC), 1, 1),  # 23:59 on 30 Dec local
        (dt.datetime(2024, 12, 30, 16, 0, tzinfo=UTC), 2, 0),  # 00:00 on 31 Dec local
    ],
)
def test_the_cutoff_is_read_in_local_time(city, cutoff, concluded, carried_out):
    office = city["office"]
    case_row(office, received_on=D(2024, 12, 2), concluded_on=D(2024, 12, 20))
    case_row(office, received_on=D(2024, 12, 2), concluded_on=D(2024, 12, 31))
    case_row(office, received_on=D(2024, 12, 2), concluded_on=D(2025, 1, 1))
    table = t3(2024, cutoff=cutoff)
    assert totals(table, "concluded_total", "carried_out") == [concluded, carried_out + 1]


def test_fees_are_counted_on_the_day_paid_within_the_year_and_cutoff(city):
    case = case_row(city["office"], received_on=D(2024, 12, 2), concluded_on=D(2025, 1, 20))
    for paid in (D(2024, 12, 10), D(2024, 12, 31), D(2025, 1, 2)):
        FeeNotice.objects.create(case=case, amount_yuan=Decimal("100"), issued_on=D(2024, 12, 5),
                                 paid_on=paid)  # fmt: skip
    late = dt.datetime(2025, 1, 31, tzinfo=SH)
    assert report(2024, format="legacy2014", cutoff=late).cells["fees_collected_yuan"] == "200.00"
    early = dt.datetime(2024, 12, 20, tzinfo=SH)
    assert report(2024, format="legacy2014", cutoff=early).cells["fees_collected_yuan"] == (
        "100.00"
    )
    assert report(2025, format="gov2021").extras["fees_collected_yuan"] == "100.00"
    inputs = ReportInputs.build(year=2024, agency="city", format="legacy2014", cutoff=late)
    assert cell_queryset(inputs, "fees_collected_yuan").count() == 2


def test_imported_histories_are_dated_by_the_local_day(city):
    from requests_app.importers import FastReplayer
    from requests_app.models import Case

    def line(external_id, events):
        return {
            "external_id": external_id, "agency": "city/city-office",
            "applicant": {"type": "legal_service_org", "name": "某律师事务所"},
            "channel": "email", "description": "申请公开", "events": events,
        }  # fmt: skip

    lines = [
        # Received at 00:30 on 1 January in Shanghai, written in UTC.
        line("A", [{"type": "received", "at": "2018-12-31T16:30:00Z"}]),
        # Received on 31 December, replied at 00:10 on 1 January in Shanghai.
        line("B", [{"type": "received", "at": "2018-12-31T09:00:00+08:00"},
                   {"type": "replied", "at": "2018-12-31T16:10:00+00:00",
                    "outcome": "not_this_agency"}]),
    ]  # fmt: skip
    FastReplayer().run(enumerate(lines, start=1))
    got = dict(Case.objects.values_list("external_id", "received_on"))
    assert got == {"A": D(2019, 1, 1), "B": D(2018, 12, 31)}
    assert Case.objects.get(external_id="B").concluded_on == D(2019, 1, 1)
    legacy = report(2018, format="legacy2014").cells
    assert (legacy["received_total"], legacy["received_online"], legacy["concluded_total"]) == (
        1, 1, 0,
    )  # fmt: skip
    table = report(2019, format="gov2019").cells["table3"]
    assert table["new_received"]["legal_service_org"] == 1
    assert table["carried_in"]["legal_service_org"] == 1
    assert table["unable_not_held"]["legal_service_org"] == 1


# --- an oracle: the counting rules written out plainly, against the engine -------------------

ORIGIN = D(2021, 9, 1)
OUTCOMES = sorted(set().union(*(v for v in GOV2021_ROWS.values() if v)))
case_st = st.fixed_dictionaries(
    {
        "place": st.integers(0, 2),
        "received": st.one_of(st.none(), st.integers(0, 600)),  # None: never received
        # None: still open; below 0: withdrawn before an R fixed ahead (automatic confirmation)
        "duration": st.one_of(st.none(), st.integers(-3, 150)),
        "outcome": st.sampled_from(OUTCOMES),
        "type": st.sampled_from(APPLICANT_COLUMNS),
        "channel": st.sampled_from(Channel.values),
        "extended": st.booleans(),
        "review": st.one_of(st.none(), st.tuples(st.integers(0, 600), st.integers(0, 120),
                                                 st.sampled_from(["upheld", "corrected", "other",
                                                                  "pending"]))),
        "suit": st.one_of(st.none(), st.tuples(st.integers(0, 600), st.integers(0, 200),
                                               st.sampled_from(["upheld", "corrected", "other",
                                                                "pending"]), st.booleans())),
        "fee": st.one_of(st.none(), st.tuples(st.integers(0, 600), st.booleans())),
        "complaint": st.one_of(st.none(), st.integers(0, 600)),
    }
)  # fmt: skip


def _day(offset):
    return ORIGIN + dt.timedelta(days=offset)


def _write(places, spec):
    if spec["received"] is None:
        # Only a withdrawal concludes an application that was never received (Art 31).
        received, concluded, outcome = None, None, ""
        if spec["duration"] is not None:
            concluded, outcome = _day(spec["duration"]), "withdrawn"
    else:
        received = _day(spec["received"])
        concluded = None if spec["duration"] is None else received + dt.timedelta(spec["duration"])
        outcome = spec["outcome"] if concluded else ""
        if concluded and concluded < received:
            outcome = "withdrawn"  # nothing else concludes a case before its R
    case = case_row(
        places[spec["place"]], received_on=received, concluded_on=concluded, outcome=outcome,
        applicant_type=spec["type"], channel=spec["channel"], is_extended=spec["extended"],
    )  # fmt: skip
    rec = {"place": spec["place"], "R": received, "concluded": concluded, "outcome": outcome,
           "type": spec["type"], "channel": spec["channel"], "extended": spec["extended"]}  # fmt: skip
    if spec["review"]:
        filed, wait, result = spec["review"]
        decided = None if result == "pending" else _day(filed + wait)
        Review.objects.create(case=case, filed_on=_day(filed), decided_on=decided, result=result)
        rec["review"] = (_day(filed), decided, result)
    if spec["suit"]:
        filed, wait, result, after = spec["suit"]
        decided = None if result == "pending" else _day(filed + wait)
        Lawsuit.objects.create(case=case, filed_on=_day(filed), decided_on=decided,
                               result=result, after_review=after)  # fmt: skip
        rec["suit"] = (_day(filed), decided, result, after)
    if spec["fee"]:
        paid, waived = spec["fee"]
        FeeNotice.objects.create(case=case, amount_yuan=Decimal("30.00"), issued_on=_day(paid),
                                 paid_on=_day(paid), waived=waived)  # fmt: skip
        rec["fee"] = (_day(paid), waived)
    if spec["complaint"] is not None:
        Complaint.objects.create(agency=case.agency, filed_on=_day(spec["complaint"]))
        rec["complaint"] = _day(spec["complaint"])
    return rec


def _oracle(records, year, cutoff_day, in_scope):
    """Every cell of gov2021, gov2019 and legacy2014, by the counting rules read literally."""
    start, end = D(year, 1, 1), D(year, 12, 31)
    known = min(cutoff_day, end)
    cols = (*APPLICANT_COLUMNS, "total")
    t3 = {key: dict.fromkeys(cols, 0) for key in GOV2021_ROWS}
    t4 = {b: dict.fromkeys(("upheld", "corrected", "other", "pending", "total"), 0)
          for b in ("review", "litigation_direct", "litigation_after_review")}  # fmt: skip
    flat = dict.fromkeys(LEGACY_ROWS, 0)
    fees = Decimal("0")

    def add(key, rec):
        t3[key][rec["type"]] += 1
        t3[key]["total"] += 1

    def known_result(decided, result):
        return "pending" if decided is None or decided > cutoff_day else result

    for rec in records:
        if not in_scope(rec["place"]):
            continue
        r, c = rec["R"], rec["concluded"]
        # Withdrawn before receipt: never received (Art 31), in no case measure.
        never_received = rec["outcome"] == "withdrawn" and (r is None or c < r)
        if r is not None and not never_received:
            if start <= r <= end:
                add("new_received", rec)
                flat["received_total"] += 1
                for key in ("received_in_person", "received_fax", "received_online",
                            "received_post"):  # fmt: skip
                    flat[key] += rec["channel"] in LEGACY_ROWS[key][2]
            if r < start and (c is None or c >= start):
                add("carried_in", rec)
            if r <= end and (c is None or c > known):
                add("carried_out", rec)
            if c is not None and start <= c <= known:
                add("concluded_total", rec)
                for key, outcomes in GOV2021_ROWS.items():
                    if outcomes and rec["outcome"] in outcomes:
                        add(key, rec)
                for key, (measure, outcomes, _, extended, _) in LEGACY_ROWS.items():
                    if measure != Measure.CONCLUDED:
                        continue
                    if outcomes is not None and rec["outcome"] not in outcomes:
                        continue
                    if extended is not None and rec["extended"] != extended:
                        continue
                    flat[key] += 1
        if "review" in rec and start <= rec["review"][0] <= end:
            result = known_result(*rec["review"][1:])
            t4["review"][result] += 1
            t4["review"]["total"] += 1
            flat["review_total"] += 1
            flat[{"upheld": "review_upheld", "corrected": "review_corrected"}.get(
                result, "review_other")] += 1  # fmt: skip
        if "suit" in rec and start <= rec["suit"][0] <= end:
            filed, decided, result, after = rec["suit"]
            result = known_result(decided, result)
            block = "litigation_after_review" if after else "litigation_direct"
            t4[block][result] += 1
            t4[block]["total"] += 1
            flat["litigation_total"] += 1
            flat[{"upheld": "litigation_upheld", "corrected": "litigation_corrected"}.get(
                result, "litigation_other")] += 1  # fmt: skip
        if "fee" in rec and start <= rec["fee"][0] <= known and not rec["fee"][1]:
            fees += Decimal("30.00")
        if "complaint" in rec and start <= rec["complaint"] <= end:
            flat["complaints_total"] += 1
    flat["fees_collected_yuan"] = f"{fees:.2f}"
    t3_2019 = {k: v for k, v in t3.items() if not k.startswith("other_")}
    t3_2019["other"] = {
        col: sum(t3[k][col] for k in ("other_no_supplement", "other_no_fee", "other_other"))
        for col in cols
    }
    return {
        "gov2021": {"table3": t3, "table4": t4},
        "gov2019": {"table3": t3_2019, "table4": t4},
        "legacy2014": flat,
    }


@settings(
    max_examples=20, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
@given(
    specs=st.lists(case_st, max_size=20),
    cutoff=st.integers(-200, 60),  # days after 31 Dec 2022; never before the year
)
def test_the_engine_agrees_with_domain_rules_read_literally(db, specs, cutoff):
    with transaction.atomic():
        root = Agency.objects.create(code="root", name="市政府", kind="government")
        dept = Agency.objects.create(code="dept", name="部门", parent=root)
        street = Agency.objects.create(code="street", name="街道", parent=dept, kind="street")
        places = [root, dept, street]
        records = [_write(places, spec) for spec in specs]
        cutoff_day = max(D(2022, 12, 31) + dt.timedelta(days=cutoff), D(2022, 1, 1))
        moment = dt.datetime.combine(cutoff_day, dt.time(12), tzinfo=SH)
        scopes = {
            ("root", True): lambda p: True,
            ("dept", False): lambda p: p == 1,
            ("dept", True): lambda p: p >= 1,
        }
        for year in (2022, 2023):
            if moment.date() < D(year, 1, 1):
                continue
            for (code, descendants), in_scope in scopes.items():
                expected = _oracle(records, year, moment.date(), in_scope)
                for fmt in ("gov2021", "gov2019", "legacy2014"):
                    result = compute_report(ReportInputs.build(
                        year=year, agency=code, format=fmt, include_descendants=descendants,
                        cutoff=moment,
                    ))  # fmt: skip
                    assert result.cells == expected[fmt], (year, code, descendants, fmt)
        transaction.set_rollback(True)
