"""What the two sweeps share: claiming due rows, sending an action's notices with its history
event, and moving each row to its next action.

``services/sweep.py`` (the case clock's actions) and ``services/proceedings_sweep.py`` (the
agency's own deadlines in reviews and lawsuits) each decide which actions are due and what the
notices say; this module does the rest the same way for both:

- ``claim_for_update``: the due rows, locked unless another sweep holds them;
- ``action_recipients``: who is told of an action (the handler, else the approvers; the
  approvers for an escalation; both for a proposed closure);
- ``ActionNotices``: for each action, the recipients' notifications (the agency's inbox, and
  optionally its mailbox, when nobody is named) and one history event; ``save`` writes them
  with one de-duplication query and one insert, and an event only together with its first
  new notification, so a repeated or concurrent sweep writes nothing twice;
- ``next_dates_save``: each row's next action date, a few UPDATEs per batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from requests_app.clock import CLOSE_NO_FEE, CLOSE_NO_SUPPLEMENT, ESCALATE, Action
from requests_app.models import Case, CaseEvent, Notification
from requests_app.services.clock import SYSTEM_LABEL
from requests_app.services.notifications import notifications_create, user_notifications


def claim_for_update(queryset):
    """``queryset`` locked row by row: rows another transaction holds are skipped (PostgreSQL's
    ``SKIP LOCKED``; SQLite serialises writers instead)."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.select_for_update()


def action_key(prefix: str, action: Action) -> str:
    """The de-duplication key of one action on one row (``prefix`` names the row)."""
    suffix = f":{action.days_before}" if action.days_before is not None else ""
    return f"{prefix}:{action.kind}:{action.deadline}:{action.due.isoformat()}{suffix}"


def action_recipients(action: Action, case: Case, approvers: list) -> list:
    """Who is told: the approvers of an escalation; the handler and the approvers of a proposed
    closure; otherwise the handler, or the approvers when nobody handles the case."""
    if action.kind == ESCALATE:
        return approvers
    if action.kind in (CLOSE_NO_SUPPLEMENT, CLOSE_NO_FEE):
        return list({u.pk: u for u in [case.handler, *approvers] if u}.values())
    return [case.handler] if case.handler_id else approvers


class ActionNotices:
    """The notifications and history events of one batch of due actions (see the module)."""

    def __init__(self) -> None:
        self.now = timezone.now()
        self.rows_by_key: dict[str, list[Notification]] = {}
        self.events_by_key: dict[str, CaseEvent] = {}

    def add(
        self,
        *,
        case: Case,
        key: str,
        users: list,
        kind: str,
        subject: str,
        body: str,
        event_kind: str,
        data: dict,
        agency_mailbox: bool = False,
    ) -> None:
        """One action: a notification per user (the agency's inbox when there is none, and its
        mailbox too with ``agency_mailbox``) and its history event, not yet written."""
        rows = user_notifications(
            users=users, case=case, kind=kind, subject=subject, body=body, key=key
        )
        if not rows:  # nobody to tell by name: the agency's inbox (and mailbox) get it
            rows.append(
                Notification(
                    dedup_key=f"{key}:agency:inbox",
                    case=case,
                    channel=Notification.Channel.INBOX,
                    kind=kind,
                    subject=subject[:200],
                    body=body,
                )
            )
            if agency_mailbox and case.agency.email:
                rows.append(
                    Notification(
                        dedup_key=f"{key}:agency:email",
                        case=case,
                        email=case.agency.email,
                        channel=Notification.Channel.EMAIL,
                        kind=kind,
                        subject=subject[:200],
                        body=body,
                    )
                )
        self.rows_by_key[key] = rows
        self.events_by_key[key] = CaseEvent(
            case=case,
            kind=event_kind,
            actor=None,
            actor_label=SYSTEM_LABEL,
            recorded_at=self.now,
            effective_at=self.now,
            from_state=case.state,
            to_state=case.state,
            data={**data, "recipients": [u.get_username() for u in users]},
            reason=subject,
        )

    def save(self, totals: dict, *, count_zero: bool = False) -> None:
        """Write the new notifications and, for each action with one, its event; count them
        in ``totals`` (``notifications``, then the events by kind; a zero count of
        notifications only with ``count_zero``)."""
        all_rows = [row for rows in self.rows_by_key.values() for row in rows]
        fresh = {row.dedup_key for row in notifications_create(all_rows)}
        new_events = [
            self.events_by_key[key]
            for key, rows in self.rows_by_key.items()
            if any(row.dedup_key in fresh for row in rows)
        ]
        if new_events:
            CaseEvent.objects.bulk_create(new_events)
        if fresh or count_zero:
            totals["notifications"] += len(fresh)
        for event in new_events:
            totals[str(event.kind)] += 1


def next_dates_save(model, field: str, next_on: dict[dt.date | None, list[int]]) -> None:
    """Set ``field`` of each row to its next action date: one UPDATE per date."""
    for day, ids in next_on.items():
        model.objects.filter(pk__in=ids).update(**{field: day})


def next_action_date(days: Iterable[dt.date], today: dt.date) -> dt.date | None:
    """The first of ``days`` after ``today``, or ``None``."""
    return min((day for day in days if day > today), default=None)
