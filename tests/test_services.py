"""Services: permissions by role and agency, input checks, intake, idempotency, access codes."""

import datetime as dt

import pytest
from django.utils import timezone

from requests_app.choices import CaseState, Channel, Outcome, Role
from requests_app.models import Case, CaseEvent, EventKind, IdempotencyRecord
from requests_app.permissions import ACTION_ROLES
from requests_app.services import cases as svc
from requests_app.services.errors import (
    ActionForbidden,
    ConcurrentChange,
    InvalidInput,
    TransitionRefused,
)
from requests_app.services.intake import (
    access_code_matches,
    case_intake,
    case_submit,
    idempotent,
)
from tests.factories import application_fields, case_in_state, caseworker

S = CaseState


@pytest.mark.parametrize("role", [Role.REGISTRAR, Role.HANDLER, Role.SUPERVISOR, Role.AUDITOR])
def test_only_approvers_and_administrators_extend(role, office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    actor = caseworker(office, role)
    with pytest.raises(ActionForbidden):
        svc.case_extend(case=case, actor=actor, days=10, reason="复杂")
    assert Case.objects.get(pk=case.pk).is_extended is False


def test_administrator_of_the_parent_acts_on_the_subtree(tree, approver):
    case = case_in_state(S.PROCESSING, agency=tree["office"], actor=approver)
    admin = caseworker(tree["city"], Role.ADMINISTRATOR)
    case = svc.case_extend(case=case, actor=admin, days=10, reason="复杂")
    assert case.is_extended


def test_supervisor_cannot_act_even_in_the_subtree(tree, approver):
    case = case_in_state(S.PROCESSING, agency=tree["office"], actor=approver)
    supervisor = caseworker(tree["city"], Role.SUPERVISOR)
    with pytest.raises(ActionForbidden):
        svc.case_add_note(case=case, actor=supervisor, text="看看")


def test_caseworker_of_another_agency_is_refused_and_nothing_changes(tree, approver):
    case = case_in_state(S.PROCESSING, agency=tree["office"], actor=approver)
    stranger = caseworker(tree["dept"], Role.APPROVER)
    events = case.events.count()
    with pytest.raises(ActionForbidden):
        svc.case_submit_for_approval(case=case, actor=stranger, outcome=Outcome.DISCLOSED)
    assert case.events.count() == events
    assert Case.objects.get(pk=case.pk).state == S.PROCESSING


def test_every_case_action_has_its_roles():
    assert set(svc.ACTIONS) - set(ACTION_ROLES) == set()
    assert all(ACTION_ROLES[action] for action in svc.ACTIONS)


def test_stale_version_is_a_conflict(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    stale = case.version
    svc.case_add_note(case=case, actor=approver, text="先记一笔")
    with pytest.raises(ConcurrentChange):
        svc.case_start_consultation(
            case=case, actor=approver, consultee="某公司", expected_version=stale
        )
    assert Case.objects.get(pk=case.pk).state == S.PROCESSING


def test_refused_transition_message_is_bilingual(office, approver):
    case = case_in_state(S.REGISTERED, agency=office, actor=approver)
    with pytest.raises(TransitionRefused) as info:
        svc.case_approve(case=case, actor=approver)
    assert info.value.as_dict() == {
        "code": "transition_not_allowed",
        "message": "当前状态“已登记”下不能执行“审核通过”。",
        "message_en": "The action 'approve' is not allowed in the state 'registered'.",
    }


@pytest.mark.parametrize(
    ("action", "kwargs", "field"),
    [
        ("request_supplement", {"items": "  "}, "items"),
        ("request_supplement", {"items": "x", "period_days": 0}, "period_days"),
        ("extend", {"days": 21, "reason": "x"}, "days"),
        ("extend", {"days": 5, "reason": ""}, "reason"),
        ("submit_for_approval", {"outcome": "abandoned_no_fee"}, "outcome"),
        ("submit_for_approval", {"outcome": "nonsense"}, "outcome"),
        ("issue_fee_notice", {"amount_yuan": "-5"}, "amount_yuan"),
        ("issue_fee_notice", {"amount_yuan": "abc"}, "amount_yuan"),
        ("issue_fee_notice", {"amount_yuan": "1.234"}, "amount_yuan"),
        ("start_consultation", {"consultee": ""}, "consultee"),
        ("start_consultation", {"consultee": "x", "consultee_kind": "martians"}, "consultee_kind"),
        ("note", {"text": ""}, "text"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(action, kwargs, field, office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    events = case.events.count()
    with pytest.raises(InvalidInput) as info:
        svc.ACTIONS[action](case=case, actor=approver, **kwargs)
    assert list(info.value.fields) == [field]
    assert case.events.count() == events


def test_receipt_date_cannot_be_in_the_future_or_before_submission(office, approver):
    case, _ = case_submit(agency=office, fields=application_fields())
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with pytest.raises(InvalidInput) as info:
        svc.case_confirm_receipt(case=case, actor=approver, received_on=tomorrow)
    assert info.value.fields == {"received_on": ["future"]}
    with pytest.raises(InvalidInput) as info:
        svc.case_confirm_receipt(case=case, actor=approver, received_on=dt.date(2000, 1, 1))
    assert info.value.fields == {"received_on": ["before_submission"]}


def test_counter_work_entered_later_keeps_the_effective_time(office, registrar):
    handed_in = timezone.now() - dt.timedelta(days=3)
    case, code = case_intake(
        actor=registrar,
        agency=office,
        channel=Channel.IN_PERSON,
        fields=application_fields(),
        effective_at=handed_in,
    )
    assert case.state == S.REGISTERED
    assert case.received_on == timezone.localtime(handed_in).date()
    register = case.events.get(kind=EventKind.REGISTER)
    assert register.effective_at == handed_in
    assert register.recorded_at > handed_in
    assert access_code_matches(case, code)


def test_intake_needs_a_registrar_of_the_agency(tree):
    handler = caseworker(tree["office"], Role.HANDLER)
    with pytest.raises(ActionForbidden):
        case_intake(
            actor=handler,
            agency=tree["office"],
            channel=Channel.IN_PERSON,
            fields=application_fields(),
        )
    registrar = caseworker(tree["dept"], Role.REGISTRAR)
    with pytest.raises(ActionForbidden):
        case_intake(
            actor=registrar,
            agency=tree["office"],
            channel=Channel.IN_PERSON,
            fields=application_fields(),
        )
    assert Case.objects.count() == 0


def test_access_code_is_stored_hashed_and_checked(office):
    case, code = case_submit(agency=office, fields=application_fields())
    assert code not in case.access_code_hash
    assert access_code_matches(case, code)
    assert access_code_matches(case, code.lower())
    assert not access_code_matches(case, "WRONGCODE2")
    assert not access_code_matches(case, "")


def test_submission_waits_for_confirmation_unless_the_agency_confirms_automatically(office):
    case, _ = case_submit(agency=office, fields=application_fields())
    assert (case.state, case.received_on) == (S.SUBMITTED, None)
    office.auto_confirm_receipt = True
    office.save()
    case, _ = case_submit(agency=office, fields=application_fields())
    assert case.state == S.REGISTERED
    assert case.received_on is not None
    assert [e.kind for e in case.events.exclude(kind=EventKind.DUE_CHANGED)] == [
        "submitted",
        "confirm_receipt",
    ]


def test_idempotent_runs_once_and_replays(office):
    calls = []

    def run():
        case, code = case_submit(agency=office, fields=application_fields())
        calls.append(case.pk)
        return 201, {"tracking_number": case.tracking_number, "access_code": code}, case

    first = idempotent(scope="submit", key="k-1", fingerprint="f", run=run)
    second = idempotent(scope="submit", key="k-1", fingerprint="f", run=run)
    assert first[:2] == second[:2]
    assert (first[2], second[2]) == (False, True)
    assert len(calls) == 1
    assert Case.objects.count() == 1
    with pytest.raises(InvalidInput) as info:
        idempotent(scope="submit", key="k-1", fingerprint="other", run=run)
    assert info.value.code == "idempotency_key_reused"
    assert IdempotencyRecord.objects.count() == 1


def test_history_cannot_be_changed(office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    event = case.events.first()
    event.reason = "篡改"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(case=case).update(reason="篡改")
    with pytest.raises(PermissionError):
        CaseEvent.objects.filter(case=case).delete()
    assert CaseEvent.objects.filter(reason="篡改").count() == 0
