"""Who may see and do what with annual reports: one table, used by the services, the admin and
the staff API alike (as ``requests_app.permissions`` is for cases).

Seeing: a report is visible when its agency is (``requests_app.permissions.agencies_visible``,
the rule for cases too): the user's own, or in the user's subtree for the roles that read a
subtree (supervisor, administrator, auditor); superusers see all.
Acting: the roles below, on a report of the user's own agency — an administrator on the
whole subtree; superusers always. Supervisors, auditors and registrars only read.
"""

from __future__ import annotations

from requests_app.choices import Role
from requests_app.models import Agency
from requests_app.permissions import caseworker_of

R = Role
_EDITORS = frozenset({R.HANDLER, R.APPROVER, R.ADMINISTRATOR})
_SIGNERS = frozenset({R.APPROVER, R.ADMINISTRATOR})

# action -> roles that may take it (on the agency, as ``may_act_on_agency`` says).
REPORT_ACTION_ROLES: dict[str, frozenset[str]] = {
    "generate": _EDITORS,  # compute (or recompute) a report and store it
    "regenerate": _EDITORS,  # recompute with the stored inputs and see the differences
    "edit_text": _EDITORS,  # the office's sections 一, 二, 五, 六
    "mark_reviewed": _SIGNERS,  # the office head confirms numbers and text
    "publish": _SIGNERS,  # publish and lock (条例 Art 49)
}


def may_act_on_agency(user, action: str, agency: Agency) -> bool:
    """May ``user`` take the report ``action`` for ``agency``? ``None`` is the system."""
    if user is None or user.is_superuser:
        return True
    worker = caseworker_of(user)
    if worker is None or worker.role not in REPORT_ACTION_ROLES[action]:
        return False
    if worker.role == R.ADMINISTRATOR:
        return agency.path.startswith(worker.agency.path)
    return agency.pk == worker.agency_id
