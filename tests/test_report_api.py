"""The staff API for annual reports: the report JSON with exact numbers for a history
built through the services, per-role scope and permissions, locking, and the cell
drill-down listing exactly the counted records."""

import pytest
from django.urls import reverse

from reporting.models import AnnualReport
from reporting.services import report_generate
from requests_app.choices import Role
from tests.factories import caseworker

pytest_plugins = ["tests.report_fixtures"]  # the small_history fixture

pytestmark = pytest.mark.django_db

COMPUTED = "/api/v1/staff/reports/computed/"
GENERATE = "/api/v1/staff/reports/generate/"
LIST = "/api/v1/staff/reports/"
COLUMNS = (
    "natural_person",
    "commercial_enterprise",
    "research_institution",
    "public_interest_org",
    "legal_service_org",
    "other_org",
    "total",
)


def row(*values):
    return dict(zip(COLUMNS, values, strict=True))


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def users(tree):
    return {
        "approver": caseworker(tree["office"], Role.APPROVER, username="o-approver"),
        "handler": caseworker(tree["office"], Role.HANDLER, username="o-handler"),
        "registrar": caseworker(tree["office"], Role.REGISTRAR, username="o-registrar"),
        "supervisor": caseworker(tree["city"], Role.SUPERVISOR, username="c-supervisor"),
        "city_handler": caseworker(tree["city"], Role.HANDLER, username="c-handler"),
        "outsider": caseworker(tree["other"], Role.APPROVER, username="x-approver"),
    }


def test_computed_report_is_exactly_the_contract(client, users, small_history):
    year = small_history["year"]
    response = client_for(client, users["handler"]).get(
        COMPUTED, {"year": year, "agency": "city-office", "descendants": "false"}
    )
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["format", "year", "agency", "include_descendants", "cutoff", "cells"]
    assert body["format"] == "gov2021"
    assert body["year"] == year
    assert body["agency"] == "city-office"
    assert body["include_descendants"] is False
    assert body["cutoff"] == f"{year}-12-31T23:59:59.999999+08:00"
    t3 = body["cells"]["table3"]
    assert t3["new_received"] == row(4, 1, 0, 0, 0, 0, 5)
    assert t3["carried_in"] == row(0, 0, 0, 0, 0, 0, 0)
    assert t3["disclosed"] == row(2, 1, 0, 0, 0, 0, 3)
    assert t3["other_other"] == row(1, 0, 0, 0, 0, 0, 1)
    assert t3["concluded_total"] == row(3, 1, 0, 0, 0, 0, 4)
    assert t3["carried_out"] == row(1, 0, 0, 0, 0, 0, 1)
    nonzero = {key for key, cols in t3.items() if cols["total"]}
    assert nonzero == {"new_received", "disclosed", "other_other", "concluded_total", "carried_out"}
    assert body["cells"]["table4"] == {
        "review": {"upheld": 0, "corrected": 0, "other": 0, "pending": 1, "total": 1},
        "litigation_direct": {"upheld": 0, "corrected": 0, "other": 0, "pending": 0, "total": 0},
        "litigation_after_review": {
            "upheld": 0,
            "corrected": 0,
            "other": 0,
            "pending": 0,
            "total": 0,
        },
    }


def test_a_supervisor_computes_the_subtree_and_others_get_404(client, users, small_history):
    year = small_history["year"]
    response = client_for(client, users["supervisor"]).get(
        COMPUTED, {"year": year, "agency": "city"}
    )
    assert response.status_code == 200
    t3 = response.json()["cells"]["table3"]
    assert response.json()["include_descendants"] is True
    assert t3["new_received"] == row(5, 1, 0, 0, 0, 0, 6)
    assert t3["disclosed"] == row(3, 1, 0, 0, 0, 0, 4)
    # The office's handler sees the office only; nobody sees another city's reports.
    for user, agency in (
        ("handler", "city"),
        ("handler", "city-finance"),
        ("handler", "other-city"),
        ("supervisor", "other-city"),
        ("outsider", "city-office"),
        ("approver", "no-such-agency"),
    ):
        client.force_login(users[user])
        response = client.get(COMPUTED, {"year": year, "agency": agency})
        assert response.status_code == 404, (user, agency)
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"year": "abc", "agency": "city-office"}, "year"),
        ({"year": "1200", "agency": "city-office"}, "year"),
        ({"year": "2024", "agency": "city-office", "format": "gov1999"}, "format"),
        ({"year": "2024", "agency": "city-office", "cutoff": "2025-01-31T23:59:59"}, "cutoff"),
        ({"year": "2024", "agency": "city-office", "cutoff": "yesterday"}, "cutoff"),
        (
            {"year": "2024", "agency": "city-office", "cutoff": "2023-06-30T00:00:00+08:00"},
            "cutoff",
        ),
        ({"year": "2024", "agency": "city-office", "descendants": "maybe"}, "descendants"),
        ({"year": "2024"}, "agency"),
    ],
)
def test_bad_inputs_are_400_naming_the_field(client, users, params, field):
    response = client_for(client, users["approver"]).get(COMPUTED, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == [field]


def test_a_cutoff_moves_cases_from_concluded_to_carried_out(client, users, small_history):
    year = small_history["year"]
    response = client_for(client, users["approver"]).get(
        COMPUTED,
        {
            "year": year,
            "agency": "city-office",
            "descendants": "false",
            "format": "gov2019",
            "cutoff": f"{year}-01-01T00:00:00+08:00",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["format"] == "gov2019"
    assert body["cutoff"] == f"{year}-01-01T00:00:00+08:00"
    # Known until 1 January: the cases concluded today are not concluded yet (三), they are
    # carried out (四); 一 is the same.
    t3 = body["cells"]["table3"]
    assert t3["new_received"] == row(4, 1, 0, 0, 0, 0, 5)
    assert t3["concluded_total"] == row(0, 0, 0, 0, 0, 0, 0)
    assert t3["carried_out"] == row(4, 1, 0, 0, 0, 0, 5)


def test_generate_per_role(client, users, tree, small_history):
    year = small_history["year"]
    payload = {"year": year, "agency": "city-office", "descendants": False}
    for user, status in (("registrar", 403), ("supervisor", 403), ("outsider", 404)):
        client.force_login(users[user])
        response = client.post(GENERATE, payload, content_type="application/json")
        assert response.status_code == status, user
        assert AnnualReport.objects.count() == 0
    assert response.json()["code"] == "not_found"
    client.force_login(users["registrar"])
    assert client.post(GENERATE, payload, content_type="application/json").json()["code"] == (
        "forbidden"
    )

    response = client_for(client, users["handler"]).post(
        GENERATE, payload, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    report = AnnualReport.objects.get()
    assert body["id"] == report.pk
    assert body["agency"] == "city-office"
    assert body["status"] == "generated"
    assert body["include_descendants"] is False
    assert body["failed_checks"] == 0
    assert body["cells"]["table3"]["disclosed"] == row(2, 1, 0, 0, 0, 0, 3)
    assert report.generated_by == users["handler"]
    assert body["sections"]["fees_collected_yuan"] == "0.00"
    # A city handler (own agency only) may generate the city's report with its subtree.
    response = client_for(client, users["city_handler"]).post(
        GENERATE, {"year": year, "agency": "city"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["cells"]["table3"]["new_received"]["total"] == 6


def test_publish_needs_a_signer_and_locks(client, users, small_history):
    year = small_history["year"]
    report = report_generate(agency=small_history["a1"].agency, year=year)
    publish = f"{LIST}{report.pk}/publish/"
    for user in ("handler", "registrar", "supervisor"):
        client.force_login(users[user])
        response = client.post(publish)
        assert response.status_code == 403, user
        assert response.json()["code"] == "forbidden"
        report.refresh_from_db()
        assert report.status == "generated"
    client.force_login(users["outsider"])
    assert client.post(publish).status_code == 404

    response = client_for(client, users["approver"]).post(publish)
    assert response.status_code == 200
    assert response.json()["status"] == "published"
    published_at = response.json()["published_at"]
    report.refresh_from_db()
    assert report.status == "published" and report.published_by == users["approver"]
    generated_at, cells = report.generated_at, report.cells

    # Locked: generating the same report again is refused and changes nothing.
    response = client.post(
        GENERATE,
        {"year": year, "agency": "city-office"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "report_locked"
    report.refresh_from_db()
    assert (report.generated_at, report.cells) == (generated_at, cells)
    # Publishing twice is a no-op.
    again = client.post(publish)
    assert (again.status_code, again.json()["published_at"]) == (200, published_at)


def test_list_and_detail_are_scoped(client, users, tree, small_history):
    year = small_history["year"]
    office_report = report_generate(agency=tree["office"], year=year)
    city_report = report_generate(agency=tree["city"], year=year)
    other_report = report_generate(agency=tree["other"], year=year)

    def listed(user, query=None):
        client.force_login(users[user])
        response = client.get(LIST, query or {})
        assert response.status_code == 200
        return [item["agency"] for item in response.json()["results"]]

    assert listed("approver") == ["city-office"]
    assert listed("supervisor") == ["city", "city-office"]
    assert listed("outsider") == ["other-city"]
    assert listed("supervisor", {"agency": "city-office"}) == ["city-office"]
    assert listed("supervisor", {"status": "published"}) == []
    assert listed("supervisor", {"year": year - 1}) == []

    client.force_login(users["approver"])
    assert client.get(f"{LIST}{office_report.pk}/").status_code == 200
    for report in (city_report, other_report):
        response = client.get(f"{LIST}{report.pk}/")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    detail = client.get(f"{LIST}{office_report.pk}/").json()
    assert detail["cells"] == office_report.cells
    assert [c["ok"] for c in detail["checks"]] == [c["ok"] for c in office_report.checks]
    assert set(detail["sections"]) == {
        "overview",
        "proactive_figures",
        "proactive_text",
        "problems_and_improvements",
        "other_matters",
        "fees_collected_yuan",
    }
    assert client.get(LIST, {"limit": "0"}).status_code == 400
    assert client.get(f"{LIST}{2**63}/").status_code == 404


def test_cell_cases_are_exactly_the_counted_ones(client, users, tree, small_history):
    h = small_history
    report = report_generate(agency=tree["office"], year=h["year"], include_descendants=False)
    client.force_login(users["approver"])

    def cell(key, column, query=None):
        response = client.get(f"{LIST}{report.pk}/cells/{key}/{column}/", query or {})
        assert response.status_code == 200, response.content
        return response.json()

    body = cell("disclosed", "total")
    assert (body["row_label"], body["column_label"]) == ("三(一) 予以公开", "总计")
    assert body["value"] == 3 and body["count"] == 3
    assert {r["tracking_number"] for r in body["results"]} == {
        h[name].tracking_number for name in ("a1", "a2", "a3")
    }
    assert {r["record_type"] for r in body["results"]} == {"case"}
    assert {r["tracking_number"] for r in cell("disclosed", "natural_person")["results"]} == {
        h["a1"].tracking_number,
        h["a2"].tracking_number,
    }
    assert [r["tracking_number"] for r in cell("other_other", "total")["results"]] == [
        h["a5"].tracking_number
    ]
    assert [r["id"] for r in cell("carried_out", "total")["results"]] == [h["a4"].pk]
    review = cell("review", "pending")
    assert review["results"] == [
        {
            "id": h["review"].pk,
            "record_type": "review",
            "case_id": h["a1"].pk,
            "tracking_number": h["a1"].tracking_number,
        }
    ]
    paged = cell("new_received", "total", {"limit": 2})
    assert (paged["value"], paged["count"], len(paged["results"])) == (5, 5, 2)
    for key, column in (("disclosed", "nobody"), ("no_such_row", "total")):
        response = client.get(f"{LIST}{report.pk}/cells/{key}/{column}/")
        assert response.status_code == 404
    # The same cell of the report computed now, from query parameters.
    response = client.get(
        "/api/v1/staff/reports/computed/cells/disclosed/total/",
        {"year": h["year"], "agency": "city-office", "descendants": "false"},
    )
    assert response.status_code == 200
    assert response.json()["count"] == 3 and response.json()["value"] == 3
    # Another agency's report: 404.
    client.force_login(users["outsider"])
    assert client.get(f"{LIST}{report.pk}/cells/disclosed/total/").status_code == 404


def test_anonymous_is_401(client):
    response = client.get(COMPUTED, {"year": 2024, "agency": "city"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_reports_are_in_the_schema():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        op["operationId"]
        for path, methods in schema["paths"].items()
        if path.startswith("/api/v1/staff/reports/")
        for op in methods.values()
    }
    assert operations == {
        "staff_reports_list",
        "staff_reports_computed",
        "staff_reports_computed_cell",
        "staff_reports_generate",
        "staff_reports_retrieve",
        "staff_reports_publish",
        "staff_reports_cell",
    }
    assert reverse("reports:computed") == COMPUTED
