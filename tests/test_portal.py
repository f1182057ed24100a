"""The applicants' pages (portal/): agencies and guides, apply, follow, 补正, withdraw, ask."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from requests_app.choices import CaseState
from requests_app.models import Case
from tests.factories import application_fields, valid_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    return Client(enforce_csrf_checks=True)


def _csrf(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return (
        response.cookies["csrftoken"].value
        if "csrftoken" in response.cookies
        else client.cookies["csrftoken"].value
    )


def _form(**overrides) -> dict:
    data = {
        "applicant_type": "natural_person",
        "applicant_name": "张三",
        "id_type": "mainland_id",
        "id_number": valid_id_number(7),
        "legal_representative": "",
        "contact_person": "",
        "phone": "13800138000",
        "email": "zhangsan@example.com",
        "address": "贵州省安顺市西秀区南华路2号",
        "postal_code": "561000",
        "description": "申请公开2023年本机关财政预算执行情况报告。",
        "document_title": "2023年财政预算执行情况报告",
        "document_number": "",
        "purpose": "",
        "information_form": "electronic",
        "delivery_method": "email",
    }
    data.update(overrides)
    return data


def _apply(client, agency, **overrides):
    """Fill the form, review it, confirm it: the final response (a redirect when accepted)."""
    url = reverse("portal:apply", args=[agency.code])
    token = _csrf(client, url)
    data = {"csrfmiddlewaretoken": token, "step": "review", **_form(**overrides)}
    review = client.post(url, data)
    assert review.status_code == 200, review.content.decode()[:2000]
    key = re.search(r'name="submission_key" value="(\w+)"', review.content.decode()).group(1)
    return client.post(url, {**data, "step": "confirm", "submission_key": key})


# --- 1. the agencies and their guides -------------------------------------------------------------
def test_the_front_page_lists_the_agencies_and_searches_by_name(client, tree):
    page = client.get("/").content.decode()
    for agency in ("安顺市人民政府办公室", "安顺市财政局", "南华街道办事处"):
        assert agency in page
    found = client.get("/", {"q": "财政"}).content.decode()
    assert "安顺市财政局" in found and "南华街道办事处" not in found
    assert "名称含“财政”的机关：1 个" in found


def test_the_guide_shows_contact_hours_what_is_not_handled_fees_and_a_link_to_apply(client, tree):
    office = tree["office"]
    office.office_hours = "工作日 9:00–12:00，14:00–17:00"
    office.not_handled = "信访事项\n户籍档案查询"
    office.save()
    page = client.get(reverse("portal:guide", args=[office.code])).content.decode()
    for text in (
        "贵州省安顺市西秀区某路1号",
        "0851-33220000",
        "工作日 9:00–12:00，14:00–17:00",
        "<li>信访事项</li>",
        "<li>户籍档案查询</li>",
        "累计申请10件以内免费",  # the national fee standard when the office wrote none
        "安顺市人民政府申请行政复议",
        reverse("portal:apply", args=[office.code]),
    ):
        assert text in page, text


def test_an_unknown_agency_is_a_404(client, tree):
    assert client.get(reverse("portal:guide", args=["nope"])).status_code == 404


# --- 2. apply ------------------------------------------------------------------------------------
def test_an_application_through_the_page_is_a_case_with_the_codes_shown_once(client, tree):
    office = tree["office"]
    response = _apply(client, office)
    assert response.status_code == 302 and response["Location"] == reverse("portal:submitted")
    case = Case.objects.get()
    assert case.agency == office and case.channel == "online"
    assert case.state == CaseState.SUBMITTED
    assert case.document_number == "2023年财政预算执行情况报告"
    assert case.applicant_name == "张三" and case.sms_opt_in is False
    page = client.get(reverse("portal:submitted")).content.decode()
    code = re.search(r'查询码<strong class="code">(\w+)</strong>', page).group(1)
    assert case.tracking_number in page
    from requests_app.services.intake import access_code_matches

    assert access_code_matches(case, code)
    again = client.get(reverse("portal:submitted")).content.decode()
    assert code not in again and "不再显示" in again
    pdf = client.get(reverse("portal:receipt"))
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    text = re.sub(r"\s+", "", text)
    assert case.tracking_number in text and code in text and "政府信息公开申请提交回执" in text


def test_a_double_submit_makes_one_case(client, tree):
    office = tree["office"]
    url = reverse("portal:apply", args=[office.code])
    token = _csrf(client, url)
    data = {"csrfmiddlewaretoken": token, "step": "review", **_form()}
    review = client.post(url, data).content.decode()
    key = re.search(r'name="submission_key" value="(\w+)"', review).group(1)
    first = client.post(url, {**data, "step": "confirm", "submission_key": key})
    second = client.post(url, {**data, "step": "confirm", "submission_key": key})
    assert first.status_code == second.status_code == 302
    assert Case.objects.count() == 1


def test_an_organisation_applies_with_its_credit_code(client, tree):
    from requests_app.validation import credit_code_check_char

    code = "91520400MA6DK" + "0000"
    code += credit_code_check_char(code)
    response = _apply(
        client,
        tree["office"],
        applicant_type="commercial_enterprise",
        applicant_name="安顺某某有限公司",
        id_type="credit_code",
        id_number=code,
        legal_representative="李四",
        contact_person="王五",
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.applicant_type, case.id_number, case.legal_representative) == (
        "commercial_enterprise",
        code,
        "李四",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", "520402199001011234", "身份证号码校验位不正确。"),
        ("phone", "12345", "电话号码格式不正确（手机号 11 位，或区号-座机号）。"),
        ("postal_code", "56100", "邮政编码应为 6 位数字。"),
        ("email", "", "选择电子邮件方式获取信息时须填写电子邮箱。"),
        ("description", "", "该字段是必填项。"),
    ],
)
def test_bad_input_gets_the_form_back_with_the_fields_chinese_message_and_what_was_typed(
    client, tree, field, value, message
):
    office = tree["office"]
    url = reverse("portal:apply", args=[office.code])
    token = _csrf(client, url)
    data = {"csrfmiddlewaretoken": token, "step": "review", **_form(**{field: value})}
    response = client.post(url, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'value="贵州省安顺市西秀区南华路2号"' in page  # what was typed is kept
    assert "申请公开2023年本机关财政预算执行情况报告。" in page or field == "description"
    assert Case.objects.count() == 0


def test_the_page_and_the_api_refuse_the_same_input_with_the_same_message(client, tree):
    from rest_framework.test import APIClient

    bad = application_fields(phone="12345", agency=tree["office"].code)
    api = APIClient().post("/api/v1/applications/", bad, format="json").json()
    url = reverse("portal:apply", args=[tree["office"].code])
    token = _csrf(client, url)
    page = client.post(
        url, {"csrfmiddlewaretoken": token, "step": "review", **_form(phone="12345")}
    ).content.decode()
    assert api["fields"]["phone"][0] in page


def test_a_post_without_the_csrf_token_is_refused(client, tree):
    url = reverse("portal:apply", args=[tree["office"].code])
    response = client.post(url, {"step": "confirm", **_form()})
    assert response.status_code == 403
    assert Case.objects.count() == 0


def test_the_applicants_own_similar_earlier_application_is_offered_before_submitting(client, tree):
    from requests_app.services.intake import case_submit

    office = tree["office"]
    case_submit(
        agency=office,
        fields=application_fields(
            id_number=_form()["id_number"], description="申请公开2023年本机关财政预算执行情况报告"
        ),
    )
    url = reverse("portal:apply", args=[office.code])
    token = _csrf(client, url)
    page = client.post(
        url, {"csrfmiddlewaretoken": token, "step": "review", **_form()}
    ).content.decode()
    assert "您此前提交过内容相似的申请" in page and "相似度约 100%" in page
    other = client.post(
        url,
        {"csrfmiddlewaretoken": token, "step": "review", **_form(id_number=valid_id_number(99))},
    ).content.decode()
    assert "您此前提交过内容相似的申请" not in other


def test_after_a_few_submissions_from_one_ip_the_page_asks_for_a_captcha(client, tree, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "submission_captcha": "2/hour",
        },
    }
    office = tree["office"]
    for n in range(2):
        assert _apply(client, office, description=f"申请公开第{n}号文件").status_code == 302
    url = reverse("portal:apply", args=[office.code])
    token = _csrf(client, url)
    data = {"csrfmiddlewaretoken": token, "step": "review", **_form(description="第三份")}
    review = client.post(url, data).content.decode()
    assert 'name="captcha_1"' in review
    key = re.search(r'name="submission_key" value="(\w+)"', review).group(1)
    hashkey = re.search(r'name="captcha_0" value="(\w+)"', review).group(1)
    wrong = client.post(
        url,
        {**data, "step": "confirm", "submission_key": key, "captcha_0": hashkey, "captcha_1": "x"},
    )
    assert wrong.status_code == 400 and "验证码不正确" in wrong.content.decode()
    assert Case.objects.count() == 2
    right = client.post(
        url,
        {
            **data,
            "step": "confirm",
            "submission_key": key,
            "captcha_0": hashkey,
            "captcha_1": "PASSED",
        },
    )
    assert right.status_code == 302 and Case.objects.count() == 3


def test_the_submission_throttle_of_the_api_applies_to_the_page(client, tree, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "submission": "1/minute",
            "submission_captcha": "100/hour",
        },
    }
    office = tree["office"]
    assert _apply(client, office, description="第一份").status_code == 302
    refused = _apply(client, office, description="第二份")
    assert refused.status_code == 429 and "后再试" in refused.content.decode()
    assert refused["Retry-After"]
    assert Case.objects.count() == 1
