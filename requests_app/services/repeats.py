"""重复申请 (条例 Art 36(六)): flag a new application that repeats the same applicant's earlier one.

The check stores a hash of the applicant's identity with the case and compares the description
with that applicant's earlier applications to the same agency (the most recent
``REPEAT_LOOKBACK``), by character-bigram Jaccard similarity (``requests_app.similarity``). At
or above the threshold (setting ``DISCLOSURE["REPEAT_SIMILARITY"]``, default 0.6) the most
similar earlier case is recorded as the one repeated. The flag informs the caseworker;
deciding that the application is a 重复申请 (the outcome ``duplicate``) stays theirs.

When it runs:

- counter intake (``case_intake``): at once, ``repeat_check_record``;
- the public submission (``case_submit``): ``repeat_check_pending`` writes the row with the
  hash only (one insert, no read: the submission path stays a few queries), and the sweep
  (``repeat_checks_complete``, every ``SWEEP_INTERVAL_SECONDS``) or the first staff read of the
  case's legal records completes it. Because the pending row already carries the hash, a
  later application is compared with this one even before this one's own check has run.

"Earlier" is by case id: the applications that existed when this one arrived.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from requests_app.models import Case, RepeatCheck
from requests_app.similarity import applicant_key, bigrams, jaccard

REPEAT_LOOKBACK = 50
DEFAULT_REPEAT_SIMILARITY = 0.6
COMPLETE_BATCH = 200


def repeat_threshold() -> float:
    return float(settings.DISCLOSURE.get("REPEAT_SIMILARITY", DEFAULT_REPEAT_SIMILARITY))


def case_applicant_key(case: Case) -> str:
    return applicant_key(id_number=case.id_number, name=case.applicant_name, phone=case.phone)


def _most_similar(
    *, case_id: int, agency_id: int, key: str, description: str
) -> tuple[int | None, float]:
    """(the earlier case repeated, its similarity) or (None, 0.0) below the threshold."""
    found = repeat_candidates(
        agency_id=agency_id, key=key, description=description, before_case_id=case_id
    )
    if not found:
        return None, 0.0
    best_id, best, _submitted_at = found[0]
    return best_id, best


def repeat_candidates(
    *, agency_id: int, key: str, description: str, before_case_id: int | None = None
) -> list[tuple[int, float, object]]:
    """The applicant's (``key``) recent applications to the agency whose description is at
    least ``repeat_threshold()`` alike: (case id, similarity, submitted at), most similar
    first. A read: the applicant's pages ask it before submitting."""
    earlier = RepeatCheck.objects.filter(agency_id=agency_id, applicant_key=key)
    if before_case_id is not None:
        earlier = earlier.filter(case_id__lt=before_case_id)
    earlier = earlier.order_by("-case_id").values_list(
        "case_id", "case__description", "case__submitted_at"
    )[:REPEAT_LOOKBACK]
    mine = bigrams(description)
    threshold = repeat_threshold()
    found = []
    for earlier_id, earlier_description, submitted_at in earlier:
        score = jaccard(mine, bigrams(earlier_description))
        if score >= threshold and score > 0:
            found.append((earlier_id, round(score, 4), submitted_at))
    # The most similar first; among equals the most recent (the order read), as before.
    found.sort(key=lambda row: -row[1])
    return found


def repeat_check_pending(*, case: Case) -> RepeatCheck:
    """The row of a new case with the applicant's hash and no result yet (one insert)."""
    return RepeatCheck.objects.create(
        case=case, agency_id=case.agency_id, applicant_key=case_applicant_key(case)
    )


def repeat_check_record(*, case: Case) -> RepeatCheck:
    """Check ``case`` against the applicant's earlier applications to its agency and store
    the result; completes a pending row. Idempotent: a checked case returns its stored row."""
    existing = RepeatCheck.objects.filter(case=case).first()
    if existing is not None and existing.checked_at is not None:
        return existing
    key = case_applicant_key(case)
    repeats_id, similarity = _most_similar(
        case_id=case.pk, agency_id=case.agency_id, key=key, description=case.description
    )
    if existing is None:
        return RepeatCheck.objects.create(
            case=case,
            agency_id=case.agency_id,
            applicant_key=key,
            repeats_id=repeats_id,
            similarity=similarity,
            checked_at=timezone.now(),
        )
    # A concurrent completion writes the same result: the condition keeps the first one.
    RepeatCheck.objects.filter(pk=existing.pk, checked_at__isnull=True).update(
        applicant_key=key, repeats_id=repeats_id, similarity=similarity, checked_at=timezone.now()
    )
    return RepeatCheck.objects.get(pk=existing.pk)


def repeat_checks_complete(*, limit: int = 5000) -> int:
    """Complete the pending checks, oldest first, in short transactions of ``COMPLETE_BATCH``
    rows claimed with ``SKIP LOCKED`` (two sweeps at once share the work). Returns how many."""
    done = 0
    while done < limit:
        with transaction.atomic():
            batch = list(
                RepeatCheck.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(checked_at__isnull=True)
                .order_by("case_id")
                .values_list("case_id", "agency_id", "applicant_key", "case__description")[
                    : min(COMPLETE_BATCH, limit - done)
                ]
            )
            if not batch:
                break
            now = timezone.now()
            for case_id, agency_id, key, description in batch:
                repeats_id, similarity = _most_similar(
                    case_id=case_id, agency_id=agency_id, key=key, description=description
                )
                RepeatCheck.objects.filter(case_id=case_id).update(
                    repeats_id=repeats_id, similarity=similarity, checked_at=now
                )
            done += len(batch)
    return done
