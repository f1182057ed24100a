"""``manage.py import_cases``: load case histories (JSONL, or a CSV/XLSX 台账 ledger)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from requests_app.importers import (
    import_histories,
    ledger_template,
    read_jsonl,
    read_ledger,
)


class Command(BaseCommand):
    help = (
        "Import historical cases: FILE.jsonl (one history per line, DESIGN.md contract) or a "
        "台账 ledger FILE.csv / FILE.xlsx (one row per application). Each history is replayed "
        "through the state machine and clock; impossible histories are rejected with their "
        "line and reason, the rest load. Exit status 1 when any line was rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="FILE.jsonl, FILE.csv or FILE.xlsx")
        parser.add_argument(
            "--create-agencies",
            action="store_true",
            help="create agencies missing along an agency path (the code doubles as the name)",
        )
        parser.add_argument(
            "--via-services",
            action="store_true",
            help="replay each line through the services one by one (slow; the reference path)",
        )
        parser.add_argument(
            "--write-ledger-template",
            metavar="PATH",
            help="write the ledger template (.csv or .xlsx) to PATH and exit",
        )

    def handle(self, *args, **options):
        template = options["write_ledger_template"]
        if template:
            output = "xlsx" if template.lower().endswith(".xlsx") else "csv"
            Path(template).write_bytes(ledger_template(output))
            self.stdout.write(f"wrote the ledger template to {template}")
            return
        if not options["file"]:
            raise CommandError(
                "give FILE.jsonl / FILE.csv / FILE.xlsx (or --write-ledger-template)"
            )
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在 / no such file: {path}")
        if path.suffix.lower() in (".csv", ".xlsx"):
            lines = read_ledger(path.read_bytes(), path.name)
            summary = import_histories(
                lines, create_agencies=options["create_agencies"], source=path.name,
                via_services=options["via_services"],
            )  # fmt: skip
        else:
            with path.open(encoding="utf-8-sig") as handle:
                summary = import_histories(
                    read_jsonl(handle), create_agencies=options["create_agencies"],
                    source=path.name, via_services=options["via_services"],
                )  # fmt: skip
        for result in summary.results:
            if result.status == "skipped":
                self.stdout.write(
                    f"line {result.line}: {result.external_id} skipped: {result.reason}"
                )
            elif result.status == "rejected":
                self.stderr.write(
                    f"line {result.line}: {result.external_id or '?'} rejected: {result.reason}"
                )
        if summary.stopped:
            self.stderr.write(summary.stopped)
        self.stdout.write(
            f"imported={summary.imported} skipped={summary.skipped} rejected={summary.rejected}"
        )
        if summary.rejected or summary.stopped:
            raise CommandError(f"{summary.rejected} line(s) rejected", returncode=1)
