"""Who may do what, on which cases: one table, used by services, the API and the admin.

A caseworker acts on the cases of their own agency; an administrator on the agency's whole
subtree; a supervisor and an auditor only read, over the subtree. ``None`` as the actor is
the system itself (Celery tasks), which only the services' internal callers pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q

from requests_app.choices import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import QuerySet

    from requests_app.models import Agency, Case

R = Role
_OFFICE = {R.REGISTRAR, R.HANDLER, R.APPROVER}
_HANDLING = {R.HANDLER, R.APPROVER}

# action -> roles that may take it (administrators may take every action).
ACTION_ROLES: dict[str, set[str]] = {
    "confirm_receipt": _OFFICE,
    "register": _OFFICE,
    "reply_on_spot": _OFFICE,
    "start_processing": _OFFICE,
    "assign": {R.REGISTRAR, R.APPROVER},
    "request_supplement": _HANDLING,
    "receive_supplement": _OFFICE,
    "abandon_no_supplement": _HANDLING,
    "start_consultation": _HANDLING,
    "close_consultation": _HANDLING,
    "extend": {R.APPROVER},  # Art 33 ¶2: the office head approves an extension
    "set_later_reply_date": {R.APPROVER},
    "issue_fee_notice": _HANDLING,
    "record_fee_payment": _OFFICE,
    "abandon_no_fee": _HANDLING,
    "submit_for_approval": _HANDLING,
    "approve": {R.APPROVER},
    "send_back": {R.APPROVER},
    "serve_reply": _OFFICE,
    "withdraw": _OFFICE,
    "close": _OFFICE,
    "reopen": {R.APPROVER},
    "note": _OFFICE,
    "record_search": _HANDLING,  # 检索记录 (SPC Guiding Case No. 101)
    "send_reminder": _HANDLING,  # remind the handler of a case (a bulk action of the list)
    "intake": {R.REGISTRAR, R.APPROVER},
}
# Steps on a case's linked records and letters (services/proceedings.py, services/letters.py):
# history events that are not ``services.cases.ACTIONS``.
LINKED_ACTION_ROLES: dict[str, set[str]] = {
    **dict.fromkeys(
        (
            "review_filed",
            "review_accepted",
            "review_answered",
            "review_extended",
            "review_decided",
            "lawsuit_filed",
            "lawsuit_defended",
            "lawsuit_decided",
        ),
        _HANDLING,
    ),
    "letter_issued": _OFFICE,
    "letter_served": _OFFICE,
    "question_answered": _OFFICE,
    # Records and their review (services/records.py): the handling roles work on them; the
    # office head publishes a release to the reading room.
    **dict.fromkeys(
        (
            "record_added",
            "record_removed",
            "page_decided",
            "region_added",
            "region_removed",
            "suggestions_found",
            "suggestion_accepted",
            "suggestion_rejected",
            "release_built",
        ),
        _HANDLING,
    ),
    # 交办 (services/records_tasks.py): the handling roles ask; the asked unit answers by its
    # own rule (``records_tasks.may_answer``), not by the case's agency.
    "task_assigned": _HANDLING,
    "release_published": {R.APPROVER},
    "release_unpublished": {R.APPROVER},
}
# Who may download a record's original (unredacted) file, on the cases they see.
RECORD_ORIGINAL_ROLES = {R.HANDLER, R.APPROVER, R.ADMINISTRATOR, R.AUDITOR}
READ_ALL_ROLES = {R.SUPERVISOR, R.ADMINISTRATOR, R.AUDITOR}


def caseworker_of(user):
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return getattr(user, "caseworker", None)


def is_staff_member(user) -> bool:
    return bool(
        user
        and getattr(user, "is_authenticated", False)
        and (user.is_superuser or caseworker_of(user))
    )


def role_allows(user, action: str) -> bool:
    if user is None:
        return True
    if user.is_superuser:
        return True
    worker = caseworker_of(user)
    if worker is None:
        return False
    roles = ACTION_ROLES.get(action) or LINKED_ACTION_ROLES.get(action, set())
    return worker.role == R.ADMINISTRATOR or worker.role in roles


def can_act(user: AbstractBaseUser | None, action: str, case: Case) -> bool:
    """May ``user`` take ``action`` on ``case``? (role and agency, not the state)."""
    if user is None or user.is_superuser:
        return True
    if not role_allows(user, action):
        return False
    return agency_writable(user, case.agency)


def agency_writable(user, agency) -> bool:
    if user is None or user.is_superuser:
        return True
    worker = caseworker_of(user)
    if worker is None:
        return False
    if worker.role == R.ADMINISTRATOR:
        return agency.path.startswith(worker.agency.path)
    if worker.role in READ_ALL_ROLES:
        return False
    return agency.pk == worker.agency_id


@dataclass(frozen=True)
class VisibleAgencies:
    """The agencies whose cases, records and reports a user may read — every agency, the subtree
    under ``path``, the one agency ``agency_id``, or none — as a predicate, a Q and a queryset.

    Built only by ``agencies_visible``, which holds the rule."""

    everything: bool = False
    path: str | None = None  # the subtree of the agency with this materialised path
    agency_id: int | None = None  # this one agency

    @property
    def is_empty(self) -> bool:
        return not self.everything and self.path is None and self.agency_id is None

    def __contains__(self, agency: Agency) -> bool:
        if self.everything:
            return True
        if self.path is not None:
            return agency.path.startswith(self.path)
        return self.agency_id is not None and agency.pk == self.agency_id

    def q(self, field: str = "agency") -> Q | None:
        """A Q on the rows whose ``field`` (a foreign key to Agency, ``""`` for Agency itself)
        is visible; ``None`` when nothing is."""
        if self.everything:
            return Q()
        if self.path is not None:
            return Q(**{f"{field}__path__startswith" if field else "path__startswith": self.path})
        if self.agency_id is not None:
            return Q(**{f"{field}_id" if field else "pk": self.agency_id})
        return None

    def agencies(self) -> QuerySet[Agency]:
        from requests_app.models import Agency

        condition = self.q("")
        return Agency.objects.none() if condition is None else Agency.objects.filter(condition)


def agencies_visible(user) -> VisibleAgencies:
    """What ``user`` may read: every agency for a superuser (and the system, ``None``, is never
    asked); the subtree of their own agency for the read-all roles (supervisor, administrator,
    auditor); their own agency for the other roles; nothing for anyone without a Caseworker.

    The one place this rule is written: cases, the admin's agency lists, the staff API's legal
    endpoints and the annual reports all read through it."""
    if user is not None and getattr(user, "is_superuser", False):
        return VisibleAgencies(everything=True)
    worker = caseworker_of(user)
    if worker is None:
        return VisibleAgencies()
    if worker.role in READ_ALL_ROLES:
        return VisibleAgencies(path=worker.agency.path)
    return VisibleAgencies(agency_id=worker.agency_id)


def visible_cases_filter(user, prefix: str = "") -> Q | None:
    """A Q selecting the cases ``user`` may read; ``None`` means none at all."""
    return agencies_visible(user).q(f"{prefix}agency")


def can_view_personal_data(user) -> bool:
    if user is not None and user.is_superuser:
        return True
    worker = caseworker_of(user)
    return bool(worker and worker.can_view_personal_data)


def transition_permission(action: str):
    """django-fsm ``permission=`` callable for a transition."""

    def check(instance, user) -> bool:
        return can_act(user, action, instance)

    check.__name__ = f"may_{action}"
    return check


def can_download_original(user, case) -> bool:
    """May ``user`` download the unredacted original of ``case``'s records? (the caller has
    already checked that the case is visible to ``user``)."""
    if user is not None and user.is_superuser:
        return True
    worker = caseworker_of(user)
    return bool(worker and worker.role in RECORD_ORIGINAL_ROLES)
