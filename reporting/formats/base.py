"""The vocabulary the report formats are written in: rows as data, no logic.

A format is a list of rows. Each row names what it counts (a *measure*) and the filter that
narrows it (outcomes, channels, the extension flag, review/lawsuit results). The engine turns
each measure into a filtered count; the exporters lay the rows out using ``section``,
``group`` and ``item`` (the three label columns of the official tables).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from requests_app.choices import ApplicantType, Outcome


class Measure(StrEnum):
    # What a row counts (docs/reporting.md, 'Counting rules').
    NEW = "new"  # R in the year
    CARRIED_IN = "carried_in"  # R before the year, not concluded before it
    CONCLUDED = "concluded"  # concluded in the year, on or before the cutoff
    CARRIED_OUT = "carried_out"  # R by the year's end, not concluded by the cutoff
    REVIEW = "review"  # 行政复议 filed in the year
    LITIGATION = "litigation"  # 行政诉讼 (first instance) filed in the year
    COMPLAINTS = "complaints"  # 投诉举报 filed in the year
    FEES = "fees"  # 信息处理费 paid in the year (元)


# Columns of table 三 (the applicant types, docs/law.md), in the order of the official table.
APPLICANT_COLUMNS: tuple[str, ...] = tuple(ApplicantType.values)
TOTAL = "total"
TABLE3_COLUMNS: tuple[str, ...] = (*APPLICANT_COLUMNS, TOTAL)
TABLE3_COLUMN_LABELS: dict[str, str] = {
    "natural_person": "自然人",
    "commercial_enterprise": "商业企业",
    "research_institution": "科研机构",
    "public_interest_org": "社会公益组织",
    "legal_service_org": "法律服务机构",
    "other_org": "其他",
    TOTAL: "总计",
}

# Review and lawsuit results (requests_app.models.Result) and table 四's columns.
RESULTS: tuple[str, ...] = ("upheld", "corrected", "other", "pending")
TABLE4_COLUMNS: tuple[str, ...] = (*RESULTS, TOTAL)
TABLE4_COLUMN_LABELS: dict[str, str] = {
    "upheld": "结果维持",
    "corrected": "结果纠正",
    "other": "其他结果",
    "pending": "尚未审结",
    TOTAL: "总计",
}

ALL_OUTCOMES: frozenset[str] = frozenset(Outcome.values)


@dataclass(frozen=True)
class Row:
    """One line of a table: a key, its official label, and what it counts.

    ``outcomes``/``channels``/``results`` of ``None`` mean "no restriction".
    ``extended`` restricts concluded cases to those extended (True) or not (False).
    ``after_review`` restricts lawsuits to those filed after a review (True) or directly.
    """

    key: str
    label: str
    measure: Measure
    outcomes: frozenset[str] | None = None
    channels: frozenset[str] | None = None
    extended: bool | None = None
    results: frozenset[str] | None = None
    after_review: bool | None = None
    # Layout of the official table: 一/二/三/四 section, （一）… group, 1.… item.
    section: str = ""
    group: str = ""
    item: str = ""
    # The unit printed beside the number in a flat table (件, or 元 for fees).
    unit: str = "件"


@dataclass(frozen=True)
class Block:
    """A line of table 四 (行政复议 / 行政诉讼): each result column is a count."""

    key: str
    label: str
    measure: Measure
    after_review: bool | None = None
    section: str = ""
    group: str = ""


@dataclass(frozen=True)
class SumCheck:
    """An identity the format must satisfy: ``total`` equals the sum of ``parts``."""

    total: str
    parts: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class TableFormat:
    """gov2019 / gov2021: table 三 by applicant column, table 四 by result."""

    code: str
    title: str
    source: str
    years: tuple[int, int | None]
    table3: tuple[Row, ...]
    table4: tuple[Block, ...]
    kind: str = "table"
    columns: tuple[str, ...] = TABLE3_COLUMNS
    table4_columns: tuple[str, ...] = TABLE4_COLUMNS

    @property
    def outcome_rows(self) -> tuple[Row, ...]:
        return tuple(r for r in self.table3 if r.measure == Measure.CONCLUDED and r.outcomes)

    def row(self, key: str) -> Row:
        return next(r for r in self.table3 if r.key == key)

    def block(self, key: str) -> Block:
        return next(b for b in self.table4 if b.key == key)


@dataclass(frozen=True)
class FlatFormat:
    """legacy2014: one number per key, one column."""

    code: str
    title: str
    source: str
    years: tuple[int | None, int]
    rows: tuple[Row, ...]
    sums: tuple[SumCheck, ...] = field(default_factory=tuple)
    kind: str = "flat"

    def row(self, key: str) -> Row:
        return next(r for r in self.rows if r.key == key)


def outcomes(*codes: str) -> frozenset[str]:
    unknown = set(codes) - ALL_OUTCOMES
    if unknown:
        raise ValueError(f"unknown outcomes {sorted(unknown)}")
    return frozenset(codes)
