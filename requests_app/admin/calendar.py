"""The working-day calendar in the admin: holidays, 调休 working days, and the known years.

Every caseworker reads the calendar. Superusers change the national calendar; an administrator
changes the local calendar of the agencies in their subtree. Every save or delete goes through
``requests_app.services.calendar``, which moves the deadlines of the open cases the changed
dates touch and records each move in the case's history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction

from requests_app.calendars import LIBRARY_SOURCE, library_schedule
from requests_app.models import Agency, CalendarDay, CalendarYear
from requests_app.services.calendar import (
    calendar_day_delete,
    calendar_rows_changed,
    calendar_year_load,
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


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarWriteMixin, admin.ModelAdmin):
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


class CalendarYearForm(forms.ModelForm):
    seed_from_library = forms.BooleanField(
        label="从内置节假日数据载入该年节假日与调休",
        required=False,
        initial=True,
        help_text="国务院办公厅公布次年安排后，系统内置的节假日数据更新即可直接载入；否则请先逐日录入后再保存本年度。",
    )

    class Meta:
        model = CalendarYear
        fields = ("year", "agency", "source")


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarWriteMixin, admin.ModelAdmin):
    form = CalendarYearForm
    list_display = ("year", "scope", "source", "loaded_at", "holidays", "workdays")
    list_filter = (AgencyScopeFilter,)
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
        return ("year", "scope") if obj is not None else ()

    def get_fields(self, request, obj=None):
        # A loaded year: its year and scope (全国 or the agency) fixed, its source editable.
        if obj is not None:
            return ("year", "scope", "source")
        return super().get_fields(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["fields"] = ("source",)
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request, obj, form, change):
        self._check_scope(request, obj.agency)
        if change:
            super().save_model(request, obj, form, change)
            return
        holidays: dict = {}
        workdays: dict = {}
        source = obj.source or "管理员录入"
        if form.cleaned_data.get("seed_from_library") and obj.agency is None:
            found = library_schedule(obj.year)
            if found is None:
                messages.warning(
                    request, f"内置节假日数据尚无 {obj.year} 年安排，已按已录入的日期保存该年度。"
                )
            else:
                holidays, days = found
                workdays = {d: "调休上班" for d in days}
                source = obj.source or LIBRARY_SOURCE
        result = calendar_year_load(
            year=obj.year,
            holidays=holidays,
            workdays=workdays,
            source=source,
            agency=obj.agency,
            actor=request.user,
        )
        saved = CalendarYear.objects.get(agency=obj.agency, year=obj.year)
        obj.pk, obj.source, obj.loaded_at = saved.pk, saved.source, saved.loaded_at
        messages.info(
            request,
            f"{obj.year} 年：新增 {result.created} 天，更新 {result.updated} 天。",
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
