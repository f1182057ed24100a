"""Personal data in logs (issue 13 §4): a search by ID number or phone leaves no trace of the
number in any log line — Django's loggers, the audit log's ``path=`` and gunicorn's access
log — and a refused request (PermissionDenied) is one line, without a traceback."""

import base64
import logging
import tempfile
import urllib.request
from pathlib import Path

import pytest
from django.test import Client

from config.logmask import mask_query, mask_url
from requests_app.choices import CaseState as S
from requests_app.choices import Role
from scripts.procs import app_env, free_port, gunicorn, stopping, wait_http_ok
from tests.factories import case_in_state, caseworker

PHONE = "13800138000"


def basic(user) -> dict:
    token = base64.b64encode(f"{user.username}:pass-123456".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def world(office):
    approver = caseworker(office, Role.APPROVER, username="office-approver")
    reader = caseworker(office, Role.APPROVER, username="reader", can_view_personal_data=True)
    reader.is_staff = True
    reader.save()
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    return {"case": case, "reader": reader, "approver": approver}


@pytest.fixture
def every_log_line(caplog):
    """Every record of every logger, formatted as the console handler writes it (with any
    traceback)."""
    caplog.set_level(logging.DEBUG)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")

    def lines() -> list[str]:
        return [formatter.format(record) for record in caplog.records]

    return lines


def test_mask_query_masks_runs_of_digits_and_an_id_numbers_x():
    assert mask_query("q=11010519491231002X&limit=20") == "q=******************&limit=20"
    assert mask_query(f"q={PHONE}") == "q=***********"
    assert mask_query("q=0851-33221234") == "q=****-********"
    assert mask_query("state=processing&offset=50") == "state=processing&offset=50"
    assert (
        mask_url("/api/v1/staff/cases/123/?q=13800138000")
        == "/api/v1/staff/cases/123/?q=***********"
    )
    assert mask_url("GET /x/?q=8000 HTTP/1.1") == "GET /x/?q=**** HTTP/1.1"
    assert mask_url("/api/v1/staff/cases/123/") == "/api/v1/staff/cases/123/"
    assert mask_url("-") == "-"


def test_an_api_search_by_id_number_leaves_no_trace_in_any_log_line(world, every_log_line):
    case, reader = world["case"], world["reader"]
    # The search finds by phone (and tracking number, name); an ID number finds nothing, but
    # a caseworker may well type one.
    for query, found in (
        (case.id_number, []),
        (case.phone, [case.pk]),
        (case.id_number.lower(), []),
    ):
        response = Client().get(f"/api/v1/staff/cases/?q={query}", **basic(reader))
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == found
    lines = every_log_line()
    audit = [line for line in lines if "personal data listed" in line]
    assert len(audit) == 3
    assert audit[0].endswith("path=/api/v1/staff/cases/?q=" + "*" * len(case.id_number))
    for line in lines:
        assert case.id_number not in line and case.id_number.lower() not in line
        assert case.phone not in line and case.id_number[6:14] not in line


def test_an_admin_search_by_id_number_leaves_no_trace_in_any_log_line(world, every_log_line):
    case, reader = world["case"], world["reader"]
    client = Client()
    client.force_login(reader)
    for query in (case.id_number, case.phone):
        response = client.get(f"/admin/requests_app/case/?q={query}")
        assert response.status_code == 200
    assert case.tracking_number in response.content.decode()
    for line in every_log_line():
        assert case.id_number not in line and case.id_number[6:14] not in line
        assert case.phone not in line


def test_gunicorns_access_log_masks_the_query_string():
    id_number = "11010519491231002X"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = app_env(
            database_url=f"sqlite:///{tmp / 'db.sqlite3'}",
            var_dir=tmp / "var",
            settings_module="config.settings.local",
        )
        port = free_port()
        web = gunicorn(env, port=port, log_dir=tmp / "logs", workers=1)
        base = f"http://127.0.0.1:{port}"
        with stopping(web):
            web.start()
            wait_http_ok(base, timeout=60)
            for path, referer in (
                (f"/api/v1/staff/cases/?q={id_number}", None),
                (f"/admin/requests_app/case/?q={PHONE}", f"{base}/admin/?q={id_number}"),
            ):
                request = urllib.request.Request(base + path)
                if referer:
                    request.add_header("Referer", referer)
                try:
                    urllib.request.urlopen(request, timeout=10)  # noqa: S310
                except urllib.error.HTTPError as error:
                    assert error.code in (401, 302, 404)
            web.wait_for_log("/admin/requests_app/case/?q=", timeout=10)
            log = web.log_text()
    assert f'"GET /api/v1/staff/cases/?q={"*" * 18} HTTP/1.1" 401' in log
    assert f'"GET /admin/requests_app/case/?q={"*" * 11} HTTP/1.1"' in log
    assert f"/admin/?q={'*' * 18}" in log  # the Referer
    for secret in (id_number, PHONE, id_number[6:14], PHONE[3:]):
        assert secret not in log


def test_permission_denied_is_one_line_without_a_traceback(world, every_log_line):
    client = Client()
    client.force_login(world["reader"])
    response = client.get("/admin/signin/signinfailure/")
    assert response.status_code == 403
    lines = [line for line in every_log_line() if "django.request" in line]
    assert len(lines) == 1
    assert lines[0].endswith(
        "WARNING django.request Forbidden (Permission denied): /admin/signin/signinfailure/"
    )
    assert "\n" not in lines[0] and "Traceback" not in lines[0]
