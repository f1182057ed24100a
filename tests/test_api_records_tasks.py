"""交办 in the staff API: ask, list, answer with files or none held; the unit sees the task but
not the case; refusals are 4xx with a Chinese message."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from requests_app.choices import CaseState, Role
from requests_app.management.sample_records import sample_pdf
from requests_app.models import Record, RecordsTask
from tests.factories import AgencyFactory, case_in_state, caseworker

S = CaseState


@pytest.fixture(autouse=True)
def records_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "records": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "records")},
        },
    }


@pytest.fixture
def unit(office):
    return AgencyFactory(code="office-archive", name="档案科", parent=office, kind="department")


@pytest.fixture
def case(office, handler):
    return case_in_state(S.PROCESSING, agency=office, actor=handler)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_round_trip(case, handler, unit):
    url = reverse("api:staff-case-tasks", args=[case.pk])
    bad = api(handler).post(url, {"unit": "nope", "request": "x", "days": 5}, format="json")
    assert bad.status_code == 400 and bad.json()["fields"] == {"unit": ["not_found"]}
    own = api(handler).post(
        url, {"unit": case.agency.code, "request": "x", "days": 5}, format="json"
    )
    assert own.status_code == 400 and "unit" in own.json()["fields"]
    too_long = api(handler).post(
        url, {"unit": unit.code, "request": "x", "days": 99}, format="json"
    )
    assert too_long.status_code == 400 and "days" in too_long.json()["fields"]
    made = api(handler).post(
        url, {"unit": unit.code, "request": "请提供补偿方案", "days": 5}, format="json"
    )
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["unit"] == unit.code and body["answer"] == "" and body["tracking_number"]
    task_id = body["id"]

    unit_user = caseworker(unit, Role.HANDLER)
    client = api(unit_user)
    # The unit sees the task, not the case.
    assert client.get(reverse("api:staff-case-detail", args=[case.pk])).status_code == 404
    listed = client.get(reverse("api:staff-tasks") + "?todo=tasks_to_answer").json()
    assert [t["id"] for t in listed] == [task_id]
    assert "applicant_name" not in listed[0]
    answer_url = reverse("api:staff-task-answer", args=[task_id])
    empty = client.post(answer_url, {"answer": "records"}, format="multipart")
    assert empty.status_code == 400 and "files" in empty.json()["fields"]
    assert "上传" in empty.json()["message"]
    # The asking handler may not answer for the unit.
    assert api(handler).post(answer_url, {"answer": "none_held", "note": "x"}).status_code == 403
    done = client.post(
        answer_url,
        {"answer": "records", "files": [SimpleUploadedFile("方案.pdf", sample_pdf())]},
        format="multipart",
    )
    assert done.status_code == 200, done.json()
    record = Record.objects.get(case=case)
    assert done.json()["record_ids"] == [record.pk] and done.json()["answered_by"]
    again = client.post(answer_url, {"answer": "none_held", "note": "x"}, format="multipart")
    assert again.status_code == 409
    assert client.get(reverse("api:staff-tasks") + "?todo=tasks_to_answer").json() == []
    assert client.get(reverse("api:staff-tasks") + "?todo=bad").status_code == 400
    mine = api(handler).get(reverse("api:staff-case-tasks", args=[case.pk])).json()
    assert mine[0]["answer"] == "records"


def test_a_stranger_gets_404(case, handler, unit, tree):
    api(handler).post(
        reverse("api:staff-case-tasks", args=[case.pk]),
        {"unit": unit.code, "request": "请提供", "days": 5},
        format="json",
    )
    task = RecordsTask.objects.get()
    stranger = api(caseworker(tree["other"], Role.HANDLER))
    assert stranger.get(reverse("api:staff-task", args=[task.pk])).status_code == 404
    assert (
        stranger.post(
            reverse("api:staff-task-answer", args=[task.pk]), {"answer": "none_held", "note": "x"}
        ).status_code
        == 404
    )
    assert stranger.get(reverse("api:staff-task", args=[10**12])).status_code == 404
