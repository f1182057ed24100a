"""年度报告 in the caseworkers' admin (in Chinese, like ``requests_app.admin``).

Access follows the Caseworker row (``reporting.permissions``), never Django's model
permissions. The list shows the reports of the agencies the user sees. The report page lays
the tables out as the official format does (``exporters.tables_html``), each number linking
to the cases counted in it, with the identity checks and the office's text sections; every
change is a button or form whose view calls one service of ``reporting.services``:
generate, regenerate (with the cell-by-cell differences), edit the text, mark reviewed,
publish. The supervising office's status page (``tasks.subordinate_report_status``) and the
台账 template download live here too.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe

from requests_app.admin.access import CaseworkerAccessMixin, is_admin_user
from requests_app.importers import ledger_template
from requests_app.models import Agency, Case
from requests_app.permissions import agencies_visible, caseworker_of
from requests_app.services.errors import ServiceError

from .dashboard_admin import dashboard_urls
from .engine import ReportInputError
from .exporters import CONTENT_TYPES, OUTPUTS, document_from_report, export, file_name
from .exporters import tables_html as render_tables
from .formats import FORMATS, format_for_year, get_format
from .formats.base import TOTAL
from .formats.proactive import proactive_tables
from .models import AnnualReport, ReportStatus
from .permissions import may_act_on_agency
from .selectors import (
    cell_info,
    report_cell_records,
    report_get,
    report_list,
    visible_case_ids,
)
from .services import (
    TEXT_FIELDS,
    ReportNotFound,
    report_compare,
    report_generate,
    report_mark_reviewed,
    report_publish,
    report_regenerate,
    report_update_text,
)
from .tasks import subordinate_report_status

XLSX = CONTENT_TYPES["xlsx"]
CELL_PAGE_SIZE = 200


def download(data: bytes, content_type: str, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


# --- forms --------------------------------------------------------------------------------------
class GenerateForm(forms.Form):
    """The inputs of a report: year, agency, format, descendants, cutoff."""

    year = forms.IntegerField(label="年度", min_value=1990, max_value=9999)
    agency = forms.ModelChoiceField(label="机关", queryset=Agency.objects.none())
    format = forms.ChoiceField(label="格式", required=False)
    include_descendants = forms.BooleanField(label="含下级机关", required=False, initial=True)
    cutoff = forms.DateTimeField(
        label="统计截止时间",
        required=False,
        help_text="留空为该年 12 月 31 日 24 时（北京时间）。格式：2023-01-31 23:59:59",
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies
        self.fields["agency"].label_from_instance = lambda a: "　" * a.depth + a.name
        self.fields["format"].choices = [("", "按年度适用的格式")] + [
            (code, fmt.title) for code, fmt in FORMATS.items()
        ]

    def inputs(self) -> dict:
        data = self.cleaned_data
        return {
            "year": data["year"],
            "agency": data["agency"],
            "format": data["format"] or None,
            "include_descendants": data["include_descendants"],
            "cutoff": data["cutoff"],
        }


class TextSectionsForm(forms.ModelForm):
    """The office's sections: 一 总体情况, 二 主动公开 (figures and text), 五, 六 with the fees.

    The figures of 二 are a field per cell of the format's tables (reporting.formats.proactive),
    stored as ``{row: {column: number}}``; rows the tables do not have are kept as they are."""

    class Meta:
        model = AnnualReport
        fields = tuple(name for name in TEXT_FIELDS if name != "proactive_figures")
        widgets = {
            "overview": forms.Textarea(attrs={"rows": 5, "cols": 100}),
            "proactive_text": forms.Textarea(attrs={"rows": 4, "cols": 100}),
            "problems_and_improvements": forms.Textarea(attrs={"rows": 4, "cols": 100}),
            "other_matters": forms.Textarea(attrs={"rows": 4, "cols": 100}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tables = proactive_tables(self.instance.format)
        figures = self.instance.proactive_figures or {}
        self.cells: dict[str, tuple[str, str]] = {}
        for t, table in enumerate(self.tables):
            for r, row in enumerate(table.rows):
                for c, column in enumerate(table.columns):
                    name = f"proactive_{t}_{r}_{c}"
                    self.cells[name] = (row, column)
                    number = {"label": f"{row}：{column}", "required": False}
                    if table.is_amount(column):
                        field = forms.DecimalField(
                            min_value=0, max_digits=14, decimal_places=2, **number
                        )
                    else:
                        minimum = None if table.allows_negative(column) else 0
                        field = forms.IntegerField(min_value=minimum, **number)
                    field.widget.attrs["class"] = "vIntegerField"
                    field.initial = (figures.get(row) or {}).get(column)
                    self.fields[name] = field

    def text_fields(self):
        return [self[name] for name in self.Meta.fields]

    def proactive_grid(self) -> list[dict]:
        """The tables of 二 with their bound fields, for the page to lay out as tables."""
        return [
            {
                "title": table.title,
                "columns": table.columns,
                "rows": [
                    (row, [self[f"proactive_{t}_{r}_{c}"] for c in range(len(table.columns))])
                    for r, row in enumerate(table.rows)
                ],
            }
            for t, table in enumerate(self.tables)
        ]

    def proactive_figures(self) -> dict:
        figures = {
            row: dict(values) for row, values in (self.instance.proactive_figures or {}).items()
        }
        for name, (row, column) in self.cells.items():
            value = self.cleaned_data.get(name)
            cells = figures.setdefault(row, {})
            if value is None:
                cells.pop(column, None)
            else:
                cells[column] = int(value) if value == int(value) else float(value)
        return {row: cells for row, cells in figures.items() if cells}

    def sections(self) -> dict:
        """The sections that changed, as ``report_update_text`` takes them."""
        changed = {
            name: self.cleaned_data[name] for name in self.changed_data if name in TEXT_FIELDS
        }
        if any(name in self.cells for name in self.changed_data):
            changed["proactive_figures"] = self.proactive_figures()
        return changed


# --- list -----------------------------------------------------------------------------------------
@admin.register(AnnualReport)
class AnnualReportAdmin(CaseworkerAccessMixin, admin.ModelAdmin):
    list_display = (
        "agency",
        "year",
        "format_column",
        "include_descendants",
        "status_column",
        "stale_column",
        "checks_column",
        "generated_at",
    )
    list_display_links = ("agency",)
    list_filter = ("year", "status", "format", "is_stale")
    search_fields = ("agency__name", "agency__code")
    list_per_page = 50
    change_list_template = "admin/reporting/annualreport/change_list.html"

    def get_queryset(self, request):
        return report_list(user=request.user)

    @admin.display(description="格式", ordering="format")
    def format_column(self, report):
        return get_format(report.format).source

    @admin.display(description="状态", ordering="status")
    def status_column(self, report):
        return format_html(
            '<span class="report-status report-status-{}">{}</span>',
            report.status,
            report.get_status_display(),
        )

    @admin.display(description="发布后数据已变更", ordering="is_stale")
    def stale_column(self, report):
        if report.is_stale:
            return format_html('<strong class="report-stale">{}</strong>', "已变更")
        return "—"

    @admin.display(description="校验")
    def checks_column(self, report):
        failed = len(report.failed_checks)
        if failed:
            return format_html('<span class="report-check-failed">{} 项未通过</span>', failed)
        return "通过"

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_generate": bool(self._generate_agencies(request.user)),
            "generate_url": reverse("admin:reporting_annualreport_generate"),
            "status_url": reverse("admin:reporting_annualreport_status"),
            "dashboard_url": reverse("admin:reporting_dashboard"),
            "ledger_url": reverse("admin:reporting_annualreport_ledger_template"),
        }
        return super().changelist_view(request, extra_context)

    # --- urls -------------------------------------------------------------------------------
    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("generate/", wrap(self.generate_view), name="reporting_annualreport_generate"),
            path("status/", wrap(self.status_view), name="reporting_annualreport_status"),
            *dashboard_urls(self),
            path(
                "ledger-template/",
                wrap(self.ledger_template_view),
                name="reporting_annualreport_ledger_template",
            ),
            path(
                "<int:object_id>/regenerate/",
                wrap(self.regenerate_view),
                name="reporting_annualreport_regenerate",
            ),
            path(
                "<int:object_id>/review/",
                wrap(self.review_view),
                name="reporting_annualreport_review",
            ),
            path(
                "<int:object_id>/publish/",
                wrap(self.publish_view),
                name="reporting_annualreport_publish",
            ),
            path(
                "<int:object_id>/export/<slug:output>/",
                wrap(self.export_view),
                name="reporting_annualreport_export",
            ),
            path(
                "<int:object_id>/cell/<slug:key>/<slug:column>/",
                wrap(self.cell_view),
                name="reporting_annualreport_cell",
            ),
            *super().get_urls(),
        ]

    # --- helpers ----------------------------------------------------------------------------
    def _report(self, request, object_id) -> AnnualReport:
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            return report_get(user=request.user, pk=int(object_id))
        except (ReportNotFound, ValueError) as exc:
            raise Http404("未找到该年度报告。") from exc

    def _generate_agencies(self, user):
        agencies = agencies_visible(user).agencies().order_by("path")
        return [a for a in agencies if may_act_on_agency(user, "generate", a)]

    def _context(self, request, title: str, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "subtitle": None,
            **extra,
        }

    def _change_url(self, report) -> str:
        return reverse("admin:reporting_annualreport_change", args=[report.pk])

    def _post_only(self, request):
        if request.method != "POST":
            raise Http404("请通过页面上的按钮操作。")

    # --- the report page --------------------------------------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self._report(request, unquote(object_id))
        user = request.user
        may_edit = not report.is_published and may_act_on_agency(user, "edit_text", report.agency)
        form = None
        if may_edit:
            if request.method == "POST":
                form = TextSectionsForm(
                    request.POST, instance=AnnualReport.objects.get(pk=report.pk)
                )
                if form.is_valid():
                    sections = form.sections()
                    try:
                        if sections:
                            report_update_text(report=report, actor=user, **sections)
                    except ServiceError as exc:
                        messages.error(request, exc.message)
                    else:
                        messages.success(request, "已保存报告文字部分。")
                    return redirect(self._change_url(report))
            else:
                form = TextSectionsForm(instance=report)
        elif request.method == "POST":
            messages.error(
                request,
                "报告已发布，不能修改。" if report.is_published else "您的角色不能修改该报告。",
            )
            return redirect(self._change_url(report))
        return TemplateResponse(
            request,
            "admin/reporting/annualreport/report.html",
            self._context(request, str(report), **self.report_context(request, report, form)),
        )

    def report_context(self, request, report: AnnualReport, form) -> dict:
        user = request.user
        document = document_from_report(report)

        def link(key: str, column: str) -> str:
            return reverse("admin:reporting_annualreport_cell", args=[report.pk, key, column])

        def may(action: str) -> bool:
            return may_act_on_agency(user, action, report.agency)

        return {
            "report": report,
            "original": report,
            "report_format": get_format(report.format),
            "tables_html": mark_safe(render_tables(document, link)),  # noqa: S308 (escaped)
            "failed_checks": report.failed_checks,
            "passed_checks": [check for check in report.checks if check.get("ok")],
            "form": form,
            "sections": [
                (report._meta.get_field(name).verbose_name, getattr(report, name))
                for name in TEXT_FIELDS
            ],
            "proactive_tables": [
                {
                    "title": table.title,
                    "columns": table.columns,
                    "rows": [
                        (
                            row,
                            [
                                (report.proactive_figures.get(row) or {}).get(c)
                                for c in table.columns
                            ],
                        )
                        for row in table.rows
                    ],
                }
                for table in proactive_tables(report.format)
            ],
            "exports": [
                (output, reverse("admin:reporting_annualreport_export", args=[report.pk, output]))
                for output in OUTPUTS
            ],
            "can_regenerate": may("regenerate"),
            "can_review": not report.is_published
            and report.status != ReportStatus.REVIEWED
            and may("mark_reviewed"),
            "can_publish": not report.is_published and may("publish"),
            "regenerate_url": reverse("admin:reporting_annualreport_regenerate", args=[report.pk]),
            "review_url": reverse("admin:reporting_annualreport_review", args=[report.pk]),
            "publish_url": reverse("admin:reporting_annualreport_publish", args=[report.pk]),
        }

    def add_view(self, request, form_url="", extra_context=None):
        return redirect(reverse("admin:reporting_annualreport_generate"))

    def history_view(self, request, object_id, extra_context=None):
        return redirect(reverse("admin:reporting_annualreport_change", args=[unquote(object_id)]))

    # --- actions ----------------------------------------------------------------------------
    def generate_view(self, request):
        agencies = self._generate_agencies(request.user)
        if not agencies:
            raise PermissionDenied
        agency_qs = Agency.objects.filter(pk__in=[a.pk for a in agencies]).order_by("path")
        worker = caseworker_of(request.user)
        initial = {
            "year": timezone.localdate().year - 1,
            "include_descendants": True,
            "agency": worker.agency_id if worker else None,
        }
        if request.method == "POST":
            form = GenerateForm(request.POST, agencies=agency_qs)
            if form.is_valid():
                try:
                    report = report_generate(actor=request.user, **form.inputs())
                except ReportInputError as exc:
                    form.add_error(None, str(exc))
                except ServiceError as exc:
                    form.add_error(None, exc.message)
                else:
                    failed = len(report.failed_checks)
                    messages.success(
                        request,
                        f"已生成 {report}。" + (f"有 {failed} 项校验未通过。" if failed else ""),
                    )
                    return redirect(self._change_url(report))
        else:
            form = GenerateForm(initial=initial, agencies=agency_qs)
        return TemplateResponse(
            request,
            "admin/reporting/annualreport/generate.html",
            self._context(request, "生成年度报告", form=form, media=self.media + form.media),
        )

    def regenerate_view(self, request, object_id):
        """GET: what regenerating would change. POST: regenerate (unless published) and show
        what changed."""
        report = self._report(request, object_id)
        if not may_act_on_agency(request.user, "regenerate", report.agency):
            raise PermissionDenied
        done = False
        if request.method == "POST":
            if report.is_published:
                messages.error(
                    request, "报告已发布并锁定，不能重新生成覆盖；下面仅列出与当前数据的差异。"
                )
                _, changes = report_compare(report)
            else:
                try:
                    changes = report_regenerate(report=report, actor=request.user)
                except ServiceError as exc:
                    messages.error(request, exc.message)
                    return redirect(self._change_url(report))
                done = True
                report = self._report(request, object_id)
                messages.success(request, f"已重新生成，{len(changes)} 个数据有变化。")
        else:
            _, changes = report_compare(report)
        return TemplateResponse(
            request,
            "admin/reporting/annualreport/regenerate.html",
            self._context(
                request,
                f"重新生成与对比：{report}",
                report=report,
                original=report,
                done=done,
                changes=[self._change_row(report, change) for change in changes],
                change_url=self._change_url(report),
            ),
        )

    def _change_row(self, report, change) -> dict:
        """One difference: the cell's official labels and a link to its cases now."""
        parts = change.cell.split(".")
        key, column = (parts[1], parts[2]) if len(parts) == 3 else (parts[0], TOTAL)
        try:
            info = cell_info(get_format(report.format), None, key, column)
        except ReportInputError:
            label = change.cell
        else:
            label = f"{info['row_label']} · {info['column_label']}"
        return {
            "cell": change.cell,
            "label": label,
            "stored": change.stored,
            "current": change.current,
            "url": reverse("admin:reporting_annualreport_cell", args=[report.pk, key, column]),
        }

    def review_view(self, request, object_id):
        self._post_only(request)
        report = self._report(request, object_id)
        try:
            report_mark_reviewed(report=report, actor=request.user)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已标记为已审核。")
        return redirect(self._change_url(report))

    def publish_view(self, request, object_id):
        self._post_only(request)
        report = self._report(request, object_id)
        if report.is_published:
            messages.error(request, "报告已发布。")
            return redirect(self._change_url(report))
        try:
            report_publish(report=report, actor=request.user)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "已发布，报告已锁定。")
        return redirect(self._change_url(report))

    def export_view(self, request, object_id, output):
        report = self._report(request, object_id)
        if output not in OUTPUTS:
            raise Http404("没有这种导出格式。")
        document = document_from_report(report)
        return download(
            export(document, output), CONTENT_TYPES[output], file_name(document, output)
        )

    # --- the cases behind a number ------------------------------------------------------------
    def cell_view(self, request, object_id, key, column):
        report = self._report(request, object_id)
        fmt = get_format(report.format)
        try:
            info = cell_info(fmt, report.cells, key, column)
            queryset = report_cell_records(report, key, column)
        except (ReportInputError, KeyError) as exc:
            raise Http404("报告中没有这个数据格。") from exc
        page = Paginator(queryset, CELL_PAGE_SIZE).get_page(request.GET.get("p"))
        records = list(page.object_list)
        is_cases = queryset.model is Case
        if is_cases:
            case_ids = {record.pk for record in records}
        else:
            case_ids = {record.case_id for record in records if getattr(record, "case_id", None)}
        openable = visible_case_ids(request.user, case_ids)
        rows = [self._record_row(record, is_cases, openable) for record in records]
        return TemplateResponse(
            request,
            "admin/reporting/annualreport/cell.html",
            self._context(
                request,
                f"{info['row_label']} · {info['column_label']}",
                report=report,
                original=report,
                info=info,
                rows=rows,
                page=page,
                count=page.paginator.count,
                is_cases=is_cases,
                differs=info["value"] != page.paginator.count and key != "fees_collected_yuan",
                change_url=self._change_url(report),
            ),
        )

    def _record_row(self, record, is_cases: bool, openable: set[int]) -> dict:
        case = record if is_cases else getattr(record, "case", None)
        url = None
        if case is not None and case.pk in openable:
            url = reverse("admin:requests_app_case_change", args=[case.pk])
        if is_cases:
            return {
                "tracking_number": case.tracking_number,
                "url": url,
                "agency": case.agency.name,
                "applicant_type": case.get_applicant_type_display(),
                "received_on": case.received_on,
                "concluded_on": case.concluded_on,
                "outcome": case.get_outcome_display() if case.outcome else "—",
            }
        date = getattr(record, "filed_on", None) or getattr(record, "paid_on", None)
        result = (
            record.get_result_display()
            if hasattr(record, "get_result_display")
            else getattr(record, "amount_yuan", "")
        )
        return {
            "tracking_number": case.tracking_number if case is not None else "—",
            "url": url,
            "record": str(record._meta.verbose_name),
            "date": date,
            "result": result,
        }

    # --- the supervising office -----------------------------------------------------------------
    def status_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        agencies = agencies_visible(request.user).agencies().order_by("path")
        worker = caseworker_of(request.user)
        code = request.GET.get("agency") or (worker.agency.code if worker else "")
        agency = agencies.filter(code=code).first() or agencies.first()
        if agency is None:
            raise PermissionDenied
        year = _year(request.GET.get("year"), default=timezone.localdate().year - 1)
        rows = subordinate_report_status(agency, year)
        top = agency.depth
        for row in rows:
            row["indent"] = "　" * (row["depth"] - top)
            if row["report_id"]:
                row["url"] = reverse("admin:reporting_annualreport_change", args=[row["report_id"]])
        summary = {
            label: sum(1 for r in rows if r["status"] == status)
            for status, label in (
                ("missing", "未生成"),
                (ReportStatus.GENERATED, "已生成"),
                (ReportStatus.REVIEWED, "已审核"),
                (ReportStatus.PUBLISHED, "已发布"),
            )
        }
        return TemplateResponse(
            request,
            "admin/reporting/annualreport/status.html",
            self._context(
                request,
                f"下级机关年度报告进度：{agency.name} {year} 年度",
                agency=agency,
                year=year,
                rows=rows,
                summary=summary,
                overdue=sum(1 for r in rows if r["is_overdue"]),
                format=format_for_year(year),
                agency_choices=[(a.code, "　" * (a.depth - top) + a.name) for a in agencies],
            ),
        )

    def ledger_template_view(self, request):
        if not is_admin_user(request.user):
            raise PermissionDenied
        return download(ledger_template("xlsx"), XLSX, "ledger-template.xlsx")


def _year(value: str | None, default: int) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        return default
    return year if 1990 <= year <= 9999 else default
