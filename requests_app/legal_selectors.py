"""Reads for reviews, lawsuits, complaints, fee notices, letters and repeat requests, scoped
by the same rules as the cases (``requests_app.permissions``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from requests_app.models import (
    Agency,
    Case,
    Complaint,
    FeeNotice,
    Lawsuit,
    Letter,
    LetterTemplate,
    RepeatCheck,
    Review,
)
from requests_app.permissions import caseworker_of, visible_cases_filter
from requests_app.services.errors import CaseNotFound
from requests_app.similarity import applicant_identity, bigrams

DEFAULT_RECENT_CASES = 500
DEFAULT_MIN_APPLICANTS = 2
DEFAULT_SIMILARITY = 0.6


def _scoped(model, user) -> QuerySet:
    condition = visible_cases_filter(user, prefix="case__")
    if condition is None:
        return model.objects.none()
    return model.objects.filter(condition)


def review_list(*, user, case: Case | None = None) -> QuerySet[Review]:
    qs = _scoped(Review, user).select_related("case", "case__agency")
    return qs.filter(case=case) if case is not None else qs


def lawsuit_list(*, user, case: Case | None = None) -> QuerySet[Lawsuit]:
    qs = _scoped(Lawsuit, user).select_related("case", "case__agency", "appeal_of", "review")
    return qs.filter(case=case) if case is not None else qs


def fee_notice_list(*, user, case: Case | None = None) -> QuerySet[FeeNotice]:
    qs = _scoped(FeeNotice, user).select_related("case")
    return qs.filter(case=case) if case is not None else qs


def letter_list(*, user, case: Case | None = None) -> QuerySet[Letter]:
    qs = _scoped(Letter, user).select_related("case", "agency")
    return qs.filter(case=case) if case is not None else qs


def _get(qs: QuerySet, pk: int, what: str):
    found = qs.filter(pk=pk).first() if pk < 2**63 else None
    if found is None:
        raise CaseNotFound(f"未找到该{what}。", f"No such {what}.")
    return found


def review_get(*, user, pk: int) -> Review:
    return _get(review_list(user=user), pk, "行政复议")


def lawsuit_get(*, user, pk: int) -> Lawsuit:
    return _get(lawsuit_list(user=user), pk, "行政诉讼")


def letter_get(*, user, pk: int) -> Letter:
    return _get(letter_list(user=user), pk, "文书")


def complaint_list(*, user) -> QuerySet[Complaint]:
    """Complaints about an agency the user sees, or received by one (a supervising office
    sees what it received)."""
    qs = Complaint.objects.select_related("agency", "received_by", "case")
    if user is not None and user.is_superuser:
        return qs
    worker = caseworker_of(user)
    if worker is None:
        return qs.none()
    path = worker.agency.path
    return qs.filter(
        Q(agency__path__startswith=path)
        | Q(received_by__path__startswith=path)
        | Q(received_by_id=worker.agency_id)
    )


def complaint_get(*, user, pk: int) -> Complaint:
    return _get(complaint_list(user=user), pk, "投诉举报")


def letter_template_list(*, user) -> QuerySet[LetterTemplate]:
    qs = LetterTemplate.objects.select_related("agency")
    if user is not None and user.is_superuser:
        return qs
    worker = caseworker_of(user)
    if worker is None:
        return qs.none()
    return qs.filter(agency__path__startswith=worker.agency.path)


def repeat_flags(*, user) -> QuerySet[RepeatCheck]:
    """Applications flagged as repeating the same applicant's earlier one (重复申请)."""
    condition = visible_cases_filter(user, prefix="case__")
    if condition is None:
        return RepeatCheck.objects.none()
    return (
        RepeatCheck.objects.filter(condition, repeats__isnull=False)
        .select_related("case", "repeats")
        .order_by("-case_id")
    )


# --- Art 44: information asked for by several applicants -----------------------------------
@dataclass(frozen=True)
class RepeatedRequest:
    """A group of similar applications: the information, who asked, and the cases."""

    description: str  # the group's earliest description, as the applicant wrote it
    applicants: int  # distinct applicants
    case_ids: tuple[int, ...]
    tracking_numbers: tuple[str, ...]
    disclosed: int  # how many of them were answered 予以公开/部分公开/已主动公开
    min_similarity: float  # the weakest link that joined the group

    def as_dict(self) -> dict:
        return {
            "description": self.description,
            "applicants": self.applicants,
            "cases": len(self.case_ids),
            "case_ids": list(self.case_ids),
            "tracking_numbers": list(self.tracking_numbers),
            "disclosed": self.disclosed,
            "min_similarity": round(self.min_similarity, 4),
        }


DISCLOSED_OUTCOMES = frozenset({"already_public", "disclosed", "partially_disclosed"})


def repeated_requests(
    *,
    agency: Agency,
    recent: int = DEFAULT_RECENT_CASES,
    threshold: float = DEFAULT_SIMILARITY,
    min_applicants: int = DEFAULT_MIN_APPLICANTS,
) -> list[RepeatedRequest]:
    """Information asked for by ``min_applicants`` or more applicants among the agency's last
    ``recent`` received applications (条例 Art 44: candidates for proactive disclosure).

    Two applications are alike when the Jaccard similarity of their descriptions' character
    bigrams is at least ``threshold``; groups are the connected sets of alike applications.
    Pairs are found through an inverted index (bigram → applications), so only applications
    sharing a bigram are compared, and the shared counts give the intersections directly.
    """
    rows = list(
        Case.objects.filter(agency=agency, received_on__isnull=False)
        .order_by("-received_on", "-pk")
        .values_list(
            "pk",
            "tracking_number",
            "description",
            "id_number",
            "applicant_name",
            "phone",
            "outcome",
        )[:recent]
    )
    rows.reverse()  # oldest first: a group is described by its earliest application
    grams = [bigrams(row[2]) for row in rows]
    index: dict[str, list[int]] = defaultdict(list)
    for i, gs in enumerate(grams):
        for g in gs:
            index[g].append(i)
    parent = list(range(len(rows)))
    weakest: dict[int, float] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    links: list[tuple[int, int, float]] = []
    for i, gs in enumerate(grams):
        shared: dict[int, int] = defaultdict(int)
        for g in gs:
            for j in index[g]:
                if j > i:
                    shared[j] += 1
        for j, n in shared.items():
            score = n / (len(gs) + len(grams[j]) - n)
            if score >= threshold:
                links.append((i, j, score))
    # Strongest links first (Kruskal): a group's weakest joining link is its bottleneck.
    for i, j, score in sorted(links, key=lambda link: -link[2]):
        a, b = find(i), find(j)
        if a != b:
            parent[b] = a
            weakest[a] = min(score, weakest.get(a, 1.0), weakest.get(b, 1.0))
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(rows)):
        groups[find(i)].append(i)
    found = []
    for root, members in groups.items():
        if len(members) < 2:
            continue
        people = {
            applicant_identity(id_number=rows[m][3], name=rows[m][4], phone=rows[m][5])
            for m in members
        }
        if len(people) < min_applicants:
            continue
        found.append(
            RepeatedRequest(
                description=rows[members[0]][2],
                applicants=len(people),
                case_ids=tuple(rows[m][0] for m in members),
                tracking_numbers=tuple(rows[m][1] for m in members),
                disclosed=sum(1 for m in members if rows[m][6] in DISCLOSED_OUTCOMES),
                min_similarity=weakest.get(root, 1.0),
            )
        )
    found.sort(key=lambda r: (-r.applicants, -len(r.case_ids), r.case_ids[0]))
    return found
