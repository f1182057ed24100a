"""Reads: permission-scoped querysets used by the API, the admin and the tasks alike."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from requests_app.choices import OPEN_STATES, Role
from requests_app.models import (
    Agency,
    Case,
    CaseEvent,
    Caseworker,
    Publication,
    Record,
    RecordsTask,
    Release,
)
from requests_app.permissions import agencies_visible, caseworker_of, visible_cases_filter
from requests_app.services.errors import CaseNotFound
from requests_app.similarity import bigrams, jaccard


def case_visible(*, user) -> QuerySet[Case]:
    """The cases ``user`` may read: own agency, or the subtree for supervisors,
    administrators and auditors; none for anyone else."""
    condition = visible_cases_filter(user)
    if condition is None:
        return Case.objects.none()
    return Case.objects.filter(condition)


def case_list(
    *,
    user,
    state: str | None = None,
    agency: Agency | None = None,
    received_from: dt.date | None = None,
    received_to: dt.date | None = None,
    due_before: dt.date | None = None,
    handler_id: int | None = None,
    outcome: str | None = None,
    is_open: bool | None = None,
    search: str | None = None,
) -> QuerySet[Case]:
    """Filter the visible cases as the staff list does (all filters optional)."""
    qs = case_visible(user=user).select_related("agency", "handler")
    if state:
        qs = qs.filter(state=state)
    if agency is not None:
        qs = qs.filter(agency__path__startswith=agency.path)
    if received_from:
        qs = qs.filter(received_on__gte=received_from)
    if received_to:
        qs = qs.filter(received_on__lte=received_to)
    if due_before:
        qs = qs.filter(reply_due_on__lte=due_before, state__in=sorted(OPEN_STATES))
    if handler_id:
        qs = qs.filter(handler_id=handler_id)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if is_open is not None:
        qs = (
            qs.filter(state__in=sorted(OPEN_STATES))
            if is_open
            else qs.exclude(state__in=sorted(OPEN_STATES))
        )
    if search:
        search = search.strip()
        qs = (
            qs.filter(tracking_number=search.upper())
            | qs.filter(applicant_name__startswith=search)
            | qs.filter(phone=search)
        )
    return qs


def case_get(*, user, pk: int | None = None, tracking_number: str | None = None) -> Case:
    """One visible case with its history; raises CaseNotFound (the same for a case that does
    not exist and one the user may not see, so nothing leaks)."""
    qs = (
        case_visible(user=user)
        .select_related("agency", "handler")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=CaseEvent.objects.select_related("actor").order_by("effective_at", "pk"),
            )
        )
    )
    lookup = {"pk": pk} if pk is not None else {"tracking_number": (tracking_number or "").upper()}
    case = qs.filter(**lookup).first()
    if case is None:
        raise CaseNotFound("未找到该申请。", "No such case.")
    return case


def case_get_public(*, tracking_number: str) -> Case | None:
    return (
        Case.objects.select_related("agency")
        .filter(tracking_number=(tracking_number or "").strip().upper())
        .first()
    )


def case_get_for_applicant(*, tracking_number: str, access_code: str) -> Case | None:
    """The case whose tracking number and access code both match, else ``None`` — the same
    answer, after the same work, for an unknown number and a wrong code (no timing
    difference). The public API and the applicant's pages look cases up here; each edge
    counts the failures against its client's ``tracking_failure`` throttle."""
    from requests_app.services.intake import access_code_matches, hash_access_code

    case = case_get_public(tracking_number=tracking_number)
    if case is None:
        hash_access_code(access_code)  # the same work as a real check
        return None
    return case if access_code_matches(case, access_code) else None


AGENCY_CACHE_SECONDS = 30.0
AGENCY_CACHE_SIZE = 10_000
_agency_rows: dict[str, tuple[float, tuple]] = {}


def agency_by_code(code: str, *, cached: bool = False) -> Agency | None:
    """The agency with ``code``, or ``None``.

    ``cached=True`` (the public submission, which looks its agency up on every request)
    answers from a copy of the row kept in this process for ``AGENCY_CACHE_SECONDS``: a change
    saved in this process clears it at once, one saved by another process is seen within that
    time. Each call returns a new instance, so a caller's changes never leak into the cache.
    Unknown codes are not cached: a new agency is found at once."""
    if not cached:
        return Agency.objects.filter(code=code).first()
    now = time.monotonic()
    found = _agency_rows.get(code)
    if found is None or found[0] <= now:
        values = Agency.objects.filter(code=code).values_list(*_agency_attnames()).first()
        if values is None:
            return None
        if len(_agency_rows) >= AGENCY_CACHE_SIZE:
            _agency_rows.clear()
        found = (now + AGENCY_CACHE_SECONDS, values)
        _agency_rows[code] = found
    return Agency.from_db(DEFAULT_DB_ALIAS, _agency_attnames(), found[1])


def _agency_attnames() -> list[str]:
    return [field.attname for field in Agency._meta.concrete_fields]


@receiver(post_save, sender=Agency)
@receiver(post_delete, sender=Agency)
def agency_cache_clear(**_kwargs) -> None:
    """Forget the cached agencies of this process (any agency saved or deleted here)."""
    _agency_rows.clear()


def approvers_by_agency(agency_ids) -> dict[int, list]:
    """The active approvers (office heads) of each agency, who get escalations."""
    found: dict[int, list] = defaultdict(list)
    for worker in (
        Caseworker.objects.filter(agency_id__in=agency_ids, role=Role.APPROVER)
        .select_related("user")
        .order_by("user_id")
    ):
        if worker.user.is_active:
            found[worker.agency_id].append(worker.user)
    return found


def cases_on_provisional_years() -> QuerySet[Case]:
    """Open cases with a due date computed on a provisional calendar year (statutory holidays
    only, the State Council's notice not yet loaded): their dates may move when it is."""
    return Case.objects.filter(
        state__in=sorted(OPEN_STATES), clock__has_key="provisional_years"
    ).exclude(clock__provisional_years=[])


# --- records (a case the caller already got from case_get / case_visible) -----------------------
def record_list(*, case: Case) -> QuerySet[Record]:
    """The case's records, oldest first."""
    return Record.objects.filter(case=case).select_related("uploaded_by").order_by("pk")


def release_list(*, case: Case) -> QuerySet[Release]:
    """The case's release copies, newest version first, with their files."""
    return Release.objects.filter(case=case).prefetch_related("files").order_by("-sequence")


def publication_list(*, case: Case) -> QuerySet[Publication]:
    """The case's publications in the reading room (withdrawn ones too), newest first."""
    return (
        Publication.objects.filter(case=case)
        .select_related("agency", "release")
        .prefetch_related("release__files")
        .order_by("-published_at", "-pk")
    )


# --- the reading room ---------------------------------------------------------------------------
SIMILAR_PUBLISHED_LIMIT = 3
SIMILAR_PUBLISHED_SCAN = 500  # the most recent publications compared with a new description
SIMILAR_PUBLISHED_MIN = 0.2  # at least 20% of the two-character pieces shared


def published_search(q: str = "") -> QuerySet[Publication]:
    """Publications in the reading room, newest first; each word of ``q`` must appear in the
    title or the summary."""
    rows = Publication.objects.filter(is_active=True)
    for word in (q or "").split():
        rows = rows.filter(Q(title__icontains=word) | Q(summary__icontains=word))
    return (
        rows.select_related("agency", "release")
        .prefetch_related("release__files")
        .order_by("-published_at", "-pk")
    )


def published_similar(description: str) -> list[dict]:
    """The published answers most like ``description`` (``similarity``: shared bigrams of
    the title and summary), best first, for a new application to see at once."""
    wanted = bigrams(description)
    if not wanted:
        return []
    rows = (
        Publication.objects.filter(is_active=True)
        .order_by("-published_at", "-pk")
        .values_list("pk", "title", "summary")[:SIMILAR_PUBLISHED_SCAN]
    )
    scored = [
        (jaccard(wanted, bigrams(f"{title} {summary}")), pk, title) for pk, title, summary in rows
    ]
    best = sorted(
        (row for row in scored if row[0] >= SIMILAR_PUBLISHED_MIN), key=lambda r: (-r[0], -r[1])
    )
    return [
        {"id": pk, "title": title, "url": f"/api/v1/published/{pk}/", "score": round(score, 2)}
        for score, pk, title in best[:SIMILAR_PUBLISHED_LIMIT]
    ]


# --- 交办 (services/records_tasks.py) ---------------------------------------------------------
TASK_ANSWERING_ROLES = {Role.REGISTRAR, Role.HANDLER, Role.APPROVER}


def tasks_visible(user) -> QuerySet[RecordsTask]:
    """The tasks ``user`` may read: those of the cases they see (the asking side) and those
    asked of the units they see (the answering side, without the rest of the case)."""
    visible = agencies_visible(user)
    by_case, by_unit = visible.q("case__agency"), visible.q("unit")
    if by_case is None:
        return RecordsTask.objects.none()
    return RecordsTask.objects.filter(by_case | by_unit)


def tasks_to_answer(user) -> QuerySet[RecordsTask]:
    """The open tasks ``user`` may answer (the workbench's "待我答复的交办")."""
    open_tasks = RecordsTask.objects.filter(answered_at__isnull=True, case__state__in=OPEN_STATES)
    if user.is_superuser:
        return open_tasks
    worker = caseworker_of(user)
    if worker is None:
        return RecordsTask.objects.none()
    if worker.role == Role.ADMINISTRATOR:
        return open_tasks.filter(unit__path__startswith=worker.agency.path)
    if worker.role not in TASK_ANSWERING_ROLES:
        return RecordsTask.objects.none()
    return open_tasks.filter(unit_id=worker.agency_id)


def units_to_ask(case: Case) -> QuerySet[Agency]:
    """Every agency but the case's own, in the tree's order (a department right after its
    agency)."""
    return Agency.objects.exclude(pk=case.agency_id)
