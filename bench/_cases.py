"""The benchmarks' case table: N cases across a tree of 111 agencies, loaded with COPY.

A city (``bench-city``), 10 districts, 10 departments each; cases received over 2020–2021,
5% still open, the rest concluded within 40 days with an outcome, a reply due date 28 days
after receipt and a timeliness fact (late when concluded after the due date). Loaded once and
reused while the count matches; after loading, the table is vacuumed and analyzed, as
autovacuum would do on a live database, so the planner knows the rows and index-only scans see
an up-to-date visibility map.
"""

import datetime as dt
import json
import random
import time

START = dt.date(2020, 1, 1)


def load(n: int) -> None:
    from django.db import connection

    from requests_app.models import Agency, Case

    root = Agency.objects.filter(code="bench-city").first()
    if (
        root
        and Case.objects.filter(agency__path__startswith=root.path).count() == n
        and Case.objects.filter(reply_due_on__isnull=False).exists()
    ):
        print(f"reusing {n} cases")
        return
    print(f"loading {n} cases …", flush=True)
    with connection.cursor() as cursor:
        # The bench's own database: the history's TRUNCATE guard (audit 0002) lets it empty.
        cursor.execute("SET disclosure.allow_truncate = 'on'")
        cursor.execute("TRUNCATE requests_app_case RESTART IDENTITY CASCADE")
        cursor.execute("RESET disclosure.allow_truncate")

    def node(code, name, parent=None, kind="department"):
        found, _ = Agency.objects.get_or_create(
            code=code, defaults={"name": name, "parent": parent, "kind": kind}
        )
        return found

    root = node("bench-city", "基准市", kind="government")
    leaves = [root]
    for d in range(10):
        district = node(f"bench-d{d}", f"区{d}", root, "district")
        leaves.append(district)
        for k in range(10):
            leaves.append(node(f"bench-d{d}-{k}", f"部门{d}-{k}", district))
    from reporting.formats.base import ALL_OUTCOMES, APPLICANT_COLUMNS

    outcomes = sorted(ALL_OUTCOMES)
    channels = ["online", "post", "in_person", "email", "fax", "oral", "post_unsigned"]
    rng = random.Random(1)
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f.column for f in fields)
    defaults = {f.attname: f.get_default() for f in fields}
    json_fields = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    now = dt.datetime.now(dt.UTC)
    copy_sql = f"COPY requests_app_case ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.connection.cursor().copy(copy_sql) as copy:
        for i in range(n):
            received = START + dt.timedelta(days=rng.randrange(0, 731))
            open_case = rng.random() < 0.05
            concluded = None if open_case else received + dt.timedelta(days=rng.randrange(0, 40))
            due = received + dt.timedelta(days=28)
            extended = i % 13 == 0
            timeliness = ""
            if concluded is not None:
                timeliness = "late" if concluded > due else ("extended" if extended else "on_time")
            values = {
                **defaults,
                "tracking_number": f"B{i:010d}",
                "agency_id": leaves[i % len(leaves)].pk,
                "applicant_type": APPLICANT_COLUMNS[rng.randrange(0, 6)],
                "applicant_name": "申请人",
                "description": "申请公开……",
                "channel": channels[i % 7],
                "submitted_at": now,
                "received_on": received,
                "reply_due_on": due,
                "state": "processing" if open_case else "replied",
                "outcome": "" if open_case else outcomes[i % len(outcomes)],
                "concluded_on": concluded,
                "timeliness": timeliness,
                "is_extended": extended,
                "created_at": now,
                "updated_at": now,
            }
            copy.write_row(
                    [json.dumps(values[f.attname]) if f.attname in json_fields else values[f.attname]
                     for f in fields]
                )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE requests_app_case")
        cursor.execute("VACUUM ANALYZE requests_app_agency")
    print("loaded and analyzed", flush=True)


def best_of(fn, runs: int = 3) -> float:
    """The shortest of ``runs`` timings of ``fn()``, in seconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)
