"""``import_cases`` shows its progress: plain lines when its output is not a terminal (every
``--progress-every`` seconds, and at the end, before the summary), a progress bar on one."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from requests_app.importers import LineResult
from requests_app.management.import_progress import BarProgress, PlainProgress
from tests.test_import_cases import legal_histories, tree  # noqa: F401  (the fixture)


def test_plain_lines_report_read_imported_and_rejected(tree, tmp_path):  # noqa: F811
    histories = legal_histories("P")
    histories[2]["events"].insert(1, {"type": "fee_paid", "at": histories[2]["events"][0]["at"]})
    path = tmp_path / "p.jsonl"
    path.write_text(
        "\n".join(json.dumps(h, ensure_ascii=False) for h in histories) + "\n\n", encoding="utf-8"
    )
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:  # one line is rejected: exit status 1
        call_command("import_cases", str(path), "--progress-every", "0", stdout=out,
                     stderr=err)  # fmt: skip
    assert (raised.value.returncode, str(raised.value)) == (1, "1 line(s) rejected")
    assert err.getvalue() == (
        "line 3: P-3 rejected: events[2] fee_paid @ 2022-05-01T10:00:00+08:00: "
        "当前状态“待确认接收”下不能执行“确认缴费”。 / The action 'record_fee_payment' is not "
        "allowed in the state 'submitted'.\n"
    )
    # One line per chunk (one chunk: every 0 seconds), one at the end, then the summary.
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[-1] == "imported=5 skipped=0 rejected=1"
    for line in lines[:2]:
        assert line.startswith(
            "进度 / progress: 已读 read=6/6 导入 imported=5 跳过 skipped=0 拒绝 rejected=1 ("
        )
        assert line.endswith(" 行/秒 lines/s)")


def test_plain_lines_come_at_most_every_so_many_seconds():
    written = []
    progress = PlainProgress(written.append, total=None, every=3600)
    for n in range(1, 5):
        progress.add([LineResult(n, f"X-{n}", "imported")])
    assert written == []  # within the hour: nothing yet
    progress.done()
    assert len(written) == 1
    assert written[0].startswith(
        "进度 / progress: 已读 read=4 导入 imported=4 跳过 skipped=0 拒绝 rejected=0 ("
    )


def test_the_bar_counts_the_lines():
    progress = BarProgress(total=3)
    progress.add([LineResult(1, "A", "imported"), LineResult(2, "B", "rejected", "why")])
    progress.add([LineResult(3, "C", "skipped")])
    progress.done()
    task = progress.bar.tasks[0]
    assert (task.completed, task.total) == (3, 3)
    assert (task.fields["imported"], task.fields["skipped"], task.fields["rejected"]) == (1, 1, 1)
