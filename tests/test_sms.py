"""Text messages to applicants who opted in: one per event, by Celery, with retries and a
recorded delivery status; console by default, an HTTP gateway by configuration."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from requests_app.models import Notification
from requests_app.services import cases as svc
from requests_app.services.intake import case_submit
from requests_app.services.notifications import sms_send, sms_send_pending
from tests.factories import application_fields

pytestmark = pytest.mark.django_db
SMS = Notification.Channel.SMS


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """The after-commit kicks are recorded instead of published (a broker is not a test's)."""
    queued: list = []
    from config.celery import app

    def send_task(name, args=None, **options):
        if name == "requests_app.sms_send":
            queued.append(args)

    monkeypatch.setattr(app, "send_task", send_task)
    return queued


def _opted_in(office, **fields):
    fields = {"sms_opt_in": True, "phone": "13800138000", **fields}
    case, code = case_submit(agency=office, fields=application_fields(**fields))
    return case, code


def test_each_event_sends_its_one_text_without_name_or_access_code(
    office, handler, approver, django_capture_on_commit_callbacks, _no_broker
):
    with django_capture_on_commit_callbacks(execute=True):
        case, code = _opted_in(office)
        case = svc.case_confirm_receipt(case=case, actor=handler)
        case = svc.case_request_supplement(case=case, actor=handler, items="请写明年份")
        case = svc.case_receive_supplement(case=case, actor=handler)
        case = svc.case_extend(case=case, actor=approver, days=5, reason="检索")
        case = svc.case_issue_fee_notice(case=case, actor=handler, amount_yuan="100.00")
        case = svc.case_record_fee_payment(case=case, actor=handler)
        case = svc.case_submit_for_approval(case=case, actor=handler, outcome="disclosed")
        case = svc.case_approve(case=case, actor=approver)
        case = svc.case_serve_reply(case=case, actor=handler)
    rows = list(Notification.objects.filter(channel=SMS).order_by("pk"))
    assert [r.kind for r in rows] == [
        "sms_received",
        "sms_supplement_requested",
        "sms_extended",
        "sms_fee_notice",
        "sms_replied",
    ]
    agency = office.name
    number = case.tracking_number
    assert rows[0].body == (
        f"【{agency}】您的政府信息公开申请{number}已于{case.received_on}收到，"
        f"将于{rows[0].body.split('将于')[1][:10]}前答复。"
    )
    assert rows[1].body.startswith(f"【{agency}】您的申请{number}需要补正，请于")
    assert rows[2].body == f"【{agency}】您的申请{number}答复期限已延长至" + rows[2].body[-11:]
    assert "100.00元" in rows[3].body
    assert rows[4].body == (
        f"【{agency}】您的申请{number}已于{case.replied_on}答复，请登录申请平台查看答复书。"
    )
    for row in rows:
        assert code not in row.body and "张三" not in row.body
        assert row.phone == "13800138000" and row.delivery_status == "pending"
    # The broker gets the rows' ids only.
    assert sorted(args[0] for args in _no_broker) == [r.pk for r in rows]


def test_no_text_without_opt_in_or_without_a_mobile_number(office, handler):
    plain, _ = case_submit(agency=office, fields=application_fields())
    landline, _ = _opted_in(office, phone="0851-33221234")
    svc.case_confirm_receipt(case=plain, actor=handler)
    svc.case_confirm_receipt(case=landline, actor=handler)
    assert not Notification.objects.filter(channel=SMS).exists()


def test_the_console_backend_sends_and_the_row_records_it(office, handler, capsys):
    case, _ = _opted_in(office)
    svc.case_confirm_receipt(case=case, actor=handler)
    row = Notification.objects.get(channel=SMS)
    assert sms_send(notification_id=row.pk) == "sent"
    out = capsys.readouterr().out
    assert "138****8000" in out and "13800138000" not in out and case.tracking_number in out
    row.refresh_from_db()
    assert (row.delivery_status, row.attempts, row.last_error) == ("sent", 1, "")
    assert row.sent_at is not None
    assert sms_send(notification_id=row.pk) == "skipped"  # never twice
    row.refresh_from_db()
    assert row.attempts == 1


class _Gateway(BaseHTTPRequestHandler):
    answers: list = []
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), json.loads(body)))
        status, payload = type(self).answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(payload).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway(settings):
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Gateway.answers, _Gateway.received = [], []
    settings.SMS_BACKEND = "requests_app.sms.HttpGatewayBackend"
    settings.SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}/send"
    settings.SMS_GATEWAY_TOKEN = "secret-token"
    settings.SMS_SIGN_NAME = "安顺政务公开"
    settings.SMS_MAX_ATTEMPTS = 3
    yield _Gateway
    server.shutdown()
    server.server_close()


def _row(office, handler) -> Notification:
    case, _ = _opted_in(office)
    svc.case_confirm_receipt(case=case, actor=handler)
    return Notification.objects.get(channel=SMS)


def test_the_http_gateway_gets_the_message_and_its_reference_is_kept(office, handler, gateway):
    row = _row(office, handler)
    gateway.answers.append((200, {"id": "GW-123"}))
    assert sms_send(notification_id=row.pk) == "sent"
    headers, body = gateway.received[0]
    assert headers["Authorization"] == "Bearer secret-token"
    assert body == {
        "phone": "13800138000",
        "text": row.body,
        "sign": "安顺政务公开",
        "reference": f"n{row.pk}",
    }
    row.refresh_from_db()
    assert (row.delivery_status, row.gateway_reference) == ("sent", "GW-123")


def test_a_busy_gateway_is_retried_by_the_task_until_the_attempts_run_out(
    office, handler, gateway, settings
):
    from requests_app.tasks import sms_send_task

    settings.CELERY_TASK_EAGER_PROPAGATES = False
    row = _row(office, handler)
    gateway.answers.extend([(503, {}), (429, {}), (200, {"id": "late"})])
    sms_send_task.apply(args=[row.pk])
    row.refresh_from_db()
    assert (row.delivery_status, row.attempts, row.gateway_reference) == ("sent", 3, "late")
    other = Notification.objects.create(
        dedup_key="x",
        channel=SMS,
        phone="13900000000",
        kind="sms_received",
        subject="t",
        body="t",
        delivery_status="pending",
    )
    gateway.answers.extend([(503, {})] * 3)
    sms_send_task.apply(args=[other.pk])
    other.refresh_from_db()
    assert (other.delivery_status, other.attempts) == ("failed", 3)
    assert other.last_error == "gateway answered 503" and other.sent_at is None


def test_a_refusal_is_final(office, handler, gateway):
    row = _row(office, handler)
    gateway.answers.append((400, {"error": "bad number"}))
    assert sms_send(notification_id=row.pk) == "failed"
    row.refresh_from_db()
    assert (row.delivery_status, row.attempts, row.last_error) == (
        "failed",
        1,
        "gateway answered 400",
    )
    assert len(gateway.received) == 1


def test_the_sweep_queues_texts_whose_kick_was_lost(office, handler, _no_broker):
    import datetime as dt

    from django.utils import timezone

    row = _row(office, handler)
    _no_broker.clear()
    assert sms_send_pending() == 0  # recent: its own kick or retry is on the way
    Notification.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(hours=1))
    assert sms_send_pending() == 1 and _no_broker == [[row.pk]]


def test_the_page_offers_sms_only_with_a_mobile_number(tree):
    from portal.forms import ApplicationForm
    from tests.test_portal import _form

    form = ApplicationForm({**_form(phone="0851-33221234"), "sms_opt_in": "on"})
    assert not form.is_valid()
    assert form.errors["sms_opt_in"] == ["短信通知需要填写 11 位手机号码。"]
    form = ApplicationForm({**_form(), "sms_opt_in": "on"})
    assert form.is_valid() and form.validated["sms_opt_in"] is True


def test_the_case_page_shows_each_text_and_its_delivery_status(office, handler, registrar):
    from django.test import Client
    from django.urls import reverse

    case, _ = _opted_in(office)
    svc.case_confirm_receipt(case=case, actor=handler)
    row = Notification.objects.get(channel=SMS)
    sms_send(notification_id=row.pk)
    staff = Client()
    staff.force_login(registrar)
    page = staff.get(reverse("admin:requests_app_case_change", args=[case.pk])).content.decode()
    assert "短信通知" in page and row.body in page and "已提交网关" in page
    assert "13800138000" not in page.split('id="case-sms"')[1].split("</fieldset>")[0]
