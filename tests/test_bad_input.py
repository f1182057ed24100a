"""Bad input on every POST endpoint of the API: a 4xx in the one error shape, never a 500, and
nothing changed. Then the fields: impossible dates, unknown enum values, SQL and script text
(stored verbatim, returned unchanged as data, escaped on the admin page)."""

import base64
import datetime as dt
import re

import pytest
from django.core.cache import cache
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from reporting.services import report_generate
from requests_app.choices import CaseState as S
from requests_app.choices import Role
from requests_app.models import Case, CaseEvent, Complaint
from requests_app.services import proceedings as legal
from requests_app.services.letters import letter_draft
from requests_app.services.records_tasks import task_assign
from tests.factories import application_fields, case_in_state, caseworker

SQL = "'; DROP TABLE requests_app_case;--"
SCRIPT = "<script>alert(1)</script>"
ERROR_KEYS = {"code", "message", "message_en", "fields"}
WIDE_OPEN = {
    "submission": "100000/minute",
    "tracking": "100000/minute",
    "tracking_failure": "100000/hour",
    "agencies": "100000/minute",
}

# Every POST operation of the schema and whether it takes a body.
_SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
POSTS = sorted(
    (path, "requestBody" in ops["post"]) for path, ops in _SCHEMA["paths"].items() if "post" in ops
)
# The record upload takes multipart/form-data, every other body is JSON.
UPLOAD = "/api/v1/staff/cases/{id}/records/"
# Multipart only, like the record upload: answering a 交办 with files.
TASK_ANSWER = "/api/v1/staff/tasks/{id}/answer/"
BODY_POSTS = [path for path, has_body in POSTS if has_body and path not in (UPLOAD, TASK_ANSWER)]


def basic(user) -> dict:
    token = base64.b64encode(f"{user.username}:pass-123456".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["message_en"], str) and body["message_en"]
    if code is not None:
        assert body["code"] == code
    return body


@pytest.fixture
def world(tree, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": WIDE_OPEN}
    cache.clear()
    office = tree["office"]
    approver = caseworker(office, Role.APPROVER, username="office-approver")
    processing = case_in_state(S.PROCESSING, agency=office, actor=approver)
    replied = case_in_state(S.REPLIED, agency=office, actor=approver)
    today = dt.date.today()
    review = legal.review_file(case=replied, actor=approver, filed_on=today)
    lawsuit = legal.lawsuit_file(case=replied, actor=approver, filed_on=today)
    complaint = legal.complaint_receive(
        actor=approver, agency=tree["dept"], filed_on=today, summary="财政局逾期答复"
    )
    letter = letter_draft(case=processing, actor=approver, kind="registration_receipt")
    report = report_generate(agency=office, year=today.year, actor=approver)
    task = task_assign(case=processing, actor=approver, unit=tree["dept"], request="请提供", days=5)
    ids = {
        "/api/v1/staff/cases/": processing.pk,
        "/api/v1/staff/reviews/": review.pk,
        "/api/v1/staff/lawsuits/": lawsuit.pk,
        "/api/v1/staff/complaints/": complaint.pk,
        "/api/v1/staff/letters/": letter.pk,
        "/api/v1/staff/reports/": report.pk,
        "/api/v1/staff/tasks/": task.pk,
    }
    yield {"tree": tree, "approver": approver, "case": processing, "ids": ids}
    cache.clear()


def url_of(path: str, ids: dict) -> str:
    if "{id}" not in path:
        return path
    prefix = next(p for p in ids if path.startswith(p))
    # The case's own id; the ids of its records, pages, regions… need not exist: the body
    # is read before them.
    return re.sub(r"\{\w+\}", "1", path.replace("{id}", str(ids[prefix])))


def state_of_the_world() -> tuple:
    return (
        list(Case.objects.order_by("pk").values_list("pk", "version", "state")),
        CaseEvent.objects.count(),
        Complaint.objects.count(),
    )


def test_every_post_operation_is_covered():
    assert len(POSTS) == 61
    # Operations that take no body (publishing a report, building a release, removing a
    # region, rejecting a suggestion) ignore one: nothing to parse.
    assert [p for p, has_body in POSTS if not has_body] == [
        "/api/v1/staff/cases/{id}/regions/{region_id}/remove/",
        "/api/v1/staff/cases/{id}/releases/",
        "/api/v1/staff/cases/{id}/suggestions/{suggestion_id}/reject/",
        "/api/v1/staff/reports/{id}/publish/",
    ]


@pytest.mark.parametrize(("path", "required"), [(UPLOAD, "file"), (TASK_ANSWER, "answer")])
def test_the_uploads_take_multipart_only(world, path, required):
    url = url_of(path, world["ids"])
    client = Client()
    auth = basic(world["approver"])
    before = state_of_the_world()
    assert_error(client.generic("POST", url, b"{}", content_type="application/json", **auth), 415)
    broken = client.generic(
        "POST", url, b"--B\r\nno headers", content_type="multipart/form-data; boundary=B", **auth
    )
    assert_error(broken, 400)
    missing = client.post(url, {"title": "x"}, **auth)
    fields = assert_error(missing, 400)["fields"]
    assert fields == {required: [missing.json()["fields"][required][0]]}
    assert state_of_the_world() == before


@pytest.mark.parametrize("path", BODY_POSTS)
def test_unreadable_bodies_are_refused_in_the_error_shape(world, path):
    url = url_of(path, world["ids"])
    auth = basic(world["approver"])
    client = Client()
    before = state_of_the_world()

    def post(data, content_type, **extra):
        return client.generic("POST", url, data, content_type=content_type, **auth, **extra)

    # Malformed JSON, a truncated document, a bare value of the wrong type, invalid UTF-8.
    assert_error(post(b'{"agency": "city-office",', "application/json"), 400, "malformed_request")
    assert_error(post(b"{'single': 'quotes'}", "application/json"), 400, "malformed_request")
    assert_error(post(b"\xff\xfe{}", "application/json"), 400, "malformed_request")
    nested = post(b"[" * 100_000 + b"]" * 100_000, "application/json")
    assert_error(nested, 400, "malformed_request")
    assert_error(post(b"[1, 2]", "application/json"), 400, "invalid")
    # A body over DATA_UPLOAD_MAX_MEMORY_SIZE (1 MiB).
    big = b'{"description": "' + b"x" * (1024 * 1024 + 1) + b'"}'
    assert_error(post(big, "application/json"), 413, "request_too_large")
    # Wrong content types, an upload, a charset Python does not know.
    for content_type in ("text/plain", "application/xml", "application/x-www-form-urlencoded"):
        assert_error(post(b"{}", content_type), 415, "unsupported_media_type")
    upload = (
        b'--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4 fake\r\n--BOUNDARY--\r\n"
    )
    assert_error(post(upload, "multipart/form-data; boundary=BOUNDARY"), 415)
    # A charset Python does not know is ignored (Django reads the body as UTF-8).
    odd_charset = post(b"{", "application/json; charset=no-such-charset")
    assert_error(odd_charset, 400, "malformed_request")
    assert state_of_the_world() == before


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
def test_a_too_large_body_is_413_json_on_every_post_in_every_setting(world, settings, debug):
    """``make run`` has DEBUG on: the API still answers 413 in its shape, never Django's
    debug page (which DEBUG would give the refused body otherwise)."""
    settings.DEBUG = debug
    big = b'{"description": "' + b"x" * (1024 * 1024 + 1) + b'"}'
    client = Client(raise_request_exception=False)
    auth = basic(world["approver"])
    before = state_of_the_world()
    for path in BODY_POSTS:
        response = client.generic(
            "POST", url_of(path, world["ids"]), big, content_type="application/json", **auth
        )
        body = assert_error(response, 413, "request_too_large")
        assert body["message"] == "请求内容过大（上限 1048576 字节）。", path
    assert state_of_the_world() == before


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
def test_a_too_large_body_without_credentials_is_still_json(world, settings, debug):
    settings.DEBUG = debug
    big = b"{" + b" " * (1024 * 1024 + 1) + b"}"
    response = Client(raise_request_exception=False).generic(
        "POST", "/api/v1/applications/", big, content_type="application/json"
    )
    assert_error(response, 413, "request_too_large")
    # The admin keeps Django's own page for it.
    form = b"username=" + b"x" * (1024 * 1024 + 1)
    response = Client().generic(
        "POST", "/admin/login/", form, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (400, 403)
    assert response["Content-Type"].startswith("text/html")


# --- dates ----------------------------------------------------------------------------------------
BAD_DATES = ["2023-02-30", "tomorrow", "2023-13-01", "03/01/2023", "9999-12-31", "0001-01-01"]


@pytest.mark.parametrize("bad", BAD_DATES)
def test_impossible_or_out_of_range_dates_are_400_naming_the_field(world, bad):
    auth = basic(world["approver"])
    case_url = f"/api/v1/staff/cases/{world['case'].pk}"
    client = Client()
    before = state_of_the_world()
    posts = [
        ("/api/v1/staff/cases/", {**application_fields(), "channel": "in_person"}, "received_on"),
        (f"{case_url}/set_later_reply_date/", {"reason": "第三方", "reply_by": None}, "reply_by"),
        (f"{case_url}/reviews/", {}, "filed_on"),
        (f"{case_url}/lawsuits/", {}, "filed_on"),
        (
            f"/api/v1/staff/reviews/{world['ids']['/api/v1/staff/reviews/']}/accept/",
            {},
            "accepted_on",
        ),
        ("/api/v1/staff/complaints/", {"agency": "city-finance", "summary": "x"}, "filed_on"),
    ]
    for url, body, field in posts:
        body = {**body, field: bad}
        response = client.post(url, body, content_type="application/json", **auth)
        error = assert_error(response, 400, "invalid")
        assert list(error["fields"]) == [field], (url, error)
    response = client.get(f"/api/v1/staff/cases/?received_from={bad}", **auth)
    if bad not in ("9999-12-31", "0001-01-01"):  # a filter may ask for any real date
        assert list(assert_error(response, 400, "invalid")["fields"]) == ["received_from"]
    else:
        assert response.status_code == 200
    response = client.post(
        "/api/v1/staff/reports/generate/",
        {"year": 2026, "agency": "city-office", "cutoff": bad},
        content_type="application/json",
        **auth,
    )
    assert list(assert_error(response, 400, "invalid")["fields"]) == ["cutoff"]
    assert state_of_the_world() == before


def test_effective_at_in_the_future_is_refused(world):
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    response = Client().post(
        f"/api/v1/staff/cases/{world['case'].pk}/note/",
        {"text": "稍后", "effective_at": future},
        content_type="application/json",
        **basic(world["approver"]),
    )
    assert list(assert_error(response, 400, "invalid")["fields"]) == ["effective_at"]


# --- enums ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/applications/", {"applicant_type": "alien"}, "applicant_type"),
        ("/api/v1/applications/", {"id_type": "passport-x"}, "id_type"),
        ("/api/v1/applications/", {"information_form": "telepathy"}, "information_form"),
        ("/api/v1/applications/", {"delivery_method": "pigeon"}, "delivery_method"),
        ("/api/v1/staff/cases/", {"channel": "smoke_signal"}, "channel"),
        ("CASE/submit_for_approval/", {"outcome": "maybe"}, "outcome"),
        ("CASE/reply_on_spot/", {"outcome": "disclosed_later"}, "outcome"),
        ("CASE/issue_fee_notice/", {"amount_yuan": "10", "method": "by_weight"}, "method"),
        ("CASE/start_consultation/", {"consultee": "甲", "consultee_kind": "x"}, "consultee_kind"),
        ("CASE/fee/compute/", {"method": "by_mood"}, "method"),
        ("CASE/letters/", {"letter_kind": "love_letter"}, "letter_kind"),
        ("REVIEW/decide/", {"decided_on": "2026-01-05", "decision": "x"}, "decision"),
        ("LAWSUIT/decide/", {"decided_on": "2026-01-05", "judgment": "x"}, "judgment"),
        ("/api/v1/staff/complaints/", {"complaint_kind": "rant"}, "complaint_kind"),
        ("/api/v1/staff/reports/generate/", {"year": 2026, "format": "gov1999"}, "format"),
    ],
)
def test_unknown_enum_values_are_400_naming_the_field(world, url, body, field):
    ids = world["ids"]
    url = (
        url.replace("CASE", f"/api/v1/staff/cases/{ids['/api/v1/staff/cases/']}")
        .replace("REVIEW", f"/api/v1/staff/reviews/{ids['/api/v1/staff/reviews/']}")
        .replace("LAWSUIT", f"/api/v1/staff/lawsuits/{ids['/api/v1/staff/lawsuits/']}")
    )
    if url in ("/api/v1/applications/", "/api/v1/staff/cases/"):
        body = {**application_fields(), "agency": "city-office", "channel": "in_person", **body}
    before = state_of_the_world()
    response = Client().post(url, body, content_type="application/json", **basic(world["approver"]))
    error = assert_error(response, 400, "invalid")
    assert field in error["fields"], error
    assert state_of_the_world() == before
    response = Client().get("/api/v1/staff/cases/?state=lost", **basic(world["approver"]))
    assert list(assert_error(response, 400, "invalid")["fields"]) == ["state"]


# --- SQL and script text --------------------------------------------------------------------------
TEXT_FIELDS = [
    "applicant_name",
    "address",
    "legal_representative",
    "contact_person",
    "description",
    "document_number",
    "purpose",
]


@pytest.mark.parametrize("payload", [SQL, SCRIPT])
def test_sql_and_script_text_is_stored_verbatim_and_shown_escaped(world, payload):
    approver = caseworker(
        world["tree"]["office"], Role.APPROVER, username="reader", can_view_personal_data=True
    )
    fields = {name: f"{name}{payload}" for name in TEXT_FIELDS}
    fields["document_number"] = payload[:50]
    body = {**application_fields(), "agency": "city-office", **fields}
    client = Client()
    response = client.post("/api/v1/applications/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    case = Case.objects.get(tracking_number=response.json()["tracking_number"])
    for name in TEXT_FIELDS:
        assert getattr(case, name) == fields[name], name
    # Returned unchanged as data by the staff API.
    detail = client.get(f"/api/v1/staff/cases/{case.pk}/", **basic(approver)).json()
    for name in TEXT_FIELDS:
        assert detail[name] == fields[name], name
    # A note and a complaint with the same text.
    response = client.post(
        f"/api/v1/staff/cases/{case.pk}/note/",
        {"text": payload},
        content_type="application/json",
        **basic(approver),
    )
    assert response.status_code == 200
    assert response.json()["events"][-1]["reason"] == payload
    # Searching with it finds nothing and breaks nothing.
    response = client.get("/api/v1/staff/cases/", {"q": payload}, **basic(approver))
    assert response.status_code == 200 and response.json()["count"] == 0
    assert Case.objects.count() == 3
    # The admin page shows it as text: escaped, never markup.
    client.force_login(approver)
    page = client.get(f"/admin/requests_app/case/{case.pk}/change/").content.decode()
    listing = client.get("/admin/requests_app/case/").content.decode()
    for html in (page, listing):
        assert "<script>alert(1)</script>" not in html
    escaped = payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace("'", "&#x27;").replace('"', "&quot;")
    assert f"applicant_name{escaped}" in listing
    assert f"description{escaped}" in page
    assert re.search(re.escape(escaped), page.split('id="case-history"')[1])


# Every GET page of the API and the admin's change lists, with a NUL in a query parameter.
GETS = sorted(
    path
    for path, ops in _SCHEMA["paths"].items()
    if "get" in ops and "{key}" not in path and "{column}" not in path
)
ADMIN_LISTS = [
    "/admin/requests_app/case/",
    "/admin/requests_app/agency/",
    "/admin/reporting/annualreport/",
    "/admin/",
]


def test_a_nul_in_a_query_parameter_is_a_400_everywhere(world):
    """PostgreSQL cannot compare text holding NUL; a filter with one must be a 400, not a 500."""
    auth = basic(world["approver"])
    client = Client()
    for path in GETS:
        url = url_of(path, world["ids"])
        for query in ({"q": "a\x00b"}, {"state": "\x00"}, {"x\x00": "1"}):
            body = assert_error(client.get(url, query, **auth), 400, "invalid")
            assert list(body["fields"]) and body["message_en"].endswith("NUL character (\\0).")
    client.force_login(world["approver"])
    for url in ADMIN_LISTS:
        for query in ({"state": "a\x00b"}, {"q": "\x00"}, {"tracking_number": "\x00"}):
            response = client.get(url, query)
            assert response.status_code == 400, (url, query)
            assert "NUL" in response.content.decode()


@pytest.mark.parametrize(
    "text, why",
    [("a\x00b", "NUL"), ("\ud800", "surrogate")],
    ids=["nul", "lone-surrogate"],
)
def test_text_the_database_cannot_store_is_a_400_naming_the_field(world, text, why):
    """DRF refuses NUL and lone surrogates in named text fields; a free-form object (the fee
    computation) is checked for them in its keys and nested values, so PostgreSQL never
    refuses the write as a 500. Unknown keys are ignored, so they are harmless."""
    case = world["case"]
    client = Client()
    url = f"/api/v1/staff/cases/{case.pk}/issue_fee_notice/"
    before = state_of_the_world()
    for computation in ({"note": text}, {text: 1}, {"lines": [{"x": text}]}):
        body = {"amount_yuan": "10.00", "method": "by_count", "computation": computation}
        response = client.post(
            url, body, content_type="application/json", **basic(world["approver"])
        )
        fields = assert_error(response, 400, "invalid")["fields"]
        assert why in fields["computation"][0]
    response = client.post(
        url, {"reason": text}, content_type="application/json", **basic(world["approver"])
    )
    assert "reason" not in assert_error(response, 400, "invalid")["fields"]  # unknown: ignored
    assert state_of_the_world() == before
