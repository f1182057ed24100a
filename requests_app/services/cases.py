"""Case actions. Each is a plan and its application: ``plan_<action>`` checks the inputs and
decides the change (writing nothing); ``case_<action>`` applies the plan — lock the case,
check the caseworker's permission and agency, run the state-machine transition, save, write
the history event, refresh the clock and queue follow-up work after commit — all in one
transaction (``case_apply``). The history importer applies the same plans in bulk.

``actor`` is the acting user; ``None`` is the system itself (Celery tasks, the importer), which
skips the permission check. ``effective_at`` is when the step happened, which differs from
the time it is recorded for counter work entered later; dates the law counts from (R, the
service date…) default to its local date. ``expected_version`` makes a stale screen fail
with a conflict instead of acting on a case someone else has changed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from requests_app.choices import (
    ON_THE_SPOT_OUTCOMES,
    REPLY_OUTCOMES,
    CaseState,
    ConsulteeKind,
    DeliveryMode,
    Outcome,
    RecordPurpose,
)
from requests_app.models import Case, CaseEvent, EventKind
from requests_app.permissions import can_act, role_allows
from requests_app.review import check_reply_agrees, release_check_for_reply, review_legal_basis
from requests_app.services import importing
from requests_app.services.clock import case_clock_refresh, clock_today, local_date
from requests_app.services.errors import (
    ActionForbidden,
    ConcurrentChange,
    InvalidInput,
    TransitionRefused,
)
from requests_app.services.notifications import case_event_notify
from requests_app.signals import case_changed

MAX_EXTENSION_DAYS = 20  # 条例 Art 33 ¶2: at most 20 working days, once
CONSULTEE_KINDS = frozenset(ConsulteeKind.values)


# Who acted, in the history, for a step the applicant took themselves (the applicant's pages).
APPLICANT_LABEL = "申请人（网上）"


def actor_label(actor) -> str:
    if actor is None:
        return "系统"
    return actor.get_full_name() or actor.get_username()


def _changed_fields(before: dict, case: Case) -> list[str]:
    return [name for name, value in before.items() if getattr(case, name) != value]


def _snapshot(case: Case) -> dict:
    return {
        f.attname: getattr(case, f.attname) for f in case._meta.concrete_fields if f.attname != "id"
    }


def _state_label(state: str) -> str:
    return str(CaseState(state).label) if state else ""


# --- the one way a case changes: a plan, applied ---------------------------------------------
# Every action is split in two. ``plan_<action>`` makes every check the action's inputs need
# and decides what the action is — the event's kind, the state-machine method and its
# arguments, the history data, a guard that needs the case as it is when applied, and what the
# action writes beside the case — without writing anything. ``case_<action>`` applies that
# plan to one case in one transaction (``case_apply``); the history importer applies
# the same plans to many cases in memory and writes their rows in bulk
# (``requests_app.importers``). So there is one list of checks and one set of messages.


class Rows:
    """Where the rows an action writes beside the case go (a fee notice issued, the notice a
    payment settles): the database, for one action. The importer keeps them in memory and
    inserts them in bulk (``importers._MemoryRows``)."""

    def add(self, row) -> None:
        row.save()

    def open_fee_notice(self, case: Case):
        """The fee notice a payment or waiver settles: the latest still open, or ``None``."""
        return (
            case.fee_notices.filter(paid_on__isnull=True, waived=False)
            .order_by("-issued_on", "-pk")
            .first()
        )

    def changed(self, row, fields: list[str]) -> None:
        row.save(update_fields=fields)


DATABASE_ROWS = Rows()


@dataclass(slots=True)
class Plan:
    """One case action, decided and checked, not yet applied (see above).

    ``permission`` is the name checked against the actor's role (``can_act``; the
    state-machine method's own ``permission=`` when it is one); ``method`` the state-machine
    transition called with ``args``; ``guard(case)`` a check on the case as it is when the plan
    is applied (under the row lock), raising TransitionRefused (or the state machine's
    TransitionNotAllowed, which ``plan_apply`` turns into it); ``effect(case, rows)`` what else
    the action changes, on the case or in ``rows``. ``label`` names who acted when it is not a
    user (``APPLICANT_LABEL``)."""

    kind: str
    effective_at: dt.datetime
    data: dict = field(default_factory=dict)
    reason: str = ""
    permission: str | None = None
    method: str | None = None
    args: dict | None = None
    guard: Callable[[Case], None] | None = None
    effect: Callable[[Case, Rows], None] | None = None
    label: str | None = None


def transition_plan(name: str, effective_at: dt.datetime | None, **plan) -> Plan:
    """The plan of an action that is the state-machine transition of the same name."""
    return Plan(name, effective_at or timezone.now(), permission=name, method=name, **plan)


def transition_refused(kind: str, state: str) -> TransitionRefused:
    """The refusal of an action the state machine does not allow in ``state``."""
    return TransitionRefused(
        f"当前状态“{_state_label(state)}”下不能执行“{EventKind(kind).label}”。",
        f"The action '{kind}' is not allowed in the state '{state}'.",
    )


def plan_apply(case: Case, plan: Plan, rows: Rows = DATABASE_ROWS) -> str:
    """Apply ``plan`` to ``case`` (its guard, its transition, its effect) and count the new
    version; return the state it left. A transition the state machine refuses raises
    ``transition_refused``. Writes only through ``rows``; the caller saves the case."""
    from_state = case.state
    try:
        if plan.guard is not None:
            plan.guard(case)
        if plan.method is not None:
            getattr(case, plan.method)(**(plan.args or {}))
        if plan.effect is not None:
            plan.effect(case, rows)
    except TransitionNotAllowed as exc:
        raise transition_refused(plan.kind, from_state) from exc
    case.version += 1
    return from_state


def case_apply(plan: Plan, *, case: Case, actor, expected_version: int | None = None,
               permitted: bool | None = None) -> Case:  # fmt: skip
    """Apply one plan to ``case`` as the one way a case changes: lock the row, check the
    version the caller saw and the actor's permission, ``plan_apply``, save, write its one
    history event, refresh the clock, queue the notifications and send ``case_changed`` — in
    one transaction. Raises ActionForbidden, TransitionRefused, ConcurrentChange.

    ``permitted`` is the caller's own verdict for an actor whose right does not come from the
    case's agency (the unit a 交办 asks answers it: services/records_tasks.py)."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related("agency").get(pk=case.pk)
        if expected_version is not None and locked.version != expected_version:
            raise ConcurrentChange(
                "该申请已被他人修改，请刷新后重试。",
                "The case was changed by someone else; reload and try again.",
            )
        # The same check the transition's ``permission=`` makes (role and agency); the
        # state is checked by the transition itself, so a refused step is a 409, not a 403.
        kind = plan.kind
        allowed = (
            can_act(actor, plan.permission or kind, locked) if permitted is None else permitted
        )
        if actor is not None and not allowed:
            raise ActionForbidden(
                f"您无权对该申请执行“{EventKind(kind).label}”。",
                f"You may not take the action '{kind}' on this case.",
            )
        before = _snapshot(locked)
        from_state = plan_apply(locked, plan)
        fields = _changed_fields(before, locked)
        try:
            locked.save(update_fields=[*fields, "updated_at"])
        except ConcurrentTransition as exc:
            raise ConcurrentChange(
                "该申请已被他人修改，请刷新后重试。",
                "The case was changed by someone else; reload and try again.",
            ) from exc
        event = CaseEvent.objects.create(
            case=locked,
            kind=kind,
            actor=actor,
            actor_label=plan.label or actor_label(actor),
            effective_at=plan.effective_at,
            from_state=from_state,
            to_state=locked.state,
            data=plan.data,
            reason=plan.reason,
        )
        case_clock_refresh(case=locked, actor=actor, reason=kind)
        case_event_notify(event)
        if not importing.active():
            case_changed.send(sender=Case, case=locked, event=event, actor=actor, before=before)
    return locked


def case_perform_action(
    *,
    case: Case,
    actor,
    kind: str,
    apply: Callable[[Case], None],
    effective_at: dt.datetime | None = None,
    expected_version: int | None = None,
    data: dict | None = None,
    reason: str = "",
    transition: str | None = None,
    permitted: bool | None = None,
    label: str | None = None,
) -> Case:
    """``case_apply`` of an action of another service (records, letters, proceedings, the
    applicant's pages) given as ``apply(case)``: the case's change beside the history event
    ``kind``. ``transition`` names the permission checked (the state-machine method ``apply``
    calls, whose ``permission=`` applies); for other actions the role table is checked by
    ``kind``. ``label`` names who acted when it is not a user."""
    plan = Plan(
        kind=kind,
        effective_at=effective_at or timezone.now(),
        data=data or {},
        reason=reason,
        permission=transition,
        effect=lambda locked, _rows: apply(locked),
        label=label,
    )
    return case_apply(
        plan, case=case, actor=actor, expected_version=expected_version, permitted=permitted
    )


def _effective_day(effective_at, *, case: Case, label: str) -> tuple[dt.datetime, dt.date]:
    """When the step happens (default now) and its local date, checked like any legal date."""
    effective_at = effective_at or timezone.now()
    day = _check_day(local_date(effective_at), case=case, field="effective_at", label=label)
    return effective_at, day


def _check_day(
    day: dt.date, *, case: Case, field: str, label: str, allow_future: bool = False
) -> dt.date:
    """A date the law counts from: not in the future (unless the system fixes it ahead, as
    automatic confirmation does for a weekend submission) and not before the submission."""
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        raise InvalidInput(
            f"{label}不是有效日期。", f"{field} is not a valid date.", fields={field: ["invalid"]}
        )
    today = clock_today()
    if day > today and not allow_future:
        raise InvalidInput(
            f"{label}不能晚于今天。",
            f"{field} cannot be in the future.",
            fields={field: ["future"]},
        )
    earliest = local_date(case.submitted_at)
    if day < earliest:
        raise InvalidInput(
            f"{label}不能早于提交日期 {earliest}。",
            f"{field} cannot be before the submission date {earliest}.",
            fields={field: ["before_submission"]},
        )
    return day


def required_text(value: str | None, *, field: str, message: str, message_en: str) -> str:
    """The stripped text, or InvalidInput naming ``field`` when it is empty."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, message_en, fields={field: ["required"]})
    return value


def _check_outcome(outcome: str, allowed: frozenset, field: str = "outcome") -> str:
    if outcome not in allowed:
        raise InvalidInput(
            "答复结果不在可选范围内。",
            f"'{outcome}' is not an allowed outcome here.",
            fields={field: [f"choose one of: {', '.join(sorted(allowed))}"]},
        )
    return outcome


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


# --- receipt -----------------------------------------------------------------------------
def plan_confirm_receipt(
    *, case: Case, actor, received_on: dt.date | None = None, effective_at=None
) -> Plan:
    """Fix R for an online, e-mail, fax or unsigned-post application (Art 31): the day both
    sides confirmed receipt. Starts the reply clock."""
    effective_at = effective_at or timezone.now()
    received_on = _check_day(
        received_on or local_date(effective_at),
        case=case,
        field="received_on",
        label="收到日期",
        allow_future=actor is None,
    )
    return transition_plan(
        "confirm_receipt",
        effective_at,
        args={"received_on": received_on},
        data={"received_on": _iso(received_on)},
    )


def case_confirm_receipt(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_confirm_receipt``, applied."""
    plan = plan_confirm_receipt(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_register(
    *, case: Case, actor, received_on: dt.date | None = None, effective_at=None
) -> Plan:
    """Register (登记) an application handed in at the counter, oral, or signed for by post;
    R is that day (Art 31). Starts the reply clock."""
    effective_at = effective_at or timezone.now()
    received_on = _check_day(
        received_on or local_date(effective_at), case=case, field="received_on", label="收到日期"
    )
    return transition_plan(
        "register",
        effective_at,
        args={"received_on": received_on},
        data={"received_on": _iso(received_on)},
    )


def case_register(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_register``, applied."""
    plan = plan_register(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_reply_on_spot(
    *, case: Case, actor, outcome: str, legal_basis: str = "", effective_at=None
) -> Plan:
    """Answer at the counter (Art 33 ¶1): concludes the case the same day."""
    effective_at = effective_at or timezone.now()
    _check_outcome(outcome, ON_THE_SPOT_OUTCOMES)
    _require_search_record(case, outcome)
    check_reply_agrees(case, outcome)
    on = _check_day(local_date(effective_at), case=case, field="effective_at", label="答复日期")
    if case.received_on and case.received_on != on:
        raise TransitionRefused(
            "当场答复只能在收到申请的当天作出。",
            "An on-the-spot reply can only be given on the day the application is received.",
        )
    legal_basis = legal_basis or default_legal_basis(outcome)
    return transition_plan(
        "reply_on_spot",
        effective_at,
        args={"on": on, "outcome": outcome, "legal_basis": legal_basis},
        data={"on": _iso(on), "outcome": outcome},
    )


def case_reply_on_spot(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_reply_on_spot``, applied."""
    plan = plan_reply_on_spot(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


# --- handling ----------------------------------------------------------------------------
def _check_handler(handler, case: Case):
    if handler is None:
        return None
    if not (
        role_allows(handler, "submit_for_approval")
        and can_act(handler, "submit_for_approval", case)
    ):
        raise InvalidInput(
            "承办人须为本机关的承办人或审核人。",
            "The handler must be a handler or approver of the case's agency.",
            fields={"handler": ["not_a_handler_of_this_agency"]},
        )
    return handler


def plan_start_processing(*, case: Case, actor, handler=None, effective_at=None) -> Plan:
    """Hand a registered case to its handler (分办): searching, 保密审查 and drafting begin."""
    # (``case.handler`` only when there is one: an unsaved case's descriptor is a slow "no")
    handler = _check_handler(handler or (case.handler if case.handler_id else None) or actor, case)
    return transition_plan(
        "start_processing",
        effective_at,
        args={"handler": handler},
        data={
            "handler": actor_label(handler) if handler else None,
            "handler_id": handler.pk if handler else None,
        },
    )


def case_start_processing(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_start_processing``, applied."""
    plan = plan_start_processing(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_assign(*, case: Case, actor, handler, effective_at=None) -> Plan:
    """Change the handler of an open case (not a transition)."""
    if not case.is_open:
        raise TransitionRefused(
            "已办结的申请不能更换承办人。", "A concluded case cannot be reassigned."
        )
    handler = _check_handler(handler, case)

    def guard(locked: Case) -> None:
        if not locked.is_open:
            raise TransitionNotAllowed("closed")

    def effect(locked: Case, _rows: Rows) -> None:
        locked.handler = handler

    return Plan(
        kind=EventKind.ASSIGN,
        effective_at=effective_at or timezone.now(),
        guard=guard,
        effect=effect,
        data={"handler": actor_label(handler), "handler_id": handler.pk},
    )


def case_assign(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_assign``, applied."""
    plan = plan_assign(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_request_supplement(
    *, case: Case, actor, items: str, period_days: int | None = None, effective_at=None
) -> Plan:
    """Serve the one 补正 notice (Art 30), listing every item and the period (working days).
    Stops the reply clock; it restarts from R′ when the supplement arrives."""
    items = required_text(
        items,
        field="items",
        message="请列明需要补正的全部事项。",
        message_en="List every item to supplement.",
    )
    default_period = (
        case.agency.supplement_period_days or settings.DISCLOSURE["SUPPLEMENT_PERIOD_DAYS"]
    )
    period_days = default_period if period_days is None else period_days
    if not isinstance(period_days, int) or not 1 <= period_days <= 60:
        raise InvalidInput(
            "补正期限应为 1 至 60 个工作日。",
            "period_days must be 1 to 60 working days.",
            fields={"period_days": ["out_of_range"]},
        )
    effective_at, served_on = _effective_day(effective_at, case=case, label="告知日期")
    return transition_plan(
        "request_supplement",
        effective_at,
        data={"items": items, "period_days": period_days, "served_on": _iso(served_on)},
    )


def case_request_supplement(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_request_supplement``, applied."""
    plan = plan_request_supplement(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_receive_supplement(
    *,
    case: Case,
    actor,
    received_on: dt.date | None = None,
    effective_at=None,
    text: str = "",
    by_applicant: bool = False,
) -> Plan:
    """Record the supplemented application; R′ is the day it arrives and the reply clock
    starts again from it (Art 30). ``text`` is what the applicant wrote, when it came
    online; ``by_applicant`` (with no actor) marks a 补正 the applicant answered on their
    pages, whose R′ the system fixes (possibly the next working day)."""
    effective_at = effective_at or timezone.now()
    received_on = _check_day(
        received_on or local_date(effective_at),
        case=case,
        field="received_on",
        label="补正收到日期",
        allow_future=actor is None,
    )
    data = {"received_on": _iso(received_on)}
    if text:
        data["text"] = text
    return transition_plan(
        "receive_supplement",
        effective_at,
        data=data,
        label=APPLICANT_LABEL if by_applicant else None,
    )


def case_receive_supplement(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_receive_supplement``, applied."""
    plan = plan_receive_supplement(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_abandon_no_supplement(
    *, case: Case, actor=None, on: dt.date | None = None, effective_at=None
) -> Plan:
    """Close the case as 视为放弃 from the day after the applicant's 补正 period (Art 30).

    Raises TransitionRefused (code ``period_not_ended``) on or before the period's last day."""
    return _abandon_plan("abandon_no_supplement", case=case, on=on, effective_at=effective_at)


def case_abandon_no_supplement(*, case: Case, actor=None, expected_version=None, **inputs) -> Case:
    """``plan_abandon_no_supplement``, applied."""
    plan = plan_abandon_no_supplement(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_start_consultation(
    *,
    case: Case,
    actor,
    consultee: str,
    consultee_kind: str = ConsulteeKind.THIRD_PARTY,
    effective_at=None,
) -> Plan:
    """Send a written 征求意见书 to a third party (Art 32) or another agency (Art 34). The
    consultee has 15 working days; the time is excluded from the reply clock (Art 33 ¶3)."""
    consultee = required_text(
        consultee,
        field="consultee",
        message="请填写征求意见对象。",
        message_en="Name the party consulted.",
    )
    if consultee_kind not in CONSULTEE_KINDS:
        raise InvalidInput(
            "征求意见对象类型无效。",
            "consultee_kind must be third_party or agency.",
            fields={"consultee_kind": ["invalid_choice"]},
        )
    effective_at, sent_on = _effective_day(effective_at, case=case, label="发出日期")
    return transition_plan(
        "start_consultation",
        effective_at,
        data={"consultee_kind": consultee_kind, "consultee": consultee, "sent_on": _iso(sent_on)},
    )


def case_start_consultation(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_start_consultation``, applied."""
    plan = plan_start_consultation(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_close_consultation(*, case: Case, actor, opinion: str = "", effective_at=None) -> Plan:
    """The consultee answered (or its 15 days ran out: silence lets the agency decide)."""
    effective_at, closed_on = _effective_day(effective_at, case=case, label="结束日期")
    return transition_plan(
        "close_consultation",
        effective_at,
        data={"closed_on": _iso(closed_on), "opinion": opinion},
    )


def case_close_consultation(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_close_consultation``, applied."""
    plan = plan_close_consultation(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_extend(
    *, case: Case, actor, days: int = MAX_EXTENSION_DAYS, reason: str = "", effective_at=None
) -> Plan:
    """Extend the reply deadline once, by at most 20 working days, with the office head's
    approval (Art 33 ¶2): the actor must be an approver. The applicant is told (letter)."""
    if not isinstance(days, int) or not 1 <= days <= MAX_EXTENSION_DAYS:
        raise InvalidInput(
            "延期不得超过 20 个工作日。",
            "An extension is 1 to 20 working days.",
            fields={"days": ["out_of_range"]},
        )
    reason = required_text(
        reason,
        field="reason",
        message="请说明延期理由。",
        message_en="Give the reason for the extension.",
    )
    return transition_plan(
        "extend",
        effective_at,
        data={"days": days, "approver": actor_label(actor)},
        reason=reason,
    )


def case_extend(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_extend``, applied."""
    plan = plan_extend(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_set_later_reply_date(
    *, case: Case, actor, reply_by: dt.date, reason: str, effective_at=None
) -> Plan:
    """Art 35: reasonable but numerous requests; the agency fixes a later reply date and tells
    the applicant."""
    if not isinstance(reply_by, dt.date) or reply_by <= clock_today():
        raise InvalidInput(
            "延迟答复日期须晚于今天。",
            "reply_by must be a date after today.",
            fields={"reply_by": ["invalid"]},
        )
    reason = required_text(
        reason, field="reason", message="请说明理由。", message_en="Give the reason."
    )
    return transition_plan(
        "set_later_reply_date", effective_at, data={"reply_by": _iso(reply_by)}, reason=reason
    )


def case_set_later_reply_date(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_set_later_reply_date``, applied."""
    plan = plan_set_later_reply_date(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def _parse_amount(amount) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError) as exc:
        raise InvalidInput(
            "金额无效。", "amount_yuan is not a number.", fields={"amount_yuan": ["invalid"]}
        ) from exc
    if (
        not value.is_finite()
        or value <= 0
        or value > Decimal("1000000")
        or value != value.quantize(Decimal("0.01"))
    ):
        raise InvalidInput(
            "金额须为大于 0 的金额（元，两位小数）。",
            "amount_yuan must be a positive amount in yuan.",
            fields={"amount_yuan": ["invalid"]},
        )
    return value


def plan_issue_fee_notice(
    *,
    case: Case,
    actor,
    amount_yuan,
    computation: dict | None = None,
    method: str = "",
    effective_at=None,
) -> Plan:
    """Serve a 收费通知 (Art 42; 国办函〔2020〕109号). The applicant has 20 working days to pay;
    the reply clock pauses meanwhile (setting PAUSE_CLOCK_FOR_FEE)."""
    from requests_app.models import FeeNotice

    amount = _parse_amount(amount_yuan)
    effective_at, served_on = _effective_day(effective_at, case=case, label="通知日期")

    def effect(locked: Case, rows: Rows) -> None:
        rows.add(
            FeeNotice(
                case=locked,
                amount_yuan=amount,
                method=method,
                computation=computation or {},
                issued_on=served_on,
                issued_by=actor,
            )
        )

    return transition_plan(
        "issue_fee_notice",
        effective_at,
        effect=effect,
        data={"amount_yuan": str(amount), "served_on": _iso(served_on), "method": method},
    )


def case_issue_fee_notice(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_issue_fee_notice``, applied."""
    plan = plan_issue_fee_notice(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_record_fee_payment(
    *, case: Case, actor, waived: bool = False, reason: str = "", effective_at=None
) -> Plan:
    """The applicant paid (or the fee was waived, ``reason`` saying why); the reply clock
    runs again."""
    effective_at, paid_on = _effective_day(effective_at, case=case, label="缴费日期")

    def effect(locked: Case, rows: Rows) -> None:
        notice = rows.open_fee_notice(locked)
        if notice is not None:
            if waived:
                notice.waived = True
                notice.waiver_reason = reason
            else:
                notice.paid_on = paid_on
            rows.changed(notice, ["waived", "waiver_reason", "paid_on"])

    return transition_plan(
        "record_fee_payment",
        effective_at,
        effect=effect,
        data={"paid_on": _iso(paid_on), "waived": bool(waived)},
        reason=reason,
    )


def case_record_fee_payment(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_record_fee_payment``, applied."""
    plan = plan_record_fee_payment(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_abandon_no_fee(
    *, case: Case, actor=None, on: dt.date | None = None, effective_at=None
) -> Plan:
    """Close the case, the fee unpaid, from the day after its 20 working days (Art 42).

    Raises TransitionRefused (code ``period_not_ended``) on or before the period's last day."""
    return _abandon_plan("abandon_no_fee", case=case, on=on, effective_at=effective_at)


def case_abandon_no_fee(*, case: Case, actor=None, expected_version=None, **inputs) -> Case:
    """``plan_abandon_no_fee``, applied."""
    plan = plan_abandon_no_fee(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


# --- abandonment: the applicant's period must have run out ---------------------------------
# 条例 Art 30 (补正) and Art 42 (信息处理费): the period is the applicant's to its last day; the
# case may be closed for want of the supplement or the fee only from the day after. This is
# the one place the rule lives: the services enforce it, the admin and the staff API offer the
# action only when it holds, and the sweep's automatic closure goes through the services.
_ABANDONMENT_PERIODS = {
    # action: (source state, due-date field, the deadline, the outcome, the article)
    "abandon_no_supplement": (
        CaseState.AWAITING_SUPPLEMENT,
        "supplement_due_on",
        "补正期限",
        Outcome.ABANDONED_NO_SUPPLEMENT,
        "第三十条",
    ),
    "abandon_no_fee": (
        CaseState.AWAITING_FEE,
        "fee_due_on",
        "缴费期限",
        Outcome.ABANDONED_NO_FEE,
        "第四十二条",
    ),
}


def case_abandonment_refusal(
    *, case: Case, action: str, on: dt.date | None = None
) -> TransitionRefused | None:
    """Why ``action`` cannot close ``case`` on ``on`` (default today) — the applicant's 补正 or
    fee period has not run out — or ``None`` when nothing in the period stands in the way
    (including actions that are not abandonments and cases in another state, which the state
    machine refuses on its own). Reads only the case; raises nothing."""
    period = _ABANDONMENT_PERIODS.get(action)
    if period is None:
        return None
    source, field, label, outcome, article = period
    if case.state != source:
        return None
    on = on or clock_today()
    due = getattr(case, field)
    if due is None:
        return TransitionRefused(
            f"{label}尚未确定，不能按“{Outcome(outcome).label}”办结。",
            f"The applicant's {field} is not known; the case cannot be closed as {outcome}.",
            code="period_not_ended",
        )
    if on <= due:
        first = due + dt.timedelta(days=1)
        return TransitionRefused(
            f"申请人的{label}至 {due} 届满，{first} 起方可按“{Outcome(outcome).label}”办结"
            f"（《政府信息公开条例》{article}）。",
            f"The applicant's period runs to {due}; the case can be closed as {outcome} "
            f"from {first} on.",
            code="period_not_ended",
            fields={"on": ["period_not_ended"]},
        )
    return None


# --- the search record (检索记录) ----------------------------------------------------------------
# A reply that the information is not held, or not this agency's to disclose, rests on a
# reasonable search, which the agency must be able to show (SPC Guiding Case No. 101).
SEARCH_OUTCOMES = frozenset({Outcome.NOT_EXIST, Outcome.NOT_THIS_AGENCY})
# The search is part of handling: from registration until the draft reply goes for approval
# (a draft sent back returns to processing).
SEARCH_STATES = frozenset(
    {
        CaseState.REGISTERED,
        CaseState.AWAITING_SUPPLEMENT,
        CaseState.PROCESSING,
        CaseState.CONSULTING,
        CaseState.AWAITING_FEE,
    }
)


def search_records(case: Case):
    """The case's search records (``record_search`` events), oldest first."""
    return case.events.filter(kind=EventKind.RECORD_SEARCH).order_by("effective_at", "pk")


def search_record_refusal(case: Case, outcome: str) -> str | None:
    """Why ``outcome`` may not be chosen yet for ``case``, or ``None``. A case imported from an
    earlier system keeps the outcome it had (its search was recorded there, if anywhere)."""
    if outcome not in SEARCH_OUTCOMES or case.external_id:
        return None
    if search_records(case).exists():
        return None
    return (
        f"答复“{Outcome(outcome).label}”前须先登记检索记录：检索的关键词、档案和系统、"
        "询问的单位、日期及各自的结果（行政机关须能证明已尽合理检索义务）。"
    )


def _require_search_record(case: Case, outcome: str) -> None:
    refusal = search_record_refusal(case, outcome)
    if refusal is not None:
        raise TransitionRefused(
            refusal,
            "A reply that the information is not held needs a search record first.",
            code="search_record_required",
            fields={"outcome": ["search_record_required"]},
        )


def plan_record_search(
    *,
    case: Case,
    actor,
    searched_on: dt.date,
    keywords: str,
    sources: str,
    result: str,
    units_asked: str = "",
    effective_at=None,
) -> Plan:
    """Record one search for the information asked for: when, with which keywords, in which
    archives and systems, which units were asked, and what each returned. Kept in the
    history (one event each); the reply letter states them."""
    if case.state not in SEARCH_STATES:
        raise TransitionRefused(
            f"当前状态“{_state_label(case.state)}”下不能登记检索记录：检索在登记后、提交审核前进行。",
            "A search is recorded between registration and the draft reply.",
        )
    searched_on = _check_day(searched_on, case=case, field="searched_on", label="检索日期")
    keywords = required_text(
        keywords, field="keywords", message="请填写检索使用的关键词。", message_en="No keywords."
    )
    sources = required_text(
        sources,
        field="sources",
        message="请填写检索的档案、系统或数据库。",
        message_en="No archives or systems searched.",
    )
    result = required_text(
        result, field="result", message="请填写检索结果。", message_en="No search result."
    )
    data = {
        "searched_on": _iso(searched_on),
        "keywords": keywords[:500],
        "sources": sources[:2000],
        "units_asked": (units_asked or "").strip()[:2000],
        "result": result[:2000],
    }
    return Plan(
        kind=EventKind.RECORD_SEARCH, effective_at=effective_at or timezone.now(), data=data
    )


def case_record_search(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_record_search``, applied."""
    plan = plan_record_search(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def case_available_actions(*, case: Case, user) -> set[str]:
    """The names of the actions ``user`` may take on ``case`` now: the state machine's
    transitions whose source, conditions and permission allow it (an abandonment only once
    the applicant's period has run out), plus assigning an open case and notes. What the
    admin's buttons and the staff API's ``allowed_actions`` show."""
    names = {t.name for t in case.get_available_user_state_transitions(user)}
    names = {n for n in names if case_abandonment_refusal(case=case, action=n) is None}
    if case.is_open and can_act(user, "assign", case):
        names.add("assign")
    if can_act(user, "note", case):
        names.add("note")
    if case.state in SEARCH_STATES and can_act(user, "record_search", case):
        names.add("record_search")
    return names


def _abandon_plan(action: str, *, case: Case, on, effective_at) -> Plan:
    """Close ``case`` by the abandonment ``action`` on ``on`` (default: the day of
    ``effective_at``), checked against the applicant's period when the plan is applied (under
    the row lock)."""
    effective_at = effective_at or timezone.now()
    on = _check_day(on or local_date(effective_at), case=case, field="on", label="办结日期")
    outcome = _ABANDONMENT_PERIODS[action][3]

    def guard(locked: Case) -> None:
        refusal = case_abandonment_refusal(case=locked, action=action, on=on)
        if refusal is not None:
            raise refusal

    return transition_plan(
        action,
        effective_at,
        args={"on": on},
        guard=guard,
        data={"on": _iso(on), "outcome": outcome},
    )


# --- the reply ---------------------------------------------------------------------------
OUTCOME_LEGAL_BASIS = {
    Outcome.ALREADY_PUBLIC: "《政府信息公开条例》第三十六条第（一）项",
    Outcome.DISCLOSED: "《政府信息公开条例》第三十六条第（二）项",
    Outcome.PARTIALLY_DISCLOSED: "《政府信息公开条例》第三十七条",
    Outcome.WITHHELD_STATE_SECRET: "《政府信息公开条例》第十四条、第三十六条第（三）项",
    Outcome.WITHHELD_PROHIBITED_BY_LAW: "《政府信息公开条例》第十四条、第三十六条第（三）项",
    Outcome.WITHHELD_SECURITY_STABILITY: "《政府信息公开条例》第十四条、第三十六条第（三）项",
    Outcome.WITHHELD_COMMERCIAL_SECRET: "《政府信息公开条例》第十五条、第三十六条第（三）项",
    Outcome.WITHHELD_PERSONAL_PRIVACY: "《政府信息公开条例》第十五条、第三十六条第（三）项",
    Outcome.WITHHELD_THIRD_PARTY_OTHER: "《政府信息公开条例》第十五条、第三十六条第（三）项",
    Outcome.WITHHELD_INTERNAL_AFFAIRS: "《政府信息公开条例》第十六条第一款、第三十六条第（三）项",
    Outcome.WITHHELD_PROCESS_INFO: "《政府信息公开条例》第十六条第二款、第三十六条第（三）项",
    Outcome.WITHHELD_LAW_ENFORCEMENT_FILE: "《政府信息公开条例》第十六条第二款、第三十六条第（三）项",
    Outcome.WITHHELD_ADMINISTRATIVE_QUERY: "《政府信息公开条例》第三十六条第（七）项",
    Outcome.WITHHELD_NOT_GOVERNMENT_INFO: "《政府信息公开条例》（2008）第二条",
    Outcome.NOT_EXIST: "《政府信息公开条例》第三十六条第（四）项",
    Outcome.NOT_THIS_AGENCY: "《政府信息公开条例》第三十六条第（五）项",
    Outcome.NEEDS_CREATION: "《政府信息公开条例》第三十八条",
    Outcome.UNCLEAR_AFTER_SUPPLEMENT: "《政府信息公开条例》第三十条",
    Outcome.PETITION_COMPLAINT: "《政府信息公开条例》第三十九条第一款",
    Outcome.DUPLICATE: "《政府信息公开条例》第三十六条第（六）项",
    Outcome.PUBLICATION: "《政府信息公开条例》第三十九条第二款",
    Outcome.EXCESSIVE: "《政府信息公开条例》第三十五条",
    Outcome.CONFIRM_OR_REISSUE: "《政府信息公开条例》第三十九条第二款",
    Outcome.ABANDONED_NO_SUPPLEMENT: "《政府信息公开条例》第三十条",
    Outcome.ABANDONED_NO_FEE: "《政府信息公开条例》第四十二条",
    Outcome.WITHDRAWN: "",
    Outcome.OTHER: "",
}


def default_legal_basis(outcome: str) -> str:
    return OUTCOME_LEGAL_BASIS.get(outcome, "")


def plan_submit_for_approval(
    *, case: Case, actor, outcome: str, legal_basis: str = "", effective_at=None
) -> Plan:
    """Draft the reply (outcome and legal basis) and send it to the head for sign-off (审核).

    When the case has records, the outcome must agree with their review (``review``: anything
    withheld → 部分公开, everything → a 不予公开 outcome with its basis, nothing → 予以公开)
    and a reply that releases pages needs the release copy built from the review as it is;
    otherwise TransitionRefused says why."""
    _check_outcome(outcome, REPLY_OUTCOMES)
    _require_search_record(case, outcome)
    summary = check_reply_agrees(case, outcome)
    release = release_check_for_reply(case, summary)
    legal_basis = (
        (legal_basis or "").strip()
        or (review_legal_basis(summary, outcome) if summary.has_records else "")
        or default_legal_basis(outcome)
    )
    data = {"outcome": outcome, "legal_basis": legal_basis}
    if release is not None:
        data.update(release_id=release.pk, release_sha256=release.sha256)
    return transition_plan(
        "submit_for_approval",
        effective_at,
        args={"outcome": outcome, "legal_basis": legal_basis},
        data=data,
    )


def case_submit_for_approval(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_submit_for_approval``, applied."""
    plan = plan_submit_for_approval(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_approve(*, case: Case, actor, comment: str = "", effective_at=None) -> Plan:
    """The office head signs the drafted reply. When the reply releases records, this
    approves (and fixes) the release copy built from the review as it is now, whose SHA-256
    goes into the history; TransitionRefused when the review changed since it was built or
    no longer agrees with the drafted outcome."""
    data = {"outcome": case.draft_outcome}

    def effect(locked: Case, rows: Rows) -> None:
        if not locked.draft_outcome:
            return
        summary = check_reply_agrees(locked, locked.draft_outcome)
        release = release_check_for_reply(locked, summary)
        if release is not None:
            release.approved_by, release.approved_at = actor, timezone.now()
            rows.changed(release, ["approved_by", "approved_at"])
            data.update(release_id=release.pk, release_sha256=release.sha256)

    return transition_plan("approve", effective_at, effect=effect, data=data, reason=comment)


def case_approve(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_approve``, applied."""
    plan = plan_approve(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_send_back(*, case: Case, actor, reason: str, effective_at=None) -> Plan:
    """The office head returns the draft for rework, saying why."""
    reason = required_text(
        reason,
        field="reason",
        message="请说明退回理由。",
        message_en="Say why the draft is sent back.",
    )
    return transition_plan("send_back", effective_at, reason=reason)


def case_send_back(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_send_back``, applied."""
    plan = plan_send_back(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


# 国办公开办函〔2016〕235号: a reply posted counts from the day it is handed to China Post (EMS or
# registered mail); another courier's date is not accepted as the 交邮 date.
CHINA_POST = "china_post"
CARRIERS = {CHINA_POST: "中国邮政（EMS、挂号信）", "other": "其他快递公司"}
# A China Post item number: the UPU S10 form (two letters, eight digits and a check digit, "CN")
# used by EMS (E…) and registered mail (R…, and the domestic X…), or a 13-digit domestic EMS
# number starting with 1 (no published check digit: its form is checked).
S10_NUMBER = re.compile(r"^[A-Z]{2}(\d{8})(\d)CN$")
DOMESTIC_EMS_NUMBER = re.compile(r"^1\d{12}$")
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
# Service methods recorded before the delivery mode was (and by the letters' service form):
# the electronic ones count as electronic service.
LEGACY_DELIVERY = {"email": "electronic", "online": "electronic", "fax": "electronic"}


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an item's eight-digit serial number."""
    rest = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(rest, rest)


def china_post_number(value: str) -> str:
    """``value`` normalised (upper case, no spaces) if it is a China Post EMS or registered-mail
    number, else InvalidInput saying why."""
    number = re.sub(r"[\s-]", "", value or "").upper()
    if not number:
        raise InvalidInput(
            "邮寄送达须填写中国邮政 EMS 或挂号信的邮件号。",
            "A posted reply needs its China Post item number.",
            fields={"tracking_number": ["required"]},
        )
    match = S10_NUMBER.match(number)
    if match:
        serial, check = match.groups()
        if s10_check_digit(serial) != int(check):
            raise InvalidInput(
                f"邮件号 {number} 的校验位不正确，请核对邮寄凭证。",
                f"The item number {number} fails its S10 check digit.",
                fields={"tracking_number": ["check_digit"]},
            )
        return number
    if DOMESTIC_EMS_NUMBER.match(number):
        return number
    raise InvalidInput(
        f"“{number}”不是中国邮政的邮件号：应为两个字母、九位数字加“CN”（如 EA123456785CN），"
        "或以 1 开头的 13 位国内 EMS 单号。依照国办公开办函〔2016〕235号，邮寄送达须通过中国邮政，"
        "其他快递公司的单号不予登记。",
        f"{number!r} is not a China Post item number.",
        fields={"tracking_number": ["not_china_post"]},
    )


def delivery_proof(
    mode: str,
    *,
    tracking_number: str = "",
    carrier: str = "",
    entrusted_to: str = "",
) -> dict:
    """The checked facts of a reply's service for its history event: the mode and what proves
    it (the China Post number of a posted reply, who received an entrusted one). A mode of
    ``""`` is a service recorded without one (history imported, internal callers)."""
    mode = LEGACY_DELIVERY.get(mode, mode or "")
    if mode and mode not in DeliveryMode.values:
        raise InvalidInput(
            "送达方式无效：应为直接送达、委托送达、邮寄送达（中国邮政）或电子送达。",
            f"service_method must be one of: {', '.join(DeliveryMode.values)}.",
            fields={"service_method": ["invalid_choice"]},
        )
    facts: dict = {"service_method": mode}
    if mode == DeliveryMode.POST:
        if carrier and carrier != CHINA_POST:
            raise InvalidInput(
                "依照国办公开办函〔2016〕235号，邮寄送达须通过中国邮政（EMS 或挂号信）交寄，"
                "以交邮日为答复日期；其他快递公司寄送的不予登记为邮寄送达。",
                "A posted reply must go by China Post (EMS or registered mail).",
                fields={"carrier": ["not_china_post"]},
            )
        facts["carrier"] = CHINA_POST
        facts["tracking_number"] = china_post_number(tracking_number)
    elif tracking_number or (carrier and carrier != CHINA_POST):
        raise InvalidInput(
            "只有邮寄送达需要填写邮件号和寄送单位。",
            "Only a posted reply has a carrier and an item number.",
            fields={"tracking_number": ["not_posted"]},
        )
    if mode == DeliveryMode.ENTRUSTED:
        receiver = (entrusted_to or "").strip()
        if not receiver:
            raise InvalidInput(
                "委托送达须填写受委托签收人。",
                "An entrusted service needs the name of who signed for it.",
                fields={"entrusted_to": ["required"]},
            )
        facts["entrusted_to"] = receiver[:100]
    return facts


def _delivery_label(mode: str) -> str:
    return str(DeliveryMode(mode).label) if mode else "送达"


def plan_serve_reply(
    *,
    case: Case,
    actor,
    served_on: dt.date | None = None,
    service_method: str = "",
    tracking_number: str = "",
    carrier: str = "",
    entrusted_to: str = "",
    effective_at=None,
) -> Plan:
    """Serve the approved reply. It counts as made on the service date: the applicant's (or
    the entrusted receiver's) signature, the 交邮 date at China Post, or the sending date
    online (国办公开办函〔2016〕235号) — ``served_on``, from which the clock judges lateness.
    ``delivery_proof`` checks the mode's facts (a posted reply: China Post only, with a valid
    EMS or registered-mail number)."""
    effective_at = effective_at or timezone.now()
    facts = delivery_proof(
        service_method,
        tracking_number=tracking_number,
        carrier=carrier,
        entrusted_to=entrusted_to,
    )
    served_on = _check_day(
        served_on or local_date(effective_at), case=case, field="served_on", label="送达日期"
    )
    if case.received_on and served_on < case.received_on:
        raise InvalidInput(
            "送达日期不能早于收到申请日期。",
            "served_on cannot be before the receipt date.",
            fields={"served_on": ["before_receipt"]},
        )
    return transition_plan(
        "serve_reply",
        effective_at,
        args={"served_on": served_on},
        data={"served_on": _iso(served_on), "outcome": case.draft_outcome, **facts},
    )


def case_serve_reply(*, case: Case, actor, receipt=None, expected_version=None, **inputs) -> Case:
    """``plan_serve_reply``, applied. ``receipt``, a scan of the signed receipt or the posting
    slip, is stored in the case's records as a proof of service (never released), in the same
    transaction as the service. Raises InvalidInput, ActionForbidden, TransitionRefused."""
    plan = plan_serve_reply(case=case, actor=actor, **inputs)
    with transaction.atomic():
        served = case_apply(plan, case=case, actor=actor, expected_version=expected_version)
        if receipt is not None:
            from requests_app.services.records import record_upload

            try:
                record_upload(
                    case=served,
                    actor=actor,
                    upload=receipt,
                    title=f"送达凭证（{_delivery_label(plan.data['service_method'])}）",
                    purpose=RecordPurpose.SERVICE_PROOF,
                )
            except InvalidInput as exc:  # the scan's own error, on the form's receipt field
                raise InvalidInput(
                    f"送达凭证扫描件：{exc.message}",
                    exc.message_en,
                    code=exc.code,
                    fields={"receipt": [code for codes in exc.fields.values() for code in codes]},
                ) from exc
            served.refresh_from_db()
    return served


def plan_withdraw(
    *, case: Case, actor, reason: str = "", effective_at=None, by_applicant: bool = False
) -> Plan:
    """The applicant withdraws the application (any open state): recorded by a caseworker,
    or by the applicant on their pages (``by_applicant``, no actor)."""
    effective_at = effective_at or timezone.now()
    on = local_date(effective_at)
    return transition_plan(
        "withdraw",
        effective_at,
        args={"on": on},
        data={"on": _iso(on), "outcome": Outcome.WITHDRAWN},
        reason=reason,
        label=APPLICANT_LABEL if by_applicant else None,
    )


def case_withdraw(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_withdraw``, applied."""
    plan = plan_withdraw(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_close(*, case: Case, actor, effective_at=None) -> Plan:
    """Archive (归档, Art 45) a replied case."""
    return transition_plan("close", effective_at)


def case_close(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_close``, applied."""
    plan = plan_close(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_reopen(*, case: Case, actor, reason: str, effective_at=None) -> Plan:
    """A review or court corrected the reply (e.g. 责令重新答复): open the case for a new reply,
    with the history saying why."""
    reason = required_text(
        reason,
        field="reason",
        message="请说明重新办理的原因。",
        message_en="Say why the case is reopened.",
    )
    effective_at = effective_at or timezone.now()
    return transition_plan(
        "reopen",
        effective_at,
        data={"reopened_on": _iso(local_date(effective_at)), "previous_outcome": case.outcome},
        reason=reason,
    )


def case_reopen(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_reopen``, applied."""
    plan = plan_reopen(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def plan_add_note(*, case: Case, actor, text: str, effective_at=None) -> Plan:
    """An internal note in the history (never shown to the applicant)."""
    text = required_text(
        text, field="text", message="备注不能为空。", message_en="The note is empty."
    )
    return Plan(kind=EventKind.NOTE, effective_at=effective_at or timezone.now(), reason=text)


def case_add_note(*, case: Case, actor, expected_version=None, **inputs) -> Case:
    """``plan_add_note``, applied."""
    plan = plan_add_note(case=case, actor=actor, **inputs)
    return case_apply(plan, case=case, actor=actor, expected_version=expected_version)


def case_send_reminder(*, case: Case, actor, message: str = "", effective_at=None) -> Case:
    """Remind the handler (the agency's approvers when there is none) of an open case: a
    ``reminder_sent`` event naming who was reminded, and their inbox and e-mail rows, in one
    transaction. A bulk action of the case list."""
    if not case.is_open:
        raise TransitionRefused("已办结的申请不需要提醒。", "A concluded case needs no reminder.")
    from requests_app.selectors import approvers_by_agency
    from requests_app.services.notifications import notifications_create, user_notifications

    users = (
        [case.handler]
        if case.handler_id
        else approvers_by_agency({case.agency_id}).get(case.agency_id, [])
    )
    message = (message or "").strip()[:500]
    plan = Plan(
        kind=EventKind.REMINDER_SENT,
        effective_at=effective_at or timezone.now(),
        permission="send_reminder",
        data={"manual": True, "to": [actor_label(u) for u in users]},
        reason=message,
    )
    with transaction.atomic():
        case = case_apply(plan, case=case, actor=actor)
        # This action's event: the clock refresh after it may have written due_changed rows.
        event = case.events.filter(kind=EventKind.REMINDER_SENT).order_by("-pk").first()
        due = f"，答复期限 {case.reply_due_on:%Y-%m-%d}" if case.reply_due_on else ""
        notifications_create(
            user_notifications(
                users=users,
                case=case,
                kind="manual_reminder",
                subject=f"【办理提醒】{case.tracking_number}",
                body=f"请及时办理申请 {case.tracking_number}{due}。{message}",
                key=f"event:{event.pk}",
            )
        )
    return case


# The actions the staff API and the admin offer, by name: service and the fields it takes.
ACTIONS: dict[str, Callable[..., Case]] = {
    "confirm_receipt": case_confirm_receipt,
    "register": case_register,
    "reply_on_spot": case_reply_on_spot,
    "start_processing": case_start_processing,
    "assign": case_assign,
    "request_supplement": case_request_supplement,
    "receive_supplement": case_receive_supplement,
    "abandon_no_supplement": case_abandon_no_supplement,
    "start_consultation": case_start_consultation,
    "close_consultation": case_close_consultation,
    "extend": case_extend,
    "set_later_reply_date": case_set_later_reply_date,
    "issue_fee_notice": case_issue_fee_notice,
    "record_fee_payment": case_record_fee_payment,
    "abandon_no_fee": case_abandon_no_fee,
    "submit_for_approval": case_submit_for_approval,
    "approve": case_approve,
    "send_back": case_send_back,
    "serve_reply": case_serve_reply,
    "withdraw": case_withdraw,
    "close": case_close,
    "reopen": case_reopen,
    "note": case_add_note,
    "record_search": case_record_search,
}
