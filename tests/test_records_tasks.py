"""交办 (issue 16): a handler asks another unit for the records; the unit answers with records
or "none held"; the sweep chases it; the unit sees the task, not the case."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from requests_app import selectors
from requests_app.calendars import calendar_for_agency
from requests_app.choices import CaseState, RecordPurpose, Role
from requests_app.management.sample_records import sample_pdf
from requests_app.models import CaseEvent, EventKind, Notification, Record, RecordsTask
from requests_app.selectors import case_visible
from requests_app.services import records_tasks as tasks
from requests_app.services.errors import ActionForbidden, InvalidInput, TransitionRefused
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
    return tmp_path


@pytest.fixture
def unit(office):
    """A department inside the office's agency: a child Agency of kind department."""
    return AgencyFactory(code="office-archive", name="档案科", parent=office, kind="department")


@pytest.fixture
def unit_handler(unit):
    return caseworker(unit, Role.HANDLER)


@pytest.fixture
def unit_head(unit):
    return caseworker(unit, Role.APPROVER)


@pytest.fixture
def case(office, handler):
    case = case_in_state(S.PROCESSING, agency=office, actor=handler)
    case.handler = handler
    case.save(update_fields=["handler"])
    return case


def ask(case, handler, unit, days=5, **kwargs):
    return tasks.task_assign(
        case=case,
        actor=handler,
        unit=unit,
        request="请提供2023年征收补偿方案原件",
        days=days,
        **kwargs,
    )


def pdf(name="补偿方案.pdf", pages=1):
    return SimpleUploadedFile(name, sample_pdf(pages=pages))


def events(case, kind):
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("pk"))


def test_ask_sets_the_due_date_on_the_agency_calendar(case, handler, unit):
    task = ask(case, handler, unit, days=5)
    today = timezone.localdate()
    assert task.due_on == calendar_for_agency(case.agency).add_working_days(today, 5)
    assert task.is_open and task.asked_by == handler
    [event] = events(case, EventKind.TASK_ASSIGNED)
    assert event.actor == handler
    assert event.data["task_id"] == task.pk and event.data["unit"] == "档案科"
    assert event.reason == "请提供2023年征收补偿方案原件"
    assert task.next_reminder_on is not None and task.next_reminder_on <= task.due_on


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"request": " "}, "request"),
        ({"days": 0}, "days"),
        ({"days": 21}, "days"),
        ({"days": "x"}, "days"),
    ],
)
def test_bad_asks_are_refused(case, handler, unit, kwargs, field):
    args = {"request": "请提供", "days": 5, **kwargs}
    with pytest.raises(InvalidInput) as caught:
        tasks.task_assign(case=case, actor=handler, unit=unit, **args)
    assert field in caught.value.fields
    assert not RecordsTask.objects.exists()


def test_the_own_agency_cannot_be_asked(case, handler, office):
    with pytest.raises(InvalidInput) as caught:
        ask(case, handler, office)
    assert "unit" in caught.value.fields


def test_only_the_handling_roles_of_the_agency_ask(case, registrar, unit, tree):
    with pytest.raises(ActionForbidden):
        ask(case, registrar, unit)
    with pytest.raises(ActionForbidden):
        ask(case, caseworker(tree["dept"], Role.HANDLER), unit)


def test_a_concluded_case_gets_no_task(office, handler, approver, unit):
    case = case_in_state(S.REPLIED, agency=office, actor=approver)
    with pytest.raises(TransitionRefused):
        ask(case, handler, unit)


def test_the_unit_answers_with_records_into_the_case(case, handler, unit, unit_handler):
    task = ask(case, handler, unit)
    answered = tasks.task_answer(
        task=task, actor=unit_handler, answer="records", uploads=[(pdf(), "征收补偿方案")]
    )
    [record] = Record.objects.filter(case=case)
    assert record.title == "征收补偿方案" and record.source == "档案科"
    assert record.purpose == RecordPurpose.RESPONSIVE and record.uploaded_by == unit_handler
    assert list(answered.records.all()) == [record]
    assert answered.answered_by == unit_handler and answered.answered_on == timezone.localdate()
    assert answered.next_reminder_on is None
    kinds = list(
        CaseEvent.objects.filter(case=case).order_by("pk").values_list("kind", "actor__username")
    )
    assert kinds[-3:] == [
        (EventKind.TASK_ASSIGNED, handler.username),
        (EventKind.RECORD_ADDED, unit_handler.username),
        (EventKind.TASK_ANSWERED, unit_handler.username),
    ]
    [event] = events(case, EventKind.TASK_ANSWERED)
    assert event.data["record_ids"] == [record.pk] and event.data["asked_by"] == handler.username
    with pytest.raises(TransitionRefused):
        tasks.task_answer(task=task, actor=unit_handler, answer="none_held", note="无")


def test_none_held_needs_a_note_and_no_file(case, handler, unit, unit_handler):
    task = ask(case, handler, unit)
    with pytest.raises(InvalidInput) as caught:
        tasks.task_answer(task=task, actor=unit_handler, answer="none_held")
    assert "note" in caught.value.fields
    with pytest.raises(InvalidInput):
        tasks.task_answer(
            task=task, actor=unit_handler, answer="none_held", note="x", uploads=[pdf()]
        )
    with pytest.raises(InvalidInput) as caught:
        tasks.task_answer(task=task, actor=unit_handler, answer="records")
    assert "files" in caught.value.fields
    with pytest.raises(InvalidInput):
        tasks.task_answer(task=task, actor=unit_handler, answer="maybe", note="x")
    task = tasks.task_answer(
        task=task, actor=unit_handler, answer="none_held", note="检索了2019-2024年文书档案，未找到"
    )
    assert task.answer == "none_held" and not Record.objects.exists()
    [event] = events(case, EventKind.TASK_ANSWERED)
    assert event.data["answer"] == "none_held" and "文书档案" in event.reason


def test_a_bad_file_stores_nothing(case, handler, unit, unit_handler):
    task = ask(case, handler, unit)
    with pytest.raises(InvalidInput):
        tasks.task_answer(
            task=task,
            actor=unit_handler,
            answer="records",
            uploads=[pdf(), SimpleUploadedFile("x.pdf", b"not a pdf")],
        )
    task.refresh_from_db()
    assert task.is_open and not Record.objects.exists()
    assert not events(case, EventKind.TASK_ANSWERED) and not events(case, EventKind.RECORD_ADDED)


def test_only_the_unit_answers(case, handler, approver, unit, tree):
    task = ask(case, handler, unit)
    for outsider in (handler, approver, caseworker(tree["dept"], Role.HANDLER)):
        with pytest.raises(ActionForbidden):
            tasks.task_answer(task=task, actor=outsider, answer="none_held", note="无")
    supervisor = caseworker(unit, Role.SUPERVISOR, username="unit-supervisor")
    with pytest.raises(ActionForbidden):
        tasks.task_answer(task=task, actor=supervisor, answer="none_held", note="无")
    registrar = caseworker(unit, Role.REGISTRAR)
    assert tasks.task_answer(task=task, actor=registrar, answer="none_held", note="无").answer


def test_the_unit_sees_its_task_not_the_case(case, handler, unit, unit_handler, tree):
    task = ask(case, handler, unit)
    other = ask(case, handler, tree["dept"])
    assert not case_visible(user=unit_handler).filter(pk=case.pk).exists()
    assert list(selectors.tasks_visible(unit_handler)) == [task]
    assert list(selectors.tasks_to_answer(unit_handler)) == [task]
    assert set(selectors.tasks_visible(handler)) == {task, other}
    assert not selectors.tasks_to_answer(handler).exists()
    stranger = caseworker(tree["other"], Role.HANDLER)
    assert not selectors.tasks_visible(stranger).exists()


# --- the sweep ----------------------------------------------------------------------------------
def test_the_sweep_reminds_the_unit_then_escalates_to_its_head(
    case, handler, unit, unit_handler, unit_head, monkeypatch
):
    task = ask(case, handler, unit, days=3)
    calendar = calendar_for_agency(case.agency)
    before = calendar.add_working_days(task.due_on, -1)
    totals = tasks.records_tasks_sweep(today=before)
    assert totals["reminder_sent"] == 1
    reminded = Notification.objects.filter(kind="records_task_reminder")
    assert {n.recipient for n in reminded} == {unit_handler}
    assert "档案科" in reminded[0].body
    # Again the same day: nothing new.
    assert tasks.records_tasks_sweep(today=before).get("reminder_sent", 0) == 0
    after = task.due_on + dt.timedelta(days=1)
    totals = tasks.records_tasks_sweep(today=after)
    assert totals["escalated"] == 1
    escalated = Notification.objects.filter(kind="records_task_escalation")
    assert {n.recipient for n in escalated} == {unit_head, handler}
    [event] = events(case, EventKind.ESCALATED)
    assert event.data["task_id"] == task.pk and event.data["deadline"] == "records_task_due_on"
    task.refresh_from_db()
    assert task.next_reminder_on is None  # nothing left to chase
    assert tasks.records_tasks_sweep(today=after + dt.timedelta(days=3)) == {}


def test_an_answered_task_is_not_chased(case, handler, unit, unit_handler):
    task = ask(case, handler, unit, days=3)
    tasks.task_answer(task=task, actor=unit_handler, answer="none_held", note="未掌握")
    assert tasks.records_tasks_sweep(today=task.due_on + dt.timedelta(days=1)) == {}
    assert not Notification.objects.filter(kind__startswith="records_task").exists()


def test_the_beat_task_runs_the_tasks_sweep(case, handler, unit, unit_handler, monkeypatch):
    from requests_app import tasks as celery_tasks

    task = ask(case, handler, unit, days=3)
    monkeypatch.setattr(
        "requests_app.services.clock.clock_today", lambda: task.due_on + dt.timedelta(days=1)
    )
    monkeypatch.setattr("requests_app.services.sweep.deadlines_sweep", lambda **kwargs: {"due": 0})
    monkeypatch.setattr(celery_tasks.notifications_send_task, "apply_async", lambda: None)
    result = celery_tasks.deadlines_sweep_task.run()
    assert result["records_tasks"]["escalated"] == 1
