"""The product's URLs plus the bench's bare view: the floor the submission API is compared
with. It inserts the same case row the API inserts, and nothing else: no validation beyond
parsing, no history event, no idempotency, no clock, no DRF.

Like the API, it draws the random tracking number again when the one drawn is taken: a run
inserts tens of thousands of cases on one day, so a collision of the 30-bit daily suffix is
expected about once per run, and without the retry it answered that request with a 500 (the
"1 error in 20,680" of the first full run)."""

import json

from django.db import IntegrityError
from django.http import JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.urls import urlpatterns as product_urlpatterns
from requests_app.models import Agency, Case
from requests_app.services.intake import (
    CASE_FIELDS,
    hash_access_code,
    new_access_code,
    new_tracking_number,
)


@csrf_exempt
@require_POST
def bare_insert(request):
    data = json.loads(request.body)
    agency_id = Agency.objects.filter(code=data["agency"]).values_list("pk", flat=True).get()
    now = timezone.now()
    for _attempt in range(5):
        try:  # autocommit: a refused insert leaves no transaction to roll back
            case = Case.objects.create(
                agency_id=agency_id,
                channel="online",
                submitted_at=now,
                tracking_number=new_tracking_number(timezone.localdate(now)),
                access_code_hash=hash_access_code(new_access_code()),
                **{name: data[name] for name in CASE_FIELDS if name in data},
            )
        except IntegrityError:
            continue
        return JsonResponse({"tracking_number": case.tracking_number}, status=201)
    return JsonResponse({"error": "no tracking number"}, status=409)


urlpatterns = [path("bench/bare-insert/", bare_insert), *product_urlpatterns]
