from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from audit import admin_views as audit_admin_views
from audit import api as audit_api
from requests_app.views import healthz, release_download
from signin import api as signin_api

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The applicant's download of a release (the reply e-mail links here).
    path("release/", release_download, name="release-download"),
    # Before the admin and the API: a case's history export (audit/).
    *audit_admin_views.urls(),
    *audit_api.urls(),
    *signin_api.urls(),
    path("", include("signin.urls")),  # OpenID Connect sign-in
    path("admin/", admin.site.urls),
    # set_language: the admin's language switch (Chinese unless English is chosen there).
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("requests_app.api.urls")),
    path("api/v1/staff/reports/", include("reporting.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (no inline script); its
    # page keeps one inline <style>, allowed for this page only.
    path(
        "api/docs/",
        csp_update({"style-src": ["'unsafe-inline'"]})(
            SpectacularSwaggerSplitView.as_view(url_name="schema")
        ),
        name="api-docs",
    ),
    # The captcha's images (django-simple-captcha, served by the project itself).
    path("captcha/", include("captcha.urls")),
    # The applicants' own pages, at the root (portal/).
    path("", include("portal.urls")),
]

# Unknown URLs under /api/ answer with the API's JSON error shape.
handler404 = "requests_app.api.errors.not_found"
# Bodies over DATA_UPLOAD_MAX_MEMORY_SIZE (413) and other refused requests, likewise.
handler400 = "requests_app.api.http_errors.bad_request"
