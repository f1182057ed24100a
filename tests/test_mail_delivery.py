"""E-mail, honestly (issue 13 §5): one stable Message-ID per notification, so a re-sent copy
folds with the first; the row is marked before the message is handed over, so only the commit
separates them; a killed sender resends (at least once), never loses."""

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection

from requests_app.models import Notification
from requests_app.services.notifications import notification_message_id, notifications_send


def email_row(n: int, **extra) -> Notification:
    return Notification.objects.create(
        dedup_key=f"test:mail:{n}",
        email=f"applicant{n}@example.com",
        channel=Notification.Channel.EMAIL,
        kind="test",
        subject=f"通知 {n}",
        body="正文",
        **extra,
    )


SEEN: list[tuple[str, object]] = []


class SeeingBackend(EmailBackend):
    """Delivers (to mail.outbox) and notes each row's ``sent_at`` as the transaction sending
    it sees it at that moment."""

    def send_messages(self, messages):
        for message in messages:
            key = message.extra_headers["X-Notification-Key"]
            SEEN.append((key, Notification.objects.get(dedup_key=key).sent_at))
        return super().send_messages(messages)


class Killed(BaseException):
    """A worker killed (SIGKILL, OOM) just after the mail server accepted the message."""


class KilledAfterSendingBackend(EmailBackend):
    def send_messages(self, messages):
        super().send_messages(messages)
        raise Killed


@pytest.fixture
def seeing(settings):
    SEEN.clear()
    settings.EMAIL_BACKEND = "tests.test_mail_delivery.SeeingBackend"
    yield SEEN
    SEEN.clear()


def test_each_notification_has_one_stable_message_id(db, settings):
    settings.DEFAULT_FROM_EMAIL = "gongkai@example.gov.cn"
    first, second = email_row(1), email_row(2)
    assert notifications_send() == 2
    ids = [message.extra_headers["Message-ID"] for message in mail.outbox]
    assert ids == [notification_message_id(first), notification_message_id(second)]
    assert ids[0] != ids[1]
    assert ids[0].startswith(f"<n{first.pk}.") and ids[0].endswith("@example.gov.cn>")
    # What the mail server receives.
    assert mail.outbox[0].message()["Message-ID"] == ids[0]


def test_the_row_is_marked_before_the_message_is_handed_over(db, seeing):
    row = email_row(1)
    assert notifications_send() == 1
    assert [key for key, _ in seeing] == [row.dedup_key]
    assert seeing[0][1] is not None  # already marked, uncommitted, when the server got it
    row.refresh_from_db()
    assert row.sent_at == seeing[0][1]


def test_a_failed_send_unmarks_the_row_and_it_is_sent_later(db, settings):
    row = email_row(1)
    settings.EMAIL_BACKEND = "tests.test_sweep.FailingBackend"
    assert notifications_send() == 0
    row.refresh_from_db()
    assert row.sent_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications_send() == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == notification_message_id(row)


@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_after_sending_resends_the_same_message(settings):
    row = email_row(1)
    settings.EMAIL_BACKEND = "tests.test_mail_delivery.KilledAfterSendingBackend"
    with pytest.raises(Killed):
        notifications_send()
    assert connection.in_atomic_block is False  # the transaction was rolled back
    row.refresh_from_db()
    assert row.sent_at is None  # never committed: at least once, not lost
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notifications_send() == 1
    assert notifications_send() == 0
    first, again = mail.outbox
    assert first.extra_headers["Message-ID"] == again.extra_headers["Message-ID"]
    assert first.message()["Message-ID"] == again.message()["Message-ID"]
