"""The working-day calendar in the admin: holidays, 调休 working days, and the known years.

Every caseworker reads the calendar. Superusers change the national calendar; an administrator
changes the local calendar of the agencies in their subtree. Every save or delete goes through
``requests_app.services.calendar``, which moves the deadlines of the open cases the changed
dates touch and records each move in the case's history.

A year is added either provisional (the statutory holidays of 《全国年节及纪念日放假办法》) or
published (the State Council's notice, from the ``holidays`` package or an uploaded file); the
notice is loaded onto a provisional year from its change page. An entry that would leave a
known year without a statutory holiday, or add 调休 to a provisional year day by day, is
refused with the reason.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse

from requests_app.calendars import library_schedule
from requests_app.models import Agency, CalendarDay, CalendarYear
from requests_app.services.calendar import (
    CalendarFileError,
    calendar_day_delete,
    calendar_day_refusal,
    calendar_file_read,
    calendar_rows_changed,
    calendar_year_load,
    calendar_year_provisional,
    calendar_year_refusal,
    calendar_year_remove,
)

from .access import CaseworkerAccessMixin, is_administrator
from .agencies import administered_agencies

WEEKDAYS = "一二三四五六日"


def _may_write(user, agency) -> bool:
    if not is_administrator(user):
        return False
    if agency is None:
        return user.is_superuser
    return administered_agencies(user).filter(pk=agency.pk).exists()


class CalendarWriteMixin(CaseworkerAccessMixin):
    def has_add_permission(self, request) -> bool:
        return is_administrator(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return is_administrator(request.user)
        return _may_write(request.user, obj.agency)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agency":
            kwargs["queryset"] = administered_agencies(request.user)
            kwargs["required"] = not request.user.is_superuser
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _check_scope(self, request, agency) -> None:
        if not _may_write(request.user, agency):
            raise PermissionDenied("不能修改该日历。")


class AgencyScopeFilter(admin.SimpleListFilter):
    title = "适用范围"
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [("national", "全国日历"), ("local", "地方日历")]

    def queryset(self, request, queryset):
        if self.value() == "national":
            return queryset.filter(agency__isnull=True)
        if self.value() == "local":
            return queryset.filter(agency__isnull=False)
        return queryset


def _moved_message(request, moved: int) -> None:
    if moved:
        messages.info(request, f"已重新计算 {moved} 件在办申请的期限，变更已记入办理记录。")


def _day_removal_refusal(rows) -> str | None:
    for row in rows:
        refusal = calendar_day_refusal(day=row.date, kind=None, agency=row.agency)
        if refusal:
            return refusal
    return None


@admin.action(description="删除所选的 节假日与调休", permissions=["delete"])
def delete_selected_days(modeladmin, request, queryset):
    """Django's bulk delete, after the check that no statutory holiday leaves a known year."""
    refusal = _day_removal_refusal(queryset.select_related("agency"))
    if refusal:
        modeladmin.message_user(request, f"未删除任何日期：{refusal}", messages.ERROR)
        return None
    return delete_selected(modeladmin, request, queryset)


class CalendarDayForm(forms.ModelForm):
    """One exceptional date; refused (with the reason) when it would take a statutory holiday
    out of a known year, or add 调休 to a provisional one day by day."""

    class Meta:
        model = CalendarDay
        fields = ("date", "kind", "name", "agency")

    def clean(self):
        data = super().clean()
        day, kind = data.get("date"), data.get("kind")
        if day is None or kind is None:
            return data
        agency = data.get("agency") if "agency" in data else self.instance.agency
        refusal = calendar_day_refusal(day=day, kind=kind, agency=agency)
        before = self.instance
        if (
            not refusal
            and before.pk
            and (before.date, before.agency_id)
            != (
                day,
                agency.pk if agency else None,
            )
        ):
            # Moving the row removes it from its old date.
            refusal = calendar_day_refusal(day=before.date, kind=None, agency=before.agency)
        if refusal:
            raise forms.ValidationError(refusal)
        return data


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarWriteMixin, admin.ModelAdmin):
    form = CalendarDayForm
    actions = [delete_selected_days]
    list_display = ("date", "weekday", "kind", "name", "scope")
    list_filter = ("kind", AgencyScopeFilter)
    date_hierarchy = "date"
    search_fields = ("name", "agency__name", "agency__code")
    list_select_related = ("agency",)
    list_per_page = 100
    fields = ("date", "kind", "name", "agency")

    @admin.display(description="星期")
    def weekday(self, obj):
        return f"星期{WEEKDAYS[obj.date.weekday()]}"

    @admin.display(description="适用范围", ordering="agency__path")
    def scope(self, obj):
        return obj.agency.name if obj.agency_id else "全国"

    def save_model(self, request, obj, form, change):
        self._check_scope(request, obj.agency)
        dates = {obj.date}
        agencies = {obj.agency_id}
        if change and obj.pk:
            before = CalendarDay.objects.get(pk=obj.pk)
            dates.add(before.date)
            agencies.add(before.agency_id)
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            moved = 0
            for agency_id in agencies:
                agency = Agency.objects.get(pk=agency_id) if agency_id else None
                moved += calendar_rows_changed(
                    dates=dates,
                    agency=agency,
                    actor=request.user,
                    description=f"{obj.date.isoformat()} {obj.kind} {obj.name}".strip(),
                )
        _moved_message(request, moved)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # replaced by delete_selected_days
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        row = self.get_object(request, unquote(object_id))
        refusal = _day_removal_refusal([row]) if row is not None else None
        if refusal:
            self.message_user(request, f"未删除：{refusal}", messages.ERROR)
            return redirect(reverse("admin:requests_app_calendarday_change", args=[row.pk]))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        self._check_scope(request, obj.agency)
        _moved_message(request, calendar_day_delete(row=obj, actor=request.user))

    def delete_queryset(self, request, queryset):
        moved = 0
        with transaction.atomic():
            for row in queryset.select_related("agency"):
                self._check_scope(request, row.agency)
                moved += calendar_day_delete(row=row, actor=request.user)
        _moved_message(request, moved)


PROVISIONAL, LIBRARY, FILE, KEEP = "provisional", "library", "file", "keep"
ARRANGEMENTS = [
    (PROVISIONAL, "暂定：按《全国年节及纪念日放假办法》载入法定节假日（国务院办公厅尚未公布安排）"),
    (LIBRARY, "已公布：从内置节假日数据载入国务院办公厅公布的安排"),
    (FILE, "已公布：上传国务院办公厅通知的安排（CSV 或 JSON 文件）"),
]


class CalendarYearForm(forms.ModelForm):
    """Add a year, or load the notice onto one: a year is either provisional (the statutory
    holidays only) or published (the notice's days) — never an empty known year."""

    arrangement = forms.ChoiceField(
        label="载入方式",
        choices=ARRANGEMENTS,
        initial=PROVISIONAL,
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
        help_text="国务院办公厅每年 11—12 月公布次年放假安排；公布前请选“暂定”，公布后载入通知即转为已公布，"
        "在办申请的期限自动重新计算。",
    )
    notice_file = forms.FileField(
        label="通知安排文件",
        required=False,
        help_text="CSV 或 JSON 文件，每天一行：日期、休或班、名称（列的写法见运维文档的“日历文件”）。"
        "只需列出工作日放假的日期和调休上班的周末。",
    )

    class Meta:
        model = CalendarYear
        fields = ("year", "agency", "source")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.schedule: tuple[str, dict, dict, str] | None = None
        if self.instance.pk:
            # An existing year: keep it, or load the notice (or reload the statutory days).
            choices = [(KEEP, "不变（只修改来源说明）"), *ARRANGEMENTS]
            if not self.instance.is_provisional:
                choices = [c for c in choices if c[0] != PROVISIONAL]
            self.fields["arrangement"].choices = choices
            self.fields["arrangement"].initial = KEEP

    def clean(self):
        data = super().clean()
        instance = self.instance
        year = instance.year if instance.pk else data.get("year")
        agency = instance.agency if instance.pk else data.get("agency")
        arrangement = data.get("arrangement")
        if year is None or arrangement in (None, KEEP):
            return data
        if agency is not None and arrangement != FILE:
            self.add_error(
                "arrangement", "地方日历只能上传文件载入（法定节假日与通知安排属全国日历）。"
            )
            return data
        if arrangement == PROVISIONAL:
            self.schedule = (PROVISIONAL, {}, {}, "")
            return data
        if arrangement == LIBRARY:
            found = library_schedule(year)
            if found is None:
                self.add_error(
                    "arrangement",
                    f"holidays 库尚无 {year} 年国务院办公厅的安排：请选择“暂定”，或上传通知的安排文件。",
                )
                return data
            names, days = found
            holidays, workdays, source = names, {d: "调休上班" for d in days}, "holidays library"
        else:
            upload = data.get("notice_file")
            if upload is None:
                self.add_error("notice_file", "请选择通知安排文件。")
                return data
            try:
                text = upload.read().decode("utf-8-sig")
                schedule, source = calendar_file_read(name=upload.name, text=text)
            except UnicodeDecodeError:
                self.add_error("notice_file", "文件须为 UTF-8 编码的文本。")
                return data
            except CalendarFileError as exc:
                self.add_error("notice_file", f"文件有误：{exc.message_zh}")
                return data
            others = sorted(y for y in schedule if y != year)
            if others:
                self.add_error(
                    "notice_file",
                    f"文件中含有 {year} 年以外的日期（{'、'.join(map(str, others))} 年），请只列出本年度。",
                )
                return data
            if year not in schedule:
                self.add_error("notice_file", f"文件中没有 {year} 年的日期。")
                return data
            holidays, workdays = schedule[year]
        refusal = calendar_year_refusal(
            year=year, holidays=holidays, workdays=workdays, agency=agency
        )
        if refusal:
            self.add_error("arrangement", refusal)
            return data
        self.schedule = (arrangement, holidays, workdays, source)
        return data


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarWriteMixin, admin.ModelAdmin):
    form = CalendarYearForm
    list_display = ("year", "scope", "status", "source", "loaded_at", "holidays", "workdays")
    list_filter = ("status", AgencyScopeFilter)
    list_select_related = ("agency",)
    ordering = ("-year",)

    @admin.display(description="适用范围")
    def scope(self, obj):
        return obj.agency.name if obj.agency_id else "全国"

    @admin.display(description="节假日数")
    def holidays(self, obj):
        return CalendarDay.objects.filter(
            agency=obj.agency, date__year=obj.year, kind=CalendarDay.Kind.HOLIDAY
        ).count()

    @admin.display(description="调休上班日数")
    def workdays(self, obj):
        return CalendarDay.objects.filter(
            agency=obj.agency, date__year=obj.year, kind=CalendarDay.Kind.WORKDAY
        ).count()

    def get_readonly_fields(self, request, obj=None):
        return ("year", "agency", "status") if obj is not None else ()

    def get_fields(self, request, obj=None):
        if obj is not None and not self.has_change_permission(request, obj):
            return ("year", "agency", "status", "source")  # read only: nothing to load
        if obj is not None:  # what the year is first, then how to load the notice onto it
            return ("year", "agency", "status", "source", "arrangement", "notice_file")
        return ("year", "agency", "source", "arrangement", "notice_file")

    def save_model(self, request, obj, form, change):
        self._check_scope(request, obj.agency)
        schedule = form.schedule
        if schedule is None:  # an existing year, only its source changed
            super().save_model(request, obj, form, change)
            return
        arrangement, holidays, workdays, source = schedule
        if arrangement == PROVISIONAL:
            result = calendar_year_provisional(year=obj.year, actor=request.user)
        else:
            result = calendar_year_load(
                year=obj.year,
                holidays=holidays,
                workdays=workdays,
                source=(obj.source if not change and obj.source else source),
                agency=obj.agency,
                actor=request.user,
            )
        saved = CalendarYear.objects.get(agency=obj.agency, year=obj.year)
        obj.pk, obj.source, obj.loaded_at, obj.status = (
            saved.pk,
            saved.source,
            saved.loaded_at,
            saved.status,
        )
        state = "暂定（仅法定节假日）" if saved.is_provisional else "已公布"
        messages.info(
            request,
            f"{obj.year} 年（{state}）：新增 {result.created} 天，更新 {result.updated} 天。",
        )
        _moved_message(request, result.cases_moved)

    def delete_model(self, request, obj):
        self._check_scope(request, obj.agency)
        _moved_message(request, calendar_year_remove(year_row=obj, actor=request.user))

    def delete_queryset(self, request, queryset):
        moved = 0
        with transaction.atomic():
            for row in queryset.select_related("agency"):
                self._check_scope(request, row.agency)
                moved += calendar_year_remove(year_row=row, actor=request.user)
        _moved_message(request, moved)
