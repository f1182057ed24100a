"""Operational endpoints."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods


@require_GET
def healthz(request):
    """Liveness and readiness: 200 when the database answers (503 via the middleware if not)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@require_http_methods(["GET", "POST"])
def release_download(request):
    """The page the reply e-mail links to: the applicant enters the tracking number and the
    access code (POST, never in the link) and downloads the release files. The same checks,
    throttles and audit log as the public API's ``applications/release/download/``."""
    from requests_app.api.records import applicant_release, release_file_response
    from requests_app.api.throttling import TrackingFailureThrottle, TrackingThrottle
    from requests_app.services.errors import CaseNotFound
    from requests_app.services.records import log_download

    context = {"tracking_number": request.GET.get("n", "")[:32], "error": "", "files": None}
    status = 200
    if request.method == "POST":
        number = request.POST.get("tracking_number", "").strip()[:32]
        code = request.POST.get("access_code", "").strip()[:64]
        context["tracking_number"] = number
        throttles = (TrackingThrottle(), TrackingFailureThrottle())
        if not all(t.allow_request(request, None) for t in throttles):
            context["error"] = "尝试次数过多，请稍后再试。"
            status = 429
        elif not number or not code:
            context["error"] = "请填写申请编号和查询码。"
            status = 400
        else:
            try:
                case, release = applicant_release(
                    request, None, {"tracking_number": number, "access_code": code}
                )
            except CaseNotFound as exc:
                context["error"] = exc.message
                status = 404
            else:
                wanted = request.POST.get("file", "")
                if wanted.isdigit():
                    item = release.files.filter(pk=int(wanted[:18])).first()
                    if item is not None:
                        log_download(
                            who="applicant",
                            case=case,
                            what=f"release:{release.pk}:{item.pk}",
                            via="download-page",
                        )
                        return release_file_response(item, case)
                context.update(files=list(release.files.all()), access_code=code)
    return render(request, "requests_app/release_download.html", context, status=status)
