"""The deadline sweep: take every clock action that is due (docs/clock.md, issue 3).

Two steps, so that the periodic part does work proportional to the due cases only:

1. **Select and dispatch** (``deadlines_sweep(dispatch=True)``, run by beat through
   ``tasks.deadlines_sweep_task``): one indexed SELECT of the due case ids through the partial
   index ``case_next_action_open`` (open states, ``next_action_on <= today``), no locks, no
   joins, then one broker message per chunk of ids (``tasks.deadlines_process_batch_task``).
2. **Process a batch** (``deadlines_process_batch``, in a worker): claim the ids that are
   *still* due with ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite serialises
   writers instead) in one short transaction per chunk, and for each due action of the clock
   stored on the case:

   - ``remind``: an inbox row and an e-mail to the handler (to the approvers when nobody
     handles the case) k working days before a deadline;
   - ``escalate``: the reply deadline passed: the approvers of the agency are warned;
   - ``consultation_ended``: the consultee's 15 working days ran out (Arts 32, 34): the
     handler decides without their opinion;
   - ``close_no_supplement`` / ``close_no_fee``: the applicant's 补正 or fee period ran out
     (Arts 30, 42; the services' ``case_abandonment_refusal`` says whether it has): the case is
     closed by ``case_abandon_no_supplement`` / ``case_abandon_no_fee`` when the agency's
     ``auto_close_abandoned`` is on, otherwise the office gets a review task (an inbox row and
     a ``closure_proposed`` event).

   After a chunk each case's ``next_action_on`` moves to its next future action, so it leaves
   the index, in the same transaction.

``deadlines_sweep()`` (``dispatch=False``, the default) runs step 2 inline on the same chunks:
tests, the demo and management code use it; the per-case code is the same either way.

Why nothing is done twice or lost:

- the claim re-checks the due predicate under the row lock, so a duplicated, replayed or
  concurrent batch finds a case already handled (no longer due) or locked (skipped) and does
  nothing with it;
- each notification has a unique key made of the case, the action, the deadline, its due date
  and the recipient (the case row is locked while it is written), and the history event of an
  action is written only together with its first notification, so even a case put back in the
  index sends nothing new;
- a worker killed mid-batch rolls its transaction back and its message is redelivered
  (``acks_late``, ``reject_on_worker_lost``); a case whose batch never ran (broker down, message
  lost, rows locked by a dying connection) is still due in the database and the next sweep
  dispatches it again: deadlines are data, never queued work.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence

from django.db import transaction

from requests_app.choices import OPEN_STATES
from requests_app.clock import (
    CLOSE_NO_FEE,
    CLOSE_NO_SUPPLEMENT,
    CONSULTATION_ENDED,
    ESCALATE,
    REMIND,
    Action,
    due_actions,
    provisional_clause,
    provisional_years_of,
)
from requests_app.models import (
    Case,
    EventKind,
    NotificationKind,
)
from requests_app.selectors import approvers_by_agency
from requests_app.services import clock as clock_service
from requests_app.services.enqueue import DEADLINES_PROCESS_BATCH_TASK, task_enqueue, task_producer
from requests_app.services.errors import ServiceError
from requests_app.services.reminders import (
    ActionNotices,
    action_key,
    action_recipients,
    claim_for_update,
    next_action_date,
    next_dates_save,
)

logger = logging.getLogger(__name__)

DEADLINE_LABELS = {
    "reply_due_on": "答复期限",
    "supplement_notice_due_on": "补正告知期限",
    "supplement_due_on": "申请人补正期限",
    "fee_due_on": "缴费期限",
    "consultation_due_on": "征求意见期限",
}


# Case ids per broker message: publishing one costs about a millisecond (a round trip to the
# broker), about as much as selecting 500 due rows, so a message carries 1,000 ids and the
# sweep (SELECT + publish) stays within 2x its SELECT. A worker claims them 500 at a time.
DISPATCH_SIZE = 1000
CLAIM_SIZE = 500  # case ids per claiming transaction (short: locks held well under a second)


def due_cases_queryset(today: dt.date):
    """Open cases with an action due on or before ``today``: the partial index's predicate."""
    return Case.objects.filter(
        state__in=sorted(OPEN_STATES),
        next_action_on__isnull=False,
        next_action_on__lte=today,
    ).order_by("next_action_on", "pk")


def due_case_ids(today: dt.date) -> list[int]:
    """The ids of the due cases, ascending: one SELECT through ``case_next_action_open``."""
    return sorted(due_cases_queryset(today).order_by().values_list("pk", flat=True))


def claim_queryset(case_ids: Sequence[int], today: dt.date):
    """Those of ``case_ids`` that are still due, locked unless another batch holds them."""
    queryset = (
        due_cases_queryset(today)
        .filter(pk__in=case_ids)
        .select_related("agency", "handler")
        .order_by("pk")
    )
    return claim_for_update(queryset).only(
        "pk",
        "tracking_number",
        "state",
        "version",
        "clock",
        "next_action_on",
        "supplement_due_on",
        "fee_due_on",
        "agency__id",
        "agency__name",
        "agency__email",
        "agency__path",
        "agency__auto_close_abandoned",
        "handler__id",
        "handler__email",
        "handler__username",
        "handler__first_name",
        "handler__last_name",
    )


def _message(case: Case, action: Action) -> tuple[str, str, str]:
    """(notification kind, subject, body) of a notifying action."""
    label = DEADLINE_LABELS.get(action.deadline, action.deadline)
    number = case.tracking_number
    if action.kind == REMIND:
        # A deadline computed on a provisional calendar year says it may still move.
        clause = provisional_clause(provisional_years_of(case.clock, action.deadline))
        return (
            NotificationKind.DEADLINE_REMINDER,
            f"【期限提醒】{number} {label}还有{action.days_before}个工作日届满（{action.due}）",
            f"申请 {number} 的{label}为 {action.due}{clause}，还有 {action.days_before} 个工作日，"
            "请及时办理。",
        )
    if action.kind == ESCALATE:
        return (
            NotificationKind.DEADLINE_ESCALATION,
            f"【逾期】{number} {label}已于 {action.due} 届满",
            f"申请 {number} 的{label} {action.due} 已届满，尚未答复，请督办"
            "（《政府信息公开条例》第三十三条）。",
        )
    if action.kind == CONSULTATION_ENDED:
        return (
            NotificationKind.CONSULTATION_ENDED,
            f"【征求意见期满】{number} 征求意见期限已于 {action.due} 届满",
            f"申请 {number} 的被征求意见方未在 {action.due} 前答复。第三方逾期未提出意见的，"
            "由行政机关依照条例规定决定是否公开（第三十二条）；其他机关逾期未提出意见的视为同意"
            "（第三十四条）。",
        )
    law = "第三十条" if action.kind == CLOSE_NO_SUPPLEMENT else "第四十二条"
    what = "补正" if action.kind == CLOSE_NO_SUPPLEMENT else "缴纳信息处理费"
    return (
        NotificationKind.CLOSURE_PROPOSED,
        f"【待确认终止】{number} 申请人逾期未{what}",
        f"申请 {number} 的{label} {action.due} 已届满，申请人未{what}。依照《政府信息公开条例》"
        f"{law}，请确认是否终止办理。",
    )


EVENT_KINDS = {
    REMIND: EventKind.REMINDER_SENT,
    CONSULTATION_ENDED: EventKind.REMINDER_SENT,
    ESCALATE: EventKind.ESCALATED,
    CLOSE_NO_SUPPLEMENT: EventKind.CLOSURE_PROPOSED,
    CLOSE_NO_FEE: EventKind.CLOSURE_PROPOSED,
}


# The service action that closes a case for each closing action of the clock.
ABANDONMENTS = {
    CLOSE_NO_SUPPLEMENT: "abandon_no_supplement",
    CLOSE_NO_FEE: "abandon_no_fee",
}


def _period_still_running(case: Case, action: Action, today: dt.date) -> bool:
    """Whether the services' rule (``case_abandonment_refusal``) still keeps the case open:
    the applicant's period has not run out on ``today``. Then neither closure nor proposal."""
    from requests_app.services import cases as case_services

    refusal = case_services.case_abandonment_refusal(
        case=case, action=ABANDONMENTS[action.kind], on=today
    )
    if refusal is not None:
        logger.info("case %s not closed by the sweep: %s", case.pk, refusal.message_en)
    return refusal is not None


def _close(case: Case, action: Action, today: dt.date) -> bool:
    """Close the case through the services; ``False`` if the case no longer allows it."""
    from requests_app.services import cases as case_services

    try:
        with transaction.atomic():
            case_services.ACTIONS[ABANDONMENTS[action.kind]](case=case, actor=None, on=today)
    except ServiceError as exc:
        logger.info("case %s not closed by the sweep: %s", case.pk, exc)
        return False
    return True


def _process_batch(cases: list[Case], today: dt.date, totals: dict) -> None:
    approvers = approvers_by_agency({c.agency_id for c in cases})
    notices = ActionNotices()
    closed: set[int] = set()
    for case in cases:
        actions = [Action.from_dict(a) for a in (case.clock or {}).get("actions", [])]
        for action in due_actions(actions, today):
            auto_close = action.kind in ABANDONMENTS
            if auto_close and _period_still_running(case, action, today):
                continue
            if auto_close and case.agency.auto_close_abandoned:
                if _close(case, action, today):
                    closed.add(case.pk)
                    totals["closed"] += 1
                continue
            kind, subject, body = _message(case, action)
            notices.add(
                case=case,
                key=action_key(f"c{case.pk}", action),
                users=action_recipients(action, case, approvers.get(case.agency_id, [])),
                kind=kind,
                subject=subject,
                body=body,
                event_kind=EVENT_KINDS[action.kind],
                data=action.as_dict(),
                agency_mailbox=True,
            )
    # One de-duplication query and one insert for the whole batch.
    notices.save(totals)

    # Move each case to its next future action, grouped by date: a few UPDATEs per batch.
    by_next: dict[dt.date | None, list[int]] = defaultdict(list)
    for case in cases:
        if case.pk in closed:
            continue
        days = (dt.date.fromisoformat(a["on"]) for a in (case.clock or {}).get("actions", []))
        by_next[next_action_date(days, today)].append(case.pk)
    next_dates_save(Case, "next_action_on", by_next)


def _chunks(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


def _add(totals: dict, more: dict) -> None:
    for key, value in more.items():
        totals[key] += value


def deadlines_process_batch(
    case_ids: Sequence[int], *, today: dt.date, batch_size: int = CLAIM_SIZE
) -> dict:
    """Take the due actions of those of ``case_ids`` that are still due (see the module
    docstring): one transaction per ``batch_size`` ids. Idempotent; safe to run twice, or
    twice at once. Returns counts of what it did (``cases``: the cases it claimed)."""
    totals: dict = defaultdict(int)
    for chunk in _chunks(sorted(set(case_ids)), batch_size):
        with transaction.atomic():
            cases = list(claim_queryset(chunk, today))
            if not cases:
                continue
            _process_batch(cases, today, totals)
            totals["cases"] += len(cases)
    return dict(totals)


def deadlines_dispatch(
    case_ids: Sequence[int], *, today: dt.date, batch_size: int = DISPATCH_SIZE, **options
) -> int:
    """Publish one ``deadlines_process_batch_task`` message per ``batch_size`` ids, over one
    producer connection. ``options`` go to Celery's ``send_task`` (e.g. ``queue``). Returns the
    number of messages. A broker error propagates: the cases stay due and the next sweep
    retries."""
    sent = 0
    with task_producer() as producer:
        for chunk in _chunks(case_ids, batch_size):
            task_enqueue(
                DEADLINES_PROCESS_BATCH_TASK,
                args=(chunk, today.isoformat()),
                # A short repr for logs and monitors (and no safe-repr of a thousand ids per message).
                argsrepr=f"([{len(chunk)} ids {chunk[0]}..{chunk[-1]}], {today.isoformat()!r})",
                producer=producer,
                **options,
            )
            sent += 1
    return sent


def deadlines_sweep(
    *,
    today: dt.date | None = None,
    batch_size: int = DISPATCH_SIZE,
    dispatch: bool = False,
    **dispatch_options,
) -> dict:
    """Find the due cases with one indexed SELECT of their ids and process them in chunks of
    ``batch_size`` (claimed at most ``CLAIM_SIZE`` at a time): inline (``dispatch=False``; returns the counts of what was done, ``{}``
    when nothing was due) or by publishing one worker task per chunk (``dispatch=True``;
    returns ``{"due": n, "batches": m}``)."""
    today = today or clock_service.clock_today()
    ids = due_case_ids(today)
    if not ids:
        return {}
    if dispatch:
        batches = deadlines_dispatch(ids, today=today, batch_size=batch_size, **dispatch_options)
        return {"due": len(ids), "batches": batches}
    totals: dict = defaultdict(int)
    for chunk in _chunks(ids, batch_size):
        _add(
            totals,
            deadlines_process_batch(chunk, today=today, batch_size=min(batch_size, CLAIM_SIZE)),
        )
    return dict(totals)
