"""History records that are not actions on the case: they change no column and no state."""

from __future__ import annotations

from django.db import transaction

from requests_app.models import Case, CaseEvent, EventKind
from requests_app.services.cases import actor_label


def case_record_change_after_publication(
    *, case: Case, actor, report_ids: list[int], cause: CaseEvent
) -> CaseEvent:
    """Record on ``case`` that ``cause`` changed it after annual reports counting it were
    published (条例 Art 50: a published report is not changed silently). Writes one
    ``changed_after_publication`` event naming the reports and the cause; changes nothing
    else and notifies no one. Called by ``reporting`` once it has flagged the reports."""
    with transaction.atomic():
        return CaseEvent.objects.create(
            case=case,
            kind=EventKind.CHANGED_AFTER_PUBLICATION,
            actor=actor,
            actor_label=actor_label(actor),
            effective_at=cause.effective_at,
            from_state=case.state,
            to_state=case.state,
            data={
                "report_ids": sorted(report_ids),
                "cause_event_id": cause.pk,
                "cause": cause.kind,
            },
            # The reports are named in the data (report_ids); the reason is for the reader.
            reason=f"已发布的年度报告受影响（{len(report_ids)} 份）",
        )
