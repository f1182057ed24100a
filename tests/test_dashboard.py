"""统计看板: the figures against a hand count over the demo data, the drill-down lists exactly the
cases counted, the page draws offline, and each user sees only the agencies they may."""

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from reporting.dashboard import (
    METRICS,
    build_dashboard,
    median,
    metric_cases,
    mix_groups,
    percentile,
    today,
)
from requests_app.calendars import calendar_for_agency
from requests_app.models import Agency, Case

ON_TIME = {"on_time", "extended"}


def months(year, on):
    for m in range(1, 13):
        start = dt.date(year, m, 1)
        end = (dt.date(year + (m == 12), m % 12 + 1, 1)) - dt.timedelta(days=1)
        if start <= on:
            yield m, start, end, min(end, on)


def hand_count(cases, year, on):
    """The module docstring of reporting.dashboard, counted case by case in Python."""
    out = {m: {k: 0 for k in METRICS} | {"days": []} for m in range(1, 13)}
    for c in cases:
        r, concluded = c.received_on, c.concluded_on
        never = c.outcome == "withdrawn" and (r is None or concluded is not None and concluded < r)
        if never:
            continue
        for m, start, end, known in months(year, on):
            row = out[m]
            if r is not None and start <= r <= end:
                row["received"] += 1
            done = concluded is not None and start <= concluded <= known
            if done:
                row["concluded"] += 1
                if c.timeliness in ON_TIME:
                    row["on_time"] += 1
                if c.timeliness:
                    begin = c.restarted_on or r
                    cal = calendar_for_agency(c.agency)
                    row["days"].append(cal.count_working_days(begin, concluded))
            is_open = r is not None and r <= end and (concluded is None or concluded > known)
            if is_open:
                row["open"] += 1
                if c.reply_due_on is not None and c.reply_due_on < known:
                    row["overdue"] += 1
    return out


def plain_median(values):
    values = sorted(values)
    if not values:
        return None
    n = len(values)
    return (values[(n - 1) // 2] + values[n // 2]) / 2


@pytest.mark.slow
def test_dashboard_matches_a_hand_count_of_the_demo(db):
    call_command("load_demo", stdout=StringIO(), stderr=StringIO())
    on = today()
    city = Agency.objects.get(code="anshun")
    finance = Agency.objects.get(code="anshun-finance")
    checked = 0
    for agency, descendants in ((city, True), (city, False), (finance, False)):
        scope = Case.objects.filter(agency__path__startswith=agency.path)
        if not descendants:
            scope = Case.objects.filter(agency=agency)
        cases = list(scope.select_related("agency"))
        for year in (on.year - 1, on.year):
            board = build_dashboard(agency, year=year, include_descendants=descendants, on=on)
            expected = hand_count(cases, year, on)
            for m, row in enumerate(board.months, start=1):
                want = expected[m]
                for metric in METRICS:
                    assert getattr(row, metric) == want[metric], (agency.code, year, m, metric)
                    drill = metric_cases(
                        agency,
                        include_descendants=descendants,
                        year=year,
                        metric=metric,
                        month=m,
                        on=on,
                    )
                    assert drill.count() == want[metric]
                    checked += want[metric]
                assert row.median_days == plain_median(want["days"])
                denominator = want["concluded"] + want["overdue"]
                assert row.on_time_rate == (
                    round(want["on_time"] / denominator, 4) if denominator else None
                )
            # The outcome mix adds up to the year's concluded cases, group by group.
            concluded = sum(expected[m]["concluded"] for m in expected)
            assert sum(g["count"] for g in board.outcome_mix) == concluded
            for group in board.outcome_mix:
                drill = metric_cases(
                    agency,
                    include_descendants=descendants,
                    year=year,
                    metric="concluded",
                    group=group["key"],
                    on=on,
                )
                assert drill.count() == group["count"]
    # The demo has cases in every figure: the comparison above compared real numbers.
    assert checked > 100
    # The year's received cases are the annual report's 一 for the same scope.
    from reporting.engine import ReportInputs, compute_report

    result = compute_report(ReportInputs.build(year=on.year - 1, agency="anshun", format="gov2021"))
    board = build_dashboard(city, year=on.year - 1, on=on)
    assert board.totals.received == result.cells["table3"]["new_received"]["total"]
    assert board.totals.concluded == result.cells["table3"]["concluded_total"]["total"]


@pytest.mark.slow
def test_dashboard_per_handler_adds_up(db):
    call_command("load_demo", stdout=StringIO(), stderr=StringIO())
    on = today()
    city = Agency.objects.get(code="anshun")
    board = build_dashboard(city, year=on.year, per_handler=True, on=on)
    assert board.handlers
    for h in board.handlers:
        for metric in ("concluded", "on_time", "open", "overdue"):
            drill = metric_cases(
                city,
                include_descendants=True,
                year=on.year,
                metric=metric,
                handler_id=h.handler_id,
                on=on,
            )
            assert drill.count() == getattr(h, metric)
    with_handler = Case.objects.filter(handler__isnull=False, agency__path__startswith=city.path)
    concluded_by_handlers = sum(h.concluded for h in board.handlers)
    assert (
        concluded_by_handlers
        == metric_cases(city, include_descendants=True, year=on.year, metric="concluded", on=on)
        .filter(pk__in=with_handler)
        .count()
    )


def test_dashboard_month_edges_match_a_hand_count(office):
    """The boundaries of the grouped pass: a reply falling overdue on a month's first day, a
    due date on ``today`` and on the year's last day, a case carried in, one received after
    the year but concluded in it (a conclusion dated before its receipt), one never received,
    the year's first and last days — against the hand count, the drill-down and the mix."""
    from tests.report_helpers import case_row

    D = dt.date
    rows = [
        # received, concluded, due, timeliness, outcome
        (D(2020, 12, 20), D(2021, 1, 5), D(2021, 1, 17), "on_time", "disclosed"),
        (D(2020, 11, 2), None, D(2020, 12, 31), "", ""),
        (D(2021, 1, 1), D(2021, 12, 31), D(2021, 1, 31), "late", "not_exist"),
        (D(2021, 1, 31), None, D(2021, 1, 31), "", ""),
        (D(2021, 3, 1), None, D(2021, 2, 28), "", ""),
        (D(2021, 6, 10), None, D(2021, 6, 14), "", ""),
        (D(2021, 6, 11), None, D(2021, 6, 15), "", ""),
        (D(2021, 7, 1), D(2021, 6, 20), D(2021, 7, 29), "extended", "partially_disclosed"),
        (D(2021, 12, 3), None, D(2021, 12, 30), "", ""),
        (D(2021, 12, 3), None, D(2021, 12, 31), "", ""),
        (D(2022, 1, 3), D(2021, 12, 20), D(2022, 1, 31), "on_time", "duplicate"),
        (D(2021, 5, 4), D(2021, 5, 2), None, "", "withdrawn"),
        (D(2021, 4, 6), D(2022, 1, 4), D(2021, 5, 4), "late", "disclosed"),
        (D(2019, 4, 6), D(2020, 1, 4), D(2019, 5, 4), "on_time", "disclosed"),
    ]
    for received, concluded, due, timeliness, outcome in rows:
        case = case_row(office, received_on=received, concluded_on=concluded, outcome=outcome)
        Case.objects.filter(pk=case.pk).update(reply_due_on=due, timeliness=timeliness)
    cases = list(Case.objects.filter(agency=office).select_related("agency"))
    for on in (D(2021, 6, 15), D(2021, 12, 31), D(2022, 6, 30)):
        board = build_dashboard(office, year=2021, include_descendants=False, on=on)
        expected = hand_count(cases, 2021, on)
        for m, row in enumerate(board.months, start=1):
            for metric in METRICS:
                assert getattr(row, metric) == expected[m][metric], (on, m, metric)
                if D(2021, m, 1) > on:
                    continue  # a month not begun shows nothing (its cases lie in the future)
                drill = metric_cases(
                    office, include_descendants=False, year=2021, metric=metric, month=m, on=on
                )
                assert drill.count() == expected[m][metric], (on, m, metric)
        for group in board.outcome_mix:
            drill = metric_cases(
                office,
                include_descendants=False,
                year=2021,
                metric="concluded",
                group=group["key"],
                on=on,
            )
            assert drill.count() == group["count"], (on, group["key"])
    # The figures above were not all zero: every kind of figure was met.
    assert board.totals.received and board.totals.concluded and board.totals.open
    assert any(row.overdue for row in board.months)
    # The year's conclusions by table 三's groups: disclosed (1-5), partially (6-20, before
    # its receipt), not held (12-31), a duplicate (12-20, received in 2022); the withdrawal
    # dated before its receipt was never received, and counts nowhere.
    assert {g["key"]: g["count"] for g in board.outcome_mix if g["count"]} == {
        "disclosed": 1,
        "partially_disclosed": 1,
        "unable_not_held": 1,
        "not_processed_petition": 1,
    }


def test_median_and_percentile():
    assert median({}) is None
    assert median({5: 1}) == 5
    assert median({1: 1, 3: 1}) == 2
    assert median({1: 2, 10: 1}) == 1
    assert percentile({1: 9, 100: 1}, 0.9) == 1
    assert percentile({1: 8, 100: 2}, 0.9) == 100
    assert percentile({}, 0.9) is None


def test_mix_groups_cover_every_concluding_outcome():
    from requests_app.choices import Outcome

    covered = set().union(*(outs for _k, _l, outs in mix_groups()))
    assert covered == set(Outcome.values)
    labels = [label for _k, label, _o in mix_groups()]
    assert labels[0].startswith("（一）") and labels[-1].startswith("（六）")


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_dashboard_page_draws_offline_with_links(approver, office):
    page = login(approver).get(reverse("admin:reporting_dashboard"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "reporting/vendor/echarts-6.1.0.min.js" in html
    assert 'id="dashboard-data"' in html
    assert not re.search(r'src="https?://', html)
    assert "<script>" not in html  # no inline script: data travel as a JSON block
    # The approver leads the office: the per-handler figures are offered.
    assert page.context["form"].cleaned_data["agency"] == office


def test_handler_sees_own_agency_only_and_no_handler_figures(handler, office, tree):
    client = login(handler)
    page = client.get(reverse("admin:reporting_dashboard"))
    assert page.status_code == 200
    agencies = list(page.context["form"].fields["agency"].queryset)
    assert agencies == [office]
    other = Agency.objects.exclude(pk=office.pk).first()
    refused = client.get(reverse("admin:reporting_dashboard"), {"agency": other.pk, "year": 2026})
    assert refused.context["form"].errors["agency"]
    cases = client.get(
        reverse("admin:reporting_dashboard_cases"),
        {"agency": office.pk, "year": 2026, "metric": "open", "handler": handler.pk},
    )
    assert cases.status_code == 403


def test_drill_down_rejects_unknown_figures(approver, office):
    client = login(approver)
    url = reverse("admin:reporting_dashboard_cases")
    assert client.get(url, {"agency": office.pk, "year": 2026, "metric": "nope"}).status_code == 404
    assert (
        client.get(
            url, {"agency": office.pk, "year": 2026, "metric": "open", "month": 13}
        ).status_code
        == 404
    )
    ok = client.get(url, {"agency": office.pk, "year": 2026, "metric": "open", "month": 3})
    assert ok.status_code == 200
