"""Letters (告知书): every kind drafted for a real case, numbered, rendered as PDF and DOCX,
stored with the case, and served; templates per agency; the 文号 sequence.

Set ``LETTER_SAMPLES_DIR=docs/letters`` to write the first page of each kind as a PNG (needs
``pdftoppm`` from poppler-utils): that is how the images under docs/letters/ are made.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from requests_app.choices import CaseState as S
from requests_app.choices import Outcome, Role
from requests_app.letters.defaults import REPLY_FAMILIES, reply_kind_for
from requests_app.models import CaseEvent, EventKind, Letter, LetterKind, LetterTemplate
from requests_app.services import cases as svc
from requests_app.services.errors import (
    ActionForbidden,
    InvalidInput,
    TransitionRefused,
)
from requests_app.services.fees import fee_issue_for_case
from requests_app.services.letters import (
    format_number,
    letter_draft,
    letter_number_allocate,
    letter_serve,
    letter_template_customize,
    letter_template_save,
)
from tests.factories import case_in_state, caseworker, record_search

K = LetterKind
SAMPLE_OUTCOMES = {
    K.REPLY_DISCLOSED: Outcome.DISCLOSED,
    K.REPLY_PARTIAL: Outcome.PARTIALLY_DISCLOSED,
    K.REPLY_WITHHELD: Outcome.WITHHELD_PERSONAL_PRIVACY,
    K.REPLY_UNABLE: Outcome.NOT_EXIST,
    K.REPLY_NOT_PROCESSED: Outcome.DUPLICATE,
    K.REPLY_OTHER: Outcome.OTHER,
}
EXPECTED_BASIS = {
    K.REGISTRATION_RECEIPT: "第三十一条",
    K.SUPPLEMENT_NOTICE: "《政府信息公开条例》第三十条",
    K.EXTENSION_NOTICE: "《政府信息公开条例》第三十三条第二款",
    K.THIRD_PARTY_CONSULTATION: "《政府信息公开条例》第三十二条",
    K.FEE_NOTICE: "《政府信息公开条例》第四十二条",
    K.REPLY_DISCLOSED: "《政府信息公开条例》第三十六条第（二）项",
    K.REPLY_PARTIAL: "《政府信息公开条例》第三十七条",
    K.REPLY_WITHHELD: "《政府信息公开条例》第十五条、第三十六条第（三）项",
    K.REPLY_UNABLE: "《政府信息公开条例》第三十六条第（四）项",
    K.REPLY_NOT_PROCESSED: "《政府信息公开条例》第三十六条第（六）项",
    K.REPLY_OTHER: "《政府信息公开条例》第三十六条",
    K.NON_PROCESSING_NOTICE: "《政府信息公开条例》第三十条",
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def office(tree):
    agency = tree["office"]
    agency.office_name = "安顺市人民政府办公室政务公开科"
    agency.email = "gk@anshun.example.gov.cn"
    agency.save()
    return agency


def case_for(kind: str, *, office, approver):
    """A case through the real services, in the state where ``kind`` is written."""
    if kind == K.REGISTRATION_RECEIPT:
        return case_in_state(S.REGISTERED, agency=office, actor=approver)
    if kind == K.SUPPLEMENT_NOTICE:
        return case_in_state(S.AWAITING_SUPPLEMENT, agency=office, actor=approver)
    if kind == K.EXTENSION_NOTICE:
        case = case_in_state(S.PROCESSING, agency=office, actor=approver)
        return svc.case_extend(case=case, actor=approver, days=20, reason="需要调取档案")
    if kind == K.THIRD_PARTY_CONSULTATION:
        return case_in_state(S.CONSULTING, agency=office, actor=approver)
    if kind == K.FEE_NOTICE:
        case = case_in_state(S.PROCESSING, agency=office, actor=approver)
        return fee_issue_for_case(case=case, actor=approver, method="by_pages", pages=150)[0]
    if kind == K.NON_PROCESSING_NOTICE:
        # The 补正 period ran out long ago (Art 30: only then 视为放弃).
        case = case_in_state(S.AWAITING_SUPPLEMENT, agency=office, actor=approver, days_ago=90)
        return svc.case_abandon_no_supplement(case=case, actor=approver)
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    if SAMPLE_OUTCOMES[kind] in svc.SEARCH_OUTCOMES:
        case = record_search(case, approver)
    case = svc.case_submit_for_approval(case=case, actor=approver, outcome=SAMPLE_OUTCOMES[kind])
    return svc.case_approve(case=case, actor=approver)


def pdf_text(letter: Letter) -> str:
    with letter.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "".join(page.extract_text() for page in reader.pages)


def docx_text(letter: Letter) -> str:
    with letter.docx.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        xml = archive.read("word/document.xml").decode()
    return "".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", xml))


@pytest.mark.parametrize("kind", K.values)
def test_every_kind_renders_for_a_real_case_in_pdf_and_docx(kind, office, approver, media):
    case = case_for(kind, office=office, approver=approver)
    letter = letter_draft(case=case, actor=approver, kind=kind)

    year = timezone.localdate().year
    assert letter.number == f"〔{year}〕第1号"
    assert letter.kind == kind
    assert letter.pdf.name.startswith(f"letters/{office.code}/{year}/{case.tracking_number}/")
    assert (media / letter.pdf.name).read_bytes()[:5] == b"%PDF-"
    assert (media / letter.docx.name).read_bytes()[:2] == b"PK"

    text = pdf_text(letter).replace("\n", "")
    addressee = "某某有限公司" if kind == K.THIRD_PARTY_CONSULTATION else "张三"
    assert case.tracking_number in text
    assert addressee in text
    assert EXPECTED_BASIS[kind] in text
    assert letter.number in text
    assert office.name in text
    words = docx_text(letter)
    assert case.tracking_number in words and addressee in words and EXPECTED_BASIS[kind] in words

    event = CaseEvent.objects.filter(case=case, kind=EventKind.LETTER_ISSUED).get()
    assert event.data == {
        "kind": kind,
        "letter_id": letter.pk,
        "number": letter.number,
        "title": letter.title,
    }
    sample_dir = os.environ.get("LETTER_SAMPLES_DIR")
    if sample_dir and shutil.which("pdftoppm"):
        target = Path(sample_dir)
        target.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(media / letter.pdf.name),
                str(target / kind),
            ],
            check=True,
        )


@pytest.mark.parametrize("kind", sorted(REPLY_FAMILIES))
def test_decisions_carry_the_remedies(kind, office, approver):
    case = case_for(kind, office=office, approver=approver)
    letter = letter_draft(case=case, actor=approver, kind="reply")
    assert letter.kind == kind
    if kind == K.REPLY_WITHHELD:
        # 复议法 2023 Art 23: a refusal to disclose goes to review first.
        assert letter.content["remedies"] == (
            "如对本答复不服，可以自收到之日起六十日内向安顺市人民政府申请行政复议；"
            "对行政复议决定不服的，可以自收到行政复议决定书之日起十五日内依法向人民法院提起行政诉讼"
            "（《中华人民共和国行政复议法》第二十三条）。"
        )
    else:
        assert letter.content["remedies"] == (
            "如对本答复不服，可以自收到之日起六十日内向安顺市人民政府申请行政复议，"
            "也可以自收到之日起六个月内向安顺市西秀区人民法院提起行政诉讼。"
        )
    assert "六十日内向安顺市人民政府申请行政复议" in pdf_text(letter).replace("\n", "")


def test_the_fee_notice_shows_the_amount_and_the_computation(office, approver):
    case = case_for(K.FEE_NOTICE, office=office, approver=approver)
    letter = letter_draft(case=case, actor=approver, kind=K.FEE_NOTICE)
    assert letter.content["paragraphs"][1] == (
        "计收方式：按量计收。计算过程：按量计收：共 150 页。第1–30页：30页×0元＝0元；"
        "第31–100页：70页×10元＝700元；第101–150页：50页×20元＝1000元。合计 1700.00 元。"
    )
    assert "应缴金额：人民币1700.00元" in pdf_text(letter).replace("\n", "")


def test_notices_that_decide_nothing_carry_no_remedies(office, approver):
    case = case_for(K.SUPPLEMENT_NOTICE, office=office, approver=approver)
    letter = letter_draft(case=case, actor=approver, kind=K.SUPPLEMENT_NOTICE)
    assert letter.content["remedies"] == ""
    assert "请提供文件名称或文号" in letter.content["paragraphs"][1]


def test_every_outcome_has_exactly_one_letter_family():
    for outcome in Outcome.values:
        families = [kind for kind, outcomes in REPLY_FAMILIES.items() if outcome in outcomes]
        if outcome in (Outcome.ABANDONED_NO_SUPPLEMENT, Outcome.ABANDONED_NO_FEE):
            assert families == [], outcome
        else:
            assert len(families) == 1, outcome
            assert reply_kind_for(outcome) == families[0]


def test_a_letter_the_case_does_not_support_is_refused_without_a_number(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    events = case.events.count()
    with pytest.raises(InvalidInput) as error:
        letter_draft(case=case, actor=approver, kind=K.FEE_NOTICE)
    assert error.value.message == "该申请没有收费通知记录。"
    assert case.events.count() == events
    assert Letter.objects.count() == 0
    # The next letter still gets number 1.
    letter = letter_draft(case=case, actor=approver, kind=K.REGISTRATION_RECEIPT)
    assert letter.sequence == 1


def test_a_wrong_reply_family_is_refused(office, approver):
    case = case_for(K.REPLY_DISCLOSED, office=office, approver=approver)
    with pytest.raises(InvalidInput):
        letter_draft(case=case, actor=approver, kind=K.REPLY_WITHHELD)


def test_numbers_follow_the_agency_pattern_and_restart_each_year(tree, office, approver):
    general = letter_template_customize(agency=office, kind="", actor=approver)
    general.number_pattern = "安府办公开〔{year}〕{seq3}号"
    general.letterhead = "安顺市人民政府办公室（政务公开）"
    letter_template_save(template=general, actor=approver)
    case = case_in_state(S.REGISTERED, agency=office, actor=approver)
    first = letter_draft(case=case, actor=approver, kind=K.REGISTRATION_RECEIPT)
    second = letter_draft(case=case, actor=approver, kind=K.REGISTRATION_RECEIPT)
    year = timezone.localdate().year
    assert [first.number, second.number] == [
        f"安府办公开〔{year}〕001号",
        f"安府办公开〔{year}〕002号",
    ]
    assert first.content["letterhead"] == "安顺市人民政府办公室（政务公开）"
    assert "安顺市人民政府办公室（政务公开）" in pdf_text(first)
    # Another agency has its own sequence; a new year starts again at 1.
    assert letter_number_allocate(agency=tree["dept"], year=year) == 1
    assert letter_number_allocate(agency=office, year=year + 1) == 1
    assert letter_number_allocate(agency=office, year=year) == 3
    assert format_number("〔{year}〕第{seq}号", year=2025, sequence=12) == "〔2025〕第12号"


def test_an_agency_edits_the_wording_of_one_kind(office, approver):
    row = letter_template_customize(agency=office, kind=K.REGISTRATION_RECEIPT, actor=approver)
    row.body = "{applicant_name}于{received_on}提交的申请已登记，编号{tracking_number}。"
    letter_template_save(template=row, actor=approver)
    case = case_in_state(S.REGISTERED, agency=office, actor=approver)
    letter = letter_draft(case=case, actor=approver, kind=K.REGISTRATION_RECEIPT)
    received = case.received_on
    assert letter.content["paragraphs"] == [
        f"张三于{received.year}年{received.month}月{received.day}日提交的申请已登记，编号{case.tracking_number}。"
    ]


def test_template_validation(office, approver):
    row = LetterTemplate(
        agency=office, kind=K.REGISTRATION_RECEIPT, body="{applicant_name}{x.y}{secret}"
    )
    with pytest.raises(InvalidInput) as error:
        letter_template_save(template=row, actor=approver)
    assert error.value.message == "模板含有未知字段：{secret}。"
    row = LetterTemplate(agency=office, kind="", number_pattern="〔{year}〕号")
    with pytest.raises(InvalidInput):
        letter_template_save(template=row, actor=approver)
    row = LetterTemplate(agency=office, kind="", number_pattern="〔{year}〕{seq}{other}号")
    with pytest.raises(InvalidInput):
        letter_template_save(template=row, actor=approver)
    assert LetterTemplate.objects.count() == 0


def test_another_agency_may_not_edit_templates(tree, office):
    stranger = caseworker(tree["dept"], Role.ADMINISTRATOR)
    with pytest.raises(ActionForbidden):
        letter_template_customize(agency=office, kind="", actor=stranger)


def test_serving_the_reply_letter_serves_the_reply(office, approver):
    case = case_for(K.REPLY_DISCLOSED, office=office, approver=approver)
    letter = letter_draft(case=case, actor=approver, kind="reply")
    served_on = timezone.localdate()
    letter = letter_serve(
        letter=letter,
        actor=approver,
        served_on=served_on,
        method="post",
        tracking_number="RA473124829CN",
    )
    case.refresh_from_db()
    assert case.state == S.REPLIED
    assert case.replied_on == served_on
    assert case.outcome == Outcome.DISCLOSED
    assert (letter.served_on, letter.service_method) == (served_on, "post")
    serve = CaseEvent.objects.filter(case=case, kind=EventKind.SERVE_REPLY).get()
    assert serve.data["served_on"] == served_on.isoformat()
    assert serve.data["service_method"] == "post"
    assert serve.data["tracking_number"] == "RA473124829CN"
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.LETTER_SERVED).exists()
    with pytest.raises(TransitionRefused):
        letter_serve(letter=letter, actor=approver, served_on=served_on, method="post")


def test_a_reply_letter_that_no_longer_matches_the_draft_is_refused(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    case = svc.case_submit_for_approval(case=case, actor=approver, outcome=Outcome.DISCLOSED)
    letter = letter_draft(case=case, actor=approver, kind="reply")  # drafted for the head
    assert letter.kind == K.REPLY_DISCLOSED
    with pytest.raises(TransitionRefused):  # not approved yet: serving it would be no reply
        letter_serve(letter=letter, actor=approver, served_on=timezone.localdate(), method="post")
    case = svc.case_send_back(case=case, actor=approver, reason="应为不予公开")
    case = svc.case_submit_for_approval(
        case=case, actor=approver, outcome=Outcome.WITHHELD_PERSONAL_PRIVACY
    )
    case = svc.case_approve(case=case, actor=approver)
    with pytest.raises(TransitionRefused) as error:
        letter_serve(letter=letter, actor=approver, served_on=timezone.localdate(), method="post")
    assert error.value.message == "答复书与当前拟答复结果不一致，请重新制作答复书。"
    case.refresh_from_db()
    assert case.state == S.APPROVED
    assert Letter.objects.get(pk=letter.pk).served_on is None


def test_serving_another_letter_writes_one_event(office, approver):
    case = case_for(K.SUPPLEMENT_NOTICE, office=office, approver=approver)
    letter = letter_draft(case=case, actor=approver, kind=K.SUPPLEMENT_NOTICE)
    day = timezone.localdate()
    letter_serve(letter=letter, actor=approver, served_on=day, method="email")
    event = CaseEvent.objects.filter(case=case, kind=EventKind.LETTER_SERVED).get()
    assert event.data == {
        "letter_id": letter.pk,
        "number": letter.number,
        "kind": K.SUPPLEMENT_NOTICE,
        "served_on": day.isoformat(),
        "method": "email",
    }
    case.refresh_from_db()
    assert case.state == S.AWAITING_SUPPLEMENT


def test_bad_service_input_is_refused(office, approver):
    case = case_for(K.SUPPLEMENT_NOTICE, office=office, approver=approver)
    letter = letter_draft(case=case, actor=approver, kind=K.SUPPLEMENT_NOTICE)
    with pytest.raises(InvalidInput):
        letter_serve(letter=letter, actor=approver, served_on=timezone.localdate(), method="pigeon")
    with pytest.raises(InvalidInput):
        letter_serve(
            letter=letter,
            actor=approver,
            served_on=timezone.localdate() + dt.timedelta(days=1),
            method="post",
        )
    assert Letter.objects.get(pk=letter.pk).served_on is None


def test_another_agency_may_not_draft(tree, office, approver):
    case = case_in_state(S.REGISTERED, agency=office, actor=approver)
    stranger = caseworker(tree["dept"], Role.HANDLER)
    with pytest.raises(ActionForbidden):
        letter_draft(case=case, actor=stranger, kind=K.REGISTRATION_RECEIPT)
    assert Letter.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_drafts_get_consecutive_numbers(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite serialises writers")
    office = tree["office"]
    approver = caseworker(office, Role.APPROVER)
    cases = [case_in_state(S.REGISTERED, agency=office, actor=approver) for _ in range(6)]
    barrier = threading.Barrier(len(cases))
    errors = []

    def draft(case):
        try:
            barrier.wait()
            letter_draft(case=case, actor=approver, kind=K.REGISTRATION_RECEIPT)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=draft, args=(case,)) for case in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(Letter.objects.values_list("sequence", flat=True)) == [1, 2, 3, 4, 5, 6]


# --- the staff API and the admin -----------------------------------------------------------------
def _client(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_staff_api_drafts_downloads_and_serves_a_reply_letter(tree, office, approver):
    case = case_for(K.REPLY_PARTIAL, office=office, approver=approver)
    client = _client(approver)
    response = client.post(
        f"/api/v1/staff/cases/{case.pk}/letters/", {"reply": True}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["letter_kind"], body["number"]) == (
        K.REPLY_PARTIAL,
        f"〔{timezone.localdate().year}〕第1号",
    )
    pdf = client.get(body["pdf_url"])
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content)[:5] == b"%PDF-"
    assert client.get(body["docx_url"]).status_code == 200
    bad = client.post(
        f"/api/v1/staff/cases/{case.pk}/letters/",
        {"reply": True, "letter_kind": K.FEE_NOTICE},
        format="json",
    )
    assert bad.status_code == 400
    served = client.post(
        f"/api/v1/staff/letters/{body['id']}/serve/",
        {"served_on": timezone.localdate().isoformat(), "method": "direct"},
        format="json",
    )
    assert served.status_code == 200, served.content
    case.refresh_from_db()
    assert (case.state, case.replied_on) == (S.REPLIED, timezone.localdate())
    legal = client.get(f"/api/v1/staff/cases/{case.pk}/legal/").json()
    assert [letter["id"] for letter in legal["letters"]] == [body["id"]]
    # Another agency's caseworker sees neither the letter nor its file.
    stranger = _client(caseworker(tree["dept"], Role.APPROVER))
    assert stranger.get(body["pdf_url"]).status_code == 404
    assert (
        stranger.post(
            f"/api/v1/staff/letters/{body['id']}/serve/",
            {"served_on": "2025-01-01", "method": "post"},
            format="json",
        ).status_code
        == 404
    )


def test_admin_pages_of_the_legal_records_open(client, office, approver):
    from django.contrib.auth import get_user_model

    case = case_for(K.SUPPLEMENT_NOTICE, office=office, approver=approver)
    letter = letter_draft(case=case, actor=approver, kind=K.SUPPLEMENT_NOTICE)
    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client.force_login(admin_user)
    for page in (
        "review",
        "lawsuit",
        "complaint",
        "feenotice",
        "letter",
        "lettertemplate",
        "repeatcheck",
    ):
        response = client.get(f"/admin/requests_app/{page}/")
        assert response.status_code == 200, page
    assert letter.number in client.get("/admin/requests_app/letter/").content.decode()
    response = client.post(
        "/admin/requests_app/lettertemplate/add/",
        {
            "agency": office.pk,
            "kind": "",
            "number_pattern": "〔{year}〕{seq}{oops}号",
            "title": "",
            "body": "",
        },
    )
    assert response.status_code == 200
    assert "文号格式只能使用" in response.content.decode()
    assert LetterTemplate.objects.count() == 0
    response = client.post(
        "/admin/requests_app/letter/",
        {"action": "serve_today_by_post", "_selected_action": [letter.pk]},
    )
    assert response.status_code == 302
    assert Letter.objects.get(pk=letter.pk).served_on == timezone.localdate()


def embedded_font_files(letter: Letter) -> list[str]:
    """Names of the fonts whose glyphs travel inside the PDF (a FontFile2 = TrueType)."""
    with letter.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    names = []
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        parts = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
        for part in parts:
            descriptor = part.get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                names.append(str(descriptor.get_object()["/FontName"]))
    return names


def test_the_chinese_font_is_embedded_where_the_machine_has_one(office, approver, media):
    from requests_app.letters.render import font_path

    if font_path() != "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc":
        pytest.skip("no TrueType CJK font installed (apt-get install fonts-wqy-zenhei)")
    case = case_for(K.REGISTRATION_RECEIPT, office=office, approver=approver)
    letter = letter_draft(case=case, actor=approver, kind=K.REGISTRATION_RECEIPT)
    fonts = embedded_font_files(letter)
    # reportlab embeds subsets named after the font file's own face name.
    assert fonts and all(name.startswith("/") and "+WenQuanYiZenHei" in name for name in fonts)
    assert case.tracking_number in pdf_text(letter)
