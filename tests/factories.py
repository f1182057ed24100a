"""factory-boy factories. Advanced states are reached by calling the real services
(``case_in_state``), never by writing the state column."""

from __future__ import annotations

import datetime as dt
import random

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from requests_app.choices import ApplicantType, CaseState, Channel, Role
from requests_app.models import Agency, Caseworker
from requests_app.validation import mainland_id_check_digit


def valid_id_number(seed: int | None = None) -> str:
    rng = random.Random(seed)
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 20000))
    first17 = f"520402{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + mainland_id_check_digit(first17)


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"agency-{n}")
    name = factory.Sequence(lambda n: f"测试机关{n}")
    address = "贵州省安顺市西秀区某路1号"
    phone = "0851-33220000"
    postal_code = "561000"
    review_body = "安顺市人民政府"
    court = "安顺市西秀区人民法院"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"工作人员{n}")
    password = factory.django.Password("pass-123456")
    is_staff = True


def caseworker(
    agency: Agency, role: str = Role.HANDLER, username: str | None = None, **extra
) -> object:
    user = UserFactory(username=username or f"{agency.code}-{role}")
    Caseworker.objects.update_or_create(
        user=user, defaults={"agency": agency, "role": role, **extra}
    )
    user.refresh_from_db()
    return user


def application_fields(**overrides) -> dict:
    fields = {
        "applicant_type": ApplicantType.NATURAL_PERSON,
        "applicant_name": "张三",
        "id_type": "mainland_id",
        "id_number": valid_id_number(1),
        "phone": "13800138000",
        "email": "zhangsan@example.com",
        "address": "贵州省安顺市西秀区南华路2号",
        "description": "申请公开2023年本机关财政预算执行情况。",
        "information_form": "electronic",
        "delivery_method": "email",
    }
    fields.update(overrides)
    return fields


# How to reach each state through the services, from a fresh online submission.
def case_in_state(
    state: str,
    *,
    agency: Agency,
    actor,
    channel: str = Channel.ONLINE,
    days_ago: int = 0,
    **fields,
):
    """A case in ``state``; with ``days_ago`` every step was taken that many days ago (so that
    the applicant's 补正 or fee period has run out by today)."""
    from requests_app.services import cases as svc
    from requests_app.services.intake import case_intake, case_submit

    at = timezone.now() - dt.timedelta(days=days_ago) if days_ago else None
    if channel in (Channel.IN_PERSON, Channel.ORAL, Channel.POST):
        case, _ = case_intake(
            actor=actor,
            agency=agency,
            channel=channel,
            fields=application_fields(**fields),
            effective_at=at,
        )
        if state == CaseState.SUBMITTED:
            raise ValueError("counter applications are registered at intake")
    else:
        case, _ = case_submit(
            agency=agency, channel=channel, fields=application_fields(**fields), submitted_at=at
        )
        if state == CaseState.SUBMITTED:
            return case
        case = svc.case_confirm_receipt(case=case, actor=actor, effective_at=at)
    if state == CaseState.REGISTERED:
        return case
    if state == CaseState.AWAITING_SUPPLEMENT:
        return svc.case_request_supplement(
            case=case, actor=actor, items="请提供文件名称或文号", effective_at=at
        )
    case = svc.case_start_processing(case=case, actor=actor, effective_at=at)
    if state == CaseState.PROCESSING:
        return case
    if state == CaseState.CONSULTING:
        return svc.case_start_consultation(
            case=case, actor=actor, consultee="某某有限公司", effective_at=at
        )
    if state == CaseState.AWAITING_FEE:
        return svc.case_issue_fee_notice(
            case=case, actor=actor, amount_yuan="100.00", effective_at=at
        )
    case = svc.case_submit_for_approval(
        case=case, actor=actor, outcome="disclosed", effective_at=at
    )
    if state == CaseState.PENDING_APPROVAL:
        return case
    case = svc.case_approve(case=case, actor=actor, effective_at=at)
    if state == CaseState.APPROVED:
        return case
    case = svc.case_serve_reply(case=case, actor=actor, effective_at=at)
    if state == CaseState.REPLIED:
        return case
    case = svc.case_close(case=case, actor=actor, effective_at=at)
    assert state == CaseState.CLOSED
    return case


def today() -> dt.date:
    return timezone.localdate()
