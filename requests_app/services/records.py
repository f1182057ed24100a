"""Records and their review: upload, page decisions, regions, suggestions, the release copy,
the reading room. Each action is one function, one transaction, one ``CaseEvent``
(``services.cases.case_perform_action``); the PDF work is the pure ``redaction`` package.

- A change to the review while the reply is approved sends the case back for approval
  (``Case.return_for_approval``) in the same step: the approved release no longer stands.
- Once the reply is served (or the case closed) the review is fixed; reopening the case
  opens it again.
- Files are written to the ``records`` storage inside the step; when the step fails, what it
  wrote is deleted again, so a refused upload stores nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

import redaction
from requests_app.choices import (
    RELEASED_DECISIONS,
    CaseState,
    PageDecision,
    RecordKind,
    RecordPurpose,
    SuggestionState,
    WithholdBasis,
)
from requests_app.models import (
    Case,
    EventKind,
    Publication,
    Record,
    RecordPage,
    Region,
    Release,
    ReleaseFile,
    Suggestion,
)
from requests_app.permissions import can_act
from requests_app.review import (
    review_fingerprint,
    review_summary,
)
from requests_app.services.cases import case_perform_action, required_text
from requests_app.services.errors import (
    ActionForbidden,
    DuplicateRecord,
    FileTooLarge,
    InvalidInput,
    TransitionRefused,
)

audit_logger = logging.getLogger("requests_app.audit")

CHUNK = 1024 * 1024
# States in which the review may change: from registration until the reply is served.
REVIEW_STATES = frozenset(
    {
        CaseState.REGISTERED,
        CaseState.PROCESSING,
        CaseState.AWAITING_SUPPLEMENT,
        CaseState.CONSULTING,
        CaseState.AWAITING_FEE,
        CaseState.PENDING_APPROVAL,
        CaseState.APPROVED,
    }
)
MAX_TERMS = 50
FOOTER = "申请编号 {tracking_number} 第 {{page}} 页 共 {{pages}} 页"


# --- the common step -----------------------------------------------------------------------
def _check_allowed(actor, kind: str, case: Case) -> None:
    """The role check ``case_perform_action`` makes, done early so that no file work is wasted."""
    if actor is not None and not can_act(actor, kind, case):
        raise ActionForbidden(
            f"您无权对该申请执行“{EventKind(kind).label}”。",
            f"You may not take the action '{kind}' on this case.",
        )


def _review_step(
    *,
    case: Case,
    actor,
    kind: str,
    apply: Callable[[Case], None],
    data: dict,
    reason: str = "",
    expected_version: int | None = None,
    permitted: bool | None = None,
) -> Case:
    """``case_perform_action`` for a change to the review: refused once the reply is served; an
    approved reply goes back for approval in the same step."""

    def run(locked: Case) -> None:
        if locked.state not in REVIEW_STATES:
            raise TransitionRefused(
                f"当前状态“{locked.get_state_display()}”下不能修改文件和审查决定"
                "（答复送达后审查结果即固定，需重新办理才能修改）。",
                "The review cannot change in this state (it is fixed once the reply is served).",
            )
        apply(locked)
        if locked.state == CaseState.APPROVED:
            locked.return_for_approval()
            data["returned_for_approval"] = True

    return case_perform_action(
        case=case,
        actor=actor,
        kind=kind,
        apply=run,
        data=data,
        reason=reason,
        expected_version=expected_version,
        permitted=permitted,
    )


# --- files ----------------------------------------------------------------------------------
@contextmanager
def local_path(field):
    """A path on this machine holding ``field``'s file: the file itself on the filesystem
    storage, a temporary copy (streamed in chunks) on a remote one."""
    try:
        path = field.storage.path(field.name)
    except NotImplementedError:
        path = None
    if path is not None and os.path.isfile(path):
        yield path
        return
    with tempfile.NamedTemporaryFile(suffix=Path(field.name).suffix) as copy:
        with field.open("rb") as source:
            shutil.copyfileobj(source, copy, CHUNK)
        copy.flush()
        yield copy.name


def _spool(upload, path: str, *, max_bytes: int) -> tuple[str, int]:
    """Copy ``upload`` to ``path`` in chunks, hashing as it goes; never the whole file in
    memory. Refuses (FileTooLarge) as soon as it passes ``max_bytes``."""
    digest = hashlib.sha256()
    size = 0
    chunks = (
        upload.chunks(CHUNK) if hasattr(upload, "chunks") else iter(lambda: upload.read(CHUNK), b"")
    )
    with open(path, "wb") as out:
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise FileTooLarge(
                    f"文件超过大小上限（{max_bytes // (1024 * 1024)} MB）。",
                    f"The file is larger than the limit of {max_bytes} bytes.",
                    fields={"file": ["too_large"]},
                )
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest(), size


def _bad_file(exc: redaction.RedactionError) -> InvalidInput:
    code = type(exc).__name__
    return InvalidInput(
        str(exc), f"The file was refused ({code}).", code="bad_file", fields={"file": [code]}
    )


def _duplicate(case: Case, sha256: str) -> Record | None:
    return Record.objects.filter(case=case, sha256=sha256).first()


def _duplicate_error(existing: Record) -> DuplicateRecord:
    return DuplicateRecord(
        f"该文件已是本申请的文件记录《{existing.title}》（SHA-256 相同），未重复保存。",
        "The same file (same SHA-256) is already a record of this case.",
        fields={"file": [f"duplicate_of:{existing.pk}"]},
    )


def record_upload(
    *,
    case: Case,
    actor,
    upload,
    title: str = "",
    source: str = "",
    document_number: str = "",
    original_name: str = "",
    expected_version: int | None = None,
    purpose: str = RecordPurpose.RESPONSIVE,
    permitted: bool | None = None,
) -> Record:
    """Store a file as one of ``case``'s records, with its pages for review.

    ``purpose`` ``service_proof`` stores a proof of service (a signed 送达回证, a China Post
    receipt) instead: whoever may serve the reply may add one, also once it is served, and it
    is never reviewed nor released. ``permitted`` is the caller's own permission verdict for an
    actor whose right does not come from the case's agency (the unit a 交办 asks).

    The upload is streamed to a temporary file and hashed on the way; its type is decided by
    its content; the size and page limits are ``settings.RECORDS``. A PDF or an image gets a
    reviewable PDF (``redaction.to_pdf``); a DOCX too when LibreOffice is installed; an OFD
    file is stored with a note that it must be converted first. Writes a ``record_added``
    event. Raises ActionForbidden, FileTooLarge, InvalidInput (empty, unknown type,
    encrypted, broken, too many pages), DuplicateRecord (the same file already in the case),
    TransitionRefused; on any of them nothing is stored."""
    proof = purpose == RecordPurpose.SERVICE_PROOF
    if proof:
        permitted = can_act(actor, "serve_reply", case) if permitted is None else permitted
    if permitted is None:
        _check_allowed(actor, EventKind.RECORD_ADDED, case)
    elif actor is not None and not permitted:
        raise ActionForbidden(
            f"您无权对该申请执行“{EventKind.RECORD_ADDED.label}”。",
            "You may not add a record to this case.",
        )
    limits = settings.RECORDS
    original_name = os.path.basename(original_name or getattr(upload, "name", "") or "")[:255]
    title = (title or "").strip() or Path(original_name).stem.strip()
    title = required_text(
        title, field="title", message="请填写文件标题。", message_en="Give the record a title."
    )
    if len(title) > 300:
        raise InvalidInput(
            "标题过长（最多 300 字）。", "title is too long.", fields={"title": ["max_length"]}
        )
    with tempfile.TemporaryDirectory(prefix="record-") as work:
        source_path = os.path.join(work, "upload")
        sha256, size = _spool(upload, source_path, max_bytes=limits["MAX_UPLOAD_BYTES"])
        if size == 0:
            raise InvalidInput(
                "文件为空（0 字节）。",
                "The file is empty.",
                code="bad_file",
                fields={"file": ["EmptyFile"]},
            )
        existing = _duplicate(case, sha256)
        if existing is not None:
            raise _duplicate_error(existing)
        review_path = os.path.join(work, "review.pdf")
        note = ""
        try:
            with open(source_path, "rb") as handle:
                kind = redaction.sniff_file(handle)
            redaction.inspect(source_path, kind, max_pages=limits["MAX_PAGES"])
            try:
                redaction.to_pdf(source_path, kind, review_path)
            except redaction.ConversionUnavailable as exc:
                note = str(exc)
                review_path = None
            pages = (
                redaction.inspect(review_path, RecordKind.PDF, max_pages=limits["MAX_PAGES"]).pages
                if review_path
                else []
            )
        except redaction.ConversionUnavailable as exc:  # raised by inspect for OFD, say
            raise _bad_file(exc) from exc
        except redaction.RedactionError as exc:
            raise _bad_file(exc) from exc
        except (ValueError, OSError) as exc:
            # A file the converter could not take although its type was recognised (an image
            # of one pixel, say): refused like a broken file, never a server error.
            raise InvalidInput(
                "文件无法转换为可审查的 PDF，请检查文件后重新上传。",
                "The file could not be made into a reviewable PDF.",
                code="bad_file",
                fields={"file": ["ConversionFailed"]},
            ) from exc

        created: list[Record] = []
        data = {"title": title, "kind": kind, "sha256": sha256, "size": size, "pages": len(pages)}

        def apply(locked: Case) -> None:
            # Checked again under the case's lock: a second upload of the same file that
            # waited for the first one's lock sees it here.
            already = _duplicate(locked, sha256)
            if already is not None:
                raise _duplicate_error(already)
            record = Record(
                case=locked,
                title=title,
                source=(source or "").strip()[:200],
                document_number=(document_number or "").strip()[:100],
                kind=kind,
                sha256=sha256,
                size=size,
                page_count=len(pages),
                original_name=original_name,
                conversion_note=note[:300],
                purpose=purpose,
                uploaded_by=actor,
            )
            created.append(record)
            with open(source_path, "rb") as handle:
                record.file.save(f"upload.{kind}", File(handle), save=False)
            if review_path:
                with open(review_path, "rb") as handle:
                    record.review_pdf.save("review.pdf", File(handle), save=False)
            try:
                with transaction.atomic():  # a savepoint: the step can still answer after it
                    record.save()
            except IntegrityError as exc:  # the same file uploaded at the same moment
                raise _duplicate_error(_duplicate(locked, sha256) or record) from exc
            RecordPage.objects.bulk_create(
                RecordPage(record=record, index=i, width=p.width, height=p.height)
                for i, p in enumerate(pages)
            )
            data["record_id"] = record.pk

        if proof:
            data["purpose"] = purpose
        try:
            if proof:  # not part of the review: no state limit, the approval stands
                case_perform_action(
                    case=case,
                    actor=actor,
                    kind=EventKind.RECORD_ADDED,
                    apply=apply,
                    data=data,
                    expected_version=expected_version,
                    permitted=permitted,
                )
            else:
                _review_step(
                    case=case,
                    actor=actor,
                    kind=EventKind.RECORD_ADDED,
                    apply=apply,
                    data=data,
                    expected_version=expected_version,
                    permitted=permitted,
                )
        except BaseException:
            for record in created:
                _delete_files(record.file, record.review_pdf)
            raise
    return created[0]


def _delete_files(*fields) -> None:
    for field in fields:
        if field and field.name:
            field.storage.delete(field.name)


def record_remove(*, record: Record, actor, reason: str, expected_version=None) -> Case:
    """Remove a record that was uploaded by mistake, with the reason, before the reply is
    served. A record that is part of a built release copy is kept (the release refers to it).
    Writes a ``record_removed`` event. Raises TransitionRefused, ActionForbidden."""
    reason = required_text(
        reason, field="reason", message="请说明删除理由。", message_en="Say why it is removed."
    )
    files: list = []

    def apply(locked: Case) -> None:
        row = Record.objects.select_for_update().filter(pk=record.pk, case=locked).first()
        if row is None:
            raise InvalidInput(
                "文件记录不存在。", "No such record.", fields={"record": ["not_found"]}
            )
        if ReleaseFile.objects.filter(record=row).exists():
            raise TransitionRefused(
                "该文件已用于生成公开文本，不能删除；可将其各页标为“与申请无关”。",
                "The record is part of a release copy; mark its pages irrelevant instead.",
            )
        files.extend([row.file.name, row.review_pdf.name])
        row.delete()

    case = _review_step(
        case=record.case,
        actor=actor,
        kind=EventKind.RECORD_REMOVED,
        apply=apply,
        data={"record_id": record.pk, "title": record.title, "sha256": record.sha256},
        reason=reason,
        expected_version=expected_version,
    )
    storage = record.file.storage
    for name in files:
        if name:
            storage.delete(name)
    return case


# --- page decisions and regions ------------------------------------------------------------
def _check_basis(basis: str, field: str = "basis") -> str:
    if basis not in WithholdBasis.values:
        raise InvalidInput(
            "请选择不予公开的法律依据。",
            "basis must be one of the withholding grounds.",
            fields={field: [f"choose one of: {', '.join(WithholdBasis.values)}"]},
        )
    return basis


def _locked_page(page: RecordPage, case: Case) -> RecordPage:
    row = (
        RecordPage.objects.select_for_update()
        .select_related("record")
        .filter(pk=page.pk, record__case=case)
        .first()
    )
    if row is None:
        raise InvalidInput("页面不存在。", "No such page.", fields={"page": ["not_found"]})
    return row


def page_decide(
    *,
    page: RecordPage,
    actor,
    decision: str,
    basis: str = "",
    reason: str = "",
    expected_version=None,
) -> RecordPage:
    """Set a page's 区分处理 decision. 不予公开 needs a basis; 公开 is refused on a page that
    still has regions (remove them, or choose 部分公开). Writes ``page_decided``."""
    if decision not in PageDecision.values:
        raise InvalidInput(
            "审查决定无效。",
            "decision is not one of the page decisions.",
            fields={"decision": [f"choose one of: {', '.join(PageDecision.values)}"]},
        )
    if decision == PageDecision.WITHHOLD:
        _check_basis(basis)
    else:
        basis = ""
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise InvalidInput(
            "理由过长（最多 200 字）。", "reason is too long.", fields={"reason": ["max_length"]}
        )
    record = page.record
    done: list[RecordPage] = []

    def apply(locked: Case) -> None:
        row = _locked_page(page, locked)
        if decision == PageDecision.DISCLOSE and row.regions.exists():
            raise TransitionRefused(
                "该页已标注不予公开区域，不能整页公开；请删除区域或选择“部分公开”。",
                "The page has regions: remove them or choose partial.",
            )
        row.decision, row.basis, row.reason = decision, basis, reason
        row.decided_by, row.decided_at = actor, timezone.now()
        row.save(update_fields=["decision", "basis", "reason", "decided_by", "decided_at"])
        done.append(row)

    _review_step(
        case=record.case,
        actor=actor,
        kind=EventKind.PAGE_DECIDED,
        apply=apply,
        data={
            "record_id": record.pk,
            "title": record.title,
            "page": page.index + 1,
            "decision": decision,
            "basis": basis,
        },
        reason=reason,
        expected_version=expected_version,
    )
    return done[0]


def _check_rect(rect, page: RecordPage, field: str = "rect") -> tuple[float, float, float, float]:
    try:
        x0, y0, x1, y1 = (float(v) for v in rect)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            "区域须为四个数字 [x0, y0, x1, y1]（点，左上角为原点）。",
            "rect must be four numbers [x0, y0, x1, y1] in points.",
            fields={field: ["invalid"]},
        ) from exc
    x0, x1 = sorted((x0, x1))
    y0, y1 = sorted((y0, y1))
    x0, y0 = max(x0, 0.0), max(y0, 0.0)
    x1, y1 = min(x1, page.width), min(y1, page.height)
    if x1 - x0 < 1 or y1 - y0 < 1:
        raise InvalidInput(
            "区域太小或在页面之外。",
            "The rectangle is empty or outside the page.",
            fields={field: ["empty"]},
        )
    return (round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2))


def _add_region(row: RecordPage, rect, *, basis, reason, actor, suggestion=None) -> Region:
    region = Region.objects.create(
        page=row,
        x0=rect[0],
        y0=rect[1],
        x1=rect[2],
        y1=rect[3],
        basis=basis,
        reason=reason,
        suggestion=suggestion,
        created_by=actor,
    )
    # A region makes the page partly released (unless it is withheld or left out whole).
    if row.decision in ("", PageDecision.DISCLOSE):
        row.decision = PageDecision.PARTIAL
        row.decided_by, row.decided_at = actor, timezone.now()
        row.save(update_fields=["decision", "decided_by", "decided_at"])
    return region


def region_add(
    *, page: RecordPage, actor, rect, basis: str, reason: str = "", expected_version=None
) -> Region:
    """Mark a rectangle of a page (points, origin top-left of the displayed page) to be
    removed from the release, with its basis. The page becomes 部分公开 if it was undecided
    or 公开. Writes ``region_added``."""
    _check_basis(basis)
    rect = _check_rect(rect, page)
    reason = (reason or "").strip()[:200]
    record = page.record
    created: list[Region] = []

    def apply(locked: Case) -> None:
        row = _locked_page(page, locked)
        created.append(_add_region(row, rect, basis=basis, reason=reason, actor=actor))

    _review_step(
        case=record.case,
        actor=actor,
        kind=EventKind.REGION_ADDED,
        apply=apply,
        data={
            "record_id": record.pk,
            "title": record.title,
            "page": page.index + 1,
            "rect": list(rect),
            "basis": basis,
        },
        reason=reason,
        expected_version=expected_version,
    )
    return created[0]


def region_remove(*, region: Region, actor, expected_version=None) -> Case:
    """Remove a region. Writes ``region_removed``."""
    page = region.page
    record = page.record

    def apply(locked: Case) -> None:
        deleted, _ = Region.objects.filter(pk=region.pk, page__record__case=locked).delete()
        if not deleted:
            raise InvalidInput("区域不存在。", "No such region.", fields={"region": ["not_found"]})

    return _review_step(
        case=record.case,
        actor=actor,
        kind=EventKind.REGION_REMOVED,
        apply=apply,
        data={
            "record_id": record.pk,
            "title": record.title,
            "page": page.index + 1,
            "rect": list(region.rect),
            "basis": region.basis,
        },
        expected_version=expected_version,
    )


# --- suggestions ----------------------------------------------------------------------------
def _clean_terms(values: Iterable[str], field: str) -> list[str]:
    terms = [v.strip() for v in (values or []) if isinstance(v, str) and v.strip()]
    if len(terms) > MAX_TERMS or any(len(t) > 100 for t in terms):
        raise InvalidInput(
            f"最多 {MAX_TERMS} 个词，每个不超过 100 字。",
            f"At most {MAX_TERMS} terms of up to 100 characters.",
            fields={field: ["too_many"]},
        )
    return list(dict.fromkeys(terms))


def suggestions_find(
    *, record: Record, actor, terms: Iterable[str] = (), names: Iterable[str] = ()
) -> list[Suggestion]:
    """Search a record for what may have to be withheld: mainland ID numbers (valid check
    digit), mobile numbers, bank cards, the third parties' ``names`` and the handler's
    ``terms``. Each find is a pending suggestion (one already suggested at the same place is
    not repeated). Writes ``suggestions_found``."""
    terms = _clean_terms(terms, "terms")
    names = _clean_terms(names, "names")
    _check_allowed(actor, EventKind.SUGGESTIONS_FOUND, record.case)
    if not record.is_reviewable:
        raise TransitionRefused(
            "该文件尚未转换为 PDF，不能查找。", "The record has no reviewable PDF yet."
        )
    with local_path(record.review_pdf) as path:
        found = [(s.page, s.kind, s.text, s.rects) for s in redaction.suggest(path, names)]
        if terms:
            found += [(h.page, "term", h.text, h.rects) for h in redaction.find_terms(path, terms)]
    created: list[Suggestion] = []
    data = {"record_id": record.pk, "title": record.title, "terms": terms, "names": names}

    def apply(locked: Case) -> None:
        pages = {p.index: p for p in RecordPage.objects.filter(record=record)}
        seen = {
            (s.page_id, s.kind, s.text, tuple(map(tuple, s.rects)))
            for s in Suggestion.objects.filter(page__record=record)
        }
        for index, kind, text, rects in found:
            page = pages.get(index)
            rects = [[round(float(v), 2) for v in rect] for rect in rects]
            key = (page.pk if page else None, kind, text[:300], tuple(map(tuple, rects)))
            if page is None or not rects or key in seen:
                continue
            seen.add(key)
            created.append(Suggestion(page=page, kind=kind, text=text[:300], rects=rects))
        Suggestion.objects.bulk_create(created)
        data["found"] = len(created)

    _review_step(
        case=record.case, actor=actor, kind=EventKind.SUGGESTIONS_FOUND, apply=apply, data=data
    )
    return created


def _locked_suggestion(suggestion: Suggestion, case: Case) -> Suggestion:
    row = (
        Suggestion.objects.select_for_update()
        .select_related("page__record")
        .filter(pk=suggestion.pk, page__record__case=case)
        .first()
    )
    if row is None:
        raise InvalidInput(
            "建议不存在。", "No such suggestion.", fields={"suggestion": ["not_found"]}
        )
    if row.state != SuggestionState.PENDING:
        raise TransitionRefused(
            f"该建议已{row.get_state_display()}。", "The suggestion was already decided."
        )
    return row


def suggestion_accept(
    *, suggestion: Suggestion, actor, basis: str, reason: str = "", expected_version=None
) -> list[Region]:
    """Accept a suggestion: each of its rectangles becomes a region with ``basis``. Writes
    ``suggestion_accepted``."""
    _check_basis(basis)
    reason = (reason or "").strip()[:200]
    page = suggestion.page
    rects = [_check_rect(rect, page, "rects") for rect in suggestion.rects]
    created: list[Region] = []

    def apply(locked: Case) -> None:
        row = _locked_suggestion(suggestion, locked)
        page_row = _locked_page(row.page, locked)
        for rect in rects:
            created.append(
                _add_region(page_row, rect, basis=basis, reason=reason, actor=actor, suggestion=row)
            )
        row.state, row.decided_by, row.decided_at = SuggestionState.ACCEPTED, actor, timezone.now()
        row.save(update_fields=["state", "decided_by", "decided_at"])

    _review_step(
        case=page.record.case,
        actor=actor,
        kind=EventKind.SUGGESTION_ACCEPTED,
        apply=apply,
        data={
            "record_id": page.record_id,
            "page": page.index + 1,
            "kind": suggestion.kind,
            "basis": basis,
            "regions": len(rects),
        },
        reason=reason,
        expected_version=expected_version,
    )
    return created


def suggestion_reject(*, suggestion: Suggestion, actor, expected_version=None) -> Case:
    """Reject a suggestion (the text may be released). Writes ``suggestion_rejected``."""
    page = suggestion.page

    def apply(locked: Case) -> None:
        row = _locked_suggestion(suggestion, locked)
        row.state, row.decided_by, row.decided_at = SuggestionState.REJECTED, actor, timezone.now()
        row.save(update_fields=["state", "decided_by", "decided_at"])

    return _review_step(
        case=page.record.case,
        actor=actor,
        kind=EventKind.SUGGESTION_REJECTED,
        apply=apply,
        data={"record_id": page.record_id, "page": page.index + 1, "kind": suggestion.kind},
        expected_version=expected_version,
    )


# --- the release copy -----------------------------------------------------------------------
def _plans(record: Record) -> list[redaction.PagePlan]:
    plans = []
    for page in record.pages.all():
        if page.decision == PageDecision.WITHHOLD:
            label = str(WithholdBasis(page.basis).label)
            plans.append(redaction.PagePlan(index=page.index, withhold_whole=label))
        elif page.decision in RELEASED_DECISIONS:
            regions = [
                redaction.Region(rect=r.rect, label=str(WithholdBasis(r.basis).label))
                for r in page.regions.all()
            ]
            plans.append(redaction.PagePlan(index=page.index, regions=regions))
    return plans


def release_build(*, case: Case, actor, expected_version=None) -> Release:
    """Build the release copy from the review: for each record with a released page, its
    released pages with every region removed and labelled with its basis, its wholly withheld
    pages blanked and labelled, the pages left out (unrelated, duplicate) dropped, and the
    footer "申请编号 … 第 x 页 共 y 页". Needs a finished review that releases something.
    Writes ``release_built`` with the release's SHA-256. Raises TransitionRefused."""
    _check_allowed(actor, EventKind.RELEASE_BUILT, case)
    summary = review_summary(case)
    if not summary.has_records:
        raise TransitionRefused("该申请没有文件记录。", "The case has no records.")
    if not summary.is_complete:
        from requests_app.review import check_reply_agrees

        check_reply_agrees(case, "disclosed")  # raises, naming what is unfinished
    if not summary.releases_anything:
        raise TransitionRefused(
            "审查结果没有可以公开的页面，无需生成公开文本。",
            "The review releases no page; there is nothing to build.",
        )
    fingerprint = review_fingerprint(case)
    footer = FOOTER.format(tracking_number=case.tracking_number)
    records = list(
        Record.objects.filter(case=case, purpose=RecordPurpose.RESPONSIVE)
        .prefetch_related("pages__regions")
        .order_by("pk")
    )
    built: list[tuple[Record, str, str, int]] = []
    with tempfile.TemporaryDirectory(prefix="release-") as work:
        for record in records:
            plans = _plans(record)
            if not any(p.withhold_whole is None for p in plans):
                continue  # nothing of this record is released
            out = os.path.join(work, f"{record.pk}.pdf")
            with local_path(record.review_pdf) as path:
                try:
                    info = redaction.build_release(path, plans, out, footer=footer)
                except redaction.RedactionError as exc:
                    raise TransitionRefused(
                        f"生成《{record.title}》的公开文本失败：{exc}",
                        f"Building the release of record {record.pk} failed.",
                    ) from exc
            built.append((record, out, info.sha256, info.pages))
        digest = hashlib.sha256("".join(sha for _, _, sha, _ in built).encode()).hexdigest()
        created: list[Release] = []
        stored: list = []
        data = {"sha256": digest, "files": len(built)}

        def apply(locked: Case) -> None:
            if review_fingerprint(locked) != fingerprint:
                raise TransitionRefused(
                    "审查结果在生成期间被修改，请重新生成。",
                    "The review changed while the release was built; build it again.",
                )
            sequence = (
                Release.objects.filter(case=locked).aggregate(m=Max("sequence"))["m"] or 0
            ) + 1
            release = Release.objects.create(
                case=locked,
                sequence=sequence,
                sha256=digest,
                fingerprint=fingerprint,
                page_count=sum(pages for *_, pages in built),
                built_by=actor,
            )
            for record, out, sha, pages in built:
                item = ReleaseFile(
                    release=release, record=record, title=record.title, sha256=sha, page_count=pages
                )
                with open(out, "rb") as handle:
                    item.file.save("release.pdf", File(handle), save=False)
                stored.append(item.file)
                item.save()
            data.update(release_id=release.pk, sequence=sequence, pages=release.page_count)
            created.append(release)

        try:
            # A build after approval replaces what was approved: back to the office head.
            _review_step(
                case=case,
                actor=actor,
                kind=EventKind.RELEASE_BUILT,
                apply=apply,
                data=data,
                expected_version=expected_version,
            )
        except BaseException:
            _delete_files(*stored)
            raise
    return created[0]


# --- downloads --------------------------------------------------------------------------------
def log_download(*, who: str, case: Case, what: str, via: str) -> None:
    """Every download of a record or a release is logged (the audit log of personal data)."""
    audit_logger.info(
        "record file downloaded: who=%s case=%s file=%s via=%s",
        who,
        case.tracking_number,
        what,
        via,
    )


def page_image(page: RecordPage, *, dpi: int | None = None) -> bytes:
    """The PNG of a page of a record's review PDF (rendered from the file, streamed)."""
    record = page.record
    if not record.is_reviewable:
        raise TransitionRefused("该文件尚未转换为 PDF。", "The record has no reviewable PDF.")
    with local_path(record.review_pdf) as path:
        return redaction.render_page(
            path, page.index, dpi=dpi or settings.RECORDS["PAGE_IMAGE_DPI"]
        )


# --- the reading room -----------------------------------------------------------------------
def release_publish(
    *, release: Release, actor, title: str, summary: str, expected_version=None
) -> Publication:
    """Publish an approved, served release to the reading room (依申请公开转主动公开) with a
    title and a summary; never the applicant's identity. Writes ``release_published``."""
    title = required_text(title, field="title", message="请填写标题。", message_en="Give a title.")
    summary = required_text(
        summary, field="summary", message="请填写摘要。", message_en="Give a summary."
    )
    if len(title) > 300 or len(summary) > 2000:
        raise InvalidInput(
            "标题最多 300 字，摘要最多 2000 字。",
            "title is at most 300, summary 2000 characters.",
            fields={"summary": ["max_length"]},
        )
    created: list[Publication] = []

    def apply(locked: Case) -> None:
        row = Release.objects.select_for_update().get(pk=release.pk, case=locked)
        if row.approved_at is None:
            raise TransitionRefused(
                "只能公开经审核的公开文本。", "Only an approved release can be published."
            )
        if locked.state not in (CaseState.REPLIED, CaseState.CLOSED):
            raise TransitionRefused(
                "答复送达后才能转为主动公开。", "Publish only after the reply is served."
            )
        if Publication.objects.filter(release=row, is_active=True).exists():
            raise TransitionRefused("该公开文本已公开。", "The release is already published.")
        created.append(
            Publication.objects.create(
                case=locked,
                release=row,
                agency=locked.agency,
                title=title,
                summary=summary,
                published_by=actor,
            )
        )

    case_perform_action(
        case=release.case,
        actor=actor,
        kind=EventKind.RELEASE_PUBLISHED,
        apply=apply,
        data={"release_id": release.pk, "sha256": release.sha256, "title": title},
        expected_version=expected_version,
    )
    return created[0]


def publication_withdraw(
    *, publication: Publication, actor, reason: str, expected_version=None
) -> Publication:
    """Take a publication out of the reading room, saying why (kept in the history).
    Writes ``release_unpublished``."""
    reason = required_text(
        reason, field="reason", message="请说明撤回理由。", message_en="Say why it is withdrawn."
    )

    def apply(locked: Case) -> None:
        row = Publication.objects.select_for_update().get(pk=publication.pk, case=locked)
        if not row.is_active:
            raise TransitionRefused("该信息已撤回。", "The publication was already withdrawn.")
        row.is_active = False
        row.unpublished_at = timezone.now()
        row.unpublish_reason = reason[:500]
        row.save(update_fields=["is_active", "unpublished_at", "unpublish_reason"])

    case_perform_action(
        case=publication.case,
        actor=actor,
        kind=EventKind.RELEASE_UNPUBLISHED,
        apply=apply,
        data={"publication_id": publication.pk, "title": publication.title},
        reason=reason,
        expected_version=expected_version,
    )
    publication.refresh_from_db()
    return publication
