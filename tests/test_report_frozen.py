"""Frozen reports, the year-end run, the exporters and the annual_report command."""

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from reporting.engine import ReportInputs, compute_report
from reporting.exporters import document_from_result, export
from reporting.models import AnnualReport
from reporting.services import (
    ReportLocked,
    report_publish,
    report_regenerate,
    report_update_text,
    reports_mark_stale_for_case,
)
from reporting.tasks import generate_year_end_reports, subordinate_report_status
from requests_app.choices import Role
from requests_app.models import Caseworker, Notification
from tests.report_helpers import agency, case_row

D = dt.date


@pytest.fixture
def city(db):
    from django.contrib.auth import get_user_model

    city = agency("city", kind="government", name="安顺市人民政府")
    dept = agency("city-finance", city, name="安顺市财政局")
    user = get_user_model().objects.create_user("head", password="x")
    Caseworker.objects.create(user=user, agency=dept, role=Role.APPROVER)
    other = get_user_model().objects.create_user("clerk", password="x")
    Caseworker.objects.create(user=other, agency=dept, role=Role.REGISTRAR)
    return {"city": city, "dept": dept, "head": user}


def test_publish_locks_and_a_later_change_flags_stale(city):
    case = case_row(city["dept"], received_on=D(2022, 3, 1), concluded_on=D(2022, 3, 9))
    call = {"agency": city["city"], "year": 2022}
    from reporting.services import report_generate

    report = report_generate(**call)
    assert report.cells["table3"]["disclosed"]["total"] == 1
    report_update_text(report=report, overview="总体情况……", fees_collected_yuan="0")
    report_publish(report=report)
    with pytest.raises(ReportLocked):
        report_update_text(report=report, overview="改")
    with pytest.raises(ReportLocked):
        report_generate(**call)
    # The case changes after publication (e.g. a new outcome): the report is flagged.
    case.outcome = "not_exist"
    case.save(update_fields=["outcome"])
    assert reports_mark_stale_for_case(case, reason="更正办理结果") == [report.pk]
    report.refresh_from_db()
    assert report.is_stale and report.stale_reasons[0]["reason"] == "更正办理结果"
    # Regenerating a published report only compares, cell by cell.
    changes = report_regenerate(report=report)
    assert [(c.cell, c.stored, c.current) for c in changes] == [
        ("table3.disclosed.natural_person", 1, 0),
        ("table3.disclosed.total", 1, 0),
        ("table3.unable_not_held.natural_person", 0, 1),
        ("table3.unable_not_held.total", 0, 1),
    ]
    report.refresh_from_db()
    assert report.cells["table3"]["disclosed"]["total"] == 1  # unchanged: locked
    # A case in another year or outside the scope flags nothing.
    other = case_row(city["dept"], received_on=D(2023, 3, 1))
    assert reports_mark_stale_for_case(other) == []


def test_year_end_run_generates_every_agency_and_notifies_once(city):
    case_row(city["dept"], received_on=D(2022, 3, 1), concluded_on=D(2022, 3, 9))
    assert generate_year_end_reports(2022) == {"created": 2, "existing": 0, "failed": 0}
    assert generate_year_end_reports(2022) == {"created": 0, "existing": 2, "failed": 0}
    notes = Notification.objects.filter(kind="annual_report_generated")
    assert [(n.recipient.username, n.channel) for n in notes] == [("head", "inbox")]
    assert "2023年01月31日" in notes[0].body
    rows = subordinate_report_status(city["city"], 2022, today=D(2023, 2, 15))
    assert [(r["agency"], r["status"], r["deadline"], r["is_overdue"]) for r in rows] == [
        ("city", "generated", D(2023, 3, 31), False),
        ("city-finance", "generated", D(2023, 1, 31), True),
    ]
    assert AnnualReport.objects.get(agency=city["city"]).format == "gov2021"


def test_exports_carry_the_same_numbers(city):
    case_row(city["dept"], received_on=D(2022, 3, 1), concluded_on=D(2022, 3, 9),
             applicant_type="commercial_enterprise")  # fmt: skip
    result = compute_report(ReportInputs.build(year=2022, agency="city"))
    doc = document_from_result(result)
    data = json.loads(export(doc, "json"))
    assert set(data) == {"format", "year", "agency", "include_descendants", "cutoff", "cells"}
    lines = export(doc, "csv").decode("utf-8-sig").splitlines()
    assert lines[0] == "table,row,label,column,column_label,value"
    assert "table3,disclosed,三(一) 予以公开,commercial_enterprise,商业企业,1" in lines
    wb = load_workbook(io.BytesIO(export(doc, "xlsx")))
    ws = wb.active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    header_row = next(i for i, r in enumerate(values) if "申请人情况" in r)
    assert values[header_row + 1][3:5] == ["自然人", "法人或其他组织"]
    disclosed = next(r for r in values if r[1] == "（一）予以公开")
    assert disclosed[3:10] == [0, 1, 0, 0, 0, 0, 1]
    assert any(str(m) == "D{0}:J{0}".format(header_row + 1) for m in ws.merged_cells.ranges)
    html = export(doc, "html").decode()
    assert '<th colspan="7">申请人情况</th>' in html
    assert '<th rowspan="8">（三）不予公开</th>' in html


def test_command_outputs_and_bad_input(city, tmp_path):
    case_row(city["dept"], received_on=D(2018, 3, 1), concluded_on=D(2018, 3, 9),
             channel="fax")  # fmt: skip
    out = io.StringIO()
    call_command("annual_report", "--year", "2018", "--agency", "city", stdout=out)
    data = json.loads(out.getvalue())
    assert data["format"] == "legacy2014"
    assert (data["cells"]["received_fax"], data["cells"]["replied_disclosed"]) == (1, 1)
    target = tmp_path / "r.xlsx"
    call_command("annual_report", "--year", "2022", "--agency", "city", "--output", "xlsx",
                 "--out", str(target), "--format", "gov2019", stderr=io.StringIO())  # fmt: skip
    assert target.read_bytes()[:2] == b"PK"
    out = io.StringIO()
    call_command("annual_report", "--year", "2018", "--agency", "city", "--cutoff",
                 "2018-03-05T00:00:00+08:00", stdout=out)  # fmt: skip
    assert json.loads(out.getvalue())["cells"]["concluded_total"] == 0
    with pytest.raises(CommandError, match="unknown agency code"):
        call_command("annual_report", "--year", "2018", "--agency", "nope")
    with pytest.raises(CommandError, match="time zone|UTC offset"):
        call_command("annual_report", "--year", "2018", "--agency", "city", "--cutoff",
                     "2018-12-31T23:59:59")  # fmt: skip
    with pytest.raises(CommandError, match="not an ISO datetime"):
        call_command("annual_report", "--year", "2018", "--agency", "city", "--cutoff", "x")
