"""Notifications: the in-app inbox and the e-mail outbox, one ``Notification`` row per message.

Rows are written inside the transaction of the step they report, with a unique ``dedup_key``,
so a replayed step writes nothing twice (notifications exactly once). E-mail is sent afterwards
from the rows (``notifications_send``), each marked sent in the short transaction that sends
it: a killed worker leaves the row unsent and the next run sends it again, with the same
``Message-ID`` (delivery at least once). The after-commit kick of the send task tolerates an
unreachable broker; the periodic sweep sends whatever is left.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from requests_app import validation
from requests_app.clock import provisional_clause, provisional_years_of
from requests_app.models import Case, CaseEvent, EventKind, Notification, NotificationKind
from requests_app.services.enqueue import NOTIFICATIONS_SEND_TASK, SMS_SEND_TASK, task_enqueue

logger = logging.getLogger(__name__)

APPLICANT_KINDS = frozenset(
    {
        EventKind.CONFIRM_RECEIPT,
        EventKind.REGISTER,
        EventKind.REPLY_ON_SPOT,
        EventKind.REQUEST_SUPPLEMENT,
        EventKind.RECEIVE_SUPPLEMENT,
        EventKind.EXTEND,
        EventKind.SET_LATER_REPLY_DATE,
        EventKind.ISSUE_FEE_NOTICE,
        EventKind.SERVE_REPLY,
        EventKind.ABANDON_NO_SUPPLEMENT,
        EventKind.ABANDON_NO_FEE,
        EventKind.WITHDRAW,
        EventKind.QUESTION_ANSWERED,
    }
)


def _date(value) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else (value or "—")


def _due(case: Case, field: str) -> str:
    # A date computed on a provisional calendar year says that it may move.
    day = getattr(case, field)
    clause = provisional_clause(provisional_years_of(case.clock, field)) if day else ""
    return _date(day) + clause


def applicant_message(case: Case, event: CaseEvent) -> tuple[str, str] | None:
    """Subject and body of the e-mail the applicant gets for ``event``, or ``None``."""
    data = event.data or {}
    number = case.tracking_number
    agency = case.agency.name
    kind = event.kind
    if kind in (EventKind.CONFIRM_RECEIPT, EventKind.REGISTER):
        subject = f"【{agency}】已收到您的政府信息公开申请（{number}）"
        body = (
            f"{case.applicant_name}：\n\n本机关已于 {_date(case.received_on)} 收到您的政府信息公开申请，"
            f"申请编号 {number}。依照《政府信息公开条例》第三十三条，本机关将在 "
            f"{_due(case, 'reply_due_on')} 前答复。"
        )
    elif kind == EventKind.REQUEST_SUPPLEMENT:
        subject = f"【{agency}】补正告知（{number}）"
        body = (
            f"{case.applicant_name}：\n\n您的申请（{number}）内容需要补正，请补正以下事项：\n"
            f"{data.get('items', '')}\n\n请于 {_due(case, 'supplement_due_on')} 前提交补正材料。"
            "依照《政府信息公开条例》第三十条，无正当理由逾期不补正的，视为放弃申请。"
        )
    elif kind == EventKind.RECEIVE_SUPPLEMENT:
        subject = f"【{agency}】已收到补正材料（{number}）"
        body = (
            f"{case.applicant_name}：\n\n本机关已于 {_date(case.restarted_on)} 收到您补正后的申请，"
            f"答复期限自该日重新计算，将在 {_due(case, 'reply_due_on')} 前答复。"
        )
    elif kind == EventKind.EXTEND:
        subject = f"【{agency}】延期答复告知（{number}）"
        body = (
            f"{case.applicant_name}：\n\n因需要延长答复期限，经政府信息公开工作机构负责人同意，"
            f"您的申请（{number}）答复期限延长 {data.get('days', '')} 个工作日，"
            f"至 {_due(case, 'reply_due_on')}（《政府信息公开条例》第三十三条第二款）。"
        )
    elif kind == EventKind.SET_LATER_REPLY_DATE:
        subject = f"【{agency}】答复期限告知（{number}）"
        body = (
            f"{case.applicant_name}：\n\n依照《政府信息公开条例》第三十五条，本机关确定您的申请"
            f"（{number}）于 {_due(case, 'reply_due_on')} 前答复。"
        )
    elif kind == EventKind.ISSUE_FEE_NOTICE:
        subject = f"【{agency}】信息处理费缴费通知（{number}）"
        body = (
            f"{case.applicant_name}：\n\n您的申请（{number}）需缴纳信息处理费 "
            f"{data.get('amount_yuan', '')} 元，请于 {_due(case, 'fee_due_on')} 前缴纳。"
            "逾期未缴纳的，本机关不再处理该申请（《政府信息公开条例》第四十二条）。"
        )
    elif kind in (EventKind.SERVE_REPLY, EventKind.REPLY_ON_SPOT):
        subject = f"【{agency}】政府信息公开申请答复（{number}）"
        body = (
            f"{case.applicant_name}：\n\n本机关已于 {_date(case.replied_on)} 对您的申请（{number}）"
            f"作出答复：{case.get_outcome_display()}。如对答复不服，可自知道之日起六十日内向"
            f"{case.agency.review_body or '行政复议机关'}申请行政复议。"
        )
        if (
            kind == EventKind.SERVE_REPLY
            and case.releases.filter(approved_at__isnull=False).exists()
        ):
            # The release copy: downloaded with the tracking number and the access code, which
            # the page asks for (never put in a link).
            body += (
                "\n\n本机关提供的政府信息（公开文本）可在以下页面凭申请编号和查询码下载："
                f"\n{settings.PUBLIC_BASE_URL.rstrip('/')}/release/?n={number}"
            )
    elif kind in (EventKind.ABANDON_NO_SUPPLEMENT, EventKind.ABANDON_NO_FEE, EventKind.WITHDRAW):
        subject = f"【{agency}】申请办理终止（{number}）"
        body = (
            f"{case.applicant_name}：\n\n您的申请（{number}）已于 {_date(case.concluded_on)} "
            f"终止办理：{case.get_outcome_display()}。"
        )
    elif kind == EventKind.QUESTION_ANSWERED:
        subject = f"【{agency}】对您留言的答复（{number}）"
        body = (
            f"{case.applicant_name}：\n\n您就申请（{number}）的留言：\n{data.get('question', '')}"
            f"\n\n本机关答复如下：\n{event.reason}"
        )
    else:
        return None
    return subject, body + f"\n\n{agency}\n{case.agency.phone}"


# One short text per event an applicant who opted in is told of by SMS (never the access
# code, never their name: a phone may be read by others). Keyed by the event kinds.
SMS_TEMPLATES = {
    EventKind.CONFIRM_RECEIPT: "received",
    EventKind.REGISTER: "received",
    EventKind.REQUEST_SUPPLEMENT: "supplement_requested",
    EventKind.EXTEND: "extended",
    EventKind.SERVE_REPLY: "replied",
    EventKind.REPLY_ON_SPOT: "replied",
    EventKind.ISSUE_FEE_NOTICE: "fee_notice",
}
SMS_TEXTS = {
    "received": "【{agency}】您的政府信息公开申请{number}已于{received_on}收到，将于{reply_due_on}前答复。",
    "supplement_requested": (
        "【{agency}】您的申请{number}需要补正，请于{supplement_due_on}前登录申请平台查看并补正，"
        "逾期视为放弃申请。"
    ),
    "extended": "【{agency}】您的申请{number}答复期限已延长至{reply_due_on}。",
    "replied": "【{agency}】您的申请{number}已于{replied_on}答复，请登录申请平台查看答复书。",
    "fee_notice": "【{agency}】您的申请{number}需缴纳信息处理费{amount}元，请于{fee_due_on}前缴纳。",
}


def sms_text(case: Case, event: CaseEvent) -> str | None:
    """The text message for ``event``, or ``None`` when its kind has none."""
    template = SMS_TEMPLATES.get(event.kind)
    if template is None:
        return None
    return SMS_TEXTS[template].format(
        agency=case.agency.name,
        number=case.tracking_number,
        received_on=_date(case.restarted_on or case.received_on),
        reply_due_on=_date(case.reply_due_on),
        supplement_due_on=_date(case.supplement_due_on),
        replied_on=_date(case.replied_on),
        fee_due_on=_date(case.fee_due_on),
        amount=(event.data or {}).get("amount_yuan", ""),
    )


def case_event_notify(event: CaseEvent) -> list[Notification]:
    """Write the notifications ``event`` causes (the applicant's e-mail when they gave an
    address; a text message when they opted in with a mobile number) inside the caller's
    transaction, and kick the senders after commit.

    Idempotent: the rows' keys derive from the event, so a second call writes nothing.
    """
    if event.kind not in APPLICANT_KINDS:
        return []
    case = event.case
    rows = []
    if case.email:
        message = applicant_message(case, event)
        if message is not None:
            subject, body = message
            rows.append(
                Notification(
                    dedup_key=f"event:{event.pk}:applicant:email",
                    case=case,
                    email=case.email,
                    channel=Notification.Channel.EMAIL,
                    kind=NotificationKind(f"applicant_{event.kind}"),
                    subject=subject[:200],
                    body=body,
                )
            )
    if case.sms_opt_in and is_mobile_number(case.phone):
        text = sms_text(case, event)
        if text is not None:
            rows.append(
                Notification(
                    dedup_key=f"event:{event.pk}:applicant:sms",
                    case=case,
                    phone=case.phone,
                    channel=Notification.Channel.SMS,
                    kind=NotificationKind(f"sms_{SMS_TEMPLATES[event.kind]}"),
                    subject=text[:200],
                    body=text,
                    delivery_status=Notification.Delivery.PENDING,
                )
            )
    return notifications_create(rows)


def notifications_create(rows: Sequence[Notification]) -> list[Notification]:
    """Insert the rows whose ``dedup_key`` is new; return those. Kicks e-mail after commit."""
    if not rows:
        return []
    keys = [r.dedup_key for r in rows]
    existing = set(
        Notification.objects.filter(dedup_key__in=keys).values_list("dedup_key", flat=True)
    )
    fresh, seen = [], set()
    for row in rows:
        if row.dedup_key in existing or row.dedup_key in seen:
            continue
        seen.add(row.dedup_key)
        fresh.append(row)
    if not fresh:
        return []
    # ignore_conflicts: a concurrent writer of the same key loses silently, never twice.
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    if any(r.channel == Notification.Channel.EMAIL for r in fresh):
        transaction.on_commit(notifications_kick)
    sms_keys = [r.dedup_key for r in fresh if r.channel == Notification.Channel.SMS]
    if sms_keys:
        transaction.on_commit(lambda: sms_kick(keys=sms_keys))
    return fresh


def user_notifications(
    *, users: Iterable, case: Case | None, kind: str, subject: str, body: str, key: str
) -> list[Notification]:
    """An inbox row for each user, and an e-mail row for each user with an address."""
    rows = []
    for user in users:
        rows.append(
            Notification(
                dedup_key=f"{key}:u{user.pk}:inbox",
                case=case,
                recipient=user,
                channel=Notification.Channel.INBOX,
                kind=kind,
                subject=subject[:200],
                body=body,
            )
        )
        if user.email:
            rows.append(
                Notification(
                    dedup_key=f"{key}:u{user.pk}:email",
                    case=case,
                    recipient=user,
                    email=user.email,
                    channel=Notification.Channel.EMAIL,
                    kind=kind,
                    subject=subject[:200],
                    body=body,
                )
            )
    return rows


def notifications_mark_read(*, user, ids=None) -> int:
    """Mark the user's unread inbox rows (all, or those in ``ids``) read; returns how many.
    Guarded by the row's own state, so marking twice changes nothing."""
    rows = Notification.objects.filter(
        recipient=user, channel=Notification.Channel.INBOX, read_at__isnull=True
    )
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())


def notifications_kick() -> None:
    """Queue the e-mail sender now; if the broker is unreachable, log and rely on the sweep."""
    try:
        task_enqueue(NOTIFICATIONS_SEND_TASK, retry=False)
    except Exception:  # the rows are safe in the database; the periodic sweep sends them
        logger.warning("broker unreachable: e-mail left for the next sweep", exc_info=True)


def notification_message_id(row: Notification) -> str:
    """The e-mail's ``Message-ID``: the same every time this notification is sent, so a re-sent
    copy (a worker killed between the SMTP server's acceptance and the commit) is recognisably
    the same message, and mail clients fold it with the first."""
    digest = hashlib.sha256(row.dedup_key.encode()).hexdigest()[:24]
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    return f"<n{row.pk}.{digest}@{domain}>"


def notifications_send(*, limit: int = 500) -> int:
    """Send unsent e-mail rows, one short transaction per row (locked, marked, sent, committed).

    ``sent_at`` is written first and the message handed to the mail server last, so the only
    window in which a crash resends is the commit itself: a send that fails rolls the mark back
    (the row is retried on the next run); a process killed after the server accepted the
    message but before the commit leaves the row unsent, and the next run sends it again with
    the same ``Message-ID``. Delivery is therefore at least once, never lost.

    Safe to run concurrently (rows are claimed with ``SKIP LOCKED``). Returns the number sent.
    """
    sent = 0
    connection = get_connection(fail_silently=False)
    skipped: list[int] = []
    while sent + len(skipped) < limit:
        with transaction.atomic():
            row = (
                Notification.objects.select_for_update(skip_locked=True)
                .filter(channel=Notification.Channel.EMAIL, sent_at__isnull=True)
                .exclude(pk__in=skipped)
                .order_by("created_at", "pk")
                .first()
            )
            if row is None:
                break
            if not row.email:
                Notification.objects.filter(pk=row.pk).update(sent_at=timezone.now())
                continue
            message = EmailMessage(
                subject=row.subject,
                body=row.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[row.email],
                headers={
                    "Message-ID": notification_message_id(row),
                    "X-Notification-Key": row.dedup_key,
                },
                connection=connection,
            )
            try:
                with transaction.atomic():  # a savepoint: a failed send un-marks the row
                    Notification.objects.filter(pk=row.pk).update(sent_at=timezone.now())
                    message.send()
            except Exception:
                logger.exception("sending notification %s failed; will retry", row.pk)
                skipped.append(row.pk)
                continue
            sent += 1
        # committed: from here on the row is never sent again
    return sent


# --- text messages -------------------------------------------------------------------------------
def is_mobile_number(phone: str) -> bool:
    return bool(phone) and validation.is_mobile_number(phone)


def sms_kick(*, keys=None, ids=None) -> None:
    """Queue one send task per SMS row (by id: no phone, no text in the broker). An
    unreachable broker is logged; the periodic sweep (``sms_send_pending``) queues them later."""
    if ids is None:
        ids = list(
            Notification.objects.filter(dedup_key__in=keys, sent_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
    for pk in ids:
        try:
            task_enqueue(SMS_SEND_TASK, args=[pk], retry=False)
        except Exception:  # the row is safe in the database; the sweep queues it again
            logger.warning(
                "broker unreachable: text message left for the next sweep", exc_info=True
            )
            return


def sms_send(*, notification_id: int) -> str:
    """Send one text message row through ``SMS_BACKEND`` and record what happened: its status
    (sent / failed), the attempts, the gateway's reference or the last error.

    Returns the status after this attempt ("sent", "failed", or "skipped" for a row already
    sent or failed, or being sent by another worker, which is left alone). Raises ``SmsTemporaryError`` when the attempt failed
    for a reason worth retrying and attempts remain (the task retries); a row that reaches
    ``SMS_MAX_ATTEMPTS`` is marked failed instead. Safe to run twice: a sent or failed row is
    not sent again."""
    from requests_app.sms import SmsRejected, SmsTemporaryError, sms_backend

    retry = None
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(
                pk=notification_id,
                channel=Notification.Channel.SMS,
                sent_at__isnull=True,
                delivery_status=Notification.Delivery.PENDING,
            )
            .first()
        )
        if row is None:
            return "skipped"
        attempts = row.attempts + 1
        try:
            reference = sms_backend().send(phone=row.phone, text=row.body, reference=f"n{row.pk}")
        except SmsTemporaryError as error:
            failed = attempts >= settings.SMS_MAX_ATTEMPTS
            Notification.objects.filter(pk=row.pk).update(
                attempts=attempts,
                last_error=str(error)[:300],
                delivery_status=(
                    Notification.Delivery.FAILED if failed else Notification.Delivery.PENDING
                ),
            )
            if failed:
                return "failed"
            retry = error  # raised once the attempt is recorded (after this transaction)
        except SmsRejected as error:
            Notification.objects.filter(pk=row.pk).update(
                attempts=attempts,
                last_error=str(error)[:300],
                delivery_status=Notification.Delivery.FAILED,
            )
            return "failed"
        else:
            Notification.objects.filter(pk=row.pk).update(
                attempts=attempts,
                sent_at=timezone.now(),
                delivery_status=Notification.Delivery.SENT,
                gateway_reference=reference,
                last_error="",
            )
            return "sent"
    raise retry


# Rows left pending this long without a send (a lost kick: the broker was down) are queued
# again by the sweep; a row being retried by its task is younger than that between tries.
SMS_STALE_MINUTES = 30


def sms_send_pending(*, limit: int = 500) -> int:
    """Queue the text messages whose kick was lost (pending, not recently tried). Returns how
    many were queued. Queuing twice is harmless: the send claims the row and skips a sent one."""
    stale = timezone.now() - dt.timedelta(minutes=SMS_STALE_MINUTES)
    ids = list(
        Notification.objects.filter(
            channel=Notification.Channel.SMS,
            sent_at__isnull=True,
            delivery_status=Notification.Delivery.PENDING,
            created_at__lt=stale,
        )
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sms_kick(ids=ids)
    return len(ids)
