"""The records API end to end: a handler uploads, reviews and builds the release through the
staff API; the approver approves; the applicant downloads with the tracking number and the
access code in a POST body; the approver publishes to the reading room; a new application is
shown the similar published answer. Permissions and the audit log on every download."""

from __future__ import annotations

import io
import logging

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader
from rest_framework.test import APIClient

from requests_app.choices import CaseState as S
from requests_app.choices import Outcome, Role
from requests_app.management.sample_records import THIRD_PARTY, sample_id_number, sample_pdf
from requests_app.models import CaseEvent, EventKind, Publication, Record
from requests_app.services import cases as svc
from requests_app.services.intake import case_submit
from requests_app.services.notifications import notifications_send
from tests.factories import application_fields, case_in_state, caseworker

AUDIT = "requests_app.audit"


@pytest.fixture(autouse=True)
def records_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "records": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "records")},
        },
    }
    settings.MEDIA_ROOT = str(tmp_path / "media")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def base(case) -> str:
    return f"/api/v1/staff/cases/{case.pk}/"


@pytest.fixture
def submitted(office):
    case, code = case_submit(
        agency=office,
        fields=application_fields(description="申请公开城南棚户区改造项目征收补偿情况"),
    )
    return case, code


@pytest.fixture
def working(submitted, handler):
    case, code = submitted
    case = svc.case_confirm_receipt(case=case, actor=handler)
    case = svc.case_start_processing(case=case, actor=handler)
    return case, code


def upload(client, case, data=None, **fields):
    return client.post(
        base(case) + "records/",
        {
            "file": SimpleUploadedFile("补偿说明.pdf", sample_pdf() if data is None else data),
            **fields,
        },
        format="multipart",
    )


def test_the_whole_review_through_the_api(working, handler, approver, caplog):
    case, code = working
    api = client_for(handler)
    answer = upload(
        api, case, title="征收补偿说明", source="市住建局", document_number="安住建〔2025〕8号"
    )
    assert answer.status_code == 201, answer.json()
    record = answer.json()
    assert (record["kind"], record["page_count"], record["document_number"]) == (
        "pdf",
        2,
        "安住建〔2025〕8号",
    )
    assert [p["decision"] for p in record["pages"]] == ["", ""]
    rid = record["id"]
    assert [r["id"] for r in api.get(base(case) + "records/").json()] == [rid]

    with caplog.at_level(logging.INFO, logger=AUDIT):
        image = api.get(base(case) + f"records/{rid}/pages/0/image/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert b"".join(image.streaming_content if image.streaming else [image.content])[:8] == (
        b"\x89PNG\r\n\x1a\n"
    )
    assert any(f"case={case.tracking_number}" in r.getMessage() for r in caplog.records)
    assert api.get(base(case) + f"records/{rid}/pages/9/image/").status_code == 404
    assert api.get(base(case) + f"records/{rid}/pages/0/image/?dpi=5").status_code == 400

    found = api.post(
        base(case) + f"records/{rid}/suggest/", {"names": [THIRD_PARTY]}, format="json"
    ).json()
    kinds = {s["kind"]: s for s in found}
    assert {"id_number", "mobile", "name"} <= set(kinds)
    assert kinds["id_number"]["text"] == sample_id_number()
    for kind in ("id_number", "mobile", "name"):
        accepted = api.post(
            base(case) + f"suggestions/{kinds[kind]['id']}/accept/",
            {"basis": "withheld_personal_privacy", "reason": "第三方个人信息"},
            format="json",
        )
        assert accepted.status_code == 200, accepted.json()
    page0 = accepted.json()
    assert page0["decision"] == "partial"
    assert {r["basis_label"] for r in page0["regions"]} == {"第十五条 个人隐私"}
    drawn = api.post(
        base(case) + f"records/{rid}/pages/0/regions/",
        {"rect": [72, 200, 400, 230], "basis": "withheld_personal_privacy"},
        format="json",
    )
    assert drawn.status_code == 201
    bad = api.post(
        base(case) + f"records/{rid}/pages/1/decision/", {"decision": "withhold"}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["fields"] == {
        "basis": [bad.json()["fields"]["basis"][0]]
    }
    decided = api.post(
        base(case) + f"records/{rid}/pages/1/decision/",
        {"decision": "withhold", "basis": "withheld_process_info", "reason": "内部讨论意见"},
        format="json",
    )
    assert (
        decided.status_code == 200 and decided.json()["basis_label"] == "第十六条第二款 过程性信息"
    )

    review = api.get(base(case) + "review/").json()
    assert review["is_complete"] is True
    assert review["agreeing_outcomes"] == ["partially_disclosed"]
    assert [(r["pages"], r["basis_label"]) for r in review["withheld"]] == [
        ("第1页", "第十五条 个人隐私"),
        ("第2页", "第十六条第二款 过程性信息"),
    ]

    # The reply must agree with the review.
    refused = api.post(base(case) + "submit_for_approval/", {"outcome": "disclosed"}, format="json")
    assert refused.status_code == 409
    assert "部分公开" in refused.json()["message"]
    built = api.post(base(case) + "releases/")
    assert built.status_code == 201, built.json()
    release = built.json()
    assert release["is_current"] is True and release["approved_at"] is None
    [file] = release["files"]
    pdf = api.get(base(case) + f"releases/{release['id']}/files/{file['id']}/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert (
        api.post(
            base(case) + "submit_for_approval/", {"outcome": "partially_disclosed"}, format="json"
        ).status_code
        == 200
    )
    approved = client_for(approver).post(base(case) + "approve/", {}, format="json")
    assert approved.status_code == 200, approved.json()
    approve_event = CaseEvent.objects.get(case=case, kind=EventKind.APPROVE)
    assert approve_event.data["release_sha256"] == release["sha256"]

    letter = api.post(base(case) + "letters/", {"reply": True}, format="json")
    assert letter.status_code == 201, letter.json()
    served = api.post(
        f"/api/v1/staff/letters/{letter.json()['id']}/serve/",
        {"served_on": str(svc.local_date(approve_event.recorded_at)), "method": "email"},
        format="json",
    )
    assert served.status_code == 200, served.json()
    case.refresh_from_db()
    assert case.state == S.REPLIED and case.outcome == Outcome.PARTIALLY_DISCLOSED

    # The applicant: the e-mail links the download page (no code in it), the API in a POST body.
    notifications_send()
    [reply_mail] = [m for m in mail.outbox if "答复" in m.subject]
    assert f"/release/?n={case.tracking_number}" in reply_mail.body
    assert code not in reply_mail.body
    public = APIClient()
    wrong = public.post(
        "/api/v1/applications/release/",
        {"tracking_number": case.tracking_number, "access_code": "WRONGCODE1"},
        format="json",
    )
    assert wrong.status_code == 404
    listing = public.post(
        "/api/v1/applications/release/",
        {"tracking_number": case.tracking_number, "access_code": code},
        format="json",
    )
    assert listing.status_code == 200
    assert listing.json()["sha256"] == release["sha256"]
    with caplog.at_level(logging.INFO, logger=AUDIT):
        caplog.clear()
        download = public.post(
            "/api/v1/applications/release/download/",
            {"tracking_number": case.tracking_number, "access_code": code, "file": file["id"]},
            format="json",
        )
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    body = b"".join(download.streaming_content)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
    assert sample_id_number() not in text and THIRD_PARTY not in text
    assert [r.getMessage() for r in caplog.records if "via=public-api" in r.getMessage()]
    # The download page the e-mail links to: the code goes in the form, never the URL.
    page = APIClient().post(
        "/release/",
        {"tracking_number": case.tracking_number, "access_code": code, "file": file["id"]},
    )
    assert page.status_code == 200 and page["Content-Type"] == "application/pdf"

    # The reading room.
    published = client_for(approver).post(
        base(case) + f"releases/{release['id']}/publish/",
        {
            "title": "城南棚户区改造项目征收补偿情况",
            "summary": "征收补偿的户数、标准和支付情况（已作区分处理）。",
        },
        format="json",
    )
    assert published.status_code == 201, published.json()
    assert (
        client_for(handler)
        .post(
            base(case) + f"releases/{release['id']}/publish/",
            {"title": "x", "summary": "y"},
            format="json",
        )
        .status_code
        == 403
    )
    room = APIClient().get("/api/v1/published/?q=棚户区").json()
    assert [p["title"] for p in room["results"]] == ["城南棚户区改造项目征收补偿情况"]
    assert case.applicant_name not in str(room)
    assert APIClient().get("/api/v1/published/?q=不存在的词").json()["count"] == 0
    pid = published.json()["id"]
    published_file = APIClient().get(f"/api/v1/published/{pid}/files/{file['id']}/")
    assert published_file.status_code == 200
    # A new application like it is shown the published answer: the portal asks with its
    # description, the counter intake gets it in its answer.
    similar = APIClient().post(
        "/api/v1/published/similar/",
        {"description": "请公开城南棚户区改造项目的征收补偿情况"},
        format="json",
    )
    assert [p["id"] for p in similar.json()] == [pid]
    assert similar.json()[0]["url"] == f"/api/v1/published/{pid}/"
    unrelated = APIClient().post(
        "/api/v1/published/similar/", {"description": "2024年财政预算"}, format="json"
    )
    assert unrelated.json() == []
    intake = client_for(caseworker(case.agency, Role.REGISTRAR)).post(
        "/api/v1/staff/cases/",
        {**application_fields(description="城南棚户区改造征收补偿情况"), "channel": "in_person"},
        format="json",
    )
    assert intake.status_code == 201, intake.json()
    assert [p["id"] for p in intake.json()["similar_published"]] == [pid]
    # Unpublishing is an action with a reason, in the history.
    assert (
        client_for(approver)
        .post(base(case) + f"publications/{pid}/withdraw/", {}, format="json")
        .status_code
        == 400
    )
    withdrawn = client_for(approver).post(
        base(case) + f"publications/{pid}/withdraw/",
        {"reason": "含有未遮盖的个人信息"},
        format="json",
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["is_active"] is False
    assert APIClient().get(f"/api/v1/published/{pid}/").status_code == 404
    event = CaseEvent.objects.get(case=case, kind=EventKind.RELEASE_UNPUBLISHED)
    assert event.reason == "含有未遮盖的个人信息"
    assert Publication.objects.get(pk=pid).unpublish_reason == "含有未遮盖的个人信息"


def test_upload_errors_answer_4xx_and_store_nothing(working, handler):
    case, _ = working
    api = client_for(handler)
    empty = upload(api, case, data=b"")
    assert empty.status_code == 400 and empty.json()["fields"] == {"file": ["EmptyFile"]}
    assert empty.json()["message"] == "文件为空（0 字节）。"
    broken = upload(api, case, data=b"%PDF-1.4\nbroken")
    assert broken.status_code == 400 and broken.json()["code"] == "bad_file"
    assert broken.json()["message"]
    assert upload(api, case).status_code == 201
    again = upload(api, case)
    assert again.status_code == 409 and again.json()["code"] == "duplicate_record"
    assert Record.objects.filter(case=case).count() == 1
    as_json = api.post(base(case) + "records/", {"title": "x"}, format="json")
    assert as_json.status_code == 415


def test_records_of_another_agency_are_not_found(working, handler, tree):
    case, _ = working
    rid = upload(client_for(handler), case).json()["id"]
    stranger = client_for(caseworker(tree["dept"], Role.HANDLER))
    for url in (
        "records/",
        f"records/{rid}/",
        f"records/{rid}/original/",
        f"records/{rid}/pages/0/image/",
    ):
        assert stranger.get(base(case) + url).status_code == 404
    assert upload(stranger, case).status_code == 404
    assert APIClient().get(base(case) + "records/").status_code == 401


def test_the_original_only_for_roles_that_may(working, handler, office, tree, caplog):
    case, _ = working
    rid = upload(client_for(handler), case).json()["id"]
    registrar = client_for(caseworker(office, Role.REGISTRAR))
    assert registrar.get(base(case) + f"records/{rid}/").status_code == 200
    assert registrar.get(base(case) + f"records/{rid}/original/").status_code == 403
    auditor = client_for(caseworker(tree["city"], Role.AUDITOR))
    with caplog.at_level(logging.INFO, logger=AUDIT):
        original = auditor.get(base(case) + f"records/{rid}/original/")
    assert original.status_code == 200
    assert b"".join(original.streaming_content) == sample_pdf()
    assert any(f"original:{rid}" in r.getMessage() for r in caplog.records)
    # Read-only roles see the review but may not change it.
    assert (
        auditor.post(
            base(case) + f"records/{rid}/pages/0/decision/", {"decision": "disclose"}, format="json"
        ).status_code
        == 403
    )


def test_nothing_to_download_before_the_reply(submitted):
    case, code = submitted
    answer = APIClient().post(
        "/api/v1/applications/release/",
        {"tracking_number": case.tracking_number, "access_code": code},
        format="json",
    )
    assert answer.status_code == 404
    assert answer.json()["message"] == "该申请没有可下载的公开文本。"


def test_counter_intake_shows_similar_published(office, approver, handler):
    assert case_in_state(S.PROCESSING, agency=office, actor=handler)  # no publication yet
    registrar = caseworker(office, Role.REGISTRAR)
    answer = client_for(registrar).post(
        "/api/v1/staff/cases/",
        {**application_fields(), "channel": "in_person"},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["similar_published"] == []


def test_the_lists_take_a_fixed_number_of_queries(working, handler):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    case, _ = working
    api = client_for(handler)

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == 200
        return len(queries)

    upload(api, case, sample_pdf(pages=1))
    one = (count(base(case) + "records/"), count(base(case) + "releases/"))
    for pages in (2, 3):
        upload(api, case, sample_pdf(pages=pages))
    assert (count(base(case) + "records/"), count(base(case) + "releases/")) == one


def test_the_download_page_asks_for_the_code_in_a_form(submitted, client):
    case, code = submitted
    page = client.get(f"/release/?n={case.tracking_number}")
    html = page.content.decode()
    assert page.status_code == 200
    assert f'value="{case.tracking_number}"' in html and 'method="post"' in html
    assert "<script" not in html and "style=" not in html  # a strict CSP holds
    wrong = client.post("/release/", {"tracking_number": case.tracking_number, "access_code": "X1"})
    assert wrong.status_code == 404 and "查询码不正确" in wrong.content.decode()
    unanswered = client.post(
        "/release/", {"tracking_number": case.tracking_number, "access_code": code}
    )
    assert unanswered.status_code == 404
    assert "该申请没有可下载的公开文本" in unanswered.content.decode()
    assert client.post("/release/", {}).status_code == 400
