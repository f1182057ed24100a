"""Records and their review (issue 14, the Django side): upload through the service (streamed,
typed by content, limited, refused with nothing stored), page decisions and regions,
suggestions, the release copy and its approval, the reply that must agree with the review,
and the letter's 区分处理 说明 table."""

from __future__ import annotations

import io
import zipfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfReader, PdfWriter

from requests_app.choices import CaseState as S
from requests_app.choices import Outcome, PageDecision, Role, SuggestionState, WithholdBasis
from requests_app.management.sample_records import (
    MOBILE,
    THIRD_PARTY,
    sample_id_number,
    sample_pdf,
)
from requests_app.models import CaseEvent, EventKind, Record, RecordPage, Region, Release
from requests_app.review import review_summary
from requests_app.services import cases as svc
from requests_app.services import records as rec
from requests_app.services.errors import (
    ActionForbidden,
    DuplicateRecord,
    FileTooLarge,
    InvalidInput,
    TransitionRefused,
)
from requests_app.services.letters import letter_draft
from tests.factories import case_in_state, caseworker, record_search

PRIVACY = WithholdBasis.PERSONAL_PRIVACY
PROCESS = WithholdBasis.PROCESS_INFO


@pytest.fixture(autouse=True)
def records_root(settings, tmp_path):
    root = tmp_path / "records"
    settings.STORAGES = {
        **settings.STORAGES,
        "records": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root)},
        },
    }
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return root


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def upload(data: bytes, name: str = "file.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(sample_pdf(pages=1)))
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.fixture
def case(office, handler):
    return case_in_state(S.PROCESSING, agency=office, actor=handler)


def add_record(case, handler, data: bytes | None = None, **kwargs) -> Record:
    return rec.record_upload(
        case=case,
        actor=handler,
        upload=upload(
            sample_pdf() if data is None else data, kwargs.pop("name", "征收补偿说明.pdf")
        ),
        **kwargs,
    )


@contextmanager
def refused(words: str):
    """The step is refused (409) with a Chinese message containing ``words``."""
    with pytest.raises(TransitionRefused) as caught:
        yield
    assert words in caught.value.message, caught.value.message


def events(case, kind) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case, kind=kind).order_by("pk"))


# --- upload ------------------------------------------------------------------------------------
def test_upload_stores_the_file_its_pages_and_an_event(case, handler, records_root):
    data = sample_pdf()
    record = add_record(
        case, handler, data, title="征收补偿说明", document_number="安府发〔2025〕3号"
    )
    assert record.kind == "pdf"
    assert record.page_count == 2
    assert record.size == len(data)
    assert record.original_name == "征收补偿说明.pdf"
    assert record.document_number == "安府发〔2025〕3号"
    assert [(p.index, round(p.width), round(p.height)) for p in record.pages.all()] == [
        (0, 595, 842),
        (1, 595, 842),
    ]
    with record.file.open("rb") as handle:
        assert handle.read() == data
    # The stored key says nothing of the uploader's file name.
    assert "征收" not in record.file.name and record.file.name.endswith(".pdf")
    assert record.review_pdf
    [event] = events(case, EventKind.RECORD_ADDED)
    assert event.data["sha256"] == record.sha256
    assert event.data["pages"] == 2
    assert event.actor == handler


def test_type_is_decided_by_content_not_by_name(case, handler):
    record = add_record(case, handler, png_bytes(), name="looks-like.pdf", title="现场照片")
    assert record.kind == "png"
    assert record.page_count == 1
    assert record.review_pdf  # an image becomes a reviewable PDF


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "EmptyFile"),
        (b"%PDF-1.7\nthis is not a pdf at all\n%%EOF", "BrokenFile"),
        (b"just some text, not a document", "UnsupportedType"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(case, handler, records_root, data, code):
    with pytest.raises(InvalidInput) as caught:
        add_record(case, handler, data)
    assert caught.value.fields == {"file": [code]}
    assert caught.value.message  # a Chinese message fit for the user
    assert Record.objects.count() == 0
    assert stored_files(records_root) == []
    assert events(case, EventKind.RECORD_ADDED) == []


def test_an_image_the_converter_cannot_take_is_refused(case, handler, records_root):
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    with pytest.raises(InvalidInput) as caught:
        add_record(case, handler, buffer.getvalue(), name="dot.png")
    assert caught.value.code == "bad_file"
    assert Record.objects.count() == 0
    assert stored_files(records_root) == []


def test_an_encrypted_pdf_is_refused(case, handler, records_root):
    with pytest.raises(InvalidInput) as caught:
        add_record(case, handler, encrypted_pdf())
    assert caught.value.fields == {"file": ["EncryptedFile"]}
    assert Record.objects.count() == 0
    assert stored_files(records_root) == []


def test_size_and_page_limits(case, handler, settings, records_root):
    settings.RECORDS = {**settings.RECORDS, "MAX_UPLOAD_BYTES": 1000}
    with pytest.raises(FileTooLarge):
        add_record(case, handler)
    settings.RECORDS = {**settings.RECORDS, "MAX_UPLOAD_BYTES": 10**8, "MAX_PAGES": 2}
    with pytest.raises(InvalidInput) as caught:
        add_record(case, handler, sample_pdf(pages=3))
    assert caught.value.fields == {"file": ["TooManyPages"]}
    assert add_record(case, handler, sample_pdf(pages=2)).page_count == 2
    assert Record.objects.count() == 1


def test_the_same_file_twice_in_a_case_is_recognised(case, handler, office, records_root):
    data = sample_pdf()
    first = add_record(case, handler, data)
    before = stored_files(records_root)
    with pytest.raises(DuplicateRecord) as caught:
        add_record(case, handler, data, name="copy.pdf")
    assert caught.value.fields == {"file": [f"duplicate_of:{first.pk}"]}
    assert stored_files(records_root) == before
    # Another case may hold the same file.
    other = case_in_state(S.PROCESSING, agency=office, actor=handler)
    assert add_record(other, handler, data).sha256 == first.sha256


def test_a_docx_is_stored_and_waits_for_conversion(case, handler, monkeypatch):
    import redaction

    def unavailable(path, kind, out_path):
        raise redaction.ConversionUnavailable(
            "未安装 LibreOffice，DOCX 文件需转换为 PDF 后才能审查"
        )

    monkeypatch.setattr(redaction, "to_pdf", unavailable)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    record = add_record(case, handler, buffer.getvalue(), name="x.docx", title="会议纪要")
    assert record.kind == "docx"
    assert not record.review_pdf
    assert record.page_count == 0
    assert "LibreOffice" in record.conversion_note
    # Unreviewed, it blocks the reply until converted or removed.
    with refused("尚未转换为 PDF"):
        svc.case_submit_for_approval(
            case=record_search(case, handler), actor=handler, outcome=Outcome.NOT_EXIST
        )
    rec.record_remove(record=record, actor=handler, reason="误传")
    assert not Record.objects.filter(pk=record.pk).exists()
    [removed] = events(case, EventKind.RECORD_REMOVED)
    assert removed.reason == "误传"


def test_only_handling_roles_of_the_agency_upload(case, office, tree, records_root):
    registrar = caseworker(office, Role.REGISTRAR)
    stranger = caseworker(tree["dept"], Role.HANDLER)
    for user in (registrar, stranger):
        with pytest.raises(ActionForbidden):
            add_record(case, user)
    assert stored_files(records_root) == []


def test_no_upload_once_the_reply_is_served(office, approver, records_root):
    replied = case_in_state(S.REPLIED, agency=office, actor=approver)
    with refused("答复送达后审查结果即固定"):
        add_record(replied, approver)
    assert stored_files(records_root) == []


# --- review ------------------------------------------------------------------------------------
def decide_all(record, handler, decision=PageDecision.DISCLOSE, **kwargs):
    for page in record.pages.all():
        rec.page_decide(page=page, actor=handler, decision=decision, **kwargs)


def test_page_decisions_and_regions(case, handler):
    record = add_record(case, handler)
    first, second = record.pages.all()
    region = rec.region_add(
        page=first, actor=handler, rect=[300, 150, 100, 120], basis=PRIVACY, reason="第三方个人信息"
    )
    assert region.rect == (100.0, 120.0, 300.0, 150.0)  # normalised
    first.refresh_from_db()
    assert first.decision == PageDecision.PARTIAL  # a region makes the page partly released
    with pytest.raises(TransitionRefused):
        rec.page_decide(page=first, actor=handler, decision=PageDecision.DISCLOSE)
    with pytest.raises(InvalidInput):
        rec.page_decide(page=second, actor=handler, decision=PageDecision.WITHHOLD)
    rec.page_decide(
        page=second, actor=handler, decision=PageDecision.WITHHOLD, basis=PROCESS, reason="内部讨论"
    )
    with pytest.raises(InvalidInput):
        rec.region_add(page=first, actor=handler, rect=[900, 900, 950, 950], basis=PRIVACY)
    with pytest.raises(InvalidInput):
        rec.region_add(page=first, actor=handler, rect=[1, 2, 3, 4], basis="nonsense")
    summary = review_summary(case)
    assert summary.is_complete
    assert (summary.released_pages, summary.withheld_pages, summary.regions) == (1, 1, 1)
    assert [(r.record, r.pages_label, r.basis_label, r.reason) for r in summary.rows] == [
        ("征收补偿说明", "第1页", "第十五条 个人隐私", "第三方个人信息"),
        ("征收补偿说明", "第2页", "第十六条第二款 过程性信息", "内部讨论"),
    ]
    kinds = [e.kind for e in CaseEvent.objects.filter(case=case).order_by("pk")]
    assert kinds[-2:] == [EventKind.REGION_ADDED, EventKind.PAGE_DECIDED]
    rec.region_remove(region=region, actor=handler)
    assert not Region.objects.filter(pk=region.pk).exists()
    assert len(events(case, EventKind.REGION_REMOVED)) == 1


def test_suggestions_find_id_numbers_phones_and_names(case, handler):
    record = add_record(case, handler)
    found = rec.suggestions_find(
        record=record, actor=handler, names=[THIRD_PARTY], terms=["412,000"]
    )
    texts = {(s.kind, s.text) for s in found}
    assert ("id_number", sample_id_number()) in texts
    assert ("mobile", MOBILE) in texts
    assert ("name", THIRD_PARTY) in texts
    assert ("term", "412,000") in texts
    assert all(s.page.index == 0 for s in found)
    # Searching again suggests nothing twice.
    assert rec.suggestions_find(record=record, actor=handler, names=[THIRD_PARTY]) == []
    by_kind = {s.kind: s for s in found}
    regions = rec.suggestion_accept(suggestion=by_kind["id_number"], actor=handler, basis=PRIVACY)
    assert len(regions) == len(by_kind["id_number"].rects)
    rec.suggestion_reject(suggestion=by_kind["term"], actor=handler)
    by_kind["term"].refresh_from_db()
    assert by_kind["term"].state == SuggestionState.REJECTED
    with pytest.raises(TransitionRefused):
        rec.suggestion_reject(suggestion=by_kind["term"], actor=handler)
    page = RecordPage.objects.get(record=record, index=0)
    assert page.decision == PageDecision.PARTIAL
    assert len(events(case, EventKind.SUGGESTION_ACCEPTED)) == 1


# --- the reply agrees with the review ------------------------------------------------------------
def partial_review(case, handler) -> Record:
    record = add_record(case, handler)
    first, second = record.pages.all()
    for suggestion in rec.suggestions_find(record=record, actor=handler, names=[THIRD_PARTY]):
        rec.suggestion_accept(
            suggestion=suggestion, actor=handler, basis=PRIVACY, reason="第三方个人信息"
        )
    rec.page_decide(page=second, actor=handler, decision=PageDecision.WITHHOLD, basis=PROCESS)
    return record


def test_the_reply_must_agree_with_the_review(case, handler):
    record = add_record(case, handler)
    with refused("未作审查决定"):
        svc.case_submit_for_approval(case=case, actor=handler, outcome=Outcome.DISCLOSED)
    decide_all(record, handler)
    with refused("应答复“予以公开”"):
        svc.case_submit_for_approval(case=case, actor=handler, outcome=Outcome.PARTIALLY_DISCLOSED)
    with refused("生成公开文本"):
        svc.case_submit_for_approval(case=case, actor=handler, outcome=Outcome.DISCLOSED)
    case.refresh_from_db()
    assert case.state == S.PROCESSING
    rec.release_build(case=case, actor=handler)
    case = svc.case_submit_for_approval(case=case, actor=handler, outcome=Outcome.DISCLOSED)
    assert case.state == S.PENDING_APPROVAL


def test_everything_withheld_needs_a_withheld_outcome_with_its_basis(case, handler):
    record = add_record(case, handler)
    decide_all(record, handler, PageDecision.WITHHOLD, basis=PROCESS)
    for outcome in (Outcome.DISCLOSED, Outcome.PARTIALLY_DISCLOSED, Outcome.WITHHELD_STATE_SECRET):
        with refused("四类过程性信息"):
            svc.case_submit_for_approval(case=case, actor=handler, outcome=outcome)
    with refused("没有可以公开的页面"):
        rec.release_build(case=case, actor=handler)
    case = svc.case_submit_for_approval(
        case=case, actor=handler, outcome=Outcome.WITHHELD_PROCESS_INFO
    )
    assert case.draft_legal_basis == svc.default_legal_basis(Outcome.WITHHELD_PROCESS_INFO)


def test_partial_release_approval_and_a_change_after_approval(case, handler, approver):
    partial_review(case, handler)
    release = rec.release_build(case=case, actor=handler)
    assert release.sequence == 1
    [built] = events(case, EventKind.RELEASE_BUILT)
    assert built.data["sha256"] == release.sha256
    [item] = release.files.all()
    assert item.page_count == 2
    case = svc.case_submit_for_approval(
        case=case, actor=handler, outcome=Outcome.PARTIALLY_DISCLOSED
    )
    assert "第三十七条" in case.draft_legal_basis and "第十五条" in case.draft_legal_basis
    case = svc.case_approve(case=case, actor=approver)
    release.refresh_from_db()
    assert release.approved_by == approver and release.approved_at is not None
    [approved] = events(case, EventKind.APPROVE)
    assert approved.data["release_sha256"] == release.sha256
    # A change after approval sends the case back for approval in the same step.
    page = RecordPage.objects.get(record__case=case, index=0)
    rec.region_add(page=page, actor=handler, rect=[72, 700, 300, 720], basis=PRIVACY)
    case.refresh_from_db()
    assert case.state == S.PENDING_APPROVAL
    [change] = events(case, EventKind.REGION_ADDED)
    assert (change.from_state, change.to_state) == (S.APPROVED, S.PENDING_APPROVAL)
    assert change.data["returned_for_approval"] is True
    # The approved release stays as it was; approving again needs a release of the new review.
    release.refresh_from_db()
    assert release.approved_at is not None
    with refused("生成公开文本"):
        svc.case_approve(case=case, actor=approver)
    second = rec.release_build(case=case, actor=handler)
    assert second.sequence == 2 and second.sha256 != release.sha256
    case = svc.case_approve(case=case, actor=approver)
    assert case.state == S.APPROVED
    case = svc.case_serve_reply(case=case, actor=handler)
    assert case.outcome == Outcome.PARTIALLY_DISCLOSED
    # Once served, the review is fixed.
    with refused("答复送达后"):
        rec.page_decide(page=page, actor=handler, decision=PageDecision.IRRELEVANT)


def test_the_release_copy_has_no_withheld_text(case, handler):
    partial_review(case, handler)
    release = rec.release_build(case=case, actor=handler)
    [item] = release.files.all()
    with item.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    text = "".join(page.extract_text() for page in reader.pages)
    assert sample_id_number() not in text
    assert MOBILE not in text
    assert THIRD_PARTY not in text
    assert "内部讨论意见" not in text
    # Pages with regions are rebuilt from pixels (the text layer goes); labels and footer stay.
    assert "第十五条 个人隐私" in text
    assert "第十六条第二款 过程性信息" in text
    assert len(reader.pages) == 2
    assert f"申请编号 {case.tracking_number}" in text
    metadata = reader.metadata or {}
    assert "王五" not in str(dict(metadata))


def test_the_reply_letter_carries_the_withheld_table(case, handler, approver):
    partial_review(case, handler)
    rec.release_build(case=case, actor=handler)
    case = svc.case_submit_for_approval(
        case=case, actor=handler, outcome=Outcome.PARTIALLY_DISCLOSED
    )
    letter = letter_draft(case=case, actor=handler, kind="reply")
    assert letter.kind == "reply_partial"
    assert letter.content["withheld_table"] == [
        {
            "record": "《征收补偿说明》",
            "pages": "第1页",
            "basis": "第十五条 个人隐私",
            "reason": "第三方个人信息",
        },
        {
            "record": "《征收补偿说明》",
            "pages": "第2页",
            "basis": "第十六条第二款 过程性信息",
            "reason": "整页不予公开",
        },
    ]
    with letter.pdf.open("rb") as handle:
        text = "".join("".join(p.extract_text().split()) for p in PdfReader(handle).pages)
    for expected in (
        "区分处理说明",
        "征收补偿说明",
        "第十五条个人隐私",
        "过程性信息",
        "整页不予公开",
    ):
        assert expected in text


def test_a_release_cannot_be_built_from_an_unfinished_review(case, handler):
    add_record(case, handler)
    with refused("未作审查决定"):
        rec.release_build(case=case, actor=handler)
    assert Release.objects.count() == 0


# --- storage ----------------------------------------------------------------------------------
def test_a_remote_storage_works_through_temporary_copies(case, handler, settings):
    """A storage without local paths (an S3 bucket; here Django's in-memory storage): pages
    render, suggestions are found and the release is built from streamed temporary copies."""
    settings.STORAGES = {
        **settings.STORAGES,
        "records": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    record = add_record(case, handler)
    assert not Path(record.file.storage.path(record.file.name)).exists()  # nothing on disk
    first = record.pages.get(index=0)
    assert rec.page_image(first)[:4] == b"\x89PNG"
    assert rec.suggestions_find(record=record, actor=handler, names=[THIRD_PARTY])
    decide_all(record, handler)
    release = rec.release_build(case=case, actor=handler)
    [item] = release.files.all()
    with item.file.open("rb") as handle:
        assert len(PdfReader(handle).pages) == 2


def test_the_s3_setting_selects_the_s3_backend(monkeypatch):
    """RECORDS_STORAGE=s3 with its variables configures django-storages' S3 backend (no
    connection is made to build it)."""
    import importlib

    pytest.importorskip("storages.backends.s3", reason="the optional extra .[s3]")
    from django.core.files.storage.handler import StorageHandler

    monkeypatch.setenv("RECORDS_STORAGE", "s3")
    monkeypatch.setenv("RECORDS_S3_BUCKET", "records-test")
    monkeypatch.setenv("RECORDS_S3_ENDPOINT_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("RECORDS_S3_ACCESS_KEY", "key")
    monkeypatch.setenv("RECORDS_S3_SECRET_KEY", "secret")
    import config.settings.base as base

    try:
        fresh = importlib.reload(base)
        storage = StorageHandler(fresh.STORAGES)["records"]
        assert type(storage).__name__ == "S3Storage"
        assert storage.bucket_name == "records-test"
        assert storage.endpoint_url == "http://127.0.0.1:9000"
        assert storage.default_acl == "private" and storage.querystring_auth is True
    finally:
        monkeypatch.undo()
        importlib.reload(base)


@pytest.mark.slow
def test_a_large_upload_is_streamed_not_read_whole(case, handler, tmp_path):
    """A 40 MB PDF goes through the upload (spooled, hashed, typed, inspected, converted,
    stored) with Python's own allocations staying far below its size: nothing reads it whole.
    (tracemalloc sees Python objects, which is where a whole-file read would show.)"""
    import hashlib
    import os
    import tracemalloc

    import pikepdf
    from django.core.files import File

    big = tmp_path / "big.pdf"
    pdf = pikepdf.open(io.BytesIO(sample_pdf(pages=1)))
    # 40 MB of incompressible data in a stream the page does not show.
    pdf.Root.Filler = pdf.make_stream(os.urandom(40 * 1024 * 1024))
    pdf.save(big)
    size = big.stat().st_size
    assert size > 40 * 1024 * 1024
    with big.open("rb") as handle:
        tracemalloc.start()
        try:
            record = rec.record_upload(
                case=case, actor=handler, upload=File(handle, name="big.pdf")
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert record.size == size
    assert record.sha256 == hashlib.sha256(big.read_bytes()).hexdigest()
    assert peak < 8 * 1024 * 1024, f"peak {peak / 2**20:.1f} MB of Python allocations"


def test_a_change_while_pending_approval_needs_a_new_release(case, handler, approver):
    record = add_record(case, handler)
    decide_all(record, handler)
    first = rec.release_build(case=case, actor=handler)
    case = svc.case_submit_for_approval(case=case, actor=handler, outcome=Outcome.DISCLOSED)
    page = record.pages.get(index=1)
    rec.page_decide(page=page, actor=handler, decision=PageDecision.IRRELEVANT)
    case.refresh_from_db()
    assert case.state == S.PENDING_APPROVAL  # not approved yet: nothing to send back
    with refused("生成公开文本"):
        svc.case_approve(case=case, actor=approver)
    second = rec.release_build(case=case, actor=handler)
    assert second.page_count == 1 and first.page_count == 2
    case = svc.case_approve(case=case, actor=approver)
    assert case.state == S.APPROVED
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.approved_at is None and second.approved_at is not None
    [approved] = events(case, EventKind.APPROVE)
    assert approved.data["release_id"] == second.pk


def test_a_letter_whose_table_no_longer_matches_the_review_is_not_served(case, handler, approver):
    from requests_app.services.letters import letter_serve

    partial_review(case, handler)
    rec.release_build(case=case, actor=handler)
    case = svc.case_submit_for_approval(
        case=case, actor=handler, outcome=Outcome.PARTIALLY_DISCLOSED
    )
    case = svc.case_approve(case=case, actor=approver)
    stale = letter_draft(case=case, actor=handler, kind="reply")
    # The review changes after the letter was drafted: back for approval, rebuilt, approved.
    page = RecordPage.objects.get(record__case=case, index=0)
    rec.region_add(
        page=page, actor=handler, rect=[72, 700, 300, 720], basis=WithholdBasis.COMMERCIAL_SECRET
    )
    rec.release_build(case=case, actor=handler)
    case = svc.case_approve(case=case, actor=approver)
    with refused("区分处理说明与当前审查结果不一致"):
        letter_serve(
            letter=stale, actor=handler, served_on=svc.local_date(stale.drafted_at), method="email"
        )
    fresh = letter_draft(case=case, actor=handler, kind="reply")
    assert "第十五条 商业秘密" in {row["basis"] for row in fresh.content["withheld_table"]}
    letter_serve(
        letter=fresh, actor=handler, served_on=svc.local_date(fresh.drafted_at), method="email"
    )
    case.refresh_from_db()
    assert case.state == S.REPLIED


def test_everything_withheld_on_two_grounds_cites_both(case, handler):
    record = add_record(case, handler)
    first, second = record.pages.all()
    rec.page_decide(page=first, actor=handler, decision=PageDecision.WITHHOLD, basis=PRIVACY)
    rec.page_decide(page=second, actor=handler, decision=PageDecision.WITHHOLD, basis=PROCESS)
    case = svc.case_submit_for_approval(
        case=case, actor=handler, outcome=Outcome.WITHHELD_PERSONAL_PRIVACY
    )
    assert case.draft_legal_basis == (
        "《政府信息公开条例》第十五条、第三十六条第（三）项；"
        "另依据《政府信息公开条例》第十六条第二款 过程性信息"
    )


@pytest.mark.django_db(transaction=True)
def test_the_same_file_uploaded_twice_at_once_is_stored_once(office, handler, records_root):
    """Two uploads of one file in one case at the same moment: the case's lock orders them,
    the second is refused as a duplicate, one record and one event remain (PostgreSQL)."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (set DATABASE_URL)")
    case = case_in_state(S.PROCESSING, agency=office, actor=handler)
    data = sample_pdf()
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            add_record(case, handler, data)
            outcomes.append("stored")
        except DuplicateRecord:
            outcomes.append("duplicate")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["duplicate", "stored"]
    assert Record.objects.filter(case=case).count() == 1
    assert len(events(case, EventKind.RECORD_ADDED)) == 1
    assert len(stored_files(records_root)) == 2  # the original and its reviewable PDF
