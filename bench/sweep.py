"""Deadline sweep benchmark (its bar: docs/benchmarks.md): the sweep's work follows the due
cases only.

    DATABASE_URL=postgres://... [REDIS_URL=redis://...] python bench/sweep.py [--quick]

Seeds 1,000,000 open cases (``--quick``: 50,000) with generate_series, 1% of them due today
(a reminder in the stored clock), the rest due on a later day. Measures, in the same run:

- floor: one indexed SELECT of the due rows' ids (the sweep's own query, run by hand), best of
  3; also ``floor_rows_s``, the same SELECT of the columns the batches read, for reference;
- sweep: what beat runs, ``deadlines_sweep(dispatch=True)``: that SELECT plus one message per
  1,000 ids published to a real broker (``REDIS_URL``; without it kombu's in-process
  ``memory://`` transport, which measures publishing minus the network: the RESULT line says
  which), into a private queue, best of 3;
- process: the per-case work (claim ``FOR UPDATE SKIP LOCKED``, notifications, events, the
  next action date), run inline on the messages the sweep published, exactly as a worker runs
  them; reported as ``process_s`` and ``per_case_ms`` so nobody mistakes the sweep's time for
  the whole job; then a replay of the same messages, which must do nothing.

prints the plans of the sweep's SELECT and of a batch's claim (both must use the partial index
``case_next_action_open``) and ends with ``RESULT ...``: ``ratio`` = sweep / floor.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import time
import uuid

from _setup import setup


def columns_sql(model, overrides: dict[str, str]) -> tuple[list[str], list[str], dict]:
    """Column names and SQL expressions for an INSERT ... SELECT: the given expressions, NULL
    for nullable columns, the model's default (as a parameter) for the others."""
    from django.db import models

    columns, expressions, params = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.attname in overrides:
            expressions.append(overrides[field.attname])
        elif field.null:
            expressions.append("NULL")
        else:
            value = field.get_default()
            key = f"default_{field.column}"
            if isinstance(field, models.JSONField):
                params[key] = json.dumps(value)
                expressions.append(f"%({key})s::jsonb")
            else:
                params[key] = value
                expressions.append(f"%({key})s")
    return columns, expressions, params


def seed(total: int, due_fraction: float, today: dt.date) -> tuple[int, int]:
    from django.db import connection, transaction

    from requests_app.choices import Role
    from requests_app.models import Agency, Case, Caseworker, Notification

    with transaction.atomic(), connection.cursor() as cursor:
        # The history is append-only (trigger of migration audit 0001); the benchmark's own
        # rows are removed with the triggers off for this transaction (superuser only).
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "DELETE FROM requests_app_notification WHERE case_id IN "
            "(SELECT id FROM requests_app_case WHERE tracking_number LIKE 'BENCHSW%%')"
        )
        cursor.execute(
            "DELETE FROM requests_app_caseevent WHERE case_id IN "
            "(SELECT id FROM requests_app_case WHERE tracking_number LIKE 'BENCHSW%%')"
        )
        cursor.execute("DELETE FROM requests_app_case WHERE tracking_number LIKE 'BENCHSW%%'")
    agency, _ = Agency.objects.get_or_create(code="bench-sweep", defaults={"name": "基准测试机关"})
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username="bench-sweep-handler")
    Caseworker.objects.update_or_create(
        user=user, defaults={"agency": agency, "role": Role.HANDLER}
    )
    due_every = round(1 / due_fraction)
    reply_due = today + dt.timedelta(days=1)
    due_clock = json.dumps(
        {
            "actions": [
                {
                    "kind": "remind",
                    "deadline": "reply_due_on",
                    "due": reply_due.isoformat(),
                    "on": today.isoformat(),
                    "days_before": 1,
                },
                {
                    "kind": "escalate",
                    "deadline": "reply_due_on",
                    "due": reply_due.isoformat(),
                    "on": (reply_due + dt.timedelta(days=1)).isoformat(),
                    "days_before": None,
                },
            ]
        }
    )
    columns, expressions, params = columns_sql(
        Case,
        {
            "tracking_number": "'BENCHSW' || g",
            "agency_id": str(agency.pk),
            "handler_id": str(user.pk),
            "state": "'processing'",
            "channel": "'online'",
            "applicant_type": "'natural_person'",
            "applicant_name": "'申请人' || g",
            "description": "'申请公开某项信息'",
            "submitted_at": "now() - interval '10 days'",
            "received_on": "%(today)s::date - 10",
            "reply_due_on": f"CASE WHEN g %% {due_every} = 0 THEN %(reply_due)s::date "
            "ELSE %(today)s::date + 2 + (g %% 30) END",
            "next_action_on": f"CASE WHEN g %% {due_every} = 0 THEN %(today)s::date "
            "ELSE %(today)s::date + 1 + (g %% 30) END",
            "clock": f"CASE WHEN g %% {due_every} = 0 THEN %(clock)s::jsonb ELSE '{{}}'::jsonb END",
            "created_at": "now()",
            "updated_at": "now()",
        },
    )
    params.update({"today": today, "reply_due": reply_due, "clock": due_clock, "n": total})
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO requests_app_case ({', '.join(columns)}) "
            f"SELECT {', '.join(expressions)} FROM generate_series(1, %(n)s) AS g",
            params,
        )
        # A settled table, as in service: the previous run's rows gone, statistics fresh.
        cursor.execute("VACUUM ANALYZE requests_app_case")
    Notification.objects.filter(recipient=user).delete()
    due = Case.objects.filter(tracking_number__startswith="BENCHSW", next_action_on=today).count()
    return total, due


def plan_of(queryset) -> str:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = queryset.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        # The id list of a batch's claim, shortened for the reader.
        plan = re.sub(r"'\{(\d+),(\d+),[\d,]*,(\d+)\}'", r"'{\1,\2,...,\3}'", plan)
        transaction.set_rollback(True)
    return plan


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", type=int)
    args = parser.parse_args()
    redis_url = os.environ.get("REDIS_URL", "")
    broker = "redis" if redis_url else "memory"
    os.environ["CELERY_BROKER_URL"] = redis_url or "memory://"
    setup()
    from django.db import connection

    from requests_app.models import CaseEvent, Notification
    from requests_app.services.sweep import (
        CLAIM_SIZE,
        DISPATCH_SIZE,
        claim_queryset,
        deadlines_process_batch,
        deadlines_sweep,
        due_cases_queryset,
    )
    from requests_app.tasks import deadlines_process_batch_task

    app = deadlines_process_batch_task.app
    queue = f"bench-sweep-{uuid.uuid4().hex[:8]}"

    total = args.cases or (50_000 if args.quick else 1_000_000)
    today = dt.date.today()
    started = time.perf_counter()
    total, due = seed(total, 0.01, today)
    print(f"seeded {total} open cases, {due} due, in {time.perf_counter() - started:.1f}s")

    ids_queryset = due_cases_queryset(today).order_by().values_list("pk")
    ids_sql, ids_params = ids_queryset.query.sql_with_params()
    rows_sql, rows_params = (
        due_cases_queryset(today)
        .order_by()
        .values_list("pk", "state", "next_action_on", "clock", "agency_id", "handler_id")
        .query.sql_with_params()
    )

    def select(sql, params) -> float:
        with connection.cursor() as cursor:
            t = time.perf_counter()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            elapsed = time.perf_counter() - t
        assert len(rows) == due, (len(rows), due)
        return elapsed

    select(ids_sql, ids_params)  # warm the cache
    select(rows_sql, rows_params)
    floor_s = min(select(ids_sql, ids_params) for _ in range(3))
    floor_rows_s = min(select(rows_sql, rows_params) for _ in range(3))

    sweep_plan = plan_of(ids_queryset)
    print("sweep SELECT plan:\n" + sweep_plan)
    some_ids = list(due_cases_queryset(today).order_by().values_list("pk", flat=True)[:CLAIM_SIZE])
    claim_plan = plan_of(claim_queryset(some_ids, today))
    print("batch claim plan:\n" + claim_plan)
    # The sweep reads the due rows through the partial index; a batch finds its ids by key
    # (the agency and user tables it joins are small enough to scan).
    index_used = "case_next_action_open" in sweep_plan and not any(
        "Seq Scan on requests_app_case" in plan for plan in (sweep_plan, claim_plan)
    )

    def queued(purge: bool = False) -> int:
        with app.connection_for_write() as conn:
            channel = conn.default_channel
            count = channel.queue_declare(queue=queue, passive=True).message_count
            if purge:
                channel.queue_purge(queue)
        return count

    batches = -(-due // DISPATCH_SIZE)
    deadlines_sweep(today=today, dispatch=True, queue=queue)  # warm the producer's connection
    assert queued(purge=True) == batches
    sweep_times = []
    for attempt in range(3):
        t = time.perf_counter()
        result = deadlines_sweep(today=today, dispatch=True, queue=queue)
        sweep_times.append(time.perf_counter() - t)
        assert result == {"due": due, "batches": batches}, result
        assert queued(purge=attempt < 2) == batches
    sweep_s = min(sweep_times)
    print(f"sweep result: {result} (broker: {broker}, queue {queue})")

    # The workers' part: take the published messages off the queue and run them inline.
    messages = []
    with app.connection_for_write() as conn, conn.SimpleQueue(queue) as simple:
        for _ in range(batches):
            message = simple.get(timeout=5)
            message.ack()
            (case_ids, day), _kwargs, _embed = message.decode()
            messages.append((case_ids, dt.date.fromisoformat(day)))
        try:
            simple.get(block=False)
        except simple.Empty:
            pass
        else:
            raise AssertionError("the sweep published more messages than batches")
    assert sum(len(ids) for ids, _ in messages) == due
    t = time.perf_counter()
    done: dict = {}
    for case_ids, day in messages:
        for key, value in deadlines_process_batch(case_ids, today=day).items():
            done[key] = done.get(key, 0) + value
    process_s = time.perf_counter() - t
    print(f"processed: {done}")
    assert done == {"cases": due, "notifications": due, "reminder_sent": due}, done
    t = time.perf_counter()
    replay = [deadlines_process_batch(case_ids, today=day) for case_ids, day in messages]
    replay_s = time.perf_counter() - t
    assert replay == [{}] * batches, replay
    assert Notification.objects.filter(case__tracking_number__startswith="BENCHSW").count() == due
    assert CaseEvent.objects.filter(case__tracking_number__startswith="BENCHSW").count() == due

    t = time.perf_counter()
    assert deadlines_sweep(today=today, dispatch=True, queue=queue) == {}
    idle_s = time.perf_counter() - t
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)

    print(
        f"floor (indexed SELECT of the {due} due ids): {floor_s * 1000:.1f} ms "
        f"(of their rows: {floor_rows_s * 1000:.1f} ms); "
        f"sweep (SELECT + {batches} messages to {broker}): {sweep_s * 1000:.1f} ms; "
        f"processing the batches inline: {process_s * 1000:.0f} ms "
        f"({process_s * 1000 / due:.3f} ms per due case); replaying them: "
        f"{replay_s * 1000:.0f} ms; next sweep (nothing due): {idle_s * 1000:.1f} ms"
    )
    print(
        f"RESULT cases={total} due={due} broker={broker} batches={batches} "
        f"floor_s={floor_s:.4f} floor_rows_s={floor_rows_s:.4f} sweep_s={sweep_s:.4f} "
        f"ratio={sweep_s / floor_s:.2f} uses_index={int(index_used)} "
        f"process_s={process_s:.3f} per_case_ms={process_s * 1000 / due:.3f} "
        f"replay_s={replay_s:.3f} idle_s={idle_s:.4f} "
        f"median_sweep_s={statistics.median(sweep_times):.4f}"
    )


if __name__ == "__main__":
    main()
