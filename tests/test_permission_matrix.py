"""Every role × the staff endpoints and admin pages × a case (or report) of the user's own
agency, of an agency below it (subtree) and of another agency.

``agencies_visible`` (requests_app/permissions.py) is the one rule of "own agency, or the
subtree for the read-all roles"; the first tests check it against the table and each edge that
reads through it (cases, reports, the admin's agency choices, the staff API's agency lookups).

The expected outcomes are written out by hand from requests_app/permissions.py and
reporting/permissions.py: registrars, handlers and approvers read and write their own agency;
supervisors and auditors read the subtree and write nothing; administrators read and write the
subtree. A user without a Caseworker row is refused (403), an anonymous one asked to log in
(401 in the API, a redirect to the login page in the admin). Another agency's case or report is
a 404, as one that does not exist. Refused writes change nothing.
"""

import base64
import datetime as dt

import pytest
from django.test import Client

from reporting.models import AnnualReport
from reporting.selectors import report_agency_get, report_list
from reporting.services import ReportNotFound, report_generate
from requests_app.choices import CaseState as S
from requests_app.models import Case, CaseEvent, EventKind
from requests_app.permissions import agencies_visible
from requests_app.selectors import case_visible
from requests_app.services.cases import ACTIONS
from tests.factories import UserFactory, application_fields, case_in_state, caseworker

ROLES = [
    "registrar",
    "handler",
    "approver",
    "supervisor",
    "administrator",
    "auditor",
    "nocaseworker",
    "anonymous",
]
SCOPES = ["own", "sub", "other"]
YEAR = dt.date.today().year


def basic(user) -> dict:
    token = base64.b64encode(f"{user.username}:pass-123456".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture
def world(tree):
    """Users of every role at the district; a case and a report at the district (own), at its
    street (sub) and at the city office (other)."""
    root = UserFactory(username="root", is_superuser=True)
    agencies = {"own": tree["district"], "sub": tree["street"], "other": tree["office"]}
    users = {
        role: caseworker(tree["district"], role, username=f"district-{role}") for role in ROLES[:6]
    }
    users["nocaseworker"] = UserFactory(username="staff-without-caseworker")
    users["anonymous"] = None
    cases = {
        scope: case_in_state(S.PROCESSING, agency=agency, actor=root)
        for scope, agency in agencies.items()
    }
    reports = {
        scope: report_generate(agency=agency, year=YEAR, actor=root)
        for scope, agency in agencies.items()
    }
    return {"users": users, "cases": cases, "reports": reports, "agencies": agencies}


def api_client(world, role) -> tuple[Client, dict]:
    user = world["users"][role]
    return Client(), ({} if user is None else basic(user))


def admin_client(world, role) -> Client:
    client = Client()
    user = world["users"][role]
    if user is not None:
        client.force_login(user)
    return client


def snapshot() -> tuple:
    return (
        list(Case.objects.order_by("pk").values_list("pk", "version", "state", "is_extended")),
        CaseEvent.objects.count(),
        list(AnnualReport.objects.order_by("pk").values_list("pk", "status", "generated_at")),
    )


def table(**rows) -> dict:
    """``role=(own, sub, other)`` rows; nocaseworker and anonymous are the same everywhere
    unless given."""
    rows.setdefault("nocaseworker", (403, 403, 403))
    rows.setdefault("anonymous", (401, 401, 401))
    assert set(rows) == set(ROLES)
    return rows


NARROW_READ = (200, 404, 404)
WIDE_READ = (200, 200, 404)
READ = table(
    registrar=NARROW_READ,
    handler=NARROW_READ,
    approver=NARROW_READ,
    supervisor=WIDE_READ,
    administrator=WIDE_READ,
    auditor=WIDE_READ,
)
# note: registrar, handler, approver (own agency) and administrators (subtree).
NOTE = table(
    registrar=(200, 404, 404),
    handler=(200, 404, 404),
    approver=(200, 404, 404),
    supervisor=(403, 403, 404),
    administrator=(200, 200, 404),
    auditor=(403, 403, 404),
)
# extend (Art 33 ¶2): the approver, and administrators.
EXTEND = table(
    registrar=(403, 404, 404),
    handler=(403, 404, 404),
    approver=(200, 404, 404),
    supervisor=(403, 403, 404),
    administrator=(200, 200, 404),
    auditor=(403, 403, 404),
)
# The history export: auditors, approvers, administrators on the cases they see.
HISTORY = table(
    registrar=(403, 404, 404),
    handler=(403, 404, 404),
    approver=(200, 404, 404),
    supervisor=(403, 403, 404),
    administrator=(200, 200, 404),
    auditor=(200, 200, 404),
)
# Counter intake for an agency: registrars and approvers (own), administrators (subtree).
INTAKE = table(
    registrar=(201, 403, 403),
    handler=(403, 403, 403),
    approver=(201, 403, 403),
    supervisor=(403, 403, 403),
    administrator=(201, 201, 403),
    auditor=(403, 403, 403),
)
# Reports: read as cases; generate: handlers, approvers (own), administrators (subtree).
REPORT_GENERATE = table(
    registrar=(403, 404, 404),
    handler=(201, 404, 404),
    approver=(201, 404, 404),
    supervisor=(403, 403, 404),
    administrator=(201, 201, 404),
    auditor=(403, 403, 404),
)


def cells(rows: dict) -> list[tuple[str, str, int]]:
    return [(role, scope, rows[role][i]) for role in ROLES for i, scope in enumerate(SCOPES)]


# --- the staff API ----------------------------------------------------------------------------
@pytest.mark.parametrize(("role", "scope", "status"), cells(READ))
def test_api_case_reads(world, role, scope, status):
    client, auth = api_client(world, role)
    pk = world["cases"][scope].pk
    for url in (f"/api/v1/staff/cases/{pk}/", f"/api/v1/staff/cases/{pk}/legal/"):
        assert client.get(url, **auth).status_code == status, url


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("registrar", {"own"}),
        ("handler", {"own"}),
        ("approver", {"own"}),
        ("supervisor", {"own", "sub"}),
        ("administrator", {"own", "sub"}),
        ("auditor", {"own", "sub"}),
        ("nocaseworker", 403),
        ("anonymous", 401),
    ],
)
def test_api_case_list(world, role, expected):
    client, auth = api_client(world, role)
    response = client.get("/api/v1/staff/cases/", **auth)
    if isinstance(expected, int):
        assert response.status_code == expected
        return
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {world["cases"][scope].pk for scope in expected}


def _api_write(world, role, scope, status, url_suffix, body):
    client, auth = api_client(world, role)
    case = world["cases"][scope]
    before = snapshot()
    own_events = CaseEvent.objects.filter(case=case).exclude(kind=EventKind.DUE_CHANGED)
    own_before = own_events.count()
    response = client.post(
        f"/api/v1/staff/cases/{case.pk}/{url_suffix}", body, content_type="application/json", **auth
    )
    assert response.status_code == status
    if status >= 400:
        assert snapshot() == before
    else:
        assert own_events.count() == own_before + 1  # the action's own event, once


@pytest.mark.parametrize(("role", "scope", "status"), cells(NOTE))
def test_api_note(world, role, scope, status):
    _api_write(world, role, scope, status, "note/", {"text": "备注"})


@pytest.mark.parametrize(("role", "scope", "status"), cells(EXTEND))
def test_api_extend(world, role, scope, status):
    _api_write(world, role, scope, status, "extend/", {"days": 10, "reason": "需征求意见"})


@pytest.mark.parametrize(("role", "scope", "status"), cells(HISTORY))
def test_api_history_export(world, role, scope, status):
    client, auth = api_client(world, role)
    pk = world["cases"][scope].pk
    for fmt in ("csv", "json"):
        response = client.get(f"/api/v1/staff/cases/{pk}/history.{fmt}", **auth)
        assert response.status_code == status, fmt


@pytest.mark.parametrize(("role", "scope", "status"), cells(INTAKE))
def test_api_intake(world, role, scope, status):
    client, auth = api_client(world, role)
    before = snapshot()
    body = {
        **application_fields(),
        "channel": "in_person",
        "agency": world["agencies"][scope].code,
    }
    response = client.post("/api/v1/staff/cases/", body, content_type="application/json", **auth)
    assert response.status_code == status
    if status >= 400:
        assert snapshot() == before
    else:
        assert Case.objects.count() == len(before[0]) + 1


@pytest.mark.parametrize("action", list(ACTIONS))
def test_api_every_action_refuses_outsiders_and_changes_nothing(world, action):
    """Every action endpoint: anonymous 401, no caseworker 403, another agency's case 404 —
    for each role — and nothing written."""
    before = snapshot()
    other = world["cases"]["other"].pk
    url = f"/api/v1/staff/cases/{other}/{action}/"
    for role in ROLES:
        client, auth = api_client(world, role)
        response = client.post(url, {}, content_type="application/json", **auth)
        expected = {"anonymous": 401, "nocaseworker": 403}.get(role, 404)
        assert response.status_code == expected, role
    own = world["cases"]["own"].pk
    for role, expected in (("anonymous", 401), ("nocaseworker", 403)):
        client, auth = api_client(world, role)
        response = client.post(
            f"/api/v1/staff/cases/{own}/{action}/", {}, content_type="application/json", **auth
        )
        assert response.status_code == expected, role
    assert snapshot() == before


@pytest.mark.parametrize(("role", "scope", "status"), cells(READ))
def test_api_report_reads(world, role, scope, status):
    client, auth = api_client(world, role)
    pk = world["reports"][scope].pk
    for url in (
        f"/api/v1/staff/reports/{pk}/",
        f"/api/v1/staff/reports/{pk}/cells/new_received/total/",
        f"/api/v1/staff/reports/computed/?year={YEAR}&agency={world['agencies'][scope].code}",
    ):
        assert client.get(url, **auth).status_code == status, url


@pytest.mark.parametrize(("role", "scope", "status"), cells(REPORT_GENERATE))
def test_api_report_generate(world, role, scope, status):
    client, auth = api_client(world, role)
    before = snapshot()
    body = {"year": YEAR, "agency": world["agencies"][scope].code}
    response = client.post(
        "/api/v1/staff/reports/generate/", body, content_type="application/json", **auth
    )
    assert response.status_code == status
    if status >= 400:
        assert snapshot() == before


# --- the admin ----------------------------------------------------------------------------------
def _admin_status(world, role, url) -> int:
    response = admin_client(world, role).get(url)
    if role == "anonymous":
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    return response.status_code


ADMIN_LISTS = [
    "/admin/",
    "/admin/requests_app/case/",
    "/admin/reporting/annualreport/",
    "/admin/requests_app/review/",
    "/admin/requests_app/lawsuit/",
    "/admin/requests_app/complaint/",
    "/admin/requests_app/feenotice/",
    "/admin/requests_app/letter/",
    "/admin/requests_app/calendarday/",
    "/admin/requests_app/calendaryear/",
    "/admin/requests_app/agency/",
    "/admin/requests_app/caseworker/",
    "/admin/requests_app/notification/",
]


@pytest.mark.parametrize("role", ROLES)
def test_admin_lists(world, role):
    for url in ADMIN_LISTS:
        status = _admin_status(world, role, url)
        expected = {"anonymous": 302, "nocaseworker": 403}.get(role, 200)
        if url == "/admin/" and role == "nocaseworker":
            expected = 200  # the index, with no app on it
        assert status == expected, url


ADMIN_CASE_PAGE = table(
    registrar=(200, 302, 302),
    handler=(200, 302, 302),
    approver=(200, 302, 302),
    supervisor=(200, 200, 302),
    administrator=(200, 200, 302),
    auditor=(200, 200, 302),
    nocaseworker=(403, 403, 403),
    anonymous=(302, 302, 302),
)


@pytest.mark.parametrize(("role", "scope", "status"), cells(ADMIN_CASE_PAGE))
def test_admin_case_page(world, role, scope, status):
    pk = world["cases"][scope].pk
    assert _admin_status(world, role, f"/admin/requests_app/case/{pk}/change/") == status


# GET of an action's form: 200 when offered; a case seen but the action not offered
# redirects to the case page; a case not seen is a 404.
ADMIN_NOTE_FORM = table(
    registrar=(200, 404, 404),
    handler=(200, 404, 404),
    approver=(200, 404, 404),
    supervisor=(302, 302, 404),
    administrator=(200, 200, 404),
    auditor=(302, 302, 404),
    nocaseworker=(403, 403, 403),
    anonymous=(302, 302, 302),
)


@pytest.mark.parametrize(("role", "scope", "status"), cells(ADMIN_NOTE_FORM))
def test_admin_action_form_and_refused_post(world, role, scope, status):
    case = world["cases"][scope]
    url = f"/admin/requests_app/case/{case.pk}/act/note/"
    assert _admin_status(world, role, url) == status
    before = snapshot()
    response = admin_client(world, role).post(
        url, {"text": "备注", "expected_version": case.version}
    )
    if status == 200:
        assert response.status_code == 302
        assert CaseEvent.objects.count() == before[1] + 1
    else:
        assert response.status_code == (302 if status == 302 else status)
        assert snapshot() == before


@pytest.mark.parametrize("action", list(ACTIONS))
def test_admin_every_action_view_hides_another_agencys_case(world, action):
    before = snapshot()
    other = world["cases"]["other"].pk
    for role in ROLES:
        client = admin_client(world, role)
        for method in ("get", "post"):
            response = getattr(client, method)(f"/admin/requests_app/case/{other}/act/{action}/")
            expected = {"anonymous": 302, "nocaseworker": 403}.get(role, 404)
            assert response.status_code == expected, (role, method)
    assert snapshot() == before


ADMIN_INTAKE = {
    "registrar": 200,
    "handler": 403,
    "approver": 200,
    "supervisor": 403,
    "administrator": 200,
    "auditor": 403,
    "nocaseworker": 403,
    "anonymous": 302,
}


@pytest.mark.parametrize("role", ROLES)
def test_admin_intake_page(world, role):
    assert _admin_status(world, role, "/admin/requests_app/case/intake/") == ADMIN_INTAKE[role]


ADMIN_REPORT_PAGE = table(
    registrar=(200, 404, 404),
    handler=(200, 404, 404),
    approver=(200, 404, 404),
    supervisor=(200, 200, 404),
    administrator=(200, 200, 404),
    auditor=(200, 200, 404),
    nocaseworker=(403, 403, 403),
    anonymous=(302, 302, 302),
)


@pytest.mark.parametrize(("role", "scope", "status"), cells(ADMIN_REPORT_PAGE))
def test_admin_report_page_and_cell(world, role, scope, status):
    pk = world["reports"][scope].pk
    for url in (
        f"/admin/reporting/annualreport/{pk}/change/",
        f"/admin/reporting/annualreport/{pk}/cell/new_received/total/",
    ):
        assert _admin_status(world, role, url) == status, url


# --- one rule: agencies_visible, and each edge through it --------------------------------------
@pytest.mark.parametrize(("role", "scope", "status"), cells(READ))
def test_agencies_visible_is_the_read_table(world, role, scope, status):
    user, agency = world["users"][role], world["agencies"][scope]
    visible = agencies_visible(user)
    expected = status == 200
    assert (agency in visible) is expected
    assert visible.agencies().filter(pk=agency.pk).exists() is expected
    # Cases (permissions.visible_cases_filter → selectors) and reports (reporting.selectors).
    assert case_visible(user=user).filter(pk=world["cases"][scope].pk).exists() is expected
    assert report_list(user=user).filter(pk=world["reports"][scope].pk).exists() is expected
    if expected:
        assert report_agency_get(user=user, code=agency.code) == agency
    else:
        with pytest.raises(ReportNotFound):
            report_agency_get(user=user, code=agency.code)


@pytest.mark.parametrize(("role", "scope", "status"), cells(READ))
def test_api_agency_lookup_repeated_requests(world, role, scope, status):
    client, auth = api_client(world, role)
    code = world["agencies"][scope].code
    response = client.get(f"/api/v1/staff/repeated-requests/?agency={code}", **auth)
    assert response.status_code == status


@pytest.mark.parametrize("role", ROLES[:6])
def test_admin_agency_choices_are_the_visible_agencies(world, role):
    """The case list's agency filter (shown when more than one agency is visible) and the
    report status page offer exactly the visible agencies."""
    client = admin_client(world, role)
    visible = set(agencies_visible(world["users"][role]).agencies().values_list("pk", flat=True))
    page = client.get("/admin/requests_app/case/").content.decode()
    offered = {a.pk for a in world["agencies"].values() if f"?agency={a.pk}" in page}
    assert offered == (visible if len(visible) > 1 else set())
    for scope, agency in world["agencies"].items():
        status = client.get(f"/admin/reporting/annualreport/status/?agency={agency.code}")
        assert status.status_code == 200
        shown = f'value="{agency.code}" selected' in status.content.decode()
        assert shown is (agency.pk in visible), scope
