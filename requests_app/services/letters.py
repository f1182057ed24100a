"""Letters (告知书): draft from the agency's template, number, render, store, serve.

- ``letter_draft`` fills the template of a kind with the case's facts, the statutory basis and,
  for decisions, the remedies; allocates the next 文号 of the agency's year; renders the PDF
  and the DOCX into the case's folder under MEDIA_ROOT; writes a ``letter_issued`` event.
- ``letter_serve`` records the service date and method. Serving a 答复书 is the same act as
  serving the reply: it calls ``case_serve_reply`` with that date, which concludes the case
  and stops the clock (国办公开办函〔2016〕235号: a reply counts as made on its service date).
  Other letters get a ``letter_served`` event.
- ``letter_template_save`` validates an administrator's edit of a template (only known
  placeholders) and saves it; ``letter_template_customize`` starts one from the default.
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from requests_app.choices import CaseState
from requests_app.letters.defaults import (
    DEFAULT_NUMBER_PATTERN,
    DEFAULT_TEMPLATES,
    reply_kind_for,
)
from requests_app.letters.facts import (
    LetterNotApplicable,
    cn_date,
    fill,
    letter_facts,
    remedies,
    reply_outcome,
    unknown_placeholders,
)
from requests_app.letters.render import render_docx, render_pdf
from requests_app.models import (
    REPLY_KINDS,
    Agency,
    Case,
    EventKind,
    Letter,
    LetterKind,
    LetterSequence,
    LetterTemplate,
)
from requests_app.permissions import agency_writable, can_act
from requests_app.review import review_summary
from requests_app.services.cases import case_perform_action, case_serve_reply
from requests_app.services.errors import ActionForbidden, InvalidInput, TransitionRefused

SERVICE_METHODS = {
    "direct": "直接送达",
    "entrusted": "委托送达",
    "post": "邮寄送达",
    "email": "电子邮件送达",
    "online": "网上送达",
    "fax": "传真送达",
}
REPLY = "reply"  # drafting "reply" picks the 答复书 of the case's outcome family
_NUMBER_FIELD = re.compile(r"\{(year|seq|seq3)\}")


# --- templates ---------------------------------------------------------------------------
def letter_template_resolve(agency: Agency, kind: str) -> dict[str, str]:
    """The wording ``agency`` uses for ``kind``: its row for the kind, then its general row,
    then the shipped default (field by field)."""
    rows = {
        row.kind: row for row in LetterTemplate.objects.filter(agency=agency, kind__in=[kind, ""])
    }
    own, general = rows.get(kind), rows.get("")
    default = DEFAULT_TEMPLATES[kind]

    def pick(name: str, fallback: str) -> str:
        for row in (own, general):
            value = getattr(row, name, "") if row is not None else ""
            if value.strip():
                return value
        return fallback

    contact_lines = [
        f"联系机构：{agency.office_name or agency.name}",
        f"通讯地址：{agency.address}" if agency.address else "",
        f"邮政编码：{agency.postal_code}" if agency.postal_code else "",
        f"联系电话：{agency.phone}" if agency.phone else "",
        f"电子邮箱：{agency.email}" if agency.email else "",
    ]
    return {
        "letterhead": pick("letterhead", agency.name),
        "number_pattern": pick("number_pattern", DEFAULT_NUMBER_PATTERN),
        "contact_block": pick("contact_block", "；".join(line for line in contact_lines if line)),
        "title": pick("title", default["title"]),
        "body": pick("body", default["body"]),
    }


def letter_template_check(template: LetterTemplate) -> None:
    """Only known placeholders in the text; a 文号 pattern with a sequence. Raises InvalidInput."""
    unknown = unknown_placeholders(template.body) + unknown_placeholders(template.title)
    if unknown:
        raise InvalidInput(
            f"模板含有未知字段：{', '.join('{' + u + '}' for u in unknown)}。",
            f"Unknown placeholders: {', '.join(unknown)}.",
            fields={"body": ["unknown_placeholder"]},
        )
    pattern = template.number_pattern
    if pattern and "{seq" not in pattern:
        raise InvalidInput(
            "文号格式须包含序号 {seq} 或 {seq3}。",
            "The number pattern must contain {seq} or {seq3}.",
            fields={"number_pattern": ["no_sequence"]},
        )
    leftover = re.sub(_NUMBER_FIELD, "", pattern or "")
    if "{" in leftover or "}" in leftover:
        raise InvalidInput(
            "文号格式只能使用 {year}、{seq}、{seq3}。",
            "The number pattern may use only {year}, {seq} and {seq3}.",
            fields={"number_pattern": ["unknown_placeholder"]},
        )


def letter_template_save(*, template: LetterTemplate, actor) -> LetterTemplate:
    """Validate and save an administrator's template. Raises InvalidInput, ActionForbidden."""
    if actor is not None and not agency_writable(actor, template.agency):
        raise ActionForbidden("您无权修改该机关的文书模板。", "You may not edit these templates.")
    letter_template_check(template)
    template.updated_by = actor
    template.save()
    return template


def letter_template_customize(*, agency: Agency, kind: str, actor) -> LetterTemplate:
    """The agency's own row for ``kind`` (created from the shipped default if missing)."""
    if kind and kind not in DEFAULT_TEMPLATES:
        raise InvalidInput("文书类型无效。", "Unknown letter kind.", fields={"kind": ["invalid"]})
    existing = LetterTemplate.objects.filter(agency=agency, kind=kind).first()
    if existing is not None:
        return existing
    default = DEFAULT_TEMPLATES.get(kind, {"title": "", "body": ""})
    row = LetterTemplate(agency=agency, kind=kind, title=default["title"], body=default["body"])
    if not kind:
        row.letterhead = agency.name
        row.number_pattern = DEFAULT_NUMBER_PATTERN
    return letter_template_save(template=row, actor=actor)


# --- numbering ---------------------------------------------------------------------------
def letter_number_allocate(*, agency: Agency, year: int) -> int:
    """The next sequence number of ``agency``'s letters in ``year``. Run inside the caller's
    transaction: the UPDATE locks the counter row until it commits, so concurrent drafts
    get consecutive numbers and a rolled-back draft gives its number back."""
    LetterSequence.objects.get_or_create(agency=agency, year=year)
    LetterSequence.objects.filter(agency=agency, year=year).update(last=F("last") + 1)
    return LetterSequence.objects.get(agency=agency, year=year).last


def format_number(pattern: str, *, year: int, sequence: int) -> str:
    values = {"year": str(year), "seq": str(sequence), "seq3": f"{sequence:03d}"}
    return _NUMBER_FIELD.sub(lambda m: values[m.group(1)], pattern)


# --- drafting ----------------------------------------------------------------------------
def _resolve_kind(case: Case, kind: str) -> str:
    if kind == REPLY:
        found = reply_kind_for(reply_outcome(case))
        if found is None:
            raise InvalidInput(
                "该申请尚无可制作答复书的答复结果。",
                "The case has no reply outcome yet.",
                fields={"kind": ["no_outcome"]},
            )
        return found
    if kind not in LetterKind.values:
        raise InvalidInput(
            "文书类型无效。",
            f"'{kind}' is not a letter kind.",
            fields={"kind": [f"choose one of: {REPLY}, {', '.join(LetterKind.values)}"]},
        )
    return kind


# Art 37: the 区分处理 说明 of the review goes into these replies by itself.
WITHHELD_TABLE_KINDS = frozenset({LetterKind.REPLY_PARTIAL, LetterKind.REPLY_WITHHELD})


def withheld_table(case: Case) -> list[dict[str, str]]:
    """The 区分处理 说明 of ``case``'s review: record, pages, basis, reason, one row each."""
    return [
        {
            "record": f"《{row.record}》",
            "pages": row.pages_label,
            "basis": row.basis_label,
            "reason": row.reason,
        }
        for row in review_summary(case).rows
    ]


def letter_content(case: Case, kind: str, *, on: dt.date, number: str = "") -> dict:
    """The drafted text of a letter (no numbering, no saving). Raises InvalidInput when the
    case lacks a fact the letter states."""
    try:
        facts = letter_facts(case, kind, on=on)
        template = letter_template_resolve(case.agency, kind)
        title = fill(template["title"], facts)
        paragraphs = [
            line.strip() for line in fill(template["body"], facts).splitlines() if line.strip()
        ]
    except LetterNotApplicable as exc:
        raise InvalidInput(str(exc), str(exc), fields={"kind": ["not_applicable"]}) from exc
    addressee = facts.get("consultee") if kind == LetterKind.THIRD_PARTY_CONSULTATION else None
    withheld = withheld_table(case) if kind in WITHHELD_TABLE_KINDS else []
    return {
        "kind": kind,
        "letterhead": template["letterhead"],
        "title": title,
        "number": number,
        "addressee": addressee or case.applicant_name,
        "paragraphs": paragraphs,
        "withheld_table": withheld,
        "legal_basis": facts["legal_basis"],
        "remedies": remedies(case, kind, facts, on=on),
        "signature": case.agency.name,
        "date": cn_date(on),
        "contact_block": template["contact_block"],
        "tracking_number": case.tracking_number,
        "number_pattern": template["number_pattern"],
    }


def letter_draft(
    *, case: Case, actor, kind: str, on: dt.date | None = None, expected_version=None
) -> Letter:
    """Draft, number, render and store one letter of ``kind`` (or ``"reply"``) for ``case``.
    Writes a ``letter_issued`` event. Raises InvalidInput, ActionForbidden, ConcurrentChange."""
    on = on or timezone.localdate()
    kind = _resolve_kind(case, kind)
    letter_content(case, kind, on=on)  # a missing fact fails here, before any lock or number
    created: list[Letter] = []
    data: dict = {"kind": kind}

    def apply(locked: Case) -> None:
        fresh = letter_content(locked, kind, on=on)
        sequence = letter_number_allocate(agency=locked.agency, year=on.year)
        fresh["number"] = format_number(
            fresh.pop("number_pattern"), year=on.year, sequence=sequence
        )
        letter = Letter(
            case=locked,
            agency=locked.agency,
            kind=kind,
            year=on.year,
            sequence=sequence,
            number=fresh["number"],
            title=fresh["title"],
            addressee=fresh["addressee"],
            content=fresh,
            legal_basis=fresh["legal_basis"][:500],
            drafted_by=actor,
        )
        stem = f"{on.year}-{sequence:04d}-{kind}"
        letter.pdf.save(f"{stem}.pdf", ContentFile(render_pdf(fresh)), save=False)
        letter.docx.save(f"{stem}.docx", ContentFile(render_docx(fresh)), save=False)
        letter.save()
        data.update({"letter_id": letter.pk, "number": letter.number, "title": letter.title})
        created.append(letter)

    case_perform_action(
        case=case,
        actor=actor,
        kind=EventKind.LETTER_ISSUED,
        apply=apply,
        expected_version=expected_version,
        data=data,
    )
    return created[0]


# --- service -----------------------------------------------------------------------------
def may_serve_letter(user, letter: Letter) -> bool:
    """May ``user`` record ``letter`` as served? A 答复书's service is the reply itself, so it
    also needs the right to serve the reply (``letter_serve`` checks both)."""
    if not can_act(user, "letter_served", letter.case):
        return False
    return letter.kind not in REPLY_KINDS or can_act(user, "serve_reply", letter.case)


def letter_serve(
    *,
    letter: Letter,
    actor,
    served_on: dt.date,
    method: str,
    tracking_number: str = "",
    entrusted_to: str = "",
    effective_at=None,
    expected_version=None,
) -> Letter:
    """Record that ``letter`` was served on ``served_on`` by ``method``. For a 答复书 this is
    serving the reply (``case_serve_reply``, which checks the proof: a posted reply goes by
    China Post with its item number), so the case must be approved; for the others a
    ``letter_served`` event. Raises InvalidInput, ActionForbidden, TransitionRefused."""
    if method not in SERVICE_METHODS:
        raise InvalidInput(
            "送达方式无效。",
            f"method must be one of: {', '.join(SERVICE_METHODS)}.",
            fields={"method": ["invalid_choice"]},
        )
    if not isinstance(served_on, dt.date) or served_on > timezone.localdate():
        raise InvalidInput(
            "送达日期无效或晚于今天。",
            "served_on is invalid or in the future.",
            fields={"served_on": ["invalid"]},
        )
    case = letter.case
    if case.received_on and served_on < case.received_on:
        raise InvalidInput(
            "送达日期不能早于收到申请日期。",
            "served_on cannot be before the receipt date.",
            fields={"served_on": ["too_early"]},
        )
    with transaction.atomic():
        locked = Letter.objects.select_for_update().get(pk=letter.pk)
        case = Case.objects.get(pk=letter.case_id)
        if locked.served_on is not None:
            raise TransitionRefused(
                f"该文书已于{locked.served_on}送达。", "The letter was already served."
            )
        if locked.kind in REPLY_KINDS:
            if case.state != CaseState.APPROVED:
                raise TransitionRefused(
                    "答复书须在答复经审核后送达（送达即答复）。",
                    "A reply letter is served when the reply is approved (serving it is the reply).",
                )
            if reply_kind_for(case.draft_outcome) != locked.kind:
                raise TransitionRefused(
                    "答复书与当前拟答复结果不一致，请重新制作答复书。",
                    "The reply letter no longer matches the approved outcome; draft it again.",
                )
            if locked.kind in WITHHELD_TABLE_KINDS and (
                locked.content.get("withheld_table", []) != withheld_table(case)
            ):
                raise TransitionRefused(
                    "答复书的区分处理说明与当前审查结果不一致，请重新制作答复书。",
                    "The letter's table of what is withheld no longer matches the review; "
                    "draft it again.",
                )
            case_serve_reply(
                case=case,
                actor=actor,
                served_on=served_on,
                service_method=method,
                tracking_number=tracking_number,
                entrusted_to=entrusted_to,
                effective_at=effective_at,
                expected_version=expected_version,
            )
        else:
            case_perform_action(
                case=case,
                actor=actor,
                kind=EventKind.LETTER_SERVED,
                apply=lambda c: None,
                effective_at=effective_at,
                expected_version=expected_version,
                data={
                    "letter_id": locked.pk,
                    "number": locked.number,
                    "kind": locked.kind,
                    "served_on": served_on.isoformat(),
                    "method": method,
                },
            )
        locked.served_on = served_on
        locked.service_method = method
        locked.served_by = actor
        locked.save(update_fields=["served_on", "service_method", "served_by"])
    return locked


def submission_receipt_content(case: Case, *, access_code: str) -> dict:
    """The applicant's printable receipt of an online submission, in a letter's shape (for
    ``letters.render.render_pdf``): the tracking number, the access code (printed once, for
    the applicant's own keeping), what was asked and how to follow it. Not a numbered letter
    and not stored: R is fixed later, by the office's confirmation (Art 31)."""
    template = letter_template_resolve(case.agency, LetterKind.REGISTRATION_RECEIPT)
    submitted = timezone.localtime(case.submitted_at)
    lines = [
        f"您于{cn_date(submitted.date())}{submitted:%H:%M}通过网上提交的政府信息公开申请已收到，"
        f"申请编号为{case.tracking_number}，查询码为{access_code}。",
        "请妥善保存申请编号和查询码：凭二者可在本网站“查询办理进度”中查看办理情况、"
        "下载告知书和答复书、在线补正或撤回申请。查询码只显示这一次，本机关无法找回。",
        f"所需信息：{case.description}",
    ]
    if case.document_number:
        lines.append(f"文件名称、文号：{case.document_number}")
    lines.append(
        f"信息提供形式：{case.get_information_form_display()}；"
        f"获取信息方式：{case.get_delivery_method_display()}。"
    )
    lines.append(
        "本机关确认收到申请之日为收到申请日期，答复期限自该日起计算（《政府信息公开条例》"
        "第三十一条、第三十三条）。"
    )
    return {
        "kind": "submission_receipt",
        "letterhead": template["letterhead"],
        "title": "政府信息公开申请提交回执",
        "number": "",
        "addressee": case.applicant_name,
        "paragraphs": lines,
        "legal_basis": "",
        "remedies": "",
        "signature": case.agency.name,
        "date": cn_date(submitted.date()),
        "contact_block": template["contact_block"],
        "tracking_number": case.tracking_number,
    }
