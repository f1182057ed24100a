"""The OpenAPI schema is valid, and a schema-driven fuzzer finds no 500 in the public API.

schemathesis generates requests from /api/schema/ (valid and invalid ones) for every public
operation and checks each answer: not a server error, a status and a body the schema
documents, invalid input refused with a 4xx.

In the suite the runs are derandomized (the same examples every time, so CI does not fail on a
new random find); ``make fuzz`` sets ``FUZZ_RANDOM=1`` to explore new random examples, ten
times as many; a failure prints the failing request to turn into a test.
"""

import base64
import os

import pytest
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application
from requests_app.choices import CaseState as S
from requests_app.choices import Role
from requests_app.models import Agency, Case
from requests_app.services.cases import ACTIONS
from requests_app.services.intake import case_submit
from tests.factories import (
    AgencyFactory,
    application_fields,
    case_in_state,
    caseworker,
    valid_id_number,
)

PUBLIC = r"^/api/v1/(applications|agencies)/"
EXPLORE = os.environ.get("FUZZ_RANDOM") == "1"
RUN = {"derandomize": not EXPLORE, "database": None}

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
public_schema = schema.include(path_regex=PUBLIC)


def test_spectacular_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/applications/track/:" in text
    assert "operationId: staff_cases_extend" in text


def test_every_public_and_staff_operation_is_in_the_schema():
    operations = {
        (op.method.upper(), op.path)
        for op in (result.ok() for result in schema.get_all_operations())
    }
    public = {
        (m, p) for m, p in operations if p.startswith(("/api/v1/applications", "/api/v1/agencies"))
    }
    assert public == {
        ("POST", "/api/v1/applications/"),
        ("POST", "/api/v1/applications/track/"),
        ("POST", "/api/v1/applications/release/"),
        ("POST", "/api/v1/applications/release/download/"),
        ("GET", "/api/v1/agencies/"),
    }
    posts = {p for m, p in operations if m == "POST"}
    assert {f"/api/v1/staff/cases/{{id}}/{action}/" for action in ACTIONS} <= posts


@pytest.fixture
def fuzz_world(db, settings):
    """Agencies and a case to follow; throttles wide open so the run is deterministic."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "submission": "100000/minute",
            "tracking": "100000/minute",
            "tracking_failure": "100000/hour",
            "agencies": "100000/minute",
        },
    }
    # Schemathesis sends wrong credentials to every operation: the lock-out they would reach
    # is tested in test_signin_lockout.py.
    settings.AXES_ENABLED = False
    cache.clear()
    # schemathesis calls the WSGI app directly, whose request signals would close the test's
    # database connection (and its transaction) after each request; Django's test client
    # disconnects the same handler.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    city = AgencyFactory(code="city", name="安顺市人民政府", kind="government")
    office = AgencyFactory(code="city-office", name="安顺市人民政府办公室", parent=city)
    case, code = case_submit(agency=office, fields=application_fields())
    yield {"case": case, "code": code}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    cache.clear()


@public_schema.parametrize()
@settings(
    max_examples=400 if EXPLORE else 40,
    **RUN,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_public_api_never_fails_and_answers_as_documented(case, fuzz_world):
    meta = case.meta
    is_positive = meta is None or not meta.generation.mode.is_negative
    if is_positive and isinstance(case.body, dict):
        # Point some valid requests at real data, so the success paths are exercised too.
        if "agency" in case.body:
            case.body["agency"] = "city-office"
            if len(str(case.body.get("applicant_name", ""))) % 2 == 0:
                # Checks JSON Schema cannot express: make half of these pass them.
                case.body.update(
                    id_type="mainland_id",
                    id_number=valid_id_number(7),
                    phone="0851-33221234",
                    postal_code="561000",
                    email="a@example.com",
                )
        if "access_code" in case.body and len(case.body.get("tracking_number", "")) % 2 == 0:
            case.body["tracking_number"] = fuzz_world["case"].tracking_number
            case.body["access_code"] = fuzz_world["code"]
    excluded = []
    if case.operation.path == "/api/v1/applications/":
        # A schema-valid submission can still be refused: the ID checksum, the phone format and
        # the agency's existence are beyond JSON Schema. Every other check still runs.
        excluded.append(positive_data_acceptance)
    response = case.call_and_validate(excluded_checks=excluded)
    assert response.status_code < 500


# The staff API (list, intake, one case, every action): the same checks, signed in as an
# administrator of the case's agency. A generated id is pointed at a real case in valid requests.
_STAFF_OPERATIONS = "|".join(["list", "intake", "retrieve", *ACTIONS])
staff_schema = schema.include(
    tag_regex=r"^staff( actions)?$", operation_id_regex=rf"^staff_cases_({_STAFF_OPERATIONS})$"
)


@pytest.fixture
def staff_world(fuzz_world):
    office = Agency.objects.get(code="city-office")
    admin = caseworker(office, Role.ADMINISTRATOR, username="fuzz-admin")
    case = case_in_state(S.PROCESSING, agency=office, actor=admin)
    token = base64.b64encode(b"fuzz-admin:pass-123456").decode()
    return {"case": case, "headers": {"Authorization": f"Basic {token}"}}


@pytest.mark.slow
@staff_schema.parametrize()
@settings(
    max_examples=100 if EXPLORE else 10,
    **RUN,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_staff_api_never_fails_and_answers_as_documented(case, staff_world):
    meta = case.meta
    is_positive = meta is None or not meta.generation.mode.is_negative
    if is_positive and "id" in (case.path_parameters or {}):
        case.path_parameters["id"] = staff_world["case"].pk
    response = case.call_and_validate(
        headers=staff_world["headers"],
        # Valid JSON can still be refused by the state machine (409) or the law (400).
        excluded_checks=[positive_data_acceptance],
    )
    assert response.status_code < 500


def test_the_fuzzer_reaches_the_success_path(fuzz_world, client):
    # A guard on the run above: with the data it uses, a valid submission is accepted.
    body = {**application_fields(), "agency": "city-office"}
    response = client.post("/api/v1/applications/", body, content_type="application/json")
    assert response.status_code == 201
    assert Case.objects.count() == 2
