#!/usr/bin/env python
"""The production topology on this machine, without containers, and an end-to-end scenario.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python scripts/topology.py [--keep] [--redis-db 13] [--database ops_topology]

Starts what docker/compose.yaml runs — the nginx proxy (Debian's nginx with the same
docker/nginx/ configuration, plain http), gunicorn behind it (config.wsgi, several sync
workers, on loopback only), two Celery workers and one beat — with ``config.settings.production``
and ``NUM_PROXIES=1`` (plain http on loopback:
DJANGO_SECURE_SSL_REDIRECT=0), against a database of its own on the PostgreSQL server of
DATABASE_URL (dropped and created again) and a Redis database number of its own on the Redis
server of REDIS_URL (flushed; only that number). E-mail goes to files. Then, over HTTP:

 1. a citizen submits through the public API; a retry with the same Idempotency-Key gets the
    first answer; the applicant follows the case with the access code; the receipt e-mail is
    sent by a worker;
 2. caseworkers (created by a setup step, HTTP Basic) take it through the staff API: 分办,
    补正 requested and received, extension, draft, approval, reply; the applicant sees the
    outcome;
 3. a counter application entered back-dated (``received_on`` / ``effective_at``) has its
    5-day reminder due today: beat schedules the sweep, a worker sends the reminder — exactly
    once, with two workers and beat firing every few seconds — and the case is replied to;
 4. ``manage.py annual_report`` counts both cases;
 5. the proxy: a client forging X-Forwarded-For is still counted as itself, two clients are
    counted apart, the proxy's own 413/414/431 answer JSON under /api/, a chunked body passes
    through it (and straight to gunicorn gets 411), and no log line holds a searched phone.

Every request of 1–4 goes through the proxy.

Every process is stopped at the end (unless --keep); the exit status is 0 only when every step
checked out. Each step prints one line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client as httpclient
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.procs import (  # noqa: E402
    Response,
    app_env,
    celery_beat,
    celery_worker,
    database_drop,
    database_recreate,
    free_port,
    gunicorn,
    http,
    manage,
    nginx_proxy,
    redis_flush,
    redis_url_with_db,
    stopping,
    wait_http_ok,
    wait_until,
)

AGENCY = "ops-office"
PASSWORD = "ops-topology-" + uuid.uuid4().hex[:12]
SWEEP_INTERVAL_SECONDS = 3

# Runs in `manage.py shell`: the agency, three caseworkers, and the receipt date R that makes a
# reply deadline's 5-day reminder due today (R + 15 working days <= today < R + 20).
SETUP = """
import json, os
from django.contrib.auth import get_user_model
from django.utils import timezone
from requests_app.calendars import calendar_for_agency
from requests_app.models import Agency, Caseworker

agency, _ = Agency.objects.update_or_create(code="{agency}", defaults=dict(
    name="运维演练市人民政府办公室", kind="office", auto_confirm_receipt=False,
    email="", phone="0851-00000000", review_body="运维演练市人民政府"))
ids = {{}}
for role in ("registrar", "handler", "approver"):
    user, _ = get_user_model().objects.update_or_create(username="ops-" + role, defaults=dict(
        is_staff=True, email=f"ops-{{role}}@example.gov.cn", first_name=role))
    user.set_password(os.environ["OPS_PASSWORD"])
    user.save()
    Caseworker.objects.update_or_create(user=user, defaults=dict(agency=agency, role=role))
    ids[role] = user.pk
today = timezone.localdate()
received = calendar_for_agency(agency).add_working_days(today, -16)
print("SETUP " + json.dumps({{"users": ids, "today": today.isoformat(),
                              "received_on": received.isoformat()}}))
"""


class Failed(Exception):
    pass


def raw(method, url, body=None, *, headers=None, source="127.0.0.1", chunked=False):
    """One request from the loopback address ``source`` (each one a client of its own), the
    body as JSON (or bytes as given), sent chunked without a Content-Length if asked."""
    parts = urllib.parse.urlsplit(url)
    connection = httpclient.HTTPConnection(
        parts.hostname, parts.port, timeout=30, source_address=(source, 0)
    )
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    all_headers = {"Accept": "application/json", **(headers or {})}
    if body is not None:
        all_headers["Content-Type"] = "application/json"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        if chunked:
            connection.putrequest(method, path)
            for name, value in {**all_headers, "Transfer-Encoding": "chunked"}.items():
                connection.putheader(name, value)
            connection.endheaders()
            connection.send(f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        else:
            connection.request(method, path, body=body, headers=all_headers)
        answer = connection.getresponse()
        return Response(answer.status, dict(answer.getheaders()), answer.read())
    except (ConnectionError, httpclient.HTTPException) as error:
        return Response(0, {}, str(error).encode())
    finally:
        connection.close()


def check(condition, message: str, detail=None) -> None:
    if not condition:
        raise Failed(f"{message}: {detail!r}" if detail is not None else message)


def step(message: str) -> None:
    print(f"[topology] ok: {message}", flush=True)


class Topology:
    def __init__(self, args):
        server_url = os.environ.get("DATABASE_URL", "")
        redis_server = os.environ.get("REDIS_URL", "")
        if not server_url.startswith(("postgres://", "postgresql://")) or not redis_server:
            sys.exit("set DATABASE_URL to a PostgreSQL server and REDIS_URL to a Redis server")
        self.args = args
        self.server_url = server_url
        self.tmp = Path(tempfile.mkdtemp(prefix="ops-topology-"))
        self.var_dir = self.tmp / "var"
        self.mail_dir = self.tmp / "mail"
        self.logs = self.tmp / "logs"
        self.database_url = database_recreate(server_url, args.database)
        self.redis_url = redis_url_with_db(redis_server, args.redis_db)
        redis_flush(self.redis_url)
        self.env = app_env(
            database_url=self.database_url,
            redis_url=self.redis_url,
            var_dir=self.var_dir,
            mail_dir=self.mail_dir,
            SWEEP_INTERVAL_SECONDS=str(SWEEP_INTERVAL_SECONDS),
            DB_CONN_MAX_AGE="60",
            OPS_PASSWORD=PASSWORD,
            NUM_PROXIES="1",  # nginx in front, as in compose
        )
        self.port = free_port()
        self.direct = f"http://127.0.0.1:{self.port}"
        self.web = gunicorn(self.env, port=self.port, log_dir=self.logs, workers=args.workers)
        self.proxy_port = free_port()
        self.base = f"http://127.0.0.1:{self.proxy_port}"
        self.proxy = nginx_proxy(
            port=self.proxy_port, upstream=self.port, tmp=self.tmp / "nginx", log_dir=self.logs
        )
        self.workers = [
            celery_worker(self.env, name=f"worker{n}", log_dir=self.logs, concurrency=2)
            for n in (1, 2)
        ]
        self.beat = celery_beat(self.env, log_dir=self.logs, var_dir=self.var_dir)
        print(f"[topology] logs in {self.logs}", flush=True)

    # --- helpers ------------------------------------------------------------------------------
    def query(self, sql: str, *params):
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(sql, params).fetchall()

    def staff(self, role: str, method: str, path: str, data=None):
        return http(method, self.base + path, data, auth=(f"ops-{role}", PASSWORD))

    def act(self, role: str, pk: int, action: str, expect_state: str, **data) -> dict:
        answer = self.staff(role, "POST", f"/api/v1/staff/cases/{pk}/{action}/", data)
        check(answer.status == 200, f"{action} by the {role}", answer)
        body = answer.json()
        check(body["state"]["code"] == expect_state, f"state after {action}", body["state"])
        return body

    def mails_to(self, address: str) -> list[str]:
        if not self.mail_dir.exists():
            return []
        found = []
        for path in sorted(self.mail_dir.iterdir()):
            text = path.read_text(errors="replace")
            # The file backend appends every message of a connection to one file.
            found += [m for m in text.split("\n" + "-" * 79 + "\n") if f"To: {address}" in m]
        return found

    # --- the run --------------------------------------------------------------------------------
    def run(self) -> None:
        manage(self.env, "migrate", "--noinput")
        manage(self.env, "check", "--deploy", "--fail-level", "ERROR")
        year = dt.date.today().year
        manage(self.env, "load_calendar", "--years", *(str(y) for y in (year - 1, year, year + 1)))
        out = manage(self.env, "shell", "-c", SETUP.format(agency=AGENCY)).stdout
        setup = json.loads(next(line for line in out.splitlines() if line.startswith("SETUP "))[6:])
        self.users = setup["users"]
        self.today = dt.date.fromisoformat(setup["today"])
        step(f"database {self.args.database} migrated, calendar loaded, caseworkers created")

        with stopping(self.proxy, self.web, *self.workers, self.beat):
            self.web.start()
            self.proxy.start()
            for worker in self.workers:
                worker.start()
            self.beat.start()
            wait_http_ok(self.direct, timeout=60)
            wait_http_ok(self.base, timeout=30)
            for worker in self.workers:
                worker.wait_for_log("ready", timeout=60)
            self.beat.wait_for_log("beat: Starting", timeout=60)
            step(
                f"nginx on {self.base} in front of gunicorn ({self.args.workers} workers) on "
                f"{self.direct}, 2 Celery workers and beat are up"
            )
            online = self.public_submission()
            counter = self.due_reminder(setup["received_on"])
            self.report([online, counter])
            self.through_the_proxy()
            if self.args.keep:
                print(f"[topology] --keep: serving on {self.base}; Ctrl-C stops", flush=True)
                while True:
                    time.sleep(3600)
            for service in (self.proxy, self.web, *self.workers, self.beat):
                check(service.alive(), f"{service.name} still running at the end")
        for service in (self.proxy, self.web, *self.workers, self.beat):
            check(not service.alive(), f"{service.name} stopped")
        step("every process stopped")
        database_drop(self.server_url, self.args.database)
        redis_flush(self.redis_url)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def public_submission(self) -> int:
        agencies = http("GET", self.base + "/api/v1/agencies/")
        check(agencies.status == 200, "agency list", agencies)
        check(AGENCY in [a["code"] for a in agencies.json()], "agency listed", agencies)
        payload = {
            "agency": AGENCY,
            "applicant_type": "natural_person",
            "applicant_name": "李四",
            "id_type": "mainland_id",
            "id_number": "11010519491231002X",
            "phone": "13800138000",
            "email": "lisi@example.com",
            "address": "贵州省安顺市西秀区南华路2号",
            "description": "申请公开本机关2025年度部门预算执行情况。",
            "information_form": "electronic",
            "delivery_method": "email",
        }
        key = {"Idempotency-Key": uuid.uuid4().hex}
        first = http("POST", self.base + "/api/v1/applications/", payload, headers=key)
        check(first.status == 201, "public submission", first)
        again = http("POST", self.base + "/api/v1/applications/", payload, headers=key)
        check(again.status == 201 and again.json() == first.json(), "retry replays", again)
        check(again.headers.get("Idempotent-Replayed") == "true", "replay header", again.headers)
        number, code = first.json()["tracking_number"], first.json()["access_code"]
        self.tracked = (number, code)
        rows = self.query("SELECT count(*) FROM requests_app_case WHERE tracking_number=%s", number)
        check(rows[0][0] == 1, "one case for two submissions", rows)
        step(f"submitted {number} through the public API; the retry replayed the first answer")

        track = http(
            "POST",
            self.base + "/api/v1/applications/track/",
            {"tracking_number": number, "access_code": code},
        )
        check(track.status == 200, "tracking", track)
        check(track.json()["state"]["code"] == "submitted", "awaiting receipt", track)
        step("the applicant follows the case with the access code")

        listing = self.staff("registrar", "GET", f"/api/v1/staff/cases/?q={number}")
        check(listing.status == 200, "staff list", listing)
        results = listing.json()["results"]
        check([c["tracking_number"] for c in results] == [number], "staff list finds it", results)
        pk = results[0]["id"]
        handler = self.users["handler"]
        # R is fixed by a caseworker (the agency does not confirm automatically: a weekend
        # submission would get next Monday as R, and the reply could not be served today).
        self.act("registrar", pk, "confirm_receipt", "registered", received_on=str(self.today))
        wait_until(
            lambda: self.mails_to("lisi@example.com"),
            timeout=30,
            what="the receipt e-mail sent by a worker",
        )
        step("staff API: receipt confirmed; a worker sent the receipt e-mail")
        self.act("registrar", pk, "start_processing", "processing", handler=handler)
        self.act(
            "handler", pk, "request_supplement", "awaiting_supplement", items="请写明预算科目。"
        )
        self.act("registrar", pk, "receive_supplement", "processing")
        extended = self.act("approver", pk, "extend", "processing", days=10, reason="需调取档案")
        check(extended["is_extended"] is True, "extended", extended)
        self.act("handler", pk, "submit_for_approval", "pending_approval", outcome="disclosed")
        self.act("approver", pk, "approve", "approved", comment="同意")
        self.act("handler", pk, "serve_reply", "replied", service_method="email")
        track = http(
            "POST",
            self.base + "/api/v1/applications/track/",
            {"tracking_number": number, "access_code": code},
        )
        check(track.json()["outcome"]["code"] == "disclosed", "the applicant sees it", track)
        wait_until(
            lambda: len(self.mails_to("lisi@example.com")) >= 5,
            timeout=30,
            what="the applicant's e-mails (receipt, 补正, received, extension, reply)",
        )
        step("staff API: 分办, 补正 requested and received, extended, drafted, approved, replied")
        return pk

    def due_reminder(self, received_on: str) -> int:
        at = f"{received_on}T09:30:00+08:00"
        intake = self.staff(
            "registrar",
            "POST",
            "/api/v1/staff/cases/",
            {
                "channel": "in_person",
                "received_on": received_on,
                "effective_at": at,
                "applicant_type": "natural_person",
                "applicant_name": "王五",
                "id_type": "mainland_id",
                "id_number": "11010519491231002X",
                "phone": "13900139000",
                "address": "贵州省安顺市西秀区塔山路8号",
                "description": "申请公开某路段改造工程的招标文件。",
                "information_form": "paper",
                "delivery_method": "post",
            },
        )
        check(intake.status == 201, "counter intake", intake)
        pk = intake.json()["id"]
        self.act(
            "registrar",
            pk,
            "start_processing",
            "processing",
            handler=self.users["handler"],
            effective_at=at,
        )
        detail = self.staff("handler", "GET", f"/api/v1/staff/cases/{pk}/").json()
        due = dt.date.fromisoformat(detail["reply_due_on"])
        check(due > self.today, "reply deadline still ahead", detail["reply_due_on"])
        step(f"counter case received {received_on} (back-dated): reply due {due}")

        def reminders() -> dict[str, list]:
            rows = self.query(
                "SELECT u.username, n.channel, n.sent_at IS NOT NULL "
                "FROM requests_app_notification n JOIN auth_user u ON u.id = n.recipient_id "
                "WHERE n.case_id=%s AND n.kind='deadline_reminder' ORDER BY 1, 2",
                pk,
            )
            found: dict[str, list] = {}
            for username, channel, sent in rows:
                found.setdefault(username, []).append((channel, sent))
            return found

        one = [("email", True), ("inbox", False)]
        wait_until(
            lambda: reminders().get("ops-handler") == one,
            timeout=60,
            what="beat + a worker to send the handler's reminder",
        )
        # Let beat fire several more sweeps on both workers: still exactly one of everything.
        # (A sweep that ran between the intake and 分办 told the approver, the only one
        # responsible then; the handler is told once 分办 names them.)
        time.sleep(SWEEP_INTERVAL_SECONDS * 3)
        found = reminders()
        check(all(rows == one for rows in found.values()), "one reminder each", found)
        events = self.query(
            "SELECT count(*) FROM requests_app_caseevent WHERE case_id=%s AND kind='reminder_sent'",
            pk,
        )
        check(events[0][0] == len(found), "one reminder event per recipient", (events, found))
        for username in found:
            mails = self.mails_to(f"{username}@example.gov.cn")
            check(len(mails) == 1, f"one reminder e-mail to {username}", len(mails))
            check(f"X-Notification-Key: c{pk}:remind:reply_due_on:" in mails[0], "a reminder")
        sweeps = sum(w.log_text().count("deadlines_sweep") for w in self.workers)
        check(sweeps >= 4, "beat kept scheduling sweeps", sweeps)
        step("beat scheduled the sweep, a worker sent the reminder exactly once")

        self.act("handler", pk, "submit_for_approval", "pending_approval", outcome="disclosed")
        self.act("approver", pk, "approve", "approved")
        self.act(
            "registrar", pk, "serve_reply", "replied", service_method="post",
            tracking_number="EA123456785CN",  # a China Post item number (its check digit holds)
        )  # fmt: skip
        step("the counter case is replied to")
        return pk

    def through_the_proxy(self) -> None:
        number, code = self.tracked
        url = self.base + "/api/v1/applications/track/"
        wrong = "23456789AB" if code != "23456789AB" else "3456789ABC"
        # Client A (127.0.0.2) guesses with a fresh X-Forwarded-For each time: still one client.
        for n in range(10):
            answer = raw(
                "POST",
                url,
                {"tracking_number": number, "access_code": wrong},
                source="127.0.0.2",
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            )
            check(answer.status == 404, f"wrong code {n + 1}", answer)
        locked = raw(
            "POST",
            url,
            {"tracking_number": number, "access_code": code},
            source="127.0.0.2",
            headers={"X-Forwarded-For": "198.51.100.99"},
        )
        check(locked.status == 429, "client A locked out, forged X-Forwarded-For or not", locked)
        other = raw(
            "POST", url, {"tracking_number": number, "access_code": code}, source="127.0.0.3"
        )
        check(other.status == 200, "client B counted apart", other)
        step("through the proxy: a forged X-Forwarded-For is not believed; clients counted apart")

        big = raw(
            "POST", self.base + "/api/v1/applications/", b"{" + b" " * (1024 * 1024 + 10) + b"}"
        )
        long_uri = raw("GET", self.base + "/api/v1/agencies/?x=" + "a" * 9000)
        big_header = raw("GET", self.base + "/api/v1/agencies/", headers={"X-Big": "b" * 9000})
        for answer, status, code_ in (
            (big, 413, "request_too_large"),
            (long_uri, 414, "uri_too_long"),
            (big_header, 431, "headers_too_large"),
        ):
            check(answer.status == status, f"proxy {status}", answer)
            check(
                answer.headers.get("Content-Type", "").startswith("application/json"),
                "json",
                answer,
            )
            check(
                answer.json()["code"] == code_ and answer.json()["message"],
                f"{status} body",
                answer,
            )
        step("the proxy answers its own 413, 414 and 431 in JSON under /api/")

        payload = json.dumps({"tracking_number": number, "access_code": code}).encode()
        chunked = raw("POST", url, payload, source="127.0.0.3", chunked=True)
        check(chunked.status == 200, "a chunked body through the proxy", chunked)
        direct = raw("POST", self.direct + "/api/v1/applications/track/", payload, chunked=True)
        check(direct.status == 411, "a chunked body straight to gunicorn", direct)
        check(direct.json()["code"] == "length_required", "411 body", direct)
        step("a chunked body passes the proxy with its length; straight to gunicorn it is a 411")

        phone = "13800138000"
        listing = self.staff("registrar", "GET", f"/api/v1/staff/cases/?q={phone}")
        check(listing.status == 200, "a search by phone", listing)
        logs = {path.name: path.read_text(errors="replace") for path in self.logs.iterdir()}
        leaked = [name for name, text in logs.items() if phone in text or phone[3:] in text]
        check(leaked == [], "no log holds the searched phone", leaked)
        check("/api/v1/staff/cases/" in logs["nginx-access.log"], "the proxy logs requests")
        step("a search by phone leaves no trace in the proxy's, gunicorn's or the workers' logs")

    def report(self, pks: list[int]) -> None:
        received = self.query("SELECT received_on FROM requests_app_case WHERE id = ANY(%s)", [pks])
        year = self.today.year
        expected = sum(1 for (day,) in received if day.year == year)
        out = manage(
            self.env, "annual_report", "--year", str(year), "--agency", AGENCY, "--output", "json"
        ).stdout
        document = json.loads(out)
        table3 = document["cells"]["table3"]
        check(document["agency"] == AGENCY and document["year"] == year, "report header", out)
        check(table3["new_received"]["total"] == expected, "new received", table3["new_received"])
        check(table3["disclosed"]["total"] == expected, "disclosed", table3["disclosed"])
        check(table3["concluded_total"]["total"] == expected, "concluded", table3)
        step(
            f"annual_report {year}: new_received={expected} disclosed={expected} "
            f"concluded_total={expected}"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="ops_topology")
    parser.add_argument("--redis-db", type=int, default=13)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--keep", action="store_true", help="keep serving after the scenario")
    args = parser.parse_args(argv)
    topology = Topology(args)
    started = time.monotonic()
    try:
        topology.run()
    except (Failed, TimeoutError, RuntimeError) as error:
        print(f"[topology] FAILED: {error}", flush=True)
        for service in (topology.proxy, topology.web, *topology.workers, topology.beat):
            print(f"--- {service.name} (last lines)\n{service.tail(25)}", flush=True)
        return 1
    except KeyboardInterrupt:
        return 130
    print(f"[topology] PASSED in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
