"""A real ``celery -A config worker`` against Redis (issue 3 "Done when"): a reminder due now
is sent exactly once when two sweeps run at once (each dispatching a batch with the case), and
when the worker is killed in the middle of the batch that writes the reminder and restarted.
Needs REDIS_URL and a database the worker process can reach (PostgreSQL).

To catch a batch in the middle, a test trigger makes the INSERT of notifications sleep while
the ``clock_test_pause`` table has a row: the batch then holds its claimed case locked, with
its reminder rows written but not committed, for as long as the test needs."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from requests_app.calendars import calendar_changed, library_schedule
from requests_app.models import CaseEvent, EventKind, Notification
from requests_app.services.calendar import calendar_year_load
from tests.clock_calendars import case_received

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set: no broker for a real worker"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def shared_database():
    if connection.vendor != "postgresql":
        pytest.skip(
            "the worker process needs a database it can share (set DATABASE_URL to PostgreSQL)"
        )
    s = connection.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    def __init__(self, database_url: str, tmp_path: Path):
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.queue = f"clock-test-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "CLOCK_TEST_MAIL_DIR": str(self.mail_dir),
            "CLOCK_TEST_QUEUE": self.queue,
            "VAR_DIR": str(tmp_path / "var"),
        }
        self.log = tmp_path / "worker.log"
        self.process = None

    def start(self):
        self.log_handle = open(self.log, "a")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                self.queue,
                "-c",
                "2",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_for("ready", timeout=60)

    def wait_for(self, text: str, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                raise AssertionError("worker exited:\n" + self.log.read_text(errors="replace"))
            time.sleep(0.05)
        raise AssertionError(
            f"worker never logged {text!r}:\n" + self.log.read_text(errors="replace")
        )

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.log_handle.close()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def send_sweep(self):
        from requests_app.tasks import deadlines_sweep_task

        deadlines_sweep_task.apply_async(queue=self.queue)

    def batch_results(self) -> list[str]:
        """What each ``deadlines_process_batch`` task that finished returned, from the log."""
        return re.findall(
            r"requests_app\.deadlines_process_batch\[[^\]]+\] succeeded in [0-9.]+s: (.*)",
            self.log.read_text(errors="replace"),
        )

    def mails_to(self, address: str) -> int:
        return sum(
            f.read_text(errors="replace").count(f"To: {address}") for f in self.mail_dir.iterdir()
        )


@pytest.fixture
def worker(shared_database, tmp_path, settings):
    settings.CELERY_BROKER_URL = REDIS_URL
    from config.celery import app

    app.conf.broker_url = REDIS_URL
    w = Worker(shared_database, tmp_path)
    yield w
    w.stop()


@pytest.fixture
def due_case(office, handler):
    """A case whose 5-day reminder of the reply deadline is due today (real today)."""
    from django.utils import timezone

    calendar_changed()
    today = timezone.localdate()
    for year in (today.year - 1, today.year, today.year + 1):
        found = library_schedule(year)
        if found:
            calendar_year_load(year=year, holidays=found[0], workdays=found[1], source="holidays")
    handler.email = "handler@example.gov.cn"
    handler.save(update_fields=["email"])
    from requests_app.calendars import calendar_for_agency

    received = calendar_for_agency(office).add_working_days(today, -16)
    case = case_received(office, handler, received.isoformat())
    assert case.next_action_on == today
    return case


@pytest.fixture
def pause_batches(shared_database):
    """``pause(seconds)`` makes the next INSERT into the notification table sleep that long
    inside its transaction (``pause(0)`` stops it); returns the sleeping backends' pids."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE clock_test_pause (seconds float NOT NULL)")
        cursor.execute(
            "CREATE FUNCTION clock_test_pause() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "DECLARE s float; BEGIN SELECT max(seconds) INTO s FROM clock_test_pause; "
            "IF s IS NOT NULL THEN PERFORM pg_sleep(s); END IF; RETURN NULL; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER clock_test_pause BEFORE INSERT ON requests_app_notification "
            "FOR EACH STATEMENT EXECUTE FUNCTION clock_test_pause()"
        )

    def pause(seconds: float) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM clock_test_pause")
            if seconds:
                cursor.execute("INSERT INTO clock_test_pause VALUES (%s)", [seconds])

    yield pause
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER clock_test_pause ON requests_app_notification")
        cursor.execute("DROP FUNCTION clock_test_pause()")
        cursor.execute("DROP TABLE clock_test_pause")


def sleeping_inserts() -> list[int]:
    """The pids of the backends paused inside a notification INSERT."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
            "AND query LIKE 'INSERT INTO \"requests_app_notification\"%%' "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def reminder_state(case):
    return (
        Notification.objects.filter(case=case, kind="deadline_reminder", channel="email").count(),
        Notification.objects.filter(
            case=case, kind="deadline_reminder", channel="email", sent_at__isnull=False
        ).count(),
        CaseEvent.objects.filter(case=case, kind=EventKind.REMINDER_SENT).count(),
    )


def wait_until_sent(case, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reminder_state(case)[1] >= 1:
            return
        time.sleep(0.1)
    raise AssertionError(f"reminder not sent: {reminder_state(case)}")


def test_two_concurrent_sweeps_send_one_reminder(worker, due_case, pause_batches):
    # The first batch to write the reminder holds the case for 3 s; the second batch runs
    # meanwhile on the other pool process and must skip it (locked), or find it done.
    pause_batches(3)
    worker.start()
    worker.send_sweep()
    worker.send_sweep()
    wait_for(sleeping_inserts, timeout=30, what="a batch writing the reminder")
    pause_batches(0)
    wait_until_sent(due_case)
    wait_for(lambda: len(worker.batch_results()) == 2, timeout=30, what="both batches")
    time.sleep(1)
    assert sorted(worker.batch_results()) == [
        "{'notifications': 2, 'reminder_sent': 1, 'cases': 1}",
        "{}",
    ]
    assert reminder_state(due_case) == (1, 1, 1)
    assert worker.mails_to("handler@example.gov.cn") == 1


def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(worker, due_case, pause_batches):
    pause_batches(120)
    worker.start()
    worker.send_sweep()
    (backend,) = wait_for(sleeping_inserts, timeout=30, what="the batch writing the reminder")
    worker.kill()  # the whole worker, main process and pool, with the batch unacknowledged
    pause_batches(0)
    # The dead worker's transaction is rolled back: nothing of the batch remains.
    wait_for(lambda: backend not in sleeping_inserts(), timeout=30, what="the rollback")
    assert reminder_state(due_case) == (0, 0, 0)
    due_case.refresh_from_db()
    assert due_case.next_action_on == timezone.localdate()
    assert worker.batch_results() == []
    worker.start()  # the batch is redelivered after the visibility timeout (5 s here)
    wait_until_sent(due_case, timeout=90)
    time.sleep(2)
    assert worker.batch_results() == ["{'notifications': 2, 'reminder_sent': 1, 'cases': 1}"]
    assert reminder_state(due_case) == (1, 1, 1)
    assert worker.mails_to("handler@example.gov.cn") == 1
