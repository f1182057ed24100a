"""信息处理费 (条例 Art 42; 国办函〔2020〕109号《政府信息公开信息处理费管理办法》). Pure.

One method per application, chosen by the office (办法 Art 3), both marginal (超额累进):

- by count (按件计收, 办法 Art 4(一)): per applicant, per agency, per calendar month — items
  1–10 free; 11–30 at 100 元 each; from the 31st, each band of 10 costs 100 元 more per item
  (31–40 at 200, 41–50 at 300, ...). An application is charged at the rate of its position
  in the month.
- by pages (按量计收, 办法 Art 4(二)), one application: pages 1–30 free; 31–100 at 10 元;
  101–200 at 20 元; beyond 200 at 40 元 per page.

Each function returns a :class:`FeeComputation`: the amount and the lines that make it, shown
to the caseworker and stored on the fee notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

BY_COUNT = "by_count"
BY_PAGES = "by_pages"
BASIS = "《政府信息公开条例》第四十二条；国办函〔2020〕109号《政府信息公开信息处理费管理办法》"

FREE_ITEMS = 10
FIRST_BAND_LAST_ITEM = 30
FIRST_BAND_RATE = Decimal("100")
BAND_SIZE = 10
BAND_STEP = Decimal("100")

# (first page, last page or None, rate per page in 元)
PAGE_BANDS: tuple[tuple[int, int | None, Decimal], ...] = (
    (1, 30, Decimal("0")),
    (31, 100, Decimal("10")),
    (101, 200, Decimal("20")),
    (201, None, Decimal("40")),
)
MAX_UNITS = 1_000_000


@dataclass(frozen=True)
class FeeLine:
    first: int
    last: int
    units: int
    rate: Decimal
    subtotal: Decimal

    def as_dict(self) -> dict:
        return {
            "first": self.first,
            "last": self.last,
            "units": self.units,
            "rate_yuan": str(self.rate),
            "subtotal_yuan": str(self.subtotal),
        }


@dataclass(frozen=True)
class FeeComputation:
    method: str
    units: int  # items charged now (by count) or pages (by pages)
    already: int  # by count: the applicant's earlier applications that month
    lines: tuple[FeeLine, ...]
    amount: Decimal

    @property
    def text(self) -> str:
        """The computation in words, as the caseworker and the applicant read it."""
        unit = "件" if self.method == BY_COUNT else "页"
        if self.method == BY_COUNT:
            head = (
                f"按件计收：本月此前已申请 {self.already} 件，本次为第 "
                f"{self.already + 1}"
                + (f"–{self.already + self.units}" if self.units > 1 else "")
                + " 件。"
            )
        else:
            head = f"按量计收：共 {self.units} 页。"
        parts = [
            f"第{line.first}–{line.last}{unit}：{line.units}{unit}×{line.rate}元＝{line.subtotal}元"
            for line in self.lines
        ]
        return head + "；".join(parts) + f"。合计 {self.amount} 元。"

    def as_dict(self) -> dict:
        return {
            "method": self.method,
            "units": self.units,
            "already": self.already,
            "lines": [line.as_dict() for line in self.lines],
            "amount_yuan": str(self.amount),
            "text": self.text,
            "basis": BASIS,
        }


def count_rate(position: int) -> Decimal:
    """The fee for the ``position``-th application of the month (1-based)."""
    if position < 1:
        raise ValueError("position starts at 1")
    if position <= FREE_ITEMS:
        return Decimal("0")
    if position <= FIRST_BAND_LAST_ITEM:
        return FIRST_BAND_RATE
    band = (position - FIRST_BAND_LAST_ITEM - 1) // BAND_SIZE + 1
    return FIRST_BAND_RATE + BAND_STEP * band


def _count_band(position: int) -> tuple[int, int]:
    """The first and last position of the band ``position`` falls in."""
    if position <= FREE_ITEMS:
        return 1, FREE_ITEMS
    if position <= FIRST_BAND_LAST_ITEM:
        return FREE_ITEMS + 1, FIRST_BAND_LAST_ITEM
    start = (
        FIRST_BAND_LAST_ITEM + 1 + ((position - FIRST_BAND_LAST_ITEM - 1) // BAND_SIZE) * BAND_SIZE
    )
    return start, start + BAND_SIZE - 1


def _check(value: int, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_UNITS:
        raise ValueError(f"{name} must be an integer from {minimum} to {MAX_UNITS}")


def fee_by_count(items: int, *, already: int = 0) -> FeeComputation:
    """The fee for ``items`` applications that follow ``already`` earlier ones in the month."""
    _check(items, "items", 1)
    _check(already, "already", 0)
    lines = []
    position, last = already + 1, already + items
    while position <= last:
        band_first, band_last = _count_band(position)
        upto = min(band_last, last)
        units = upto - position + 1
        rate = count_rate(position)
        lines.append(FeeLine(position, upto, units, rate, rate * units))
        position = upto + 1
    amount = sum((line.subtotal for line in lines), Decimal("0"))
    return FeeComputation(BY_COUNT, items, already, tuple(lines), amount.quantize(Decimal("0.01")))


def fee_by_pages(pages: int) -> FeeComputation:
    """The fee for one application of ``pages`` pages."""
    _check(pages, "pages", 1)
    lines = []
    for first, last, rate in PAGE_BANDS:
        if pages < first:
            break
        upto = pages if last is None else min(last, pages)
        units = upto - first + 1
        lines.append(FeeLine(first, upto, units, rate, rate * units))
    amount = sum((line.subtotal for line in lines), Decimal("0"))
    return FeeComputation(BY_PAGES, pages, 0, tuple(lines), amount.quantize(Decimal("0.01")))


def fee_rules_text() -> list[str]:
    """The national fee standard in plain words, from the constants above (the public guide
    shows it when an agency has written no fee rules of its own)."""
    pages = "；".join(
        f"第{first}页以上每页{rate}元"
        if last is None
        else (f"{last}页以内免费" if rate == 0 else f"第{first}–{last}页每页{rate}元")
        for first, last, rate in PAGE_BANDS
    )
    return [
        "一般情况下不收费。申请人申请公开政府信息的数量、频次明显超过合理范围的，"
        f"可以收取信息处理费（{BASIS}）。",
        f"按件计收：同一申请人一个自然月内累计申请{FREE_ITEMS}件以内免费；"
        f"第{FREE_ITEMS + 1}–{FIRST_BAND_LAST_ITEM}件每件{FIRST_BAND_RATE}元；"
        f"第{FIRST_BAND_LAST_ITEM + 1}件起每{BAND_SIZE}件为一档，每档每件增加{BAND_STEP}元。",
        f"按量计收：同一申请{pages}。",
        "需要收费的，本机关将发出收费通知；申请人自收到通知之日起20个工作日内缴纳，"
        "逾期未缴纳的，本机关不再处理该申请。",
    ]
