"""The caseworkers' admin, through Django's test client, logged in as each role: scope of the
list and the case page, exactly the allowed action buttons, actions through the services, the
stale-page conflict, counter intake, the inbox, masking and who may enter at all."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from requests_app.choices import CaseState, Channel, Role
from requests_app.models import Agency, Case, CaseEvent, Caseworker, EventKind, Notification
from requests_app.services import cases as svc
from requests_app.services.intake import access_code_matches, case_submit
from tests.factories import application_fields, case_in_state, caseworker, valid_id_number

S = CaseState
ACTION_RE = re.compile(r'data-action="([a-z_]+)"')


def change_url(case):
    return reverse("admin:requests_app_case_change", args=[case.pk])


def act_url(case, action):
    return reverse("admin:requests_app_case_act", args=[case.pk, action])


def login(client, user):
    client.force_login(user)
    return client


def offered_actions(client, case) -> list[str]:
    response = client.get(change_url(case))
    assert response.status_code == 200
    return ACTION_RE.findall(response.content.decode())


def events_of(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("kind", flat=True))


def non_clock_events(case) -> list[str]:
    return [kind for kind in events_of(case) if kind != EventKind.DUE_CHANGED]


@pytest.fixture
def office_case(office, registrar):
    return case_in_state(S.REGISTERED, agency=office, actor=registrar, applicant_name="李四")


@pytest.fixture
def dept_case(tree):
    dept_registrar = caseworker(tree["dept"], Role.REGISTRAR)
    return case_in_state(
        S.REGISTERED, agency=tree["dept"], actor=dept_registrar, applicant_name="王五"
    )


@pytest.fixture
def foreign_case(tree):
    worker = caseworker(tree["other"], Role.REGISTRAR)
    return case_in_state(S.REGISTERED, agency=tree["other"], actor=worker, applicant_name="赵六")


# --- scope -----------------------------------------------------------------------------------
def listed_tracking_numbers(client, query="") -> set[str]:
    response = client.get(reverse("admin:requests_app_case_changelist") + query)
    assert response.status_code == 200
    return set(re.findall(r"GK\d{8}[2-9A-Z]{6}", response.content.decode()))


def test_caseworker_list_shows_only_own_agency(
    client, handler, office_case, dept_case, foreign_case
):
    login(client, handler)
    assert listed_tracking_numbers(client) == {office_case.tracking_number}


def test_supervisor_list_shows_subtree(client, tree, office_case, dept_case, foreign_case):
    supervisor = caseworker(tree["city"], Role.SUPERVISOR)
    login(client, supervisor)
    assert listed_tracking_numbers(client) == {
        office_case.tracking_number,
        dept_case.tracking_number,
    }


def test_supervisor_agency_filter_narrows_to_that_agency(client, tree, office_case, dept_case):
    supervisor = caseworker(tree["city"], Role.SUPERVISOR)
    login(client, supervisor)
    assert listed_tracking_numbers(client, f"?agency={tree['dept'].pk}") == {
        dept_case.tracking_number
    }


def test_other_agencys_case_page_is_not_shown(client, handler, dept_case):
    login(client, handler)
    response = client.get(change_url(dept_case))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert dept_case.tracking_number not in client.get(reverse("admin:index")).content.decode()
    assert client.get(act_url(dept_case, "start_processing")).status_code == 404
    version = dept_case.version
    response = client.post(act_url(dept_case, "note"), {"expected_version": version, "text": "x"})
    assert response.status_code == 404
    assert events_of(dept_case) == events_of(Case.objects.get(pk=dept_case.pk))
    assert Case.objects.get(pk=dept_case.pk).version == version


def test_search_by_phone_and_tracking_number(client, handler, office, registrar, office_case):
    other = case_in_state(
        S.REGISTERED, agency=office, actor=registrar, applicant_name="钱七", phone="13912345678"
    )
    login(client, handler)
    assert listed_tracking_numbers(client, "?q=13912345678") == {other.tracking_number}
    assert listed_tracking_numbers(client, f"?q={office_case.tracking_number.lower()}") == {
        office_case.tracking_number
    }
    assert listed_tracking_numbers(client, "?q=李") == {office_case.tracking_number}


def test_my_cases_filter(client, office, handler, approver, registrar):
    mine = case_in_state(S.PROCESSING, agency=office, actor=handler)
    theirs = case_in_state(S.PROCESSING, agency=office, actor=approver)
    login(client, handler)
    assert listed_tracking_numbers(client, "?mine=1") == {mine.tracking_number}
    assert theirs.tracking_number in listed_tracking_numbers(client)


def test_due_filter_and_overdue_marked_red(client, office, registrar, handler):
    submitted_at = timezone.now() - dt.timedelta(days=60)
    late, _ = case_submit(
        agency=office, fields=application_fields(applicant_name="孙八"), submitted_at=submitted_at
    )
    late = svc.case_confirm_receipt(case=late, actor=registrar, effective_at=submitted_at)
    fresh = case_in_state(S.REGISTERED, agency=office, actor=registrar)
    assert late.reply_due_on < timezone.localdate() < fresh.reply_due_on
    login(client, handler)
    assert listed_tracking_numbers(client, "?due=overdue") == {late.tracking_number}
    content = client.get(reverse("admin:requests_app_case_changelist")).content.decode()
    assert content.count('class="case-overdue"') == 1
    assert f"{late.reply_due_on:%Y-%m-%d}<br>（已逾期）" in content


def test_due_soon_counts_working_days_on_the_calendar(client, office, handler):
    """ "Due soon" is DUE_SOON_DAYS working days on the agency's calendar: a weekend or a
    holiday in between does not push a case out of the filter, and its date is marked in the
    list. (Whatever day the suite runs: the agency's holiday on the next working day makes
    the span longer than DUE_SOON_DAYS calendar days even from a Sunday.)"""
    from requests_app.calendars import calendar_for_agency
    from requests_app.models import CalendarDay
    from requests_app.workbench import DUE_SOON_DAYS

    today = timezone.localdate()
    holiday = calendar_for_agency(office).next_working_day(today)
    CalendarDay.objects.create(agency=office, date=holiday, kind=CalendarDay.Kind.HOLIDAY)
    calendar = calendar_for_agency(office)
    limit = calendar.add_working_days(today, DUE_SOON_DAYS)
    assert limit > today + dt.timedelta(days=DUE_SOON_DAYS)
    soon = case_in_state(S.PROCESSING, agency=office, actor=handler)
    later = case_in_state(S.PROCESSING, agency=office, actor=handler)
    Case.objects.filter(pk=soon.pk).update(reply_due_on=limit)
    Case.objects.filter(pk=later.pk).update(reply_due_on=calendar.next_working_day(limit))
    login(client, handler)
    assert listed_tracking_numbers(client, "?due=soon") == {soon.tracking_number}
    assert listed_tracking_numbers(client, "?due=attention") == {soon.tracking_number}
    content = client.get(reverse("admin:requests_app_case_changelist")).content.decode()
    assert content.count('class="case-due-soon"') == 1
    assert f"{DUE_SOON_DAYS} 个工作日内到期" in content


# --- entering the admin ------------------------------------------------------------------------
def test_caseworker_without_staff_flag_cannot_enter(client, office):
    user = caseworker(office, Role.HANDLER, username="not-staff")
    user.is_staff = False
    user.save()
    login(client, user)
    response = client.get(reverse("admin:requests_app_case_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_staff_user_without_caseworker_sees_no_cases(client, django_user_model):
    user = django_user_model.objects.create_user("plain-staff", password="x", is_staff=True)
    login(client, user)
    assert client.get(reverse("admin:requests_app_case_changelist")).status_code == 403
    assert "requests_app" not in client.get(reverse("admin:index")).context["app_list"].__repr__()


# --- the case page ------------------------------------------------------------------------------
def test_handler_on_pending_approval_sees_no_approve_button(client, office, handler, approver):
    case = case_in_state(S.PENDING_APPROVAL, agency=office, actor=approver)
    login(client, handler)
    assert offered_actions(client, case) == ["note", "withdraw"]


def test_approver_on_pending_approval_sees_approval_buttons(client, office, approver):
    case = case_in_state(S.PENDING_APPROVAL, agency=office, actor=approver)
    login(client, approver)
    assert offered_actions(client, case) == [
        "extend",
        "set_later_reply_date",
        "approve",
        "send_back",
        "assign",
        "note",
        "withdraw",
    ]


def test_supervisor_sees_the_case_but_no_actions(client, tree, office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    login(client, caseworker(tree["city"], Role.SUPERVISOR))
    assert offered_actions(client, case) == []


def test_registrar_on_online_submission(client, office, registrar):
    case = case_in_state(S.SUBMITTED, agency=office, actor=registrar)
    login(client, registrar)
    assert offered_actions(client, case) == ["confirm_receipt", "assign", "note", "withdraw"]


def test_case_page_shows_history_clock_and_masked_data(
    client, office, handler, registrar, office_case
):
    login(client, handler)
    content = client.get(change_url(office_case)).content.decode()
    assert "提交申请" in content and "确认接收" in content  # the history
    assert f"答复期限：{office_case.reply_due_on:%Y-%m-%d}" in content  # the clock
    assert "138****8000" in content
    assert "13800138000" not in content
    assert office_case.id_number not in content


def test_personal_data_shown_to_permitted_user(client, office, office_case):
    user = caseworker(office, Role.APPROVER, username="sees-all", can_view_personal_data=True)
    login(client, user)
    content = client.get(change_url(office_case)).content.decode()
    assert "13800138000" in content and office_case.id_number in content


def test_case_page_cannot_be_saved_directly(client, office, approver, office_case):
    login(client, approver)
    response = client.post(change_url(office_case), {"state": S.CLOSED, "applicant_name": "改"})
    assert response.status_code == 403
    case = Case.objects.get(pk=office_case.pk)
    assert (case.state, case.applicant_name, case.version) == (
        S.REGISTERED,
        "李四",
        office_case.version,
    )


# --- actions ---------------------------------------------------------------------------------------
def test_posting_an_action_runs_the_service_and_writes_one_event(client, office, approver):
    case = case_in_state(S.PENDING_APPROVAL, agency=office, actor=approver)
    before = events_of(case)
    login(client, approver)
    response = client.post(
        act_url(case, "approve"), {"expected_version": case.version, "comment": "同意"}
    )
    assert response.status_code == 302
    assert response["Location"] == change_url(case)
    case.refresh_from_db()
    assert case.state == S.APPROVED
    assert events_of(case) == [*before, EventKind.APPROVE]
    event = CaseEvent.objects.filter(case=case).latest("pk")
    assert (event.actor, event.reason, event.from_state, event.to_state) == (
        approver,
        "同意",
        S.PENDING_APPROVAL,
        S.APPROVED,
    )


def test_action_form_carries_its_data_to_the_service(client, office, handler):
    case = case_in_state(S.PROCESSING, agency=office, actor=handler)
    login(client, handler)
    form = client.get(act_url(case, "request_supplement"))
    assert form.status_code == 200
    assert f'value="{case.version}"' in form.content.decode()
    response = client.post(
        act_url(case, "request_supplement"),
        {"expected_version": case.version, "items": "请写明文件名称", "period_days": "10"},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == S.AWAITING_SUPPLEMENT
    event = CaseEvent.objects.filter(case=case, kind=EventKind.REQUEST_SUPPLEMENT).get()
    assert (event.data["items"], event.data["period_days"]) == ("请写明文件名称", 10)


def test_stale_version_shows_conflict_and_changes_nothing(client, office, approver):
    case = case_in_state(S.PENDING_APPROVAL, agency=office, actor=approver)
    stale_version = case.version
    svc.case_add_note(case=case, actor=approver, text="别人先动了")
    case.refresh_from_db()
    before = (case.state, case.version, events_of(case))
    login(client, approver)
    response = client.post(
        act_url(case, "approve"), {"expected_version": stale_version}, follow=True
    )
    assert response.status_code == 200
    assert "该申请已被他人修改，请刷新后重试。" in [str(m) for m in response.context["messages"]]
    case.refresh_from_db()
    assert (case.state, case.version, events_of(case)) == before


def test_stale_note_is_refused_too(client, office, handler):
    case = case_in_state(S.PROCESSING, agency=office, actor=handler)
    stale_version = case.version
    svc.case_add_note(case=case, actor=handler, text="第一条")
    before = events_of(case)
    login(client, handler)
    response = client.post(
        act_url(case, "note"), {"expected_version": stale_version, "text": "第二条"}, follow=True
    )
    assert "该申请已被他人修改，请刷新后重试。" in [str(m) for m in response.context["messages"]]
    assert events_of(case) == before


def test_refused_action_shows_the_services_message(client, office, handler):
    case = case_in_state(S.PENDING_APPROVAL, agency=office, actor=handler)
    before = events_of(case)
    login(client, handler)
    assert client.get(act_url(case, "approve")).status_code == 302  # not offered
    response = client.post(
        act_url(case, "approve"), {"expected_version": case.version}, follow=True
    )
    assert "您无权对该申请执行“审核通过”。" in [str(m) for m in response.context["messages"]]
    assert events_of(case) == before


def test_invalid_input_redisplays_the_form(client, office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    before = events_of(case)
    login(client, approver)
    response = client.post(
        act_url(case, "extend"), {"expected_version": case.version, "days": "30", "reason": ""}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"days", "reason"}
    assert events_of(case) == before


def test_service_validation_error_lands_on_the_field(client, office, handler):
    case = case_in_state(S.APPROVED, agency=office, actor=caseworker(office, Role.APPROVER))
    before = events_of(case)
    login(client, handler)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client.post(
        act_url(case, "serve_reply"),
        {
            "expected_version": case.version,
            "served_on": tomorrow.isoformat(),
            "service_method": "direct",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"served_on": ["送达日期不能晚于今天。"]}
    assert events_of(case) == before


# --- counter work -----------------------------------------------------------------------------------
def intake_data(agency, **overrides):
    data = {
        "agency": agency.pk,
        "channel": Channel.IN_PERSON,
        "received_on": timezone.localdate().isoformat(),
        "applicant_type": "natural_person",
        "applicant_name": "周九",
        "id_type": "mainland_id",
        "id_number": valid_id_number(7),
        "phone": "13700001111",
        "email": "",
        "address": "贵州省安顺市西秀区塔山路5号",
        "postal_code": "561000",
        "description": "申请公开本街道2023年城镇老旧小区改造项目清单。",
        "information_form": "paper",
        "delivery_method": "collect",
    }
    data.update(overrides)
    return data


def test_counter_intake_registers_and_shows_receipt_once(client, office, registrar):
    login(client, registrar)
    assert client.get(reverse("admin:requests_app_case_intake")).status_code == 200
    response = client.post(reverse("admin:requests_app_case_intake"), intake_data(office))
    assert response.status_code == 302
    case = Case.objects.get(applicant_name="周九")
    assert response["Location"] == change_url(case)
    assert (case.state, case.agency, case.channel, case.received_on) == (
        S.REGISTERED,
        office,
        Channel.IN_PERSON,
        timezone.localdate(),
    )
    assert non_clock_events(case) == [EventKind.SUBMITTED, EventKind.REGISTER]
    assert set(CaseEvent.objects.filter(case=case).values_list("actor", flat=True)) == {
        registrar.pk
    }
    first = client.get(change_url(case)).content.decode()
    code = re.search(r'查询码：<strong class="receipt-code">([2-9A-Z]{10})</strong>', first).group(
        1
    )
    assert access_code_matches(case, code)
    assert case.tracking_number in first
    assert code not in client.get(change_url(case)).content.decode()


def test_counter_intake_validates_applicant_fields(client, office, registrar):
    login(client, registrar)
    bad = intake_data(office, id_number="520402199001011230", phone="12345", postal_code="56100")
    response = client.post(reverse("admin:requests_app_case_intake"), bad)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"id_number", "phone", "postal_code"}
    assert not Case.objects.exists()


def test_counter_intake_is_for_registrars_and_approvers_only(client, office, handler):
    login(client, handler)
    assert client.get(reverse("admin:requests_app_case_intake")).status_code == 403
    response = client.post(reverse("admin:requests_app_case_intake"), intake_data(office))
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_registrar_cannot_intake_for_another_agency(client, tree, registrar):
    login(client, registrar)
    response = client.post(reverse("admin:requests_app_case_intake"), intake_data(tree["dept"]))
    assert response.status_code == 200
    assert "agency" in response.context["form"].errors
    assert not Case.objects.exists()


# --- inbox ---------------------------------------------------------------------------------------
def notify(user, subject, **extra):
    return Notification.objects.create(
        dedup_key=f"test:{user.pk}:{subject}",
        recipient=user,
        channel=Notification.Channel.INBOX,
        kind="test",
        subject=subject,
        body="正文",
        **extra,
    )


def test_inbox_lists_only_own_notifications(client, handler, approver):
    notify(handler, "给承办人的提醒")
    notify(approver, "给审核人的提醒")
    Notification.objects.create(
        dedup_key="mail",
        recipient=handler,
        channel=Notification.Channel.EMAIL,
        kind="test",
        subject="邮件副本",
        body="正文",
    )
    login(client, handler)
    content = client.get(reverse("admin:requests_app_notification_changelist")).content.decode()
    assert "给承办人的提醒" in content
    assert "给审核人的提醒" not in content and "邮件副本" not in content
    other = Notification.objects.get(subject="给审核人的提醒")
    assert (
        client.get(reverse("admin:requests_app_notification_change", args=[other.pk])).status_code
        == 302
    )
    assert Notification.objects.get(pk=other.pk).read_at is None


def test_index_shows_unread_count_and_reading_marks_read(client, handler):
    first = notify(handler, "提醒一")
    notify(handler, "提醒二")
    login(client, handler)
    assert "2 条未读通知" in client.get(reverse("admin:index")).content.decode()
    client.get(reverse("admin:requests_app_notification_change", args=[first.pk]))
    assert "1 条未读通知" in client.get(reverse("admin:index")).content.decode()
    client.post(
        reverse("admin:requests_app_notification_changelist"),
        {
            "action": "mark_selected_read",
            "_selected_action": list(Notification.objects.values_list("pk", flat=True)),
        },
    )
    assert Notification.objects.filter(read_at__isnull=True).count() == 0
    assert "没有未读通知" in client.get(reverse("admin:index")).content.decode()


# --- agencies and caseworkers -------------------------------------------------------------------
def test_only_administrators_change_agencies(client, tree, handler):
    url = reverse("admin:requests_app_agency_change", args=[tree["office"].pk])
    login(client, handler)
    assert client.post(url, {"name": "改名"}).status_code == 403
    assert Agency.objects.get(pk=tree["office"].pk).name == "安顺市人民政府办公室"
    admin_user = caseworker(tree["city"], Role.ADMINISTRATOR)
    login(client, admin_user)
    data = {"name": "安顺市政府办", "kind": "office", "auto_close_abandoned": "on"}
    assert client.post(url, data).status_code == 302
    assert Agency.objects.get(pk=tree["office"].pk).name == "安顺市政府办"
    assert client.post(
        reverse("admin:requests_app_agency_change", args=[tree["other"].pk]), data
    ).status_code in (302, 403)
    assert Agency.objects.get(pk=tree["other"].pk).name == "另一市人民政府"


def test_administrator_creates_a_caseworker_account(client, tree):
    admin_user = caseworker(tree["city"], Role.ADMINISTRATOR)
    login(client, admin_user)
    response = client.post(
        reverse("admin:requests_app_caseworker_add"),
        {
            "username": "new-handler",
            "full_name": "吴十",
            "email": "wu@example.com",
            "password1": "Gongkai-2024!",
            "password2": "Gongkai-2024!",
            "agency": tree["dept"].pk,
            "role": Role.HANDLER,
        },
    )
    assert response.status_code == 302
    worker = Caseworker.objects.get(user__username="new-handler")
    assert (
        worker.agency,
        worker.role,
        worker.user.is_staff,
        worker.user.check_password("Gongkai-2024!"),
    ) == (
        tree["dept"],
        Role.HANDLER,
        True,
        True,
    )
    assert not worker.user.is_superuser


def test_case_list_queries_do_not_grow_with_the_cases(client, office, registrar, handler):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def list_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("admin:requests_app_case_changelist")).status_code == 200
        return len(captured.captured_queries)

    login(client, handler)
    for _ in range(2):
        case_in_state(S.PROCESSING, agency=office, actor=handler)
    few = list_queries()
    for _ in range(5):
        case_in_state(S.PROCESSING, agency=office, actor=handler)
    assert list_queries() == few


def test_the_header_has_no_view_site_link_while_there_are_no_public_pages(client, handler):
    """Django's "查看站点" pointed at "/", a 404 (with DEBUG, a page listing every URL)."""
    login(client, handler)
    for url in (reverse("admin:index"), reverse("admin:requests_app_case_changelist")):
        page = client.get(url)
        assert page.status_code == 200
        assert page.context["site_url"] is None
        content = page.content.decode()
        assert "查看站点" not in content and "View site" not in content
