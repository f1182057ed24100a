"""Load the working-day calendar: from the ``holidays`` library, or a file an administrator
provides, for the whole country or one agency. Idempotent; reports the years still missing.

    manage.py load_calendar                      # every year the library knows
    manage.py load_calendar --years 2025 2026    # only these years, from the library
    manage.py load_calendar --file 2027.csv      # a year the State Council just announced
    manage.py load_calendar --file local.json --agency xixiu

CSV columns: ``date,kind,name`` (kind: ``holiday``/``workday``, or 休/班). JSON: a list of
``{"date", "kind", "name"}`` objects, or ``{"source": ..., "days": [...]}``. Every year a file
mentions is loaded as a complete year (it becomes "known"); ``--replace`` also removes that
year's rows that the file does not list.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import defaultdict
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from requests_app.calendars import LIBRARY_SOURCE, library_schedule
from requests_app.choices import OPEN_STATES
from requests_app.models import Agency, CalendarYear, Case
from requests_app.services.calendar import KIND_ALIASES, calendar_year_load

FIRST_YEAR = 2008  # the 2008 regulation: no case can be older


def read_calendar_file(path: Path) -> tuple[dict[int, tuple[dict, dict]], str]:
    """{year: (holidays {date: name}, workdays {date: name})} and the file's source label."""
    text = path.read_text(encoding="utf-8-sig")
    source = path.name
    if path.suffix.lower() == ".json":
        data = json.loads(text)
        if isinstance(data, dict):
            source = data.get("source") or source
            data = data.get("days", [])
        rows = [(r.get("date"), r.get("kind"), r.get("name", "")) for r in data]
    else:
        reader = csv.DictReader(text.splitlines())
        missing = {"date", "kind"} - set(reader.fieldnames or [])
        if missing:
            raise CommandError(f"{path}: missing columns {', '.join(sorted(missing))}")
        rows = [(r["date"], r["kind"], r.get("name") or "") for r in reader]
    years: dict[int, tuple[dict, dict]] = defaultdict(lambda: ({}, {}))
    for number, (raw_date, raw_kind, name) in enumerate(rows, start=1):
        try:
            day = dt.date.fromisoformat(str(raw_date).strip())
        except ValueError as exc:
            raise CommandError(f"{path} row {number}: bad date {raw_date!r}") from exc
        kind = KIND_ALIASES.get(str(raw_kind).strip())
        if kind is None:
            raise CommandError(
                f"{path} row {number}: kind must be holiday/workday, not {raw_kind!r}"
            )
        holidays, workdays = years[day.year]
        (holidays if kind == "holiday" else workdays)[day] = name.strip()
    return dict(years), source


class Command(BaseCommand):
    help = "载入工作日日历（节假日与调休）：来自 holidays 库或管理员提供的 CSV/JSON 文件。"

    def add_arguments(self, parser):
        parser.add_argument("--years", nargs="*", type=int, help="years to seed from the library")
        parser.add_argument("--file", type=Path, help="a CSV or JSON file of exceptional dates")
        parser.add_argument("--agency", help="agency code for a local calendar (default: national)")
        parser.add_argument(
            "--replace", action="store_true", help="remove the year's rows the source lacks"
        )

    def handle(self, *args, **options):
        agency = None
        if options["agency"]:
            agency = Agency.objects.filter(code=options["agency"]).first()
            if agency is None:
                raise CommandError(f"unknown agency {options['agency']!r}")
        if options["file"]:
            if not options["file"].exists():
                raise CommandError(f"no such file: {options['file']}")
            schedule, source = read_calendar_file(options["file"])
        else:
            if agency is not None:
                raise CommandError("a local calendar is loaded from a file (--file)")
            this_year = timezone.localdate().year
            wanted = options["years"] or range(FIRST_YEAR, this_year + 2)
            schedule, source = {}, LIBRARY_SOURCE
            for year in wanted:
                found = library_schedule(year)
                if found is None:
                    if options["years"]:
                        self.stderr.write(f"{year}: the holidays library has no schedule")
                    continue
                names, workdays = found
                schedule[year] = (names, {d: "调休上班" for d in workdays})

        for year in sorted(schedule):
            holidays, workdays = schedule[year]
            try:
                result = calendar_year_load(
                    year=year,
                    holidays=holidays,
                    workdays=workdays,
                    source=source,
                    agency=agency,
                    replace=options["replace"],
                )
            except ValueError as exc:
                raise CommandError(f"{year}: {exc}") from exc
            self.stdout.write(
                f"{year}: {result.created} created, {result.updated} updated, "
                f"{result.deleted} deleted, {result.unchanged} unchanged"
                + (", year newly known" if result.year_created else "")
                + (f"; {result.cases_moved} open cases moved" if result.cases_moved else "")
            )
        self.report_missing(agency)

    def report_missing(self, agency):
        scope = Q(agency__isnull=True) if agency is None else Q(agency=agency)
        known = set(CalendarYear.objects.filter(scope).values_list("year", flat=True))
        this_year = timezone.localdate().year
        first = min(known) if known else this_year
        missing = [y for y in range(first, this_year + 2) if y not in known]
        if missing:
            self.stdout.write(
                self.style.WARNING(
                    "missing calendar years: "
                    + ", ".join(map(str, missing))
                    + " (load them with --file when the State Council announces them)"
                )
            )
        else:
            self.stdout.write(f"calendar complete through {this_year + 1}")
        flagged = (
            Case.objects.filter(state__in=sorted(OPEN_STATES), clock__has_key="missing_years")
            .exclude(clock__missing_years=[])
            .count()
        )
        if flagged:
            self.stdout.write(
                self.style.WARNING(f"{flagged} open cases have due dates in a missing year")
            )
