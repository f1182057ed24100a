"""Content-Security-Policy (issue 13 §6): one policy, a setting every page inherits — no inline
scripts or event handlers, scripts and styles from this site only — tested per page family:
the admin, the API's documentation, the API's JSON."""

from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from reporting.services import report_generate
from requests_app.choices import CaseState as S
from requests_app.choices import Role
from tests.factories import UserFactory, case_in_state, caseworker

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    parts = [part.strip().split(" ", 1) for part in header.split(";") if part.strip()]
    return {name: value for name, value in parts}


class InlineCode(HTMLParser):
    """Inline scripts, inline event handlers (onclick=…), javascript: URLs, style attributes
    and <style> elements of a page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not attributes.get("src"):
            self._in_script = True
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f"<{tag} style=…>")
            if name in ("href", "src", "action") and (value or "").lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:…>")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"<script>{data.strip()[:40]}…")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def inline_code(response) -> list[str]:
    parser = InlineCode()
    parser.feed(response.content.decode())
    return parser.found


def test_the_policy_is_a_setting_every_app_inherits():
    assert settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"] == ["'self'"]
    assert "csp.middleware.CSPMiddleware" in settings.MIDDLEWARE


@pytest.fixture
def admin_pages(office):
    approver = caseworker(office, Role.APPROVER, username="approver")
    approver.is_staff = True
    approver.save()
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    report = report_generate(agency=office, year=timezone.localdate().year, actor=approver)
    return {
        "root": root,
        "pages": [
            "/admin/",
            "/admin/requests_app/case/",
            f"/admin/requests_app/case/{case.pk}/change/",
            "/admin/requests_app/case/intake/",
            "/admin/requests_app/agency/add/",
            "/admin/reporting/annualreport/",
            f"/admin/reporting/annualreport/{report.pk}/change/",
            "/admin/signin/signinfailure/",
            "/admin/signin/apitoken/add/",
            "/admin/requests_app/notification/",
        ],
    }


def test_the_admin_pages_carry_the_policy_and_no_inline_code(admin_pages):
    login = Client().get("/admin/login/")
    assert directives(login) == POLICY
    assert inline_code(login) == []
    client = Client()
    client.force_login(admin_pages["root"])
    for page in admin_pages["pages"]:
        response = client.get(page, follow=True)
        assert response.status_code == 200, page
        assert directives(response) == POLICY, page
        assert inline_code(response) == [], page


def test_the_api_docs_load_their_script_as_a_file(db):
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    policy = directives(response)
    # Swagger UI's page has one inline <style>: allowed here only; scripts stay 'self'.
    assert policy == {**POLICY, "style-src": "'self' 'unsafe-inline'"}
    assert [item for item in inline_code(response) if item != "<style>"] == []
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_api_json_carries_the_policy(db):
    for path in ("/api/v1/agencies/", "/api/v1/staff/cases/", "/api/schema/", "/healthz"):
        response = Client().get(path)
        assert directives(response) == POLICY, path


def test_the_report_page_asks_before_publishing_without_an_inline_handler(admin_pages):
    client = Client()
    client.force_login(admin_pages["root"])
    page = client.get(admin_pages["pages"][6]).content.decode()
    assert 'data-confirm="发布后报告锁定' in page or 'data-action="publish"' not in page
    assert 'src="/static/reporting/confirm.js"' in page
