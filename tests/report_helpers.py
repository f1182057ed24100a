"""Helpers for the report tests: agencies and case rows written directly.

The report engine reads only the stored columns (received_on, concluded_on, outcome,
applicant_type, channel, is_extended), so its unit tests write those columns directly; the
end-to-end tests (Anshun 2018, carry-over) build cases through the import instead.
"""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from requests_app.choices import CaseState
from requests_app.models import Agency, Case

_numbers = itertools.count(1)


def agency(
    code: str, parent: Agency | None = None, kind: str = "department", name: str = ""
) -> Agency:
    return Agency.objects.create(code=code, name=name or code, parent=parent, kind=kind)


def city_tree() -> dict[str, Agency]:
    """A city government with its office, a district and the district's street."""
    city = agency("city", kind="government", name="安顺市人民政府")
    office = agency("city-office", city, kind="office", name="安顺市人民政府办公室")
    district = agency("xixiu", city, kind="district", name="西秀区人民政府")
    street = agency("xixiu-nanhua", district, kind="street", name="南华街道")
    return {"city": city, "office": office, "district": district, "street": street}


def case_row(
    agency: Agency,
    *,
    received_on: dt.date | None,
    concluded_on: dt.date | None = None,
    outcome: str = "",
    applicant_type: str = "natural_person",
    channel: str = "online",
    is_extended: bool = False,
) -> Case:
    n = next(_numbers)
    if concluded_on is not None:
        state = (
            CaseState.CLOSED
            if outcome in ("withdrawn", "abandoned_no_fee", "abandoned_no_supplement")
            else CaseState.REPLIED
        )
        outcome = outcome or "disclosed"
    else:
        state = CaseState.PROCESSING if received_on else CaseState.SUBMITTED
    submitted = received_on or concluded_on or dt.date(2018, 1, 1)
    return Case.objects.create(
        tracking_number=f"T{n:08d}",
        agency=agency,
        applicant_type=applicant_type,
        applicant_name="张三",
        description="申请公开……",
        channel=channel,
        submitted_at=timezone.make_aware(dt.datetime.combine(submitted, dt.time(9))),
        received_on=received_on,
        concluded_on=concluded_on,
        outcome=outcome,
        state=state,
        is_extended=is_extended,
    )
