"""Every state × every action: allowed ones succeed and write exactly one event of their kind;
the others are refused and change nothing (docs/architecture.md, 'The one path of a write')."""

import datetime as dt

import pytest
from django.utils import timezone

from requests_app.choices import CaseState, Channel, Outcome
from requests_app.models import Case, CaseEvent, EventKind
from requests_app.services import cases as svc
from requests_app.services.errors import TransitionRefused
from tests.factories import case_in_state, record_search

S = CaseState

ALWAYS = {"note"}
OPEN_EXTRAS = {"withdraw", "assign", "note"}
SEARCH = {"record_search"}  # from registration until the draft goes for approval
LATER = {"extend", "set_later_reply_date"}

# The law's table, written out by hand (not read from the state machine): state -> actions.
ALLOWED = {
    (S.SUBMITTED, Channel.ONLINE): {"confirm_receipt"} | OPEN_EXTRAS,
    (S.REGISTERED, Channel.ONLINE): {"start_processing", "request_supplement", "start_consultation"}
    | LATER
    | OPEN_EXTRAS
    | SEARCH,
    (S.REGISTERED, Channel.IN_PERSON): {
        "start_processing",
        "request_supplement",
        "start_consultation",
        "reply_on_spot",
    }
    | LATER
    | OPEN_EXTRAS
    | SEARCH,
    (S.AWAITING_SUPPLEMENT, Channel.ONLINE): {"receive_supplement", "abandon_no_supplement"}
    | OPEN_EXTRAS
    | SEARCH,
    (S.PROCESSING, Channel.ONLINE): {
        "request_supplement",
        "start_consultation",
        "issue_fee_notice",
        "submit_for_approval",
    }
    | LATER
    | OPEN_EXTRAS
    | SEARCH,
    (S.CONSULTING, Channel.ONLINE): {"close_consultation"} | LATER | OPEN_EXTRAS | SEARCH,
    (S.AWAITING_FEE, Channel.ONLINE): {"record_fee_payment", "abandon_no_fee"}
    | LATER
    | OPEN_EXTRAS
    | SEARCH,
    (S.PENDING_APPROVAL, Channel.ONLINE): {"approve", "send_back"} | LATER | OPEN_EXTRAS,
    (S.APPROVED, Channel.ONLINE): {"serve_reply"} | LATER | OPEN_EXTRAS,
    (S.REPLIED, Channel.ONLINE): {"close", "reopen"} | ALWAYS,
    (S.CLOSED, Channel.ONLINE): {"reopen"} | ALWAYS,
}

TARGET = {
    "confirm_receipt": S.REGISTERED,
    "register": S.REGISTERED,
    "reply_on_spot": S.REPLIED,
    "start_processing": S.PROCESSING,
    "request_supplement": S.AWAITING_SUPPLEMENT,
    "receive_supplement": S.PROCESSING,
    "abandon_no_supplement": S.CLOSED,
    "start_consultation": S.CONSULTING,
    "close_consultation": S.PROCESSING,
    "issue_fee_notice": S.AWAITING_FEE,
    "record_fee_payment": S.PROCESSING,
    "abandon_no_fee": S.CLOSED,
    "submit_for_approval": S.PENDING_APPROVAL,
    "approve": S.APPROVED,
    "send_back": S.PROCESSING,
    "serve_reply": S.REPLIED,
    "withdraw": S.CLOSED,
    "close": S.CLOSED,
    "reopen": S.PROCESSING,
}


# Allowed only after the applicant's 补正 or fee period has run out (test_abandonment.py).
PERIOD_ENDS_FIRST = {"abandon_no_supplement", "abandon_no_fee"}


def action_kwargs(action, handler):
    return {
        "reply_on_spot": {"outcome": Outcome.DISCLOSED},
        "assign": {"handler": handler},
        "request_supplement": {"items": "请补充文件文号"},
        "start_consultation": {"consultee": "某某有限公司"},
        "extend": {"reason": "需要征求多个部门意见"},
        "set_later_reply_date": {
            "reply_by": timezone.localdate() + dt.timedelta(days=60),
            "reason": "申请数量较多",
        },
        "issue_fee_notice": {"amount_yuan": "100.00"},
        "submit_for_approval": {"outcome": Outcome.DISCLOSED},
        "send_back": {"reason": "依据不充分"},
        "reopen": {"reason": "复议决定责令重新答复"},
        "note": {"text": "已电话联系申请人"},
        "record_search": {
            "searched_on": timezone.localdate(),
            "keywords": "2023年预算执行",
            "sources": "文书档案室、OA 系统",
            "result": "未查找到",
        },
    }.get(action, {})


def row(case):
    return {f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields}


CASES = [(state, channel, action) for (state, channel) in ALLOWED for action in svc.ACTIONS]


@pytest.mark.parametrize(
    ("state", "channel", "action"), CASES, ids=[f"{s}-{c}-{a}" for s, c, a in CASES]
)
def test_state_action(state, channel, action, office, approver, handler):
    # An abandonment needs the applicant's period over (Arts 30, 42): those cases start long ago.
    days_ago = 90 if action in PERIOD_ENDS_FIRST else 0
    case = case_in_state(state, agency=office, actor=approver, channel=channel, days_ago=days_ago)
    assert case.state == state
    before_row = row(Case.objects.get(pk=case.pk))
    before_events = list(CaseEvent.objects.filter(case=case).values_list("pk", flat=True))
    call = svc.ACTIONS[action]
    kwargs = action_kwargs(action, handler)
    if action in ALLOWED[(state, channel)]:
        result = call(case=case, actor=approver, **kwargs)
        assert result.state == TARGET.get(action, state)
        new = CaseEvent.objects.filter(case=case).exclude(pk__in=before_events)
        own = [e for e in new if e.kind != EventKind.DUE_CHANGED]
        assert [e.kind for e in own] == [action]
        assert own[0].from_state == state
        assert own[0].to_state == result.state
        assert own[0].actor == approver
        assert Case.objects.get(pk=case.pk).version == before_row["version"] + 1
    else:
        with pytest.raises(TransitionRefused):
            call(case=case, actor=approver, **kwargs)
        assert row(Case.objects.get(pk=case.pk)) == before_row
        assert (
            list(CaseEvent.objects.filter(case=case).values_list("pk", flat=True)) == before_events
        )


def test_counter_application_is_registered_at_intake(office, registrar):
    case = case_in_state(S.REGISTERED, agency=office, actor=registrar, channel=Channel.IN_PERSON)
    assert [e.kind for e in case.events.exclude(kind=EventKind.DUE_CHANGED)] == [
        "submitted",
        "register",
    ]
    assert case.received_on == timezone.localdate()


def test_supplement_only_once(office, approver):
    case = case_in_state(S.AWAITING_SUPPLEMENT, agency=office, actor=approver)
    case = svc.case_receive_supplement(case=case, actor=approver)
    assert case.state == S.PROCESSING
    with pytest.raises(TransitionRefused):
        svc.case_request_supplement(case=case, actor=approver, items="再次补正")


def test_extension_only_once(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    case = svc.case_extend(case=case, actor=approver, days=20, reason="情况复杂")
    assert case.is_extended
    with pytest.raises(TransitionRefused):
        svc.case_extend(case=case, actor=approver, days=5, reason="再延")


def test_reply_carries_the_drafted_outcome_and_its_service_date(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    case = record_search(case, approver)
    case = svc.case_submit_for_approval(case=case, actor=approver, outcome=Outcome.NOT_EXIST)
    case = svc.case_approve(case=case, actor=approver)
    case = svc.case_serve_reply(case=case, actor=approver)
    assert (case.outcome, case.concluded_on, case.replied_on) == (
        Outcome.NOT_EXIST,
        timezone.localdate(),
        timezone.localdate(),
    )
    assert case.legal_basis == "《政府信息公开条例》第三十六条第（四）项"


def test_reopen_clears_the_outcome_and_a_new_reply_concludes_again(office, approver):
    case = case_in_state(S.CLOSED, agency=office, actor=approver)
    case = svc.case_reopen(case=case, actor=approver, reason="复议机关责令重新答复")
    assert (case.state, case.outcome, case.concluded_on) == (S.PROCESSING, "", None)
    event = case.events.get(kind=EventKind.REOPEN)
    assert event.data["previous_outcome"] == Outcome.DISCLOSED
    assert event.reason == "复议机关责令重新答复"


def test_the_case_names_its_state_fields_as_django_fsm_would():
    """``Case.state_fields`` answers without testing every field of the model (it runs for
    every case built); it must still be what django-fsm's own search finds, so that its
    concurrent-transition guard on save covers the same fields."""
    from django_fsm import FSMFieldMixin

    found = [field for field in Case._meta.fields if isinstance(field, FSMFieldMixin)]
    assert list(Case().state_fields) == found == [Case._meta.get_field("state")]
