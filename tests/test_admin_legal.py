"""The case page's 复议与诉讼, 投诉举报, 信息处理费 and 文书 panels, through Django's test client:
each form writes exactly its record and one history event through the service; buttons only
for the roles the permission table allows, and a forged POST is refused without a change; the
stale-page conflict; a corrected review reopening the case; the fee computation shown before
issuing; letters drafted, downloaded and served; complaints for the supervising office only;
the legal changelists scoped and linked to the case page."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from requests_app.choices import CaseState as S
from requests_app.choices import Outcome, Role
from requests_app.models import (
    Case,
    CaseEvent,
    Complaint,
    EventKind,
    FeeNotice,
    Lawsuit,
    Letter,
    Result,
    Review,
)
from requests_app.services import cases as svc
from requests_app.services.proceedings import lawsuit_decide, lawsuit_file, review_file
from tests.clock_calendars import at, case_received, d, load_official
from tests.factories import caseworker, record_search

LEGAL_RE = re.compile(r'data-legal-action="([a-z_]+)" href="([^"]+)"')
CONFLICT = "该申请已被他人修改，请刷新后重试。"


@pytest.fixture(autouse=True)
def calendars(db):
    load_official(2025, 2026)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def replied_case(agency, actor, outcome=Outcome.NOT_EXIST, **fields):
    case = case_received(agency, actor, "2026-03-02", **fields)
    if outcome in svc.SEARCH_OUTCOMES:  # a reply of "not held" rests on a recorded search
        case = record_search(case, actor, on=d("2026-03-16"), effective_at=at("2026-03-16", 8))
    case = svc.case_submit_for_approval(
        case=case, actor=actor, outcome=outcome, effective_at=at("2026-03-16", 9)
    )
    case = svc.case_approve(case=case, actor=actor, effective_at=at("2026-03-16", 10))
    return svc.case_serve_reply(
        case=case, actor=actor, served_on=d("2026-03-17"), effective_at=at("2026-03-17", 11)
    )


@pytest.fixture
def replied(office, approver):
    return replied_case(office, approver)


def change_url(case):
    return reverse("admin:requests_app_case_change", args=[case.pk])


def act_url(case, action, target=None):
    if target is None:
        return reverse("admin:requests_app_case_act", args=[case.pk, action])
    return reverse("admin:requests_app_case_act_on", args=[case.pk, action, target.pk])


def offered(client, case) -> dict[str, list[str]]:
    """The panel buttons on the case page: action → the URLs it is offered at."""
    response = client.get(change_url(case))
    assert response.status_code == 200
    found: dict[str, list[str]] = {}
    for name, url in LEGAL_RE.findall(response.content.decode()):
        found.setdefault(name, []).append(url)
    return found


def events(case) -> list[tuple[int, str]]:
    return list(CaseEvent.objects.filter(case=case).order_by("pk").values_list("pk", "kind"))


def post_ok(client, case, action, data, target=None) -> CaseEvent:
    """Post a panel form as the page shows it; back on the case page with exactly one new event
    (besides the clock's own 期限变更 rows when a deadline moved, as for every action)."""
    case.refresh_from_db()
    before = events(case)
    response = client.post(
        act_url(case, action, target), {"expected_version": case.version, **data}, follow=True
    )
    assert response.redirect_chain == [(change_url(case), 302)], response.content.decode()[:3000]
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("已完成") for m in messages), messages
    after = events(case)
    assert after[: len(before)] == before
    new = [(pk, kind) for pk, kind in after[len(before) :] if kind != EventKind.DUE_CHANGED]
    assert len(new) == 1, new
    return CaseEvent.objects.get(pk=new[0][0])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- buttons per role -------------------------------------------------------------------------
def test_buttons_follow_the_permission_table(client, tree, office, approver, registrar, replied):
    client.force_login(approver)
    buttons = offered(client, replied)
    assert {"review_file", "lawsuit_file", "letter_draft"} <= set(buttons)
    assert "complaint_receive" not in buttons  # the office does not supervise itself
    assert "fee_issue" not in buttons  # a replied case is past the fee step

    client.force_login(registrar)  # 登记员: letters, not proceedings
    buttons = offered(client, replied)
    assert set(buttons) == {"letter_draft"}

    client.force_login(caseworker(tree["city"], Role.SUPERVISOR))  # reads the case
    buttons = offered(client, replied)
    assert "review_file" not in buttons and "letter_draft" not in buttons
    assert set(buttons) == {"complaint_receive"}  # the city government supervises its office


def test_step_buttons_follow_the_records_state(client, office, approver, replied):
    review = review_file(case=replied, actor=approver, filed_on=d("2026-04-01"))
    client.force_login(approver)
    urls = offered(client, replied)
    assert urls["review_accept"] == [act_url(replied, "review_accept", review)]
    assert "review_extend" not in urls  # not accepted yet
    assert {"review_answer", "review_decide"} <= set(urls)
    content = client.get(change_url(replied)).content.decode()
    assert "复议与诉讼" in content and "尚未审结" in content and "2026-04-01" in content


# --- 行政复议 ----------------------------------------------------------------------------------
def test_review_forms_record_each_step_with_one_event(client, office, handler, approver, replied):
    client.force_login(handler)
    event = post_ok(
        client,
        replied,
        "review_file",
        {"filed_on": "2026-04-01", "review_body": "", "applicant": "张三"},
    )
    review = Review.objects.get()
    assert event.kind == EventKind.REVIEW_FILED and event.actor == handler
    assert (review.case, review.filed_on, review.law, review.review_body, review.applicant) == (
        replied,
        d("2026-04-01"),
        "2023",
        "安顺市人民政府",
        "张三",
    )

    event = post_ok(
        client,
        replied,
        "review_accept",
        {"accepted_on": "2026-04-03", "copy_received_on": "2026-04-07"},
        review,
    )
    review.refresh_from_db()
    assert event.kind == EventKind.REVIEW_ACCEPTED
    assert (review.accepted_on, review.simplified, review.decision_due_on) == (
        d("2026-04-03"),
        False,
        d("2026-06-02"),  # 60 calendar days
    )
    # 10 working days from the copy (复议法 2023 Art 48, Art 88 ¶2)
    assert review.answer_due_on == d("2026-04-21")
    assert event.data["answer_due_on"] == "2026-04-21"
    page = client.get(change_url(replied)).content.decode()
    assert "2026-06-02" in page and f"{review.answer_due_on:%Y-%m-%d}" in page

    event = post_ok(client, replied, "review_answer", {"answered_on": "2026-04-10"}, review)
    review.refresh_from_db()
    assert (event.kind, review.answered_on, review.next_reminder_on) == (
        EventKind.REVIEW_ANSWERED,
        d("2026-04-10"),
        None,
    )

    event = post_ok(client, replied, "review_extend", {"reason": "情况复杂，经批准延长"}, review)
    review.refresh_from_db()
    assert (event.kind, event.reason) == (EventKind.REVIEW_EXTENDED, "情况复杂，经批准延长")
    assert (review.decision_extended, review.decision_due_on) == (True, d("2026-07-02"))
    assert "review_extend" not in offered(client, replied)  # once only

    # A handler may not reopen: the choice is not offered, and 撤销 is recorded as is.
    form = client.get(act_url(replied, "review_decide", review)).context["form"]
    assert [v for v, _ in form.fields["orders_new_reply"].choices] == ["no"]
    event = post_ok(
        client,
        replied,
        "review_decide",
        {"decided_on": "2026-06-01", "decision": "revoked", "orders_new_reply": "", "note": ""},
        review,
    )
    review.refresh_from_db()
    assert (event.kind, review.decision, review.result, review.orders_new_reply) == (
        EventKind.REVIEW_DECIDED,
        "revoked",
        Result.CORRECTED,
        False,
    )
    replied.refresh_from_db()
    assert replied.state == S.REPLIED
    assert not set(offered(client, replied)) & {"review_accept", "review_answer", "review_decide"}


def test_a_corrected_review_reopens_the_case_with_the_reason(client, office, approver, replied):
    review = review_file(case=replied, actor=approver, filed_on=d("2026-04-01"))
    client.force_login(approver)
    replied.refresh_from_db()
    before = events(replied)
    response = client.post(
        act_url(replied, "review_decide", review),
        {
            "expected_version": replied.version,
            "decided_on": "2026-05-20",
            "decision": "revoked",
            "orders_new_reply": "yes",
            "note": "未尽检索义务",
        },
        follow=True,
    )
    assert response.redirect_chain == [(change_url(replied), 302)]
    case = Case.objects.get(pk=replied.pk)
    assert case.state == S.PROCESSING
    assert (case.outcome, case.concluded_on) == ("", None)
    new = [kind for _pk, kind in events(case)[len(before) :] if kind != EventKind.DUE_CHANGED]
    assert new == [EventKind.REVIEW_DECIDED, EventKind.REOPEN]
    reopen = CaseEvent.objects.get(case=case, kind=EventKind.REOPEN)
    assert reopen.reason == (
        "安顺市人民政府 2026-05-20 行政复议决定“撤销”，责令重新答复。未尽检索义务"
    )
    page = response.content.decode()
    assert "办理中" in page and "责令重新答复" in page
    assert Review.objects.get().orders_new_reply is True


def test_a_handler_cannot_forge_a_reopening(client, office, handler, approver, replied):
    review = review_file(case=replied, actor=approver, filed_on=d("2026-04-01"))
    client.force_login(handler)
    replied.refresh_from_db()
    before = events(replied)
    response = client.post(
        act_url(replied, "review_decide", review),
        {
            "expected_version": replied.version,
            "decided_on": "2026-05-20",
            "decision": "revoked",
            "orders_new_reply": "yes",
        },
    )
    assert response.status_code == 200
    assert "orders_new_reply" in response.context["form"].errors
    assert events(replied) == before
    assert Review.objects.get().decided_on is None


def test_disallowed_roles_get_403_and_change_nothing(client, tree, office, approver, replied):
    review = review_file(case=replied, actor=approver, filed_on=d("2026-04-01"))
    registrar = caseworker(office, Role.REGISTRAR)
    supervisor = caseworker(tree["city"], Role.SUPERVISOR)
    replied.refresh_from_db()
    before, version = events(replied), replied.version
    forged = [
        ("review_file", None, {"filed_on": "2026-04-02"}),
        ("review_accept", review, {"accepted_on": "2026-04-03"}),
        ("review_decide", review, {"decided_on": "2026-04-20", "decision": "maintained"}),
        ("lawsuit_file", None, {"filed_on": "2026-04-02", "instance": "1"}),
    ]
    for user in (registrar, supervisor):
        client.force_login(user)
        for action, target, data in forged:
            url = act_url(replied, action, target)
            assert client.get(url).status_code == 403
            response = client.post(url, {"expected_version": version, **data})
            assert response.status_code == 403, (user, action)
    client.force_login(registrar)
    assert (
        client.post(
            act_url(replied, "complaint_receive"),
            {"expected_version": version, "filed_on": "2026-04-02", "summary": "x"},
        ).status_code
        == 403
    )
    # Another agency's case, and a record of another case: 404.
    stranger = caseworker(tree["dept"], Role.APPROVER)
    client.force_login(stranger)
    response = client.post(
        act_url(replied, "review_file"), {"expected_version": version, "filed_on": "2026-04-02"}
    )
    assert response.status_code == 404
    other = replied_case(office, approver, applicant_name="李四")
    client.force_login(approver)
    response = client.post(
        act_url(other, "review_accept", review),
        {"expected_version": other.version, "accepted_on": "2026-04-03"},
    )
    assert response.status_code == 404
    assert client.post(act_url(replied, "review_accept")).status_code == 404  # no record named
    assert events(replied) == before
    assert Review.objects.count() == 1 and Review.objects.get().accepted_on is None
    assert Lawsuit.objects.count() == 0 and Complaint.objects.count() == 0


def test_a_stale_page_gives_the_conflict_and_changes_nothing(client, office, approver, replied):
    client.force_login(approver)
    replied.refresh_from_db()
    stale = replied.version
    svc.case_add_note(case=replied, actor=approver, text="别人先动了")
    before = events(replied)
    response = client.post(
        act_url(replied, "review_file"),
        {"expected_version": stale, "filed_on": "2026-04-01"},
        follow=True,
    )
    assert CONFLICT in messages_of(response)
    assert events(replied) == before and Review.objects.count() == 0


def test_invalid_dates_come_back_on_their_field(client, office, approver, replied):
    client.force_login(approver)
    replied.refresh_from_db()
    response = client.post(
        act_url(replied, "review_file"),
        {"expected_version": replied.version, "filed_on": "2026-02-01"},  # before R
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "filed_on": ["申请复议日期不能早于收到申请日期 2026-03-02。"]
    }
    assert Review.objects.count() == 0


# --- 行政诉讼 ----------------------------------------------------------------------------------
def test_lawsuit_forms_file_defend_decide_and_appeal(client, office, approver, replied):
    client.force_login(approver)
    event = post_ok(
        client,
        replied,
        "lawsuit_file",
        {
            "filed_on": "2026-04-01",
            "court": "",
            "instance": "1",
            "after_review": "no",
            "copy_received_on": "2026-04-03",
        },
    )
    first = Lawsuit.objects.get()
    assert event.kind == EventKind.LAWSUIT_FILED and event.data["lawsuit_id"] == first.pk
    assert (first.court, first.instance, first.after_review, first.appeal_of) == (
        "安顺市西秀区人民法院",
        1,
        False,
        None,
    )
    # 6 months end on 1 Oct, in the National Day break; 举证 15 days end on a Saturday.
    assert (first.judgment_due_on, first.defense_due_on) == (d("2026-10-08"), d("2026-04-20"))

    event = post_ok(client, replied, "lawsuit_defend", {"submitted_on": "2026-04-10"}, first)
    first.refresh_from_db()
    assert (event.kind, first.defense_submitted_on) == (EventKind.LAWSUIT_DEFENDED, d("2026-04-10"))

    event = post_ok(
        client,
        replied,
        "lawsuit_decide",
        {"decided_on": "2026-08-01", "judgment": "claim_dismissed", "orders_new_reply": "no"},
        first,
    )
    first.refresh_from_db()
    assert (event.kind, first.judgment, first.result) == (
        EventKind.LAWSUIT_DECIDED,
        "claim_dismissed",
        Result.UPHELD,
    )

    # An appeal: instance 2 must name the first-instance judgment.
    replied.refresh_from_db()
    response = client.post(
        act_url(replied, "lawsuit_file"),
        {"expected_version": replied.version, "filed_on": "2026-08-20", "instance": "2"},
    )
    assert response.status_code == 200 and "appeal_of" in response.context["form"].errors
    event = post_ok(
        client,
        replied,
        "lawsuit_file",
        {"filed_on": "2026-08-20", "instance": "2", "appeal_of": str(first.pk)},
    )
    appeal = Lawsuit.objects.get(instance=2)
    assert (appeal.appeal_of, event.data["instance"], event.data["appeal_of"]) == (
        first,
        2,
        first.pk,
    )


def test_a_final_judgment_ordering_a_new_reply_reopens(client, office, approver, replied):
    lawsuit = lawsuit_file(case=replied, actor=approver, filed_on=d("2026-04-01"))
    client.force_login(approver)
    post_ok(
        client,
        replied,
        "lawsuit_decide",
        {"decided_on": "2026-07-01", "judgment": "revoked", "orders_new_reply": "no"},
        lawsuit,
    )
    replied.refresh_from_db()
    assert replied.state == S.REPLIED  # not final yet: the office did not order it
    lawsuit.refresh_from_db()
    second = lawsuit_file(case=replied, actor=approver, filed_on=d("2026-07-20"), appeal_of=lawsuit)
    replied.refresh_from_db()
    response = client.post(
        act_url(replied, "lawsuit_decide", second),
        {
            "expected_version": replied.version,
            "decided_on": "2026-09-01",
            "judgment": "revoked",
            "orders_new_reply": "yes",
        },
        follow=True,
    )
    assert response.redirect_chain == [(change_url(replied), 302)]
    replied.refresh_from_db()
    assert replied.state == S.PROCESSING
    assert CaseEvent.objects.get(case=replied, kind=EventKind.REOPEN).reason == (
        "安顺市西秀区人民法院 2026-09-01 判决“撤销”，判令重新答复。"
    )


# --- 信息处理费 --------------------------------------------------------------------------------
def test_fee_computation_is_shown_before_issuing(client, office, handler):
    case = case_received(office, handler, "2026-11-02")
    client.force_login(handler)
    assert {"fee_issue"} <= set(offered(client, case))
    case.refresh_from_db()
    before = events(case)
    response = client.post(
        act_url(case, "fee_issue"),
        {"expected_version": case.version, "method": "by_pages", "pages": "201", "_compute": "1"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    lines = re.findall(
        r'<tr class="fee-line"><td>(.*?)</td><td>(\d+)</td><td>([\d.]+)</td><td>([\d.]+)</td>',
        page,
    )
    assert lines == [
        ("第1–30页", "30", "0", "0"),
        ("第31–100页", "70", "10", "700"),
        ("第101–200页", "100", "20", "2000"),
        ("第201–201页", "1", "40", "40"),
    ]
    assert "合计 2740.00 元" in page
    assert events(case) == before and FeeNotice.objects.count() == 0  # computing writes nothing

    event = post_ok(client, case, "fee_issue", {"method": "by_pages", "pages": "201"})
    notice = FeeNotice.objects.get()
    assert event.kind == EventKind.ISSUE_FEE_NOTICE
    assert (notice.case, notice.method, notice.amount_yuan) == (case, "by_pages", Decimal("2740"))
    assert notice.computation["text"].endswith("合计 2740.00 元。")
    case.refresh_from_db()
    assert case.state == S.AWAITING_FEE
    buttons = offered(client, case)
    assert "fee_waive" in buttons and "fee_issue" not in buttons
    assert "合计 2740.00 元" in client.get(change_url(case)).content.decode()

    event = post_ok(client, case, "fee_waive", {"reason": "申请人生活困难"})
    notice.refresh_from_db()
    assert (event.kind, notice.waived, notice.waiver_reason) == (
        EventKind.RECORD_FEE_PAYMENT,
        True,
        "申请人生活困难",
    )


def test_a_free_application_by_count_is_computed_but_not_charged(client, office, handler):
    case = case_received(office, handler, "2026-11-02")
    client.force_login(handler)
    case.refresh_from_db()
    before = events(case)
    response = client.post(
        act_url(case, "fee_issue"),
        {"expected_version": case.version, "method": "by_count", "_compute": "1"},
    )
    page = response.content.decode()
    assert "按件计收：本月此前已申请 0 件，本次为第 1 件。" in page
    assert '<tr class="fee-line"><td>第1–1件</td><td>1</td><td>0</td><td>0</td>' in page
    response = client.post(
        act_url(case, "fee_issue"), {"expected_version": case.version, "method": "by_count"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["method"][0].startswith("按规定不收费")
    assert events(case) == before and FeeNotice.objects.count() == 0


def test_fee_buttons_are_for_handlers_only(client, office, registrar, handler):
    case = case_received(office, handler, "2026-11-02")
    client.force_login(registrar)
    assert "fee_issue" not in offered(client, case)
    case.refresh_from_db()
    response = client.post(
        act_url(case, "fee_issue"),
        {"expected_version": case.version, "method": "by_pages", "pages": "50"},
    )
    assert response.status_code == 403
    assert FeeNotice.objects.count() == 0


# --- 文书 -----------------------------------------------------------------------------------
def test_letter_draft_download_and_serve(client, tree, office, registrar, replied):
    client.force_login(registrar)
    event = post_ok(client, replied, "letter_draft", {"kind": "registration_receipt"})
    letter = Letter.objects.get()
    assert event.kind == EventKind.LETTER_ISSUED and event.data["letter_id"] == letter.pk
    assert letter.kind == "registration_receipt" and letter.case == replied

    files = dict(
        re.findall(
            r'<a class="letter-file" href="([^"]+)">(PDF|DOCX)</a>',
            client.get(change_url(replied)).content.decode(),
        )
    )
    assert sorted(files.values()) == ["DOCX", "PDF"]
    by_kind = {v: k for k, v in files.items()}
    pdf = client.get(by_kind["PDF"])
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    docx = client.get(by_kind["DOCX"])
    assert docx.status_code == 200
    assert b"".join(docx.streaming_content).startswith(b"PK")  # a zip (OOXML) package

    client.force_login(caseworker(tree["dept"], Role.APPROVER))
    assert client.get(by_kind["PDF"]).status_code == 404

    client.force_login(registrar)
    assert offered(client, replied)["letter_serve"] == [act_url(replied, "letter_serve", letter)]
    event = post_ok(
        client, replied, "letter_serve", {"served_on": "2026-03-18", "method": "post"}, letter
    )
    letter.refresh_from_db()
    assert (event.kind, event.data["served_on"], letter.served_on, letter.service_method) == (
        EventKind.LETTER_SERVED,
        "2026-03-18",
        d("2026-03-18"),
        "post",
    )
    assert "letter_serve" not in offered(client, replied)


def test_a_letter_the_case_lacks_facts_for_is_refused_on_the_field(client, office, approver):
    case = case_received(office, approver, "2026-11-02")
    client.force_login(approver)
    case.refresh_from_db()
    response = client.post(
        act_url(case, "letter_draft"), {"expected_version": case.version, "kind": "reply"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"kind": ["该申请尚无可制作答复书的答复结果。"]}
    assert Letter.objects.count() == 0


# --- 投诉举报 ----------------------------------------------------------------------------------
def test_complaints_for_the_supervising_office_only(client, tree, office):
    dept = tree["dept"]
    dept_approver = caseworker(dept, Role.APPROVER)
    case = replied_case(dept, dept_approver)
    city_supervisor = caseworker(tree["city"], Role.SUPERVISOR)

    client.force_login(dept_approver)  # the agency itself does not supervise itself
    assert "complaint_receive" not in offered(client, case)

    client.force_login(city_supervisor)
    form = client.get(act_url(case, "complaint_receive")).context["form"]
    assert list(form.fields["received_by"].queryset) == [tree["city"]]
    event = post_ok(
        client,
        case,
        "complaint_receive",
        {
            "received_by": str(tree["city"].pk),
            "kind": "complaint",
            "filed_on": "2026-04-01",
            "complainant": "张三",
            "summary": "财政局答复不当",
        },
    )
    complaint = Complaint.objects.get()
    assert event.kind == EventKind.COMPLAINT_RECEIVED
    assert (complaint.case, complaint.agency, complaint.received_by, complaint.summary) == (
        case,
        dept,
        tree["city"],
        "财政局答复不当",
    )

    client.force_login(dept_approver)  # sees the complaint, may not handle it
    case.refresh_from_db()
    assert "complaint_handle" not in offered(client, case)
    response = client.post(
        act_url(case, "complaint_handle", complaint),
        {"expected_version": case.version, "handled_on": "2026-04-10", "result": "自己结案"},
    )
    assert response.status_code == 403
    assert Complaint.objects.get().handled_on is None

    client.force_login(city_supervisor)
    assert offered(client, case)["complaint_handle"] == [
        act_url(case, "complaint_handle", complaint)
    ]
    event = post_ok(
        client,
        case,
        "complaint_handle",
        {"handled_on": "2026-04-20", "result": "责令限期整改", "is_substantiated": "true"},
        complaint,
    )
    complaint.refresh_from_db()
    assert (event.kind, complaint.handled_on, complaint.result, complaint.is_substantiated) == (
        EventKind.COMPLAINT_HANDLED,
        d("2026-04-20"),
        "责令限期整改",
        True,
    )
    assert "complaint_handle" not in offered(client, case)


# --- the changelists ---------------------------------------------------------------------------
def test_legal_changelists_are_scoped_and_link_to_the_case(client, tree, office, approver):
    ours = replied_case(office, approver)
    dept_approver = caseworker(tree["dept"], Role.APPROVER)
    theirs = replied_case(tree["dept"], dept_approver, applicant_name="王五")
    review_file(case=ours, actor=approver, filed_on=d("2026-04-01"))
    review_file(case=theirs, actor=dept_approver, filed_on=d("2026-04-02"))
    lawsuit = lawsuit_file(case=ours, actor=approver, filed_on=d("2026-04-03"))
    lawsuit_decide(lawsuit=lawsuit, actor=approver, decided_on=d("2026-06-01"), judgment="mediated")

    client.force_login(approver)
    for model in ("review", "lawsuit"):
        page = client.get(reverse(f"admin:requests_app_{model}_changelist")).content.decode()
        assert f'<a href="{change_url(ours)}">{ours.tracking_number}</a>' in page
        assert theirs.tracking_number not in page
    client.force_login(caseworker(tree["city"], Role.SUPERVISOR))
    page = client.get(reverse("admin:requests_app_review_changelist")).content.decode()
    assert ours.tracking_number in page and theirs.tracking_number in page
