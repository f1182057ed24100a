"""Work for the Celery workers, queued by task name.

The services never import ``requests_app.tasks``: the tasks import the services (a task takes
ids, re-fetches and calls a service), so the services name the task they want and the broker
carries the message. The names are defined here and used by ``tasks.py``'s decorators.
A service queues work only once its transaction has committed (``transaction.on_commit``), so
a worker never looks for rows that are not there yet.
"""

from __future__ import annotations

from celery import current_app

NOTIFICATIONS_SEND_TASK = "requests_app.notifications_send"
DEADLINES_SWEEP_TASK = "requests_app.deadlines_sweep"
DEADLINES_PROCESS_BATCH_TASK = "requests_app.deadlines_process_batch"
SMS_SEND_TASK = "requests_app.sms_send"


def task_enqueue(name: str, *, args: tuple | list = (), **options):
    """Send one message for the task ``name`` (``options`` as Celery's ``send_task``: e.g.
    ``queue``, ``retry``, ``producer``, ``argsrepr``). A broker error propagates."""
    return current_app.send_task(name, args=args, **options)


def task_producer():
    """One producer connection for several messages (``with task_producer() as producer``)."""
    return current_app.producer_or_acquire()
