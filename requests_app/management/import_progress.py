"""What ``import_cases`` shows while it imports: a progress bar (rich) on a terminal, or a
plain line every few seconds when its output goes to a file or another program."""

from __future__ import annotations

import time

from requests_app.importers import Progress


class PlainProgress(Progress):
    """A line ``进度 / progress: …`` at most every ``every`` seconds, and one at the end."""

    def __init__(self, write, *, total: int | None = None, every: float = 10.0):
        super().__init__()
        self.write = write
        self.total = total
        self.every = every
        self.last = self.started

    def line(self) -> str:
        of = f"/{self.total}" if self.total else ""
        return (
            f"进度 / progress: 已读 read={self.read}{of} 导入 imported={self.imported} "
            f"跳过 skipped={self.skipped} 拒绝 rejected={self.rejected} "
            f"({self.rate():.0f} 行/秒 lines/s)"
        )

    def update(self) -> None:
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self.write(self.line())

    def done(self) -> None:
        self.write(self.line())


class BarProgress(Progress):
    """A rich progress bar: lines read (of the file's, when known), imported, rejected and
    the rate; removed at the end, when the command prints its summary."""

    def __init__(self, *, total: int | None = None):
        from rich import progress as bars

        super().__init__()
        self.bar = bars.Progress(
            bars.BarColumn(bar_width=24),
            bars.MofNCompleteColumn(),
            bars.TextColumn(
                "导入 {task.fields[imported]} 跳过 {task.fields[skipped]} "
                "拒绝 {task.fields[rejected]}"
            ),  # fmt: skip
            bars.TextColumn("{task.fields[rate]} 行/秒"),
            bars.TimeRemainingColumn(),
            transient=True,
        )
        self.task = self.bar.add_task("import", total=total, imported=0, skipped=0,
                                      rejected=0, rate=0)  # fmt: skip
        self.bar.start()

    def update(self) -> None:
        self.bar.update(
            self.task,
            completed=self.read,
            imported=self.imported,
            skipped=self.skipped,
            rejected=self.rejected,
            rate=f"{self.rate():.0f}",
        )

    def done(self) -> None:
        self.update()
        self.bar.stop()
