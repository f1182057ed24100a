"""A case's full history for auditors: every ``CaseEvent`` with its actor, when it was
recorded and when it took effect, the states before and after, its data and its reason.

Who may export: auditors, approvers and administrators (and superusers), on the cases they
see (``selectors.case_visible``: own agency, the subtree for auditors and administrators).
Every export is logged on ``requests_app.audit``."""

from __future__ import annotations

import csv
import io
import json
import logging

from django.utils import timezone

from requests_app.choices import CaseState, Role
from requests_app.models import Case, CaseEvent, EventKind
from requests_app.permissions import caseworker_of

audit_logger = logging.getLogger("requests_app.audit")

EXPORT_ROLES = frozenset({Role.AUDITOR, Role.APPROVER, Role.ADMINISTRATOR})
FORMATS = ("csv", "json")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}

# The columns of the CSV, in order; the JSON has the same keys per event.
COLUMNS = (
    "seq",
    "event_id",
    "kind",
    "kind_label",
    "actor_id",
    "actor_username",
    "actor_label",
    "recorded_at",
    "effective_at",
    "from_state",
    "from_state_label",
    "to_state",
    "to_state_label",
    "data",
    "reason",
)


def may_export_history(user) -> bool:
    """The role check; which cases is ``selectors.case_visible``'s."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    worker = caseworker_of(user)
    return bool(worker and worker.role in EXPORT_ROLES)


def _state_label(code: str) -> str:
    if not code:
        return ""
    try:
        return str(CaseState(code).label)
    except ValueError:
        return code


def _kind_label(code: str) -> str:
    try:
        return str(EventKind(code).label)
    except ValueError:
        return code


def _moment(value) -> str:
    return timezone.localtime(value).isoformat()


def history_rows(case: Case) -> list[dict]:
    """Every event of ``case`` in the order it happened (effective time, then id)."""
    events = (
        CaseEvent.objects.filter(case=case)
        .select_related("actor")
        .order_by("effective_at", "recorded_at", "pk")
    )
    return [
        {
            "seq": index,
            "event_id": event.pk,
            "kind": event.kind,
            "kind_label": _kind_label(event.kind),
            "actor_id": event.actor_id,
            "actor_username": event.actor.get_username() if event.actor else "",
            "actor_label": event.actor_label,
            "recorded_at": _moment(event.recorded_at),
            "effective_at": _moment(event.effective_at),
            "from_state": event.from_state,
            "from_state_label": _state_label(event.from_state),
            "to_state": event.to_state,
            "to_state_label": _state_label(event.to_state),
            "data": event.data,
            "reason": event.reason,
        }
        for index, event in enumerate(events, start=1)
    ]


def history_document(case: Case, *, exported_by) -> dict:
    return {
        "case": {
            "id": case.pk,
            "tracking_number": case.tracking_number,
            "agency": case.agency.code,
            "state": case.state,
            "version": case.version,
        },
        "exported_at": _moment(timezone.now()),
        "exported_by": exported_by.get_username(),
        "events": history_rows(case),
    }


def _csv_cell(value) -> str:
    """Text as it is, except that a cell a spreadsheet would run as a formula (``=``, ``+``,
    ``-``, ``@``, tab, CR) is prefixed with ``'`` (CSV injection)."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def history_csv(document: dict) -> bytes:
    """UTF-8 with a BOM (Excel), one line per event; ``data`` as JSON with its keys sorted."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in document["events"]:
        values = dict(row)
        values["data"] = json.dumps(row["data"], ensure_ascii=False, sort_keys=True)
        writer.writerow([_csv_cell(values[name]) for name in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def history_json(document: dict) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def render(document: dict, fmt: str) -> bytes:
    return history_csv(document) if fmt == "csv" else history_json(document)


def file_name(case: Case, fmt: str) -> str:
    return f"{case.tracking_number}-history.{fmt}"


def log_export(user, document: dict, fmt: str, via: str) -> None:
    audit_logger.info(
        "history exported: user=%s case=%s format=%s via=%s events=%s",
        user.get_username(),
        document["case"]["tracking_number"],
        fmt,
        via,
        len(document["events"]),
    )
