"""The workbench (工作台): what waits for each caseworker, as named filters over their cases.

Each :class:`Item` is one kind of work — applications to confirm, my overdue cases, replies
sent back by the approver… — with the roles it concerns and the filter that finds its cases.
The admin's first page lists the items of the user's role with their counts and the most
urgent cases; the case list applies the same filter as ``?todo=KEY`` (``TodoFilter`` in
``admin/cases.py``), so the number on the workbench is the number of rows the list shows.
The due-date filters of the case list (``?due=``) are :func:`due_q` too: one definition of
"overdue" and "due soon" everywhere.

Reads only: the cases come from ``selectors.case_visible`` (who may see what) narrowed by the
item's filter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from requests_app import selectors
from requests_app.calendars import calendar_for_agency
from requests_app.choices import OPEN_STATES, CaseState, Role
from requests_app.models import Agency, Case, CaseEvent, EventKind
from requests_app.permissions import caseworker_of

S = CaseState
DUE_SOON_DAYS = 5  # working days, on the agency's calendar
# Events that record a step of the work (not reminders, notes or recomputed dates): the last of
# them says whose turn it is.
STEP_KINDS = tuple(
    sorted(
        set(EventKind.values)
        - {
            EventKind.NOTE,
            EventKind.DUE_CHANGED,
            EventKind.REMINDER_SENT,
            EventKind.ESCALATED,
            EventKind.CHANGED_AFTER_PUBLICATION,
            EventKind.LETTER_ISSUED,
            EventKind.LETTER_SERVED,
        }
    )
)


def due_soon_limit(agency: Agency | None, today: dt.date | None = None) -> dt.date:
    """The last day that is "due soon": DUE_SOON_DAYS working days after today on the
    agency's calendar (its holidays and 调休 working weekends; national when ``None``)."""
    today = today or timezone.localdate()
    return calendar_for_agency(agency).add_working_days(today, DUE_SOON_DAYS)


def user_agency(user) -> Agency | None:
    worker = caseworker_of(user)
    return worker.agency if worker is not None else None


def due_q(which: str, user, today: dt.date | None = None) -> Q:
    """Open cases with a reply due date: ``overdue`` (before today), ``soon`` (today up to
    DUE_SOON_DAYS working days ahead), ``attention`` (either)."""
    today = today or timezone.localdate()
    base = Q(state__in=sorted(OPEN_STATES), reply_due_on__isnull=False)
    if which == "overdue":
        return base & Q(reply_due_on__lt=today)
    soon = due_soon_limit(user_agency(user), today)
    if which == "soon":
        return base & Q(reply_due_on__gte=today, reply_due_on__lte=soon)
    if which == "attention":
        return base & Q(reply_due_on__lte=soon)
    raise ValueError(which)


def with_last_step(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate each case with the kind of its latest working step (``last_step``)."""
    latest = (
        CaseEvent.objects.filter(case=OuterRef("pk"), kind__in=STEP_KINDS)
        .order_by("-recorded_at", "-pk")
        .values("kind")[:1]
    )
    return queryset.annotate(last_step=Subquery(latest))


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    roles: frozenset[str]
    where: Callable[[object, dt.date], Q]
    needs_last_step: bool = False
    mine: bool = False  # only the user's own cases (handler = user)
    hint: str = ""

    def queryset(self, user, today: dt.date | None = None) -> QuerySet[Case]:
        return self.narrow(selectors.case_visible(user=user), user, today)

    def narrow(self, cases: QuerySet[Case], user, today: dt.date | None = None):
        """``cases`` narrowed to this item's: the workbench's count and the case list's
        ``?todo=`` filter are this one filter."""
        today = today or timezone.localdate()
        if self.mine:
            cases = cases.filter(handler=user)
        if self.needs_last_step:
            cases = with_last_step(cases)
        return cases.filter(self.where(user, today))


REGISTRAR = frozenset({Role.REGISTRAR})
HANDLER = frozenset({Role.HANDLER})
APPROVER = frozenset({Role.APPROVER})
SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR, Role.AUDITOR})


def _open() -> Q:
    return Q(state__in=sorted(OPEN_STATES))


ITEMS: tuple[Item, ...] = (
    Item(
        "to_confirm",
        "待确认接收的申请",
        REGISTRAR | APPROVER,
        lambda user, today: Q(state=S.SUBMITTED),
        hint="网络、传真、电子邮件和平常信函申请，确认接收后开始计算期限",
    ),
    Item(
        "to_assign",
        "已登记待分办",
        REGISTRAR | APPROVER,
        lambda user, today: Q(state=S.REGISTERED, handler__isnull=True),
        hint="指定承办人后开始办理",
    ),
    Item(
        "mine_overdue",
        "我承办的已逾期案件",
        HANDLER | APPROVER,
        lambda user, today: due_q("overdue", user, today),
        mine=True,
    ),
    Item(
        "mine_due_soon",
        f"我承办的 {DUE_SOON_DAYS} 个工作日内到期案件",
        HANDLER | APPROVER,
        lambda user, today: due_q("soon", user, today),
        mine=True,
    ),
    Item(
        "supplement_answered",
        "申请人已补正",
        HANDLER,
        lambda user, today: _open() & Q(last_step=EventKind.RECEIVE_SUPPLEMENT),
        needs_last_step=True,
        mine=True,
        hint="补正收到后，答复期限自收到补正之日重新计算",
    ),
    Item(
        "consultation_answered",
        "征求意见已结束",
        HANDLER,
        lambda user, today: _open() & Q(last_step=EventKind.CLOSE_CONSULTATION),
        needs_last_step=True,
        mine=True,
    ),
    Item(
        "task_answered",
        "交办已答复",
        HANDLER,
        lambda user, today: _open() & Q(last_step=EventKind.TASK_ANSWERED),
        needs_last_step=True,
        mine=True,
        hint="被交办单位已提供文件或答复本单位未掌握",
    ),
    Item(
        "sent_back",
        "审核退回修改",
        HANDLER,
        lambda user, today: _open() & Q(last_step=EventKind.SEND_BACK),
        needs_last_step=True,
        mine=True,
    ),
    Item(
        "closure_proposed",
        "待确认终止（逾期未补正或未缴费）",
        HANDLER | APPROVER,
        lambda user, today: _open() & Q(last_step=EventKind.CLOSURE_PROPOSED),
        needs_last_step=True,
    ),
    Item(
        "to_serve",
        "已审核待送达",
        HANDLER,
        lambda user, today: Q(state=S.APPROVED),
        mine=True,
    ),
    Item(
        "awaiting_approval",
        "待我审核的答复",
        APPROVER,
        lambda user, today: Q(state=S.PENDING_APPROVAL),
    ),
    Item(
        "approved_to_serve",
        "已审核待送达",
        APPROVER,
        lambda user, today: Q(state=S.APPROVED),
    ),
    Item(
        "overdue",
        "已逾期未办结",
        SUPERVISING | APPROVER,
        lambda user, today: due_q("overdue", user, today),
    ),
    Item(
        "due_soon",
        f"{DUE_SOON_DAYS} 个工作日内到期",
        SUPERVISING | APPROVER,
        lambda user, today: due_q("soon", user, today),
    ),
)
BY_KEY = {item.key: item for item in ITEMS}


def items_for(user) -> list[Item]:
    """The items of the user's role (every item for a superuser)."""
    if user.is_superuser:
        return [i for i in ITEMS if not i.mine]
    worker = caseworker_of(user)
    if worker is None:
        return []
    return [item for item in ITEMS if worker.role in item.roles]


@dataclass
class Entry:
    item: Item
    count: int
    cases: list[Case]


def workbench(user, *, today: dt.date | None = None, shown: int = 5) -> list[Entry]:
    """Each item of the user's role with its count and its most urgent cases (earliest reply
    due date first, then the oldest)."""
    entries = []
    for item in items_for(user):
        cases = item.queryset(user, today).select_related("agency", "handler")
        count = cases.count()
        first = list(cases.order_by("reply_due_on", "submitted_at", "pk")[:shown]) if count else []
        entries.append(Entry(item, count, first))
    return entries


# --- 交办 asked of the user's unit: tasks, not cases (the unit does not see the case) -----------
TASKS_TO_ANSWER = "tasks_to_answer"
TASKS_TO_ANSWER_LABEL = "待我答复的交办"
TASKS_TO_ANSWER_ROLES = frozenset({Role.REGISTRAR, Role.HANDLER, Role.APPROVER})


def tasks_to_answer_for(user, *, shown: int = 5) -> tuple[int, list] | None:
    """The "待我答复的交办" item: the count of open tasks asked of the user's unit and the most
    urgent of them (``selectors.tasks_to_answer``, which the task list's
    ``?todo=tasks_to_answer`` applies too); ``None`` for the roles that do not answer."""
    worker = caseworker_of(user)
    if not user.is_superuser and (worker is None or worker.role not in TASKS_TO_ANSWER_ROLES):
        return None
    tasks = selectors.tasks_to_answer(user).select_related("case", "case__agency")
    count = tasks.count()
    return count, list(tasks.order_by("due_on", "pk")[:shown]) if count else []


def overdue_by_agency(user, today: dt.date | None = None) -> list[dict]:
    """For a supervising office: overdue and due-soon cases per agency of its subtree, the
    agency with the oldest overdue case first."""
    today = today or timezone.localdate()
    cases = selectors.case_visible(user=user)
    rows = (
        cases.filter(due_q("attention", user, today))
        .order_by()
        .values("agency_id", "agency__name")
        .annotate(
            overdue=Count("pk", filter=Q(reply_due_on__lt=today)),
            due_soon=Count("pk", filter=Q(reply_due_on__gte=today)),
        )
    )
    oldest = {}
    for agency_id, due in (
        cases.filter(due_q("overdue", user, today))
        .order_by()
        .values_list("agency_id")
        .annotate(first=Min("reply_due_on"))
    ):
        oldest[agency_id] = due
    out = [
        {
            "agency_id": r["agency_id"],
            "agency": r["agency__name"],
            "overdue": r["overdue"],
            "due_soon": r["due_soon"],
            "oldest_due": oldest.get(r["agency_id"]),
        }
        for r in rows
    ]
    out.sort(key=lambda r: (r["oldest_due"] is None, r["oldest_due"] or today, r["agency"]))
    return out
