"""The fast import path: the same rows as the services path for many varied histories; the
indexed calendar answers as the day-by-day walks; the writer thread (PostgreSQL) writes the
chunks in order, skips ids repeated across chunks, and a failed write is reported line by
line and stops the run with a non-zero exit."""

import datetime as dt
import io
import json
import random
import sys
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection

from requests_app import importers
from requests_app.deadlines import MissingCalendarYear, WorkCalendar
from requests_app.importers import (
    FastReplayer,
    ServicesReplayer,
    _IndexedCalendar,
    read_jsonl,
)
from requests_app.models import Case, CaseEvent, FeeNotice
from tests.report_helpers import agency
from tests.test_import_cases import at, history, legal_histories, lines, snapshot


def varied_histories(prefix: str, n: int, seed: int = 11) -> list[dict]:
    """Random legal histories of every shape: channels, 补正 (answered or abandoned),
    consultations, extensions, fees (paid, waived, abandoned), withdrawals, open cases,
    combinations, around holidays and the 2019 change of regulation, with proceedings."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        day = rng.choice([dt.date(2019, 4, 20), dt.date(2021, 9, 24), dt.date(2022, 1, 20),
                          dt.date(2022, 12, 26)]) + dt.timedelta(days=rng.randrange(0, 20))  # fmt: skip
        channel = rng.choice(["online", "email", "post", "in_person", "oral", "post_unsigned"])
        events = [{"type": "submitted", "at": at(day.isoformat(), 9)}]
        day += dt.timedelta(days=rng.randrange(0, 3))
        events.append({"type": "received", "at": at(day.isoformat())})

        def later(days: int) -> str:
            nonlocal day
            day += dt.timedelta(days=days)
            return at(day.isoformat())

        shape = rng.randrange(9)
        if shape in (1, 7):
            events.append({"type": "supplement_requested", "at": later(2), "items": "文号",
                           "period_days": rng.choice([None, 10])})  # fmt: skip
            if rng.random() < 0.3:
                events.append({"type": "replied", "at": later(30),
                               "outcome": "abandoned_no_supplement"})  # fmt: skip
            else:
                events.append({"type": "supplement_received", "at": later(5)})
        if shape in (2, 7) and events[-1].get("outcome") is None:
            events.append({"type": "consultation_sent", "at": later(2),
                           "party": rng.choice(["third_party", "agency"])})  # fmt: skip
            if rng.random() < 0.8:
                events.append({"type": "consultation_closed", "at": later(rng.randrange(3, 25))})
        if (
            shape in (3, 7)
            and events[-1]["type"] != "consultation_sent"
            and events[-1].get("outcome") is None
        ):
            events.append({"type": "extended", "at": later(rng.randrange(5, 25)),
                           "days": rng.choice([10, 20])})  # fmt: skip
        if shape in (4, 7) and events[-1].get("outcome") is None:
            if events[-1]["type"] == "consultation_sent":
                events.append({"type": "consultation_closed", "at": later(3)})
            events.append({"type": "fee_notice", "at": later(2), "amount_yuan": "100.00"})
            r = rng.random()
            if r < 0.2:
                events.append({"type": "replied", "at": later(40), "outcome": "abandoned_no_fee"})
            else:
                events.append({"type": "fee_paid", "at": later(5), "waived": r < 0.4})
        if shape == 5:
            events.append({"type": "replied", "at": later(1), "outcome": "withdrawn"})
        if (
            events[-1].get("outcome") is None
            and shape != 6
            and events[-1]["type"]
            not in (
                "consultation_sent",
                "supplement_requested",
            )
        ):
            events.append({"type": "replied", "at": later(rng.randrange(1, 30)),
                           "outcome": rng.choice(["disclosed", "partially_disclosed",
                                                  "not_exist", "already_public"])})  # fmt: skip
        extra = {}
        if events[-1].get("outcome") not in (None, "withdrawn") and rng.random() < 0.3:
            filed = day + dt.timedelta(days=20)
            extra["reviews"] = [{"filed_on": filed.isoformat(), "decided_on": None,
                                 "outcome": "pending"}]  # fmt: skip
            extra["complaints"] = [{"filed_on": filed.isoformat(), "summary": "不满意"}]
        out.append(history(f"{prefix}-{i}", events, channel=channel, **extra))
    return out


def _kinds_in_order(external_id: str) -> list[tuple]:
    return list(
        CaseEvent.objects.filter(case__external_id=external_id)
        .order_by("pk")
        .values_list("kind", "reason")
    )


@pytest.fixture
def tree_with_calendar(db):
    city = agency("city", kind="government")
    agency("office", city, kind="office")
    agency("street", city, kind="street")
    call_command("load_calendar", "--years", "2019", "2020", "2021", "2022", "2023",
                 stdout=io.StringIO())  # fmt: skip


def test_fast_path_equals_the_services_path_on_varied_histories(tree_with_calendar):
    n = 45
    slow = ServicesReplayer(source="v.jsonl").run(lines(varied_histories("S", n)))
    fast = FastReplayer(source="v.jsonl", batch_size=7).run(lines(varied_histories("F", n)))
    assert [r.status for r in fast.results] == [r.status for r in slow.results]
    assert [r.reason for r in fast.results] == [r.reason for r in slow.results]
    assert fast.imported == n, [r.reason for r in fast.results if r.status != "imported"]
    for i in range(n):
        assert snapshot(f"S-{i}") == snapshot(f"F-{i}"), i
        # The history rows were written in the same order, too (due_changed after its step).
        assert _kinds_in_order(f"S-{i}") == _kinds_in_order(f"F-{i}"), i
    # The varied histories did exercise the clock: due dates moved after 补正, consultations,
    # extensions and fees.
    reasons = set(
        CaseEvent.objects.filter(kind="due_changed").values_list("reason", flat=True)
    )  # fmt: skip
    assert {"register", "confirm_receipt", "receive_supplement", "extend",
            "issue_fee_notice"} <= reasons  # fmt: skip


def test_indexed_calendar_answers_as_the_walks():
    rng = random.Random(3)
    start = dt.date(2022, 1, 1)
    holidays = {start + dt.timedelta(days=rng.randrange(0, 800)) for _ in range(60)}
    workdays = {
        d
        for d in (start + dt.timedelta(days=rng.randrange(0, 800)) for _ in range(30))
        if d.weekday() >= 5
    } - holidays
    walks = WorkCalendar(holidays=holidays, workdays=workdays, known_years={2022, 2023})
    indexed = _IndexedCalendar.of(walks)
    for _ in range(20_000):
        a = dt.date(2019, 6, 1) + dt.timedelta(days=rng.randrange(0, 2500))
        b = a + dt.timedelta(days=rng.randrange(-10, 150))
        n = rng.randrange(-70, 70)
        assert indexed.add_working_days(a, n) == walks.add_working_days(a, n), (a, n)
        assert indexed.count_working_days(a, b) == walks.count_working_days(a, b), (a, b)
        assert indexed.working_days_in(a, b) == walks.working_days_in(a, b), (a, b)
    strict = _IndexedCalendar.of(
        WorkCalendar(holidays=holidays, known_years={2022, 2023}, strict=True)
    )  # fmt: skip
    with pytest.raises(MissingCalendarYear):
        strict.add_working_days(dt.date(2023, 12, 20), 20)


# --- the writer thread: these tests commit, so that another connection sees the agencies ----


@pytest.fixture
def committed_tree(transactional_db):
    city = agency("city", kind="government")
    agency("office", city, kind="office")
    agency("street", city, kind="street")


def _writer_threads(monkeypatch) -> list[tuple[str, float]]:
    """Record the thread that writes each chunk, and the GIL's switch interval then."""
    seen: list[tuple[str, float]] = []
    write = FastReplayer._write

    def recording(self, chunk):
        seen.append((threading.current_thread().name, sys.getswitchinterval()))
        return write(self, chunk)

    monkeypatch.setattr(FastReplayer, "_write", recording)
    return seen


def test_chunks_are_written_by_the_writer_thread_and_repeats_across_chunks_skipped(
    committed_tree, monkeypatch
):
    seen = _writer_threads(monkeypatch)
    before = sys.getswitchinterval()
    batch = legal_histories("W") + legal_histories("W")[:2] + [legal_histories("X")[0]]
    summary = FastReplayer(source="w.jsonl", batch_size=2).run(lines(batch))
    # Four chunks (the last line alone), each written by the writer thread on PostgreSQL, at
    # the shorter interval the GIL changes hands at for a threaded run (restored after it).
    expected = (
        ("import-writer", importers.SWITCH_INTERVAL)
        if connection.vendor == "postgresql"
        else ("MainThread", before)
    )
    assert seen == [expected] * 4
    assert sys.getswitchinterval() == before
    assert [r.status for r in summary.results] == ["imported"] * 6 + ["skipped"] * 2 + ["imported"]
    assert summary.stopped == ""
    assert Case.objects.count() == 7
    assert {r.case_id for r in summary.results if r.status == "imported"} == set(
        Case.objects.values_list("pk", flat=True)
    )
    # Every case has its events, and the imported event names its line.
    for result in summary.results:
        if result.status == "imported":
            case = Case.objects.get(pk=result.case_id)
            assert case.events.get(kind="imported").data["line"] == result.line


def test_a_failed_write_reports_its_lines_and_stops_the_run(committed_tree, monkeypatch, tmp_path):
    init, write = FastReplayer.__init__, FastReplayer._write
    monkeypatch.setattr(
        FastReplayer, "__init__", lambda self, **kw: init(self, **{**kw, "batch_size": 2})
    )
    written = []

    def failing(self, chunk):
        if len(written) == 1:  # the second chunk: lines 3 and 4
            raise OperationalError("server closed the connection unexpectedly")
        written.append(chunk.lines)
        return write(self, chunk)

    monkeypatch.setattr(FastReplayer, "_write", failing)
    # Line 4 repeats line 3's id (both in the chunk that fails).
    batch = legal_histories("E")[:3] + [legal_histories("E")[2]] + legal_histories("Z")
    path = tmp_path / "e.jsonl"
    path.write_text("\n".join(json.dumps(h, ensure_ascii=False) for h in batch) + "\n")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_cases", str(path), stdout=out, stderr=err)
    assert raised.value.returncode == 1
    assert list(Case.objects.values_list("external_id", flat=True).order_by("pk")) == [
        "E-1",
        "E-2",
    ]
    errors = err.getvalue()
    for line in (3, 4):
        assert f"line {line}: E-3 rejected: 未导入：数据库写入失败 / not imported" in errors
    assert "server closed the connection unexpectedly" in errors
    assert "导入已中止 / the import stopped" in errors
    # Lines after the failed chunk were not read, or were read and reported as not imported
    # (the writer thread may have been given the next chunk before the failure was known).
    reported = [row for row in errors.splitlines() if row.startswith("line ")]
    assert all("rejected: 未导入" in row for row in reported)
    assert out.getvalue().strip().splitlines()[-1] == (
        f"imported=2 skipped=0 rejected={len(reported)}"
    )
    # A re-import after the fault is fixed skips what was written and loads the rest.
    monkeypatch.setattr(FastReplayer, "_write", write)
    out = io.StringIO()
    call_command("import_cases", str(path), stdout=out, stderr=io.StringIO())
    assert out.getvalue().strip().splitlines()[-1] == "imported=7 skipped=3 rejected=0"


def test_the_fast_path_inside_a_transaction_writes_through_it(committed_tree, monkeypatch):
    from django.db import transaction

    seen = _writer_threads(monkeypatch)
    with transaction.atomic():
        summary = FastReplayer(batch_size=2).run(lines(legal_histories("T")))
        assert summary.imported == 6
        transaction.set_rollback(True)
    # Three chunks, each written on the caller's thread (no writer thread, interval untouched).
    assert seen == [("MainThread", sys.getswitchinterval())] * 3
    assert not Case.objects.exists()


def test_a_tracking_number_drawn_twice_falls_back_to_one_case_at_a_time(
    committed_tree, monkeypatch
):
    drawn = iter(["GK20210301AAAAAA", "GK20210301AAAAAA"])
    real = importers.tracking_number
    monkeypatch.setattr(
        importers, "tracking_number", lambda on, code: next(drawn, None) or real(on, code)
    )
    summary = FastReplayer(source="c.jsonl").run(lines(legal_histories("C")))
    assert summary.stopped == ""
    assert [r.status for r in summary.results] == ["imported"] * 6
    numbers = list(Case.objects.values_list("tracking_number", flat=True))
    assert len(set(numbers)) == 6 and "GK20210301AAAAAA" in numbers
    for result in summary.results:
        case = Case.objects.get(pk=result.case_id)
        assert case.external_id == f"C-{result.line}"
        assert case.events.get(kind="imported").data["line"] == result.line
    assert Case.objects.get(external_id="C-1").reviews.count() == 1
    assert FeeNotice.objects.get(case__external_id="C-2").paid_on == dt.date(2022, 2, 3)


def test_text_the_database_cannot_store_rejects_its_line_only(tree_with_calendar):
    good = json.dumps(legal_histories("U")[0], ensure_ascii=False)
    nul = good.replace('"U-1"', '"U-2"').replace("申请公开", "申请\\u0000公开")
    lone = good.replace('"U-1"', '"U-3"').replace("申请公开", "申请\\ud800公开")
    pair = good.replace('"U-1"', '"U-4"').replace("申请公开", "申请\\ud83d\\ude00公开")
    parsed = list(read_jsonl(io.StringIO("\n".join([good, nul, lone, pair]) + "\n")))
    summary = FastReplayer().run(parsed)
    assert [r.status for r in summary.results] == ["imported", "rejected", "rejected", "imported"]
    assert "NUL" in summary.results[1].reason and "surrogate" in summary.results[2].reason
    assert Case.objects.get(external_id="U-4").description.startswith("申请😀公开")


def test_event_texts_must_be_text_and_fit(tree_with_calendar):
    rows = []
    for n, (key, value) in enumerate(
        [("legal_basis", 5), ("legal_basis", "条" * 501), ("reason", ["x"]), ("items", {})], 1
    ):
        h = legal_histories(f"K{n}")[0]
        for event in h["events"]:
            if event["type"] == "replied":
                event[key] = value
        rows.append(h)
    for replayer in (FastReplayer, ServicesReplayer):
        summary = replayer().run(lines(rows))
        assert [r.status for r in summary.results] == ["rejected"] * 4
        assert "events[3].legal_basis: 须为文本" in summary.results[0].reason
        assert "longer than 500" in summary.results[1].reason
        assert "events[3].reason" in summary.results[2].reason
        assert "events[3].items" in summary.results[3].reason
