"""What a case's review (区分处理) decides, read from its records: which pages are released,
what is withheld on which basis, which reply outcome agrees with it, and the fingerprint a
release copy is built from. Reads only; the services call it (the reply service to refuse an
outcome that disagrees, the records services to build the release).

The rules (条例 Art 37; docs/law.md, 'Outcomes (Arts 36–39)'): anything withheld while
something is released → 部分公开; everything withheld → a 不予公开 outcome naming one of the
bases used; nothing withheld → 予以公开. Pages 与申请无关 or 重复 are neither released nor withheld.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from requests_app.choices import (
    RELEASED_DECISIONS,
    WITHHELD_OUTCOMES,
    Outcome,
    PageDecision,
    RecordPurpose,
    WithholdBasis,
)
from requests_app.models import Case, Record, Release
from requests_app.services.errors import TransitionRefused


@dataclass
class WithheldRow:
    """One line of the 区分处理 说明: a record, its pages, a basis and the reason."""

    record: str
    pages: list[int]
    basis: str  # WithholdBasis code
    reasons: list[str] = field(default_factory=list)
    whole_pages: bool = False

    @property
    def basis_label(self) -> str:
        return str(WithholdBasis(self.basis).label)

    @property
    def pages_label(self) -> str:
        return page_ranges(self.pages)

    @property
    def reason(self) -> str:
        text = "；".join(dict.fromkeys(r for r in self.reasons if r))
        if text:
            return text
        return "整页不予公开" if self.whole_pages else "遮盖相关内容"


@dataclass
class ReviewSummary:
    has_records: bool = False
    unreviewable: list[str] = field(default_factory=list)  # titles of records without a PDF
    undecided: list[str] = field(default_factory=list)  # "标题 第3页"
    empty_partial: list[str] = field(default_factory=list)  # 部分公开 pages with no region
    released_pages: int = 0
    withheld_pages: int = 0
    regions: int = 0
    bases: list[str] = field(default_factory=list)  # WithholdBasis codes used, in list order
    rows: list[WithheldRow] = field(default_factory=list)

    @property
    def is_complete(self) -> bool:
        return not (self.unreviewable or self.undecided or self.empty_partial)

    @property
    def withholds_anything(self) -> bool:
        return bool(self.withheld_pages or self.regions)

    @property
    def releases_anything(self) -> bool:
        return bool(self.released_pages)


def page_ranges(pages: list[int]) -> str:
    """1-based page numbers as ranges: [1, 2, 3, 5] → "第1–3、5页"."""
    numbers = sorted(set(pages))
    parts: list[str] = []
    start = prev = None
    for n in numbers:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            parts.append(f"{start}–{prev}" if start != prev else str(start))
            start = prev = n
    if start is not None:
        parts.append(f"{start}–{prev}" if start != prev else str(start))
    return f"第{'、'.join(parts)}页" if parts else ""


def _records(case: Case):
    # Proofs of service (送达回证) are kept with the case but never reviewed nor released.
    return (
        Record.objects.filter(case=case, purpose=RecordPurpose.RESPONSIVE)
        .prefetch_related("pages__regions")
        .order_by("pk")
    )


def review_summary(case: Case) -> ReviewSummary:
    summary = ReviewSummary()
    if case.pk is None:
        # A case not stored yet (a history the importer replays in memory) has no records.
        return summary
    used: set[str] = set()
    for record in _records(case):
        summary.has_records = True
        if not record.is_reviewable:
            summary.unreviewable.append(record.title)
            continue
        rows: dict[tuple[str, bool], WithheldRow] = {}
        for page in record.pages.all():
            label = f"《{record.title}》第{page.number}页"
            regions = list(page.regions.all())
            if not page.decision:
                summary.undecided.append(label)
                continue
            if page.decision in RELEASED_DECISIONS:
                summary.released_pages += 1
                if page.decision == PageDecision.PARTIAL and not regions:
                    summary.empty_partial.append(label)
                for region in regions:
                    summary.regions += 1
                    used.add(region.basis)
                    row = rows.setdefault(
                        (region.basis, False), WithheldRow(record.title, [], region.basis)
                    )
                    row.pages.append(page.number)
                    row.reasons.append(region.reason)
            elif page.decision == PageDecision.WITHHOLD:
                summary.withheld_pages += 1
                used.add(page.basis)
                row = rows.setdefault(
                    (page.basis, True),
                    WithheldRow(record.title, [], page.basis, whole_pages=True),
                )
                row.pages.append(page.number)
                row.reasons.append(page.reason)
        for row in rows.values():
            row.pages = sorted(set(row.pages))
        summary.rows.extend(rows.values())
    summary.bases = [code for code in WithholdBasis.values if code in used]
    return summary


def agreeing_outcomes(summary: ReviewSummary) -> frozenset[str] | None:
    """The reply outcomes that agree with the review; ``None`` when the case has no records
    (the review says nothing)."""
    if not summary.has_records:
        return None
    if summary.releases_anything and summary.withholds_anything:
        return frozenset({Outcome.PARTIALLY_DISCLOSED})
    if summary.releases_anything:
        return frozenset({Outcome.DISCLOSED})
    if summary.withholds_anything:
        return frozenset(summary.bases)
    # Every page is unrelated or a duplicate: nothing released, nothing withheld.
    return frozenset(
        o for o in Outcome.values if o not in WITHHELD_OUTCOMES and o not in _DISCLOSING
    )


_DISCLOSING = {Outcome.DISCLOSED, Outcome.PARTIALLY_DISCLOSED}


def check_reply_agrees(case: Case, outcome: str) -> ReviewSummary:
    """Refuse (TransitionRefused, saying why) a reply outcome that disagrees with the review,
    or a review that is not finished. Returns the summary."""
    summary = review_summary(case)
    allowed = agreeing_outcomes(summary)
    if allowed is None:
        return summary
    if summary.unreviewable:
        titles = "、".join(f"《{t}》" for t in summary.unreviewable)
        raise TransitionRefused(
            f"文件{titles}尚未转换为 PDF，不能审查；请转换后重新上传或删除。",
            "Some records are not reviewable yet (convert them to PDF or remove them).",
        )
    if summary.undecided:
        raise TransitionRefused(
            f"尚有页面未作审查决定：{'、'.join(summary.undecided[:5])}"
            f"{'等' if len(summary.undecided) > 5 else ''}。",
            f"{len(summary.undecided)} page(s) have no review decision yet.",
        )
    if summary.empty_partial:
        raise TransitionRefused(
            f"以下页面标为部分公开但没有标注不予公开区域：{'、'.join(summary.empty_partial[:5])}。",
            "A page marked partially disclosed has no region.",
        )
    if outcome not in allowed:
        raise TransitionRefused(
            f"答复结果“{Outcome(outcome).label}”与审查结果不一致：{expected_text(summary)}",
            f"The outcome '{outcome}' disagrees with the review; expected one of: "
            f"{', '.join(sorted(allowed))}.",
        )
    return summary


def expected_text(summary: ReviewSummary) -> str:
    if summary.releases_anything and summary.withholds_anything:
        return "部分内容不予公开，应答复“部分公开”。"
    if summary.releases_anything:
        return "没有不予公开的内容，应答复“予以公开”。"
    if summary.withholds_anything:
        labels = "、".join(str(Outcome(code).label) for code in summary.bases)
        return f"全部内容不予公开，应答复为所用依据之一：{labels}。"
    return "全部页面与申请无关或重复，不能答复公开或不予公开。"


def review_legal_basis(summary: ReviewSummary, outcome: str) -> str:
    """The legal basis the reply cites for ``outcome``: Art 37 with the bases of what was
    withheld, or the withheld outcome's own articles."""
    from requests_app.services.cases import default_legal_basis

    base = default_legal_basis(outcome)
    if outcome == Outcome.PARTIALLY_DISCLOSED and summary.bases:
        articles = "、".join(
            dict.fromkeys(str(WithholdBasis(b).label).split(" ")[0] for b in summary.bases)
        )
        return f"{base}；不予公开部分依据《政府信息公开条例》{articles}"
    others = [b for b in summary.bases if b != outcome]
    if outcome in WITHHELD_OUTCOMES and others:
        # Everything withheld on several grounds: the reply names each of them.
        labels = "、".join(str(WithholdBasis(b).label) for b in others)
        return f"{base}；另依据《政府信息公开条例》{labels}"
    return base


def review_fingerprint(case: Case) -> str:
    """SHA-256 of everything a release copy is built from: the records (by content) and every
    page's decision, basis and regions. Equal fingerprints build the same release."""
    state = []
    for record in _records(case):
        pages = []
        for page in record.pages.all():
            regions = sorted(
                (round(r.x0, 2), round(r.y0, 2), round(r.x1, 2), round(r.y1, 2), r.basis)
                for r in page.regions.all()
            )
            pages.append([page.index, page.decision, page.basis, regions])
        state.append([record.pk, record.sha256, bool(record.review_pdf), pages])
    text = json.dumps([case.tracking_number, state], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# --- the release copy the reply rests on -------------------------------------------------
def release_current(case: Case) -> Release | None:
    """The latest release if it was built from the review as it is now, else ``None``."""
    latest = Release.objects.filter(case=case).order_by("-sequence").first()
    if latest is not None and latest.fingerprint == review_fingerprint(case):
        return latest
    return None


def release_approved(case: Case) -> Release | None:
    """The release the office head approved last (what the applicant receives)."""
    return (
        Release.objects.filter(case=case, approved_at__isnull=False).order_by("-sequence").first()
    )


def release_check_for_reply(case: Case, summary) -> Release | None:
    """For a reply that releases something: the release built from the review as it is now
    (TransitionRefused when there is none). ``None`` when the reply releases nothing."""
    if not summary.has_records or not summary.releases_anything:
        return None
    release = release_current(case)
    if release is None:
        raise TransitionRefused(
            "请先根据当前审查结果生成公开文本（审查结果在上次生成后有改动，或尚未生成）。",
            "Build the release copy from the current review first.",
        )
    return release
