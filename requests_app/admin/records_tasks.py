"""交办 in the admin: the panel on the case page (the tasks and the form to ask a unit), the
task list (``?todo=tasks_to_answer``: the workbench's "待我答复的交办"), and the answer page.

The asked unit's caseworkers do not see the case: the task list and the answer page read through
``selectors.tasks_visible`` and show the task — what is asked, by whom, by when —
never the applicant or the rest of the case."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from requests_app import selectors
from requests_app.models import Agency, RecordsTask, TaskAnswer
from requests_app.services import records_tasks as services
from requests_app.services.errors import CaseNotFound

from .access import CaseworkerAccessMixin
from .submit import run_service


class AssignForm(forms.Form):
    unit = forms.ModelChoiceField(
        label="交办单位", queryset=Agency.objects.none(), help_text="其他机关，或本机关的内设部门"
    )
    request = forms.CharField(
        label="交办事项",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="写明需要检索和提供的信息（名称、文号、年份等）。",
    )
    days = forms.IntegerField(
        label="答复期限（工作日）",
        min_value=1,
        max_value=services.MAX_DAYS,
        initial=5,
        help_text="按本机关的工作日历计算。",
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = selectors.units_to_ask(case)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else []


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(label="答复", choices=TaskAnswer.choices, widget=forms.RadioSelect)
    files = MultipleFileField(
        label="提供的文件",
        required=False,
        help_text="可多选；文件标题取自文件名，存入该申请的文件记录。",
    )
    note = forms.CharField(
        label="答复说明",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="答复本单位未掌握时，写明检索了哪些档案、系统和年份。",
    )


def tasks_panel(case, user) -> dict:
    """The case page's 交办 panel: the case's tasks and, for who may ask, the form."""
    tasks = list(
        case.records_tasks.select_related("unit", "asked_by", "answered_by")
        .prefetch_related("records")
        .order_by("pk")
    )
    may_ask = case.is_open and services.may_assign(user, case)
    return {
        "rows": [
            {**row, "url": reverse("admin:requests_app_recordstask_answer", args=[row["task"].pk])}
            for row in services.task_summary(tasks)
        ],
        "form": AssignForm(case=case, initial={"days": 5}) if may_ask else None,
        "assign_url": reverse("admin:requests_app_case_task_assign", args=[case.pk]),
    }


@require_POST
def assign_view(request, object_id):
    try:
        case = selectors.case_get(user=request.user, pk=int(object_id))
    except (CaseNotFound, ValueError, OverflowError) as exc:
        raise Http404("未找到该申请。") from exc
    back = reverse("admin:requests_app_case_change", args=[case.pk]) + "#case-tasks"
    form = AssignForm(request.POST, case=case)
    if not form.is_valid():
        messages.error(
            request,
            "交办输入有误："
            + "；".join(
                f"{form.fields[name].label}：{'、'.join(errors)}"
                for name, errors in form.errors.items()
                if name in form.fields
            ),
        )
        return redirect(back)
    done = run_service(
        request,
        form,
        lambda f: services.task_assign(case=case, actor=request.user, **f.cleaned_data),
        label="交办",
        back_url=back,
    )
    if done is None:  # the service's InvalidInput, now on the form
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return redirect(back)
    return done


def case_urls(admin_site) -> list:
    return [
        path(
            "<int:object_id>/tasks/assign/",
            admin_site.admin_view(assign_view),
            name="requests_app_case_task_assign",
        )
    ]


class OpenFilter(admin.SimpleListFilter):
    title = "状态"
    parameter_name = "todo"

    def lookups(self, request, model_admin):
        return [
            ("tasks_to_answer", "待我答复的交办"),
            ("open", "待答复"),
            ("answered", "已答复"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "tasks_to_answer":
            # The workbench's count is this queryset's: one definition.
            return queryset & selectors.tasks_to_answer(request.user)
        if self.value() == "open":
            return queryset.filter(answered_at__isnull=True)
        if self.value() == "answered":
            return queryset.filter(answered_at__isnull=False)
        return queryset


@admin.register(RecordsTask)
class RecordsTaskAdmin(CaseworkerAccessMixin, admin.ModelAdmin):
    list_display = ("tracking_number", "asking_agency", "unit", "short_request", "due_on", "state")
    list_filter = (OpenFilter,)
    list_display_links = None
    ordering = ("due_on", "pk")

    def get_queryset(self, request):
        return selectors.tasks_visible(request.user).select_related("case__agency", "unit")

    @admin.display(description="申请编号")
    def tracking_number(self, task):
        from django.utils.html import format_html

        url = reverse("admin:requests_app_recordstask_answer", args=[task.pk])
        return format_html('<a href="{}">{}</a>', url, task.case.tracking_number)

    @admin.display(description="交办机关")
    def asking_agency(self, task):
        return task.case.agency.name

    @admin.display(description="交办事项")
    def short_request(self, task):
        return task.request if len(task.request) <= 40 else task.request[:40] + "…"

    @admin.display(description="答复情况")
    def state(self, task):
        return services.task_summary([task])[0]["state"]

    def get_urls(self):
        return [
            path(
                "<int:task_id>/answer/",
                self.admin_site.admin_view(self.answer_view),
                name="requests_app_recordstask_answer",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            return redirect("admin:requests_app_recordstask_answer", int(object_id))
        except ValueError as exc:
            raise Http404("未找到该交办。") from exc

    def answer_view(self, request, task_id: int):
        task = (
            self.get_queryset(request)
            .select_related("asked_by", "answered_by", "case__handler")
            .prefetch_related("records")
            .filter(pk=task_id)
            .first()
        )
        if task is None:
            raise Http404("未找到该交办。")
        may_answer = task.is_open and services.may_answer(request.user, task)
        form = None
        if request.method == "POST":
            if not may_answer:
                messages.error(request, "该交办已答复，或您无权答复。")
                return redirect(request.path)
            form = AnswerForm(request.POST, request.FILES)
            if form.is_valid():
                data = form.cleaned_data
                done = run_service(
                    request,
                    form,
                    lambda f: services.task_answer(
                        task=task,
                        actor=request.user,
                        answer=data["answer"],
                        note=data["note"],
                        uploads=data["files"],
                    ),
                    label="答复交办",
                    back_url=request.path,
                )
                if done is not None:
                    return done
        elif may_answer:
            form = AnswerForm()
        sees_case = selectors.case_visible(user=request.user).filter(pk=task.case_id).exists()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"交办 · {task.case.tracking_number}",
            "task": task,
            "state": services.task_summary([task])[0],
            "form": form,
            "media": form.media if form is not None else forms.Media(),
            "case_url": (
                reverse("admin:requests_app_case_change", args=[task.case_id]) if sees_case else ""
            ),
            "asked_on": timezone.localtime(task.asked_at),
        }
        return TemplateResponse(request, "admin/requests_app/recordstask/answer.html", context)
