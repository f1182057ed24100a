"""ID numbers, phones and addresses: masked in every list, page and export for a caseworker
without can_view_personal_data; shown to one with it, and each such view logged."""

import base64

import pytest
from django.test import Client
from django.utils import timezone

from reporting.services import report_generate
from requests_app.choices import CaseState as S
from requests_app.choices import Role
from requests_app.masking import mask_address, mask_email, mask_id_number, mask_phone
from tests.factories import case_in_state, caseworker

ID_NUMBER = "52040219900307123X"  # not checked here: the cases come through the services
FULL = {
    "phone": "13800138000",
    "address": "贵州省安顺市西秀区南华路2号",
}


def basic(user) -> dict:
    token = base64.b64encode(f"{user.username}:pass-123456".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def world(tree):
    office = tree["office"]
    approver = caseworker(office, Role.APPROVER, username="office-approver")
    handler = caseworker(office, Role.HANDLER, username="office-handler")
    reader = caseworker(office, Role.HANDLER, username="office-reader", can_view_personal_data=True)
    case = case_in_state(S.REPLIED, agency=office, actor=approver)
    report = report_generate(agency=office, year=timezone.localdate().year, actor=approver)
    return {
        "case": case,
        "handler": handler,
        "reader": reader,
        "report": report,
        "secrets": (case.id_number, FULL["phone"], FULL["address"], case.email),
    }


def assert_no_secret(text: str, secrets) -> None:
    for secret in secrets:
        assert secret not in text, secret


def test_api_list_and_detail_mask_for_a_caseworker_without_the_right(world, caplog):
    case, handler = world["case"], world["handler"]
    client = Client()
    with caplog.at_level("INFO", logger="requests_app.audit"):
        listed = client.get("/api/v1/staff/cases/", **basic(handler))
        detail = client.get(f"/api/v1/staff/cases/{case.pk}/", **basic(handler))
        legal = client.get(f"/api/v1/staff/cases/{case.pk}/legal/", **basic(handler))
    row = listed.json()["results"][0]
    assert (row["id_number"], row["phone"]) == (
        case.id_number[:4] + "*" * 10 + case.id_number[-4:],
        "138****8000",
    )
    body = detail.json()
    assert body["address"] == "贵州省安顺市****"
    for response in (listed, detail, legal):
        assert response.status_code == 200
        assert_no_secret(response.content.decode(), world["secrets"])
    assert [r for r in caplog.records if r.name == "requests_app.audit"] == []


def test_api_list_unmasked_for_a_reader_is_logged(world, caplog):
    case, reader = world["case"], world["reader"]
    with caplog.at_level("INFO", logger="requests_app.audit"):
        listed = Client().get("/api/v1/staff/cases/?open=false", **basic(reader))
    row = listed.json()["results"][0]
    assert (row["id_number"], row["phone"]) == (case.id_number, FULL["phone"])
    assert [r.getMessage() for r in caplog.records if r.name == "requests_app.audit"] == [
        f"personal data listed: user=office-reader cases={case.tracking_number} "
        "path=/api/v1/staff/cases/?open=false"
    ]


def test_admin_list_and_page_mask_for_a_caseworker_without_the_right(world, caplog):
    case = world["case"]
    client = Client()
    client.force_login(world["handler"])
    with caplog.at_level("INFO", logger="requests_app.audit"):
        listing = client.get("/admin/requests_app/case/").content.decode()
        page = client.get(f"/admin/requests_app/case/{case.pk}/change/").content.decode()
    assert "138****8000" in listing
    masked_id = case.id_number[:4] + "*" * 10 + case.id_number[-4:]  # as the staff API
    assert f'<div class="readonly">{masked_id}</div>' in page
    assert '<div class="readonly">贵州省安顺市****</div>' in page
    assert_no_secret(listing, world["secrets"])
    assert_no_secret(page, world["secrets"])
    assert [r for r in caplog.records if r.name == "requests_app.audit"] == []


def test_the_masks_keep_the_ends_and_star_the_rest():
    assert [
        mask_id_number(ID_NUMBER),
        mask_phone(FULL["phone"]),
        mask_address(FULL["address"]),
    ] == [
        "5204**********123X",
        "138****8000",
        "贵州省安顺市****",
    ]
    assert [mask_email("zhang.san@example.com"), mask_email("not-an-address")] == [
        "z***@example.com",
        "**************",
    ]
    assert [mask_phone("1380"), mask_address("贵州省"), mask_email(""), mask_id_number("")] == [
        "****",
        "****",
        "",
        "",
    ]


def test_admin_page_unmasked_for_a_reader_is_logged(world, caplog):
    case = world["case"]
    client = Client()
    client.force_login(world["reader"])
    with caplog.at_level("INFO", logger="requests_app.audit"):
        page = client.get(f"/admin/requests_app/case/{case.pk}/change/").content.decode()
    assert case.id_number in page and FULL["phone"] in page and FULL["address"] in page
    assert [r.getMessage() for r in caplog.records if r.name == "requests_app.audit"] == [
        f"full record viewed: case={case.tracking_number} user={world['reader'].pk}"
    ]


def test_report_drill_down_and_exports_carry_no_personal_data(world):
    report, handler = world["report"], world["handler"]
    client = Client()
    cell = client.get(
        f"/api/v1/staff/reports/{report.pk}/cells/new_received/total/", **basic(handler)
    )
    assert cell.status_code == 200
    assert cell.json()["results"] == [
        {
            "id": world["case"].pk,
            "record_type": "case",
            "case_id": world["case"].pk,
            "tracking_number": world["case"].tracking_number,
        }
    ]
    client.force_login(handler)
    pages = [cell.content.decode()]
    admin_cell = client.get(f"/admin/reporting/annualreport/{report.pk}/cell/new_received/total/")
    assert admin_cell.status_code == 200
    assert world["case"].tracking_number in admin_cell.content.decode()
    pages.append(admin_cell.content.decode())
    for output in ("csv", "json", "html"):
        response = client.get(f"/admin/reporting/annualreport/{report.pk}/export/{output}/")
        assert response.status_code == 200, output
        pages.append(response.content.decode("utf-8-sig"))
    for text in pages:
        assert_no_secret(text, world["secrets"])
        assert world["case"].applicant_name not in text


def test_history_export_carries_no_personal_data(world):
    case = world["case"]
    approver = Client()
    response = approver.get(
        f"/api/v1/staff/cases/{case.pk}/history.csv",
        **basic(caseworker(case.agency, Role.AUDITOR, username="office-auditor")),
    )
    assert response.status_code == 200
    assert_no_secret(response.content.decode("utf-8-sig"), world["secrets"])
