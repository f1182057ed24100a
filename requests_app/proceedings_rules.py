"""Periods of 行政复议 and 行政诉讼 (docs/law.md, 'Review and litigation'). Pure: no ORM, no
settings.

Each function returns the due date and an explanation a caseworker can read back.

行政复议 — the law in force on the filing date decides (《行政复议法》2023 from 2024-01-01,
the 1999 law before):

- decision: 60 days from acceptance, extendable once by at most 30 (2023 Art 62 ¶1; 1999
  Art 31 ¶1); 30 days under the simplified procedure (2023 Art 62 ¶2), which disclosure
  cases may use (Art 53(三)) and which the 1999 law did not have. Calendar days.
- the respondent's answer (答复): within 10 days of receiving the copy of the application
  (2023 Art 48; 1999 Art 23), 5 under the simplified procedure (2023 Art 54). The 2023 law
  counts its 3/5/7/10-day periods in working days (Art 88 ¶2); the 1999 law only its 5- and
  7-day ones (Art 40), so its 10-day answer period is calendar days.

行政诉讼 (《行政诉讼法》2017):

- first instance: 6 months from 立案 (Art 81), 45 days under the simple procedure (Art 83);
  an appeal: 3 months from receiving the appeal (Art 88).
- the defendant's evidence and defence (举证): within 15 days of receiving the copy of the
  complaint (Art 67).

Calendar-day periods follow 《民事诉讼法》's rules on periods (复议法 2023 Art 88 ¶1, 1999
Art 40; 行政诉讼法 Art 101): the first day is not counted, and a period whose last day is a
statutory rest day ends on the first working day after it.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from dataclasses import dataclass

from requests_app.deadlines import WorkCalendar

REVIEW_LAW_2023_FROM = dt.date(2024, 1, 1)
LAW_1999 = "1999"
LAW_2023 = "2023"


@dataclass(frozen=True)
class ReviewRules:
    law: str
    name: str
    decision_days: int
    max_extension_days: int
    simplified_decision_days: int | None  # None: the law has no simplified procedure
    answer_days: int
    simplified_answer_days: int | None
    answer_in_working_days: bool
    articles: dict


REVIEW_RULES = {
    LAW_1999: ReviewRules(
        law=LAW_1999,
        name="《中华人民共和国行政复议法》（1999）",
        decision_days=60,
        max_extension_days=30,
        simplified_decision_days=None,
        answer_days=10,
        simplified_answer_days=None,
        answer_in_working_days=False,
        articles={
            "decision": "《行政复议法》（1999）第三十一条第一款",
            "answer": "《行政复议法》（1999）第二十三条第一款",
            "periods": "《行政复议法》（1999）第四十条",
        },
    ),
    LAW_2023: ReviewRules(
        law=LAW_2023,
        name="《中华人民共和国行政复议法》（2023修订）",
        decision_days=60,
        max_extension_days=30,
        simplified_decision_days=30,
        answer_days=10,
        simplified_answer_days=5,
        answer_in_working_days=True,
        articles={
            "decision": "《行政复议法》第六十二条第一款",
            "simplified_decision": "《行政复议法》第六十二条第二款",
            "answer": "《行政复议法》第四十八条",
            "simplified_answer": "《行政复议法》第五十四条",
            "periods": "《行政复议法》第八十八条",
        },
    ),
}

LITIGATION_ARTICLES = {
    "first_instance": "《行政诉讼法》第八十一条",
    "simple_procedure": "《行政诉讼法》第八十三条",
    "appeal": "《行政诉讼法》第八十八条",
    "defense": "《行政诉讼法》第六十七条第一款",
    "periods": "《行政诉讼法》第一百零一条、《民事诉讼法》第八十五条",
}
FIRST_INSTANCE_MONTHS = 6
SIMPLE_PROCEDURE_DAYS = 45
APPEAL_MONTHS = 3
DEFENSE_DAYS = 15


class ProceedingsRuleError(ValueError):
    """The facts do not allow the procedure asked for (e.g. simplified under the 1999 law)."""


def review_law_for(filed_on: dt.date) -> str:
    """The 行政复议法 in force on the filing date."""
    return LAW_2023 if filed_on >= REVIEW_LAW_2023_FROM else LAW_1999


def roll_to_working_day(day: dt.date, calendar: WorkCalendar) -> dt.date:
    """民事诉讼法 Art 85 ¶3: a period ending on a rest day ends on the next working day."""
    return calendar.working_day_on_or_after(day)


def calendar_days_due(start: dt.date, days: int, calendar: WorkCalendar) -> dt.date:
    """The end of a period of ``days`` calendar days from ``start`` (start not counted)."""
    return roll_to_working_day(start + dt.timedelta(days=days), calendar)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later; the month's last day when it has no such day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def review_decision_due(
    *,
    accepted_on: dt.date,
    law: str,
    simplified: bool,
    extended: bool,
    calendar: WorkCalendar,
) -> tuple[dt.date, dict]:
    rules = REVIEW_RULES[law]
    if simplified:
        if rules.simplified_decision_days is None:
            raise ProceedingsRuleError(f"{rules.name}没有简易程序。")
        if extended:
            raise ProceedingsRuleError("简易程序的审理期限不能延长。")
        days, article = rules.simplified_decision_days, rules.articles["simplified_decision"]
    else:
        days = rules.decision_days + (rules.max_extension_days if extended else 0)
        article = rules.articles["decision"]
    raw = accepted_on + dt.timedelta(days=days)
    due = roll_to_working_day(raw, calendar)
    return due, {
        "law": law,
        "from": accepted_on.isoformat(),
        "days": days,
        "unit": "calendar",
        "end_before_rest_day_rule": raw.isoformat(),
        "due_on": due.isoformat(),
        "basis": f"{article}；{rules.articles['periods']}",
        "text": (
            f"自受理之日 {accepted_on} 起{days}日"
            f"{'（含延长30日）' if extended else ''}{'（简易程序）' if simplified else ''}，"
            f"至 {due}（{article}）"
        ),
    }


def review_answer_due(
    *, copy_received_on: dt.date, law: str, simplified: bool, calendar: WorkCalendar
) -> tuple[dt.date, dict]:
    rules = REVIEW_RULES[law]
    if simplified and rules.simplified_answer_days is None:
        raise ProceedingsRuleError(f"{rules.name}没有简易程序。")
    days = rules.simplified_answer_days if simplified else rules.answer_days
    article = rules.articles["simplified_answer" if simplified else "answer"]
    if rules.answer_in_working_days:
        due = calendar.add_working_days(copy_received_on, days)
        unit, text_unit = "working", "个工作日"
    else:
        due = calendar_days_due(copy_received_on, days, calendar)
        unit, text_unit = "calendar", "日"
    return due, {
        "law": law,
        "from": copy_received_on.isoformat(),
        "days": days,
        "unit": unit,
        "due_on": due.isoformat(),
        "basis": f"{article}；{rules.articles['periods']}",
        "text": f"自收到申请书副本之日 {copy_received_on} 起{days}{text_unit}内提出书面答复，至 {due}（{article}）",
    }


def lawsuit_judgment_due(
    *, filed_on: dt.date, instance: int, simple_procedure: bool, calendar: WorkCalendar
) -> tuple[dt.date, dict]:
    if instance >= 2:
        if simple_procedure:
            raise ProceedingsRuleError("第二审不适用简易程序。")
        raw, article, span = (
            add_months(filed_on, APPEAL_MONTHS),
            LITIGATION_ARTICLES["appeal"],
            f"{APPEAL_MONTHS}个月",
        )
    elif simple_procedure:
        raw = filed_on + dt.timedelta(days=SIMPLE_PROCEDURE_DAYS)
        article, span = LITIGATION_ARTICLES["simple_procedure"], f"{SIMPLE_PROCEDURE_DAYS}日"
    else:
        raw = add_months(filed_on, FIRST_INSTANCE_MONTHS)
        article, span = LITIGATION_ARTICLES["first_instance"], f"{FIRST_INSTANCE_MONTHS}个月"
    due = roll_to_working_day(raw, calendar)
    return due, {
        "from": filed_on.isoformat(),
        "span": span,
        "end_before_rest_day_rule": raw.isoformat(),
        "due_on": due.isoformat(),
        "basis": f"{article}；{LITIGATION_ARTICLES['periods']}",
        "text": f"自立案之日 {filed_on} 起{span}内审结，至 {due}（{article}）",
    }


def lawsuit_defense_due(
    *, copy_received_on: dt.date, calendar: WorkCalendar
) -> tuple[dt.date, dict]:
    due = calendar_days_due(copy_received_on, DEFENSE_DAYS, calendar)
    article = LITIGATION_ARTICLES["defense"]
    return due, {
        "from": copy_received_on.isoformat(),
        "days": DEFENSE_DAYS,
        "unit": "calendar",
        "due_on": due.isoformat(),
        "basis": f"{article}；{LITIGATION_ARTICLES['periods']}",
        "text": (
            f"自收到起诉状副本之日 {copy_received_on} 起{DEFENSE_DAYS}日内提交证据、规范性文件"
            f"和答辩状，至 {due}（{article}）"
        ),
    }
