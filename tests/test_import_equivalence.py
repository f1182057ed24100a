"""One decision core: random histories — legal ones, and ones with an illegal step at a random
place — imported one by one through the services (``ServicesReplayer``) and in bulk
(``FastReplayer``, the path ``import_cases`` takes) give the same database: identical cases,
history rows (but for ids and times of entry), refusals (the exact message and line), published
reports flagged stale and 重复申请 checks. The two imports start from the same database: the
services' run is rolled back before the bulk run (which on PostgreSQL writes with COPY from its
writer thread)."""

import io
import random

import pytest
from django.core.management import call_command
from django.db import transaction

from reporting.models import AnnualReport
from reporting.services import report_generate, report_publish
from requests_app.importers import FastReplayer, ServicesReplayer
from requests_app.models import Agency, Case, RepeatCheck
from tests.report_helpers import agency
from tests.test_import_cases import case_columns, event_row, lines, linked_rows
from tests.test_import_fast import varied_histories

# Steps that are illegal somewhere in most histories: out of order, twice, before receipt, or
# an abandonment before the applicant's period has run out.
ILLEGAL_STEPS = [
    {"type": "supplement_received"},
    {"type": "fee_paid"},
    {"type": "consultation_closed"},
    {"type": "extended", "days": 20},
    {"type": "extended", "days": 25},
    {"type": "supplement_requested", "period_days": 0},
    {"type": "replied", "outcome": "abandoned_no_supplement"},
    {"type": "replied", "outcome": "abandoned_no_fee"},
    {"type": "replied", "outcome": "disclosed"},
    {"type": "fee_notice", "amount_yuan": "-5"},
    {"type": "replied", "outcome": "withdrawn"},
]
# A few applicants who apply again for much the same thing (重复申请 candidates).
REPEATERS = [
    {"type": "natural_person", "name": "王五", "id_type": "mainland_id",
     "id_number": "110101199003074477", "phone": "13900139000"},
    {"type": "commercial_enterprise", "name": "某某有限公司", "phone": "0851-86888888"},
]  # fmt: skip
DESCRIPTIONS = [
    "申请公开 2021 年本机关部门预算及三公经费决算",
    "申请公开 2021 年本机关部门预算及三公经费的决算",
    "申请公开某路段拆迁补偿安置方案及批复文件",
]


def random_histories(prefix: str, n: int, seed: int) -> list[dict]:
    """Varied legal histories; about a third get an illegal step at a random place, and about
    a quarter are applications of a repeating applicant."""
    rng = random.Random(seed)
    out = []
    for h in varied_histories(prefix, n, seed=seed):
        if rng.random() < 0.25:
            h["applicant"] = dict(rng.choice(REPEATERS))
            h["description"] = rng.choice(DESCRIPTIONS)
        if rng.random() < 0.35:
            events = h["events"]
            place = rng.randrange(1, len(events) + 1)
            step = dict(rng.choice(ILLEGAL_STEPS))
            step["at"] = events[place - 1]["at"]  # the time of the step before it
            events.insert(place, step)
        out.append(h)
    return out


@pytest.fixture
def world(transactional_db):
    """A city with published reports for 2019 and 2022 (before anything is imported), and
    the calendar of the years the histories span."""
    call_command("load_calendar", "--years", "2019", "2020", "2021", "2022", "2023",
                 stdout=io.StringIO())  # fmt: skip
    city = agency("city", kind="government")
    agency("office", city, kind="office")
    agency("street", city, kind="street")
    for year in (2019, 2022):
        report_publish(report=report_generate(agency=city, year=year))
    office = Agency.objects.get(code="office")
    report_publish(report=report_generate(agency=office, year=2021))


def _by_external_id() -> dict[int, str]:
    return dict(Case.objects.values_list("pk", "external_id"))


def database() -> dict:
    """Everything an import writes, without ids, random codes and times of entry."""
    names = _by_external_id()
    cases = {}
    for case in Case.objects.order_by("external_id"):
        fields = case_columns(case)
        events = [event_row(e, ("line",)) for e in case.events.order_by("pk")]
        cases[case.external_id] = (fields, events, linked_rows(case))
    repeats = {
        names[row.case_id]: (
            row.agency_id,
            row.applicant_key,
            names.get(row.repeats_id),
            row.similarity,
            row.checked_at is not None,
        )  # fmt: skip
        for row in RepeatCheck.objects.all()
    }
    reports = {
        report.pk: (
            report.is_stale,
            [
                {k: v for k, v in note.items() if k not in ("at", "case", "case_id", "import_run")}
                for note in report.stale_reasons
            ],
        )  # fmt: skip
        for report in AnnualReport.objects.order_by("pk")
    }
    return {"cases": cases, "repeats": repeats, "reports": reports}


def results(summary) -> list[tuple]:
    return [(r.line, r.external_id, r.status, r.reason) for r in summary.results]


# Per seed: lines rejected, lines imported, imported cases that repeat an earlier one (the
# varied histories share one applicant and a few descriptions: most repeat), and the imported
# cases each published report counts (the city's 2019 and 2022, the office's 2021).
@pytest.mark.parametrize(
    ("seed", "rejected", "imported", "repeating", "counted"),
    [(1, 17, 43, 38, [15, 23, 10]), (2, 16, 44, 40, [12, 11, 13])],
)
def test_the_bulk_import_equals_the_services_one_by_one(
    world, seed, rejected, imported, repeating, counted
):
    histories = random_histories("H", 60, seed)
    with transaction.atomic():
        slow = ServicesReplayer(source="h.jsonl").run(lines(histories))
        expected = database()
        transaction.set_rollback(True)
    assert Case.objects.count() == 0
    fast = FastReplayer(source="h.jsonl", batch_size=9).run(lines(histories))
    assert results(fast) == results(slow)
    got = database()
    assert got["reports"] == expected["reports"]
    assert got["repeats"] == expected["repeats"]
    assert got["cases"].keys() == expected["cases"].keys()
    for external_id, case in expected["cases"].items():
        assert got["cases"][external_id] == case, external_id

    # The histories exercised what the issue names: refusals with their line, repeats found,
    # reports flagged once per import with the number of cases they count.
    statuses = [r.status for r in slow.results]
    assert (statuses.count("rejected"), statuses.count("imported")) == (rejected, imported)
    assert all(
        r.reason.startswith("events[") or r.reason.startswith("收到申请前不能有办理事件")
        for r in slow.results
        if r.status == "rejected"
    )
    assert sum(1 for row in got["repeats"].values() if row[2] is not None) == repeating
    assert all(row[4] for row in got["repeats"].values())  # every check done on import
    flagged = [notes for stale, notes in got["reports"].values() if stale]
    assert [[(n["source"], n["cases"]) for n in notes] for notes in flagged] == [
        [("h.jsonl", cases)] for cases in counted
    ]
    # No step of an imported history wrote a changed_after_publication event.
    assert not any(
        kind == "changed_after_publication"
        for _f, events, _l in got["cases"].values()
        for kind, *_ in events
    )


def test_a_later_import_run_adds_its_own_note(world):
    first = varied_histories("A", 6, seed=5)
    second = varied_histories("B", 6, seed=6)
    FastReplayer(source="a.jsonl", batch_size=4).run(lines(first))
    FastReplayer(source="b.jsonl", batch_size=4).run(lines(second))
    # Each published report (city 2019, city 2022, office 2021): one note per run, with the
    # number of that run's cases the report counts.
    assert [
        [(note["source"], note["cases"]) for note in report.stale_reasons]
        for report in AnnualReport.objects.order_by("pk")
    ] == [
        [("a.jsonl", 1), ("b.jsonl", 2)],
        [("a.jsonl", 2), ("b.jsonl", 5)],
        [("a.jsonl", 2), ("b.jsonl", 1)],
    ]


def test_plans_write_nothing_until_applied(world):
    """Planning a history's steps — every check of every service — reads at most; the rows are
    written by the bulk insert (or, on the services path, by ``case_apply``)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from requests_app.services.clock import dates_fixed

    replayer = FastReplayer(source="plans.jsonl")
    with CaptureQueriesContext(connection) as queries, dates_fixed():
        chunk = replayer._prepare(lines(random_histories("Q", 30, seed=9)))
    writes = [
        q["sql"] for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]  # fmt: skip
    assert writes == []
    assert len(chunk.simulations) == 20 and Case.objects.count() == 0
