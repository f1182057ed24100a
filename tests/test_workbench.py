"""The workbench (工作台): each role's items on the admin's first page, their counts equal to the
rows of the case list they link to, and the items' own meaning checked on built cases."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from requests_app import workbench
from requests_app.choices import CaseState, Role
from requests_app.models import Case

ROLES = {
    "office-registrar": {"to_confirm", "to_assign"},
    "office-handler": {
        "mine_overdue",
        "mine_due_soon",
        "supplement_answered",
        "consultation_answered",
        "task_answered",
        "sent_back",
        "closure_proposed",
        "to_serve",
    },
    "office-approver": {
        "to_confirm",
        "to_assign",
        "mine_overdue",
        "mine_due_soon",
        "closure_proposed",
        "awaiting_approval",
        "approved_to_serve",
        "overdue",
        "due_soon",
    },
    "city-supervisor": {"overdue", "due_soon"},
}


def client_for(username) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def list_count(client, url) -> int:
    page = client.get(url)
    assert page.status_code == 200, url
    return page.context["cl"].result_count


@pytest.mark.slow
def test_each_roles_workbench_counts_match_the_case_list(db):
    call_command("load_demo", stdout=StringIO(), stderr=StringIO())
    nonzero = 0
    for username, keys in ROLES.items():
        client = client_for(username)
        page = client.get(reverse("admin:index"))
        assert page.status_code == 200
        html = page.content.decode()
        user = get_user_model().objects.get(username=username)
        entries = workbench.workbench(user)
        assert {e.item.key for e in entries} == keys, username
        for entry in entries:
            url = f"{reverse('admin:requests_app_case_changelist')}?todo={entry.item.key}"
            assert url in html
            assert list_count(client, url) == entry.count, (username, entry.item.key)
            assert f'data-count="{entry.count}"' in html
            nonzero += entry.count
        if username == "city-supervisor":
            rows = workbench.overdue_by_agency(user)
            assert rows
            for row in rows:
                base = reverse("admin:requests_app_case_changelist")
                overdue = f"{base}?agency=%3D{row['agency_id']}&due=overdue"
                soon = f"{base}?agency=%3D{row['agency_id']}&due=soon"
                assert list_count(client, overdue) == row["overdue"]
                assert list_count(client, soon) == row["due_soon"]
            oldest = [r["oldest_due"] for r in rows if r["oldest_due"]]
            assert oldest == sorted(oldest)
    # The demo has work waiting: the comparisons above compared real numbers.
    assert nonzero >= 8
    # 交办 asked of a unit: the workbench's "待我答复的交办" counts the rows of the task list.
    tasks_url = f"{reverse('admin:requests_app_recordstask_changelist')}?todo=tasks_to_answer"
    answering = 0
    for username in ("office-handler", "xixiu-registrar", "xixiu-handler"):
        client = client_for(username)
        html = client.get(reverse("admin:index")).content.decode()
        count, _first = workbench.tasks_to_answer_for(
            get_user_model().objects.get(username=username)
        )
        assert tasks_url in html and f'data-count="{count}"' in html
        assert list_count(client, tasks_url) == count, username
        answering += count
    assert answering >= 2  # the demo's open task, for the district's registrar and handler


def test_items_mean_what_they_say(handler, approver, registrar, office):
    from requests_app.services import cases as svc
    from tests.factories import case_in_state

    today = timezone.localdate()

    def processing(due: dt.date, owner) -> Case:
        case = case_in_state(CaseState.PROCESSING, agency=office, actor=approver)
        case = svc.case_assign(case=case, actor=approver, handler=owner)
        Case.objects.filter(pk=case.pk).update(reply_due_on=due)  # arrange the due date
        return Case.objects.get(pk=case.pk)

    overdue = processing(today - dt.timedelta(days=1), handler)
    soon = processing(today, handler)
    later = processing(today + dt.timedelta(days=60), handler)
    someone_elses = processing(today - dt.timedelta(days=3), approver)
    submitted = case_in_state(CaseState.SUBMITTED, agency=office, actor=approver)
    later = svc.case_submit_for_approval(case=later, actor=handler, outcome="disclosed")
    later = svc.case_send_back(case=later, actor=approver, reason="请补充依据")

    def keys(user, key):
        return set(workbench.BY_KEY[key].queryset(user).values_list("pk", flat=True))

    assert keys(handler, "mine_overdue") == {overdue.pk}
    assert keys(handler, "mine_due_soon") == {soon.pk}
    assert keys(handler, "sent_back") == {later.pk}
    assert keys(approver, "overdue") == {overdue.pk, someone_elses.pk}
    assert keys(registrar, "to_confirm") == {submitted.pk}
    # A later note does not hide whose turn it is; a later step does.
    later = svc.case_add_note(case=later, actor=handler, text="已补充")
    assert keys(handler, "sent_back") == {later.pk}
    svc.case_submit_for_approval(case=later, actor=handler, outcome="disclosed")
    assert keys(handler, "sent_back") == set()
    assert keys(approver, "awaiting_approval") == {later.pk}


def test_roles_without_an_agency_get_no_items(db):
    user = get_user_model().objects.create_user("nobody", password="x-123456789")
    assert workbench.items_for(user) == []
    assert Role.HANDLER in workbench.BY_KEY["sent_back"].roles
