"""The 投诉举报 list's own pages, through Django's test client: a supervising office records a
complaint about a subordinate agency (by 申请编号 of one of its cases, or about no case) and
handles it on the complaint's page, each through one service call; the choices offered are
exactly the valid ones and bad ones are refused on their field; roles that may not get no
button and a 403; a complaint the user may not see is a 404. Nothing is written on refusal."""

from __future__ import annotations

import pytest
from django.urls import reverse

from requests_app.choices import Role
from requests_app.models import Case, CaseEvent, Complaint, EventKind
from requests_app.services.proceedings import complaint_receive
from tests.clock_calendars import case_received, d, load_official
from tests.factories import AgencyFactory, caseworker

LIST_URL = reverse("admin:requests_app_complaint_changelist")
ADD_URL = reverse("admin:requests_app_complaint_add")
ADD_LINK = f'<a href="{ADD_URL}" class="addlink" id="complaint-add">登记投诉举报</a>'
HANDLE_FORM = 'id="complaint-handle-form"'


@pytest.fixture(autouse=True)
def calendars(db):
    load_official(2025, 2026)


@pytest.fixture
def office_handler(office):
    """A handler of the city government's office (政府信息公开工作主管部门)."""
    return caseworker(office, Role.HANDLER, username="office-handler")


@pytest.fixture
def dept_approver(tree):
    return caseworker(tree["dept"], Role.APPROVER, username="dept-approver")


@pytest.fixture
def dept_case(tree, dept_approver):
    """A case of the city's finance department, which the office's handler cannot open."""
    return case_received(tree["dept"], dept_approver, "2026-03-02")


@pytest.fixture
def complaint(tree, office, office_handler, dept_case):
    """The office's complaint about the department's case, received on 1 April, unhandled."""
    return complaint_receive(
        actor=office_handler,
        agency=tree["dept"],
        received_by=office,
        filed_on=d("2026-04-01"),
        summary="答复不当",
        case=dept_case,
    )


def change_url(complaint) -> str:
    return reverse("admin:requests_app_complaint_change", args=[complaint.pk])


def handle_url(complaint) -> str:
    return reverse("admin:requests_app_complaint_handle", args=[complaint.pk])


def snapshot() -> tuple:
    """Every complaint and every case event, with the cases' versions."""
    return (
        list(Complaint.objects.order_by("pk").values()),
        list(CaseEvent.objects.order_by("pk").values_list("pk", "case_id", "kind")),
        list(Case.objects.order_by("pk").values_list("pk", "version", "state")),
    )


def complaint_events(case) -> list[tuple[str, dict, str]]:
    return list(
        CaseEvent.objects.filter(
            case=case, kind__in=[EventKind.COMPLAINT_RECEIVED, EventKind.COMPLAINT_HANDLED]
        )
        .order_by("pk")
        .values_list("kind", "data", "reason")
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def receive_data(office, agency, **overrides) -> dict:
    return {
        "received_by": str(office.pk),
        "agency": str(agency.pk),
        "kind": "complaint",
        "complainant": "张三",
        "filed_on": "2026-04-01",
        "summary": "财政局逾期未答复",
        "case": "",
        **overrides,
    }


# --- recording and handling -------------------------------------------------------------------
def test_the_city_office_records_and_handles_complaints(
    client, tree, office, office_handler, dept_case
):
    dept = tree["dept"]
    client.force_login(office_handler)
    # The office's handler cannot open the department's case (its own agency's cases only).
    case_page = reverse("admin:requests_app_case_change", args=[dept_case.pk])
    assert client.get(case_page).status_code == 302
    assert ADD_LINK in client.get(LIST_URL).content.decode()

    form = client.get(ADD_URL).context["form"]
    assert list(form.fields) == [
        "received_by",
        "agency",
        "kind",
        "complainant",
        "filed_on",
        "summary",
        "case",
    ]
    assert list(form.fields["received_by"].queryset) == [office]
    assert form.fields["received_by"].initial == office.pk
    # The agencies under the city government, not the government itself (its superior's).
    assert list(form.fields["agency"].queryset) == [
        dept,
        tree["district"],
        tree["street"],
    ]

    # About one of the department's cases, named by its 申请编号 (in any case of letters).
    before_events = CaseEvent.objects.count()
    response = client.post(
        ADD_URL,
        receive_data(office, dept, case=f" {dept_case.tracking_number.lower()} "),
        follow=True,
    )
    about_case = Complaint.objects.get()
    assert response.redirect_chain == [(change_url(about_case), 302)]
    assert messages_of(response) == ["已完成“登记投诉举报”。"]
    assert (
        about_case.case,
        about_case.agency,
        about_case.received_by,
        about_case.kind,
        about_case.complainant,
        about_case.filed_on,
        about_case.summary,
        about_case.handled_on,
    ) == (dept_case, dept, office, "complaint", "张三", d("2026-04-01"), "财政局逾期未答复", None)
    assert complaint_events(dept_case) == [
        (
            EventKind.COMPLAINT_RECEIVED,
            {
                "complaint_id": about_case.pk,
                "filed_on": "2026-04-01",
                "kind": "complaint",
                "received_by": office.name,
            },
            "财政局逾期未答复",
        )
    ]
    assert CaseEvent.objects.count() == before_events + 1
    page = response.content.decode()
    assert HANDLE_FORM in page and "确认处理投诉举报" in page

    # About the district's practice, no case at all.
    response = client.post(
        ADD_URL,
        receive_data(office, tree["district"], kind="report", complainant="", summary="未主动公开"),
    )
    about_practice = Complaint.objects.exclude(pk=about_case.pk).get()
    assert response.status_code == 302 and response["Location"] == change_url(about_practice)
    assert (
        about_practice.case,
        about_practice.agency,
        about_practice.received_by,
        about_practice.kind,
        about_practice.complainant,
        about_practice.summary,
    ) == (None, tree["district"], office, "report", "", "未主动公开")
    assert CaseEvent.objects.count() == before_events + 1

    # Both on the office's list; the case it may not open is named, not linked.
    page = client.get(LIST_URL).content.decode()
    assert dept_case.tracking_number in page
    assert case_page not in page
    assert change_url(about_case) in page and change_url(about_practice) in page

    # 处理投诉举报 on the complaint's page.
    response = client.post(
        handle_url(about_case),
        {"handled_on": "2026-04-20", "result": "督促限期答复", "is_substantiated": "true"},
        follow=True,
    )
    assert response.redirect_chain == [(change_url(about_case), 302)]
    assert messages_of(response) == ["已完成“处理投诉举报”。"]
    about_case.refresh_from_db()
    assert (about_case.handled_on, about_case.result, about_case.is_substantiated) == (
        d("2026-04-20"),
        "督促限期答复",
        True,
    )
    assert complaint_events(dept_case)[1:] == [
        (
            EventKind.COMPLAINT_HANDLED,
            {"complaint_id": about_case.pk, "handled_on": "2026-04-20", "is_substantiated": True},
            "督促限期答复",
        )
    ]
    assert CaseEvent.objects.count() == before_events + 2
    page = response.content.decode()
    assert HANDLE_FORM not in page
    assert '<p class="complaint-result">2026-04-20 已处理：督促限期答复（属实）</p>' in page

    # Handled once: the form is gone, and a second post is refused with nothing changed.
    before = snapshot()
    response = client.post(
        handle_url(about_case), {"handled_on": "2026-04-21", "result": "再次处理"}, follow=True
    )
    assert response.redirect_chain == [(change_url(about_case), 302)]
    assert messages_of(response) == ["该投诉举报已处理。"]
    assert snapshot() == before
    response = client.get(handle_url(about_case), follow=True)
    assert response.redirect_chain == [(change_url(about_case), 302)]
    assert messages_of(response) == ["该投诉举报已处理。"]

    # The complaint about no case is handled the same way, and touches no case.
    form = client.get(change_url(about_practice)).context["handle_form"]
    assert list(form.fields) == ["handled_on", "result", "is_substantiated"]
    response = client.post(
        handle_url(about_practice), {"handled_on": "2026-04-22", "result": "通报批评"}
    )
    assert response.status_code == 302 and response["Location"] == change_url(about_practice)
    about_practice.refresh_from_db()
    assert (
        about_practice.handled_on,
        about_practice.result,
        about_practice.is_substantiated,
    ) == (d("2026-04-22"), "通报批评", None)
    assert CaseEvent.objects.count() == before_events + 2
    assert Complaint.objects.count() == 2


def test_the_handle_form_page_shows_bad_input_on_its_field(client, office_handler, complaint):
    client.force_login(office_handler)
    before = snapshot()
    response = client.post(handle_url(complaint), {"handled_on": "2026-03-31", "result": "结案"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "handled_on": ["处理日期不能早于收到日期 2026-04-01。"]
    }
    response = client.post(handle_url(complaint), {"handled_on": "2026-04-10", "result": ""})
    assert response.context["form"].errors == {"result": ["该字段是必填项。"]}
    assert snapshot() == before


# --- refused choices ----------------------------------------------------------------------------
def test_invalid_choices_are_errors_on_their_field_and_write_nothing(
    client, tree, office, office_handler, approver, dept_case
):
    office_case = case_received(office, approver, "2026-03-02", applicant_name="李四")
    client.force_login(office_handler)
    before = snapshot()

    def errors(data) -> dict:
        response = client.post(ADD_URL, data)
        assert response.status_code == 200
        return response.context["form"].errors

    invalid_choice = ["选择一个有效的选项： 该选择不在可用的选项中。"]
    # An agency the office does not supervise: another tree's, or the office itself.
    assert errors(receive_data(office, tree["other"])) == {"agency": invalid_choice}
    assert errors(receive_data(office, office)) == {"agency": invalid_choice}
    # An office the user may not record for.
    assert errors(receive_data(tree["city"], tree["dept"])) == {"received_by": invalid_choice}
    # A 申请编号 of another agency's case (the office's own), or of no case.
    other_agency = f"安顺市财政局没有申请编号为 {office_case.tracking_number} 的申请。"
    assert errors(receive_data(office, tree["dept"], case=office_case.tracking_number)) == {
        "case": [other_agency]
    }
    assert errors(receive_data(office, tree["district"], case=dept_case.tracking_number)) == {
        "case": [f"西秀区人民政府没有申请编号为 {dept_case.tracking_number} 的申请。"]
    }
    assert errors(receive_data(office, tree["dept"], case="GK-NO-SUCH")) == {
        "case": ["安顺市财政局没有申请编号为 GK-NO-SUCH 的申请。"]
    }
    # The service's own refusal comes back on its field.
    assert errors(receive_data(office, tree["dept"], filed_on="2099-01-01")) == {
        "filed_on": ["收到日期不能晚于今天。"]
    }
    assert snapshot() == before


def test_an_administrator_choosing_among_offices_is_checked_again_on_submit(client, tree):
    administrator = caseworker(tree["city"], Role.ADMINISTRATOR, username="city-admin")
    client.force_login(administrator)
    form = client.get(ADD_URL).context["form"]
    # The city (its agencies), its office (the city's agencies) and the district (its street).
    assert list(form.fields["received_by"].queryset) == [
        tree["city"],
        tree["office"],
        tree["district"],
    ]
    assert form.fields["received_by"].initial is None
    assert list(form.fields["agency"].queryset) == [
        tree["dept"],
        tree["office"],
        tree["district"],
        tree["street"],
    ]
    before = snapshot()
    response = client.post(ADD_URL, receive_data(tree["district"], tree["dept"]))
    assert response.context["form"].errors == {
        "agency": ["西秀区人民政府不是安顺市财政局的上级机关或政府信息公开工作主管部门。"]
    }
    assert snapshot() == before

    response = client.post(ADD_URL, receive_data(tree["district"], tree["street"]))
    complaint = Complaint.objects.get()
    assert response["Location"] == change_url(complaint)
    assert (complaint.received_by, complaint.agency, complaint.case) == (
        tree["district"],
        tree["street"],
        None,
    )


# --- who may not ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("agency", "role"),
    [
        ("office", Role.REGISTRAR),  # the office's 登记员
        ("dept", Role.HANDLER),  # a department supervises no agency
        ("office", Role.AUDITOR),
    ],
)
def test_who_may_not_record_sees_no_button_and_gets_403(client, tree, office, agency, role):
    client.force_login(caseworker(tree[agency], role, username=f"{agency}-{role}"))
    page = client.get(LIST_URL)
    assert page.status_code == 200
    assert ADD_URL not in page.content.decode() and "登记投诉举报" not in page.content.decode()
    before = snapshot()
    assert client.get(ADD_URL).status_code == 403
    assert client.post(ADD_URL, receive_data(office, tree["dept"])).status_code == 403
    assert snapshot() == before


def test_who_may_not_handle_sees_no_form_and_gets_403(
    client, tree, office, dept_approver, complaint
):
    registrar = caseworker(office, Role.REGISTRAR, username="office-registrar")
    dept_handler = caseworker(tree["dept"], Role.HANDLER, username="dept-handler")
    before = snapshot()
    # All of them see it (received by their office, or about their agency); none handles it.
    for user in (registrar, dept_approver, dept_handler):
        client.force_login(user)
        page = client.get(change_url(complaint))
        assert page.status_code == 200
        assert "handle_form" not in page.context and HANDLE_FORM not in page.content.decode()
        assert "答复不当" in page.content.decode()
        assert client.get(handle_url(complaint)).status_code == 403
        response = client.post(
            handle_url(complaint), {"handled_on": "2026-04-10", "result": "自己结案"}
        )
        assert response.status_code == 403, user
        # Nor through Django's own change form: the page is read-only.
        response = client.post(change_url(complaint), {"result": "自己结案"})
        assert response.status_code == 403, user
    assert snapshot() == before


def test_a_complaint_of_another_tree_is_404(client, tree, office, office_handler):
    other_dept = AgencyFactory(code="other-dept", name="另一市财政局", parent=tree["other"])
    theirs = complaint_receive(
        actor=caseworker(tree["other"], Role.HANDLER, username="other-handler"),
        agency=other_dept,
        filed_on=d("2026-04-01"),
        summary="另一市的投诉",
    )
    client.force_login(office_handler)
    assert "另一市的投诉" not in client.get(LIST_URL).content.decode()
    before = snapshot()
    assert client.get(change_url(theirs)).status_code == 404
    assert client.get(handle_url(theirs)).status_code == 404
    response = client.post(handle_url(theirs), {"handled_on": "2026-04-10", "result": "越权处理"})
    assert response.status_code == 404
    for missing in ("999999", str(2**63), "x"):
        url = reverse("admin:requests_app_complaint_handle", args=[missing])
        assert client.post(url, {"handled_on": "2026-04-10", "result": "x"}).status_code == 404
        url = reverse("admin:requests_app_complaint_change", args=[missing])
        assert client.get(url).status_code == 404
    assert snapshot() == before
