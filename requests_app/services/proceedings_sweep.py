"""Reminders for the agency's own deadlines in reviews and lawsuits, swept like the case clock.

- a review's 答复 period (``Review.answer_due_on``: 复议法 2023 Art 48 / 54, 1999 Art 23),
  until the answer is recorded;
- a lawsuit's 举证 period (``Lawsuit.defense_due_on``: 行政诉讼法 Art 67), until the
  defence is recorded.

The actions are the case clock's (``requests_app.clock.Action``): ``remind`` k working days
before the due date (``DISCLOSURE["REMINDER_DAYS_BEFORE"]``), ``escalate`` to the approvers
the day after it. ``due_actions`` picks what is due today; each notification has a unique key
(record, action, due date, offset, recipient), so a repeated or concurrent sweep writes
nothing twice, and the history event goes with the first notification only. The sweep reads
only the records whose ``next_reminder_on`` has come (a partial index), then moves it to the
next future action or clears it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.db import transaction

from requests_app.calendars import calendar_for_agency
from requests_app.clock import ESCALATE, REMIND, Action, due_actions
from requests_app.deadlines import ONE_DAY
from requests_app.models import (
    EventKind,
    Lawsuit,
    NotificationKind,
    Review,
)
from requests_app.selectors import approvers_by_agency
from requests_app.services.clock import clock_today
from requests_app.services.reminders import (
    ActionNotices,
    action_key,
    action_recipients,
    claim_for_update,
    next_action_date,
    next_dates_save,
)

# deadline name -> (model, due field, done field, label, legal basis)
DEADLINES = {
    "review_answer_due_on": (
        Review,
        "answer_due_on",
        "answered_on",
        "行政复议答复期限",
        "《行政复议法》第四十八条",
    ),
    "lawsuit_defense_due_on": (
        Lawsuit,
        "defense_due_on",
        "defense_submitted_on",
        "行政诉讼举证期限",
        "《行政诉讼法》第六十七条",
    ),
}


def record_actions(due: dt.date, deadline: str, calendar) -> list[Action]:
    """The reminders and the escalation of one deadline (the case clock's rules)."""
    actions = [
        Action(REMIND, deadline, due, calendar.add_working_days(due, -k), k)
        for k in settings.DISCLOSURE["REMINDER_DAYS_BEFORE"]
    ]
    actions.append(Action(ESCALATE, deadline, due, due + ONE_DAY))
    return actions


def _claim(model, today: dt.date, batch_size: int) -> list:
    queryset = (
        model.objects.filter(next_reminder_on__isnull=False, next_reminder_on__lte=today)
        .select_related("case", "case__agency", "case__handler")
        .order_by("next_reminder_on", "pk")
    )
    return list(claim_for_update(queryset)[:batch_size])


def _message(record, action: Action, label: str, basis: str) -> tuple[str, str, str]:
    number = record.case.tracking_number
    what = "复议" if isinstance(record, Review) else "诉讼"
    if action.kind == REMIND:
        return (
            NotificationKind.PROCEEDINGS_REMINDER,
            f"【期限提醒】{number} {label}还有{action.days_before}个工作日届满（{action.due}）",
            f"申请 {number} 的行政{what}（{record.filed_on} 提起）{label}为 {action.due}，"
            f"还有 {action.days_before} 个工作日，请按时提交（{basis}）。",
        )
    return (
        NotificationKind.PROCEEDINGS_ESCALATION,
        f"【逾期】{number} {label}已于 {action.due} 届满",
        f"申请 {number} 的行政{what}（{record.filed_on} 提起）{label} {action.due} 已届满，"
        f"尚未记录提交，请督办（{basis}）。",
    )


def _process(deadline: str, records: list, today: dt.date, totals: dict) -> None:
    model, due_field, done_field, label, basis = DEADLINES[deadline]
    approvers = approvers_by_agency({r.case.agency_id for r in records})
    notices = ActionNotices()
    next_on: dict[dt.date | None, list[int]] = defaultdict(list)
    name = model._meta.model_name
    for record in records:
        due = getattr(record, due_field)
        if due is None or getattr(record, done_field) is not None or record.decided_on:
            next_on[None].append(record.pk)
            continue
        actions = record_actions(due, deadline, calendar_for_agency(record.case.agency))
        for action in due_actions(actions, today):
            case = record.case
            kind, subject, body = _message(record, action, label, basis)
            notices.add(
                case=case,
                key=action_key(f"{name}{record.pk}", action),
                users=action_recipients(action, case, approvers.get(case.agency_id, [])),
                kind=kind,
                subject=subject,
                body=body,
                event_kind=EventKind.REMINDER_SENT
                if action.kind == REMIND
                else EventKind.ESCALATED,
                data={**action.as_dict(), f"{name}_id": record.pk},
            )
        next_on[next_action_date((a.on for a in actions), today)].append(record.pk)
    notices.save(totals, count_zero=True)
    next_dates_save(model, "next_reminder_on", next_on)


def proceedings_sweep(*, today: dt.date | None = None, batch_size: int = 500) -> dict:
    """Send every review-answer and lawsuit-defence reminder due by ``today``. Safe to run
    twice, or twice at once; each batch is one transaction. Returns counts."""
    today = today or clock_today()
    totals: dict = defaultdict(int)
    for deadline, (model, *_rest) in DEADLINES.items():
        while True:
            with transaction.atomic():
                records = _claim(model, today, batch_size)
                if not records:
                    break
                _process(deadline, records, today, totals)
                totals["records"] += len(records)
    return dict(totals)
