"""Property tests of the report engine over random histories (hypothesis)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting.engine import ReportInputs, cell_queryset, compute_report
from reporting.formats import FORMATS
from reporting.formats.base import ALL_OUTCOMES, APPLICANT_COLUMNS
from requests_app.choices import Channel
from requests_app.models import Agency
from tests.report_helpers import case_row

SH = ZoneInfo("Asia/Shanghai")
START = dt.date(2019, 1, 1)

case_strategy = st.fixed_dictionaries(
    {
        "agency": st.integers(0, 2),
        "received": st.integers(0, 3 * 365),  # days after 2019-01-01
        "duration": st.one_of(st.none(), st.integers(0, 200)),  # None: still open
        "outcome": st.sampled_from(sorted(ALL_OUTCOMES)),
        "applicant_type": st.sampled_from(APPLICANT_COLUMNS),
        "channel": st.sampled_from(Channel.values),
        "is_extended": st.booleans(),
    }
)
PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def agencies(db):
    root = Agency.objects.create(code="root", name="市政府", kind="government")
    dept = Agency.objects.create(code="dept", name="部门", parent=root)
    street = Agency.objects.create(code="street", name="街道", parent=dept, kind="street")
    return [root, dept, street]


def write_cases(agencies, cases):
    rows = []
    for c in cases:
        received = START + dt.timedelta(days=c["received"])
        concluded = None if c["duration"] is None else received + dt.timedelta(days=c["duration"])
        rows.append(
            case_row(
                agencies[c["agency"]],
                received_on=received,
                concluded_on=concluded,
                outcome=c["outcome"],
                applicant_type=c["applicant_type"],
                channel=c["channel"],
                is_extended=c["is_extended"],
            )
        )
    return rows


@PROPERTY_SETTINGS
@given(cases=st.lists(case_strategy, max_size=25))
def test_identities_hold_in_every_format_and_year(agencies, cases):
    with transaction.atomic():
        write_cases(agencies, cases)
        for year in (2019, 2020, 2021, 2022):
            for code in FORMATS:
                for agency, descendants in ((agencies[0], True), (agencies[1], False)):
                    result = compute_report(
                        ReportInputs.build(
                            year=year, agency=agency, format=code, include_descendants=descendants
                        )
                    )
                    assert result.failed_checks == [], (year, code, result.failed_checks)
                    base = result.extras["cases"]
                    for col in (*APPLICANT_COLUMNS, "total"):
                        assert (
                            base["new"][col] + base["carried_in"][col]
                            == base["concluded"][col] + base["carried_out"][col]
                        )
        transaction.set_rollback(True)


@PROPERTY_SETTINGS
@given(cases=st.lists(case_strategy, min_size=1, max_size=15))
def test_each_concluded_case_counts_in_exactly_one_outcome_row(agencies, cases):
    with transaction.atomic():
        rows = write_cases(agencies, cases)
        for code in ("gov2019", "gov2021"):
            inputs = ReportInputs.build(year=2020, agency=agencies[0], format=code)
            fmt = inputs.format
            members = {
                r.key: set(cell_queryset(inputs, r.key).values_list("pk", flat=True))
                for r in fmt.outcome_rows
            }
            concluded = set(cell_queryset(inputs, "concluded_total").values_list("pk", flat=True))
            for case in rows:
                hits = [key for key, pks in members.items() if case.pk in pks]
                assert len(hits) == (1 if case.pk in concluded else 0), (case.outcome, hits)
        transaction.set_rollback(True)


@PROPERTY_SETTINGS
@given(
    cases=st.lists(case_strategy, max_size=20),
    first=st.integers(0, 420),
    second=st.integers(0, 420),
)
def test_moving_the_cutoff_moves_cases_between_concluded_and_carried_out_only(
    agencies, cases, first, second
):
    early, late = sorted((first, second))
    with transaction.atomic():
        write_cases(agencies, cases)
        for code in ("gov2019", "gov2021"):
            results = []
            for days in (early, late):
                cutoff = dt.datetime(2020, 1, 1, 12, tzinfo=SH) + dt.timedelta(days=days)
                results.append(
                    compute_report(
                        ReportInputs.build(
                            year=2020, agency=agencies[0], format=code, cutoff=cutoff
                        )
                    ).cells["table3"]
                )
            a, b = results
            for col in (*APPLICANT_COLUMNS, "total"):
                assert a["new_received"][col] == b["new_received"][col]
                assert a["carried_in"][col] == b["carried_in"][col]
                moved = b["concluded_total"][col] - a["concluded_total"][col]
                assert moved >= 0
                assert a["carried_out"][col] - b["carried_out"][col] == moved
                for row in FORMATS[code].outcome_rows:
                    assert b[row.key][col] >= a[row.key][col]
        transaction.set_rollback(True)
