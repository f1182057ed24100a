"""国办发〔2014〕32号 statistical table (依申请公开 part): the reports up to 2018.

One number per key and one column (docs/reporting.md, 'The rows of legacy2014'). The table has
no carried-in or carried-out row: a case is counted as received in the year of R and as
concluded/replied in the year it concluded.
"""

from .base import ALL_OUTCOMES, FlatFormat, Measure, Row, SumCheck, outcomes

S3 = "三、依申请公开情况"
G_RECEIVED = "（一）收到申请数"
G_CONCLUDED = "（二）申请办结数"
G_REPLIED = "（三）申请答复数"
N = Measure.NEW
C = Measure.CONCLUDED

WITHHELD = {
    "withheld_state_secret": ("其中：涉及国家秘密", outcomes("withheld_state_secret")),
    "withheld_commercial_secret": ("涉及商业秘密", outcomes("withheld_commercial_secret")),
    "withheld_personal_privacy": ("涉及个人隐私", outcomes("withheld_personal_privacy")),
    "withheld_security_stability": (
        "危及国家安全、公共安全、经济安全和社会稳定",
        outcomes("withheld_security_stability"),
    ),
    "withheld_not_government_info": (
        "不是《条例》所指政府信息",
        outcomes(
            "withheld_not_government_info", "withheld_internal_affairs", "withheld_process_info"
        ),
    ),
    "withheld_other_legal": (
        "法律法规规定的其他情形",
        outcomes(
            "withheld_prohibited_by_law",
            "withheld_third_party_other",
            "withheld_law_enforcement_file",
        ),
    ),
}
ALL_WITHHELD = frozenset().union(*(o for _, o in WITHHELD.values()))

REPLIED = {
    "replied_already_public": ("1.属于已主动公开范围数", outcomes("already_public")),
    "replied_disclosed": ("2.同意公开答复数", outcomes("disclosed")),
    "replied_partially_disclosed": ("3.同意部分公开答复数", outcomes("partially_disclosed")),
    "replied_withheld": ("4.不同意公开答复数", ALL_WITHHELD),
    "replied_not_this_agency": ("5.不属于本行政机关公开数", outcomes("not_this_agency")),
    "replied_not_exist": ("6.申请信息不存在数", outcomes("not_exist")),
    "replied_supplement_notice": (
        "7.告知作出更改补充数",
        outcomes("abandoned_no_supplement", "unclear_after_supplement"),
    ),
    "replied_other_channel": (
        "8.告知通过其他途径办理数",
        outcomes("petition_complaint", "publication", "withheld_administrative_query"),
    ),
}
# 其他: every outcome the eight rows above do not name.
OTHER_OUTCOMES = ALL_OUTCOMES - frozenset().union(*(o for _, o in REPLIED.values()))
REPLIED["replied_other"] = ("其他", OTHER_OUTCOMES)

ROWS = (
    Row("received_total", "（一）收到申请数", N, section=S3, group=G_RECEIVED),
    Row(
        "received_in_person",
        "1.当面申请数",
        N,
        channels=frozenset({"in_person", "oral"}),
        section=S3,
        group=G_RECEIVED,
        item="1.当面申请数",
    ),
    Row(
        "received_fax",
        "2.传真申请数",
        N,
        channels=frozenset({"fax"}),
        section=S3,
        group=G_RECEIVED,
        item="2.传真申请数",
    ),
    Row(
        "received_online",
        "3.网络申请数",
        N,
        channels=frozenset({"online", "email"}),
        section=S3,
        group=G_RECEIVED,
        item="3.网络申请数",
    ),
    Row(
        "received_post",
        "4.信函申请数",
        N,
        channels=frozenset({"post", "post_unsigned"}),
        section=S3,
        group=G_RECEIVED,
        item="4.信函申请数",
    ),
    Row("concluded_total", "（二）申请办结数", C, section=S3, group=G_CONCLUDED),
    Row(
        "concluded_on_time",
        "1.按时办结数",
        C,
        extended=False,
        section=S3,
        group=G_CONCLUDED,
        item="1.按时办结数",
    ),
    Row(
        "concluded_extended",
        "2.延期办结数",
        C,
        extended=True,
        section=S3,
        group=G_CONCLUDED,
        item="2.延期办结数",
    ),
    Row("replied_total", "（三）申请答复数", C, section=S3, group=G_REPLIED),
    *(
        Row(key, label, C, outcomes=codes, section=S3, group=G_REPLIED, item=label)
        for key, (label, codes) in list(REPLIED.items())[:4]
    ),
    *(
        Row(key, label, C, outcomes=codes, section=S3, group=G_REPLIED, item="    " + label)
        for key, (label, codes) in WITHHELD.items()
    ),
    *(
        Row(key, label, C, outcomes=codes, section=S3, group=G_REPLIED, item=label)
        for key, (label, codes) in list(REPLIED.items())[4:]
    ),
    Row("review_total", "四、行政复议数量", Measure.REVIEW, section="四、行政复议数量"),
    Row(
        "review_upheld",
        "（一）维持具体行政行为数",
        Measure.REVIEW,
        results=frozenset({"upheld"}),
        section="四、行政复议数量",
        group="（一）维持具体行政行为数",
    ),
    Row(
        "review_corrected",
        "（二）被依法纠错数",
        Measure.REVIEW,
        results=frozenset({"corrected"}),
        section="四、行政复议数量",
        group="（二）被依法纠错数",
    ),
    Row(
        "review_other",
        "（三）其他情形数",
        Measure.REVIEW,
        results=frozenset({"other", "pending"}),
        section="四、行政复议数量",
        group="（三）其他情形数",
    ),
    Row("litigation_total", "五、行政诉讼数量", Measure.LITIGATION, section="五、行政诉讼数量"),
    Row(
        "litigation_upheld",
        "（一）维持具体行政行为或者驳回原告诉讼请求数",
        Measure.LITIGATION,
        results=frozenset({"upheld"}),
        section="五、行政诉讼数量",
        group="（一）维持具体行政行为或者驳回原告诉讼请求数",
    ),
    Row(
        "litigation_corrected",
        "（二）被依法纠错数",
        Measure.LITIGATION,
        results=frozenset({"corrected"}),
        section="五、行政诉讼数量",
        group="（二）被依法纠错数",
    ),
    Row(
        "litigation_other",
        "（三）其他情形数",
        Measure.LITIGATION,
        results=frozenset({"other", "pending"}),
        section="五、行政诉讼数量",
        group="（三）其他情形数",
    ),
    Row("complaints_total", "六、举报投诉数量", Measure.COMPLAINTS, section="六、举报投诉数量"),
    Row(
        "fees_collected_yuan",
        "七、依申请公开信息收取的费用",
        Measure.FEES,
        section="七、依申请公开信息收取的费用",
        unit="元",
    ),
)

REPLIED_PARTS = tuple(REPLIED)
SUMS = (
    SumCheck(
        "received_total",
        ("received_in_person", "received_fax", "received_online", "received_post"),
        "收到申请数 = 各渠道申请数之和",
    ),
    SumCheck(
        "concluded_total",
        ("concluded_on_time", "concluded_extended"),
        "申请办结数 = 按时办结数 + 延期办结数",
    ),
    SumCheck("replied_total", REPLIED_PARTS, "申请答复数 = 各答复类型之和"),
    SumCheck("replied_withheld", tuple(WITHHELD), "不同意公开答复数 = 其中各项之和"),
    SumCheck("concluded_total", ("replied_total",), "申请办结数 = 申请答复数"),
    SumCheck(
        "review_total",
        ("review_upheld", "review_corrected", "review_other"),
        "行政复议数量 = 各结果之和",
    ),
    SumCheck(
        "litigation_total",
        ("litigation_upheld", "litigation_corrected", "litigation_other"),
        "行政诉讼数量 = 各结果之和",
    ),
)

FORMAT = FlatFormat(
    code="legacy2014",
    title="政府信息公开情况统计表（国办发〔2014〕32号格式）依申请公开部分",
    source="国办发〔2014〕32号",
    years=(None, 2018),
    rows=ROWS,
    sums=SUMS,
)
