"""The staff API: who may use it, the list and its filters, one case, one endpoint per action."""

import base64
import datetime as dt
import json
import os
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from requests_app.choices import CaseState, Channel, Role
from requests_app.models import Case, CaseEvent, EventKind, IdempotencyRecord
from requests_app.services import cases as svc
from requests_app.services.intake import access_code_matches
from tests.factories import UserFactory, application_fields, case_in_state, caseworker

S = CaseState
LIST = "/api/v1/staff/cases/"


def detail_url(case_or_pk):
    pk = getattr(case_or_pk, "pk", case_or_pk)
    return f"/api/v1/staff/cases/{pk}/"


def action_url(case, action):
    return f"/api/v1/staff/cases/{case.pk}/{action}/"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def row(case):
    return {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields}


def kinds(case, exclude_due=True):
    events = CaseEvent.objects.filter(case_id=case.pk).order_by("effective_at", "pk")
    if exclude_due:
        events = events.exclude(kind=EventKind.DUE_CHANGED)
    return list(events.values_list("kind", flat=True))


def counter_case_submitted(agency, channel=Channel.POST):
    """A signed-for postal application not yet registered (Case's default state)."""
    return Case.objects.create(
        agency=agency,
        channel=channel,
        submitted_at=timezone.now(),
        tracking_number="GK20990101POST01",
        **application_fields(),
    )


# --- who may use it -----------------------------------------------------------------------------
def test_anonymous_gets_401_with_a_basic_challenge(office):
    response = APIClient().get(LIST)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="api"'
    assert response.json() == {
        "code": "not_authenticated",
        "message": "请先登录。",
        "message_en": "Authentication required.",
        "fields": {},
    }


def test_wrong_password_is_401(office, approver):
    client = APIClient()
    token = base64.b64encode(f"{approver.username}:wrong".encode()).decode()
    response = client.get(LIST, HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_user_who_is_not_a_caseworker_gets_403(office):
    response = client_for(UserFactory(username="citizen", is_staff=False)).get(LIST)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_basic_and_session_authentication_both_work(office, approver):
    case_in_state(S.REGISTERED, agency=office, actor=approver)
    token = base64.b64encode(f"{approver.username}:pass-123456".encode()).decode()
    assert APIClient().get(LIST, HTTP_AUTHORIZATION=f"Basic {token}").json()["count"] == 1
    session = APIClient()
    session.force_login(approver)
    assert session.get(LIST).json()["count"] == 1


def test_a_session_post_needs_the_csrf_token(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(approver)
    response = client.post(action_url(case, "note"), {"text": "备注"}, format="json")
    assert response.status_code == 403
    assert kinds(case).count("note") == 0


# --- the list -----------------------------------------------------------------------------------
@pytest.fixture
def cases(tree, approver):
    """Cases in the office (three), the street (one) and another city (one)."""
    office, street, other = tree["office"], tree["street"], tree["other"]
    street_worker = caseworker(street, Role.APPROVER)
    other_worker = caseworker(other, Role.APPROVER)
    return {
        "registered": case_in_state(S.REGISTERED, agency=office, actor=approver),
        "processing": case_in_state(
            S.PROCESSING, agency=office, actor=approver, applicant_name="李四", phone="13900139000"
        ),
        "replied": case_in_state(S.REPLIED, agency=office, actor=approver, applicant_name="王五"),
        "street": case_in_state(S.PROCESSING, agency=street, actor=street_worker),
        "other": case_in_state(S.PROCESSING, agency=other, actor=other_worker),
    }


def listed(client, **params):
    response = client.get(LIST, params)
    assert response.status_code == 200, response.json()
    return {item["id"] for item in response.json()["results"]}


def test_a_caseworker_lists_only_their_agency(cases, approver):
    client = client_for(approver)
    response = client.get(LIST)
    body = response.json()
    assert body["count"] == 3
    assert {item["id"] for item in body["results"]} == {
        cases[name].pk for name in ("registered", "processing", "replied")
    }


def test_a_supervisor_lists_the_subtree(cases, tree):
    supervisor = caseworker(tree["city"], Role.SUPERVISOR)
    client = client_for(supervisor)
    assert listed(client) == {
        cases[name].pk for name in ("registered", "processing", "replied", "street")
    }
    assert listed(client, agency="xixiu") == {cases["street"].pk}
    assert listed(client, agency="city-office") == {
        cases[name].pk for name in ("registered", "processing", "replied")
    }


def test_filters(cases, approver, handler):
    client = client_for(approver)
    today = timezone.localdate()
    office_ids = {cases[name].pk for name in ("registered", "processing", "replied")}
    assert listed(client, state="processing") == {cases["processing"].pk}
    assert listed(client, outcome="disclosed") == {cases["replied"].pk}
    assert listed(client, open="true") == {cases["registered"].pk, cases["processing"].pk}
    assert listed(client, open="false") == {cases["replied"].pk}
    assert (
        listed(client, received_from=today.isoformat(), received_to=today.isoformat()) == office_ids
    )
    assert listed(client, received_from=(today + dt.timedelta(days=1)).isoformat()) == set()
    assert listed(client, received_to=(today - dt.timedelta(days=1)).isoformat()) == set()
    due = Case.objects.get(pk=cases["processing"].pk).reply_due_on
    assert listed(client, due_before=due.isoformat()) == {
        cases["registered"].pk,
        cases["processing"].pk,
    }
    assert listed(client, due_before=(today - dt.timedelta(days=1)).isoformat()) == set()
    assert listed(client, handler=approver.pk) == {cases["processing"].pk, cases["replied"].pk}
    assert listed(client, handler=handler.pk) == set()
    assert listed(client, q=cases["replied"].tracking_number.lower()) == {cases["replied"].pk}
    assert listed(client, q="李") == {cases["processing"].pk}
    assert listed(client, q="13900139000") == {cases["processing"].pk}
    # Another agency's tracking number finds nothing.
    assert listed(client, q=cases["other"].tracking_number) == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"state": "lost"}, "state"),
        ({"outcome": "maybe"}, "outcome"),
        ({"agency": "nowhere"}, "agency"),
        ({"received_from": "2024-13-01"}, "received_from"),
        ({"received_from": "2024-05-02", "received_to": "2024-05-01"}, "received_to"),
        ({"due_before": "tomorrow"}, "due_before"),
        ({"handler": "x"}, "handler"),
        ({"handler": str(2**70)}, "handler"),
        ({"open": "perhaps"}, "open"),
        ({"q": "x" * 101}, "q"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(cases, approver, params, field):
    response = client_for(approver).get(LIST, params)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_list_is_paginated(cases, approver):
    body = client_for(approver).get(LIST, {"limit": 2}).json()
    assert (body["count"], len(body["results"]), body["previous"]) == (3, 2, None)
    assert body["next"].endswith("/api/v1/staff/cases/?limit=2&offset=2")


def test_list_masks_personal_data(cases, approver):
    item = next(
        i
        for i in client_for(approver).get(LIST).json()["results"]
        if i["id"] == cases["processing"].pk
    )
    id_number = cases["processing"].id_number
    assert item["id_number"] == id_number[:4] + "*" * 10 + id_number[-4:]
    assert item["phone"] == "139****9000"
    assert item["applicant_name"] == "李四"
    assert set(item) == {
        "id",
        "tracking_number",
        "agency",
        "state",
        "outcome",
        "handler",
        "applicant_type",
        "applicant_name",
        "id_type",
        "id_number",
        "phone",
        "channel",
        "submitted_at",
        "received_on",
        "reply_due_on",
        "due_provisional",
        "next_action_on",
        "concluded_on",
        "is_extended",
        "version",
    }
    assert item["state"] == {"code": "processing", "label": "办理中"}
    assert item["handler"] == {"id": approver.pk, "name": approver.get_full_name()}


def test_list_shows_personal_data_to_those_allowed(cases, office):
    reader = caseworker(office, Role.HANDLER, username="reader", can_view_personal_data=True)
    item = next(
        i
        for i in client_for(reader).get(LIST).json()["results"]
        if i["id"] == cases["processing"].pk
    )
    assert (item["id_number"], item["phone"]) == (cases["processing"].id_number, "13900139000")


@pytest.mark.parametrize("show_personal_data", [False, True])
def test_list_items_are_what_freshly_built_fields_give(cases, office, show_personal_data):
    """The list's serializer builds its fields once per process and hands each page shallow
    copies: every page, the first and the later ones, must be what DRF's own fields, built
    afresh, make of the same cases."""
    from requests_app.api.serializers import CaseListOutputSerializer, _CaseOutputBase

    class Fresh(_CaseOutputBase):
        Meta = CaseListOutputSerializer.Meta

    reader = caseworker(
        office, Role.HANDLER, username="reader", can_view_personal_data=show_personal_data
    )
    pages = [client_for(reader).get(LIST).json()["results"] for _ in range(2)]
    visible = Case.objects.filter(agency=office).select_related("agency", "handler")
    expected = Fresh(visible, many=True, context={"show_personal_data": show_personal_data}).data
    assert pages[0] == pages[1] == json.loads(json.dumps(expected))


def test_list_query_count_does_not_grow_with_rows(tree, approver):
    client = client_for(approver)
    case_in_state(S.PROCESSING, agency=tree["office"], actor=approver)
    with CaptureQueriesContext(connection) as one:
        assert client.get(LIST).json()["count"] == 1
    for _ in range(5):
        case_in_state(S.PROCESSING, agency=tree["office"], actor=approver)
    with CaptureQueriesContext(connection) as six:
        assert client.get(LIST).json()["count"] == 6
    assert len(six) == len(one)
    # The count, then the page with agency and handler joined: no query per row.
    assert len(one) == 2, [q["sql"] for q in one.captured_queries]


# --- one case -----------------------------------------------------------------------------------
def test_detail_has_history_clock_and_the_actions_allowed_now(office, approver):
    case = case_in_state(S.REGISTERED, agency=office, actor=approver)
    response = client_for(approver).get(detail_url(case))

    assert response.status_code == 200
    body = response.json()
    case.refresh_from_db()
    assert body["tracking_number"] == case.tracking_number
    assert body["version"] == case.version
    assert body["clock"] == case.clock
    assert body["clock"] != {}
    assert body["allowed_actions"] == [
        "start_processing",
        "assign",
        "request_supplement",
        "start_consultation",
        "extend",
        "set_later_reply_date",
        "withdraw",
        "note",
        "record_search",
    ]
    events = [e for e in body["events"] if e["kind"]["code"] != "due_changed"]
    assert [(e["kind"], e["from_state"], e["to_state"]) for e in events] == [
        ({"code": "submitted", "label": "提交申请"}, "", "submitted"),
        ({"code": "confirm_receipt", "label": "确认接收"}, "submitted", "registered"),
    ]
    confirm = events[1]
    assert confirm["actor_label"] == approver.get_full_name()
    assert confirm["data"] == {"received_on": timezone.localdate().isoformat()}
    assert set(confirm) == {
        "id",
        "kind",
        "actor_label",
        "recorded_at",
        "effective_at",
        "from_state",
        "to_state",
        "data",
        "reason",
    }


def test_allowed_actions_follow_the_role(office, approver, handler, tree):
    case = case_in_state(S.REGISTERED, agency=office, actor=approver)
    assert client_for(handler).get(detail_url(case)).json()["allowed_actions"] == [
        "start_processing",
        "request_supplement",
        "start_consultation",
        "withdraw",
        "note",
        "record_search",
    ]
    supervisor = caseworker(tree["city"], Role.SUPERVISOR)
    assert client_for(supervisor).get(detail_url(case)).json()["allowed_actions"] == []


def test_allowed_actions_of_a_concluded_case(office, approver):
    case = case_in_state(S.CLOSED, agency=office, actor=approver)
    assert client_for(approver).get(detail_url(case)).json()["allowed_actions"] == [
        "reopen",
        "note",
    ]


def test_detail_masks_personal_data(office, approver):
    case = case_in_state(S.REGISTERED, agency=office, actor=approver)
    body = client_for(approver).get(detail_url(case)).json()
    assert (body["id_number"], body["phone"], body["email"], body["address"]) == (
        case.id_number[:4] + "**********" + case.id_number[-4:],
        "138****8000",
        "z***@example.com",
        "贵州省安顺市****",
    )


def test_full_personal_data_is_shown_to_those_allowed_and_logged(office, approver, caplog):
    case = case_in_state(S.REGISTERED, agency=office, actor=approver)
    reader = caseworker(office, Role.HANDLER, username="reader", can_view_personal_data=True)
    with caplog.at_level("INFO", logger="requests_app.audit"):
        body = client_for(reader).get(detail_url(case)).json()
    assert (body["id_number"], body["phone"], body["address"]) == (
        case.id_number,
        "13800138000",
        "贵州省安顺市西秀区南华路2号",
    )
    assert [r.getMessage() for r in caplog.records if r.name == "requests_app.audit"] == [
        f"personal data shown: user=reader case={case.tracking_number} path={detail_url(case)}"
    ]


def test_another_agencys_case_is_a_404_like_a_missing_one(tree, approver):
    stranger = caseworker(tree["other"], Role.APPROVER)
    case = case_in_state(S.PROCESSING, agency=tree["office"], actor=approver)
    client = client_for(stranger)
    hidden = client.get(detail_url(case))
    missing = client.get(detail_url(case.pk + 1000))
    huge = client.get(detail_url(2**70))
    assert hidden.status_code == missing.status_code == huge.status_code == 404
    assert (
        hidden.json()
        == missing.json()
        == huge.json()
        == {
            "code": "not_found",
            "message": "未找到该申请。",
            "message_en": "No such case.",
            "fields": {},
        }
    )


def test_a_department_does_not_see_its_sibling(tree, approver):
    case = case_in_state(S.PROCESSING, agency=tree["office"], actor=approver)
    sibling = caseworker(tree["dept"], Role.ADMINISTRATOR)
    assert client_for(sibling).get(detail_url(case)).status_code == 404


# --- actions: one endpoint each ---------------------------------------------------------------
def _today():
    return timezone.localdate()


# action -> (state to start from, channel, payload builder, state after, check of the case after)
GOOD = {
    "confirm_receipt": (S.SUBMITTED, Channel.ONLINE, lambda u: {}, S.REGISTERED, None),
    "register": (None, Channel.POST, lambda u: {}, S.REGISTERED, None),
    "reply_on_spot": (
        S.REGISTERED,
        Channel.IN_PERSON,
        lambda u: {"outcome": "already_public"},
        S.REPLIED,
        lambda c: c.outcome == "already_public",
    ),
    "start_processing": (
        S.REGISTERED,
        Channel.ONLINE,
        lambda u: {"handler": u["handler"].pk},
        S.PROCESSING,
        lambda c: c.handler_id is not None,
    ),
    "assign": (
        S.PROCESSING,
        Channel.ONLINE,
        lambda u: {"handler": u["handler"].pk},
        S.PROCESSING,
        None,
    ),
    "request_supplement": (
        S.REGISTERED,
        Channel.ONLINE,
        lambda u: {"items": "请写明文件文号", "period_days": 10},
        S.AWAITING_SUPPLEMENT,
        lambda c: c.supplement_requested,
    ),
    "receive_supplement": (S.AWAITING_SUPPLEMENT, Channel.ONLINE, lambda u: {}, S.PROCESSING, None),
    "abandon_no_supplement": (
        S.AWAITING_SUPPLEMENT,
        Channel.ONLINE,
        lambda u: {},
        S.CLOSED,
        lambda c: c.outcome == "abandoned_no_supplement",
    ),
    "start_consultation": (
        S.PROCESSING,
        Channel.ONLINE,
        lambda u: {"consultee": "某某有限公司", "consultee_kind": "third_party"},
        S.CONSULTING,
        None,
    ),
    "close_consultation": (
        S.CONSULTING,
        Channel.ONLINE,
        lambda u: {"opinion": "不同意公开"},
        S.PROCESSING,
        None,
    ),
    "extend": (
        S.PROCESSING,
        Channel.ONLINE,
        lambda u: {"days": 15, "reason": "需征求第三方意见"},
        S.PROCESSING,
        lambda c: c.is_extended,
    ),
    "set_later_reply_date": (
        S.PROCESSING,
        Channel.ONLINE,
        lambda u: {
            "reply_by": (_today() + dt.timedelta(days=90)).isoformat(),
            "reason": "申请数量较多",
        },
        S.PROCESSING,
        None,
    ),
    "issue_fee_notice": (
        S.PROCESSING,
        Channel.ONLINE,
        lambda u: {"amount_yuan": "200.00", "method": "by_count", "computation": {"items": 12}},
        S.AWAITING_FEE,
        lambda c: str(c.fee_notices.get().amount_yuan) == "200.00",
    ),
    "record_fee_payment": (
        S.AWAITING_FEE,
        Channel.ONLINE,
        lambda u: {},
        S.PROCESSING,
        lambda c: c.fee_notices.get().paid_on == _today(),
    ),
    "abandon_no_fee": (
        S.AWAITING_FEE,
        Channel.ONLINE,
        lambda u: {},
        S.CLOSED,
        lambda c: c.outcome == "abandoned_no_fee",
    ),
    "submit_for_approval": (
        S.PROCESSING,
        Channel.ONLINE,
        lambda u: {"outcome": "needs_creation"},
        S.PENDING_APPROVAL,
        lambda c: c.draft_outcome == "needs_creation",
    ),
    "approve": (
        S.PENDING_APPROVAL,
        Channel.ONLINE,
        lambda u: {"comment": "同意"},
        S.APPROVED,
        None,
    ),
    "send_back": (
        S.PENDING_APPROVAL,
        Channel.ONLINE,
        lambda u: {"reason": "依据不足"},
        S.PROCESSING,
        None,
    ),
    "serve_reply": (
        S.APPROVED,
        Channel.ONLINE,
        lambda u: {"service_method": "email"},
        S.REPLIED,
        lambda c: c.replied_on == _today(),
    ),
    "withdraw": (
        S.PROCESSING,
        Channel.ONLINE,
        lambda u: {"reason": "申请人书面撤回"},
        S.CLOSED,
        lambda c: c.outcome == "withdrawn",
    ),
    "close": (S.REPLIED, Channel.ONLINE, lambda u: {}, S.CLOSED, None),
    "reopen": (
        S.REPLIED,
        Channel.ONLINE,
        lambda u: {"reason": "复议决定责令重新答复"},
        S.PROCESSING,
        None,
    ),
    "note": (
        S.PROCESSING,
        Channel.ONLINE,
        lambda u: {"text": "已电话联系申请人"},
        S.PROCESSING,
        None,
    ),
    "record_search": (
        S.PROCESSING,
        Channel.ONLINE,
        lambda u: {
            "searched_on": str(timezone.localdate()),
            "keywords": "2023年预算执行",
            "sources": "文书档案室、OA 系统",
            "result": "未查找到",
        },
        S.PROCESSING,
        None,
    ),
}


def test_every_action_has_an_endpoint_and_a_test():
    from requests_app.api.serializers import ACTION_INPUT_SERIALIZERS

    assert set(GOOD) == set(svc.ACTIONS) == set(ACTION_INPUT_SERIALIZERS)


def make_case(state, channel, agency, actor, days_ago=0):
    if state is None:
        return counter_case_submitted(agency, channel)
    return case_in_state(state, agency=agency, actor=actor, channel=channel, days_ago=days_ago)


# Abandonments close a case only after the applicant's period (test_abandonment.py).
PERIOD_ENDS_FIRST = {"abandon_no_supplement", "abandon_no_fee"}


@pytest.mark.parametrize("action", list(GOOD))
def test_action_succeeds_and_writes_one_event(action, office, approver, handler):
    start, channel, build, target, check = GOOD[action]
    case = make_case(start, channel, office, approver, 90 if action in PERIOD_ENDS_FIRST else 0)
    before = Case.objects.get(pk=case.pk)
    events_before = kinds(case)

    response = client_for(approver).post(
        action_url(case, action),
        {**build({"handler": handler}), "expected_version": before.version},
        format="json",
    )

    assert response.status_code == 200, response.json()
    after = Case.objects.get(pk=case.pk)
    body = response.json()
    assert body["state"]["code"] == target == after.state
    assert body["version"] == after.version == before.version + 1
    assert kinds(case) == [*events_before, action]
    assert body["events"][-1]["kind"]["code"] in (action, "due_changed")
    if check is not None:
        assert check(after)


def test_the_action_records_its_data_and_reason(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    response = client_for(approver).post(
        action_url(case, "extend"), {"days": 15, "reason": "需征求第三方意见"}, format="json"
    )
    event = [e for e in response.json()["events"] if e["kind"]["code"] == "extend"][0]
    assert (event["data"], event["reason"]) == (
        {"days": 15, "approver": approver.get_full_name()},
        "需征求第三方意见",
    )


def test_effective_at_backdates_counter_work(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    moment = timezone.now() - dt.timedelta(minutes=30)
    response = client_for(approver).post(
        action_url(case, "note"),
        {"text": "补录", "effective_at": moment.isoformat()},
        format="json",
    )
    assert response.status_code == 200
    assert CaseEvent.objects.get(case=case, kind="note").effective_at == moment


BAD_ACTION_INPUT = [
    ("extend", S.PROCESSING, {"days": 21, "reason": "复杂"}, "days"),
    ("extend", S.PROCESSING, {"days": 10}, "reason"),
    ("request_supplement", S.REGISTERED, {}, "items"),
    ("request_supplement", S.REGISTERED, {"items": "文号", "period_days": 0}, "period_days"),
    ("reply_on_spot", S.REGISTERED, {"outcome": "withheld_state_secret"}, "outcome"),
    ("submit_for_approval", S.PROCESSING, {"outcome": "withdrawn"}, "outcome"),
    (
        "submit_for_approval",
        S.PROCESSING,
        {"outcome": "disclosed", "legal_basis": "x" * 501},
        "legal_basis",
    ),
    ("assign", S.PROCESSING, {"handler": 987654}, "handler"),
    ("assign", S.PROCESSING, {}, "handler"),
    ("issue_fee_notice", S.PROCESSING, {"amount_yuan": "-1"}, "amount_yuan"),
    ("issue_fee_notice", S.PROCESSING, {"amount_yuan": "1.234"}, "amount_yuan"),
    ("issue_fee_notice", S.PROCESSING, {"amount_yuan": "10", "method": "by_weight"}, "method"),
    ("set_later_reply_date", S.PROCESSING, {"reply_by": "2000-01-01", "reason": "多"}, "reply_by"),
    ("set_later_reply_date", S.PROCESSING, {"reply_by": "9999-01-01", "reason": "多"}, "reply_by"),
    (
        "start_consultation",
        S.PROCESSING,
        {"consultee": "某公司", "consultee_kind": "oracle"},
        "consultee_kind",
    ),
    ("send_back", S.PENDING_APPROVAL, {"reason": ""}, "reason"),
    ("reopen", S.REPLIED, {}, "reason"),
    ("note", S.PROCESSING, {"text": "   "}, "text"),
    ("note", S.PROCESSING, {"text": "x", "expected_version": "abc"}, "expected_version"),
    (
        "note",
        S.PROCESSING,
        {"text": "x", "effective_at": "2099-01-01T00:00:00+08:00"},
        "effective_at",
    ),
    ("note", S.PROCESSING, {"text": "x", "effective_at": "0653-02-05T13:13:48Z"}, "effective_at"),
    ("confirm_receipt", S.SUBMITTED, {"received_on": "2099-01-01"}, "received_on"),
    (
        "serve_reply",
        S.APPROVED,
        {"served_on": "2000-01-01", "service_method": "direct"},
        "served_on",
    ),
    ("serve_reply", S.APPROVED, {"service_method": "post"}, "tracking_number"),
    (
        "serve_reply",
        S.APPROVED,
        {"service_method": "post", "carrier": "other", "tracking_number": "SF123"},
        "carrier",
    ),
]


@pytest.mark.parametrize(
    ("action", "state", "body", "field"),
    BAD_ACTION_INPUT,
    ids=[f"{a}-{f}-{i}" for i, (a, _s, _b, f) in enumerate(BAD_ACTION_INPUT)],
)
def test_bad_action_input_is_a_400_and_changes_nothing(
    action, state, body, field, office, approver
):
    channel = Channel.IN_PERSON if action == "reply_on_spot" else Channel.ONLINE
    case = case_in_state(state, agency=office, actor=approver, channel=channel)
    before = row(Case.objects.get(pk=case.pk))
    events = kinds(case, exclude_due=False)

    response = client_for(approver).post(action_url(case, action), body, format="json")

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == [field]
    assert row(Case.objects.get(pk=case.pk)) == before
    assert kinds(case, exclude_due=False) == events


def test_a_step_the_state_does_not_allow_is_a_409(office, approver):
    case = case_in_state(S.REGISTERED, agency=office, actor=approver)
    before = row(Case.objects.get(pk=case.pk))
    response = client_for(approver).post(action_url(case, "approve"), {}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "code": "transition_not_allowed",
        "message": "当前状态“已登记”下不能执行“审核通过”。",
        "message_en": "The action 'approve' is not allowed in the state 'registered'.",
        "fields": {},
    }
    assert row(Case.objects.get(pk=case.pk)) == before


def test_a_second_extension_is_a_409(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    client = client_for(approver)
    assert (
        client.post(action_url(case, "extend"), {"reason": "复杂"}, format="json").status_code
        == 200
    )
    response = client.post(action_url(case, "extend"), {"reason": "再延"}, format="json")
    assert response.status_code == 409
    assert kinds(case).count("extend") == 1


def test_a_stale_version_is_a_409_conflict(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    stale = Case.objects.get(pk=case.pk).version
    client = client_for(approver)
    assert (
        client.post(
            action_url(case, "note"), {"text": "一", "expected_version": stale}, format="json"
        ).status_code
        == 200
    )
    response = client.post(
        action_url(case, "note"), {"text": "二", "expected_version": stale}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert kinds(case).count("note") == 1


@pytest.mark.parametrize(
    ("role", "action", "body"),
    [
        (Role.HANDLER, "extend", {"reason": "复杂"}),
        (Role.HANDLER, "approve", {}),
        (Role.REGISTRAR, "submit_for_approval", {"outcome": "disclosed"}),
        (Role.SUPERVISOR, "note", {"text": "看看"}),
        (Role.AUDITOR, "withdraw", {}),
    ],
)
def test_a_role_without_the_right_gets_403_and_nothing_changes(
    role, action, body, office, approver
):
    state = S.PENDING_APPROVAL if action == "approve" else S.PROCESSING
    case = case_in_state(state, agency=office, actor=approver)
    before = row(Case.objects.get(pk=case.pk))
    user = caseworker(office, role)

    response = client_for(user).post(action_url(case, action), body, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert row(Case.objects.get(pk=case.pk)) == before


def test_a_supervisor_of_the_parent_reads_but_cannot_act(tree, approver):
    case = case_in_state(S.PROCESSING, agency=tree["office"], actor=approver)
    supervisor = caseworker(tree["city"], Role.SUPERVISOR)
    client = client_for(supervisor)
    assert client.get(detail_url(case)).status_code == 200
    assert client.post(action_url(case, "note"), {"text": "看看"}, format="json").status_code == 403


@pytest.mark.parametrize("action", ["note", "approve", "withdraw"])
def test_acting_on_another_agencys_case_is_a_404_and_changes_nothing(action, tree, approver):
    case = case_in_state(S.PENDING_APPROVAL, agency=tree["office"], actor=approver)
    before = row(Case.objects.get(pk=case.pk))
    stranger = caseworker(tree["other"], Role.APPROVER)

    response = client_for(stranger).post(action_url(case, action), {"text": "x"}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert row(Case.objects.get(pk=case.pk)) == before


def test_an_unknown_action_or_a_malformed_id_is_a_json_404(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    client = client_for(approver)
    for response in (
        client.post(action_url(case, "teleport"), {}, format="json"),
        client.get("/api/v1/staff/cases/abc/"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": "0"}, "limit"), ({"limit": "x"}, "limit"), ({"offset": "-1"}, "offset")],
)
def test_bad_pagination_is_a_400(cases, approver, params, field):
    response = client_for(approver).get(LIST, params)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]


def test_actions_take_json_only(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    response = client_for(approver).post(action_url(case, "note"), {"text": "备注"})
    assert response.status_code == 415


# --- counter intake -------------------------------------------------------------------------------
def intake_body(**overrides):
    body = {**application_fields(), "channel": "in_person"}
    body.update(overrides)
    return body


def test_a_registrar_enters_a_counter_application(office, registrar):
    response = client_for(registrar).post(LIST, intake_body(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    case = Case.objects.get()
    assert body["id"] == case.pk
    assert body["state"] == {"code": "registered", "label": "已登记"}
    assert body["agency"] == {"code": "city-office", "name": "安顺市人民政府办公室"}
    assert access_code_matches(case, body["access_code"])
    assert (case.channel, case.received_on) == ("in_person", timezone.localdate())
    assert kinds(case) == ["submitted", "register"]


def test_intake_of_unsigned_post_waits_for_confirmation(office, registrar):
    response = client_for(registrar).post(LIST, intake_body(channel="post_unsigned"), format="json")
    assert response.status_code == 201
    assert response.json()["state"]["code"] == "submitted"


def test_intake_is_idempotent_with_a_key(office, registrar):
    client = client_for(registrar)
    first = client.post(LIST, intake_body(), format="json", headers={"Idempotency-Key": "desk-1"})
    second = client.post(LIST, intake_body(), format="json", headers={"Idempotency-Key": "desk-1"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert Case.objects.count() == 1
    assert IdempotencyRecord.objects.get().scope == f"staff:intake:{registrar.pk}"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"agency": "nowhere"}, "agency"),
        ({"phone": "123"}, "phone"),
        ({"received_on": "1900-01-01"}, "received_on"),
        ({"effective_at": "2099-01-01T09:00:00+08:00"}, "effective_at"),
    ],
)
def test_bad_intake_is_a_400(office, registrar, overrides, field):
    response = client_for(registrar).post(LIST, intake_body(**overrides), format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert Case.objects.count() == 0


def test_intake_for_another_agency_or_by_a_handler_is_403(tree, registrar, handler):
    other = client_for(registrar).post(LIST, intake_body(agency="other-city"), format="json")
    by_handler = client_for(handler).post(LIST, intake_body(), format="json")
    assert (other.status_code, by_handler.status_code) == (403, 403)
    assert Case.objects.count() == 0


def test_a_superuser_must_name_the_agency(tree):
    root = UserFactory(username="root", is_superuser=True)
    client = client_for(root)
    missing = client.post(LIST, intake_body(), format="json")
    assert missing.status_code == 400
    assert missing.json()["fields"] == {"agency": ["请填写受理机关代码。"]}
    named = client.post(LIST, intake_body(agency="xixiu"), format="json")
    assert named.status_code == 201
    assert named.json()["agency"]["code"] == "xixiu"


# --- two caseworkers at once (PostgreSQL: real row locks) -------------------------------------
def _is_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


@pytest.mark.postgres
@pytest.mark.skipif(not _is_postgres(), reason="needs PostgreSQL: set DATABASE_URL=postgres://…")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["approve", "send_back"])
def test_concurrent_actions_one_wins_one_conflicts(action, office, approver):
    case = case_in_state(S.PENDING_APPROVAL, agency=office, actor=approver)
    second_approver = caseworker(office, Role.APPROVER, username="approver-2")
    body = {"reason": "依据不足"} if action == "send_back" else {}
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def act(user):
        try:
            client = client_for(user)
            barrier.wait(timeout=10)
            statuses.append(client.post(action_url(case, action), body, format="json").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=act, args=(user,)) for user in (approver, second_approver)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [200, 409]
    assert kinds(case).count(action) == 1
    assert CaseEvent.objects.filter(case=case, kind=action).count() == 1


# --- the list's query plan (PostgreSQL) ----------------------------------------------------------
@pytest.mark.postgres
@pytest.mark.skipif(not _is_postgres(), reason="needs PostgreSQL: set DATABASE_URL=postgres://…")
def test_a_list_page_is_read_in_index_order(office):
    """The list shows an agency's cases newest first. PostgreSQL reads a page of them from the
    case_agency_newest index in that order; without it, it sorted all the agency's cases for
    every page (about 100 ms with 70,000 cases, the bench's list after its submissions)."""
    from requests_app.selectors import case_list

    approver = caseworker(office, Role.APPROVER)
    now = timezone.now()
    Case.objects.bulk_create(
        Case(
            agency=office,
            channel=Channel.ONLINE,
            submitted_at=now - dt.timedelta(minutes=n),
            tracking_number=f"GKPLAN{n:06d}",
            **application_fields(),
        )
        for n in range(2000)
    )
    page = case_list(user=approver)[:50]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE requests_app_case")
        sql, params = page.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(line for (line,) in cursor.fetchall())
    assert "Index Scan using case_agency_newest" in plan, plan
    assert "Sort" not in plan, plan
