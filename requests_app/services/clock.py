"""Store the clock of cases: computed by ``requests_app.clock`` from the history and calendar.

``case_clock_refresh`` runs inside every action's transaction
(``services.cases.case_perform_action``);
``calendar_dates_changed`` runs when calendar rows change and moves the deadlines of every open
case the changed dates touch, in bulk. Every change of a due date is a ``due_changed`` event
with the previous and the new value and the reason.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from requests_app.calendars import calendar_for_agency
from requests_app.choices import OPEN_STATES, CaseState
from requests_app.clock import DUE_FIELDS, CaseClock, ClockEvent, ClockRules, compute_clock
from requests_app.deadlines import WorkCalendar
from requests_app.models import Agency, Case, CaseEvent, EventKind

# The clock columns of Case that compute_clock derives (besides the due dates).
CLOCK_FIELDS = (
    "restarted_on",
    *DUE_FIELDS,
    "next_action_on",
    "clock",
    "timeliness",
    "working_days_late",
)
SYSTEM_LABEL = "系统"


# The services date things by the current time zone, read at each call — or by a zone and a
# day fixed for a batch of actions (``dates_fixed``): the history importer replays thousands
# of steps at once, and reading the active time zone was a large part of a step's cost.
_FIXED_DATES: ContextVar[tuple[dt.tzinfo, dt.date] | None] = ContextVar(
    "services_fixed_dates", default=None
)


@contextmanager
def dates_fixed() -> Iterator[None]:
    """Within this block the services date by the current zone and day as they are now."""
    token = _FIXED_DATES.set((timezone.get_current_timezone(), timezone.localdate()))
    try:
        yield
    finally:
        _FIXED_DATES.reset(token)


def local_date(moment: dt.datetime) -> dt.date:
    """The day of ``moment`` in the current time zone."""
    fixed = _FIXED_DATES.get()
    return moment.astimezone(fixed[0] if fixed else timezone.get_current_timezone()).date()


def clock_today() -> dt.date:
    """Today in Asia/Shanghai: the day deadlines are compared with (one place, for tests), or
    the day fixed for a batch (``dates_fixed``)."""
    fixed = _FIXED_DATES.get()
    return fixed[1] if fixed else timezone.localdate()


def rules_for_agency(agency: Agency | None) -> ClockRules:
    return ClockRules.from_settings(
        settings.DISCLOSURE,
        agency_supplement_period_days=agency.supplement_period_days if agency else None,
    )


def clock_events(rows: Iterable[tuple[str, dt.datetime, dict]]) -> list[ClockEvent]:
    """(kind, effective_at, data) rows, in history order, as the clock's plain events."""
    return [
        ClockEvent(kind=kind, on=timezone.localtime(at).date(), data=data or {})
        for kind, at, data in rows
    ]


def case_clock_compute(
    *,
    case: Case,
    events: Sequence[ClockEvent],
    calendar: WorkCalendar | None = None,
    rules: ClockRules | None = None,
) -> CaseClock:
    """The clock of ``case`` from the given events (no writes)."""
    return compute_clock(
        received_on=case.received_on,
        channel=case.channel,
        state=case.state,
        events=events,
        calendar=calendar if calendar is not None else calendar_for_agency(case.agency),
        rules=rules if rules is not None else rules_for_agency(case.agency),
        concluded_on=case.concluded_on,
    )


@dataclass
class _Change:
    fields: list[str]
    due_changes: list[tuple[str, dt.date | None, dt.date | None]]


def clock_apply(case: Case, clock: CaseClock, today: dt.date) -> _Change:
    """Copy the clock onto the case in memory; say which columns and due dates changed (the
    history importer applies it to its cases in memory, too)."""
    values = {
        "restarted_on": clock.restarted_on,
        **clock.due_dates(),
        "next_action_on": clock.next_action_on(today),
        "clock": _jsonable(clock.explanation),
        "timeliness": clock.timeliness,
        "working_days_late": clock.working_days_late,
    }
    changed, due_changes = [], []
    for name, value in values.items():
        previous = getattr(case, name)
        if previous != value:
            changed.append(name)
            if name in DUE_FIELDS:
                due_changes.append((name, previous, value))
            setattr(case, name, value)
    return _Change(changed, due_changes)


def _jsonable(explanation) -> dict:
    # The explanation is built from ISO strings, lists and dicts already; copy it to a dict.
    return dict(explanation)


def _due_event(
    case: Case, name: str, previous, new, *, actor, reason: str, now: dt.datetime
) -> CaseEvent:
    return CaseEvent(
        case=case,
        kind=EventKind.DUE_CHANGED,
        actor=actor,
        actor_label=(actor.get_full_name() or actor.get_username()) if actor else SYSTEM_LABEL,
        recorded_at=now,
        effective_at=now,
        from_state=case.state,
        to_state=case.state,
        data=due_change_data(name, previous, new, reason),
        reason=reason,
    )


def due_change_data(name: str, previous, new, reason: str) -> dict:
    """The history data of a ``due_changed`` event: which due date moved, from and to what,
    and the action that moved it."""
    return {
        "field": name,
        "previous": previous.isoformat() if previous else None,
        "new": new.isoformat() if new else None,
        "reason": reason,
    }


def case_clock_refresh(*, case: Case, actor=None, reason: str) -> list[CaseEvent]:
    """Recompute ``case``'s clock from its history and store it.

    Call inside the action's transaction with the locked, saved case. Writes the changed clock
    columns (``save(update_fields=...)``) and one ``due_changed`` event per due date that
    moved, with the previous and new date and ``reason``. Returns those events.
    """
    rows = CaseEvent.objects.filter(case_id=case.pk).order_by("effective_at", "pk")
    events = clock_events(rows.values_list("kind", "effective_at", "data"))
    clock = case_clock_compute(case=case, events=events)
    change = clock_apply(case, clock, clock_today())
    if not change.fields:
        return []
    case.save(update_fields=change.fields)
    now = timezone.now()
    created = [
        _due_event(case, name, previous, new, actor=actor, reason=reason, now=now)
        for name, previous, new in change.due_changes
    ]
    return CaseEvent.objects.bulk_create(created) if created else []


def _open_cases_touching(dates: Sequence[dt.date], agency: Agency | None) -> Q:
    """Open cases whose clock a change on any of ``dates`` may move: received on or before the
    last changed date, with a due date on or after the first one (a changed day can only
    matter between the start of a period and its end). Agency rows touch only its subtree."""
    first, last = min(dates), max(dates)
    touched = Q()
    for name in DUE_FIELDS:
        touched |= Q(**{f"{name}__gte": first})
    scope = Q(state__in=sorted(OPEN_STATES - {CaseState.SUBMITTED}), received_on__lte=last)
    if agency is not None:
        scope &= Q(agency__path__startswith=agency.path)
    return scope & touched


def calendar_dates_changed(
    *,
    dates: Iterable[dt.date],
    agency: Agency | None = None,
    actor=None,
    description: str,
    batch_size: int = 500,
) -> int:
    """Recompute the clock of every open case the changed calendar ``dates`` touch.

    Selection is one query; events are read per batch in one query; changed cases are written
    with ``bulk_update`` and their ``due_changed`` events with ``bulk_create``, each batch in
    its own transaction with the cases locked. The reason on each event is
    ``"calendar changed: <description>"``. Every touched clock is refreshed (a year turning
    from provisional to published changes the marks even where no date moves); returns the
    number of cases whose due dates moved (those got ``due_changed`` events).
    """
    dates = sorted(set(dates))
    if not dates:
        return 0
    reason = f"calendar changed: {description}"
    ids = list(
        Case.objects.filter(_open_cases_touching(dates, agency))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    moved_count = 0
    for start in range(0, len(ids), batch_size):
        _, moved = _recompute_batch(ids[start : start + batch_size], actor=actor, reason=reason)
        moved_count += moved
    return moved_count


def cases_clock_recompute(
    *, case_ids: Sequence[int], actor=None, reason: str, batch_size: int = 500
) -> int:
    """Recompute the clock of the given cases in bulk (e.g. after the rules' settings change)."""
    total = 0
    ids = sorted(set(case_ids))
    for start in range(0, len(ids), batch_size):
        changed, _ = _recompute_batch(ids[start : start + batch_size], actor=actor, reason=reason)
        total += changed
    return total


def _recompute_batch(ids: Sequence[int], *, actor, reason: str) -> tuple[int, int]:
    """(clocks changed, cases whose due dates moved) among ``ids``."""
    today = clock_today()
    with transaction.atomic():
        cases = list(
            Case.objects.select_for_update(of=("self",))
            .select_related("agency")
            .filter(pk__in=ids)
            .order_by("pk")
        )
        rows: dict[int, list] = defaultdict(list)
        for case_id, kind, at, data in (
            CaseEvent.objects.filter(case_id__in=ids)
            .order_by("case_id", "effective_at", "pk")
            .values_list("case_id", "kind", "effective_at", "data")
        ):
            rows[case_id].append((kind, at, data))
        now = timezone.now()
        to_update: list[Case] = []
        fields: set[str] = set()
        new_events: list[CaseEvent] = []
        moved = 0
        for case in cases:
            clock = case_clock_compute(case=case, events=clock_events(rows[case.pk]))
            change = clock_apply(case, clock, today)
            if not change.fields:
                continue
            to_update.append(case)
            fields.update(change.fields)
            moved += bool(change.due_changes)
            new_events.extend(
                _due_event(case, name, previous, new, actor=actor, reason=reason, now=now)
                for name, previous, new in change.due_changes
            )
        if to_update:
            # Clock columns only (never the state): QuerySet-level writes are safe here.
            Case.objects.bulk_update(to_update, sorted(fields), batch_size=500)
            CaseEvent.objects.bulk_create(new_events, batch_size=1000)
    return len(to_update), moved
