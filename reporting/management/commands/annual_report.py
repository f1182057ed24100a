"""``manage.py annual_report``: the DESIGN.md report contract on the command line."""

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError

from reporting.engine import ReportInputError, ReportInputs, compute_report
from reporting.exporters import OUTPUTS, document_from_result, export
from reporting.formats import FORMATS


def _cutoff(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--cutoff 不是 ISO 8601 时间 / --cutoff is not an ISO datetime: {value!r}"
        ) from None
    if parsed.tzinfo is None:
        raise CommandError(
            "--cutoff 须带时区，例如 2019-01-31T23:59:59+08:00 / "
            "--cutoff needs a UTC offset, e.g. 2019-01-31T23:59:59+08:00"
        )
    return parsed


class Command(BaseCommand):
    help = "Compute an agency's annual report (依申请公开 tables) from its case history."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="report year, e.g. 2018")
        parser.add_argument("--agency", required=True, help="agency code")
        parser.add_argument(
            "--format",
            choices=list(FORMATS),
            default=None,
            help="default: the format in force for the year",
        )
        parser.add_argument(
            "--no-descendants",
            action="store_true",
            help="count the agency's own cases only, not its subordinate agencies'",
        )
        parser.add_argument(
            "--cutoff",
            type=_cutoff,
            default=None,
            help="ISO datetime with offset; default YEAR-12-31T23:59:59.999999+08:00",
        )
        parser.add_argument("--output", choices=OUTPUTS, default="json")
        parser.add_argument("--out", default=None, help="write to FILE instead of stdout")

    def handle(self, *args, **options):
        try:
            inputs = ReportInputs.build(
                year=options["year"],
                agency=options["agency"],
                include_descendants=not options["no_descendants"],
                format=options["format"],
                cutoff=options["cutoff"],
            )
        except ReportInputError as error:
            raise CommandError(str(error)) from None
        result = compute_report(inputs)
        data = export(document_from_result(result), options["output"])
        for check in result.failed_checks:
            self.stderr.write(f"校验未通过 / check failed: {check.name}: {check.detail}")
        if options["out"]:
            try:
                with open(options["out"], "wb") as handle:
                    handle.write(data)
            except OSError as error:
                raise CommandError(f"cannot write {options['out']}: {error}") from None
            self.stderr.write(f"wrote {options['out']}")
        elif options["output"] == "xlsx" and sys.stdout.isatty():
            raise CommandError("xlsx is binary: use --out FILE")
        else:
            stream = getattr(self.stdout, "_out", sys.stdout)
            if hasattr(stream, "buffer"):
                stream.flush()
                stream.buffer.write(data)
                stream.buffer.flush()
            else:
                stream.write(data.decode("utf-8", errors="replace"))
