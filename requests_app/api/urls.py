"""/api/v1/: the public API (applications, agencies) and the staff API (staff/cases)."""

from django.urls import path

from requests_app.api import proceedings, public, records, records_tasks, staff

app_name = "api"

urlpatterns = [
    path("applications/", public.ApplicationCreateView.as_view(), name="application-create"),
    path("applications/track/", public.ApplicationTrackView.as_view(), name="application-track"),
    path("agencies/", public.AgencyListView.as_view(), name="agency-list"),
    path("staff/cases/", staff.StaffCaseListView.as_view(), name="staff-case-list"),
    path("staff/cases/<int:pk>/", staff.StaffCaseDetailView.as_view(), name="staff-case-detail"),
    *[
        path(f"staff/cases/<int:pk>/{action}/", view.as_view(), name=f"staff-case-{action}")
        for action, view in staff.ACTION_VIEWS.items()
    ],
    *proceedings.urls(),  # reviews, lawsuits, complaints, fees, letters, repeat requests
    *records.urls(),  # records, their review, releases, the applicant's download, reading room
    *records_tasks.urls(),  # 交办: asking another unit for the records, and its answer
]
