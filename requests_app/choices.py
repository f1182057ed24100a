"""The vocabulary of the domain (docs/law.md; the states: docs/transitions.svg): states,
outcomes, channels, types.

Labels are Chinese (the caseworkers' language); English is in the comments and in the
``*_EN`` maps used by the API's bilingual messages.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApplicantType(models.TextChoices):
    # The columns of the annual report's table 三.
    NATURAL_PERSON = "natural_person", _("自然人")
    COMMERCIAL_ENTERPRISE = "commercial_enterprise", _("商业企业")
    RESEARCH_INSTITUTION = "research_institution", _("科研机构")
    PUBLIC_INTEREST_ORG = "public_interest_org", _("社会公益组织")
    LEGAL_SERVICE_ORG = "legal_service_org", _("法律服务机构")
    OTHER_ORG = "other_org", _("其他")


class Channel(models.TextChoices):
    IN_PERSON = "in_person", _("当面")  # handed in at the counter: R = that day
    ORAL = "oral", _("口头")  # transcribed in person: R = that day
    POST = "post", _("邮寄")  # signed for: R = the signing day
    POST_UNSIGNED = "post_unsigned", _("平常信函")  # R = the day receipt is confirmed
    ONLINE = "online", _("网络")  # the agency's platform: R = the day both sides confirm
    EMAIL = "email", _("电子邮件")  # R = the day both sides confirm
    FAX = "fax", _("传真")  # R = the day both sides confirm


# Art 31: channels whose receipt must be confirmed with the applicant before R is fixed.
CONFIRMED_CHANNELS = frozenset({Channel.POST_UNSIGNED, Channel.ONLINE, Channel.EMAIL, Channel.FAX})
# Channels where the office itself takes the application in hand (counter, signed post).
COUNTER_CHANNELS = frozenset({Channel.IN_PERSON, Channel.ORAL, Channel.POST})
# An on-the-spot reply (Art 33 ¶1) needs the applicant in front of the office.
IN_PERSON_CHANNELS = frozenset({Channel.IN_PERSON, Channel.ORAL})


class IdType(models.TextChoices):
    MAINLAND_ID = "mainland_id", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MACAO_PERMIT = "hk_macao_permit", _("港澳居民来往内地通行证")
    TAIWAN_PERMIT = "taiwan_permit", _("台湾居民来往大陆通行证")
    RESIDENCE_PERMIT = "residence_permit", _("外国人永久居留身份证")
    CREDIT_CODE = "credit_code", _("统一社会信用代码")
    OTHER = "other", _("其他证件")


class InformationForm(models.TextChoices):
    # 获取信息的方式 (Art 29): the form the information is wanted in.
    PAPER = "paper", _("纸质")
    ELECTRONIC = "electronic", _("电子文档")
    INSPECT = "inspect", _("当场阅读、抄录")
    OTHER = "other", _("其他")


class DeliveryMethod(models.TextChoices):
    # 获取信息的途径 (Art 29): how the information reaches the applicant.
    POST = "post", _("邮寄")
    EMAIL = "email", _("电子邮件")
    ONLINE = "online", _("网上获取")
    COLLECT = "collect", _("当面领取")
    FAX = "fax", _("传真")
    ON_SITE = "on_site", _("现场查阅")


class CaseState(models.TextChoices):
    SUBMITTED = "submitted", _("待确认接收")  # arrived, receipt not yet confirmed; no clock
    REGISTERED = "registered", _("已登记")  # R fixed and registered (登记); clock running
    AWAITING_SUPPLEMENT = "awaiting_supplement", _("待补正")  # 补正 notice served; clock stopped
    PROCESSING = "processing", _("办理中")  # searching, 保密审查, drafting; clock running
    CONSULTING = "consulting", _("征求意见中")  # waiting on a third party/agency; time excluded
    AWAITING_FEE = "awaiting_fee", _("待缴费")  # fee notice outstanding; clock paused (setting)
    PENDING_APPROVAL = "pending_approval", _("待审核")  # draft reply awaits the head's sign-off
    APPROVED = "approved", _("已审核待送达")  # reply signed, not yet served; clock running
    REPLIED = "replied", _("已答复")  # reply served with an outcome; clock stopped
    CLOSED = "closed", _("已归档")  # archived (归档), or ended without a reply


OPEN_STATES = frozenset(
    {
        CaseState.SUBMITTED,
        CaseState.REGISTERED,
        CaseState.AWAITING_SUPPLEMENT,
        CaseState.PROCESSING,
        CaseState.CONSULTING,
        CaseState.AWAITING_FEE,
        CaseState.PENDING_APPROVAL,
        CaseState.APPROVED,
    }
)
CONCLUDED_STATES = frozenset({CaseState.REPLIED, CaseState.CLOSED})
# The states in which the reply clock runs (the others stop, exclude or pause it).
REPLY_RUNNING_STATES = frozenset(
    {CaseState.REGISTERED, CaseState.PROCESSING, CaseState.PENDING_APPROVAL, CaseState.APPROVED}
)


# The kinds of history event (CaseEvent.kind): what the history records, and what the clock
# (requests_app/clock.py) replays.
class EventKind(models.TextChoices):
    # Transitions of the state machine (same names as the Case methods).
    SUBMITTED = "submitted", _("提交申请")
    CONFIRM_RECEIPT = "confirm_receipt", _("确认接收")
    REGISTER = "register", _("登记")
    REPLY_ON_SPOT = "reply_on_spot", _("当场答复")
    START_PROCESSING = "start_processing", _("分办/开始办理")
    REQUEST_SUPPLEMENT = "request_supplement", _("告知补正")
    RECEIVE_SUPPLEMENT = "receive_supplement", _("收到补正")
    ABANDON_NO_SUPPLEMENT = "abandon_no_supplement", _("逾期未补正，视为放弃")
    START_CONSULTATION = "start_consultation", _("征求意见")
    CLOSE_CONSULTATION = "close_consultation", _("征求意见结束")
    EXTEND = "extend", _("延期答复")
    SET_LATER_REPLY_DATE = "set_later_reply_date", _("确定延迟答复期限")
    ISSUE_FEE_NOTICE = "issue_fee_notice", _("发出收费通知")
    RECORD_FEE_PAYMENT = "record_fee_payment", _("确认缴费")
    ABANDON_NO_FEE = "abandon_no_fee", _("逾期未缴费，不再处理")
    SUBMIT_FOR_APPROVAL = "submit_for_approval", _("提交审核")
    APPROVE = "approve", _("审核通过")
    SEND_BACK = "send_back", _("退回修改")
    SERVE_REPLY = "serve_reply", _("送达答复")
    WITHDRAW = "withdraw", _("申请人撤回")
    CLOSE = "close", _("归档")
    REOPEN = "reopen", _("重新办理")
    # Facts that are not transitions.
    ASSIGN = "assign", _("指定承办人")
    NOTE = "note", _("备注")
    RECORD_SEARCH = "record_search", _("登记检索记录")
    DUE_CHANGED = "due_changed", _("期限变更")
    REMINDER_SENT = "reminder_sent", _("期限提醒")
    ESCALATED = "escalated", _("逾期上报")
    CLOSURE_PROPOSED = "closure_proposed", _("待确认终止")
    CHANGED_AFTER_PUBLICATION = "changed_after_publication", _("年报发布后变更")
    IMPORTED = "imported", _("历史导入")
    # Linked records (services/proceedings.py) and letters (services/letters.py).
    REVIEW_FILED = "review_filed", _("申请行政复议")
    REVIEW_ACCEPTED = "review_accepted", _("行政复议受理")
    REVIEW_ANSWERED = "review_answered", _("提交行政复议答复")
    REVIEW_EXTENDED = "review_extended", _("行政复议延期")
    REVIEW_DECIDED = "review_decided", _("行政复议决定")
    LAWSUIT_FILED = "lawsuit_filed", _("提起行政诉讼")
    LAWSUIT_DEFENDED = "lawsuit_defended", _("提交答辩举证")
    LAWSUIT_DECIDED = "lawsuit_decided", _("行政诉讼裁判")
    COMPLAINT_RECEIVED = "complaint_received", _("收到投诉举报")
    COMPLAINT_HANDLED = "complaint_handled", _("投诉举报处理")
    LETTER_ISSUED = "letter_issued", _("制作文书")
    LETTER_SERVED = "letter_served", _("送达文书")
    # The applicant's messages to the office and the office's answers (services/applicant.py).
    QUESTION_ASKED = "question_asked", _("申请人留言")
    QUESTION_ANSWERED = "question_answered", _("答复留言")
    ATTACHMENT_ADDED = "attachment_added", _("上传申请材料")
    # Records and their review (services/records.py).
    RECORD_ADDED = "record_added", _("添加文件")
    RECORD_REMOVED = "record_removed", _("删除文件")
    PAGE_DECIDED = "page_decided", _("页面审查决定")
    REGION_ADDED = "region_added", _("标注不予公开区域")
    REGION_REMOVED = "region_removed", _("删除不予公开区域")
    SUGGESTIONS_FOUND = "suggestions_found", _("查找需遮盖内容")
    SUGGESTION_ACCEPTED = "suggestion_accepted", _("采纳遮盖建议")
    SUGGESTION_REJECTED = "suggestion_rejected", _("不采纳遮盖建议")
    RELEASE_BUILT = "release_built", _("生成公开文本")
    RELEASE_PUBLISHED = "release_published", _("主动公开")
    RELEASE_UNPUBLISHED = "release_unpublished", _("撤回主动公开")
    # 交办: asking another unit for the records (services/records_tasks.py).
    TASK_ASSIGNED = "task_assigned", _("交办")
    TASK_ANSWERED = "task_answered", _("交办答复")


class Outcome(models.TextChoices):
    # The closed list of docs/law.md, 'Outcomes (Arts 36–39)'; each concluded case has exactly one.
    ALREADY_PUBLIC = "already_public", _("已主动公开，告知获取途径")  # Art 36(一)
    DISCLOSED = "disclosed", _("予以公开")  # Art 36(二)
    PARTIALLY_DISCLOSED = "partially_disclosed", _("部分公开")  # Art 37
    WITHHELD_STATE_SECRET = "withheld_state_secret", _("不予公开：国家秘密")  # Art 14
    WITHHELD_PROHIBITED_BY_LAW = (
        "withheld_prohibited_by_law",
        _("不予公开：其他法律行政法规禁止公开"),
    )  # Art 14
    WITHHELD_SECURITY_STABILITY = (
        "withheld_security_stability",
        _("不予公开：危及“三安全一稳定”"),
    )  # Art 14
    WITHHELD_COMMERCIAL_SECRET = "withheld_commercial_secret", _("不予公开：商业秘密")  # Art 15
    WITHHELD_PERSONAL_PRIVACY = "withheld_personal_privacy", _("不予公开：个人隐私")  # Art 15
    WITHHELD_THIRD_PARTY_OTHER = (
        "withheld_third_party_other",
        _("不予公开：其他第三方合法权益"),
    )  # Art 15
    WITHHELD_INTERNAL_AFFAIRS = (
        "withheld_internal_affairs",
        _("不予公开：三类内部事务信息"),
    )  # Art 16 ¶1
    WITHHELD_PROCESS_INFO = "withheld_process_info", _("不予公开：四类过程性信息")  # Art 16 ¶2
    WITHHELD_LAW_ENFORCEMENT_FILE = (
        "withheld_law_enforcement_file",
        _("不予公开：行政执法案卷"),
    )  # Art 16 ¶2
    WITHHELD_ADMINISTRATIVE_QUERY = (
        "withheld_administrative_query",
        _("行政查询事项（依特别规定办理）"),
    )  # Art 36(七)
    WITHHELD_NOT_GOVERNMENT_INFO = (
        "withheld_not_government_info",
        _("不是《条例》所指政府信息"),
    )  # 2008 Art 2
    NOT_EXIST = "not_exist", _("经检索没有所申请公开信息")  # Art 36(四)
    NOT_THIS_AGENCY = "not_this_agency", _("不属于本机关负责公开")  # Art 36(五)
    NEEDS_CREATION = "needs_creation", _("没有现成信息，需另行制作")  # Art 38
    UNCLEAR_AFTER_SUPPLEMENT = "unclear_after_supplement", _("补正后申请内容仍不明确")  # Art 30
    PETITION_COMPLAINT = "petition_complaint", _("信访、投诉、举报类申请")  # Art 39 ¶1
    DUPLICATE = "duplicate", _("重复申请")  # Art 36(六)
    PUBLICATION = "publication", _("要求提供公开出版物")  # Art 39 ¶2
    EXCESSIVE = "excessive", _("无正当理由大量反复申请")  # Art 35
    CONFIRM_OR_REISSUE = "confirm_or_reissue", _("要求确认或重新出具已获取信息")
    ABANDONED_NO_SUPPLEMENT = "abandoned_no_supplement", _("逾期不补正，视为放弃")  # Art 30
    ABANDONED_NO_FEE = "abandoned_no_fee", _("逾期未缴纳信息处理费")  # Art 42
    WITHDRAWN = "withdrawn", _("申请人撤回")
    OTHER = "other", _("其他")


# Outcomes a reply can carry; the last three are reached by their own actions.
REPLY_OUTCOMES = frozenset(Outcome) - {
    Outcome.ABANDONED_NO_SUPPLEMENT,
    Outcome.ABANDONED_NO_FEE,
    Outcome.WITHDRAWN,
}
# Outcomes allowed for a reply given on the spot (Art 33 ¶1).
ON_THE_SPOT_OUTCOMES = frozenset(
    {Outcome.ALREADY_PUBLIC, Outcome.DISCLOSED, Outcome.NOT_THIS_AGENCY, Outcome.PUBLICATION}
)


class ConsulteeKind(models.TextChoices):
    THIRD_PARTY = "third_party", _("第三方")  # Art 32
    AGENCY = "agency", _("其他机关")  # Art 34


class Role(models.TextChoices):
    REGISTRAR = "registrar", _("登记员")  # registers applications, counter work
    HANDLER = "handler", _("承办人")  # handles cases: 补正, consultation, drafting, service
    APPROVER = "approver", _("审核人（负责人）")  # signs replies, approves extensions
    SUPERVISOR = "supervisor", _("主管部门（只读）")  # read-only over a subtree
    ADMINISTRATOR = "administrator", _("管理员")  # everything in the agency subtree
    AUDITOR = "auditor", _("审计员")  # read-only, exports full histories


class AgencyKind(models.TextChoices):
    GOVERNMENT = "government", _("人民政府")
    OFFICE = "office", _("办公室")
    DEPARTMENT = "department", _("工作部门")
    DISTRICT = "district", _("县区")
    STREET = "street", _("街道乡镇")
    OTHER = "other", _("其他")


class Timeliness(models.TextChoices):
    # On-time facts of a concluded case.
    ON_TIME = "on_time", _("按时")
    EXTENDED = "extended", _("延期后按时")
    LATE = "late", _("逾期")


class PageDecision(models.TextChoices):
    # 区分处理 (Art 37), one per page of a record under review.
    DISCLOSE = "disclose", _("公开")  # released as it is
    PARTIAL = "partial", _("部分公开")  # released with regions removed (each with its basis)
    WITHHOLD = "withhold", _("不予公开")  # withheld whole (kept in the release, blanked, labelled)
    IRRELEVANT = "irrelevant", _("与申请无关")  # left out: not what was asked for
    DUPLICATE = "duplicate", _("重复")  # left out: the same page appears elsewhere


# Decisions that put a page into the release copy (blanked or not).
RELEASED_DECISIONS = frozenset({PageDecision.DISCLOSE, PageDecision.PARTIAL})


class WithholdBasis(models.TextChoices):
    # The closed list of grounds to withhold a page or a region: the report's withheld
    # outcomes (Arts 14, 15, 16, 36(七)), with the same codes, so that a review that
    # withholds everything on one ground names the outcome directly. The label is what the
    # release copy prints on each removed region.
    STATE_SECRET = Outcome.WITHHELD_STATE_SECRET.value, _("第十四条 国家秘密")
    PROHIBITED_BY_LAW = Outcome.WITHHELD_PROHIBITED_BY_LAW.value, _("第十四条 法律行政法规禁止公开")
    SECURITY_STABILITY = Outcome.WITHHELD_SECURITY_STABILITY.value, _("第十四条 三安全一稳定")
    COMMERCIAL_SECRET = Outcome.WITHHELD_COMMERCIAL_SECRET.value, _("第十五条 商业秘密")
    PERSONAL_PRIVACY = Outcome.WITHHELD_PERSONAL_PRIVACY.value, _("第十五条 个人隐私")
    THIRD_PARTY_OTHER = Outcome.WITHHELD_THIRD_PARTY_OTHER.value, _("第十五条 其他第三方合法权益")
    INTERNAL_AFFAIRS = Outcome.WITHHELD_INTERNAL_AFFAIRS.value, _("第十六条第一款 内部事务信息")
    PROCESS_INFO = Outcome.WITHHELD_PROCESS_INFO.value, _("第十六条第二款 过程性信息")
    LAW_ENFORCEMENT_FILE = (
        Outcome.WITHHELD_LAW_ENFORCEMENT_FILE.value,
        _("第十六条第二款 行政执法案卷"),
    )
    ADMINISTRATIVE_QUERY = (
        Outcome.WITHHELD_ADMINISTRATIVE_QUERY.value,
        _("第三十六条第（七）项 行政查询事项"),
    )


WITHHELD_OUTCOMES = frozenset(WithholdBasis.values)


class RecordPurpose(models.TextChoices):
    RESPONSIVE = "responsive", _("申请的政府信息")
    SERVICE_PROOF = "service_proof", _("送达凭证")


class DeliveryMode(models.TextChoices):
    # How the reply was served, and the date each mode counts from (国办公开办函〔2016〕235号).
    DIRECT = "direct", _("直接送达")  # the applicant's signature date
    ENTRUSTED = "entrusted", _("委托送达")  # the date the entrusted receiver signs
    POST = "post", _("邮寄送达（中国邮政）")  # the 交邮 date, EMS or registered mail
    ELECTRONIC = "electronic", _("电子送达")  # the date sent (e-mail, online platform)


class RecordKind(models.TextChoices):
    # Decided by the file's content (redaction.sniff_file), never by its name.
    PDF = "pdf", "PDF"
    JPEG = "jpeg", "JPEG"
    PNG = "png", "PNG"
    TIFF = "tiff", "TIFF"
    DOCX = "docx", "DOCX"  # stored; reviewed once converted to PDF (LibreOffice)
    OFD = "ofd", "OFD"  # stored; must be converted to PDF outside the service before review


class SuggestionState(models.TextChoices):
    PENDING = "pending", _("待处理")
    ACCEPTED = "accepted", _("已采纳")
    REJECTED = "rejected", _("未采纳")
