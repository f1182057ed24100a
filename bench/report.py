"""Annual report over 1,000,000 cases vs one hand-written SQL aggregate over the same rows.

    DATABASE_URL=postgres://... python bench/report.py [--quick]

Loads N cases (1,000,000; 100,000 with --quick; any number with --cases N) across a tree of
111 agencies (bench/_cases.py: COPY once, reused while the count matches, then vacuumed and
analyzed as autovacuum would), then times, best of 3:

- floor: one hand-written SQL statement computing 一/二/三/四 by applicant type and outcome
  with COUNT(*) FILTER over the city's subtree;
- report: ``reporting.engine.compute_report`` for 2021, gov2021, the whole tree (all of its
  queries: the cases, last year's carried-out, reviews, lawsuits, complaints, fees).

Also times the year-end run for the tree — the reports of all 111 agencies
(``compute_tree_reports``) — against one report for the whole tree (bar: within 3×).

Prints the ratio report/floor (bar: ≤ 2), the peak memory of the process (bar: < 300 MB) and
the year-end figures.
"""

import argparse
import datetime as dt
import resource
import time
import tracemalloc

from _cases import best_of, load
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", type=int, default=None)
    args = parser.parse_args()
    setup()
    from django.db import connection

    from reporting.engine import ReportInputs, compute_report, compute_tree_reports

    n = args.cases or (100_000 if args.quick else 1_000_000)
    started = time.perf_counter()
    load(n)
    load_s = time.perf_counter() - started
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
    # The year-end run: the reports of all 111 agencies of the tree, against one report for
    # the whole tree (bar: within 3x).
    year_end_s = best_of(lambda: compute_tree_reports("bench-city", year=2021, format="gov2021"))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t3 = result.cells["table3"]
    print(f"cases={n} new={t3['new_received']['total']} carried_in={t3['carried_in']['total']} "
          f"concluded={t3['concluded_total']['total']} carried_out={t3['carried_out']['total']}")  # fmt: skip
    print(f"floor {floor_s:.3f}s  report {report_s:.3f}s  python allocations peak "
          f"{traced_peak / 1e6:.1f} MB  process peak {peak_mb:.0f} MB")  # fmt: skip
    print(f"RESULT ratio={report_s / floor_s:.2f} floor_s={floor_s:.3f} report_s={report_s:.3f} "
          f"peak_mb={peak_mb:.0f} cases={n} load_s={load_s:.1f} year_end_s={year_end_s:.3f} "
          f"year_end_ratio={year_end_s / report_s:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
