"""The case list's tools: bulk assign and remind through the services (one event each), the
export of the current list (masked unless the role may see personal data), saved filters."""

import csv
import datetime as dt
import io

from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from requests_app.choices import CaseState, Role
from requests_app.models import Case, CaseEvent, EventKind, Notification, SavedFilter
from requests_app.services import cases as svc
from tests.factories import case_in_state, caseworker

CHANGELIST = "admin:requests_app_case_changelist"


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_bulk_assign_goes_through_the_service_one_event_each(approver, handler, office):
    cases = [case_in_state(CaseState.PROCESSING, agency=office, actor=approver) for _ in range(3)]
    closed = case_in_state(CaseState.CLOSED, agency=office, actor=approver)
    client = login(approver)
    url = reverse(CHANGELIST)
    ids = [str(c.pk) for c in [*cases, closed]]
    page = client.post(url, {"action": "bulk_assign", "_selected_action": ids})
    assert page.status_code == 200
    assert "指定/更换承办人" in page.content.decode()
    done = client.post(
        url, {"action": "bulk_assign", "_selected_action": ids, "apply": "1", "handler": handler.pk},
        follow=True,
    )  # fmt: skip
    text = done.content.decode()
    assert "指定承办人：已处理 3 件" in text
    assert closed.tracking_number in text  # refused, with its reason
    for case in cases:
        case.refresh_from_db()
        assert case.handler_id == handler.pk
        assert CaseEvent.objects.filter(case=case, kind=EventKind.ASSIGN).count() == 1
    assert not CaseEvent.objects.filter(case=closed, kind=EventKind.ASSIGN).exists()


def test_bulk_remind_writes_an_event_and_tells_the_handler(approver, handler, office):
    case = case_in_state(CaseState.PROCESSING, agency=office, actor=approver)
    svc.case_assign(case=case, actor=approver, handler=handler)
    client = login(approver)
    client.post(reverse(CHANGELIST), {"action": "bulk_remind", "_selected_action": [case.pk]})
    event = CaseEvent.objects.get(case=case, kind=EventKind.REMINDER_SENT)
    assert event.data["manual"] is True and event.actor == approver
    inbox = Notification.objects.get(recipient=handler, channel=Notification.Channel.INBOX)
    assert case.tracking_number in inbox.subject
    # A handler may remind; a registrar is not offered the action at all.
    registrar = caseworker(office, Role.REGISTRAR, username="reg2")
    page = login(registrar).get(reverse(CHANGELIST))
    assert "bulk_remind" not in page.content.decode()


def test_a_reminder_names_its_own_event_when_the_clock_moves_after_it(approver, handler, office):
    """The clock refresh after the reminder writes a due_changed row (the stored due date was
    stale); the notices still name the reminder's event."""
    case = case_in_state(CaseState.PROCESSING, agency=office, actor=approver)
    case = svc.case_assign(case=case, actor=approver, handler=handler)
    Case.objects.filter(pk=case.pk).update(reply_due_on=case.reply_due_on - dt.timedelta(days=3))
    case.refresh_from_db()
    svc.case_send_reminder(case=case, actor=approver)
    reminder = CaseEvent.objects.get(case=case, kind=EventKind.REMINDER_SENT)
    last = CaseEvent.objects.filter(case=case).latest("pk")
    assert (last.kind, last.data["field"]) == (EventKind.DUE_CHANGED, "reply_due_on")
    assert list(
        Notification.objects.filter(recipient=handler).values_list("dedup_key", flat=True)
    ) == [f"event:{reminder.pk}:u{handler.pk}:inbox"]


def test_export_masks_personal_data_unless_the_role_may_see_it(approver, handler, office):
    case = case_in_state(CaseState.PROCESSING, agency=office, actor=approver)
    url = reverse("admin:requests_app_case_export", args=["csv"])
    masked = login(handler).get(url).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(masked)))
    assert rows[0][0] == "申请编号" and rows[1][0] == case.tracking_number
    assert case.id_number not in masked and case.phone not in masked
    # Approvers see personal data (the demo's rule): the full values, and the export is logged.
    from requests_app.models import Caseworker

    Caseworker.objects.filter(user=approver).update(can_view_personal_data=True)
    approver.refresh_from_db()
    full = login(approver).get(url).content.decode("utf-8-sig")
    assert case.id_number in full


def test_export_follows_the_current_filter_and_writes_xlsx(approver, office):
    processing = case_in_state(CaseState.PROCESSING, agency=office, actor=approver)
    submitted = case_in_state(CaseState.SUBMITTED, agency=office, actor=approver)
    url = reverse("admin:requests_app_case_export", args=["xlsx"])
    data = login(approver).get(url, {"state__exact": "submitted"}).content
    sheet = load_workbook(io.BytesIO(data)).active
    numbers = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert numbers == [submitted.tracking_number]
    assert processing.tracking_number not in numbers
    assert login(approver).get(url.replace("xlsx", "pdf")).status_code == 404


def test_saved_filters_round_trip_on_the_workbench(approver, handler, office):
    client = login(handler)
    client.post(
        reverse("admin:requests_app_case_save_filter"),
        {"name": "本周到期", "query": "due=soon&p=3"},
    )
    saved = SavedFilter.objects.get(user=handler)
    assert saved.query == "due=soon"  # the page number is not part of a filter
    index = client.get(reverse("admin:index")).content.decode()
    assert "本周到期" in index and f"{reverse(CHANGELIST)}?due=soon" in index
    # The same name twice is refused with the reason; another user's filter is not theirs.
    again = client.post(
        reverse("admin:requests_app_case_save_filter"), {"name": "本周到期", "query": ""},
        follow=True,
    )  # fmt: skip
    assert "已有名为" in again.content.decode()
    other = login(approver)
    delete = reverse("admin:requests_app_case_delete_filter", args=[saved.pk])
    assert other.post(delete).status_code == 404
    client.post(delete)
    assert not SavedFilter.objects.exists()
