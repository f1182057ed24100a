"""重复申请 (条例 Art 36(六)): flag a new application that repeats the same applicant's earlier one.

The check stores a hash of the applicant's identity with the case and compares the description
with that applicant's earlier applications to the same agency (the most recent
``REPEAT_LOOKBACK``), by character-bigram Jaccard similarity (``requests_app.similarity``). At
or above the threshold (setting ``DISCLOSURE["REPEAT_SIMILARITY"]``, default 0.6) the most
similar earlier case is recorded as the one repeated. The flag informs the caseworker;
deciding that the application is a 重复申请 (the outcome ``duplicate``) stays theirs.

When it runs:

- counter intake (``case_intake``): at once, ``repeat_check_record``;
- the history import (``import_cases``): at once, for each batch of cases
  (``RepeatChecks``), with the result the counter's check gives each;
- the public submission (``case_submit``): ``repeat_check_pending`` writes the row with the
  hash only (one insert, no read: the submission path stays a few queries), and the sweep
  (``repeat_checks_complete``, every ``SWEEP_INTERVAL_SECONDS``) or the first staff read of the
  case's legal records completes it. Because the pending row already carries the hash, a
  later application is compared with this one even before this one's own check has run.

"Earlier" is by case id: the applications that existed when this one arrived.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from operator import attrgetter
from typing import NamedTuple

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
    return _alike(description, earlier)


def _alike(description: str, earlier) -> list[tuple[int, float, object]]:
    """Of ``earlier`` — (case id, description, anything), newest first, at most
    ``REPEAT_LOOKBACK`` — those at least ``repeat_threshold()`` alike: (case id, similarity,
    the third value), most similar first; among equals the most recent (the order given)."""
    mine = bigrams(description)
    threshold = repeat_threshold()
    found = []
    for earlier_id, earlier_description, extra in earlier:
        score = jaccard(mine, bigrams(earlier_description))
        if score >= threshold and score > 0:
            found.append((earlier_id, round(score, 4), extra))
    found.sort(key=lambda row: -row[1])
    return found


class RepeatResult(NamedTuple):
    """A checked ``RepeatCheck`` row, by column."""

    case_id: int
    agency_id: int
    applicant_key: str
    repeats_id: int | None
    similarity: float
    checked_at: object


class RepeatChecks:
    """The 重复申请 checks of many new cases at once (the history import), each with the result
    ``repeat_check_record`` gives it when the cases are created one by one in the order of
    their ids: compared with the applicant's earlier applications to the agency — those
    stored, read in one query per batch, and those of the last batches of this run, which may
    not be written yet (the importer writes one batch while it prepares the next)."""

    KEPT_BATCHES = 3

    def __init__(self):
        self.recent: dict[object, list[tuple[int, str, int, str]]] = {}
        self.lock = threading.Lock()

    def check(self, cases: list[Case], *, batch) -> list[RepeatResult]:
        """The checked rows of ``cases`` (with their ids) as ``RepeatResult`` values, the
        columns of ``RepeatCheck``; ``batch`` names the batch (checking a batch again, with new
        ids, replaces what it said before)."""
        if not cases:
            return []
        keyed = [(case, case_applicant_key(case)) for case in sorted(cases, key=attrgetter("pk"))]
        pairs = {(case.agency_id, key) for case, key in keyed}
        first = keyed[0][0].pk
        earlier: dict[tuple[int, str], dict[int, str]] = defaultdict(dict)
        stored = RepeatCheck.objects.filter(
            agency_id__in={a for a, _ in pairs},
            applicant_key__in={k for _, k in pairs},
            case_id__lt=first,
        ).values_list("agency_id", "applicant_key", "case_id", "case__description")
        with self.lock:
            self.recent.pop(batch, None)
            pending = [row for rows in self.recent.values() for row in rows]
        for agency_id, key, case_id, description in (*stored, *pending):
            if (agency_id, key) in pairs and case_id < first:
                earlier[(agency_id, key)][case_id] = description
        now = timezone.now()
        checked = []
        for case, key in keyed:
            mine = earlier[(case.agency_id, key)]
            repeats_id, similarity = None, 0.0
            if mine:  # (most applicants have applied to the agency once)
                newest = sorted(mine, reverse=True)[:REPEAT_LOOKBACK]
                found = _alike(case.description, ((pk, mine[pk], None) for pk in newest))
                if found:
                    repeats_id, similarity = found[0][0], found[0][1]
            checked.append(RepeatResult(case.pk, case.agency_id, key, repeats_id, similarity, now))
            mine[case.pk] = case.description
        with self.lock:
            self.recent[batch] = [
                (case.agency_id, key, case.pk, case.description) for case, key in keyed
            ]
            while len(self.recent) > self.KEPT_BATCHES:
                del self.recent[next(iter(self.recent))]
        return checked


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
