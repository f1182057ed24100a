"""The records pages of the admin: upload, the review screen's forms (each calls its service),
page images and downloads behind the case's visibility, the approver's view of the release."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_app.choices import CaseState as S
from requests_app.choices import Outcome, PageDecision, Role
from requests_app.management.sample_records import THIRD_PARTY, sample_pdf
from requests_app.models import Record, RecordPage, Region, Suggestion
from requests_app.services import cases as svc
from requests_app.services import records as rec
from tests.factories import case_in_state, caseworker


@pytest.fixture(autouse=True)
def records_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "records": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "records")},
        },
    }


@pytest.fixture
def case(office, handler):
    return case_in_state(S.PROCESSING, agency=office, actor=handler)


def act(case, what, target):
    return reverse("admin:requests_app_case_records_act", args=[case.pk, what, target])


def test_upload_review_and_build_in_the_admin(client, case, handler):
    client.force_login(handler)
    change = client.get(reverse("admin:requests_app_case_change", args=[case.pk]))
    assert "文件记录与审查" in change.content.decode()
    records_url = reverse("admin:requests_app_case_records", args=[case.pk])
    upload = client.post(
        reverse("admin:requests_app_case_records_upload", args=[case.pk]),
        {"file": SimpleUploadedFile("说明.pdf", sample_pdf()), "title": "征收补偿说明"},
    )
    assert upload.status_code == 302
    record = Record.objects.get(case=case)
    refused = client.post(
        reverse("admin:requests_app_case_records_upload", args=[case.pk]),
        {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4 broken")},
        follow=True,
    )
    assert "文件已损坏，无法读取" in refused.content.decode()
    assert Record.objects.filter(case=case).count() == 1

    page = client.get(records_url).content.decode()
    assert "征收补偿说明" in page and "尚有 2 页未作审查决定" in page
    review = client.get(reverse("admin:requests_app_case_record_review", args=[case.pk, record.pk]))
    html = review.content.decode()
    assert review.status_code == 200
    assert "requests_app/review.js" in html and "<script>" not in html
    image = client.get(reverse("admin:requests_app_case_page_image", args=[case.pk, record.pk, 0]))
    assert image.status_code == 200 and image.content[:4] == b"\x89PNG"

    client.post(act(case, "suggest", record.pk), {"names": THIRD_PARTY, "terms": ""})
    suggestions = list(Suggestion.objects.filter(page__record=record))
    assert {s.kind for s in suggestions} >= {"id_number", "mobile", "name"}
    for suggestion in suggestions:
        client.post(act(case, "accept", suggestion.pk), {"basis": "withheld_personal_privacy"})
    first, second = RecordPage.objects.filter(record=record).order_by("index")
    drawn = client.post(
        act(case, "region", first.pk),
        {"x0": "72", "y0": "400", "x1": "300", "y1": "420", "basis": "withheld_commercial_secret"},
    )
    assert drawn.status_code == 302 and drawn["Location"].endswith("#page-1")
    assert Region.objects.filter(page=first, basis="withheld_commercial_secret").count() == 1
    client.post(
        act(case, "decide", second.pk),
        {"p1-decision": "withhold", "p1-basis": "withheld_process_info", "p1-reason": "内部讨论"},
    )
    second.refresh_from_db()
    assert (second.decision, second.basis) == (PageDecision.WITHHOLD, "withheld_process_info")
    client.post(act(case, "build", case.pk))
    page = client.get(records_url).content.decode()
    assert "第 1 版" in page and "第十五条 个人隐私" in page and "第十六条第二款 过程性信息" in page


def test_the_approver_sees_the_release_before_approving(client, case, handler, approver):
    record = rec.record_upload(
        case=case, actor=handler, upload=SimpleUploadedFile("a.pdf", sample_pdf())
    )
    for page in record.pages.all():
        rec.page_decide(page=page, actor=handler, decision=PageDecision.DISCLOSE)
    release = rec.release_build(case=case, actor=handler)
    svc.case_submit_for_approval(case=case, actor=handler, outcome=Outcome.DISCLOSED)
    client.force_login(approver)
    form = client.get(reverse("admin:requests_app_case_act", args=[case.pk, "approve"]))
    html = form.content.decode()
    assert "待审核的公开文本（第 1 版" in html
    [item] = release.files.all()
    link = reverse("admin:requests_app_case_release_file", args=[case.pk, item.pk])
    assert link in html
    shown = client.get(link)
    assert shown.status_code == 200 and shown["Content-Type"] == "application/pdf"


def test_another_agency_gets_404_and_a_registrar_no_original(client, case, handler, tree, office):
    record = rec.record_upload(
        case=case, actor=handler, upload=SimpleUploadedFile("a.pdf", sample_pdf())
    )
    client.force_login(caseworker(tree["dept"], Role.HANDLER))
    for url in (
        reverse("admin:requests_app_case_records", args=[case.pk]),
        reverse("admin:requests_app_case_record_review", args=[case.pk, record.pk]),
        reverse("admin:requests_app_case_page_image", args=[case.pk, record.pk, 0]),
        reverse("admin:requests_app_case_record_original", args=[case.pk, record.pk]),
    ):
        assert client.get(url).status_code == 404
    client.force_login(caseworker(office, Role.REGISTRAR))
    assert (
        client.get(
            reverse("admin:requests_app_case_record_original", args=[case.pk, record.pk])
        ).status_code
        == 403
    )
    # A registrar sees the review but its forms are not offered, and a posted change is refused.
    review = client.get(reverse("admin:requests_app_case_record_review", args=[case.pk, record.pk]))
    assert "region-form-0" not in review.content.decode()
    page = record.pages.get(index=0)
    client.post(act(case, "decide", page.pk), {"p0-decision": "disclose"})
    page.refresh_from_db()
    assert page.decision == ""


def test_the_approver_publishes_and_withdraws_in_the_admin(client, case, handler, approver):
    from requests_app.models import Publication

    record = rec.record_upload(
        case=case, actor=handler, upload=SimpleUploadedFile("a.pdf", sample_pdf())
    )
    for page in record.pages.all():
        rec.page_decide(page=page, actor=handler, decision=PageDecision.DISCLOSE)
    release = rec.release_build(case=case, actor=handler)
    case = svc.case_submit_for_approval(case=case, actor=handler, outcome=Outcome.DISCLOSED)
    case = svc.case_approve(case=case, actor=approver)
    case = svc.case_serve_reply(case=case, actor=handler)
    client.force_login(approver)
    page = client.get(reverse("admin:requests_app_case_records", args=[case.pk])).content.decode()
    assert "转为主动公开" in page
    client.post(
        act(case, "publish", release.pk), {"title": "补偿情况", "summary": "已公开的补偿情况。"}
    )
    publication = Publication.objects.get(case=case)
    assert publication.is_active and publication.title == "补偿情况"
    client.post(act(case, "withdraw", publication.pk), {"reason": "发现遗漏的个人信息"})
    publication.refresh_from_db()
    assert not publication.is_active and publication.unpublish_reason == "发现遗漏的个人信息"
