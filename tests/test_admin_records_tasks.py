"""交办 in the admin: the case page's panel asks a unit; the unit finds the task on its workbench
and answers it on the answer page without seeing the case; the handler's workbench shows the
answer. Counts on the workbench equal the rows of the lists they link to."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from requests_app import workbench
from requests_app.choices import CaseState, Role
from requests_app.management.sample_records import sample_pdf
from requests_app.models import EventKind, Record, RecordsTask
from requests_app.services import records_tasks as tasks
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
def unit_handler(unit):
    return caseworker(unit, Role.HANDLER)


@pytest.fixture
def case(office, handler):
    case = case_in_state(S.PROCESSING, agency=office, actor=handler, applicant_name="王秘密")
    case.handler = handler
    case.save(update_fields=["handler"])
    return case


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def count_on_list(client, url) -> int:
    page = client.get(url)
    assert page.status_code == 200, url
    return page.context["cl"].result_count


def test_the_handler_asks_from_the_case_page(case, handler, unit):
    client = client_for(handler)
    page = client.get(reverse("admin:requests_app_case_change", args=[case.pk]))
    html = page.content.decode()
    assert 'id="case-tasks"' in html and 'id="task-assign-form"' in html and "档案科" in html
    url = reverse("admin:requests_app_case_task_assign", args=[case.pk])
    bad = client.post(url, {"unit": unit.pk, "request": "", "days": 5})
    assert bad.status_code == 302 and not RecordsTask.objects.exists()
    done = client.post(url, {"unit": unit.pk, "request": "请提供补偿方案", "days": 5})
    assert done.status_code == 302
    task = RecordsTask.objects.get()
    assert (task.unit, task.asked_by, task.days) == (unit, handler, 5)
    page = client.get(reverse("admin:requests_app_case_change", args=[case.pk]))
    html = page.content.decode()
    assert "请提供补偿方案" in html and "待答复" in html
    assert str(EventKind.TASK_ASSIGNED.label) in html  # the history row


def test_the_unit_answers_without_seeing_the_case(case, handler, unit, unit_handler):
    task = tasks.task_assign(case=case, actor=handler, unit=unit, request="请提供补偿方案", days=5)
    client = client_for(unit_handler)
    assert client.get(reverse("admin:requests_app_case_change", args=[case.pk])).status_code in (
        302,
        404,
    )
    # The workbench item and the list it links to count the same task.
    index = client.get(reverse("admin:index")).content.decode()
    list_url = reverse("admin:requests_app_recordstask_changelist") + "?todo=tasks_to_answer"
    assert list_url in index and "待我答复的交办" in index
    count, first = workbench.tasks_to_answer_for(unit_handler)
    assert count == 1 == count_on_list(client, list_url) and first == [task]
    answer_url = reverse("admin:requests_app_recordstask_answer", args=[task.pk])
    assert answer_url in index
    page = client.get(answer_url)
    html = page.content.decode()
    assert page.status_code == 200
    assert "请提供补偿方案" in html and case.tracking_number in html
    assert "王秘密" not in html and case.phone not in html  # nothing of the applicant
    refused = client.post(answer_url, {"answer": "none_held", "note": ""})
    assert refused.status_code == 200 and refused.context["form"].errors["note"]
    done = client.post(
        answer_url,
        {"answer": "records", "files": [SimpleUploadedFile("补偿方案.pdf", sample_pdf())]},
    )
    assert done.status_code == 302
    task.refresh_from_db()
    assert task.answered_by == unit_handler and task.answer == "records"
    assert Record.objects.get(case=case).title == "补偿方案"
    assert count_on_list(client, list_url) == 0
    # Answered: the page shows the answer, no form.
    html = client.get(answer_url).content.decode()
    assert 'id="task-answer"' in html and 'id="task-answer-form"' not in html

    # The handler's workbench: 交办已答复, equal to the case list's ?todo=.
    handler_client = client_for(handler)
    entries = {e.item.key: e.count for e in workbench.workbench(handler)}
    assert entries["task_answered"] == 1
    url = reverse("admin:requests_app_case_changelist") + "?todo=task_answered"
    assert count_on_list(handler_client, url) == 1


def test_others_neither_see_nor_answer(case, handler, unit, tree):
    task = tasks.task_assign(case=case, actor=handler, unit=unit, request="请提供", days=5)
    answer_url = reverse("admin:requests_app_recordstask_answer", args=[task.pk])
    stranger = client_for(caseworker(tree["other"], Role.HANDLER))
    assert stranger.get(answer_url).status_code == 404
    # The asking handler sees the task but gets no answer form, and a POST is refused.
    own = client_for(handler)
    html = own.get(answer_url).content.decode()
    assert 'id="task-answer-form"' not in html
    own.post(answer_url, {"answer": "none_held", "note": "无"})
    task.refresh_from_db()
    assert task.is_open
