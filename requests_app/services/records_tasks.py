"""交办: a handler asks another unit for the records an application asks for.

The unit is an ``Agency``: another agency, or a department inside the agency (a child Agency of
kind "department"); its head is its approver (``selectors.approvers_by_agency``), as for every
agency. A task has a due date in working days on the calendar of the case's agency.

- ``task_assign``: the handler asks (a ``task_assigned`` event on the case);
- ``task_answer``: a caseworker of the unit answers with records, stored through
  ``services.records.record_upload`` so they land in the case's records (a ``record_added``
  event each), or "none held" (本单位未掌握); then a ``task_answered`` event. The unit's users
  do not see the case: they may answer because the task names their unit (``may_answer``), and
  ``case_perform_action`` is told so (``permitted``);
- ``records_tasks_sweep``: the reminders before the due date (to the unit's handlers) and the
  escalation after it (to the unit's head and the asking handler), with the review and lawsuit
  deadlines' machinery (``services.reminders``): a row is read only when its
  ``next_reminder_on`` has come, every notification has a unique key, and the history event
  goes with the first notification only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from requests_app.calendars import calendar_for_agency
from requests_app.choices import OPEN_STATES, Role
from requests_app.clock import REMIND, Action, due_actions
from requests_app.models import (
    Agency,
    Case,
    Caseworker,
    EventKind,
    RecordsTask,
    TaskAnswer,
)
from requests_app.permissions import can_act, caseworker_of
from requests_app.selectors import TASK_ANSWERING_ROLES, approvers_by_agency
from requests_app.services import clock as clock_service
from requests_app.services.cases import case_perform_action, required_text
from requests_app.services.clock import local_date
from requests_app.services.errors import ActionForbidden, InvalidInput, TransitionRefused
from requests_app.services.proceedings_sweep import record_actions
from requests_app.services.reminders import (
    ActionNotices,
    action_key,
    claim_for_update,
    next_action_date,
    next_dates_save,
)

DEADLINE = "records_task_due_on"
LABEL = "交办答复期限"
MAX_DAYS = 20  # working days: the reply period itself (Art 33)


# --- who may see and answer -----------------------------------------------------------------
def may_answer(user, task: RecordsTask) -> bool:
    """A caseworker of the asked unit (registrar, handler, head), an administrator over it, or a
    superuser. Nobody of the asking agency answers for the unit."""
    if user is None or user.is_superuser:
        return True
    worker = caseworker_of(user)
    if worker is None:
        return False
    if worker.role == Role.ADMINISTRATOR:
        return task.unit.path.startswith(worker.agency.path)
    return worker.role in TASK_ANSWERING_ROLES and worker.agency_id == task.unit_id


# --- asking and answering -------------------------------------------------------------------
def _days(value) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(
            f"交办答复期限应为 1 至 {MAX_DAYS} 个工作日。",
            f"days must be between 1 and {MAX_DAYS} working days.",
            fields={"days": ["out_of_range"]},
        )
    return days


def task_assign(
    *,
    case: Case,
    actor,
    unit: Agency,
    request: str,
    days: int,
    effective_at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> RecordsTask:
    """Ask ``unit`` for the records of ``case``: answer due ``days`` working days after today on
    the case agency's calendar. Raises InvalidInput, ActionForbidden, TransitionRefused."""
    effective_at = effective_at or timezone.now()
    request = required_text(
        request,
        field="request",
        message="请写明交办事项（需要提供哪些信息）。",
        message_en="Say what records are asked for.",
    )
    if len(request) > 2000:
        raise InvalidInput(
            "交办事项过长（最多 2000 字）。",
            "request is too long.",
            fields={"request": ["max_length"]},
        )
    days = _days(days)
    if unit is None or unit.pk == case.agency_id:
        raise InvalidInput(
            "请选择本机关以外的单位或本机关的内设部门。",
            "Ask another unit than the case's own agency.",
            fields={"unit": ["same_agency"]},
        )
    asked_on = local_date(effective_at)
    calendar = calendar_for_agency(case.agency)
    due_on = calendar.add_working_days(asked_on, days)
    actions = record_actions(due_on, DEADLINE, calendar)
    created: list[RecordsTask] = []

    def apply(locked: Case) -> None:
        if locked.state not in OPEN_STATES:
            raise TransitionRefused(
                f"当前状态“{locked.get_state_display()}”下不能交办。",
                "A task can be given only while the case is open.",
            )
        task = RecordsTask.objects.create(
            case=locked,
            unit=unit,
            request=request,
            days=days,
            due_on=due_on,
            asked_by=actor,
            asked_at=effective_at,
            next_reminder_on=next_action_date((a.on for a in actions), asked_on - dt.timedelta(1)),
        )
        created.append(task)
        data.update(task_id=task.pk)

    data = {
        "unit_id": unit.pk,
        "unit": unit.name,
        "answer_days": days,
        "due_on": due_on.isoformat(),
    }
    case_perform_action(
        case=case,
        actor=actor,
        kind=EventKind.TASK_ASSIGNED,
        apply=apply,
        data=data,
        reason=request,
        effective_at=effective_at,
        expected_version=expected_version,
    )
    return created[0]


def task_answer(
    *,
    task: RecordsTask,
    actor,
    answer: str,
    note: str = "",
    uploads: Sequence = (),
    effective_at: dt.datetime | None = None,
) -> RecordsTask:
    """The unit answers: ``records`` with ``uploads`` (files, or ``(file, title)`` pairs) stored
    as the case's records, or ``none_held`` (本单位未掌握) with no file and a note of what was
    searched. One transaction: a failed file stores nothing. Raises InvalidInput,
    ActionForbidden, TransitionRefused, and the records service's file errors."""
    from requests_app.services.records import record_upload

    effective_at = effective_at or timezone.now()
    if actor is not None and not may_answer(actor, task):
        raise ActionForbidden(
            "只有被交办单位的工作人员可以答复该交办。",
            "Only the asked unit's caseworkers may answer this task.",
        )
    if answer not in TaskAnswer.values:
        raise InvalidInput(
            "答复应为“已提供文件”或“本单位未掌握”。",
            f"answer must be one of: {', '.join(TaskAnswer.values)}.",
            fields={"answer": ["invalid_choice"]},
        )
    uploads = [u if isinstance(u, tuple) else (u, "") for u in uploads]
    if answer == TaskAnswer.RECORDS and not uploads:
        raise InvalidInput(
            "答复“已提供文件”时请上传至少一个文件。",
            "Answering with records needs at least one file.",
            fields={"files": ["required"]},
        )
    if answer == TaskAnswer.NONE_HELD and uploads:
        raise InvalidInput(
            "答复“本单位未掌握”时不能上传文件。",
            "A 'none held' answer carries no files.",
            fields={"files": ["not_allowed"]},
        )
    note = (note or "").strip()
    if answer == TaskAnswer.NONE_HELD and not note:
        raise InvalidInput(
            "答复“本单位未掌握”时请说明检索了哪些档案和系统。",
            "Say what was searched when no records are held.",
            fields={"note": ["required"]},
        )
    if len(note) > 2000:
        raise InvalidInput(
            "答复说明过长（最多 2000 字）。", "note is too long.", fields={"note": ["max_length"]}
        )
    with transaction.atomic():
        locked = (
            RecordsTask.objects.select_for_update().select_related("unit", "case").get(pk=task.pk)
        )
        if locked.answered_at is not None:
            raise TransitionRefused(
                f"该交办已于 {local_date(locked.answered_at)} 答复。",
                "The task was already answered.",
            )
        records = [
            record_upload(
                case=locked.case,
                actor=actor,
                upload=upload,
                title=title,
                source=locked.unit.name,
                permitted=True,
            )
            for upload, title in uploads
        ]

        def apply(case: Case) -> None:
            locked.answer = answer
            locked.answer_note = note
            locked.answered_by = actor
            locked.answered_at = effective_at
            locked.answered_on = local_date(effective_at)
            locked.next_reminder_on = None
            locked.save()
            locked.records.set(records)

        case_perform_action(
            case=locked.case,
            actor=actor,
            kind=EventKind.TASK_ANSWERED,
            apply=apply,
            data={
                "task_id": locked.pk,
                "unit_id": locked.unit_id,
                "unit": locked.unit.name,
                "answer": answer,
                "record_ids": [r.pk for r in records],
                "asked_by": locked.asked_by.get_username() if locked.asked_by_id else "",
            },
            reason=note,
            effective_at=effective_at,
            permitted=True,
        )
    return locked


# --- the sweep ------------------------------------------------------------------------------
def _unit_people(unit_ids: Iterable[int]) -> dict[int, dict[str, list]]:
    """Each unit's active handlers and approvers (its head)."""
    found: dict[int, dict[str, list]] = defaultdict(lambda: {"handlers": [], "heads": []})
    heads = approvers_by_agency(unit_ids)
    for unit_id, users in heads.items():
        found[unit_id]["heads"] = users
    for worker in (
        Caseworker.objects.filter(agency_id__in=unit_ids, role=Role.HANDLER)
        .select_related("user")
        .order_by("user_id")
    ):
        if worker.user.is_active:
            found[worker.agency_id]["handlers"].append(worker.user)
    return found


def _recipients(action: Action, task: RecordsTask, people: dict[str, list]) -> list:
    """A reminder goes to the unit's handlers (its head when it has none); the escalation to the
    unit's head and to the handler who asked."""
    if action.kind == REMIND:
        return people["handlers"] or people["heads"]
    users = [*people["heads"], *([task.case.handler] if task.case.handler_id else [])]
    return list({u.pk: u for u in users}.values())


def _message(task: RecordsTask, action: Action) -> tuple[str, str, str]:
    number = task.case.tracking_number
    asked = f"{task.case.agency.name}于 {local_date(task.asked_at)} 交办{task.unit.name}"
    if action.kind == REMIND:
        return (
            "records_task_reminder",
            f"【交办提醒】{number} {LABEL}还有{action.days_before}个工作日届满（{action.due}）",
            f"{asked}检索提供申请 {number} 所需的政府信息，答复期限为 {action.due}，"
            f"还有 {action.days_before} 个工作日，请在系统中提供文件或答复本单位未掌握。",
        )
    return (
        "records_task_escalation",
        f"【交办逾期】{number} {LABEL}已于 {action.due} 届满",
        f"{asked}检索提供申请 {number} 所需的政府信息，答复期限 {action.due} 已届满，"
        "尚未答复，请督办。",
    )


def _process(tasks: list[RecordsTask], today: dt.date, totals: dict) -> None:
    people = _unit_people({t.unit_id for t in tasks})
    notices = ActionNotices()
    next_on: dict[dt.date | None, list[int]] = defaultdict(list)
    for task in tasks:
        if task.answered_at is not None or task.case.state not in OPEN_STATES:
            next_on[None].append(task.pk)
            continue
        actions = record_actions(task.due_on, DEADLINE, calendar_for_agency(task.case.agency))
        for action in due_actions(actions, today):
            kind, subject, body = _message(task, action)
            notices.add(
                case=task.case,
                key=action_key(f"task{task.pk}", action),
                users=_recipients(action, task, people[task.unit_id]),
                kind=kind,
                subject=subject,
                body=body,
                event_kind=EventKind.REMINDER_SENT
                if action.kind == REMIND
                else EventKind.ESCALATED,
                data={**action.as_dict(), "task_id": task.pk, "unit": task.unit.name},
            )
        next_on[next_action_date((a.on for a in actions), today)].append(task.pk)
    notices.save(totals, count_zero=True)
    next_dates_save(RecordsTask, "next_reminder_on", next_on)


def records_tasks_sweep(*, today: dt.date | None = None, batch_size: int = 500) -> dict:
    """Send every 交办 reminder and escalation due by ``today``. Safe to run twice, or twice at
    once; each batch is one transaction. Returns counts (``tasks``: the rows read)."""
    today = today or clock_service.clock_today()
    totals: dict = defaultdict(int)
    while True:
        with transaction.atomic():
            queryset = (
                RecordsTask.objects.filter(
                    next_reminder_on__isnull=False, next_reminder_on__lte=today
                )
                .select_related("case", "case__agency", "case__handler", "unit")
                .order_by("next_reminder_on", "pk")
            )
            tasks = list(claim_for_update(queryset)[:batch_size])
            if not tasks:
                break
            _process(tasks, today, totals)
            totals["tasks"] += len(tasks)
    return dict(totals)


def task_summary(tasks: Iterable[RecordsTask]) -> list[dict]:
    """Rows for a panel: the task, its state in words and whether it is late."""
    today = timezone.localdate()
    rows = []
    for task in tasks:
        if task.answered_at is not None:
            state = TaskAnswer(task.answer).label
        elif task.due_on < today:
            state = "已逾期未答复"
        else:
            state = "待答复"
        rows.append({"task": task, "state": state, "late": task.is_open and task.due_on < today})
    return rows


def may_assign(user, case: Case) -> bool:
    """The role table's ``task_assigned`` on the case's agency (the handling roles)."""
    return can_act(user, EventKind.TASK_ASSIGNED, case)
