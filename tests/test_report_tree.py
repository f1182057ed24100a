"""The year-end run computes a whole government tree at once (``compute_tree_reports``): for
every agency, the same report as computing it alone — cells, checks and extras — in every
format, with reviews, lawsuits, complaints and fees."""

import datetime as dt
import random
from decimal import Decimal

import pytest

from reporting.engine import ReportInputs, compute_report, compute_tree_reports
from reporting.models import AnnualReport
from reporting.tasks import generate_year_end_reports
from requests_app.choices import ApplicantType, Channel, Outcome
from requests_app.models import Agency, Complaint, FeeNotice, Lawsuit, Review
from tests.report_helpers import case_row, city_tree

pytestmark = pytest.mark.django_db


OUTCOMES = sorted(Outcome.values)
TYPES = sorted(ApplicantType.values)
CHANNELS = sorted(Channel.values)


def random_history(seed: int = 7):
    """A city tree with 300 random cases over 2017–2022 and their reviews, lawsuits,
    complaints and fees; returns the city."""
    rng = random.Random(seed)
    tree = city_tree()
    agencies = list(tree.values())
    start = dt.date(2017, 1, 1)
    for i in range(300):
        agency = rng.choice(agencies)
        received = start + dt.timedelta(days=rng.randrange(0, 6 * 365))
        concluded = None
        if rng.random() < 0.85:
            concluded = received + dt.timedelta(days=rng.randrange(0, 60))
        if rng.random() < 0.03:
            received = None  # never received: submitted, or withdrawn before receipt
        case = case_row(
            agency,
            received_on=received,
            concluded_on=concluded,
            outcome=rng.choice(OUTCOMES) if concluded else "",
            applicant_type=rng.choice(TYPES),
            channel=rng.choice(CHANNELS),
            is_extended=rng.random() < 0.1,
        )
        if concluded and rng.random() < 0.15:
            filed = concluded + dt.timedelta(days=rng.randrange(1, 50))
            decided = filed + dt.timedelta(days=rng.randrange(10, 200))
            Review.objects.create(
                case=case, filed_on=filed, decided_on=decided,
                result=rng.choice(["upheld", "corrected", "other"]),
            )  # fmt: skip
        if concluded and rng.random() < 0.1:
            Lawsuit.objects.create(
                case=case, filed_on=concluded + dt.timedelta(days=rng.randrange(1, 150)),
                after_review=rng.random() < 0.5, result=rng.choice(["upheld", "pending"]),
            )  # fmt: skip
        if rng.random() < 0.05:
            Complaint.objects.create(
                agency=agency, case=case if rng.random() < 0.5 else None,
                filed_on=start + dt.timedelta(days=rng.randrange(0, 6 * 365)),
            )  # fmt: skip
        if concluded and rng.random() < 0.05:
            FeeNotice.objects.create(
                case=case, amount_yuan=Decimal(rng.randrange(1, 50) * 100), issued_on=received
                or concluded, paid_on=concluded, waived=rng.random() < 0.2,
            )  # fmt: skip
    return tree["city"]


def comparable(result):
    return (
        result.cells,
        [(c.name, c.ok, c.detail) for c in result.checks],
        result.extras,
    )


@pytest.mark.parametrize(
    ("year", "fmt"), [(2018, "legacy2014"), (2019, "gov2019"), (2021, "gov2021")]
)
def test_tree_reports_equal_one_by_one(year, fmt):
    root = random_history()
    results = compute_tree_reports(root, year=year, format=fmt)
    agencies = list(Agency.objects.subtree(root))
    assert set(results) == {a.pk for a in agencies}
    nonzero = 0
    for agency in agencies:
        alone = compute_report(ReportInputs.build(year=year, agency=agency, format=fmt))
        assert comparable(results[agency.pk]) == comparable(alone), agency.code
        nonzero += alone.extras["cases"]["new"]["total"] + alone.extras["complaints_total"]
    assert nonzero > 0


def test_year_end_run_stores_the_tree_reports():
    root = random_history()
    summary = generate_year_end_reports(2021)
    count = Agency.objects.subtree(root).count()
    assert summary["created"] >= count and summary["failed"] == 0
    stored = AnnualReport.objects.get(agency=root, year=2021)
    alone = compute_report(ReportInputs.build(year=2021, agency=root))
    assert stored.cells == alone.cells
