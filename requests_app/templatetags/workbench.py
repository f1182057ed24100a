"""The admin index as a workbench (工作台): the items of the user's role, their counts and most
urgent cases (``requests_app.workbench``), and, for a supervising office, its subtree by agency."""

from django import template
from django.urls import reverse
from django.utils import timezone

from requests_app import workbench
from requests_app.admin.access import is_admin_user
from requests_app.choices import Role
from requests_app.models import SavedFilter
from requests_app.permissions import caseworker_of, role_allows

register = template.Library()


@register.simple_tag(takes_context=True)
def workbench_for(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not is_admin_user(user):
        return {"entries": []}
    today = timezone.localdate()
    changelist = reverse("admin:requests_app_case_changelist")
    entries = []
    for entry in workbench.workbench(user, today=today):
        entries.append(
            {
                "key": entry.item.key,
                "label": entry.item.label,
                "hint": entry.item.hint,
                "count": entry.count,
                "url": f"{changelist}?todo={entry.item.key}",
                "cases": [
                    {
                        "tracking_number": case.tracking_number,
                        "url": reverse("admin:requests_app_case_change", args=[case.pk]),
                        "state": case.get_state_display(),
                        "agency": case.agency.name,
                        "due": case.reply_due_on,
                        "overdue": bool(case.reply_due_on and case.reply_due_on < today),
                    }
                    for case in entry.cases
                ],
            }
        )
    to_answer = workbench.tasks_to_answer_for(user)
    if to_answer is not None:
        count, tasks = to_answer
        entries.append(
            {
                "key": workbench.TASKS_TO_ANSWER,
                "label": workbench.TASKS_TO_ANSWER_LABEL,
                "hint": "其他机关或本机关业务科室交办的信息检索，请提供文件或答复本单位未掌握",
                "count": count,
                "url": reverse("admin:requests_app_recordstask_changelist")
                + f"?todo={workbench.TASKS_TO_ANSWER}",
                "cases": [
                    {
                        "tracking_number": f"{task.case.tracking_number}（{task.case.agency.name}）",
                        "url": reverse("admin:requests_app_recordstask_answer", args=[task.pk]),
                        "state": "待答复",
                        "due": task.due_on,
                        "overdue": task.due_on < today,
                    }
                    for task in tasks
                ],
            }
        )
    worker = caseworker_of(user)
    supervising = user.is_superuser or (
        worker is not None and worker.role in {Role.SUPERVISOR, Role.ADMINISTRATOR, Role.AUDITOR}
    )
    by_agency = []
    if supervising:
        for row in workbench.overdue_by_agency(user, today):
            # ``agency==ID``: that agency alone, as counted (``agency=ID`` adds its subtree).
            base = f"{changelist}?agency=%3D{row['agency_id']}"
            by_agency.append(
                {
                    **row,
                    "overdue_url": f"{base}&due=overdue",
                    "soon_url": f"{base}&due=soon",
                }
            )
    saved = [
        {
            "name": f.name,
            "url": f"{changelist}?{f.query}" if f.query else changelist,
            "delete_url": reverse("admin:requests_app_case_delete_filter", args=[f.pk]),
        }
        for f in SavedFilter.objects.filter(user=user)
    ]
    return {
        "saved_filters": saved,
        "entries": entries,
        "by_agency": by_agency,
        "supervising": supervising,
        "can_intake": role_allows(user, "intake"),
        "dashboard_url": reverse("admin:reporting_dashboard"),
        "role": worker.get_role_display() if worker is not None else "系统管理员",
        "agency": worker.agency.name if worker is not None else "",
    }
