"""统计看板 over 1,000,000 cases vs hand-written SQL for the same numbers.

    DATABASE_URL=postgres://... python bench/dashboard.py [--quick] [--cases N]

Loads N cases (1,000,000; 100,000 with --quick) across a tree of 111 agencies (bench/_cases.py,
vacuumed and analyzed), then times, best of 3, for the city's whole tree and the year 2021:

- floor: two hand-written SQL statements giving the same numbers — the cases grouped by the
  month of receipt, of conclusion and of becoming overdue, on time or not, and outcome (every
  month's received, concluded, open, overdue and on-time counts, and the outcome mix, are sums
  over these groups), read as two ranges of the covering index ``case_concluded_columns``
  (concluded from the year's first day on; still open); and the (start, conclusion) date pairs
  of the replied cases (working days to reply);
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

from _cases import best_of, load
from _setup import setup

ON = dt.date(2022, 6, 30)  # "today" for the bench: all of 2021 is past
SCOPE = "SELECT id FROM requests_app_agency WHERE path LIKE %(prefix)s"
NOT_NEVER_RECEIVED = (
    "NOT (c.outcome = 'withdrawn' AND (c.received_on IS NULL OR c.concluded_on < c.received_on))"
)
# 0 before the year, 1–12, 13 after ``until`` (or NULL): width_bucket over the months' first days.
GROUPS = f"""
SELECT
  CASE WHEN c.received_on > %(end)s THEN 13
       ELSE COALESCE(width_bucket(c.received_on, %(firsts)s), 13) END,
  CASE WHEN c.concluded_on > %(until)s THEN 13
       ELSE COALESCE(width_bucket(c.concluded_on, %(firsts)s), 13) END,
  CASE WHEN c.reply_due_on + 1 > %(until)s THEN 13
       ELSE COALESCE(width_bucket(c.reply_due_on + 1, %(firsts)s), 13) END,
  (c.timeliness IN ('on_time', 'extended'))::int,
  c.outcome,
  COUNT(*)
FROM requests_app_case c
WHERE c.agency_id IN ({SCOPE}) AND {NOT_NEVER_RECEIVED} AND
"""
YEAR_SQL = f"""
{GROUPS} c.concluded_on >= %(start)s
  AND (c.received_on <= %(end)s OR c.concluded_on <= %(until)s)
GROUP BY 1, 2, 3, 4, 5
UNION ALL
{GROUPS} c.concluded_on IS NULL AND c.received_on <= %(end)s
GROUP BY 1, 2, 3, 4, 5
"""
DAYS_SQL = f"""
SELECT COALESCE(c.restarted_on, c.received_on), c.concluded_on, COUNT(*)
FROM requests_app_case c
WHERE c.agency_id IN ({SCOPE}) AND c.concluded_on BETWEEN %(start)s AND %(until)s
  AND c.timeliness <> '' AND {NOT_NEVER_RECEIVED}
GROUP BY 1, 2
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", type=int, default=None)
    args = parser.parse_args()
    setup()
    from django.db import connection

    from reporting.dashboard import build_dashboard, median, mix_groups
    from requests_app.calendars import calendar_for_agency
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
        "firsts": [dt.date(2021, m, 1) for m in range(1, 13)],
    }

    def floor():
        with connection.cursor() as cursor:
            cursor.execute(YEAR_SQL, params)
            groups = cursor.fetchall()
            cursor.execute(DAYS_SQL, params)
            pairs = cursor.fetchall()
        return groups, pairs

    city = Agency.objects.get(code="bench-city")

    def dashboard():
        return build_dashboard(city, year=2021, on=ON)

    board = dashboard()
    groups, pairs = floor()
    # The same numbers, counted from the floor's groups (months 1–12; 13 = not yet or never).
    figures = {k: defaultdict(int) for k in ("received", "concluded", "on_time", "open", "overdue")}
    mix = defaultdict(int)
    for r, c, d, on_time, outcome, count in groups:
        if 1 <= c <= 12:
            mix[outcome] += count
        figures["received"][r] += count
        figures["concluded"][c] += count
        figures["on_time"][c] += count * on_time
        for k in range(max(r, 1), min(c, 13)):
            figures["open"][k] += count
            figures["overdue"][k] += count * (d <= k)
    for i, row in enumerate(board.months, start=1):
        for name, counted in figures.items():
            assert getattr(row, name) == counted[i], (i, name, getattr(row, name), counted[i])
    for group in board.outcome_mix:
        key, label, outcomes = next(g for g in mix_groups() if g[0] == group["key"])
        assert group["count"] == sum(mix[o] for o in outcomes), (label, group["count"])
    # Working days to reply, from the floor's date pairs on the national calendar.
    national = calendar_for_agency(None)
    days = defaultdict(lambda: defaultdict(int))
    for start, end, count in pairs:
        if start is None or end < start:
            continue  # not counted by the dashboard either
        days[end.month][national.count_working_days(start, end)] += count
    for i, row in enumerate(board.months, start=1):
        assert row.median_days == median(days[i]), (i, row.median_days, median(days[i]))

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
