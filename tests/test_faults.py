"""Faults (issue 6 §3), each against real processes started with ``scripts/procs.py``:

- a worker's pool process killed in the middle of a sweep of thousands of due cases: the
  task is redelivered and finished, every case gets exactly one reminder
  (``tests/test_worker.py`` kills the whole worker of a one-case sweep; this kills the process
  that runs the task while it is between batches);
- Redis stopped while applications are submitted: they are accepted (201) and their e-mail is
  sent once Redis is back (a private redis-server, never the machine's);
- PostgreSQL stopped and started under a running gunicorn: 503 with Retry-After while it is
  down, success afterwards with the same gunicorn processes (a private cluster);
- concurrent retries of one submission with the same Idempotency-Key: one case.

The machine's shared PostgreSQL and Redis are never stopped: each test uses a database of its
own (``ops_faults_*``), a Redis database number of its own, or a private server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from scripts.procs import (
    PYTHON,
    ROOT,
    PrivatePostgres,
    PrivateRedis,
    app_env,
    celery_beat,
    celery_worker,
    database_drop,
    database_recreate,
    free_port,
    gunicorn,
    http,
    manage,
    redis_flush,
    redis_url_with_db,
    stopping,
    wait_http_ok,
    wait_until,
)

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
HAS_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql://"))
PASSWORD = "ops-faults-" + uuid.uuid4().hex[:10]
AGENCY = "ops-faults"

needs_postgres = pytest.mark.skipif(
    not HAS_POSTGRES, reason="DATABASE_URL does not point at PostgreSQL (a shared database)"
)
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set (no broker)")
needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="redis-server is not installed"
)
needs_initdb = pytest.mark.skipif(
    not PrivatePostgres.available(), reason="PostgreSQL 15's initdb/pg_ctl are not installed"
)

pytestmark = [pytest.mark.slow]

# Runs in `manage.py shell`: an agency with three caseworkers (no e-mail for the staff, so only
# the applicants' e-mail is sent) and this year's calendar.
SETUP = """
import os
from django.contrib.auth import get_user_model
from requests_app.models import Agency, Caseworker
agency, _ = Agency.objects.update_or_create(code="{agency}", defaults=dict(
    name="故障演练办公室", kind="office", auto_confirm_receipt=True))
for role in ("registrar", "handler", "approver"):
    user, _ = get_user_model().objects.update_or_create(
        username="faults-" + role, defaults=dict(is_staff=True))
    user.set_password(os.environ["OPS_PASSWORD"])
    user.save()
    Caseworker.objects.update_or_create(user=user, defaults=dict(agency=agency, role=role))
"""


def application(n: int, **extra) -> dict:
    return {
        "agency": AGENCY,
        "applicant_type": "natural_person",
        "applicant_name": f"申请人{n}",
        "id_type": "mainland_id",
        "id_number": "11010519491231002X",
        "phone": "13800138000",
        "email": f"applicant{n}@example.com",
        "address": "贵州省安顺市西秀区南华路2号",
        "description": f"申请公开第{n}号文件。",
        "information_form": "electronic",
        "delivery_method": "email",
        **extra,
    }


def deploy(env: dict) -> None:
    manage(env, "migrate", "--noinput")
    year = time.localtime().tm_year
    manage(env, "load_calendar", "--years", str(year - 1), str(year), str(year + 1))
    manage(env, "shell", "-c", SETUP.format(agency=AGENCY))


def query(database_url: str, sql: str, *params):
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def mail_count(mail_dir: Path, address: str) -> int:
    if not mail_dir.exists():
        return 0
    return sum(
        path.read_text(errors="replace").count(f"To: {address}\n") for path in mail_dir.iterdir()
    )


# --- (a) a worker killed mid-sweep --------------------------------------------------------------
DUE_CASES = 4000

# One case through the services whose 5-day reminder is due today, then cloned in SQL (with
# its clock) so the sweep has thousands of due cases and takes several batches.
DUE_SETUP = """
from django.db import connection
from django.utils import timezone
from requests_app.calendars import calendar_for_agency
from requests_app.models import Agency, Case
from requests_app.services import cases as svc
from requests_app.services.intake import case_submit
from tests.factories import application_fields
from django.contrib.auth import get_user_model
import datetime as dt

agency = Agency.objects.get(code="{agency}")
handler = get_user_model().objects.get(username="faults-handler")
today = timezone.localdate()
received = calendar_for_agency(agency).add_working_days(today, -16)
moment = timezone.make_aware(dt.datetime.combine(received, dt.time(10)))
case, _ = case_submit(agency=agency, fields=application_fields(email="", delivery_method="post"), submitted_at=moment)
case = svc.case_start_processing(case=case, actor=None, handler=handler, effective_at=moment)
assert case.next_action_on <= today, case.next_action_on
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'requests_app_case' AND column_name NOT IN ('id', 'tracking_number')"
    )
    columns = [row[0] for row in cursor.fetchall()]
    listed = ", ".join(f'"{{c}}"' for c in columns)
    cursor.execute(
        f"INSERT INTO requests_app_case (tracking_number, {{listed}}) "
        f"SELECT 'GKCLONE' || lpad(g::text, 8, '0'), {{listed}} "
        f"FROM requests_app_case, generate_series(2, {count}) g WHERE id = %s",
        [case.pk],
    )
print("DUE", Case.objects.filter(next_action_on__lte=today).count())
"""


@needs_postgres
@needs_redis
@pytest.mark.postgres
@pytest.mark.redis
def test_a_pool_process_killed_mid_sweep_loses_and_repeats_nothing(tmp_path):
    """SIGKILL the pool processes after the sweep's first batch committed: the worker
    rejects the lost task (``task_reject_on_worker_lost``), it is redelivered, and the second
    run finishes the remaining cases without touching the done ones."""
    database_url = database_recreate(DATABASE_URL, "ops_faults_sweep")
    redis_url = redis_url_with_db(REDIS_URL, 14)
    redis_flush(redis_url)
    env = app_env(
        database_url=database_url,
        redis_url=redis_url,
        var_dir=tmp_path / "var",
        mail_dir=tmp_path / "mail",
        OPS_PASSWORD=PASSWORD,
    )
    deploy(env)
    out = manage(env, "shell", "-c", DUE_SETUP.format(agency=AGENCY, count=DUE_CASES)).stdout
    assert f"DUE {DUE_CASES}" in out, out

    logs = tmp_path / "logs"
    workers = [celery_worker(env, name=f"sweeper{n}", log_dir=logs, concurrency=1) for n in (1, 2)]
    with stopping(*workers):
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_for_log("ready", timeout=60)
        subprocess.run(
            [PYTHON, "-m", "celery", "-A", "config", "call", "requests_app.deadlines_sweep"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )

        def reminded() -> int:
            return query(
                database_url,
                "SELECT count(*) FROM requests_app_caseevent WHERE kind = 'reminder_sent'",
            )[0][0]

        wait_until(lambda: reminded() > 0, timeout=60, interval=0.005, what="a first batch")
        # Kill the pool process of both workers: whichever is running the sweep (or a batch
        # of it) dies mid-task; an idle one is merely replaced.
        children = [pid for worker in workers for pid in worker.children()]
        assert len(children) == 2, children
        for pid in children:
            os.kill(pid, 9)
        at_kill = reminded()
        assert 0 < at_kill < DUE_CASES, f"the sweep was not caught in the middle: {at_kill}"

        wait_until(lambda: reminded() == DUE_CASES, timeout=120, what="the redelivered sweep")
        time.sleep(2)  # anything still running would write more now
        logs_text = "".join(w.log_text() for w in workers)
        assert "WorkerLostError" in logs_text, logs_text[-3000:]

    per_case = query(
        database_url,
        "SELECT c.id, "
        " (SELECT count(*) FROM requests_app_caseevent e "
        "   WHERE e.case_id = c.id AND e.kind = 'reminder_sent'), "
        " (SELECT count(*) FROM requests_app_notification n "
        "   WHERE n.case_id = c.id AND n.kind = 'deadline_reminder'), "
        " c.next_action_on > (now() AT TIME ZONE 'Asia/Shanghai')::date "
        "FROM requests_app_case c",
    )
    assert len(per_case) == DUE_CASES
    assert {(events, rows, moved) for _, events, rows, moved in per_case} == {(1, 1, True)}
    database_drop(DATABASE_URL, "ops_faults_sweep")
    redis_flush(redis_url)


# --- (b) Redis stopped while applications are submitted ------------------------------------------
@needs_postgres
@needs_redis_server
@pytest.mark.postgres
@pytest.mark.redis
def test_submissions_while_redis_is_down_are_accepted_and_followed_up(tmp_path):
    database_url = database_recreate(DATABASE_URL, "ops_faults_redis")
    redis = PrivateRedis(free_port(), tmp_path / "redis", tmp_path / "logs")
    redis.start()
    mail_dir = tmp_path / "mail"
    env = app_env(
        database_url=database_url,
        redis_url=redis.url,
        var_dir=tmp_path / "var",
        mail_dir=mail_dir,
        SWEEP_INTERVAL_SECONDS="2",
        OPS_PASSWORD=PASSWORD,
    )
    deploy(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = gunicorn(env, port=port, log_dir=tmp_path / "logs", workers=2)
    worker = celery_worker(env, name="worker", log_dir=tmp_path / "logs", concurrency=2)
    beat = celery_beat(env, log_dir=tmp_path / "logs", var_dir=tmp_path / "var")

    def sent(n: int) -> bool:
        return mail_count(mail_dir, f"applicant{n}@example.com") == 1

    with stopping(redis.service, web, worker, beat):
        for service in (web, worker, beat):
            service.start()
        wait_http_ok(base)
        worker.wait_for_log("ready", timeout=60)

        first = http("POST", base + "/api/v1/applications/", application(0))
        assert first.status == 201, first
        wait_until(lambda: sent(0), timeout=30, what="the receipt e-mail with Redis up")

        redis.stop()
        started = time.monotonic()
        answers = [
            http("POST", base + "/api/v1/applications/", application(n), timeout=30)
            for n in range(1, 6)
        ]
        elapsed = time.monotonic() - started
        assert [a.status for a in answers] == [201] * 5, answers
        assert elapsed < 15, f"submissions waited for the broker: {elapsed:.1f} s"
        numbers = [a.json()["tracking_number"] for a in answers]
        unsent = query(
            database_url,
            "SELECT count(*) FROM requests_app_notification n JOIN requests_app_case c "
            "ON c.id = n.case_id WHERE c.tracking_number = ANY(%s) AND n.sent_at IS NULL",
            numbers,
        )
        assert unsent == [(5,)]  # the receipt e-mails wait in the outbox
        time.sleep(3)  # beat and the worker keep running without a broker
        assert not any(sent(n) for n in range(1, 6))

        redis.start()
        wait_until(
            lambda: all(sent(n) for n in range(1, 6)),
            timeout=90,
            what="the e-mails of the submissions made while Redis was down",
        )
        time.sleep(4)  # two more sweeps: nothing is sent twice
        assert [mail_count(mail_dir, f"applicant{n}@example.com") for n in range(6)] == [1] * 6
        for service in (web, worker, beat):
            assert service.alive(), service.tail()
        cases = query(
            database_url,
            "SELECT state, next_action_on IS NOT NULL FROM requests_app_case "
            "WHERE tracking_number = ANY(%s)",
            numbers,
        )
        assert cases == [("registered", True)] * 5  # received, clock running
    database_drop(DATABASE_URL, "ops_faults_redis")


# --- (c) and (d): gunicorn on a private PostgreSQL cluster -----------------------------------------
@pytest.fixture(scope="module")
def private_deployment(tmp_path_factory):
    if not PrivatePostgres.available():
        pytest.skip("PostgreSQL 15's initdb/pg_ctl are not installed")
    tmp = tmp_path_factory.mktemp("private-pg")
    postgres = PrivatePostgres(free_port())
    postgres.init()
    postgres.start()
    try:
        database_url = database_recreate(postgres.url, "ops_faults_pg")
        env = app_env(
            database_url=database_url,
            var_dir=tmp / "var",
            mail_dir=tmp / "mail",
            DB_CONN_MAX_AGE="60",  # persistent connections, as in docker/compose.yaml
            THROTTLE_SUBMISSION="1000/minute",  # many submissions from one client address
            OPS_PASSWORD=PASSWORD,
        )
        deploy(env)
        port = free_port()
        web = gunicorn(env, port=port, log_dir=tmp / "logs", workers=3)
        with stopping(web):
            web.start()
            base = f"http://127.0.0.1:{port}"
            wait_http_ok(base)
            yield {"base": base, "web": web, "postgres": postgres, "database_url": database_url}
    finally:
        postgres.destroy()


def submit_once(base: str, body: dict):
    return http("POST", base + "/api/v1/applications/", body, timeout=30)


def probes(base: str) -> list:
    """A request of each kind: health, a submission, the staff list (Basic), an admin page."""
    return [
        http("GET", base + "/healthz", timeout=20),
        http("POST", base + "/api/v1/applications/", application(9), timeout=20),
        http(
            "GET",
            base + "/api/v1/staff/cases/",
            auth=("faults-approver", PASSWORD),
            timeout=20,
        ),
        http("GET", base + "/admin/login/", headers={"Accept": "text/html"}, timeout=20),
    ]


@needs_initdb
@pytest.mark.postgres
def test_postgres_restart_gives_503_then_recovers_without_restarting_gunicorn(
    private_deployment,
):
    base, web, postgres = (private_deployment[k] for k in ("base", "web", "postgres"))
    # Every gunicorn worker holds a persistent connection before the restart.
    for _ in range(6):
        assert [p.status for p in probes(base)] == [200, 201, 200, 200]
    workers_before = web.children()

    postgres.stop()
    down = [p for _ in range(6) for p in probes(base)[:3]]
    assert {p.status for p in down} == {503}, down
    assert {p.headers.get("Retry-After") for p in down} == {"5"}
    assert {p.json()["code"] for p in down} == {"service_unavailable"}

    postgres.start()
    for _ in range(6):
        assert [p.status for p in probes(base)] == [200, 201, 200, 200]
    assert web.children() == workers_before, "gunicorn's workers were restarted"
    assert "Internal Server Error" not in web.log_text()


@needs_initdb
@pytest.mark.postgres
def test_concurrent_retries_with_one_idempotency_key_make_one_case(private_deployment):
    base, database_url = private_deployment["base"], private_deployment["database_url"]
    body = application(42, description=f"幂等重试测试 {uuid.uuid4().hex}")
    headers = {"Idempotency-Key": uuid.uuid4().hex}

    def submit(_):
        return http("POST", base + "/api/v1/applications/", body, headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=24) as pool:
        answers = list(pool.map(submit, range(48)))
    assert {a.status for a in answers} == {201}, [a for a in answers if a.status != 201]
    assert len({json.dumps(a.json(), sort_keys=True) for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 47
    rows = query(
        database_url,
        "SELECT count(*), count(DISTINCT tracking_number) FROM requests_app_case "
        "WHERE description = %s",
        body["description"],
    )
    assert rows == [(1, 1)]

    def events(description: str) -> list:
        return query(
            database_url,
            "SELECT e.kind, count(*) FROM requests_app_caseevent e JOIN requests_app_case c "
            "ON c.id = e.case_id WHERE c.description = %s GROUP BY e.kind ORDER BY e.kind",
            description,
        )

    # The same history as one submission made once, without any retry.
    single = application(43, description=f"单次提交 {uuid.uuid4().hex}")
    assert submit_once(base, single).status == 201
    assert events(body["description"]) == events(single["description"])
    assert ("submitted", 1) in events(single["description"])
