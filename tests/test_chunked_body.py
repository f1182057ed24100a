"""A chunked request body (issue 13 §2): 411 JSON "Content-Length required" under /api/, not
"fields missing"."""

import json

import pytest
from django.test import Client

from requests_app.models import Case
from tests.factories import application_fields

SUBMIT = "/api/v1/applications/"


def chunked_post(path, body: bytes, **extra):
    """What gunicorn hands Django for a chunked body: the decoded bytes as wsgi.input,
    ``Transfer-Encoding: chunked`` and no Content-Length."""
    return Client().generic(
        "POST",
        path,
        body,
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        **extra,
    )


def test_a_chunked_submission_is_411_and_nothing_is_stored(office):
    body = json.dumps({**application_fields(), "agency": office.code}).encode()
    response = chunked_post(SUBMIT, body)
    assert response.status_code == 411
    assert response.json() == {
        "code": "length_required",
        "message": "请求须带 Content-Length，不接受分块传输（chunked）的请求体。",
        "message_en": "Content-Length required: a chunked request body is not accepted.",
        "fields": {},
    }
    assert not Case.objects.exists()


@pytest.mark.parametrize("path", ["/api/v1/staff/cases/", "/api/v1/staff/cases/1/note/"])
def test_the_staff_api_too(db, path):
    assert chunked_post(path, b"{}").status_code == 411


def test_the_same_body_with_its_length_is_accepted(office):
    body = json.dumps({**application_fields(), "agency": office.code})
    response = Client().post(SUBMIT, body, content_type="application/json")
    assert response.status_code == 201


def test_outside_the_api_django_answers(db):
    response = chunked_post("/admin/login/", b"username=a")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
