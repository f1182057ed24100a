"""统计看板 in the admin: the office's figures by month as charts, each bar and point a link to
the cases it counts (as the report's cells are).

The numbers come from :mod:`reporting.dashboard`; the page hands them to a static script
(``reporting/dashboard.js``, ECharts served from the project, no CDN) as JSON in a data block,
and shows the same numbers as a table under the charts. The agencies offered are those whose
reports the user sees (``agencies_visible``); the per-handler figures are shown to the roles
that lead an office (approver, administrator, supervisor) and to superusers.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode

from requests_app.choices import Role
from requests_app.permissions import agencies_visible, caseworker_of

from .dashboard import METRICS, DashboardInputError, build_dashboard, metric_cases, today
from .selectors import visible_case_ids

PAGE_SIZE = 100
HEAD_ROLES = frozenset({Role.APPROVER, Role.ADMINISTRATOR, Role.SUPERVISOR})


class DashboardForm(forms.Form):
    agency = forms.ModelChoiceField(label="机关", queryset=None, empty_label=None)
    year = forms.IntegerField(label="年度", min_value=2008, max_value=2100)
    descendants = forms.BooleanField(label="含下级机关", required=False)

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies.order_by("path")


def sees_handlers(user) -> bool:
    if user.is_superuser:
        return True
    worker = caseworker_of(user)
    return worker is not None and worker.role in HEAD_ROLES


def _form(request) -> DashboardForm:
    agencies = agencies_visible(request.user).agencies()
    if not agencies.exists():
        raise PermissionDenied
    data = request.GET.copy()
    if "agency" not in data:
        worker = caseworker_of(request.user)
        first = worker.agency if worker is not None else agencies.order_by("path").first()
        data.setdefault("agency", str(first.pk))
        data.setdefault("descendants", "on")
    data.setdefault("year", str(today().year))
    return DashboardForm(data, agencies=agencies)


def _query(form: DashboardForm, **extra) -> str:
    params = {
        "agency": form.cleaned_data["agency"].pk,
        "year": form.cleaned_data["year"],
    }
    if form.cleaned_data["descendants"]:
        params["descendants"] = "on"
    params.update({k: v for k, v in extra.items() if v is not None})
    return urlencode(params)


def dashboard_view(model_admin, request):
    form = _form(request)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "统计看板",
        "subtitle": None,
        "form": form,
    }
    if form.is_valid():
        agency = form.cleaned_data["agency"]
        year = form.cleaned_data["year"]
        board = build_dashboard(
            agency,
            year=year,
            include_descendants=form.cleaned_data["descendants"],
            per_handler=sees_handlers(request.user),
        )
        base = reverse("admin:reporting_dashboard_cases")

        def link(**extra) -> str:
            return f"{base}?{_query(form, **extra)}"

        months = []
        for i, row in enumerate(board.months, start=1):
            months.append(
                {
                    "month": row.month,
                    "values": {m: getattr(row, m) for m in METRICS},
                    "links": {m: link(metric=m, month=i) for m in METRICS},
                    "on_time_rate": row.on_time_rate,
                    "median_days": row.median_days,
                    "p90_days": row.p90_days,
                }
            )
        totals = board.totals
        data = {
            "title": f"{agency.name}{'（含下级机关）' if board.include_descendants else ''}"
            f" {year} 年",
            "metrics": METRICS,
            "months": months,
            "mix": [
                {**g, "link": link(metric="concluded", group=g["key"])} for g in board.outcome_mix
            ],
            "handlers": [
                {
                    "name": h.name,
                    "concluded": h.concluded,
                    "on_time": h.on_time,
                    "open": h.open,
                    "overdue": h.overdue,
                    "on_time_rate": h.on_time_rate,
                    "median_days": h.median_days,
                    "links": {
                        m: link(metric=m, handler=h.handler_id)
                        for m in ("concluded", "on_time", "open", "overdue")
                    },
                }
                for h in board.handlers
            ],
        }
        context.update(
            board=board,
            data=data,
            totals=totals,
            total_links={m: link(metric=m) for m in METRICS},
            months=months,
        )
    return TemplateResponse(request, "admin/reporting/dashboard.html", context)


def dashboard_cases_view(model_admin, request):
    if not request.GET.get("metric"):
        # The list of a figure is reached from the dashboard; without one, go there.
        return redirect(reverse("admin:reporting_dashboard"))
    form = _form(request)
    if not form.is_valid():
        raise Http404("看板参数无效。")
    params = request.GET
    try:
        month = int(params["month"]) if params.get("month") else None
        handler = int(params["handler"]) if params.get("handler") else None
    except ValueError as exc:
        raise Http404("看板参数无效。") from exc
    metric = params.get("metric", "")
    group = params.get("group") or None
    if group is not None and handler is not None:
        raise Http404("看板参数无效。")
    if handler is not None and not sees_handlers(request.user):
        raise PermissionDenied
    try:
        queryset = metric_cases(
            form.cleaned_data["agency"],
            include_descendants=form.cleaned_data["descendants"],
            year=form.cleaned_data["year"],
            metric=metric,
            month=month,
            group=group,
            handler_id=handler,
        )
    except DashboardInputError as exc:
        raise Http404(str(exc)) from exc
    page = Paginator(queryset, PAGE_SIZE).get_page(params.get("p"))
    records = list(page.object_list)
    openable = visible_case_ids(request.user, {c.pk for c in records})
    rows = [
        {
            "tracking_number": c.tracking_number,
            "url": reverse("admin:requests_app_case_change", args=[c.pk])
            if c.pk in openable
            else None,
            "agency": c.agency.name,
            "received_on": c.received_on,
            "reply_due_on": c.reply_due_on,
            "concluded_on": c.concluded_on,
            "outcome": c.get_outcome_display() if c.outcome else "—",
            "timeliness": c.get_timeliness_display() if c.timeliness else "—",
        }
        for c in records
    ]
    what = METRICS.get(metric, metric)
    if month is not None:
        what = f"{form.cleaned_data['year']}-{month:02d} {what}"
    extra = {"metric": metric, "month": month, "group": group, "handler": handler}
    return TemplateResponse(
        request,
        "admin/reporting/dashboard_cases.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": f"看板 · {what}",
            "subtitle": None,
            "rows": rows,
            "page": page,
            "count": page.paginator.count,
            "back_url": f"{reverse('admin:reporting_dashboard')}?{_query(form)}",
            "page_query": _query(form, **extra),
        },
    )


def dashboard_urls(model_admin) -> list:
    wrap = model_admin.admin_site.admin_view
    return [
        path(
            "dashboard/",
            wrap(lambda request: dashboard_view(model_admin, request)),
            name="reporting_dashboard",
        ),
        path(
            "dashboard/cases/",
            wrap(lambda request: dashboard_cases_view(model_admin, request)),
            name="reporting_dashboard_cases",
        ),
    ]
