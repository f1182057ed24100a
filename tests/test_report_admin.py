"""年度报告 in the admin, through Django's test client logged in as each role: the list's
scope, the report page (tables with links to the cases behind each number, checks, text),
who may edit, review, publish and regenerate, the lock after publication, the cell-by-cell
differences, the drill-down, the exports, the supervising office's status page and the
台账 template download."""

import io
import json
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reporting.models import AnnualReport
from reporting.services import report_generate
from requests_app.choices import CaseState, Role
from tests.factories import case_in_state, caseworker

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.report_fixtures"]  # the small_history fixture

CHANGELIST = "/admin/reporting/annualreport/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def page(report, suffix=""):
    return f"{CHANGELIST}{report.pk}/{suffix or 'change/'}"


def cell_url(report, key, column):
    return reverse("admin:reporting_annualreport_cell", args=[report.pk, key, column])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def users(tree):
    return {
        "approver": caseworker(tree["office"], Role.APPROVER, username="o-approver"),
        "handler": caseworker(tree["office"], Role.HANDLER, username="o-handler"),
        "registrar": caseworker(tree["office"], Role.REGISTRAR, username="o-registrar"),
        "supervisor": caseworker(tree["city"], Role.SUPERVISOR, username="c-supervisor"),
        "administrator": caseworker(tree["city"], Role.ADMINISTRATOR, username="c-admin"),
        "outsider": caseworker(tree["other"], Role.APPROVER, username="x-approver"),
    }


@pytest.fixture
def reports(tree, small_history):
    year = small_history["year"]
    return {
        "office": report_generate(agency=tree["office"], year=year, include_descendants=False),
        "city": report_generate(agency=tree["city"], year=year),
        "other": report_generate(agency=tree["other"], year=year),
    }


def listed_reports(client, user) -> set[int]:
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    return {
        int(pk)
        for pk in re.findall(
            r'href="/admin/reporting/annualreport/(\d+)/change/', response.content.decode()
        )
    }


def test_the_list_shows_what_each_role_may_see(client, users, reports):
    office, city, other = reports["office"].pk, reports["city"].pk, reports["other"].pk
    assert listed_reports(client, users["approver"]) == {office}
    assert listed_reports(client, users["registrar"]) == {office}
    assert listed_reports(client, users["supervisor"]) == {office, city}
    assert listed_reports(client, users["administrator"]) == {office, city}
    assert listed_reports(client, users["outsider"]) == {other}
    # Another agency's report page is a 404, and so are its cells and exports.
    client.force_login(users["approver"])
    for url in (
        page(reports["city"]),
        cell_url(reports["city"], "disclosed", "total"),
        page(reports["city"], "export/json/"),
    ):
        assert client.get(url).status_code == 404


def test_the_report_page_lays_out_the_tables_with_links(client, users, reports):
    report = reports["office"]
    client.force_login(users["approver"])
    response = client.get(page(report))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<th colspan="7">申请人情况</th>' in html
    assert f'<a href="{cell_url(report, "disclosed", "total")}">3</a>' in html
    assert f'<a href="{cell_url(report, "disclosed", "commercial_enterprise")}">1</a>' in html
    assert f'<a href="{cell_url(report, "review", "pending")}">1</a>' in html
    assert f'<a href="{cell_url(report, "carried_out", "total")}">1</a>' in html
    assert "校验结果（全部通过）" in html
    assert "一+二=三(七)+四" in html
    # The approver may edit, review and publish; exports are offered in all four outputs.
    assert 'data-action="edit_text"' in html
    assert 'data-action="review"' in html
    assert 'data-action="publish"' in html
    assert re.findall(r'data-export="(\w+)"', html) == ["json", "csv", "xlsx", "html"]


def test_buttons_follow_the_role(client, users, reports):
    def actions(user, report):
        client.force_login(users[user])
        response = client.get(page(report))
        assert response.status_code == 200
        return re.findall(r'data-action="(\w+)"', response.content.decode())

    assert actions("approver", reports["office"]) == [
        "review",
        "publish",
        "regenerate",
        "edit_text",
    ]
    assert actions("handler", reports["office"]) == ["regenerate", "edit_text"]
    assert actions("registrar", reports["office"]) == []
    assert actions("supervisor", reports["office"]) == []
    assert actions("supervisor", reports["city"]) == []
    assert actions("administrator", reports["office"]) == [
        "review",
        "publish",
        "regenerate",
        "edit_text",
    ]


TEXT = {
    "overview": "本年度依法办理政府信息公开申请。",
    # 二's figures, a field per cell: gov2021's first table, row 规章, column 现行有效件数; the
    # fees of 行政事业性收费 in 万元.
    "proactive_0_0_2": "3",
    "proactive_3_0_0": "1.25",
    "proactive_text": "主动公开情况说明。",
    "problems_and_improvements": "存在的问题。",
    "other_matters": "无。",
    "fees_collected_yuan": "12.50",
}


def test_editing_the_text_per_role(client, users, reports):
    report = reports["office"]
    client.force_login(users["registrar"])
    response = client.post(page(report), TEXT, follow=True)
    assert messages_of(response) == ["您的角色不能修改该报告。"]
    report.refresh_from_db()
    assert (report.overview, report.proactive_figures) == ("", {})

    client.force_login(users["handler"])
    form = client.get(page(report)).content.decode()
    assert "JSON 格式" not in form and "proactive_figures" not in form
    assert "<caption>第二十条第（一）项</caption>" in form
    assert '<input type="number" name="proactive_0_0_2"' in form
    bad = client.post(page(report), {**TEXT, "proactive_0_0_2": "-1"})
    assert bad.status_code == 200
    assert bad.context["form"].errors == {"proactive_0_0_2": ["确保该值大于或等于0。"]}
    report.refresh_from_db()
    assert report.overview == ""

    response = client.post(page(report), TEXT, follow=True)
    assert messages_of(response) == ["已保存报告文字部分。"]
    report.refresh_from_db()
    assert report.overview == TEXT["overview"]
    assert report.proactive_figures == {
        "规章": {"现行有效件数": 3},
        "行政事业性收费": {"本年收费金额（单位：万元）": 1.25},
    }
    # The page shows them as the format's tables, not as JSON.
    client.force_login(users["registrar"])
    shown = client.get(page(report)).content.decode()
    assert '<tr><th scope="row">规章</th><td>—</td><td>—</td><td>3</td></tr>' in shown
    assert str(report.fees_collected_yuan) == "12.50"


def test_review_and_publish_need_a_signer_and_publishing_locks(
    client, users, small_history, reports
):
    report = reports["office"]
    client.force_login(users["handler"])
    response = client.post(page(report, "publish/"), follow=True)
    assert messages_of(response) == ["您的角色不能发布年度报告（安顺市人民政府办公室）。"]
    response = client.post(page(report, "review/"), follow=True)
    assert messages_of(response) == ["您的角色不能审核年度报告（安顺市人民政府办公室）。"]
    report.refresh_from_db()
    assert report.status == "generated"
    assert client.get(page(report, "publish/")).status_code == 404  # POST only

    client.force_login(users["approver"])
    client.post(page(report), TEXT, follow=True)
    assert messages_of(client.post(page(report, "review/"), follow=True)) == ["已标记为已审核。"]
    report.refresh_from_db()
    assert report.status == "reviewed" and report.reviewed_by == users["approver"]
    assert messages_of(client.post(page(report, "publish/"), follow=True)) == [
        "已发布，报告已锁定。"
    ]
    report.refresh_from_db()
    assert report.status == "published" and report.published_by == users["approver"]
    frozen = (report.cells, report.generated_at, report.overview)

    # Locked: no text form, no edits, no overwriting regeneration.
    html = client.get(page(report)).content.decode()
    assert 'data-action="edit_text"' not in html and 'data-action="publish"' not in html
    assert "报告已发布并锁定" in html
    response = client.post(page(report), {**TEXT, "overview": "改"}, follow=True)
    assert messages_of(response) == ["报告已发布，不能修改。"]
    # A new case after publication: regenerating only compares, and says so.
    case_in_state(
        CaseState.REPLIED, agency=report.agency, actor=users["approver"], applicant_name="壬"
    )
    response = client.post(page(report, "regenerate/"))
    assert response.status_code == 200
    assert messages_of(response) == [
        "报告已发布并锁定，不能重新生成覆盖；下面仅列出与当前数据的差异。"
    ]
    report.refresh_from_db()
    assert (report.cells, report.generated_at, report.overview) == frozen
    # Generating the same report from the form is refused too.
    response = client.post(
        reverse("admin:reporting_annualreport_generate"),
        {"year": report.year, "agency": report.agency_id, "format": ""},
    )
    assert "已发布，不能覆盖" in response.content.decode()
    report.refresh_from_db()
    assert (report.cells, report.generated_at) == frozen[:2]


def diff_cells(response) -> list[tuple[str, str, str]]:
    html = response.content.decode()
    body = html.split('id="report-diff"', 1)[1].split("</table>", 1)[0]
    return re.findall(
        r"<tr><td><code>([\w.]+)</code></td><td><a [^>]+>[^<]+</a></td><td>(\w*)</td><td>(\w*)</td>",
        body,
    )


def test_regenerate_shows_the_differences_cell_by_cell(client, users, small_history, reports):
    report = reports["office"]
    client.force_login(users["handler"])
    response = client.get(page(report, "regenerate/"))
    assert diff_cells(response) == []
    assert "没有差异。" in response.content.decode()
    case_in_state(
        CaseState.REPLIED,
        agency=report.agency,
        actor=users["approver"],
        applicant_type="legal_service_org",
        applicant_name="某律师事务所",
        id_type="uscc",
        id_number="31520000MD0000000X",
        legal_representative="癸",
    )
    expected = [
        ("table3.new_received.legal_service_org", "0", "1"),
        ("table3.new_received.total", "5", "6"),
        ("table3.disclosed.legal_service_org", "0", "1"),
        ("table3.disclosed.total", "3", "4"),
        ("table3.concluded_total.legal_service_org", "0", "1"),
        ("table3.concluded_total.total", "4", "5"),
    ]
    preview = client.get(page(report, "regenerate/"))
    assert diff_cells(preview) == expected
    report.refresh_from_db()
    assert report.cells["table3"]["disclosed"]["total"] == 3  # a preview writes nothing
    done = client.post(page(report, "regenerate/"))
    assert diff_cells(done) == expected
    assert messages_of(done) == ["已重新生成，6 个数据有变化。"]
    report.refresh_from_db()
    assert report.cells["table3"]["disclosed"]["total"] == 4
    assert report.generated_by == users["handler"]
    client.force_login(users["registrar"])
    assert client.get(page(report, "regenerate/")).status_code == 403


def cell_rows(client, report, key, column) -> list[str]:
    response = client.get(cell_url(report, key, column))
    assert response.status_code == 200
    body = response.content.decode().split('id="cell-records"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr><td>(.*?)</td>", body)


def test_the_cases_behind_a_number(client, users, small_history, reports, tree):
    h = small_history
    office = reports["office"]
    client.force_login(users["approver"])

    def link(case):
        url = reverse("admin:requests_app_case_change", args=[case.pk])
        return f'<a href="{url}">{case.tracking_number}</a>'

    assert cell_rows(client, office, "disclosed", "total") == [
        link(h["a1"]),
        link(h["a2"]),
        link(h["a3"]),
    ]
    assert cell_rows(client, office, "disclosed", "commercial_enterprise") == [link(h["a3"])]
    assert cell_rows(client, office, "other_other", "total") == [link(h["a5"])]
    assert cell_rows(client, office, "carried_out", "total") == [link(h["a4"])]
    assert cell_rows(client, office, "review", "pending") == [link(h["a1"])]
    assert cell_rows(client, office, "withheld_state_secret", "total") == []
    response = client.get(cell_url(office, "disclosed", "total"))
    html = response.content.decode()
    assert '<strong id="cell-value">3</strong>' in html
    assert '<strong id="cell-count">3</strong>' in html
    assert "<td>商业企业</td>" in html  # the applicant type of A3
    assert client.get(cell_url(office, "disclosed", "nobody")).status_code == 404

    # The supervisor sees the city's report; the department's case is counted and linked.
    client.force_login(users["supervisor"])
    rows = cell_rows(client, reports["city"], "disclosed", "total")
    assert sorted(rows) == sorted(link(h[n]) for n in ("a1", "a2", "a3", "d1"))
    # A city handler sees the city's report but opens only the city's own cases: the
    # numbers are listed, without links.
    client.force_login(caseworker(tree["city"], Role.HANDLER, username="c-handler"))
    rows = cell_rows(client, reports["city"], "disclosed", "total")
    assert sorted(rows) == sorted(h[n].tracking_number for n in ("a1", "a2", "a3", "d1"))
    # An office approver sees only the office's own report: the city's cells are a 404.
    client.force_login(users["approver"])
    assert client.get(cell_url(reports["city"], "disclosed", "total")).status_code == 404


def test_a_number_that_moved_after_generation_is_flagged(client, users, small_history, reports):
    office = reports["office"]
    case_in_state(CaseState.REPLIED, agency=office.agency, actor=users["approver"])
    client.force_login(users["approver"])
    html = client.get(cell_url(office, "disclosed", "total")).content.decode()
    assert '<strong id="cell-value">3</strong>' in html
    assert '<strong id="cell-count">4</strong>' in html
    assert "当前计入的记录与报告中的数字不同" in html


def test_exports_download_with_their_content_types(client, users, reports):
    report = reports["office"]
    client.force_login(users["registrar"])
    expected = {
        "json": "application/json",
        "csv": "text/csv; charset=utf-8",
        "xlsx": XLSX,
        "html": "text/html; charset=utf-8",
    }
    bodies = {}
    for output, content_type in expected.items():
        response = client.get(page(report, f"export/{output}/"))
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"] == (
            f'attachment; filename="annual-report-city-office-{report.year}-gov2021-alone.{output}"'
        )
        bodies[output] = response.content
    data = json.loads(bodies["json"])
    assert data == {
        "format": "gov2021",
        "year": report.year,
        "agency": "city-office",
        "include_descendants": False,
        "cutoff": f"{report.year}-12-31T23:59:59.999999+08:00",
        "cells": report.cells,
    }
    assert "table3,disclosed,三(一) 予以公开,total,总计,3" in bodies["csv"].decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(bodies["xlsx"])).active
    disclosed = next(r for r in sheet.iter_rows(values_only=True) if r[1] == "（一）予以公开")
    assert list(disclosed[3:10]) == [2, 1, 0, 0, 0, 0, 3]
    assert "<h2>一、总体情况</h2>" in bodies["html"].decode()
    assert client.get(page(report, "export/pdf/")).status_code == 404


def test_generate_from_the_admin(client, users, tree, small_history):
    url = reverse("admin:reporting_annualreport_generate")
    client.force_login(users["registrar"])
    assert client.get(url).status_code == 403
    client.force_login(users["supervisor"])
    assert client.get(url).status_code == 403

    client.force_login(users["handler"])
    form = client.get(url)
    assert form.status_code == 200
    # The handler may generate for the office only.
    options = re.findall(
        r'<option value="(\d+)"',
        form.content.decode().split('name="agency"')[1].split("</select>")[0],
    )
    assert options == [str(tree["office"].pk)]
    bad = client.post(
        url,
        {
            "year": small_history["year"],
            "agency": tree["office"].pk,
            "cutoff": "2000-01-01 00:00:00",
        },
    )
    assert "截止时间早于报告年度" in bad.content.decode()
    assert AnnualReport.objects.count() == 0
    refused = client.post(url, {"year": small_history["year"], "agency": tree["city"].pk})
    assert "agency" in refused.context["form"].errors
    response = client.post(
        url,
        {
            "year": small_history["year"],
            "agency": tree["office"].pk,
            "format": "gov2019",
            "include_descendants": "on",
        },
    )
    report = AnnualReport.objects.get()
    assert response.status_code == 302 and response["Location"] == page(report)
    assert (report.format, report.include_descendants, report.generated_by) == (
        "gov2019",
        True,
        users["handler"],
    )
    assert report.cells["table3"]["other"]["total"] == 1  # gov2019: one 其他处理 row


def test_the_supervising_office_sees_its_subordinates(client, users, tree, small_history):
    year = small_history["year"]
    report_generate(agency=tree["office"], year=year)
    published = report_generate(agency=tree["dept"], year=year)
    from reporting.services import report_publish

    report_publish(report=published)
    client.force_login(users["supervisor"])
    response = client.get(reverse("admin:reporting_annualreport_status"), {"year": year})
    assert response.status_code == 200
    rows = re.findall(
        r'<tr data-agency="([\w-]+)"[^>]*>.*?report-status-(\w+)">', response.content.decode(), re.S
    )
    assert rows == [
        ("city", "missing"),
        ("city-finance", "published"),
        ("city-office", "generated"),
        ("xixiu", "missing"),
        ("xixiu-nanhua", "missing"),
    ]
    # The office's approver sees only its own row; another city is not offered.
    client.force_login(users["approver"])
    response = client.get(
        reverse("admin:reporting_annualreport_status"), {"year": year, "agency": "other-city"}
    )
    rows = re.findall(r'<tr data-agency="([\w-]+)"', response.content.decode())
    assert rows == ["city-office"]


def test_the_ledger_template_downloads(client, users):
    client.force_login(users["registrar"])
    response = client.get(reverse("admin:reporting_annualreport_ledger_template"))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"] == 'attachment; filename="ledger-template.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["台账", "填写说明"]
    header = next(workbook["台账"].iter_rows(values_only=True))
    assert all("|" in cell for cell in header)


def test_someone_without_a_caseworker_row_is_kept_out(client, tree):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    assert client.get(CHANGELIST).status_code == 403
    assert client.get(reverse("admin:reporting_annualreport_ledger_template")).status_code == 403
