"""API load benchmark (its bar: docs/benchmarks.md): the submission API against a bare Django
view that inserts the same row, side by side, with the same gunicorn and PostgreSQL, under 200
clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x python bench/api_load.py [--quick]

Creates a database of its own (``ops_bench_api``) on the server of DATABASE_URL, migrates it,
seeds an agency, an approver and 500 cases (60 with --quick) through the services, and starts gunicorn exactly
as docker/entrypoint.sh does (sync workers, ``GUNICORN_WORKERS``, default 4) with the
production settings plus ``bench/settings.py`` (throttling off: the load generator is one
client address; the bare view in ``bench/urls.py``; Redis is used as in production when
REDIS_URL is set, on database number 12). The load generator is this process: asyncio, one
coroutine per client, each sending one HTTP/1.1 request per connection (gunicorn's sync
workers close the connection after each answer) as fast as answers come back.

Phases, each ``--seconds`` long after a warm-up, in this order and repeated ``--rounds`` times:
``bare`` (POST /bench/bare-insert/), ``api`` (POST /api/v1/applications/ with an
Idempotency-Key, as portals send it), ``page`` (the same application through the applicants'
page: the form's confirming POST to /agencies/CODE/apply/ with its CSRF token and submission
key, answered by the redirect to the receipt), ``list`` (GET /api/v1/staff/cases/ as a
logged-in approver, session cookie; the database is vacuumed and analyzed before it, as
autovacuum would have done by then in service). Prints requests/s, p50/p99 latency and errors
(anything but the expected status, or a broken connection) for each.

Then ``status``: the applicant's status page (GET /case/ with a follow session open) on the
demo data (``load_demo``: a year of cases in every state, with their letters; with --quick the
seeded cases instead), one request at a time over a spread of cases, so the time is the
server's and not a queue's: its median and p99.

Ends with ``RESULT``: ``ratio`` = api_rps / bare_rps (the bar: >= 0.5 with api_errors=0 at
200 clients), ``page_ratio`` = page_rps / api_rps (the bar: >= 0.5, no errors) and
``status_p50_ms``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.procs import (  # noqa: E402
    app_env,
    database_drop,
    database_recreate,
    free_port,
    gunicorn,
    manage,
    redis_flush,
    redis_url_with_db,
    stopping,
    wait_http_ok,
)

DATABASE = "ops_bench_api"
STATUS_CASES = 60  # follow sessions for the status page, spread over the cases
AGENCY = "bench-office"
SEED = """
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from requests_app.models import Agency, Caseworker
from requests_app.services.intake import case_submit
agency, _ = Agency.objects.update_or_create(code="{agency}", defaults=dict(name="压测办公室"))
user, _ = get_user_model().objects.update_or_create(username="bench-approver",
    defaults=dict(is_staff=True))
Caseworker.objects.update_or_create(user=user, defaults=dict(agency=agency, role="approver"))
fields = {fields}
fields.pop("agency")
for n in range({cases}):
    case_submit(agency=agency, fields={{**fields, "applicant_name": f"申请人{{n}}"}})
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("SESSION", session.session_key)
# Follow sessions for the status page, as a correct tracking number and code open them, over
# a spread of cases (the demo's when loaded: every state, with letters).
import time
from portal.views import CASE_SESSION_KEY
from requests_app.models import Case
demo = Case.objects.exclude(agency=agency)
pool = list((demo if demo.exists() else Case.objects).order_by("pk").values_list("pk", flat=True))
step = max(1, len(pool) // {status_cases})
for pk in pool[::step][:{status_cases}]:
    follow = SessionStore()
    follow[CASE_SESSION_KEY] = {{"pk": pk, "until": time.time() + 86400}}
    follow.create()
    print("FOLLOW", follow.session_key)
"""
# The form's CSRF secret, sent as the cookie and as the field (Django accepts the unmasked
# secret in the form).
CSRF_SECRET = "benchcsrfsecret0123456789abcdefg"

APPLICATION = {
    "agency": AGENCY,
    "applicant_type": "natural_person",
    "applicant_name": "张三",
    "id_type": "mainland_id",
    "id_number": "11010519491231002X",
    "phone": "13800138000",
    "email": "zhangsan@example.com",
    "address": "贵州省安顺市西秀区南华路2号",
    "description": "申请公开本机关2025年度部门预算执行情况。",
    "information_form": "electronic",
    "delivery_method": "email",
}


def request_bytes(
    method: str,
    path: str,
    port: int,
    body: bytes = b"",
    headers=None,
    content_type: str = "application/json",
) -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Connection: close",
        "Accept: application/json",
        *[f"{k}: {v}" for k, v in (headers or {}).items()],
    ]
    if body:
        lines += [f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def one(port: int, payload: bytes, expect: int) -> tuple[bool, float]:
    started = time.perf_counter()
    writer = None
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(payload)
        await writer.drain()
        answer = await reader.read()
        ok = answer[9:12] == str(expect).encode()
    except (OSError, asyncio.IncompleteReadError):
        ok = False
    finally:
        # Close at once, also when cancelled: gunicorn's sync worker waits (up to 2 s) for
        # the client to close after it answered, and a socket left open would hold it.
        if writer is not None:
            writer.close()
    return ok, time.perf_counter() - started


async def phase(port, make_payload, expect: int, clients: int, warmup: float, seconds: float):
    """``clients`` coroutines in a closed loop; only answers that complete inside the
    measured window (after ``warmup``) count."""
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + seconds
    latencies: list[float] = []
    errors = 0

    async def client():
        nonlocal errors
        while time.perf_counter() < stop_at:
            ok, latency = await one(port, make_payload(), expect)
            now = time.perf_counter()
            if measure_from <= now <= stop_at:
                if ok:
                    latencies.append(latency)
                else:
                    errors += 1

    tasks = [asyncio.create_task(client()) for _ in range(clients)]
    await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
    for task in tasks:  # requests still in flight at the end are not counted either way
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    # The server still answers what the cancelled clients had sent: wait for that backlog to
    # drain (a health check queues behind it) before the next phase starts.
    await one(port, request_bytes("GET", "/healthz", port), 200)
    return latencies, errors


async def sequential(port: int, payloads: list[bytes], expect: int, count: int):
    """``count`` requests one after another (cycling over ``payloads``): server time."""
    latencies, errors = [], 0
    for n in range(count):
        ok, latency = await one(port, payloads[n % len(payloads)], expect)
        if ok:
            latencies.append(latency)
        else:
            errors += 1
    return latencies, errors


def settle(database_url: str) -> None:
    """``VACUUM ANALYZE`` the bench's database, as autovacuum does in service. The phases
    before the list insert tens of thousands of cases; on a server with autovacuum off (this
    development machine's) the planner would still take the table for empty, sort all the
    agency's cases for every page instead of reading the page from its index, and count them
    without a visibility map. Outside the measured windows."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def summary(
    name: str, latencies: list[float], errors: int, seconds: float, *, show: bool = True
) -> dict:
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    figures = {
        "rps": len(ordered) / seconds,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "errors": errors,
        "requests": len(ordered),
    }
    if not show:
        return figures
    print(
        f"{name:5s} {figures['rps']:8.1f} req/s  p50 {figures['p50_ms']:7.1f} ms  "
        f"p99 {figures['p99_ms']:7.1f} ms  errors {errors}  ({len(ordered)} answers)",
        flush=True,
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short phases (under a minute)")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS", 4)))
    args = parser.parse_args()
    seconds = args.seconds or (5.0 if args.quick else 30.0)
    rounds = args.rounds or (1 if args.quick else 2)
    warmup = 1.0 if args.quick else 3.0

    server = os.environ.get("DATABASE_URL", "")
    if not server.startswith(("postgres://", "postgresql://")):
        sys.exit("set DATABASE_URL to a PostgreSQL server (e.g. postgres://postgres@127.0.0.1/x)")
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        redis_url = redis_url_with_db(redis_url, 12)
        redis_flush(redis_url)
    tmp = Path(tempfile.mkdtemp(prefix="ops-bench-"))
    database_url = database_recreate(server, DATABASE)
    env = app_env(
        database_url=database_url,
        redis_url=redis_url,
        var_dir=tmp / "var",
        settings_module="bench.settings",
        DB_CONN_MAX_AGE="60",
        LOG_LEVEL="ERROR",
    )
    began = time.monotonic()
    manage(env, "migrate", "--noinput")
    print(f"setup: migrated in {time.monotonic() - began:.1f} s", flush=True)
    if not args.quick:
        manage(env, "load_demo", timeout=900)
        print(f"setup: demo data loaded in {time.monotonic() - began:.1f} s", flush=True)
    out = manage(
        env,
        "shell",
        "-c",
        SEED.format(
            agency=AGENCY,
            fields=repr(APPLICATION),
            cases=60 if args.quick else 500,
            status_cases=STATUS_CASES,
        ),
    ).stdout
    session = next(line.split()[1] for line in out.splitlines() if line.startswith("SESSION"))
    follows = [line.split()[1] for line in out.splitlines() if line.startswith("FOLLOW")]
    print(f"setup: seeded in {time.monotonic() - began:.1f} s", flush=True)

    port = free_port()
    web = gunicorn(env, port=port, log_dir=tmp / "logs", workers=args.workers)
    body = json.dumps(APPLICATION).encode()
    bare = request_bytes("POST", "/bench/bare-insert/", port, body)
    listing = request_bytes(
        "GET", "/api/v1/staff/cases/", port, headers={"Cookie": f"sessionid={session}"}
    )

    def api_payload() -> bytes:
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        return request_bytes("POST", "/api/v1/applications/", port, body, headers)

    form = {k: v for k, v in APPLICATION.items() if k != "agency"}
    form.update({"step": "confirm", "csrfmiddlewaretoken": CSRF_SECRET})

    def page_payload() -> bytes:
        fields = urllib.parse.urlencode({**form, "submission_key": uuid.uuid4().hex}).encode()
        return request_bytes(
            "POST",
            f"/agencies/{AGENCY}/apply/",
            port,
            fields,
            {"Cookie": f"csrftoken={CSRF_SECRET}"},
            content_type="application/x-www-form-urlencoded",
        )

    status_pages = [
        request_bytes("GET", "/case/", port, headers={"Cookie": f"sessionid={key}"})
        for key in follows
    ]
    kinds = {
        "bare": (lambda: bare, 201),
        "api": (api_payload, 201),
        "page": (page_payload, 302),
        "list": (lambda: listing, 200),
    }
    print(
        f"api_load: {args.clients} clients, gunicorn {args.workers} sync workers, "
        f"{rounds} x {seconds:.0f} s per phase, PostgreSQL {DATABASE}, "
        f"{'Redis' if redis_url else 'no Redis'}",
        flush=True,
    )
    results: dict[str, tuple[list[float], int]] = {k: ([], 0) for k in kinds}
    with stopping(web):
        web.start()
        wait_http_ok(f"http://127.0.0.1:{port}")
        for number in range(1, rounds + 1):
            for name, (make, expect) in kinds.items():
                if name == "list":
                    settle(database_url)
                latencies, errors = asyncio.run(
                    phase(port, make, expect, args.clients, warmup, seconds)
                )
                print(f"  round {number} ", end="")
                summary(name, latencies, errors, seconds)
                got, errs = results[name]
                results[name] = (got + latencies, errs + errors)
        count = 50 if args.quick else 300
        status_latencies, status_errors = asyncio.run(sequential(port, status_pages, 200, count))
    print("totals:")
    figures = {
        name: summary(name, latencies, errors, seconds * rounds)
        for name, (latencies, errors) in results.items()
    }
    status = summary("status", status_latencies, status_errors, 1.0, show=False)
    print(
        f"status page: median {status['p50_ms']:.1f} ms, p99 {status['p99_ms']:.1f} ms, "
        f"errors {status_errors}; one request at a time over {len(status_pages)} "
        f"{'seeded' if args.quick else 'demo'} cases"
    )
    ratio = figures["api"]["rps"] / figures["bare"]["rps"] if figures["bare"]["rps"] else 0.0
    met = ratio >= 0.5 and figures["api"]["errors"] == 0 and figures["bare"]["errors"] == 0
    print(
        f"api / bare throughput: {ratio:.2f} (bar: >= 0.50, no errors): {'met' if met else 'MISSED'}"
    )
    page_ratio = figures["page"]["rps"] / figures["api"]["rps"] if figures["api"]["rps"] else 0.0
    page_met = page_ratio >= 0.5 and figures["page"]["errors"] == 0
    print(
        f"page / api throughput: {page_ratio:.2f} (bar: >= 0.50, no errors): "
        f"{'met' if page_met else 'MISSED'}"
    )
    print(
        "RESULT "
        + " ".join(
            [
                f"ratio={ratio:.2f}",
                f"page_ratio={page_ratio:.2f}",
                f"status_p50_ms={status['p50_ms']:.1f}",
                f"status_p99_ms={status['p99_ms']:.1f}",
                f"status_errors={status_errors}",
                f"clients={args.clients}",
                *(
                    f"{name}_{key}={value:.1f}"
                    if isinstance(value, float)
                    else f"{name}_{key}={value}"
                    for name in kinds
                    for key, value in figures[name].items()
                    if key != "requests"
                ),
                f"bar={'met' if met and page_met else 'missed'}",
            ]
        ),
        flush=True,
    )
    database_drop(server, DATABASE)
    if redis_url:
        redis_flush(redis_url)
    clean = status_errors == 0 and all(figures[name]["errors"] == 0 for name in kinds)
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
