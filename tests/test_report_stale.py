"""A change to a case after the report counting it was published flags the report stale and
records a ``changed_after_publication`` event on the case (requests_app sends
``case_changed``; reporting, connected in its ``ready()``, flags and calls back a
requests_app service)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from reporting.models import AnnualReport
from reporting.services import report_generate, report_publish
from requests_app.importers import FastReplayer
from requests_app.models import Case, CaseEvent
from requests_app.services import cases as services
from requests_app.signals import case_changed
from tests.report_helpers import agency

SH = ZoneInfo("Asia/Shanghai")


def at(day: str, hour: int = 10) -> str:
    return f"{day}T{hour:02d}:00:00+08:00"


def moment(y, m, d, hour=10):
    return dt.datetime(y, m, d, hour, tzinfo=SH)


def history(external_id, events):
    return {
        "external_id": external_id, "agency": "city/dept",
        "applicant": {"type": "natural_person", "name": "张三"},
        "channel": "online", "description": "申请公开", "events": events,
    }  # fmt: skip


@pytest.fixture
def published(db):
    city = agency("city", kind="government")
    agency("dept", city)
    agency("elsewhere", kind="government")
    FastReplayer().run(
        enumerate(
            [
                history(
                    "DONE",
                    [
                        {"type": "received", "at": at("2022-03-01")},
                        {"type": "replied", "at": at("2022-03-09"), "outcome": "disclosed"},
                    ],
                ),
                history("OPEN", [{"type": "received", "at": at("2022-12-20")}]),
            ],  # fmt: skip
            start=1,
        )
    )
    city_report = report_publish(report=report_generate(agency=city, year=2022))
    elsewhere = report_publish(report=report_generate(agency=agency_get("elsewhere"), year=2022))
    return {"city": city_report, "elsewhere": elsewhere}


def agency_get(code):
    from requests_app.models import Agency

    return Agency.objects.get(code=code)


def changed_events(external_id):
    return list(
        CaseEvent.objects.filter(
            case__external_id=external_id, kind="changed_after_publication"
        ).values_list("data", "reason")
    )


def test_reopening_a_case_concluded_in_a_published_year_flags_the_report(published):
    case = Case.objects.get(external_id="DONE")
    case = services.case_close(case=case, actor=None, effective_at=moment(2023, 1, 5))
    # 归档 keeps the outcome and the conclusion date: the 2022 numbers do not move.
    report = AnnualReport.objects.get(pk=published["city"].pk)
    assert (report.is_stale, changed_events("DONE")) == (False, [])
    services.case_reopen(case=case, actor=None, reason="复议决定责令重新答复",
                         effective_at=moment(2023, 2, 1))  # fmt: skip
    report.refresh_from_db()
    assert report.is_stale is True
    assert [r["reason"] for r in report.stale_reasons] == ["重新办理"]
    reopen = CaseEvent.objects.get(case=case, kind="reopen")
    assert changed_events("DONE") == [
        ({"report_ids": [report.pk], "cause_event_id": reopen.pk, "cause": "reopen"},
         "已发布的年度报告受影响（1 份）"),
    ]  # fmt: skip
    # The other government's report does not count the case.
    assert AnnualReport.objects.get(pk=published["elsewhere"].pk).is_stale is False


def test_a_carried_over_case_replied_after_the_cutoff_leaves_the_report_alone(published):
    case = Case.objects.get(external_id="OPEN")
    services.case_withdraw(case=case, actor=None, effective_at=moment(2023, 1, 10))
    report = AnnualReport.objects.get(pk=published["city"].pk)
    assert (report.is_stale, report.stale_reasons, changed_events("OPEN")) == (False, [], [])


def test_a_backdated_conclusion_inside_the_published_year_flags_it(published):
    case = Case.objects.get(external_id="OPEN")
    services.case_withdraw(case=case, actor=None, effective_at=moment(2022, 12, 28))
    report = AnnualReport.objects.get(pk=published["city"].pk)
    assert report.is_stale is True
    assert [(d["report_ids"], d["cause"]) for d, _ in changed_events("OPEN")] == [
        ([report.pk], "withdraw")
    ]


def test_the_receiver_is_connected_once_and_returns_the_flagged_ids(published):
    from reporting.services import case_changed_mark_stale

    receivers = [r for r, _ in case_changed.send(
        sender=Case, case=Case.objects.get(external_id="OPEN"),
        event=CaseEvent.objects.filter(case__external_id="OPEN").last(), before=None,
    )]  # fmt: skip
    assert receivers.count(case_changed_mark_stale) == 1
