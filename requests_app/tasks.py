"""Celery tasks: thin and idempotent; they call services (docs/architecture.md).

Deadlines are data swept by beat (``deadlines_sweep_task``), never far-future ETA tasks. The
beat task only selects the due case ids (one indexed SELECT) and publishes one
``deadlines_process_batch_task`` per chunk of ids; the workers do the per-case work.
Tasks are acknowledged late and rejected when their worker dies, so a killed worker's task is
redelivered; every step they take is guarded by a unique key or a row lock, so running a task
twice does nothing twice.
"""

from __future__ import annotations

from celery import shared_task

from requests_app.services.enqueue import (
    DEADLINES_PROCESS_BATCH_TASK,
    DEADLINES_SWEEP_TASK,
    NOTIFICATIONS_SEND_TASK,
    SMS_SEND_TASK,
)


@shared_task(name=NOTIFICATIONS_SEND_TASK, acks_late=True)
def notifications_send_task(limit: int = 500) -> int:
    from requests_app.services.notifications import notifications_send

    return notifications_send(limit=limit)


@shared_task(name=SMS_SEND_TASK, bind=True, acks_late=True, max_retries=None)
def sms_send_task(self, notification_id: int) -> str:
    """Send one text message (by the row's id: no phone or text in the broker). A temporary
    failure is retried after 1, 2, 4 … minutes (at most 30); the service stops at
    ``SMS_MAX_ATTEMPTS`` and marks the row failed."""
    from requests_app.services.notifications import sms_send
    from requests_app.sms import SmsTemporaryError

    try:
        return sms_send(notification_id=notification_id)
    except SmsTemporaryError as error:
        raise self.retry(exc=error, countdown=min(60 * 2**self.request.retries, 1800)) from error


@shared_task(name=DEADLINES_SWEEP_TASK, acks_late=True)
def deadlines_sweep_task() -> dict:
    """Dispatch the deadline actions due today to the workers (one message per chunk of case
    ids), chase the reviews', lawsuits' and 交办 deadlines, complete the 重复申请 checks the
    submissions left pending, then queue the sending of the e-mail and text messages left unsent
    (e.g. while the broker was down)."""
    from requests_app.services.notifications import sms_send_pending
    from requests_app.services.proceedings_sweep import proceedings_sweep
    from requests_app.services.records_tasks import records_tasks_sweep
    from requests_app.services.repeats import repeat_checks_complete
    from requests_app.services.sweep import deadlines_sweep

    result = deadlines_sweep(dispatch=True)
    result["proceedings"] = proceedings_sweep()
    result["records_tasks"] = records_tasks_sweep()
    result["repeat_checks"] = repeat_checks_complete()
    result["sms_queued"] = sms_send_pending()
    notifications_send_task.apply_async()
    return result


@shared_task(name=DEADLINES_PROCESS_BATCH_TASK, acks_late=True)
def deadlines_process_batch_task(case_ids: list[int], today: str) -> dict:
    """Take the due actions of these cases (those still due; the others are skipped). A
    message delivered on a later day than it was sent acts as of the day it runs."""
    import datetime as dt

    from requests_app.services.clock import clock_today
    from requests_app.services.sweep import deadlines_process_batch

    day = max(dt.date.fromisoformat(today), clock_today())
    return deadlines_process_batch(case_ids, today=day)


@shared_task(name="requests_app.calendar_next_year", acks_late=True)
def calendar_next_year_task() -> dict:
    """Make next year known before any deadline reaches it: published when the ``holidays``
    package has the State Council's notice, otherwise provisional (the statutory holidays of
    《全国年节及纪念日放假办法》). A published year is never touched. The same as
    ``manage.py load_calendar --next-year``; returns the year, its status, the cases moved and
    how many open cases have dates in a provisional year."""
    from requests_app.selectors import cases_on_provisional_years
    from requests_app.services.calendar import calendar_years_refresh
    from requests_app.services.clock import clock_today

    (result,) = calendar_years_refresh(years=[clock_today().year + 1], keep_published=True)
    return {
        "year": result.year,
        "status": result.status,
        "cases_moved": result.cases_moved,
        "provisional_open_cases": cases_on_provisional_years().count(),
    }
