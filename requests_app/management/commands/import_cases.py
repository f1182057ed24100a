"""``manage.py import_cases``: load case histories (JSONL, or a CSV/XLSX 台账 ledger)."""

from pathlib import Path

from django.core.management.base import CommandError

from requests_app.importers import (
    import_histories,
    ledger_template,
    read_jsonl,
    read_ledger,
)
from requests_app.management.chinese_help import ChineseHelpCommand
from requests_app.management.import_progress import BarProgress, PlainProgress


class Command(ChineseHelpCommand):
    help = (
        "导入历史申请：FILE.jsonl（每行一件申请的办理记录）或台账 FILE.csv / FILE.xlsx（每行一件"
        "申请）。每件申请按状态机和期限规则重放；不可能的记录连同行号和原因被拒绝，其余照常导入。"
        "有被拒绝的行时退出码为 1。 / Import historical cases: FILE.jsonl (one history per "
        "line) or a 台账 ledger FILE.csv / FILE.xlsx (one row per application). Each history "
        "is replayed through the state machine and clock; impossible histories are rejected "
        "with their line and reason, the rest load. Exit status 1 when any line was rejected."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            nargs="?",
            help="要导入的文件：FILE.jsonl、FILE.csv 或 FILE.xlsx / the file to import",
        )
        parser.add_argument(
            "--create-agencies",
            action="store_true",
            help="自动创建机关路径中缺少的机关（以代码作名称） / create missing agencies",
        )
        parser.add_argument(
            "--via-services",
            action="store_true",
            help="逐行通过业务服务重放（较慢，作对照） / replay each line through the services",
        )
        parser.add_argument(
            "--progress-every",
            type=float,
            default=10.0,
            metavar="SECONDS",
            help="输出不是终端时，每隔多少秒报告一次进度（默认 10） / when the output is not a "
            "terminal, a progress line every SECONDS (default 10)",
        )
        parser.add_argument(
            "--write-ledger-template",
            metavar="PATH",
            help="把台账模板（.csv 或 .xlsx）写到 PATH 后退出 / write the ledger template and exit",
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
        ledger = path.suffix.lower() in (".csv", ".xlsx")
        if ledger:
            data = path.read_bytes()
            lines = list(read_ledger(data, path.name))
            total = len(lines)
        else:
            total = _count_lines(path)
        progress = (
            BarProgress(total=total)
            if self.stdout.isatty()
            else PlainProgress(self.stdout.write, total=total, every=options["progress_every"])
        )
        kwargs = {
            "create_agencies": options["create_agencies"],
            "source": path.name,
            "via_services": options["via_services"],
            "progress": progress,
        }
        if ledger:
            summary = import_histories(lines, **kwargs)
        else:
            with path.open(encoding="utf-8-sig") as handle:
                summary = import_histories(read_jsonl(handle), **kwargs)
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


def _count_lines(path: Path) -> int:
    """The file's non-blank lines (what the progress counts), read in blocks."""
    count = 0
    with path.open("rb") as handle:
        for line in handle:
            count += bool(line.strip())
    return count
