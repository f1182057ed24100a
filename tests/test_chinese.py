"""Chinese everywhere a caseworker or an applicant reads (issue 11 §4): the admin's language
rule, labels instead of codes, dates instead of timestamps, 避头尾 in letters, Chinese --help."""

import ast
import datetime as dt
import importlib
import inspect
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers as drf_serializers

from requests_app.admin.display import DATA_LABELS, event_rows, is_hidden_data_key
from requests_app.api.errors import field_label
from requests_app.choices import CaseState, Channel
from requests_app.clock import REMIND, Action
from requests_app.letters.render import NOT_AT_LINE_END, NOT_AT_LINE_START, break_lines
from requests_app.models import CaseEvent, EventKind, Notification, NotificationKind
from requests_app.services.notifications import APPLICANT_KINDS
from tests.factories import application_fields, case_in_state

S = CaseState
NOW = dt.date(2026, 12, 4)


# --- the language rule --------------------------------------------------------------------
def test_an_english_browser_still_gets_the_chinese_admin(client, handler):
    client.force_login(handler)
    response = client.get(reverse("admin:index"), headers={"accept-language": "en-US,en;q=0.9"})
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert "欢迎" in page and "Welcome" not in page


def test_english_only_when_chosen_with_the_language_switch(client, handler):
    client.force_login(handler)
    index = reverse("admin:index")
    switched = client.post(reverse("set_language"), {"language": "en", "next": index})
    assert switched.status_code == 302
    page = client.get(index).content.decode()
    assert "Welcome" in page
    # …and back to Chinese, whatever the browser says.
    client.post(reverse("set_language"), {"language": "zh-hans", "next": index})
    page = client.get(index, headers={"accept-language": "en"}).content.decode()
    assert "欢迎" in page and "Welcome" not in page


def test_the_api_still_answers_in_the_language_a_program_asks_for(client):
    response = client.get("/api/v1/nowhere/", headers={"accept-language": "en"})
    assert response["Content-Language"] == "en"
    response = client.get("/api/v1/nowhere/")
    assert response["Content-Language"] == "zh-hans"


# --- the case page and its action forms ---------------------------------------------------
def act_url(case, action):
    return reverse("admin:requests_app_case_act", args=[case.pk, action])


def submit_buttons(page: str) -> list[str]:
    return re.findall(r'<input type="submit" class="default" value="([^"]*)"', page)


@pytest.mark.parametrize(
    ("action", "button"),
    [
        ("confirm_receipt", "确认接收"),
        ("record_fee_payment", "确认缴费"),
        ("extend", "确认延期答复"),
    ],
)
def test_the_submit_button_says_confirm_once(client, office, approver, action, button):
    state = {
        "confirm_receipt": S.SUBMITTED,
        "record_fee_payment": S.AWAITING_FEE,
        "extend": S.PROCESSING,
    }[action]
    case = case_in_state(state, agency=office, actor=approver)
    client.force_login(approver)
    page = client.get(act_url(case, action)).content.decode()
    assert submit_buttons(page) == [button]
    assert "确认确认" not in page


def test_the_case_page_does_not_show_the_internal_version(client, office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    client.force_login(approver)
    page = client.get(reverse("admin:requests_app_case_change", args=[case.pk])).content.decode()
    assert "版本" not in page
    # The action forms keep it, hidden, for the stale-page check.
    form = client.get(act_url(case, "note")).content.decode()
    assert f'<input type="hidden" name="expected_version" value="{case.version}"' in form


@pytest.mark.parametrize(
    ("action", "state"),
    [("submit_for_approval", S.PROCESSING), ("reply_on_spot", S.REGISTERED)],
)
def test_no_outcome_is_chosen_for_the_caseworker(client, office, approver, action, state):
    case = case_in_state(state, agency=office, actor=approver, channel=Channel.IN_PERSON)
    client.force_login(approver)
    page = client.get(act_url(case, action)).content.decode()
    select = re.search(r'<select name="outcome".*?</select>', page, re.S).group(0)
    assert re.findall(r"<option [^>]*selected", select) == ['<option value="" selected']
    before = (case.state, case.version)
    response = client.post(act_url(case, action), {"expected_version": case.version})
    assert response.status_code == 200
    assert response.context["form"].errors == {"outcome": ["该字段是必填项。"]}
    case.refresh_from_db()
    assert (case.state, case.version) == before


# --- notification kinds -------------------------------------------------------------------
def test_the_inbox_shows_the_kind_of_a_notification_in_chinese(client, approver):
    Notification.objects.create(
        dedup_key="test:escalation",
        recipient=approver,
        channel=Notification.Channel.INBOX,
        kind=NotificationKind.DEADLINE_ESCALATION,
        subject="【逾期】GK1 答复期限已于 2026-12-01 届满",
        body="请督办。",
    )
    client.force_login(approver)
    page = client.get(reverse("admin:requests_app_notification_changelist")).content.decode()
    assert "逾期督办" in page
    assert "deadline_escalation" not in page


def test_every_kind_of_notification_the_services_write_has_a_label():
    kinds = {NotificationKind(f"applicant_{kind}") for kind in APPLICANT_KINDS}
    assert all(not re.search(r"[a-z]", str(kind.label)) for kind in kinds)
    assert all(not re.search(r"[a-z]", str(label)) for _, label in NotificationKind.choices)


# --- history rows -------------------------------------------------------------------------
def _event(kind, data, reason=""):
    now = timezone.now()
    return CaseEvent(
        kind=kind,
        data=data,
        reason=reason,
        effective_at=now,
        recorded_at=now,
        actor_label="张伟",
        from_state=S.PROCESSING,
        to_state=S.PROCESSING,
    )


def test_a_history_row_shows_labels_and_no_internal_ids():
    letter = _event(
        EventKind.LETTER_ISSUED,
        {
            "kind": "supplement_notice",
            "letter_id": 1,
            "number": "安府公开〔2026〕1号",
            "title": "补正告知书",
        },
    )
    decided = _event(
        EventKind.REVIEW_DECIDED,
        {
            "review_id": 4,
            "decided_on": "2026-11-30",
            "decision": "revoked",
            "result": "corrected",
            "orders_new_reply": True,
        },
    )
    rows = event_rows([letter, decided])
    assert rows[0]["data"] == [("文号", "安府公开〔2026〕1号"), ("标题", "补正告知书")]
    assert rows[1]["data"] == [
        ("决定/裁判日期", "2026-11-30"),
        ("决定", "撤销"),
        ("结果归类", "结果纠正"),
        ("责令重新答复", "是"),
    ]


def _keys_written_by_the_services() -> set[str]:
    """Every constant key of a ``data`` dict in requests_app/services (``data={...}``,
    ``data = {...}``, ``data["k"] = …``, ``data.update({...})``)."""
    keys: set[str] = set()

    def constants(node):
        return {k.value for k in node.keys if isinstance(k, ast.Constant)}

    for path in (Path(settings.BASE_DIR) / "requests_app" / "services").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.keyword) and node.arg == "data":
                if isinstance(node.value, ast.Dict):
                    keys |= constants(node.value)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                if any(getattr(t, "id", None) == "data" for t in node.targets):
                    keys |= constants(node.value)
            elif isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "data":
                if isinstance(node.slice, ast.Constant) and isinstance(node.ctx, ast.Store):
                    keys.add(node.slice.value)
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", None) == "update"
                and getattr(node.func.value, "id", None) == "data"
            ):
                keys |= set().union(*(constants(a) for a in node.args if isinstance(a, ast.Dict)))
    return keys


def test_every_key_of_event_data_has_a_chinese_label_or_is_internal():
    keys = _keys_written_by_the_services() | set(Action(REMIND, "reply", NOW, NOW, 1).as_dict())
    assert {"letter_id", "number", "received_on", "review_id", "handled_on"} <= keys
    unlabelled = {k for k in keys if k not in DATA_LABELS and not is_hidden_data_key(k)}
    assert unlabelled == set()


# --- the API's error summary --------------------------------------------------------------
def test_the_api_error_summary_names_the_fields_in_chinese(client, office):
    body = {**application_fields(), "agency": office.code}
    body.update(applicant_type="martian", id_type="tattoo")
    response = client.post("/api/v1/applications/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["message"] == "提交的数据有误：申请人类型、证件类型。"
    assert response.json()["message_en"] == "Invalid input: applicant_type, id_type."
    assert set(response.json()["fields"]) == {"applicant_type", "id_type"}


def _input_serializers():
    modules = [
        "requests_app.api.serializers",
        "requests_app.api.proceedings",
        "requests_app.api.staff",
        "requests_app.api.public",
        "reporting.api",
        "audit.api",
    ]
    for module in map(importlib.import_module, modules):
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, drf_serializers.BaseSerializer)
                and "Input" in name
                and value.__module__ == module.__name__
            ):
                yield value


def test_every_input_of_the_api_has_a_chinese_label():
    names = {name for serializer in _input_serializers() for name in serializer().fields}
    assert {"applicant_type", "expected_version", "year", "items"} <= names
    unlabelled = {name for name in names if re.search(r"[A-Za-z]", field_label(name))}
    assert unlabelled == set()


# --- the annual report's exports ----------------------------------------------------------
def test_the_report_export_gives_the_cutoff_as_a_date(tree):
    from openpyxl import load_workbook

    from reporting.exporters import cutoff_label, document_from_report, export
    from reporting.services import report_generate

    report = report_generate(agency=tree["office"], year=2025, include_descendants=False)
    document = document_from_report(report)
    assert document["cutoff"] == "2025-12-31T23:59:59.999999+08:00"  # the JSON keeps it exact
    page = export(document, "html").decode()
    assert "<p>统计截止时间：2025年12月31日；" in page
    assert "T23:59" not in page
    sheet = load_workbook(io.BytesIO(export(document, "xlsx"))).active
    assert sheet.cell(2, 1).value.startswith("统计截止时间：2025年12月31日　格式：")
    assert cutoff_label("2026-06-30T18:00:00+08:00") == "2026年6月30日 18:00"


# --- 避头尾 in the letters ------------------------------------------------------------------
def test_break_lines_never_starts_a_line_with_closing_punctuation():
    def width(_line):
        return 10.0

    def one(_char):
        return 1.0

    # Ten characters fit: the comma would be the eleventh, so "十" moves down with it.
    assert break_lines("一二三四五六七八九十，甲乙", width, one) == [
        "一二三四五六七八九",
        "十，甲乙",
    ]
    # Two closing marks in a row, and an opening mark that would end a line.
    assert break_lines("一二三四五六七八九十。”乙", width, one) == ["一二三四五六七八九", "十。”乙"]
    assert break_lines("一二三四五六七八九《十》", width, one) == ["一二三四五六七八九", "《十》"]
    # A number is kept whole.
    assert break_lines("一二三四五六七2026年", width, one) == ["一二三四五六七", "2026年"]


def test_a_reply_letter_has_no_line_starting_with_closing_punctuation():
    from pypdf import PdfReader

    from requests_app.letters.render import render_pdf

    # Whatever the font's widths, one of these offsets puts "，" (and "。”", and "《") at a
    # line's end.
    paragraphs = [
        "经查" + "一" * k + "，二" + "三" * k + "。”" + "四" * k + "《五》" for k in range(20, 36)
    ]
    content = {
        "letterhead": "安顺市人民政府办公室",
        "title": "政府信息公开申请答复书",
        "number": "安府公开〔2026〕1号",
        "addressee": "张三",
        "paragraphs": paragraphs,
        "legal_basis": "",
        "remedies": "",
        "tracking_number": "GK20261204ABCDEF",
        "signature": "安顺市人民政府办公室",
        "date": "2026年12月4日",
        "contact_block": "",
    }
    reader = PdfReader(io.BytesIO(render_pdf(content)))
    lines = [line.strip() for page in reader.pages for line in page.extract_text().split("\n")]
    body = [
        line
        for line in lines
        if line.startswith(("经查", "一", "二", "三", "四", "，", "。", "”", "《", "五"))
    ]
    assert len(body) > 2 * len(paragraphs)  # the paragraphs did wrap
    assert [line for line in body if line[0] in NOT_AT_LINE_START] == []
    assert [line for line in body if line[-1] in NOT_AT_LINE_END] == []


# --- the commands' --help -------------------------------------------------------------------
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("name", ["import_cases", "annual_report"])
def test_command_help_is_chinese_first(name):
    from django.core.management import load_command_class

    app = "reporting" if name == "annual_report" else "requests_app"
    parser = load_command_class(app, name).create_parser("manage.py", name)
    text = parser.format_help()
    assert text.startswith("用法 / usage: manage.py " + name)
    assert CJK.match(parser.description)
    helps = {action.dest: action.help for action in parser._actions if action.help}
    assert {dest for dest, help in helps.items() if not CJK.match(help)} == set()
    assert "选项 / options:" in text and "options:\n" not in text.replace("选项 / options:\n", "")


def test_the_admin_header_offers_the_language_switch(client, handler):
    client.force_login(handler)
    page = client.get(reverse("admin:index")).content.decode()
    assert f'<form id="language-switch" action="{reverse("set_language")}"' in page
    assert 'name="language" value="en"' in page


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        (
            "calendar changed: national 2025 schedule loaded from 国务院办公厅通知",
            "节假日安排变更：全国：载入 2025 年节假日安排（来源：国务院办公厅通知）",
        ),
        (
            "calendar changed: national 2024-10-21 holiday 临时休假",
            "节假日安排变更：全国：2024-10-21 设为法定节假日（休息） 临时休假",
        ),
        (
            "calendar changed: xixiu 2024-10-21 workday removed",
            "节假日安排变更：西秀区人民政府：删除 2024-10-21 的调休上班日",
        ),
        (
            "calendar changed: national 2027 schedule removed",
            "节假日安排变更：全国：删除 2027 年节假日安排",
        ),
    ],
)
def test_a_calendar_change_in_the_history_is_said_in_chinese(tree, reason, shown):
    event = _event(EventKind.DUE_CHANGED, {"field": "reply_due_on"}, reason=reason)
    assert event_rows([event])[0]["reason"] == shown


@pytest.mark.parametrize(
    ("form_name", "field"), [("ReviewDecideForm", "decision"), ("LawsuitDecideForm", "judgment")]
)
def test_no_decision_or_judgment_is_chosen_for_the_office(office, approver, form_name, field):
    from requests_app.admin import legal

    case = case_in_state(S.REPLIED, agency=office, actor=approver)
    form_class = getattr(legal, form_name)
    # A browser submits a select's first option: it must be the empty one.
    select = str(form_class(case=case, user=approver)[field])
    assert re.search(r"<option[^>]*>", select).group(0) == '<option value="" selected>'
    bound = form_class(
        {"expected_version": case.version, "decided_on": "2026-12-01"}, case=case, user=approver
    )
    assert bound.errors[field] == ["该字段是必填项。"]
