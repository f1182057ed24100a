"""The deadline sweep and the notifications (issue 3 §6): reminders once, escalation,
closures, applicant e-mail, and e-mail that survives an unreachable broker."""

import threading

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from kombu.exceptions import OperationalError

from requests_app.calendars import calendar_changed
from requests_app.models import Case, CaseEvent, EventKind, Notification
from requests_app.services import cases as svc
from requests_app.services.notifications import notifications_send
from requests_app.services.sweep import deadlines_process_batch, deadlines_sweep
from tests.clock_calendars import at, case_received, d, load_official

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def calendar_2024():
    calendar_changed()
    load_official(2024)
    yield
    calendar_changed()


@pytest.fixture
def fixed_today(monkeypatch):
    def freeze(day: str):
        monkeypatch.setattr("requests_app.services.clock.clock_today", lambda: d(day))

    return freeze


@pytest.fixture
def staff(handler, approver):
    handler.email, approver.email = "handler@example.gov.cn", "head@example.gov.cn"
    handler.save(update_fields=["email"])
    approver.save(update_fields=["email"])
    return handler, approver


def kinds(case):
    return list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("kind", flat=True))


def staff_rows(case):
    return sorted(
        Notification.objects.filter(case=case, recipient__isnull=False).values_list(
            "dedup_key", "channel", "recipient__username"
        )
    )


def test_a_reminder_is_sent_once(office, staff, fixed_today):
    handler, _ = staff
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    assert case.next_action_on == d("2024-09-27")

    assert deadlines_sweep(today=d("2024-09-26")) == {}  # nothing due yet
    result = deadlines_sweep(today=d("2024-09-27"))
    assert result == {"notifications": 2, EventKind.REMINDER_SENT: 1, "cases": 1}
    key = f"c{case.pk}:remind:supplement_notice_due_on:2024-10-10:5:u{handler.pk}"
    assert staff_rows(case) == [
        (f"{key}:email", "email", handler.username),
        (f"{key}:inbox", "inbox", handler.username),
    ]
    case.refresh_from_db()
    assert case.next_action_on == d("2024-10-09")
    reminder = CaseEvent.objects.get(case=case, kind=EventKind.REMINDER_SENT)
    assert reminder.data == {
        "kind": "remind",
        "deadline": "supplement_notice_due_on",
        "due": "2024-10-10",
        "on": "2024-09-27",
        "days_before": 5,
        "recipients": [handler.username],
    }

    # The same sweep again, and a replay after the case was put back in the index: nothing new.
    assert deadlines_sweep(today=d("2024-09-27")) == {}
    Case.objects.filter(pk=case.pk).update(next_action_on=d("2024-09-27"))
    assert deadlines_sweep(today=d("2024-09-27")) == {"cases": 1}
    assert Notification.objects.filter(case=case, recipient__isnull=False).count() == 2
    assert kinds(case).count(EventKind.REMINDER_SENT) == 1
    case.refresh_from_db()
    assert case.next_action_on == d("2024-10-09")

    assert notifications_send() == 2  # the applicant's receipt e-mail and the handler's reminder
    assert notifications_send() == 0
    assert sorted(m.to[0] for m in mail.outbox) == [
        "handler@example.gov.cn",
        "zhangsan@example.com",
    ]


def test_a_missed_day_sends_only_the_most_urgent_reminder(office, staff, fixed_today):
    handler, _ = staff
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    deadlines_sweep(today=d("2024-10-25"))
    assert [k for k, *_ in staff_rows(case)] == [
        f"c{case.pk}:remind:reply_due_on:2024-10-28:1:u{handler.pk}:email",
        f"c{case.pk}:remind:reply_due_on:2024-10-28:1:u{handler.pk}:inbox",
    ]
    case.refresh_from_db()
    assert case.next_action_on == d("2024-10-29")


def test_a_passed_deadline_warns_the_approvers(office, staff, fixed_today):
    handler, approver = staff
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    result = deadlines_sweep(today=d("2024-10-29"))
    assert result == {"notifications": 2, EventKind.ESCALATED: 1, "cases": 1}
    key = f"c{case.pk}:escalate:reply_due_on:2024-10-28:u{approver.pk}"
    assert staff_rows(case) == [
        (f"{key}:email", "email", approver.username),
        (f"{key}:inbox", "inbox", approver.username),
    ]
    assert Notification.objects.get(dedup_key=f"{key}:inbox").subject == (
        f"【逾期】{case.tracking_number} 答复期限已于 2024-10-28 届满"
    )
    case.refresh_from_db()
    assert case.next_action_on is None  # nothing further until someone acts
    assert deadlines_sweep(today=d("2024-10-30")) == {}


def test_an_unassigned_case_reminds_the_approvers(office, staff, registrar, fixed_today):
    _, approver = staff
    fixed_today("2024-09-25")
    case = case_received(office, registrar, "2024-09-25", state="registered")
    assert case.handler_id is None
    deadlines_sweep(today=d("2024-09-27"))
    assert {r[2] for r in staff_rows(case)} == {approver.username}


def test_supplement_period_out_closes_the_case(office, staff, fixed_today):
    handler, _ = staff
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    fixed_today("2024-09-27")
    case = svc.case_request_supplement(
        case=case, actor=handler, items="文号", effective_at=at("2024-09-27")
    )
    assert case.supplement_due_on == d("2024-10-23")
    assert deadlines_sweep(today=d("2024-10-23")) == {}  # the last day is the applicant's
    fixed_today("2024-10-24")
    result = deadlines_sweep(today=d("2024-10-24"))
    assert result == {"closed": 1, "cases": 1}
    case.refresh_from_db()
    assert (case.state, case.outcome, case.concluded_on) == (
        "closed",
        "abandoned_no_supplement",
        d("2024-10-24"),
    )
    assert case.timeliness == "on_time"
    assert kinds(case)[-1] == EventKind.ABANDON_NO_SUPPLEMENT
    closing = CaseEvent.objects.filter(case=case, kind=EventKind.ABANDON_NO_SUPPLEMENT).get()
    assert closing.actor is None
    assert Notification.objects.filter(dedup_key=f"event:{closing.pk}:applicant:email").count() == 1
    assert deadlines_sweep(today=d("2024-10-25")) == {}


def test_fee_period_out_closes_the_case(office, staff, fixed_today):
    handler, _ = staff
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    fixed_today("2024-10-08")
    case = svc.case_issue_fee_notice(
        case=case, actor=handler, amount_yuan="100.00", effective_at=at("2024-10-08")
    )
    assert case.fee_due_on == d("2024-11-04")  # 20 working days, the 调休 Saturday Oct 12 included
    assert deadlines_sweep(today=d("2024-11-04")) == {}
    assert deadlines_sweep(today=d("2024-11-05")) == {"closed": 1, "cases": 1}
    case.refresh_from_db()
    assert (case.state, case.outcome) == ("closed", "abandoned_no_fee")


def test_without_auto_close_the_office_gets_a_review_task(office, staff, fixed_today):
    handler, approver = staff
    office.auto_close_abandoned = False
    office.save(update_fields=["auto_close_abandoned"])
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    case = svc.case_request_supplement(
        case=case, actor=handler, items="文号", effective_at=at("2024-09-27")
    )
    result = deadlines_sweep(today=d("2024-10-24"))
    assert result == {"notifications": 4, EventKind.CLOSURE_PROPOSED: 1, "cases": 1}
    case.refresh_from_db()
    assert case.state == "awaiting_supplement"
    assert {r[2] for r in staff_rows(case)} == {handler.username, approver.username}
    Case.objects.filter(pk=case.pk).update(next_action_on=d("2024-10-24"))
    assert deadlines_sweep(today=d("2024-10-25")) == {"cases": 1}
    assert kinds(case).count(EventKind.CLOSURE_PROPOSED) == 1


def test_sweep_queries_do_not_grow_with_due_cases(office, staff, fixed_today):
    handler, _ = staff
    fixed_today("2024-09-25")
    for _ in range(2):
        case_received(office, handler, "2024-09-25")
    with CaptureQueriesContext(connection) as small:
        deadlines_sweep(today=d("2024-09-27"))
    for _ in range(7):
        case_received(office, handler, "2024-09-25")
    Case.objects.update(next_action_on=d("2024-10-21"))
    with CaptureQueriesContext(connection) as large:
        deadlines_sweep(today=d("2024-10-21"))
    assert Notification.objects.filter(kind="deadline_reminder", channel="inbox").count() == 2 + 9
    assert len(large.captured_queries) == len(small.captured_queries)


# --- the fan-out: beat selects and dispatches, workers process the batches -----------------
@pytest.fixture
def published(monkeypatch):
    """The messages ``deadlines_sweep(dispatch=True)`` publishes, captured instead of sent
    (the services queue tasks by name: ``services.enqueue``)."""
    from config.celery import app

    messages = []

    def capture(name, args=None, kwargs=None, **options):
        assert name == "requests_app.deadlines_process_batch"
        assert kwargs is None
        assert set(options) == {"argsrepr", "producer"}
        messages.append(args)

    monkeypatch.setattr(app, "send_task", capture)
    return messages


def run_published(messages) -> list[dict]:
    """Run the captured messages as a worker would (the task's own body)."""
    from requests_app.tasks import deadlines_process_batch_task

    return [deadlines_process_batch_task.run(*args) for args in messages]


def test_the_sweep_dispatches_ids_and_the_batches_do_the_work(
    office, staff, fixed_today, published
):
    handler, _ = staff
    fixed_today("2024-09-25")
    cases = [case_received(office, handler, "2024-09-25") for _ in range(7)]
    ids = sorted(c.pk for c in cases)
    before = Notification.objects.count()

    # The sweep: one SELECT of the due ids, no lock, no write; one message per chunk.
    with CaptureQueriesContext(connection) as queries:
        result = deadlines_sweep(today=d("2024-09-27"), batch_size=3, dispatch=True)
    assert result == {"due": 7, "batches": 3}
    assert len(queries.captured_queries) == 1
    sql = queries.captured_queries[0]["sql"]
    assert "FOR UPDATE" not in sql and "JOIN" not in sql
    assert published == [
        (ids[0:3], "2024-09-27"),
        (ids[3:6], "2024-09-27"),
        (ids[6:7], "2024-09-27"),
    ]
    assert Notification.objects.count() == before
    assert Case.objects.filter(pk__in=ids, next_action_on=d("2024-09-27")).count() == 7

    fixed_today("2024-09-27")
    assert run_published(published) == [
        {"notifications": 6, EventKind.REMINDER_SENT: 3, "cases": 3},
        {"notifications": 6, EventKind.REMINDER_SENT: 3, "cases": 3},
        {"notifications": 2, EventKind.REMINDER_SENT: 1, "cases": 1},
    ]
    for case in cases:
        assert kinds(case).count(EventKind.REMINDER_SENT) == 1
        assert Notification.objects.filter(case=case, recipient=handler).count() == 2
    assert Case.objects.filter(pk__in=ids, next_action_on=d("2024-10-09")).count() == 7

    # A redelivered or duplicated message, and the next sweep: nothing new.
    assert run_published(published) == [{}, {}, {}]
    assert deadlines_sweep(today=d("2024-09-27"), dispatch=True) == {}
    assert len(published) == 3
    assert Notification.objects.count() == before + 14


def test_a_batch_acts_as_of_the_day_it_runs(office, staff, fixed_today, published):
    handler, _ = staff
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    Case.objects.filter(pk=case.pk).update(next_action_on=d("2024-10-21"))
    deadlines_sweep(today=d("2024-10-21"), dispatch=True)
    assert published == [([case.pk], "2024-10-21")]
    fixed_today("2024-10-25")  # delivered four days late (e.g. the broker was down)
    assert run_published(published) == [
        {"notifications": 2, EventKind.REMINDER_SENT: 1, "cases": 1}
    ]
    # The reminder of the day it ran (1 day before the 10-28 reply deadline), not the stale one.
    assert [k for k, *_ in staff_rows(case)] == [
        f"c{case.pk}:remind:reply_due_on:2024-10-28:1:u{handler.pk}:email",
        f"c{case.pk}:remind:reply_due_on:2024-10-28:1:u{handler.pk}:inbox",
    ]


def test_a_batch_skips_cases_no_longer_due(office, staff, fixed_today):
    handler, _ = staff
    fixed_today("2024-09-25")
    moved, withdrawn, due = (case_received(office, handler, "2024-09-25") for _ in range(3))
    Case.objects.filter(pk=moved.pk).update(next_action_on=d("2024-10-09"))
    svc.case_withdraw(case=withdrawn, actor=handler, effective_at=at("2024-09-26"))
    batch = [moved.pk, withdrawn.pk, due.pk]
    assert deadlines_process_batch(batch, today=d("2024-09-27")) == {
        "notifications": 2,
        EventKind.REMINDER_SENT: 1,
        "cases": 1,
    }
    assert not Notification.objects.filter(case__in=[moved, withdrawn], recipient=handler).exists()
    assert kinds(due).count(EventKind.REMINDER_SENT) == 1


def test_a_broker_down_at_dispatch_loses_nothing(office, staff, fixed_today, monkeypatch):
    from config.celery import app

    handler, _ = staff
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(app, "send_task", broker_down)
    with pytest.raises(OperationalError):
        deadlines_sweep(today=d("2024-09-27"), dispatch=True)
    case.refresh_from_db()
    assert case.next_action_on == d("2024-09-27")  # still due: the deadline is data
    assert kinds(case).count(EventKind.REMINDER_SENT) == 0
    monkeypatch.undo()
    fixed_today("2024-09-27")
    assert deadlines_sweep(today=d("2024-09-27")) == {
        "notifications": 2,
        EventKind.REMINDER_SENT: 1,
        "cases": 1,
    }


def test_recompute_clocks_command_moves_deadlines_after_a_settings_change(
    office, staff, fixed_today, settings
):
    from io import StringIO

    from django.core.management import call_command

    handler, _ = staff
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    assert case.next_action_on == d("2024-09-27")  # 5 working days before 10-10
    events = CaseEvent.objects.filter(case=case).count()
    settings.DISCLOSURE = {**settings.DISCLOSURE, "REMINDER_DAYS_BEFORE": [3]}
    out = StringIO()
    call_command("recompute_clocks", "--agency", office.code, stdout=out)
    assert out.getvalue() == "recomputed 1 open cases; 1 clocks changed\n"
    case.refresh_from_db()
    assert case.next_action_on == d("2024-09-30")  # 3 working days before 10-10 (National Day)
    assert CaseEvent.objects.filter(case=case).count() == events  # no due date moved
    out = StringIO()
    call_command("recompute_clocks", stdout=out)
    assert out.getvalue() == "recomputed 1 open cases; 0 clocks changed\n"


# --- the applicant's e-mail, and the broker being down ------------------------------------
def test_the_applicant_gets_an_email_at_each_step(
    office, staff, fixed_today, django_capture_on_commit_callbacks
):
    handler, _ = staff
    fixed_today("2024-09-25")
    case = case_received(office, handler, "2024-09-25")
    case = svc.case_request_supplement(
        case=case, actor=handler, items="请写明文号", effective_at=at("2024-09-27")
    )
    rows = list(Notification.objects.filter(case=case, email="zhangsan@example.com").order_by("pk"))
    assert [r.kind for r in rows] == ["applicant_confirm_receipt", "applicant_request_supplement"]
    assert "2024-10-28 前答复" in rows[0].body
    assert "请写明文号" in rows[1].body and "2024-10-23 前提交补正材料" in rows[1].body
    no_mail = case_received(office, handler, "2024-09-25", email="", delivery_method="post")
    assert not Notification.objects.filter(case=no_mail).exists()


def test_an_unreachable_broker_loses_nothing(
    office, staff, fixed_today, monkeypatch, django_capture_on_commit_callbacks
):
    from config.celery import app

    handler, _ = staff
    calls = []

    def broker_down(*args, **kwargs):
        calls.append((args, kwargs))
        raise OperationalError("Error 111 connecting to 127.0.0.1:6399. Connection refused.")

    monkeypatch.setattr(app, "send_task", broker_down)
    fixed_today("2024-09-25")
    with django_capture_on_commit_callbacks(execute=True):
        case = case_received(office, handler, "2024-09-25")
    # The kick was tried once and failed quietly.
    assert calls == [(("requests_app.notifications_send",), {"args": (), "retry": False})]
    case.refresh_from_db()
    assert case.state == "processing"
    row = Notification.objects.get(case=case, kind="applicant_confirm_receipt")
    assert row.sent_at is None
    assert mail.outbox == []
    # The periodic sweep's send step delivers it when the worker runs again.
    assert notifications_send() == 1
    row.refresh_from_db()
    assert row.sent_at is not None
    assert (
        mail.outbox[0].subject
        == f"【{office.name}】已收到您的政府信息公开申请（{case.tracking_number}）"
    )


def test_a_failing_mail_server_leaves_the_row_for_later(office, staff, fixed_today, settings):
    handler, _ = staff
    fixed_today("2024-09-25")
    case_received(office, handler, "2024-09-25")
    settings.EMAIL_BACKEND = "tests.test_sweep.FailingBackend"
    assert notifications_send() == 0
    assert Notification.objects.filter(sent_at__isnull=True, channel="email").count() == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications_send() == 1


class FailingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")

    def open(self):
        return True

    def close(self):
        pass


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_one_reminder(office, staff, fixed_today):
    if connection.vendor != "postgresql":
        pytest.skip(
            "concurrent sweeps need PostgreSQL (set DATABASE_URL); SQLite serialises writers"
        )
    handler, _ = staff
    fixed_today("2024-09-25")
    cases = [case_received(office, handler, "2024-09-25") for _ in range(20)]
    barrier = threading.Barrier(4)
    results, errors = [], []

    def run():
        from django.db import connections

        try:
            barrier.wait()
            results.append(deadlines_sweep(today=d("2024-09-27"), batch_size=3))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(r.get("cases", 0) for r in results) == 20
    for case in cases:
        assert Notification.objects.filter(case=case, recipient=handler).count() == 2
        assert kinds(case).count(EventKind.REMINDER_SENT) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_duplicated_batches_run_concurrently_send_one_reminder(
    office, staff, fixed_today, published
):
    """Two sweeps dispatch the same ids; their messages run at once on four threads."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent batches need PostgreSQL (set DATABASE_URL)")
    handler, _ = staff
    fixed_today("2024-09-25")
    cases = [case_received(office, handler, "2024-09-25") for _ in range(12)]
    for _ in range(2):
        assert deadlines_sweep(today=d("2024-09-27"), batch_size=3, dispatch=True) == {
            "due": 12,
            "batches": 4,
        }
    fixed_today("2024-09-27")
    messages = published * 2  # and each message delivered twice
    barrier = threading.Barrier(4)
    results, errors = [], []

    def run(share):
        from django.db import connections

        try:
            barrier.wait()
            results.extend(run_published(share))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(messages[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 16
    assert sum(r.get("cases", 0) for r in results) == 12
    assert sum(r.get(EventKind.REMINDER_SENT, 0) for r in results) == 12
    for case in cases:
        assert Notification.objects.filter(case=case, recipient=handler).count() == 2
        assert kinds(case).count(EventKind.REMINDER_SENT) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_locked_case_is_skipped_and_taken_by_the_next_sweep(office, staff, fixed_today):
    """A batch skips a case another transaction holds (e.g. a dying worker's); it stays due."""
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED needs PostgreSQL (set DATABASE_URL)")
    handler, _ = staff
    fixed_today("2024-09-25")
    held, free = (case_received(office, handler, "2024-09-25") for _ in range(2))
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold():
        from django.db import connections, transaction

        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()
            done.set()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10)
        result = deadlines_process_batch([held.pk, free.pk], today=d("2024-09-27"))
    finally:
        release.set()
        thread.join()
    assert done.is_set()
    assert result == {"notifications": 2, EventKind.REMINDER_SENT: 1, "cases": 1}
    held.refresh_from_db()
    assert held.next_action_on == d("2024-09-27")
    assert kinds(held).count(EventKind.REMINDER_SENT) == 0
    assert deadlines_sweep(today=d("2024-09-27")) == {
        "notifications": 2,
        EventKind.REMINDER_SENT: 1,
        "cases": 1,
    }
    assert kinds(held).count(EventKind.REMINDER_SENT) == 1
    assert kinds(free).count(EventKind.REMINDER_SENT) == 1
