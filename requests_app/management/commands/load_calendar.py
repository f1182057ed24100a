"""Load the working-day calendar: from the ``holidays`` library, or a file an administrator
provides, for the whole country or one agency. Idempotent; reports the years still missing,
the provisional years and how many open cases have dates in one.

    manage.py load_calendar                      # 2008 to next year: published where the
                                                 # library has the notice, else provisional
    manage.py load_calendar --years 2025 2026    # only these years, the same way
    manage.py load_calendar --next-year          # next year only, never over a published one
                                                 # (what beat runs every day)
    manage.py load_calendar --file 2027.csv      # a year the State Council just announced
    manage.py load_calendar --file local.json --agency xixiu

A provisional year holds the statutory holidays of 《全国年节及纪念日放假办法》 only; loading the
notice (the library after an upgrade, or ``--file``) publishes it and recomputes the open cases
whose dates touch it. A national year that would lack a statutory holiday is refused.

CSV columns: ``date,kind,name`` (kind: ``holiday``/``workday``, or 休/班). JSON: a list of
``{"date", "kind", "name"}`` objects, or ``{"source": ..., "days": [...]}``. Every year a file
mentions is loaded as a complete year (it becomes "known"); ``--replace`` also removes that
year's rows that the file does not list.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from requests_app.choices import OPEN_STATES
from requests_app.models import Agency, CalendarYear, Case
from requests_app.selectors import cases_on_provisional_years
from requests_app.services import clock as clock_service
from requests_app.services.calendar import (
    CalendarFileError,
    calendar_file_read,
    calendar_year_load,
    calendar_years_refresh,
)

FIRST_YEAR = 2008  # the 2008 regulation: no case can be older


def read_calendar_file(path: Path) -> tuple[dict[int, tuple[dict, dict]], str]:
    """{year: (holidays {date: name}, workdays {date: name})} and the file's source label."""
    try:
        return calendar_file_read(name=path.name, text=path.read_text(encoding="utf-8-sig"))
    except (CalendarFileError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: {exc}") from exc


class Command(BaseCommand):
    help = (
        "载入工作日日历（节假日与调休）：来自 holidays 库或管理员提供的 CSV/JSON 文件。"
        "国务院办公厅尚未公布安排的年度按《全国年节及纪念日放假办法》的法定节假日暂定载入。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--years", nargs="*", type=int, help="years to seed from the library")
        parser.add_argument("--file", type=Path, help="a CSV or JSON file of exceptional dates")
        parser.add_argument("--agency", help="agency code for a local calendar (default: national)")
        parser.add_argument(
            "--replace", action="store_true", help="remove the year's rows the source lacks"
        )
        parser.add_argument(
            "--next-year",
            action="store_true",
            help="only next year, and never overwrite a published year (the yearly beat run)",
        )

    def handle(self, *args, **options):
        agency = None
        if options["agency"]:
            agency = Agency.objects.filter(code=options["agency"]).first()
            if agency is None:
                raise CommandError(f"unknown agency {options['agency']!r}")
        this_year = clock_service.clock_today().year
        if options["file"]:
            if not options["file"].exists():
                raise CommandError(f"no such file: {options['file']}")
            schedule, source = read_calendar_file(options["file"])
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
                self.report_year(result)
        else:
            if agency is not None:
                raise CommandError("a local calendar is loaded from a file (--file)")
            if options["next_year"]:
                wanted = [this_year + 1]
            else:
                wanted = options["years"] or range(FIRST_YEAR, this_year + 2)
            try:
                results = calendar_years_refresh(years=wanted, keep_published=options["next_year"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            for result in results:
                self.report_year(result)
        self.report_missing(agency)

    def report_year(self, result) -> None:
        if result.kept_published:
            self.stdout.write(f"{result.year}: published already, left as it is")
            return
        provisional = result.status == CalendarYear.Status.PROVISIONAL
        self.stdout.write(
            f"{result.year}: {result.created} created, {result.updated} updated, "
            f"{result.deleted} deleted, {result.unchanged} unchanged"
            + (", year newly known" if result.year_created else "")
            + (", now published" if result.published_now else "")
            + (
                " (provisional: statutory holidays only, no published notice)"
                if provisional
                else ""
            )
            + (f"; {result.cases_moved} open cases moved" if result.cases_moved else "")
        )

    def report_missing(self, agency):
        scope = Q(agency__isnull=True) if agency is None else Q(agency=agency)
        rows = dict(CalendarYear.objects.filter(scope).values_list("year", "status"))
        this_year = clock_service.clock_today().year
        first = min(rows) if rows else this_year
        missing = [y for y in range(first, this_year + 2) if y not in rows]
        provisional = sorted(y for y, s in rows.items() if s == CalendarYear.Status.PROVISIONAL)
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
        if provisional:
            self.stdout.write(
                self.style.WARNING(
                    "provisional years (statutory holidays only, awaiting the notice): "
                    + ", ".join(map(str, provisional))
                )
            )
        flagged = (
            Case.objects.filter(state__in=sorted(OPEN_STATES), clock__has_key="missing_years")
            .exclude(clock__missing_years=[])
            .count()
        )
        if flagged:
            self.stdout.write(
                self.style.WARNING(f"{flagged} open cases have due dates in a missing year")
            )
        on_provisional = cases_on_provisional_years().count()
        self.stdout.write(
            (self.style.WARNING if on_provisional else str)(
                f"{on_provisional} open cases have dates in a provisional year"
            )
        )
