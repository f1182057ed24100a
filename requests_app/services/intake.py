"""Applications arriving: through the public API (``case_submit``) or at the counter
(``case_intake``). The case starts ``submitted``; R is fixed by receipt (Art 31)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from requests_app import validation
from requests_app.choices import CONFIRMED_CHANNELS, Channel, DeliveryMethod, IdType
from requests_app.models import Agency, Case, CaseEvent, EventKind, IdempotencyRecord
from requests_app.permissions import agency_writable, role_allows
from requests_app.services.cases import actor_label, case_confirm_receipt, case_register
from requests_app.services.clock import local_date
from requests_app.services.errors import ActionForbidden, ConcurrentChange, InvalidInput
from requests_app.services.notifications import case_event_notify
from requests_app.services.repeats import repeat_check_pending, repeat_check_record

T = TypeVar("T")

# Unambiguous characters (no 0/O, 1/I) for codes people read aloud or copy from paper.
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
ACCESS_CODE_LENGTH = 10  # 50 bits; wrong codes are throttled by the API
TRACKING_CODE_LENGTH = 6  # the random letters after a tracking number's date

CASE_FIELDS = (
    "applicant_type",
    "applicant_name",
    "id_type",
    "id_number",
    "phone",
    "email",
    "address",
    "postal_code",
    "legal_representative",
    "contact_person",
    "description",
    "document_number",
    "purpose",
    "information_form",
    "delivery_method",
    "sms_opt_in",
)


# --- the applicant and delivery rules (Art 29 ¶2), shared by every way in ---------------------
# The admin's counter form, the staff API and the public API each check their own field types
# and required fields, then ask this service; a refusal names each field with its message, and
# each edge shows it on that field.
CONTACT_REQUIRED = "请至少填写一种联系方式（电话、电子邮箱或通讯地址）。"
EMAIL_FOR_EMAIL_DELIVERY = "选择电子邮件方式获取信息时须填写电子邮箱。"
ADDRESS_FOR_POST_DELIVERY = "选择邮寄方式获取信息时须填写通讯地址。"
APPLICATION_MESSAGES_EN = {
    CONTACT_REQUIRED: "Give at least one way to reach the applicant (phone, e-mail or address).",
    EMAIL_FOR_EMAIL_DELIVERY: "Delivery by e-mail needs an e-mail address.",
    ADDRESS_FOR_POST_DELIVERY: "Delivery by post needs a postal address.",
    **validation.MESSAGES_EN,
}


def application_fields_check(fields: dict) -> dict:
    """The applicant and delivery rules of an application (Art 29 ¶2): an identity number valid
    for its document type, a well-formed phone number and postal code when given, at least one
    way to reach the applicant, an e-mail address for delivery by e-mail and a postal address
    for delivery by post.

    Returns the fields with the identity number, phone and postal code in their stored form.
    Raises ``InvalidInput`` whose ``fields`` name every refused field with its messages (the
    first one is the error's message). Writes nothing."""
    cleaned = dict(fields)
    errors: dict[str, list[str]] = {}

    def checked(name: str, check, *args) -> None:
        try:
            cleaned[name] = check(*args)
        except ValueError as exc:
            errors.setdefault(name, []).append(str(exc))

    if cleaned.get("id_type") in IdType.values and cleaned.get("id_number"):
        checked("id_number", validation.id_number, cleaned["id_type"], cleaned["id_number"])
    if cleaned.get("phone"):
        checked("phone", validation.phone_number, cleaned["phone"])
    if cleaned.get("postal_code"):
        checked("postal_code", validation.postal_code, cleaned["postal_code"])
    if not (cleaned.get("phone") or cleaned.get("email") or cleaned.get("address")):
        errors.setdefault("phone", []).append(CONTACT_REQUIRED)
    delivery = cleaned.get("delivery_method")
    if delivery == DeliveryMethod.EMAIL and not cleaned.get("email"):
        errors.setdefault("email", []).append(EMAIL_FOR_EMAIL_DELIVERY)
    if delivery == DeliveryMethod.POST and not cleaned.get("address"):
        errors.setdefault("address", []).append(ADDRESS_FOR_POST_DELIVERY)
    if errors:
        first = next(iter(errors.values()))[0]
        raise InvalidInput(
            first, APPLICATION_MESSAGES_EN.get(first, first), code="invalid", fields=errors
        )
    return cleaned


def tracking_number(on: dt.date, code: str) -> str:
    """GK, the date, then ``code`` (TRACKING_CODE_LENGTH random letters; the import draws
    them in bulk). Formatted field by field: strftime is three times slower."""
    return f"GK{on.year:04d}{on.month:02d}{on.day:02d}{code}"


def new_tracking_number(on: dt.date) -> str:
    letters = (secrets.choice(CODE_ALPHABET) for _ in range(TRACKING_CODE_LENGTH))
    return tracking_number(on, "".join(letters))


def new_access_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def hash_access_code(code: str, *, salt: str | None = None) -> str:
    """A salted SHA-256 of the code, ``salt$hex``. The code has 50 random bits and guesses
    are throttled, so a fast hash keeps submission cheap without making guessing practical."""
    salt = salt or secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{code.strip().upper()}".encode()).hexdigest()
    return f"{salt}${digest}"


def access_code_matches(case: Case, code: str) -> bool:
    if not case.access_code_hash or "$" not in case.access_code_hash or not code:
        return False
    salt = case.access_code_hash.split("$", 1)[0]
    return hmac.compare_digest(hash_access_code(code, salt=salt), case.access_code_hash)


# --- one transaction per application, retried whole on a tracking-number collision ---------
# A tracking number is drawn at random (30 bits a day), so two applications may draw the same
# one: the unique constraint refuses the second insert. Catching that inside the transaction
# needs a savepoint around the insert (SAVEPOINT and RELEASE: two more round trips on every
# submission) for an event that, at a thousand applications a day, happens about once in six
# years. Instead, the intake runs in one transaction of its own (a savepoint only when a caller
# already holds one), and a refused case insert rolls it back and runs it again from the start.
# ``idempotent`` opens that transaction itself (``_RETRIED`` is then set), so the intake joins
# it and the idempotency record is written in the same transaction.
TRACKING_ATTEMPTS = 5
_RETRIED: ContextVar[bool] = ContextVar("intake_transaction_retried", default=False)


class _TrackingNumberTaken(Exception):
    """The case insert was refused inside a retried transaction: roll back and run again."""


def _in_retried_transaction(work: Callable[[], T]) -> T:
    """``work()`` in one transaction (a savepoint when nested in a caller's), run again when a
    tracking number was drawn twice. Inside a retried transaction already, it joins it."""
    if _RETRIED.get():
        with transaction.atomic(savepoint=False):
            return work()
    token = _RETRIED.set(True)
    try:
        for _attempt in range(TRACKING_ATTEMPTS):
            try:
                with transaction.atomic():
                    return work()
            except _TrackingNumberTaken:
                continue
    finally:
        _RETRIED.reset(token)
    raise ConcurrentChange(
        "无法生成申请编号，请重试。", "Could not allocate a tracking number; retry."
    )


def _create_case(
    *, agency: Agency, channel: str, submitted_at: dt.datetime, fields: dict, imported: bool = False
) -> tuple[Case, str]:
    """Insert the case with a fresh tracking number and access code, the application's fields
    checked by ``application_fields_check`` (an imported history: no access code, no check).
    Runs inside ``_in_retried_transaction``: a refused insert (the number was taken) raises
    ``_TrackingNumberTaken``, and the whole transaction is run again."""
    unknown = set(fields) - set(CASE_FIELDS)
    if unknown:
        raise InvalidInput("包含未知字段。", f"Unknown fields: {', '.join(sorted(unknown))}.")
    if not imported:
        fields = application_fields_check(fields)
    # An imported history's applicant never had an access code from this system: none is
    # made, and no code opens the case's status page (``access_code_matches``).
    code = "" if imported else new_access_code()
    case = Case(
        agency=agency,
        channel=channel,
        submitted_at=submitted_at,
        tracking_number=new_tracking_number(local_date(submitted_at)),
        access_code_hash=hash_access_code(code) if code else "",
        **fields,
    )
    try:
        case.save(force_insert=True)
    except IntegrityError as error:
        raise _TrackingNumberTaken from error
    return case, code


def submitted_event_values(case: Case, *, actor, at: dt.datetime) -> dict:
    """The history event of an application arriving (its columns), written by the intake and
    by the history importer."""
    return {
        "kind": EventKind.SUBMITTED,
        # The label column holds 200 characters, as the name does: the prefix must not
        # overflow it.
        "actor_label": (actor_label(actor) if actor else f"申请人：{case.applicant_name}")[:200],
        "effective_at": at,
        "to_state": case.state,
        "data": {"channel": case.channel},
    }


def _submitted_event(case: Case, *, actor, at: dt.datetime) -> CaseEvent:
    event = CaseEvent.objects.create(
        case=case, actor=actor, **submitted_event_values(case, actor=actor, at=at)
    )
    case_event_notify(event)
    return event


def online_receipt_day(agency: Agency, at: dt.datetime) -> dt.date:
    """The day something sent online at ``at`` counts as received (Art 31(二), and the
    **Decision** in docs/law.md, 'The day of receipt R (Art 31)'): that day, or the next working
    day when sent on a non-working day. Fixes R of an automatically confirmed submission and R′
    of a 补正 answered on the applicant's pages."""
    from requests_app.calendars import calendar_for_agency

    day = local_date(at)
    calendar = calendar_for_agency(agency)
    if not calendar.is_working_day(day):
        day = calendar.next_working_day(day)
    return day


def case_submit(
    *, agency: Agency, fields: dict, channel: str = Channel.ONLINE, submitted_at=None
) -> tuple[Case, str]:
    """An application through the public API or a portal. Returns the case and the plain
    access code (shown once; only its hash is kept).

    With the agency's automatic confirmation on, R is the submission date, or the next
    working day when submitted on a non-working day (docs/law.md, "The day of receipt").
    Raises InvalidInput when the applicant and delivery rules refuse the fields
    (``application_fields_check``)."""

    if channel not in CONFIRMED_CHANNELS:
        raise InvalidInput(
            "该渠道的申请须在窗口登记。",
            "Applications on this channel are registered at the counter.",
            fields={"channel": ["not_a_remote_channel"]},
        )
    submitted_at = submitted_at or timezone.now()

    def submit() -> tuple[Case, str]:
        case, code = _create_case(
            agency=agency, channel=channel, submitted_at=submitted_at, fields=fields
        )
        _submitted_event(case, actor=None, at=submitted_at)
        # 重复申请 flag (Art 36(六)): the row now, the comparison by the sweep.
        repeat_check_pending(case=case)
        if agency.auto_confirm_receipt:
            case = case_confirm_receipt(
                case=case,
                actor=None,
                received_on=online_receipt_day(agency, submitted_at),
                effective_at=submitted_at,
            )
        return case, code

    return _in_retried_transaction(submit)


def case_intake(
    *,
    actor,
    agency: Agency,
    channel: str,
    fields: dict,
    received_on: dt.date | None = None,
    effective_at: dt.datetime | None = None,
    imported: bool = False,
) -> tuple[Case, str]:
    """A registrar enters a paper, oral or in-person application (counter work, possibly
    entered after the fact: ``effective_at`` is when it was handed in). The case is
    registered at once for counter channels and signed post; for unsigned post, fax and
    e-mail it waits for receipt to be confirmed with the applicant.

    Raises InvalidInput when the applicant and delivery rules refuse the fields
    (``application_fields_check``), except for ``imported`` histories (``import_cases``),
    whose contact and delivery are what the old record holds: their reply went out long ago."""
    if actor is not None and not (role_allows(actor, "intake") and agency_writable(actor, agency)):
        raise ActionForbidden(
            "您无权为该机关登记申请。", "You may not register applications for this agency."
        )
    if channel not in Channel.values:
        raise InvalidInput(
            "申请渠道无效。", "Unknown channel.", fields={"channel": ["invalid_choice"]}
        )
    effective_at = effective_at or timezone.now()

    def intake() -> tuple[Case, str]:
        case, code = _create_case(
            agency=agency,
            channel=channel,
            submitted_at=effective_at,
            fields=fields,
            imported=imported,
        )
        _submitted_event(case, actor=actor, at=effective_at)
        repeat_check_record(case=case)  # 重复申请 flag (Art 36(六)), at once at the counter
        if channel not in CONFIRMED_CHANNELS:
            case = case_register(
                case=case, actor=actor, received_on=received_on, effective_at=effective_at
            )
        elif received_on is not None:
            case = case_confirm_receipt(
                case=case, actor=actor, received_on=received_on, effective_at=effective_at
            )
        return case, code

    return _in_retried_transaction(intake)


# (scope, key) is unique: at most one row, read by the unique index. Written as SQL: every
# request with a key makes this read first, and building the same statement through the ORM
# each time cost about 11% of a submission, several times what the statement itself costs.
_FIRST_ANSWER_SQL = (
    'SELECT "request_fingerprint", "response_status", "response_body" '
    'FROM "requests_app_idempotencyrecord" WHERE "scope" = %s AND "key" = %s'
)


def _first_answer(*, scope: str, key: str) -> tuple[str, int, dict] | None:
    """The fingerprint, status and body stored for (scope, key), or ``None``."""
    with connection.cursor() as cursor:
        cursor.execute(_FIRST_ANSWER_SQL, [scope, key])
        row = cursor.fetchone()
    if row is None:
        return None
    fingerprint, status, body = row
    # The JSON column as the ORM reads it (text on both databases).
    body = IdempotencyRecord._meta.get_field("response_body").from_db_value(body, None, connection)
    return fingerprint, status, body


def idempotent(
    *,
    scope: str,
    key: str | None,
    fingerprint: str,
    run: Callable[[], tuple[int, dict, Case | None]],
) -> tuple[int, dict, bool]:
    """Run ``run`` once per (scope, key): a retry with the same key gets the first answer.

    ``run`` returns (status, body, case). Returns (status, body, replayed). The same key with
    a different request is refused, so a key cannot be reused for another application.

    One indexed read, then ``run`` and the record's insert in one transaction, which is the
    intake's own (``run`` joins it without a savepoint). A concurrent request with the same key
    waits on the record's unique index until the first commits, then is rolled back whole and
    replays the first answer."""
    if not key:
        status, body, _case = run()
        return status, body, False
    if len(key) > 200:
        raise InvalidInput(
            "Idempotency-Key 过长。", "Idempotency-Key is longer than 200 characters."
        )

    def replay() -> tuple[int, dict, bool] | None:
        stored = _first_answer(scope=scope, key=key)
        if stored is None:
            return None
        first_fingerprint, status, body = stored
        if first_fingerprint != fingerprint:
            raise InvalidInput(
                "该 Idempotency-Key 已用于另一个不同的请求。",
                "This Idempotency-Key was already used for a different request.",
                code="idempotency_key_reused",
            )
        return status, body, True

    def first() -> tuple[int, dict, bool]:
        status, body, case = run()
        IdempotencyRecord.objects.create(
            scope=scope,
            key=key,
            request_fingerprint=fingerprint,
            response_status=status,
            response_body=body,
            case=case,
        )
        return status, body, False

    for _attempt in range(2):
        answer = replay()
        if answer is not None:
            return answer
        try:
            return _in_retried_transaction(first)
        except IntegrityError:
            # Another request with the same key committed first: replay its answer.
            continue
    raise ConcurrentChange("请求冲突，请重试。", "Conflicting concurrent requests; retry.")


def idempotency_purge(*, older_than: dt.datetime | None = None) -> int:
    """Forget keys older than the TTL (their stored answers hold an access code)."""
    older_than = older_than or timezone.now() - dt.timedelta(
        hours=settings.DISCLOSURE["IDEMPOTENCY_TTL_HOURS"]
    )
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=older_than).delete()
    return deleted
