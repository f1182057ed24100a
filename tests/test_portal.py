"""The applicants' pages (portal/): agencies and guides, apply, follow, 补正, withdraw, ask."""

from __future__ import annotations

import io
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from requests_app.choices import CaseState, Role
from requests_app.models import Case, CaseEvent, EventKind, Notification
from requests_app.services import cases as svc
from requests_app.services.applicant import case_question_answer
from tests.factories import application_fields, caseworker, valid_id_number

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


# --- 3. follow ----------------------------------------------------------------------------------
def _submit(agency, **fields):
    from requests_app.services.intake import case_submit

    return case_submit(agency=agency, fields=application_fields(**fields))


def _track(client, number: str, code: str, **extra):
    token = _csrf(client, reverse("portal:track"))
    return client.post(
        reverse("portal:track"),
        {"csrfmiddlewaretoken": token, "tracking_number": number, "access_code": code, **extra},
    )


def _follow(client, case, code):
    response = _track(client, case.tracking_number, code)
    assert response.status_code == 302 and response["Location"] == reverse("portal:case")
    return client.get(reverse("portal:case"))


def test_the_right_pair_opens_the_status_page_and_no_url_carries_either(client, tree):
    case, code = _submit(tree["office"])
    page = _follow(client, case, code)
    assert page.status_code == 200
    html = page.content.decode()
    assert case.tracking_number in html and "申请已提交，等待本机关确认收到。" in html
    assert code not in html
    hrefs = re.findall(r'(?:href|action|src)="([^"]*)"', html)
    assert hrefs and not any(case.tracking_number in h or code in h for h in hrefs)
    assert page["Cache-Control"] == "no-store"


def test_a_wrong_code_is_the_same_404_as_an_unknown_number_and_then_asks_for_a_captcha(
    client, tree
):
    case, code = _submit(tree["office"])
    wrong = _track(client, case.tracking_number, "AAAAAAAAAA")
    assert wrong.status_code == 404
    assert "未找到该申请，或查询码不正确。" in wrong.content.decode()
    assert 'name="captcha_1"' in wrong.content.decode()
    assert case.tracking_number in wrong.content.decode()  # the number typed is kept
    # Now every pair from this IP needs the captcha, the right one too.
    refused = _track(client, case.tracking_number, code)
    assert refused.status_code == 400 and "该字段是必填项" in refused.content.decode()

    def captcha() -> dict:
        form = client.get(reverse("portal:track")).content.decode()
        return {
            "captcha_0": re.search(r'name="captcha_0" value="(\w+)"', form).group(1),
            "captcha_1": "PASSED",
        }

    unknown = _track(client, "GK20990101ZZZZZZ", "AAAAAAAAAA", **captcha())
    assert unknown.status_code == 404
    assert unknown.content.decode().replace("GK20990101ZZZZZZ", case.tracking_number).count(
        "未找到该申请，或查询码不正确。"
    ) == wrong.content.decode().count("未找到该申请，或查询码不正确。")
    ok = _track(client, case.tracking_number, code, **captcha())
    assert ok.status_code == 302


def test_wrong_codes_count_against_the_apis_tracking_failure_throttle(client, tree, settings):
    from rest_framework.test import APIClient

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "tracking_failure": "2/hour",
        },
    }
    case, code = _submit(tree["office"])
    _track(client, case.tracking_number, "AAAAAAAAAA")
    api = APIClient().post(
        "/api/v1/applications/track/",
        {"tracking_number": case.tracking_number, "access_code": "BBBBBBBBBB"},
        format="json",
    )
    assert api.status_code == 404
    form = client.get(reverse("portal:track")).content.decode()
    hashkey = re.search(r'name="captcha_0" value="(\w+)"', form).group(1)
    refused = _track(client, case.tracking_number, code, captcha_0=hashkey, captcha_1="PASSED")
    assert refused.status_code == 429 and "小时后再试" in refused.content.decode()


def test_the_status_page_without_a_session_goes_to_the_tracking_form(client, tree):
    response = client.get(reverse("portal:case"))
    assert response.status_code == 302 and response["Location"] == reverse("portal:track")


def test_the_session_ends_on_leaving(client, tree):
    case, code = _submit(tree["office"])
    page = _follow(client, case, code)
    token = page.cookies.get("csrftoken") or client.cookies["csrftoken"]
    client.post(reverse("portal:leave"), {"csrfmiddlewaretoken": token.value})
    assert client.get(reverse("portal:case")).status_code == 302


def test_the_status_page_shows_dates_letters_history_without_internal_steps(
    client, tree, handler, approver
):
    from requests_app.services.letters import letter_draft, letter_serve

    office = tree["office"]
    case, code = _submit(office)
    case = svc.case_confirm_receipt(case=case, actor=handler)
    case = svc.case_start_processing(case=case, actor=handler)
    case = svc.case_add_note(case=case, actor=handler, text="内部备注：此人多次申请")
    case = svc.case_extend(case=case, actor=approver, days=10, reason="需要检索多年档案")
    letter = letter_draft(case=case, actor=handler, kind="extension_notice")
    letter_serve(letter=letter, actor=handler, served_on=case.received_on, method="email")
    html = _follow(client, case, code).content.decode()
    assert "正在办理" in html
    assert "（已延期）" in html and f"{case.reply_due_on.year}年" in html
    assert "延长 10 个工作日" in html
    assert "内部备注" not in html and handler.first_name not in html
    assert "分办" not in html
    assert letter.title in html
    download = client.get(reverse("portal:letter", args=[letter.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF")


def test_a_letter_of_another_case_or_not_served_is_not_downloadable(client, tree, handler):
    from requests_app.services.letters import letter_draft

    office = tree["office"]
    case, code = _submit(office)
    case = svc.case_confirm_receipt(case=case, actor=handler)
    unserved = letter_draft(case=case, actor=handler, kind="registration_receipt")
    other, _ = _submit(office, id_number=valid_id_number(5))
    other = svc.case_confirm_receipt(case=other, actor=handler)
    theirs = letter_draft(case=other, actor=handler, kind="registration_receipt")
    from requests_app.services.letters import letter_serve

    letter_serve(letter=theirs, actor=handler, served_on=other.received_on, method="email")
    _follow(client, case, code)
    assert client.get(reverse("portal:letter", args=[unserved.pk])).status_code == 404
    assert client.get(reverse("portal:letter", args=[theirs.pk])).status_code == 404


def test_after_the_reply_the_page_says_where_and_by_when_to_apply_for_review_or_sue(
    client, tree, handler, approver
):
    office = tree["office"]
    case, code = _submit(office)
    case = svc.case_confirm_receipt(case=case, actor=handler)
    case = svc.case_start_processing(case=case, actor=handler)
    case = svc.case_submit_for_approval(case=case, actor=handler, outcome="disclosed")
    case = svc.case_approve(case=case, actor=approver)
    case = svc.case_serve_reply(case=case, actor=handler)
    html = _follow(client, case, code).content.decode()
    from requests_app.calendars import calendar_for_agency
    from requests_app.letters.facts import remedy_deadlines

    deadlines = remedy_deadlines(
        "reply_disclosed", case.replied_on, calendar=calendar_for_agency(office)
    )
    review_by = deadlines["review_by"]
    assert "可以自收到之日起六十日内向安顺市人民政府申请行政复议" in html
    assert f"最迟 {review_by.year}年{review_by.month}月{review_by.day}日" in html
    assert "安顺市西秀区人民法院" in html


def test_remedy_deadlines_count_from_the_day_after_and_end_on_a_working_day():
    import datetime as dt

    from requests_app.deadlines import WorkCalendar
    from requests_app.letters.facts import remedy_deadlines

    calendar = WorkCalendar(known_years=frozenset({2024, 2025}))
    # 2024-03-01 + 60 days = 2024-04-30 (a Tuesday); + 6 months = 2024-09-01 (a Sunday → Monday).
    got = remedy_deadlines("reply_disclosed", dt.date(2024, 3, 1), calendar=calendar)
    assert got == {
        "review_by": dt.date(2024, 4, 30),
        "suit_by": dt.date(2024, 9, 2),
        "review_first": False,
    }
    withheld = remedy_deadlines("reply_withheld", dt.date(2024, 3, 1), calendar=calendar)
    assert withheld["review_first"] is True and withheld["suit_by"] is None
    # 31 August + 6 months: the last day of February.
    assert remedy_deadlines("reply_disclosed", dt.date(2023, 8, 31), calendar=WorkCalendar())[
        "suit_by"
    ] == dt.date(2024, 2, 29)


# --- 4. 补正, withdraw, questions ------------------------------------------------------------------
def _post(client, name: str, data: dict):
    return client.post(
        reverse(f"portal:{name}"),
        {"csrfmiddlewaretoken": client.cookies["csrftoken"].value, **data},
    )


def test_answering_the_supplement_online_restarts_the_clock_and_tells_the_handler(
    client, tree, handler, monkeypatch
):
    import datetime as dt

    from django.utils import timezone

    office = tree["office"]
    case, code = _submit(office)
    case = svc.case_confirm_receipt(case=case, actor=handler)
    case = svc.case_start_processing(case=case, actor=handler)
    case = svc.case_request_supplement(case=case, actor=handler, items="请写明文件的年份")
    html = _follow(client, case, code).content.decode()
    assert "请写明文件的年份" in html and "提交补正" in html
    empty = _post(client, "supplement", {"text": "  "})
    assert empty.status_code == 400 and "该字段是必填项" in empty.content.decode()
    response = _post(client, "supplement", {"text": "所需文件为2023年度的报告。"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.PROCESSING
    from requests_app.services.intake import online_receipt_day

    assert case.restarted_on == online_receipt_day(office, timezone.now())
    event = CaseEvent.objects.filter(case=case, kind=EventKind.RECEIVE_SUPPLEMENT).get()
    assert event.actor is None and event.actor_label == "申请人（网上）"
    assert event.data["text"] == "所需文件为2023年度的报告。"
    told = Notification.objects.filter(recipient=handler, channel="inbox").get()
    assert case.tracking_number in told.subject and "所需文件为2023年度的报告。" in told.body
    page = client.get(reverse("portal:case")).content.decode()
    assert "所需文件为2023年度的报告。" in page and "（您）" in page
    assert dt.date  # the R′ day rule itself is tested below


def test_a_supplement_sent_on_a_non_working_day_counts_from_the_next_working_day(tree):
    import datetime as dt

    from requests_app.services.intake import online_receipt_day

    saturday = dt.datetime(2024, 3, 2, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert online_receipt_day(tree["office"], saturday) == dt.date(2024, 3, 4)


def test_the_supplement_form_is_refused_when_no_supplement_is_awaited(client, tree, handler):
    case, code = _submit(tree["office"])
    case = svc.case_confirm_receipt(case=case, actor=handler)
    _follow(client, case, code)
    response = _post(client, "supplement", {"text": "补充"})
    assert response.status_code == 400
    assert "当前状态“已登记”下不能执行“收到补正”。" in response.content.decode()
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.RECEIVE_SUPPLEMENT).exists()


def test_withdrawing_needs_the_tick_and_closes_the_case(client, tree, handler, registrar):
    case, code = _submit(tree["office"])
    case = svc.case_confirm_receipt(case=case, actor=handler)
    _follow(client, case, code)
    unticked = _post(client, "withdraw", {"reason": "已不需要"})
    assert unticked.status_code == 400 and "请勾选确认后再撤回。" in unticked.content.decode()
    assert 'value="已不需要"' in unticked.content.decode() or "已不需要</textarea>" in (
        unticked.content.decode()
    )
    case.refresh_from_db()
    assert case.state == CaseState.REGISTERED
    response = _post(client, "withdraw", {"reason": "已不需要", "confirm": "on"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.outcome == "withdrawn"
    event = CaseEvent.objects.filter(case=case, kind=EventKind.WITHDRAW).get()
    assert event.actor_label == "申请人（网上）" and event.reason == "已不需要"
    assert Notification.objects.filter(recipient=registrar, channel="inbox").count() == 1
    page = client.get(reverse("portal:case")).content.decode()
    assert "撤回申请</button>" not in page


def test_a_question_is_kept_in_the_history_and_answered_from_the_office(
    client, tree, handler, registrar
):
    case, code = _submit(tree["office"])
    _follow(client, case, code)
    assert _post(client, "question", {"text": "请问大概何时答复？"}).status_code == 302
    question = CaseEvent.objects.filter(case=case, kind=EventKind.QUESTION_ASKED).get()
    assert question.reason == "请问大概何时答复？" and question.actor_label == "申请人（网上）"
    assert Notification.objects.filter(recipient=registrar, channel="inbox").count() == 1
    case_question_answer(
        case=case, actor=registrar, question_id=question.pk, text="预计下周内答复。"
    )
    page = client.get(reverse("portal:case")).content.decode()
    assert "请问大概何时答复？" in page and "预计下周内答复。" in page
    assert registrar.first_name not in page
    assert Notification.objects.filter(
        case=case, channel="email", kind="applicant_question_answered"
    ).exists()
    from requests_app.services.errors import TransitionRefused

    with pytest.raises(TransitionRefused) as refused:
        case_question_answer(case=case, actor=registrar, question_id=question.pk, text="再答")
    assert refused.value.message == "该留言已答复。"
    assert CaseEvent.objects.filter(case=case, kind=EventKind.QUESTION_ANSWERED).count() == 1


def test_at_most_three_unanswered_questions(client, tree):
    case, code = _submit(tree["office"])
    _follow(client, case, code)
    for n in range(3):
        assert _post(client, "question", {"text": f"问题{n}"}).status_code == 302
    refused = _post(client, "question", {"text": "第四个"})
    assert refused.status_code == 400
    assert CaseEvent.objects.filter(case=case, kind=EventKind.QUESTION_ASKED).count() == 3


def test_a_caseworker_of_another_agency_cannot_answer(client, tree):
    from requests_app.services.errors import ActionForbidden

    case, code = _submit(tree["office"])
    _follow(client, case, code)
    _post(client, "question", {"text": "问"})
    question = CaseEvent.objects.get(case=case, kind=EventKind.QUESTION_ASKED)
    stranger = caseworker(tree["dept"], Role.REGISTRAR)
    with pytest.raises(ActionForbidden):
        case_question_answer(case=case, actor=stranger, question_id=question.pk, text="答")
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.QUESTION_ANSWERED).exists()


def test_the_office_answers_a_question_on_the_admin_case_page(tree, registrar):
    from requests_app.services.applicant import applicant_question_ask

    case, _code = _submit(tree["office"])
    question = applicant_question_ask(case=case, text="材料是否齐全？")
    staff = Client()
    staff.force_login(registrar)
    page = staff.get(reverse("admin:requests_app_case_change", args=[case.pk])).content.decode()
    url = reverse("admin:requests_app_case_act_on", args=[case.pk, "question_answer", question.pk])
    assert "材料是否齐全？" in page and url in page
    case.refresh_from_db()
    response = staff.post(url, {"expected_version": case.version, "text": "材料齐全，正在办理。"})
    assert response.status_code == 302
    answer = CaseEvent.objects.get(case=case, kind=EventKind.QUESTION_ANSWERED)
    assert answer.reason == "材料齐全，正在办理。" and answer.actor == registrar
    page = staff.get(reverse("admin:requests_app_case_change", args=[case.pk])).content.decode()
    assert "材料齐全，正在办理。" in page and url not in page
    # Answered once: the form is no longer offered, and another agency's staff may not.
    stranger = Client()
    stranger.force_login(caseworker(tree["dept"], Role.REGISTRAR))
    assert stranger.post(url, {"expected_version": case.version, "text": "x"}).status_code == 404


# --- 5. safety -----------------------------------------------------------------------------------
SECURITY_HEADERS = (
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
)


def test_the_pages_carry_the_security_headers_the_admin_has(client, tree):
    admin = client.get(reverse("admin:login"))
    for url in ("/", reverse("portal:guide", args=["city-office"]), reverse("portal:track")):
        page = client.get(url)
        for header in SECURITY_HEADERS:
            assert page.get(header) == admin.get(header) and page.get(header), (url, header)


def test_no_template_has_an_inline_script_or_style():
    from pathlib import Path

    import portal

    templates = Path(portal.__file__).parent / "templates"
    for path in templates.rglob("*.html"):
        text = path.read_text()
        assert "<script" not in text and "style=" not in text and "<style" not in text, path
        assert "//cdn" not in text and "http://" not in text and "https://" not in text, path


def test_every_form_carries_the_csrf_token(client, tree, handler):
    case, code = _submit(tree["office"])
    case = svc.case_confirm_receipt(case=case, actor=handler)
    case = svc.case_request_supplement(case=case, actor=handler, items="请写明年份")
    pages = [
        client.get(reverse("portal:apply", args=["city-office"])).content.decode(),
        client.get(reverse("portal:track")).content.decode(),
        _follow(client, case, code).content.decode(),
    ]
    for page in pages:
        forms = re.findall(r"<form [^>]*method=\"post\".*?</form>", page, re.S)
        assert forms
        for form in forms:
            assert 'name="csrfmiddlewaretoken"' in form


def test_no_personal_data_or_access_code_reaches_the_logs_or_a_url(client, tree, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    response = _apply(client, tree["office"], phone="13912345678")
    assert response.status_code == 302
    page = client.get(reverse("portal:submitted")).content.decode()
    code = re.search(r'查询码<strong class="code">(\w+)</strong>', page).group(1)
    case = Case.objects.get()
    client.get(reverse("portal:receipt"))
    _track(client, case.tracking_number, "WRONGCODE1")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (code, case.id_number, "13912345678", case.address, "张三"):
        assert secret not in logged, secret
    for url in re.findall(r'(?:href|action|src)="([^"]*)"', page):
        assert code not in url and case.id_number not in url


# --- the records store: released files, the reading room -------------------------------------------
@pytest.fixture
def records_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "records": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "records")},
        },
    }
    settings.MEDIA_ROOT = str(tmp_path / "media")


def released_case(office, handler, approver, *, publish: bool = True):
    """A case answered 部分公开 with an approved release served with the reply letter (the
    demo's path, through the services), published to the reading room."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from requests_app.choices import PageDecision, WithholdBasis
    from requests_app.management.sample_records import THIRD_PARTY, sample_pdf
    from requests_app.services import records as rec
    from requests_app.services.letters import letter_draft, letter_serve

    case, code = _submit(office, description="申请公开城南棚户区改造项目征收补偿情况。")
    case = svc.case_confirm_receipt(case=case, actor=handler)
    case = svc.case_start_processing(case=case, actor=handler)
    record = rec.record_upload(
        case=case,
        actor=handler,
        upload=SimpleUploadedFile("说明.pdf", sample_pdf()),
        title="城南棚户区改造项目征收补偿情况说明",
    )
    for suggestion in rec.suggestions_find(record=record, actor=handler, names=[THIRD_PARTY]):
        rec.suggestion_accept(
            suggestion=suggestion,
            actor=handler,
            basis=WithholdBasis.PERSONAL_PRIVACY,
            reason="个人信息",
        )
    rec.page_decide(
        page=record.pages.order_by("-index").first(),
        actor=handler,
        decision=PageDecision.WITHHOLD,
        basis=WithholdBasis.PROCESS_INFO,
        reason="内部讨论意见",
    )
    release = rec.release_build(case=case, actor=handler)
    case = svc.case_submit_for_approval(case=case, actor=handler, outcome="partially_disclosed")
    case = svc.case_approve(case=case, actor=approver)
    letter = letter_draft(case=case, actor=handler, kind="reply")
    letter_serve(letter=letter, actor=handler, served_on=timezone.localdate(), method="online")
    release.refresh_from_db()
    publication = None
    if publish:
        publication = rec.release_publish(
            release=release,
            actor=approver,
            title="城南棚户区改造项目征收补偿情况",
            summary="征收补偿的户数、补偿标准和已支付情况。",
        )
    case.refresh_from_db()
    return case, code, release, publication


def test_the_released_record_is_on_the_status_page_and_downloads(
    client, tree, handler, approver, records_root, caplog
):
    import logging

    from requests_app.management.sample_records import THIRD_PARTY, sample_id_number

    case, code, release, _publication = released_case(tree["office"], handler, approver)
    html = _follow(client, case, code).content.decode()
    item = release.files.get()
    url = reverse("portal:release-file", args=[item.pk])
    assert "答复提供的政府信息" in html and url in html
    with caplog.at_level(logging.INFO):
        response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = b"".join(response.streaming_content)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert case.tracking_number in text and "本页不予公开" in text  # the release copy's stamps
    assert THIRD_PARTY not in text and sample_id_number() not in text
    assert any("via=portal" in r.getMessage() for r in caplog.records)


def test_another_cases_release_is_not_downloadable(client, tree, handler, approver, records_root):
    _case, _code, release, _publication = released_case(tree["office"], handler, approver)
    other, code = _submit(tree["office"], id_number=valid_id_number(3))
    _follow(client, other, code)
    item = release.files.get()
    assert client.get(reverse("portal:release-file", args=[item.pk])).status_code == 404


def test_the_review_page_offers_similar_published_answers(
    client, tree, handler, approver, records_root
):
    _case, _code, _release, publication = released_case(tree["office"], handler, approver)
    url = reverse("portal:apply", args=["city-office"])
    token = _csrf(client, url)
    page = client.post(
        url,
        {
            "csrfmiddlewaretoken": token,
            "step": "review",
            **_form(
                id_number=valid_id_number(11), description="请公开城南棚户区改造的征收补偿情况"
            ),
        },
    ).content.decode()
    link = reverse("portal:publication", args=[publication.pk])
    assert "已经公开的相似信息" in page and link in page
    shown = client.get(link).content.decode()
    assert "城南棚户区改造项目征收补偿情况" in shown and "张三" not in shown
    file_url = reverse(
        "api:published-file", args=[publication.pk, publication.release.files.get().pk]
    )
    assert file_url in shown
    assert client.get(file_url).status_code == 200
    unrelated = client.post(
        url,
        {
            "csrfmiddlewaretoken": token,
            "step": "review",
            **_form(description="申请公开路灯维修合同"),
        },
    ).content.decode()
    assert "已经公开的相似信息" not in unrelated


# --- uploads: the identity document, the 授权委托书, 补正 files --------------------------------------
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def _apply_with_files(client, agency, files: dict, **overrides):
    url = reverse("portal:apply", args=[agency.code])
    token = _csrf(client, url)
    data = {"csrfmiddlewaretoken": token, "step": "review", **_form(**overrides)}
    review = client.post(url, data).content.decode()
    assert 'enctype="multipart/form-data"' in review and 'name="id_document"' in review
    key = re.search(r'name="submission_key" value="(\w+)"', review).group(1)
    return client.post(url, {**data, "step": "confirm", "submission_key": key, **files})


def test_the_id_document_and_authorization_are_stored_with_the_application(
    client, tree, records_root, registrar
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app.management.sample_records import sample_pdf

    response = _apply_with_files(
        client,
        tree["office"],
        {
            "id_document": SimpleUploadedFile("身份证.jpg", PNG),  # a PNG whatever its name
            "authorization": SimpleUploadedFile("委托书.pdf", sample_pdf(pages=1)),
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    stored = {a.kind: a for a in case.attachments.all()}
    assert set(stored) == {"id_document", "authorization"}
    assert stored["id_document"].content_kind == "png" and stored["id_document"].size == len(PNG)
    assert stored["id_document"].file.read() == PNG
    assert "身份证" not in stored["id_document"].file.name  # nothing of the applicant's name
    event = CaseEvent.objects.get(case=case, kind=EventKind.ATTACHMENT_ADDED)
    assert event.actor_label == "申请人（网上）"
    assert [f["kind"] for f in event.data["files"]] == ["id_document", "authorization"]
    # The office sees them on the case page; only users who may see personal data download.
    staff = Client()
    staff.force_login(registrar)
    page = staff.get(reverse("admin:requests_app_case_change", args=[case.pk])).content.decode()
    assert "申请人材料" in page and "授权委托书" in page and "无权查看个人信息" in page
    url = reverse(
        "admin:requests_app_case_attachment_file", args=[case.pk, stored["id_document"].pk]
    )
    assert staff.get(url).status_code == 403
    from requests_app.models import Caseworker

    Caseworker.objects.filter(user=registrar).update(can_view_personal_data=True)
    download = staff.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "文件为空。"),
        (
            b"MZ\x90\x00 not a document",
            "只接受 PDF、JPG 或 PNG 文件（按文件内容判断，不看扩展名）。",
        ),
    ],
)
def test_a_refused_file_keeps_nothing_and_says_why(client, tree, records_root, content, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = _apply_with_files(
        client, tree["office"], {"id_document": SimpleUploadedFile("id.pdf", content)}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and "文件未保存，请重新选择文件。" in page
    assert 'value="贵州省安顺市西秀区南华路2号"' in page  # what was typed rides along
    assert Case.objects.count() == 0
    from requests_app.models import Attachment

    assert Attachment.objects.count() == 0
    import pathlib

    from django.conf import settings

    root = pathlib.Path(settings.STORAGES["records"]["OPTIONS"]["location"])
    assert not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_a_file_over_the_limit_is_refused(client, tree, records_root, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.PORTAL = {**settings.PORTAL, "UPLOAD_MAX_BYTES": 40}
    response = _apply_with_files(
        client, tree["office"], {"id_document": SimpleUploadedFile("id.png", PNG)}
    )
    assert response.status_code == 400 and "文件过大" in response.content.decode()
    assert Case.objects.count() == 0


def test_a_supplement_answered_with_a_file(client, tree, handler, records_root):
    from django.core.files.uploadedfile import SimpleUploadedFile

    case, code = _submit(tree["office"])
    case = svc.case_confirm_receipt(case=case, actor=handler)
    case = svc.case_request_supplement(case=case, actor=handler, items="请提供身份证明")
    _follow(client, case, code)
    response = _post(
        client, "supplement", {"text": "已上传身份证。", "file": SimpleUploadedFile("x.png", PNG)}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.PROCESSING
    assert [a.kind for a in case.attachments.all()] == ["supplement"]
    page = client.get(reverse("portal:case")).content.decode()
    assert "上传材料" in page and "补正材料" in page
