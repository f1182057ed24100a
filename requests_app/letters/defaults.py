"""The shipped wording of every letter (docs/legal.md): data, overridden per agency by
``LetterTemplate`` rows. Bodies are paragraphs, one per line, with ``{field}`` placeholders
filled from the case's facts (``letters.facts.FIELDS`` lists them)."""

from __future__ import annotations

from requests_app.choices import Outcome
from requests_app.models import LetterKind

K = LetterKind
OC = Outcome

DEFAULT_NUMBER_PATTERN = "〔{year}〕第{seq}号"

# The outcome families of the 答复书 (the outcomes of docs/law.md and the report's table 三
# groups).
REPLY_FAMILIES: dict[str, frozenset[str]] = {
    K.REPLY_DISCLOSED: frozenset({OC.ALREADY_PUBLIC, OC.DISCLOSED}),
    K.REPLY_PARTIAL: frozenset({OC.PARTIALLY_DISCLOSED}),
    K.REPLY_WITHHELD: frozenset(
        {
            OC.WITHHELD_STATE_SECRET,
            OC.WITHHELD_PROHIBITED_BY_LAW,
            OC.WITHHELD_SECURITY_STABILITY,
            OC.WITHHELD_COMMERCIAL_SECRET,
            OC.WITHHELD_PERSONAL_PRIVACY,
            OC.WITHHELD_THIRD_PARTY_OTHER,
            OC.WITHHELD_INTERNAL_AFFAIRS,
            OC.WITHHELD_PROCESS_INFO,
            OC.WITHHELD_LAW_ENFORCEMENT_FILE,
            OC.WITHHELD_ADMINISTRATIVE_QUERY,
        }
    ),
    K.REPLY_UNABLE: frozenset(
        {OC.NOT_EXIST, OC.NOT_THIS_AGENCY, OC.NEEDS_CREATION, OC.UNCLEAR_AFTER_SUPPLEMENT}
    ),
    K.REPLY_NOT_PROCESSED: frozenset(
        {OC.PETITION_COMPLAINT, OC.DUPLICATE, OC.PUBLICATION, OC.EXCESSIVE, OC.CONFIRM_OR_REISSUE}
    ),
    K.REPLY_OTHER: frozenset({OC.WITHDRAWN, OC.OTHER, OC.WITHHELD_NOT_GOVERNMENT_INFO}),
}
NON_PROCESSING_OUTCOMES = frozenset({OC.ABANDONED_NO_SUPPLEMENT, OC.ABANDONED_NO_FEE})


def reply_kind_for(outcome: str) -> str | None:
    for kind, outcomes in REPLY_FAMILIES.items():
        if outcome in outcomes:
            return kind
    return None


# The statutory basis each kind cites (答复书 cite the outcome's own basis, see facts.py).
KIND_LEGAL_BASIS = {
    K.REGISTRATION_RECEIPT: "《政府信息公开条例》第二十九条、第三十一条、第三十三条",
    K.SUPPLEMENT_NOTICE: "《政府信息公开条例》第三十条",
    K.EXTENSION_NOTICE: "《政府信息公开条例》第三十三条第二款",
    K.THIRD_PARTY_CONSULTATION: "《政府信息公开条例》第三十二条",
    K.FEE_NOTICE: "《政府信息公开条例》第四十二条；国办函〔2020〕109号《政府信息公开信息处理费管理办法》",
}

# Kinds that decide on the application: they carry the remedies.
DECISION_KINDS = frozenset({*REPLY_FAMILIES, K.NON_PROCESSING_NOTICE})

REMEDIES = (
    "如对本{document}不服，可以自收到之日起六十日内向{review_body}申请行政复议，"
    "也可以自收到之日起六个月内向{court}提起行政诉讼。"
)
# 复议法 2023 Art 23 ¶1(四): from 2024-01-01 a refusal to disclose goes to review first.
REMEDIES_REVIEW_FIRST = (
    "如对本{document}不服，可以自收到之日起六十日内向{review_body}申请行政复议；"
    "对行政复议决定不服的，可以自收到行政复议决定书之日起十五日内依法向人民法院提起行政诉讼"
    "（《中华人民共和国行政复议法》第二十三条）。"
)

REPLY_TITLE = "政府信息公开申请答复书"

DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    K.REGISTRATION_RECEIPT: {
        "title": "政府信息公开申请登记回执",
        "body": (
            "本机关于{received_on}收到您提交的政府信息公开申请，已予登记，申请编号为{tracking_number}。\n"
            "您申请获取的信息为：{description}\n"
            "本机关将依照《中华人民共和国政府信息公开条例》第三十三条的规定，在{reply_due_on}前作出答复；"
            "需要延长答复期限的，将另行书面告知。\n"
            "您可凭申请编号和查询码查询办理进度。"
        ),
    },
    K.SUPPLEMENT_NOTICE: {
        "title": "政府信息公开申请补正告知书",
        "body": (
            "本机关于{received_on}收到您的政府信息公开申请（申请编号{tracking_number}）。"
            "经审查，您的申请内容不明确，请对以下事项作出补正：\n"
            "{supplement_items}\n"
            "请于{supplement_due_on}前（{supplement_period_days}个工作日内）向本机关提交补正材料。"
            "答复期限自本机关收到补正后的申请之日起计算。无正当理由逾期不补正的，视为放弃申请，"
            "本机关不再处理该政府信息公开申请。"
        ),
    },
    K.EXTENSION_NOTICE: {
        "title": "政府信息公开申请延期答复告知书",
        "body": (
            "本机关于{received_on}收到您的政府信息公开申请（申请编号{tracking_number}）。"
            "因{extension_reason}，不能在法定期限内作出答复。\n"
            "经政府信息公开工作机构负责人同意，答复期限延长{extension_days}个工作日，"
            "本机关将于{reply_due_on}前作出答复。"
        ),
    },
    K.THIRD_PARTY_CONSULTATION: {
        "title": "政府信息公开第三方意见征询函",
        "body": (
            "本机关于{received_on}收到申请人提出的政府信息公开申请（申请编号{tracking_number}），"
            "申请获取：{description}\n"
            "经审查，该信息的公开可能损害贵方的合法权益。请贵方自收到本函之日起十五个工作日内，"
            "即{consultation_due_on}前，书面提出是否同意公开的意见及理由。\n"
            "逾期未提出意见的，由本机关依照《中华人民共和国政府信息公开条例》的规定决定是否公开；"
            "贵方不同意公开且有合理理由的，本机关不予公开；本机关认为不公开可能对公共利益造成重大影响的，"
            "可以决定予以公开，并将决定公开的内容和理由书面告知贵方。"
        ),
    },
    K.FEE_NOTICE: {
        "title": "政府信息公开信息处理费收费通知书",
        "body": (
            "本机关于{received_on}收到您的政府信息公开申请（申请编号{tracking_number}）。"
            "您申请公开政府信息的数量、频次明显超过合理范围，依照规定收取信息处理费。\n"
            "计收方式：{fee_method}。计算过程：{fee_computation}\n"
            "应缴金额：人民币{fee_amount}元。请于{fee_due_on}前（收到本通知之日起二十个工作日内）缴纳。"
            "答复期限自收到您的缴费之日起继续计算；逾期未缴纳的，视为放弃申请，本机关不再处理该申请。"
        ),
    },
    K.REPLY_DISCLOSED: {
        "title": REPLY_TITLE,
        "body": (
            "本机关于{received_on}收到您的政府信息公开申请（申请编号{tracking_number}），"
            "您申请获取：{description}\n"
            "经审查，本机关答复如下：{outcome_label}。所申请的政府信息予以公开，"
            "现按您要求的方式（{information_form}，{delivery_method}）提供。"
            "已主动公开的，可通过本机关政府网站获取。"
        ),
    },
    K.REPLY_PARTIAL: {
        "title": REPLY_TITLE,
        "body": (
            "本机关于{received_on}收到您的政府信息公开申请（申请编号{tracking_number}），"
            "您申请获取：{description}\n"
            "经审查，所申请的信息中含有不应当公开的内容，但能够作区分处理。本机关答复如下："
            "{outcome_label}，向您提供可以公开的政府信息内容，对不予公开的内容说明理由。"
        ),
    },
    K.REPLY_WITHHELD: {
        "title": REPLY_TITLE,
        "body": (
            "本机关于{received_on}收到您的政府信息公开申请（申请编号{tracking_number}），"
            "您申请获取：{description}\n"
            "经审查，本机关答复如下：{outcome_label}。所申请的信息依法不予公开。"
        ),
    },
    K.REPLY_UNABLE: {
        "title": REPLY_TITLE,
        "body": (
            "本机关于{received_on}收到您的政府信息公开申请（申请编号{tracking_number}），"
            "您申请获取：{description}\n"
            "经审查，本机关答复如下：{outcome_label}。{search_record}"
            "本机关无法提供所申请的政府信息。"
        ),
    },
    K.REPLY_NOT_PROCESSED: {
        "title": REPLY_TITLE,
        "body": (
            "本机关于{received_on}收到您的政府信息公开申请（申请编号{tracking_number}），"
            "您申请获取：{description}\n"
            "经审查，本机关答复如下：{outcome_label}。本机关对该申请不予处理。"
        ),
    },
    K.REPLY_OTHER: {
        "title": REPLY_TITLE,
        "body": (
            "本机关于{received_on}收到您的政府信息公开申请（申请编号{tracking_number}），"
            "您申请获取：{description}\n"
            "本机关答复如下：{outcome_label}。"
        ),
    },
    K.NON_PROCESSING_NOTICE: {
        "title": "政府信息公开申请不予处理告知书",
        "body": (
            "本机关于{received_on}收到您的政府信息公开申请（申请编号{tracking_number}）。\n"
            "{non_processing_reason}依照{legal_basis}的规定，视为您放弃该申请，"
            "本机关自{concluded_on}起不再处理该政府信息公开申请。"
        ),
    },
}
