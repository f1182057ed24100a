"""补正 and fee abandonment only after the applicant's period (条例 Arts 30, 42; issue 11 §2).

The rule lives in the services (``case_abandonment_refusal``): on or before the period's last
day the case cannot be closed as 视为放弃 / 逾期未缴费 — the service answers 409 with the date,
the staff API does not list the action and refuses it, the admin shows no button and refuses a
forged POST, and the sweep's automatic closure (which goes through the service) waits too."""

import copy
import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from requests_app.calendars import calendar_changed
from requests_app.choices import CaseState
from requests_app.models import Case, CaseEvent, Notification
from requests_app.services import cases as svc
from requests_app.services.errors import InvalidInput, TransitionRefused
from requests_app.services.sweep import deadlines_sweep
from tests.clock_calendars import at, case_received, d, load_official
from tests.factories import case_in_state

pytestmark = pytest.mark.django_db

S = CaseState
SUPPLEMENT_MESSAGE = (
    "申请人的补正期限至 2024-10-23 届满，2024-10-24 起方可按“逾期不补正，视为放弃”办结"
    "（《政府信息公开条例》第三十条）。"
)
FEE_MESSAGE = (
    "申请人的缴费期限至 2024-11-04 届满，2024-11-05 起方可按“逾期未缴纳信息处理费”办结"
    "（《政府信息公开条例》第四十二条）。"
)


@pytest.fixture(autouse=True)
def calendar_2024():
    calendar_changed()
    load_official(2024)
    yield
    calendar_changed()


def awaiting_supplement(office, actor) -> Case:
    """Served 2024-09-27 with the default 15 working days: the last day is 2024-10-23."""
    case = case_received(office, actor, "2024-09-25")
    case = svc.case_request_supplement(
        case=case, actor=actor, items="文号", effective_at=at("2024-09-27")
    )
    assert case.supplement_due_on == d("2024-10-23")
    return case


def awaiting_fee(office, actor) -> Case:
    """Served 2024-10-08: 20 working days (the 调休 Saturday Oct 12 counts) end 2024-11-04."""
    case = case_received(office, actor, "2024-09-25")
    case = svc.case_issue_fee_notice(
        case=case, actor=actor, amount_yuan="100.00", effective_at=at("2024-10-08")
    )
    assert case.fee_due_on == d("2024-11-04")
    return case


# action, how to build the case, the day served, the period's last day, the refusal's message
EDGES = [
    ("abandon_no_supplement", awaiting_supplement, "2024-09-27", "2024-10-23", SUPPLEMENT_MESSAGE),
    ("abandon_no_fee", awaiting_fee, "2024-10-08", "2024-11-04", FEE_MESSAGE),
]
IDS = [edge[0] for edge in EDGES]


def after(day: str) -> str:
    return (d(day) + dt.timedelta(days=1)).isoformat()


def snapshot(case: Case) -> tuple:
    fresh = Case.objects.get(pk=case.pk)
    events = list(CaseEvent.objects.filter(case=case).values_list("pk", flat=True))
    return fresh.state, fresh.version, fresh.outcome, fresh.concluded_on, events


# --- the service ------------------------------------------------------------------------------
@pytest.mark.parametrize(("action", "build", "served", "last_day", "message"), EDGES, ids=IDS)
def test_the_service_refuses_until_the_period_is_over(
    office, handler, action, build, served, last_day, message
):
    case = build(office, handler)
    before = snapshot(case)
    for day in (d(served), d(last_day)):  # day 0 and the period's last day
        with pytest.raises(TransitionRefused) as refused:
            svc.ACTIONS[action](case=case, actor=handler, on=day, effective_at=at(day.isoformat()))
        assert (refused.value.code, refused.value.status) == ("period_not_ended", 409)
        assert refused.value.message == message
        assert snapshot(case) == before

    closed = svc.ACTIONS[action](case=case, actor=handler, on=d(after(last_day)))
    assert (closed.state, closed.concluded_on) == (S.CLOSED, d(after(last_day)))
    assert closed.outcome == action.replace("abandon_", "abandoned_")


@pytest.mark.parametrize(("action", "build", "served", "last_day", "message"), EDGES, ids=IDS)
def test_a_closing_day_in_the_future_is_refused(
    office, handler, action, build, served, last_day, message
):
    """The date cannot be moved past the period to get round the rule."""
    case = build(office, handler)
    before = snapshot(case)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(InvalidInput) as refused:
        svc.ACTIONS[action](case=case, actor=handler, on=tomorrow)
    assert refused.value.fields == {"on": ["future"]}
    assert snapshot(case) == before


def test_the_refusal_names_only_abandonments_in_their_state(office, handler):
    case = awaiting_supplement(office, handler)
    refusal = svc.case_abandonment_refusal
    assert refusal(case=case, action="abandon_no_supplement", on=d("2024-10-23")) is not None
    assert refusal(case=case, action="abandon_no_supplement", on=d("2024-10-24")) is None
    # Not an abandonment, or the other one (the state machine refuses that by itself).
    assert refusal(case=case, action="receive_supplement", on=d("2024-09-27")) is None
    assert refusal(case=case, action="abandon_no_fee", on=d("2024-09-27")) is None


# --- the sweep --------------------------------------------------------------------------------
@pytest.mark.parametrize(("action", "build", "served", "last_day", "message"), EDGES, ids=IDS)
def test_the_sweep_closes_only_when_the_service_allows_it(
    office, handler, action, build, served, last_day, message
):
    case = build(office, handler)
    closing = [a for a in case.clock["actions"] if a["kind"].startswith("close_")]
    assert [a["on"] for a in closing] == [after(last_day)]  # the clock's closing day
    # A clock whose closing action says "today" too early (a stale or hand-edited row): the
    # sweep still asks the service's rule, which keeps the applicant's last day.
    clock = copy.deepcopy(case.clock)
    for item in clock["actions"]:
        if item["kind"].startswith("close_"):
            item["on"] = last_day
    Case.objects.filter(pk=case.pk).update(clock=clock, next_action_on=d(last_day))
    before = snapshot(case)
    assert deadlines_sweep(today=d(last_day)) == {"cases": 1}
    assert snapshot(case) == before
    assert not Notification.objects.filter(case=case, kind="closure_proposed").exists()

    Case.objects.filter(pk=case.pk).update(clock=case.clock, next_action_on=d(after(last_day)))
    assert deadlines_sweep(today=d(after(last_day))) == {"closed": 1, "cases": 1}
    assert Case.objects.get(pk=case.pk).concluded_on == d(after(last_day))


# --- the staff API ----------------------------------------------------------------------------
def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(("action", "build", "served", "last_day", "message"), EDGES, ids=IDS)
def test_the_staff_api_answers_409_with_the_date(
    office, handler, action, build, served, last_day, message
):
    case = build(office, handler)
    before = snapshot(case)
    url = f"/api/v1/staff/cases/{case.pk}/{action}/"
    response = api(handler).post(url, {"on": last_day}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "code": "period_not_ended",
        "message": message,
        "message_en": response.json()["message_en"],
        "fields": {"on": ["period_not_ended"]},
    }
    assert last_day in response.json()["message_en"]
    assert snapshot(case) == before

    response = api(handler).post(url, {"on": after(last_day)}, format="json")
    assert response.status_code == 200
    assert response.json()["state"]["code"] == S.CLOSED


@pytest.mark.parametrize("state", [S.AWAITING_SUPPLEMENT, S.AWAITING_FEE])
def test_the_staff_api_lists_the_abandonment_only_after_the_period(office, handler, state):
    action = "abandon_no_supplement" if state == S.AWAITING_SUPPLEMENT else "abandon_no_fee"
    fresh = case_in_state(state, agency=office, actor=handler)
    old = case_in_state(state, agency=office, actor=handler, days_ago=90)
    listed = {
        case.pk: api(handler).get(f"/api/v1/staff/cases/{case.pk}/").json()["allowed_actions"]
        for case in (fresh, old)
    }
    assert action not in listed[fresh.pk]
    assert action in listed[old.pk]
    assert set(listed[old.pk]) - {action} == set(listed[fresh.pk])


# --- the admin --------------------------------------------------------------------------------
def offered(client, case) -> list[str]:
    page = client.get(reverse("admin:requests_app_case_change", args=[case.pk]))
    assert page.status_code == 200
    return re.findall(r'data-action="([a-z_]+)"', page.content.decode())


@pytest.mark.parametrize("state", [S.AWAITING_SUPPLEMENT, S.AWAITING_FEE])
def test_the_admin_offers_the_abandonment_only_after_the_period(client, office, handler, state):
    action = "abandon_no_supplement" if state == S.AWAITING_SUPPLEMENT else "abandon_no_fee"
    client.force_login(handler)
    fresh = case_in_state(state, agency=office, actor=handler)
    assert action not in offered(client, fresh)
    act = reverse("admin:requests_app_case_act", args=[fresh.pk, action])
    shown = client.get(act, follow=True)  # no form for an action not offered
    assert shown.redirect_chain == [
        (reverse("admin:requests_app_case_change", args=[fresh.pk]), 302)
    ]

    # A forged POST: refused with the service's message, nothing changed.
    before = snapshot(fresh)
    response = client.post(act, {"expected_version": fresh.version}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    due = fresh.supplement_due_on if state == S.AWAITING_SUPPLEMENT else fresh.fee_due_on
    label = "补正期限" if state == S.AWAITING_SUPPLEMENT else "缴费期限"
    assert len(messages) == 1
    assert messages[0].startswith(f"申请人的{label}至 {due} 届满，{after(due.isoformat())} 起方可")
    assert snapshot(fresh) == before

    old = case_in_state(state, agency=office, actor=handler, days_ago=90)
    assert action in offered(client, old)
    act = reverse("admin:requests_app_case_act", args=[old.pk, action])
    response = client.post(act, {"expected_version": old.version})
    assert response.status_code == 302
    assert Case.objects.get(pk=old.pk).state == S.CLOSED
