"""The public API: submit an application, follow it with the access code, list agencies."""

import json

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone
from rest_framework.test import APIClient

from requests_app.api.errors import field_label
from requests_app.choices import CaseState
from requests_app.models import Case, CaseEvent, EventKind, IdempotencyRecord, RepeatCheck
from requests_app.services import cases as svc
from requests_app.services.intake import access_code_matches, case_submit
from tests.factories import application_fields, valid_id_number

S = CaseState
SUBMIT = "/api/v1/applications/"
TRACK = "/api/v1/applications/track/"
AGENCIES = "/api/v1/agencies/"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    # Throttle counters live in the cache; each test starts with none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    return APIClient()


def throttle_rates(settings, **rates):
    current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**current, **rates},
    }


def payload(**overrides):
    body = {**application_fields(), "agency": "city-office"}
    body.update(overrides)
    return body


def submit(client, body, **headers):
    return client.post(SUBMIT, body, format="json", headers=headers)


# --- submission ----------------------------------------------------------------------------------
def test_submit_creates_a_case_and_returns_the_tracking_number_and_code(client, office):
    response = submit(client, payload())

    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get()
    assert body == {
        "tracking_number": case.tracking_number,
        "access_code": body["access_code"],
        "state": {"code": "submitted", "label": "待确认接收"},
        "submitted_at": timezone.localtime(case.submitted_at).isoformat(),
        "agency": {"code": "city-office", "name": "安顺市人民政府办公室"},
    }
    assert case.tracking_number.startswith(f"GK{timezone.localdate():%Y%m%d}")
    assert len(body["access_code"]) == 10
    assert access_code_matches(case, body["access_code"])
    assert body["access_code"] not in case.access_code_hash
    assert (case.agency, case.channel, case.state) == (office, "online", S.SUBMITTED)
    assert (case.applicant_name, case.phone, case.id_number) == (
        "张三",
        "13800138000",
        valid_id_number(1),
    )
    assert list(case.events.values_list("kind", flat=True)) == [EventKind.SUBMITTED]


def test_submit_with_optional_fields_left_out(client, office):
    body = payload(delivery_method="post")
    for name in ("email", "postal_code", "purpose", "document_number"):
        body.pop(name, None)
    response = submit(client, body)
    assert response.status_code == 201
    case = Case.objects.get()
    assert (case.email, case.delivery_method) == ("", "post")


def test_an_organisation_applies_with_its_credit_code(client, office):
    response = submit(
        client,
        payload(
            applicant_type="commercial_enterprise",
            applicant_name="安顺某某有限公司",
            id_type="credit_code",
            id_number="91110000600037341L",
            legal_representative="李四",
        ),
    )
    assert response.status_code == 201
    assert Case.objects.get().id_number == "91110000600037341L"


def test_a_name_of_the_maximum_length_fits_the_history(client, office):
    # Found by the fuzzer on PostgreSQL: "申请人：" + a 200-character name overflowed the label.
    response = submit(client, payload(applicant_name="张" * 200))
    assert response.status_code == 201
    event = CaseEvent.objects.get(kind=EventKind.SUBMITTED)
    assert event.actor_label == "申请人：" + "张" * 196


def test_submit_to_an_agency_with_automatic_confirmation_is_registered(client, office):
    office.auto_confirm_receipt = True
    office.save()
    response = submit(client, payload())
    assert response.status_code == 201
    case = Case.objects.get()
    assert response.json()["state"] == {"code": "registered", "label": "已登记"}
    assert case.state == S.REGISTERED


@pytest.mark.parametrize("auto_confirm", [False, True])
def test_the_answer_is_what_the_documented_serializer_gives(client, office, auto_confirm):
    """The view builds the 201 body directly (no serializer per submission): it must be the
    dict ApplicationCreateOutputSerializer, which the schema documents, makes of the case, and
    the stored replay body the same."""
    from requests_app.api.serializers import (
        ApplicationCreateOutputSerializer,
        agency_brief,
        labeled,
    )

    office.auto_confirm_receipt = auto_confirm
    office.save()
    response = submit(client, payload(), **{"Idempotency-Key": "shape-1"})

    case = Case.objects.get()
    documented = ApplicationCreateOutputSerializer(
        {
            "tracking_number": case.tracking_number,
            "access_code": response.json()["access_code"],
            "state": labeled(S, case.state),
            "submitted_at": case.submitted_at,
            "agency": agency_brief(office),
        }
    ).data
    assert response.json() == json.loads(json.dumps(documented))
    assert IdempotencyRecord.objects.get().response_body == response.json()


BAD_INPUT = [
    ("missing name", {"applicant_name": None}, "applicant_name", "该字段是必填项。"),
    ("blank name", {"applicant_name": "  "}, "applicant_name", "该字段不能为空。"),
    (
        "long name",
        {"applicant_name": "张" * 201},
        "applicant_name",
        "请确保这个字段不能超过 200 个字符。",
    ),
    ("missing id type", {"id_type": None}, "id_type", "该字段是必填项。"),
    (
        "bad id checksum",
        {"id_number": valid_id_number(1)[:17] + ("0" if valid_id_number(1)[17] != "0" else "1")},
        "id_number",
        "身份证号码校验位不正确。",
    ),
    (
        "bad id birth date",
        {"id_number": "520402199913321234"},
        "id_number",
        "身份证号码中的出生日期无效。",
    ),
    ("short id", {"id_number": "52040219900101"}, "id_number", "身份证号码格式不正确。"),
    (
        "bad credit code",
        {"id_type": "credit_code", "id_number": "91110000600037341X"},
        "id_number",
        "统一社会信用代码校验位不正确。",
    ),
    ("missing phone", {"phone": None}, "phone", "该字段是必填项。"),
    (
        "bad phone",
        {"phone": "12345"},
        "phone",
        "电话号码格式不正确（手机号 11 位，或区号-座机号）。",
    ),
    ("bad email", {"email": "not-an-email"}, "email", "请输入合法的邮件地址。"),
    (
        "email delivery without email",
        {"email": ""},
        "email",
        "选择电子邮件方式获取信息时须填写电子邮箱。",
    ),
    ("bad postal code", {"postal_code": "5610"}, "postal_code", "邮政编码应为 6 位数字。"),
    ("missing address", {"address": None}, "address", "该字段是必填项。"),
    ("missing description", {"description": None}, "description", "该字段是必填项。"),
    (
        "long description",
        {"description": "信" * 5001},
        "description",
        "请确保这个字段不能超过 5000 个字符。",
    ),
    (
        "unknown applicant type",
        {"applicant_type": "robot"},
        "applicant_type",
        "“robot” 不是合法选项。",
    ),
    ("unknown id type", {"id_type": "library_card"}, "id_type", "“library_card” 不是合法选项。"),
    # The id_number check looks at the raw id_type: a list must not reach a set lookup.
    ("id type a list", {"id_type": ["mainland_id"]}, "id_type", "“['mainland_id']” 不是合法选项。"),
    (
        "unknown form",
        {"information_form": "hologram"},
        "information_form",
        "“hologram” 不是合法选项。",
    ),
    (
        "unknown delivery",
        {"delivery_method": "pigeon"},
        "delivery_method",
        "“pigeon” 不是合法选项。",
    ),
    ("missing delivery", {"delivery_method": None}, "delivery_method", "该字段是必填项。"),
    ("unknown agency", {"agency": "no-such-agency"}, "agency", "未找到该机关代码。"),
    ("missing agency", {"agency": None}, "agency", "该字段是必填项。"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [case[1:] for case in BAD_INPUT],
    ids=[case[0] for case in BAD_INPUT],
)
def test_bad_input_is_a_400_naming_the_field(client, office, overrides, field, message):
    body = payload()
    for name, value in overrides.items():
        if value is None:
            body.pop(name)
        else:
            body[name] = value

    response = submit(client, body)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": f"提交的数据有误：{field_label(field)}。",
        "message_en": f"Invalid input: {field}.",
        "fields": {field: [message]},
    }
    assert Case.objects.count() == 0


def test_validation_messages_follow_the_requested_language(client, office):
    bad = valid_id_number(1)[:17] + ("0" if valid_id_number(1)[17] != "0" else "1")
    response = submit(client, payload(id_number=bad, phone="12"), **{"Accept-Language": "en"})
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "phone": ["The phone number is malformed (11-digit mobile, or area code-number)."],
        "id_number": ["The ID card number's check digit is wrong."],
    }


def test_malformed_json_is_a_400(client, office):
    response = client.post(SUBMIT, data='{"applicant_name": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "malformed_request",
        "message": "请求内容不是有效的 JSON。",
        "message_en": "The request body is not valid JSON.",
        "fields": {},
    }


def test_json_nested_too_deeply_is_a_400_not_a_500(client, office):
    response = client.post(
        SUBMIT, data="[" * 100_000 + "]" * 100_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_a_json_array_instead_of_an_object_is_a_400(client, office):
    response = client.post(SUBMIT, data="[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["non_field_errors"]


def test_form_encoded_body_is_a_415(client, office):
    response = client.post(SUBMIT, data={"applicant_name": "张三"})
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_an_unknown_api_url_is_a_json_404(client, office):
    response = client.post("/api/v1/applications/nowhere/", {}, format="json")
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "未找到。",
        "message_en": "Not found.",
        "fields": {},
    }


def test_get_on_the_submission_endpoint_is_a_405(client, office):
    response = client.get(SUBMIT)
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "POST, OPTIONS"


# --- idempotency ---------------------------------------------------------------------------------
def test_a_retried_submission_with_the_same_key_returns_the_first_answer(client, office):
    first = submit(client, payload(), **{"Idempotency-Key": "portal-7f3a-0001"})
    # The same body with its keys in another order is the same request.
    reordered = dict(reversed(list(payload().items())))
    second = submit(client, reordered, **{"Idempotency-Key": "portal-7f3a-0001"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert "Idempotent-Replayed" not in first
    assert second["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(kind=EventKind.SUBMITTED).count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.case, record.response_status) == (
        "portal-7f3a-0001",
        Case.objects.get(),
        201,
    )


def test_the_same_key_with_another_body_is_refused(client, office):
    submit(client, payload(), **{"Idempotency-Key": "portal-key-2"})
    response = submit(client, payload(applicant_name="王五"), **{"Idempotency-Key": "portal-key-2"})

    assert response.status_code == 400
    assert response.json() == {
        "code": "idempotency_key_reused",
        "message": "该 Idempotency-Key 已用于另一个不同的请求。",
        "message_en": "This Idempotency-Key was already used for a different request.",
        "fields": {},
    }
    assert list(Case.objects.values_list("applicant_name", flat=True)) == ["张三"]


def test_a_rejected_submission_does_not_use_up_its_key(client, office):
    bad = submit(client, payload(phone="1"), **{"Idempotency-Key": "portal-key-3"})
    good = submit(client, payload(), **{"Idempotency-Key": "portal-key-3"})
    assert (bad.status_code, good.status_code) == (400, 201)
    assert Case.objects.count() == 1


def test_without_a_key_each_submission_is_a_new_case(client, office):
    assert submit(client, payload()).status_code == 201
    assert submit(client, payload()).status_code == 201
    assert Case.objects.count() == 2


@pytest.mark.parametrize("key", ["x" * 201, "has space", "中文键"])
def test_a_malformed_key_is_a_400(client, office, key):
    response = client.post(
        SUBMIT,
        data=json.dumps(payload()).encode(),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),
    )
    assert response.status_code == 400
    assert response.json()["fields"] == {"Idempotency-Key": ["须为 1–200 个可见 ASCII 字符。"]}
    assert Case.objects.count() == 0


def test_submissions_are_throttled_per_client(client, office, settings):
    throttle_rates(settings, submission="2/minute")
    assert submit(client, payload()).status_code == 201
    assert submit(client, payload()).status_code == 201
    response = submit(client, payload())
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["message"] in (
        "请求过于频繁，请 1 分钟后再试。",
        *(f"请求过于频繁，请 {n} 秒后再试。" for n in range(1, 60)),
    )
    other = APIClient(REMOTE_ADDR="10.9.8.7")
    assert submit(other, payload()).status_code == 201


# --- following an application -------------------------------------------------------------------
def submitted(office):
    case, code = case_submit(agency=office, fields=application_fields())
    return case, code


def track(client, tracking_number, access_code, **extra):
    return client.post(
        TRACK,
        {"tracking_number": tracking_number, "access_code": access_code},
        format="json",
        **extra,
    )


STATUS_KEYS = {
    "tracking_number",
    "agency",
    "state",
    "submitted_at",
    "received_on",
    "is_extended",
    "reply_due_on",
    "supplement_due_on",
    "supplement_items",
    "fee_due_on",
    "fee_amount_yuan",
    "due_provisional",
    "outcome",
    "legal_basis",
    "replied_on",
    "concluded_on",
}


def test_track_a_submitted_application(client, office):
    case, code = submitted(office)
    response = track(client, case.tracking_number, code)
    assert response.status_code == 200
    assert response.json() == {
        "tracking_number": case.tracking_number,
        "agency": {"code": "city-office", "name": "安顺市人民政府办公室"},
        "state": {"code": "submitted", "label": "待确认接收"},
        "submitted_at": timezone.localtime(case.submitted_at).isoformat(),
        "received_on": None,
        "is_extended": False,
        "reply_due_on": None,
        "supplement_due_on": None,
        "supplement_items": None,
        "fee_due_on": None,
        "fee_amount_yuan": None,
        "due_provisional": False,
        "outcome": None,
        "legal_basis": None,
        "replied_on": None,
        "concluded_on": None,
    }


def test_tracking_number_and_code_are_not_case_sensitive(client, office):
    case, code = submitted(office)
    response = track(client, case.tracking_number.lower(), code.lower())
    assert response.status_code == 200


@pytest.mark.parametrize("value", [" ", "AB CD", "ABC-123", "码"])
def test_tracking_input_must_be_letters_and_digits(client, office, value):
    response = track(client, value, value)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"tracking_number", "access_code"}


def test_track_shows_the_reply_due_date_while_processing_but_never_internal_data(
    client, office, approver
):
    case, code = submitted(office)
    case = svc.case_confirm_receipt(case=case, actor=approver)
    case = svc.case_start_processing(case=case, actor=approver)
    case = svc.case_add_note(case=case, actor=approver, text="内部备注：申请人曾多次来电")
    case = svc.case_submit_for_approval(case=case, actor=approver, outcome="withheld_state_secret")
    case.refresh_from_db()

    response = track(client, case.tracking_number, code)

    body = response.json()
    assert set(body) == STATUS_KEYS
    assert body["state"] == {"code": "pending_approval", "label": "待审核"}
    assert body["received_on"] == timezone.localdate().isoformat()
    assert body["reply_due_on"] == case.reply_due_on.isoformat()
    # The draft, the handler and the notes are internal.
    assert body["outcome"] is None and body["legal_basis"] is None
    text = response.content.decode()
    for secret in (
        "内部备注",
        "withheld_state_secret",
        approver.get_username(),
        approver.first_name,
    ):
        assert secret not in text


def test_track_shows_the_supplement_asked_for_and_its_period(client, office, approver):
    case, code = submitted(office)
    case = svc.case_confirm_receipt(case=case, actor=approver)
    case = svc.case_request_supplement(case=case, actor=approver, items="请写明文件名称或文号")
    case.refresh_from_db()

    body = track(client, case.tracking_number, code).json()

    assert body["state"] == {"code": "awaiting_supplement", "label": "待补正"}
    assert body["supplement_items"] == "请写明文件名称或文号"
    assert body["supplement_due_on"] == case.supplement_due_on.isoformat()
    assert body["reply_due_on"] is None


def test_track_shows_the_fee_and_its_due_date(client, office, approver):
    case, code = submitted(office)
    case = svc.case_confirm_receipt(case=case, actor=approver)
    case = svc.case_start_processing(case=case, actor=approver)
    case = svc.case_issue_fee_notice(case=case, actor=approver, amount_yuan="300.00")
    case.refresh_from_db()

    body = track(client, case.tracking_number, code).json()

    assert body["state"] == {"code": "awaiting_fee", "label": "待缴费"}
    assert body["fee_amount_yuan"] == "300.00"
    assert body["fee_due_on"] == case.fee_due_on.isoformat()


def test_track_shows_the_outcome_and_service_date_once_replied(client, office, approver):
    case, code = submitted(office)
    for step in (
        lambda c: svc.case_confirm_receipt(case=c, actor=approver),
        lambda c: svc.case_start_processing(case=c, actor=approver),
        lambda c: svc.case_submit_for_approval(
            case=c, actor=approver, outcome="partially_disclosed"
        ),
        lambda c: svc.case_approve(case=c, actor=approver),
        lambda c: svc.case_serve_reply(case=c, actor=approver),
    ):
        case = step(case)

    body = track(client, case.tracking_number, code).json()

    today = timezone.localdate().isoformat()
    assert body["state"] == {"code": "replied", "label": "已答复"}
    assert body["outcome"] == {"code": "partially_disclosed", "label": "部分公开"}
    assert body["legal_basis"] == "《政府信息公开条例》第三十七条"
    assert (body["replied_on"], body["concluded_on"], body["reply_due_on"]) == (today, today, None)


NOT_FOUND = {
    "code": "not_found",
    "message": "未找到该申请，或查询码不正确。",
    "message_en": "No application matches this tracking number and access code.",
    "fields": {},
}


def test_a_wrong_code_answers_exactly_like_an_unknown_number(client, office):
    case, code = submitted(office)
    other, _ = submitted(office)
    wrong = "23456789AB" if code != "23456789AB" else "3456789ABC"

    wrong_code = track(client, case.tracking_number, wrong)
    unknown = track(client, "GK20990101ZZZZZZ", code)
    someone_elses = track(client, other.tracking_number, code)

    for response in (wrong_code, unknown, someone_elses):
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


def test_missing_tracking_fields_are_a_400(client, office):
    response = client.post(TRACK, {"tracking_number": "GK1"}, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"access_code": ["该字段是必填项。"]}


def wrong_code_for(code: str) -> str:
    return "23456789AB" if code != "23456789AB" else "3456789ABC"


def test_after_ten_failures_even_the_right_code_is_throttled(client, office, settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["tracking_failure"] == "10/hour"
    case, code = submitted(office)
    wrong = wrong_code_for(code)

    for _ in range(10):
        assert track(client, case.tracking_number, wrong).status_code == 404
    blocked = track(client, case.tracking_number, code)

    assert blocked.status_code == 429
    assert blocked.json()["code"] == "throttled"
    assert 3500 <= int(blocked["Retry-After"]) <= 3601
    # The wait in words, not seconds (the header keeps the seconds for programs).
    assert blocked.json()["message"] == "请求过于频繁，请 1 小时后再试。"
    assert blocked.json()["message_en"] == "Too many requests; retry in 1 hour."
    # The same number written as the lookup reads it is the same application.
    assert track(client, case.tracking_number.lower(), code).status_code == 429
    # A spoofed X-Forwarded-For does not make a new client; another address does.
    assert (
        track(client, case.tracking_number, code, HTTP_X_FORWARDED_FOR="1.2.3.4").status_code == 429
    )
    assert track(APIClient(REMOTE_ADDR="10.1.1.1"), case.tracking_number, code).status_code == 200


def test_wrong_codes_for_one_application_never_block_another(client, office):
    """A portal calling from its server is one client for every citizen: one citizen's wrong
    codes lock only their own application, never another citizen's right code."""
    mistyped, mistyped_code = submitted(office)
    other, other_code = submitted(office)
    for _ in range(10):
        assert (
            track(client, mistyped.tracking_number, wrong_code_for(mistyped_code)).status_code
            == 404
        )
    assert track(client, mistyped.tracking_number, mistyped_code).status_code == 429
    response = track(client, other.tracking_number, other_code)
    assert response.status_code == 200
    assert response.json()["tracking_number"] == other.tracking_number


def test_many_failures_over_many_numbers_stop_the_client(client, office, settings):
    """Enumeration: wrong attempts on many applications (or unknown numbers) from one client
    are stopped by the wider per-client limit, for every application."""
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["tracking_enumeration"] == "100/hour"
    throttle_rates(settings, tracking_enumeration="5/hour")
    case, code = submitted(office)
    for n in range(5):
        assert track(client, f"GK20990101ZZZZZ{n}", code).status_code == 404
    blocked = track(client, case.tracking_number, code)
    assert blocked.status_code == 429
    assert blocked.json()["message"] == "请求过于频繁，请 1 小时后再试。"
    # Another client is not affected.
    assert track(APIClient(REMOTE_ADDR="10.1.1.2"), case.tracking_number, code).status_code == 200


@pytest.mark.parametrize(
    ("seconds", "chinese", "english"),
    [
        (1, "1 秒", "1 second"),
        (59, "59 秒", "59 seconds"),
        (60, "1 分钟", "1 minute"),
        (61, "2 分钟", "2 minutes"),
        (3599, "1 小时", "1 hour"),
        (3600, "1 小时", "1 hour"),
        (3700, "1 小时 2 分钟", "1 hour 2 minutes"),
        (7200, "2 小时", "2 hours"),
        (86400, "24 小时", "24 hours"),
    ],
)
def test_the_wait_is_said_in_words(seconds, chinese, english):
    from requests_app.api.errors import wait_in_words

    assert wait_in_words(seconds) == (chinese, english)


def test_successful_tracking_does_not_count_as_failure(client, office, settings):
    throttle_rates(settings, tracking_failure="2/hour")
    case, code = submitted(office)
    for _ in range(5):
        assert track(client, case.tracking_number, code).status_code == 200
    assert track(client, case.tracking_number, "WRONGCODE2").status_code == 404
    assert track(client, case.tracking_number, code).status_code == 200
    assert track(client, case.tracking_number, "WRONGCODE2").status_code == 404
    assert track(client, case.tracking_number, code).status_code == 429


def test_tracking_requests_are_throttled_overall(client, office, settings):
    throttle_rates(settings, tracking="3/minute")
    case, code = submitted(office)
    assert [track(client, case.tracking_number, code).status_code for _ in range(4)] == [
        200,
        200,
        200,
        429,
    ]


def test_an_unreachable_database_is_a_503_with_retry_after(client, office, monkeypatch):
    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("requests_app.api.public.case_get_for_applicant", down)
    response = track(client, "GK20990101ZZZZZZ", "ABCDEFGHJK")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "service_unavailable"


# --- agencies -----------------------------------------------------------------------------------
def test_agencies_are_listed_with_their_parent(client, tree):
    response = client.get(AGENCIES)
    assert response.status_code == 200
    assert response.json() == [
        {"code": "city", "name": "安顺市人民政府", "kind": "government", "parent": None},
        {"code": "city-finance", "name": "安顺市财政局", "kind": "department", "parent": "city"},
        {"code": "city-office", "name": "安顺市人民政府办公室", "kind": "office", "parent": "city"},
        {"code": "xixiu", "name": "西秀区人民政府", "kind": "district", "parent": "city"},
        {"code": "xixiu-nanhua", "name": "南华街道办事处", "kind": "street", "parent": "xixiu"},
        {"code": "other-city", "name": "另一市人民政府", "kind": "government", "parent": None},
    ]


def test_agency_list_is_one_query(client, tree, django_assert_num_queries):
    with django_assert_num_queries(1):
        client.get(AGENCIES)


def test_public_endpoints_ignore_a_staff_session(client, office, approver):
    # A logged-in caseworker posting through a portal page needs no CSRF token here.
    csrf_client = APIClient(enforce_csrf_checks=True)
    csrf_client.force_login(approver)
    assert submit(csrf_client, payload()).status_code == 201


# --- the submission path's queries: a few (docs/operations.md, 'What a submission costs') -----
def _statements(captured) -> list[str]:
    """Each captured statement as its verb and table: ``INSERT requests_app_case``, ``BEGIN``."""
    out = []
    for query in captured:
        sql = query["sql"].strip()
        verb = sql.split()[0].upper()
        table = ""
        for marker in (" INTO ", " FROM "):
            if marker in sql.upper():
                table = sql[sql.upper().index(marker) + len(marker) :].split()[0].strip('"')
                break
        out.append(f"{verb} {table}".strip())
    return out


SUBMISSION_TRANSACTION = [
    "BEGIN",
    "INSERT requests_app_case",
    "INSERT requests_app_caseevent",
    "INSERT requests_app_repeatcheck",  # pending: the sweep compares (services.repeats)
]


@pytest.mark.django_db(transaction=True)  # the view's own transaction, as in production
def test_a_submission_takes_exactly_these_queries(client, office):
    """One indexed read of the key, then one transaction of four inserts, no savepoint; the
    agency comes from the process's cache after the first request. Exact, so that no query
    creeps back onto the submission path."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    key_read = "SELECT requests_app_idempotencyrecord"
    key_write = "INSERT requests_app_idempotencyrecord"
    with CaptureQueriesContext(connection) as cold:
        assert submit(client, payload(), **{"Idempotency-Key": "q-1"}).status_code == 201
    with CaptureQueriesContext(connection) as warm:
        assert submit(client, payload(), **{"Idempotency-Key": "q-2"}).status_code == 201
    with CaptureQueriesContext(connection) as replay:
        assert submit(client, payload(), **{"Idempotency-Key": "q-2"}).status_code == 201
    with CaptureQueriesContext(connection) as keyless:
        assert submit(client, payload()).status_code == 201

    assert _statements(cold.captured_queries) == [
        "SELECT requests_app_agency",
        key_read,
        *SUBMISSION_TRANSACTION,
        key_write,
        "COMMIT",
    ]
    assert _statements(warm.captured_queries) == [
        key_read,
        *SUBMISSION_TRANSACTION,
        key_write,
        "COMMIT",
    ]
    assert len(warm.captured_queries) == 7
    assert _statements(replay.captured_queries) == [key_read]
    assert _statements(keyless.captured_queries) == [*SUBMISSION_TRANSACTION, "COMMIT"]
    assert Case.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_tracking_number_drawn_twice_reruns_the_whole_transaction(client, office, monkeypatch):
    """Two applications may draw the same random tracking number: the second insert is
    refused, its transaction rolled back and run again from the start with a new number (no
    savepoint on the common path), and the client sees one ordinary answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from requests_app.services import intake

    taken = submit(client, payload()).json()["tracking_number"]
    draws = iter([taken, "GK20250101ZZZZZZ"])
    monkeypatch.setattr(intake, "new_tracking_number", lambda on: next(draws))
    with CaptureQueriesContext(connection) as queries:
        response = submit(client, payload(), **{"Idempotency-Key": "retry-1"})

    assert response.status_code == 201
    assert response.json()["tracking_number"] == "GK20250101ZZZZZZ"
    assert _statements(queries.captured_queries) == [
        "SELECT requests_app_idempotencyrecord",
        "BEGIN",
        "INSERT requests_app_case",
        "ROLLBACK",
        *SUBMISSION_TRANSACTION,
        "INSERT requests_app_idempotencyrecord",
        "COMMIT",
    ]
    case = Case.objects.get(tracking_number="GK20250101ZZZZZZ")
    assert list(case.events.values_list("kind", flat=True)) == [EventKind.SUBMITTED]
    assert Case.objects.count() == 2
    assert RepeatCheck.objects.count() == 2
    assert IdempotencyRecord.objects.get().case == case


def test_a_tracking_number_drawn_twice_inside_a_callers_transaction(office, monkeypatch):
    """Called inside a transaction of its own caller's (here the test's), the whole intake
    runs in one savepoint, rolled back and run again on a collision."""
    from requests_app.services import intake

    taken, _code = case_submit(agency=office, fields=application_fields())
    draws = iter([taken.tracking_number, "GK20250101YYYYYY"])
    monkeypatch.setattr(intake, "new_tracking_number", lambda on: next(draws))
    case, _code = case_submit(agency=office, fields=application_fields())
    assert case.tracking_number == "GK20250101YYYYYY"
    assert Case.objects.count() == 2
    assert CaseEvent.objects.filter(kind=EventKind.SUBMITTED).count() == 2


def test_the_agency_of_a_submission_is_read_again_once_it_changes(client, office):
    assert submit(client, payload()).json()["agency"]["name"] == "安顺市人民政府办公室"
    office.name = "安顺市人民政府办公室（新）"
    office.save()  # saving clears this process's copy
    assert submit(client, payload()).json()["agency"]["name"] == "安顺市人民政府办公室（新）"
    office.code = "city-office-2"
    office.save()
    response = submit(client, payload())
    assert response.status_code == 400
    assert response.json()["fields"] == {"agency": ["未找到该机关代码。"]}
