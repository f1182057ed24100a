"""load_demo: runs twice without error, creates the accounts it prints and the demo cases once."""

from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from requests_app.calendars import calendar_for_agency
from requests_app.choices import OPEN_STATES, CaseState, Role
from requests_app.management.commands.load_demo import DEMO_PASSWORD, Command
from requests_app.models import Agency, Case, CaseEvent, Caseworker, EventKind

S = CaseState

EXPECTED_ACCOUNTS = {
    "office-registrar": ("anshun-gov-office", Role.REGISTRAR),
    "office-handler": ("anshun-gov-office", Role.HANDLER),
    "office-approver": ("anshun-gov-office", Role.APPROVER),
    "finance-handler": ("anshun-finance", Role.HANDLER),
    "nanhua-registrar": ("xixiu-nanhua", Role.REGISTRAR),
    "city-supervisor": ("anshun", Role.SUPERVISOR),
    "city-admin": ("anshun", Role.ADMINISTRATOR),
    "city-auditor": ("anshun", Role.AUDITOR),
    "xixiu-supervisor": ("xixiu", Role.SUPERVISOR),
}
EXPECTED_STATES = {
    S.SUBMITTED: 3,
    S.REGISTERED: 2,
    S.AWAITING_SUPPLEMENT: 2,
    S.PROCESSING: 6,
    S.CONSULTING: 1,
    S.AWAITING_FEE: 2,
    S.PENDING_APPROVAL: 3,
    S.APPROVED: 1,
    S.REPLIED: 19,
    S.CLOSED: 8,
}


def load() -> str:
    out = StringIO()
    call_command("load_demo", stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot():
    return (
        Agency.objects.count(),
        get_user_model().objects.count(),
        Caseworker.objects.count(),
        Case.objects.count(),
        CaseEvent.objects.exclude(kind__in=[EventKind.REMINDER_SENT, EventKind.ESCALATED]).count(),
    )


@pytest.fixture(autouse=True)
def records_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "records": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "records")},
        },
    }
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.mark.slow
def test_load_demo_twice(db):
    first_output = load()
    first = snapshot()
    second_output = load()
    assert snapshot() == first
    assert "演示申请已存在，未重复创建。" in second_output
    assert "已创建 47 件演示申请。" in first_output

    # The accounts it prints exist, with their role, agency and the printed password.
    for username, (code, role) in EXPECTED_ACCOUNTS.items():
        user = get_user_model().objects.get(username=username)
        assert (user.caseworker.agency.code, user.caseworker.role, user.is_staff) == (
            code,
            role,
            True,
        )
        assert user.check_password(DEMO_PASSWORD)
        assert f"{username}" in second_output
    assert get_user_model().objects.get(username="admin").is_superuser
    assert DEMO_PASSWORD in second_output

    # The tree: a city government, its departments, two districts with streets.
    assert Agency.objects.get(code="xixiu-nanhua").path == "/anshun/xixiu/xixiu-nanhua/"
    assert Agency.objects.get(code="pingba-gulong").path == "/anshun/pingba/pingba-gulong/"
    assert all(a.address and a.phone and a.office_name for a in Agency.objects.all())

    # The cases, in every state, built through the services (each has its history).
    assert Counter(Case.objects.values_list("state", flat=True)) == EXPECTED_STATES
    assert Case.objects.filter(events__isnull=True).count() == 0
    today = timezone.localdate()
    overdue = Case.objects.filter(state__in=sorted(OPEN_STATES), reply_due_on__lt=today)
    assert sorted(overdue.values_list("state", flat=True)) == [
        S.PENDING_APPROVAL,
        S.PROCESSING,
        S.PROCESSING,
    ]
    outcomes = Counter(Case.objects.exclude(outcome="").values_list("outcome", flat=True))
    assert outcomes["abandoned_no_supplement"] == 1
    assert outcomes["abandoned_no_fee"] == 1
    assert outcomes["withdrawn"] == 1
    # Spread over the last year: the oldest was received 240 working days ago.
    oldest = Case.objects.exclude(received_on=None).order_by("received_on").first()
    calendar = calendar_for_agency(oldest.agency)
    assert oldest.received_on == Command().working_days_ago(calendar, 240)
    assert (today - oldest.received_on).days < 366

    # 区分处理: a case answered with a partial release, the letter's table, a publication, and
    # the applicant's download; another with a record waiting for review.
    from requests_app.models import Letter, Publication, Record

    partial = (
        Case.objects.filter(records__isnull=False).distinct().get(outcome="partially_disclosed")
    )
    release = partial.releases.get(approved_at__isnull=False)
    assert release.files.count() == 1
    letter = Letter.objects.get(case=partial, kind="reply_partial")
    assert [row["basis"] for row in letter.content["withheld_table"]] == [
        "第十五条 个人隐私",
        "第十六条第二款 过程性信息",
    ]
    assert Publication.objects.get(case=partial).is_active
    waiting = Record.objects.exclude(case=partial).filter(tasks__isnull=True).get()
    assert waiting.case.state == S.PROCESSING
    assert not waiting.pages.exclude(decision="").exists()

    # 交办: one answered with a record (landed in the case's records), one open and due; a
    # reply served by EMS with its China Post number.
    from requests_app.models import CaseEvent, RecordsTask

    answered, waiting_task = RecordsTask.objects.order_by("pk")
    assert answered.answer == "records" and answered.records.get().case == waiting.case
    assert waiting_task.is_open and waiting_task.due_on >= today
    assert waiting_task.next_reminder_on is not None
    posted = CaseEvent.objects.filter(kind="serve_reply", data__service_method="post").first()
    assert posted is not None and posted.data["tracking_number"].endswith("CN")
    assert f"/release/?n={partial.tracking_number}" in first_output
