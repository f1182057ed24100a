"""检索记录: a reply of 经检索没有所申请公开信息 or 不属于本机关负责公开 rests on a recorded search
(SPC Guiding Case No. 101); the service refuses the reply without one, and the reply letter
states what was searched."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from requests_app.choices import CaseState, Outcome
from requests_app.letters.facts import letter_facts
from requests_app.models import Case, CaseEvent, EventKind, LetterKind
from requests_app.services import cases as svc
from requests_app.services.errors import InvalidInput, TransitionRefused
from tests.factories import case_in_state, record_search

S = CaseState


@pytest.mark.parametrize("outcome", [Outcome.NOT_EXIST, Outcome.NOT_THIS_AGENCY])
def test_the_reply_is_refused_until_a_search_is_recorded(office, approver, outcome):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    with pytest.raises(TransitionRefused) as refused:
        svc.case_submit_for_approval(case=case, actor=approver, outcome=outcome)
    assert "须先登记检索记录" in refused.value.message
    assert refused.value.code == "search_record_required"
    assert Case.objects.get(pk=case.pk).state == S.PROCESSING
    case = record_search(case, approver)
    case = svc.case_submit_for_approval(case=case, actor=approver, outcome=outcome)
    assert case.state == S.PENDING_APPROVAL


def test_other_outcomes_need_no_search(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    case = svc.case_submit_for_approval(case=case, actor=approver, outcome=Outcome.NEEDS_CREATION)
    assert case.state == S.PENDING_APPROVAL


def test_an_on_the_spot_reply_of_not_held_needs_it_too(office, registrar):
    from requests_app.choices import Channel

    case = case_in_state(S.REGISTERED, agency=office, actor=registrar, channel=Channel.IN_PERSON)
    with pytest.raises(TransitionRefused):
        svc.case_reply_on_spot(case=case, actor=registrar, outcome=Outcome.NOT_THIS_AGENCY)


def test_an_imported_case_keeps_its_outcome(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    Case.objects.filter(pk=case.pk).update(external_id="AS-2018-0001")
    case = Case.objects.get(pk=case.pk)
    case = svc.case_submit_for_approval(case=case, actor=approver, outcome=Outcome.NOT_EXIST)
    assert case.state == S.PENDING_APPROVAL


def test_the_record_is_checked_and_kept_in_the_history(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    with pytest.raises(InvalidInput) as missing:
        svc.case_record_search(
            case=case, actor=approver, searched_on=timezone.localdate(), keywords="预算",
            sources="", result="未查找到",
        )  # fmt: skip
    assert "sources" in missing.value.fields
    with pytest.raises(InvalidInput):
        svc.case_record_search(
            case=case, actor=approver, searched_on=timezone.localdate() + dt.timedelta(days=2),
            keywords="预算", sources="档案室", result="未查找到",
        )  # fmt: skip
    record_search(case, approver)
    event = CaseEvent.objects.get(case=case, kind=EventKind.RECORD_SEARCH)
    assert event.actor == approver
    assert event.data["keywords"] == "2023年预算执行情况"
    assert event.data["units_asked"] == "财务科"


def test_the_reply_letter_states_the_search(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    case = record_search(case, approver)
    case = svc.case_submit_for_approval(case=case, actor=approver, outcome=Outcome.NOT_EXIST)
    facts = letter_facts(case, LetterKind.REPLY_UNABLE, on=timezone.localdate())
    today = timezone.localdate()
    assert facts["search_record"] == (
        f"本机关于{today.year}年{today.month}月{today.day}日以“2023年预算执行情况”为关键词，"
        "检索了本机关文书档案室、OA 办公系统，并询问了财务科，检索结果：均未查找到。"
    )
    from requests_app.letters.defaults import DEFAULT_TEMPLATES

    assert "{search_record}" in DEFAULT_TEMPLATES[LetterKind.REPLY_UNABLE]["body"]


def test_staff_api_records_and_refuses(office, approver):
    client = Client()
    client.force_login(approver)
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    url = f"/api/v1/staff/cases/{case.pk}/"
    refused = client.post(
        url + "submit_for_approval/",
        {"outcome": "not_exist", "expected_version": case.version},
        content_type="application/json",
    )
    assert refused.status_code == 409
    assert "须先登记检索记录" in refused.json()["message"]
    recorded = client.post(
        url + "record_search/",
        {
            "searched_on": str(timezone.localdate()),
            "keywords": "预算",
            "sources": "档案室",
            "result": "未查找到",
            "expected_version": case.version,
        },
        content_type="application/json",
    )
    assert recorded.status_code == 200, recorded.content
    case.refresh_from_db()
    ok = client.post(
        url + "submit_for_approval/",
        {"outcome": "not_exist", "expected_version": case.version},
        content_type="application/json",
    )
    assert ok.status_code == 200


def test_admin_offers_the_form_and_shows_the_refusal(office, approver):
    client = Client()
    client.force_login(approver)
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    page = client.get(reverse("admin:requests_app_case_change", args=[case.pk]))
    assert "登记检索记录" in page.content.decode()
    form = client.get(reverse("admin:requests_app_case_act", args=[case.pk, "record_search"]))
    assert form.status_code == 200
    assert "检索的档案和系统" in form.content.decode()
    submit = client.post(
        reverse("admin:requests_app_case_act", args=[case.pk, "submit_for_approval"]),
        {"outcome": "not_exist", "expected_version": case.version},
        follow=True,
    )
    assert "须先登记检索记录" in submit.content.decode()
    assert Case.objects.get(pk=case.pk).state == S.PROCESSING
