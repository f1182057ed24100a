"""``manage.py annual_report``: the report JSON (docs/reporting.md) on the command line."""

import datetime as dt
import sys

from django.core.management.base import CommandError

from reporting.engine import ReportInputError, ReportInputs, compute_report
from reporting.exporters import OUTPUTS, document_from_result, export
from reporting.formats import FORMATS
from requests_app.management.chinese_help import ChineseHelpCommand


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


class Command(ChineseHelpCommand):
    help = (
        "根据办理记录计算机关的政府信息公开工作年度报告（依申请公开部分的表格）。 / Compute an "
        "agency's annual report (the 依申请公开 tables) from its case history."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year", type=int, required=True, help="报告年度，例如 2018 / report year"
        )
        parser.add_argument("--agency", required=True, help="机关代码 / agency code")
        parser.add_argument(
            "--format",
            choices=list(FORMATS),
            default=None,
            help="报告格式，默认为该年度适用的格式 / default: the format in force for the year",
        )
        parser.add_argument(
            "--no-descendants",
            action="store_true",
            help="只统计本机关，不含下级机关 / the agency's own cases only",
        )
        parser.add_argument(
            "--cutoff",
            type=_cutoff,
            default=None,
            help=(
                "统计截止时间（ISO 8601，带时区），默认为当年 12 月 31 日结束 / "
                "ISO datetime with offset; default YEAR-12-31T23:59:59.999999+08:00"
            ),
        )
        parser.add_argument(
            "--output",
            choices=OUTPUTS,
            default="json",
            help="输出格式，默认 json / output format",
        )
        parser.add_argument(
            "--out", default=None, help="写入文件而不是标准输出 / write to FILE instead of stdout"
        )

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
