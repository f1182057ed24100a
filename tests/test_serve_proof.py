"""送达 proof (issue 16): the mode of service, China Post only for a posted reply (国办公开办函
〔2016〕235号) with a valid EMS or registered-mail number, the receipt scan in the records store,
and lateness still judged from the service date."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from requests_app.choices import CaseState, RecordPurpose
from requests_app.management.sample_records import sample_pdf
from requests_app.models import CaseEvent, EventKind, Record
from requests_app.review import review_summary
from requests_app.services import cases as svc
from requests_app.services import records as rec
from requests_app.services.errors import InvalidInput
from tests.factories import case_in_state

S = CaseState


@pytest.fixture(autouse=True)
def records_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "records": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "records")},
        },
    }
    return tmp_path


@pytest.fixture
def approved(office, approver):
    return case_in_state(S.APPROVED, agency=office, actor=approver)


def serve_event(case):
    return CaseEvent.objects.get(case=case, kind=EventKind.SERVE_REPLY)


def scan(name="回证.pdf"):
    return SimpleUploadedFile(name, sample_pdf(pages=1))


@pytest.mark.parametrize(
    ("mode", "extra", "facts"),
    [
        ("direct", {}, {}),
        (
            "entrusted",
            {"entrusted_to": "李四（申请人之子）"},
            {"entrusted_to": "李四（申请人之子）"},
        ),
        (
            "post",
            {"tracking_number": "ea 12345678 5cn", "carrier": "china_post"},
            {"tracking_number": "EA123456785CN", "carrier": "china_post"},
        ),
        ("post", {"tracking_number": "1123456789012"}, {"tracking_number": "1123456789012"}),
        ("post", {"tracking_number": "RA473124829CN"}, {"tracking_number": "RA473124829CN"}),
        ("electronic", {}, {}),
        ("email", {}, {}),  # the letters' older names count as electronic service
    ],
)
def test_each_mode_is_recorded_with_its_proof(approved, approver, mode, extra, facts):
    today = timezone.localdate()
    case = svc.case_serve_reply(
        case=approved, actor=approver, service_method=mode, served_on=today, **extra
    )
    assert case.state == S.REPLIED and case.replied_on == today
    data = serve_event(case).data
    assert data["service_method"] == ("electronic" if mode == "email" else mode)
    assert data["served_on"] == today.isoformat()
    for key, value in facts.items():
        assert data[key] == value


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ({"service_method": "courier"}, "service_method", "送达方式无效"),
        ({"service_method": "post"}, "tracking_number", "邮件号"),
        (
            {"service_method": "post", "carrier": "other", "tracking_number": "SF1234567890123"},
            "carrier",
            "国办公开办函〔2016〕235号",
        ),
        (
            {"service_method": "post", "tracking_number": "SF1234567890123"},
            "tracking_number",
            "不是中国邮政的邮件号",
        ),
        (  # the example's check digit is wrong: 12345678 gives 5
            {"service_method": "post", "tracking_number": "EA123456789CN"},
            "tracking_number",
            "校验位",
        ),
        ({"service_method": "post", "tracking_number": "EA123456785US"}, "tracking_number", "CN"),
        ({"service_method": "post", "tracking_number": "2123456789012"}, "tracking_number", "13"),
        (
            {"service_method": "direct", "tracking_number": "EA123456785CN"},
            "tracking_number",
            "邮寄",
        ),
        ({"service_method": "entrusted"}, "entrusted_to", "受委托签收人"),
    ],
)
def test_refusals_say_why_and_change_nothing(approved, approver, extra, field, words):
    with pytest.raises(InvalidInput) as caught:
        svc.case_serve_reply(case=approved, actor=approver, **extra)
    assert field in caught.value.fields
    assert words in caught.value.message
    approved.refresh_from_db()
    assert approved.state == S.APPROVED
    assert not CaseEvent.objects.filter(case=approved, kind=EventKind.SERVE_REPLY).exists()


def test_the_receipt_scan_lands_in_the_records_as_a_proof(approved, approver):
    case = svc.case_serve_reply(
        case=approved,
        actor=approver,
        service_method="post",
        tracking_number="EA123456785CN",
        receipt=scan(),
    )
    [record] = Record.objects.filter(case=case)
    assert record.purpose == RecordPurpose.SERVICE_PROOF
    assert record.title == "送达凭证（邮寄送达（中国邮政））"
    kinds = list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("kind", flat=True))
    assert kinds[-2:] == [EventKind.SERVE_REPLY, EventKind.RECORD_ADDED]
    # A proof is not part of the review: no record to review, nothing to release.
    summary = review_summary(case)
    assert not summary.has_records and not summary.undecided
    # Another scan may follow after the service (the signed 回执 comes back later).
    rec.record_upload(
        case=case,
        actor=approver,
        upload=SimpleUploadedFile("回执.pdf", sample_pdf(pages=2)),
        purpose=RecordPurpose.SERVICE_PROOF,
    )
    assert Record.objects.filter(case=case, purpose=RecordPurpose.SERVICE_PROOF).count() == 2


def test_a_bad_scan_refuses_the_service(approved, approver):
    with pytest.raises(InvalidInput) as caught:
        svc.case_serve_reply(
            case=approved,
            actor=approver,
            service_method="direct",
            receipt=SimpleUploadedFile("x.pdf", b"not a pdf"),
        )
    assert "receipt" in caught.value.fields and "送达凭证" in caught.value.message
    approved.refresh_from_db()
    assert approved.state == S.APPROVED and not Record.objects.exists()


def test_lateness_is_judged_from_the_service_date(office, approver):
    case = case_in_state(S.APPROVED, agency=office, actor=approver)
    late_day = case.reply_due_on + dt.timedelta(days=1)
    on_time_day = case.reply_due_on
    # The service date decides (the reply due date is in the future for a fresh case, so
    # move it back instead of serving in the future).
    case.reply_due_on = timezone.localdate() - dt.timedelta(days=2)
    case.save(update_fields=["reply_due_on"])
    assert late_day and on_time_day
    served = svc.case_serve_reply(
        case=case,
        actor=approver,
        service_method="post",
        tracking_number="EA123456785CN",
        served_on=timezone.localdate(),
    )
    assert served.replied_on == timezone.localdate()


def test_the_admin_form_records_the_post_and_the_scan(approved, approver):
    client = Client()
    client.force_login(approver)
    url = reverse("admin:requests_app_case_act", args=[approved.pk, "serve_reply"])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html and "邮件号" in html and "中国邮政" in html
    refused = client.post(
        url,
        {
            "expected_version": approved.version,
            "service_method": "post",
            "served_on": timezone.localdate().isoformat(),
            "carrier": "other",
            "tracking_number": "SF1234567890123",
        },
    )
    assert refused.status_code == 200
    assert "国办公开办函〔2016〕235号" in refused.context["form"].errors["carrier"][0]
    done = client.post(
        url,
        {
            "expected_version": approved.version,
            "service_method": "post",
            "served_on": timezone.localdate().isoformat(),
            "carrier": "china_post",
            "tracking_number": "EA123456785CN",
            "receipt": scan(),
        },
    )
    assert done.status_code == 302
    assert serve_event(approved).data["tracking_number"] == "EA123456785CN"
    assert Record.objects.get(case=approved).purpose == RecordPurpose.SERVICE_PROOF


def test_the_api_refuses_another_courier_and_takes_the_scan_later(approved, approver):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(approver)
    url = reverse("api:staff-case-serve_reply", args=[approved.pk])
    bad = client.post(
        url, {"service_method": "post", "tracking_number": "SF1234567890123"}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["fields"] == {
        "tracking_number": ["not_china_post"]
    }
    missing = client.post(url, {}, format="json")
    assert missing.status_code == 400 and "service_method" in missing.json()["fields"]
    ok = client.post(
        url, {"service_method": "post", "tracking_number": "EA123456785CN"}, format="json"
    )
    assert ok.status_code == 200, ok.json()
    upload = client.post(
        reverse("api:staff-records", args=[approved.pk]),
        {"file": scan(), "title": "EMS 交寄单", "purpose": "service_proof"},
        format="multipart",
    )
    assert upload.status_code == 201, upload.json()
    assert upload.json()["purpose"] == "service_proof"
    responsive = client.post(
        reverse("api:staff-records", args=[approved.pk]),
        {"file": scan("其他.pdf"), "title": "补充"},
        format="multipart",
    )
    assert responsive.status_code == 409  # the review is fixed once the reply is served


def test_the_records_page_marks_a_proof_and_offers_no_review(approved, approver):
    case = svc.case_serve_reply(
        case=approved, actor=approver, service_method="direct", receipt=scan()
    )
    client = Client()
    client.force_login(approver)
    html = client.get(reverse("admin:requests_app_case_records", args=[case.pk])).content.decode()
    assert "送达凭证（不审查、不公开）" in html and "review-link" not in html
