"""Annual report over 1,000,000 cases vs one hand-written SQL aggregate over the same rows.

    DATABASE_URL=postgres://... python bench/report.py [--quick]

Loads N cases (1,000,000; 100,000 with --quick) across a tree of 111 agencies (a city, 10
districts, 10 departments each) received over 2020–2021 with COPY (once; reused while the
count matches), then times, best of 3:

- floor: one hand-written SQL statement computing 一/二/三/四 by applicant type and outcome
  with COUNT(*) FILTER over the city's subtree;
- report: ``reporting.engine.compute_report`` for 2021, gov2021, the whole tree (all of its
  queries: the cases, last year's carried-out, reviews, lawsuits, complaints, fees).

Prints the ratio report/floor (bar: ≤ 2) and the peak memory of the process (bar: < 300 MB).
"""

import argparse
import datetime as dt
import json
import random
import resource
import time
import tracemalloc

from _setup import setup

FLOOR_SQL = """
SELECT c.applicant_type, c.outcome,
  COUNT(*) FILTER (WHERE c.received_on BETWEEN %(start)s AND %(end)s),
  COUNT(*) FILTER (WHERE c.received_on < %(start)s
                   AND (c.concluded_on IS NULL OR c.concluded_on >= %(start)s)),
  COUNT(*) FILTER (WHERE c.concluded_on BETWEEN %(start)s AND %(end)s),
  COUNT(*) FILTER (WHERE c.received_on <= %(end)s
                   AND (c.concluded_on IS NULL OR c.concluded_on > %(end)s))
FROM requests_app_case c JOIN requests_app_agency a ON a.id = c.agency_id
WHERE a.path LIKE %(prefix)s
GROUP BY 1, 2
"""


def load(n: int) -> None:
    from django.db import connection

    from requests_app.models import Agency, Case

    root = Agency.objects.filter(code="bench-city").first()
    if root and Case.objects.filter(agency__path__startswith=root.path).count() == n:
        print(f"reusing {n} cases")
        return
    print(f"loading {n} cases …")
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
    now = dt.datetime.now(dt.UTC)
    start = dt.date(2020, 1, 1)
    with connection.cursor() as cursor:
        with cursor.connection.cursor().copy(
            f"COPY requests_app_case ({columns}) FROM STDIN"
        ) as copy:
            for i in range(n):
                received = start + dt.timedelta(days=rng.randrange(0, 731))
                open_case = rng.random() < 0.05
                concluded = (
                    None if open_case else received + dt.timedelta(days=rng.randrange(0, 40))
                )
                values = {
                    "tracking_number": f"B{i:010d}",
                    "agency_id": leaves[i % len(leaves)].pk,
                    "applicant_type": APPLICANT_COLUMNS[rng.randrange(0, 6)],
                    "applicant_name": "申请人",
                    "description": "申请公开……",
                    "channel": channels[i % 7],
                    "submitted_at": now,
                    "received_on": received,
                    "state": "processing" if open_case else "replied",
                    "outcome": "" if open_case else outcomes[i % len(outcomes)],
                    "concluded_on": concluded,
                    "is_extended": i % 13 == 0,
                    "created_at": now,
                    "updated_at": now,
                }
                row = []
                for f in fields:
                    value = values[f.attname] if f.attname in values else f.get_default()
                    if f.get_internal_type() == "JSONField":
                        value = json.dumps(value)
                    row.append(value)
                copy.write_row(row)
        cursor.execute("ANALYZE requests_app_case")
    print("loaded")


def best_of(fn, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    setup()
    from django.db import connection

    from reporting.engine import ReportInputs, compute_report

    n = 100_000 if args.quick else 1_000_000
    load(n)
    params = {"start": dt.date(2021, 1, 1), "end": dt.date(2021, 12, 31), "prefix": "/bench-city/%"}

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, params)
            return cursor.fetchall()

    inputs = ReportInputs.build(year=2021, agency="bench-city", format="gov2021")
    result = compute_report(inputs)
    assert not result.failed_checks, result.failed_checks
    tracemalloc.start()
    report_s = best_of(lambda: compute_report(inputs))
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    floor_s = best_of(floor)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t3 = result.cells["table3"]
    print(f"cases={n} new={t3['new_received']['total']} carried_in={t3['carried_in']['total']} "
          f"concluded={t3['concluded_total']['total']} carried_out={t3['carried_out']['total']}")  # fmt: skip
    print(f"floor {floor_s:.3f}s  report {report_s:.3f}s  python allocations peak "
          f"{traced_peak / 1e6:.1f} MB  process peak {peak_mb:.0f} MB")  # fmt: skip
    print(f"RESULT ratio={report_s / floor_s:.2f} floor_s={floor_s:.3f} report_s={report_s:.3f} "
          f"peak_mb={peak_mb:.0f} cases={n}")  # fmt: skip


if __name__ == "__main__":
    main()
