"""统计看板 over 1,000,000 cases vs hand-written SQL for the same numbers.

    DATABASE_URL=postgres://... python bench/dashboard.py [--quick] [--cases N]

Loads N cases (1,000,000; 100,000 with --quick) across a tree of 111 agencies (bench/_cases.py,
vacuumed and analyzed), then times, best of 3, for the city's whole tree and the year 2021:

- floor: three hand-written SQL statements giving the same numbers — the cases grouped by the
  month of receipt, of conclusion and of becoming overdue (every month's received, concluded,
  open, overdue and on-time counts are sums over these groups), the (start, conclusion) date
  pairs of the replied cases (working days to reply), and the concluded cases by outcome;
- dashboard: ``reporting.dashboard.build_dashboard`` (its queries plus the Python that turns
  groups into figures and date pairs into working days).

Checks that both give the same figures, prints the ratio dashboard/floor (bar: ≤ 2), the
dashboard's seconds (bar: under 1 s at 1,000,000 cases) and the peak memory of the process.
"""

import argparse
import datetime as dt
import resource
import time
from collections import defaultdict

from _cases import load
from _setup import setup

ON = dt.date(2022, 6, 30)  # "today" for the bench: all of 2021 is past
SCOPE = "SELECT id FROM requests_app_agency WHERE path LIKE %(prefix)s"
NOT_NEVER_RECEIVED = (
    "NOT (c.outcome = 'withdrawn' AND (c.received_on IS NULL OR c.concluded_on < c.received_on))"
)
MONTHS_SQL = f"""
SELECT
  CASE WHEN c.received_on < %(start)s THEN 0 ELSE EXTRACT(MONTH FROM c.received_on)::int END,
  CASE WHEN c.concluded_on IS NULL OR c.concluded_on > %(until)s THEN 13
       ELSE EXTRACT(MONTH FROM c.concluded_on)::int END,
  CASE WHEN c.reply_due_on IS NULL OR c.reply_due_on + 1 > %(until)s THEN 13
       WHEN c.reply_due_on + 1 < %(start)s THEN 0
       ELSE EXTRACT(MONTH FROM c.reply_due_on + 1)::int END,
  (c.timeliness IN ('on_time', 'extended'))::int,
  COUNT(*)
FROM requests_app_case c
WHERE c.agency_id IN ({SCOPE}) AND c.received_on <= %(end)s
  AND (c.concluded_on IS NULL OR c.concluded_on >= %(start)s) AND {NOT_NEVER_RECEIVED}
GROUP BY 1, 2, 3, 4
"""
DAYS_SQL = f"""
SELECT COALESCE(c.restarted_on, c.received_on), c.concluded_on, COUNT(*)
FROM requests_app_case c
WHERE c.agency_id IN ({SCOPE}) AND c.concluded_on BETWEEN %(start)s AND %(until)s
  AND c.timeliness <> '' AND {NOT_NEVER_RECEIVED}
GROUP BY 1, 2
"""
MIX_SQL = f"""
SELECT c.outcome, COUNT(*)
FROM requests_app_case c
WHERE c.agency_id IN ({SCOPE}) AND c.concluded_on BETWEEN %(start)s AND %(until)s
  AND {NOT_NEVER_RECEIVED}
GROUP BY 1
"""


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
    parser.add_argument("--cases", type=int, default=None)
    args = parser.parse_args()
    setup()
    from django.db import connection

    from reporting.dashboard import build_dashboard
    from requests_app.models import Agency

    n = args.cases or (100_000 if args.quick else 1_000_000)
    started = time.perf_counter()
    load(n)
    load_s = time.perf_counter() - started
    params = {
        "start": dt.date(2021, 1, 1),
        "end": dt.date(2021, 12, 31),
        "until": dt.date(2021, 12, 31),
        "prefix": "/bench-city/%",
    }

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(MONTHS_SQL, params)
            months = cursor.fetchall()
            cursor.execute(DAYS_SQL, params)
            pairs = cursor.fetchall()
            cursor.execute(MIX_SQL, params)
            mix = cursor.fetchall()
        return months, pairs, mix

    city = Agency.objects.get(code="bench-city")

    def dashboard():
        return build_dashboard(city, year=2021, on=ON)

    board = dashboard()
    months, _pairs, mix = floor()
    # The same numbers: received and concluded by month from the floor's groups.
    received, concluded = defaultdict(int), defaultdict(int)
    for r, c, _d, _t, count in months:
        received[r] += count
        concluded[c] += count
    for i, row in enumerate(board.months, start=1):
        assert row.received == received[i], (i, row.received, received[i])
        assert row.concluded == concluded[i], (i, row.concluded, concluded[i])
    assert sum(g["count"] for g in board.outcome_mix) == sum(count for _o, count in mix)

    dashboard_s = best_of(dashboard)
    floor_s = best_of(floor)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    totals = board.totals
    print(f"cases={n} received_2021={totals.received} concluded_2021={totals.concluded} "
          f"on_time_rate={totals.on_time_rate} open_end={totals.open}")  # fmt: skip
    print(f"load {load_s:.1f}s  floor {floor_s:.3f}s  dashboard {dashboard_s:.3f}s  "
          f"process peak {peak_mb:.0f} MB")  # fmt: skip
    print(f"RESULT ratio={dashboard_s / floor_s:.2f} dashboard_s={dashboard_s:.3f} "
          f"floor_s={floor_s:.3f} peak_mb={peak_mb:.0f} cases={n} load_s={load_s:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
