"""/api/v1/staff/reports/: the annual reports in the staff API (``reporting.api``)."""

from django.urls import path

from . import api

app_name = "reports"

urlpatterns = [
    path("", api.ReportListView.as_view(), name="list"),
    path("computed/", api.ReportComputedView.as_view(), name="computed"),
    path(
        "computed/cells/<slug:key>/<slug:column>/",
        api.ReportComputedCellView.as_view(),
        name="computed-cell",
    ),
    path("generate/", api.ReportGenerateView.as_view(), name="generate"),
    path("<int:pk>/", api.ReportDetailView.as_view(), name="detail"),
    path("<int:pk>/publish/", api.ReportPublishView.as_view(), name="publish"),
    path("<int:pk>/cells/<slug:key>/<slug:column>/", api.ReportCellView.as_view(), name="cell"),
]
