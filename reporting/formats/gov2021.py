"""国办公开办函〔2021〕30号: the annual report format in force from the 2021 report on.

Table 三 (依申请公开) by applicant column and table 四 (复议、诉讼); the rows are listed in
docs/reporting.md, 'The rows of gov2019 and gov2021'.
"""

from .base import Block, Measure, Row, TableFormat, outcomes

S3 = "三、本年度办理结果"
G_WITHHELD = "（三）不予公开"
G_UNABLE = "（四）无法提供"
G_NOT_PROCESSED = "（五）不予处理"
G_OTHER = "（六）其他处理"


def _r(key, label, measure, section, group="", item="", **filters) -> Row:
    return Row(key, label, measure, section=section, group=group, item=item, **filters)


C = Measure.CONCLUDED

HEAD_ROWS = (
    _r(
        "new_received",
        "一、本年新收政府信息公开申请数量",
        Measure.NEW,
        "一、本年新收政府信息公开申请数量",
    ),
    _r(
        "carried_in",
        "二、上年结转政府信息公开申请数量",
        Measure.CARRIED_IN,
        "二、上年结转政府信息公开申请数量",
    ),
)

RESULT_ROWS_BEFORE_OTHER = (
    _r(
        "disclosed",
        "三(一) 予以公开",
        C,
        S3,
        "（一）予以公开",
        outcomes=outcomes("already_public", "disclosed"),
    ),
    _r(
        "partially_disclosed",
        "三(二) 部分公开",
        C,
        S3,
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        outcomes=outcomes("partially_disclosed"),
    ),
    _r(
        "withheld_state_secret",
        "三(三)1 属于国家秘密",
        C,
        S3,
        G_WITHHELD,
        "1.属于国家秘密",
        outcomes=outcomes("withheld_state_secret"),
    ),
    _r(
        "withheld_prohibited_by_law",
        "三(三)2 其他法律行政法规禁止公开",
        C,
        S3,
        G_WITHHELD,
        "2.其他法律行政法规禁止公开",
        outcomes=outcomes("withheld_prohibited_by_law"),
    ),
    _r(
        "withheld_security_stability",
        '三(三)3 危及"三安全一稳定"',
        C,
        S3,
        G_WITHHELD,
        "3.危及“三安全一稳定”",
        outcomes=outcomes("withheld_security_stability"),
    ),
    _r(
        "withheld_third_party",
        "三(三)4 保护第三方合法权益",
        C,
        S3,
        G_WITHHELD,
        "4.保护第三方合法权益",
        outcomes=outcomes(
            "withheld_commercial_secret", "withheld_personal_privacy", "withheld_third_party_other"
        ),
    ),
    _r(
        "withheld_internal_affairs",
        "三(三)5 属于三类内部事务信息",
        C,
        S3,
        G_WITHHELD,
        "5.属于三类内部事务信息",
        outcomes=outcomes("withheld_internal_affairs"),
    ),
    _r(
        "withheld_process_info",
        "三(三)6 属于四类过程性信息",
        C,
        S3,
        G_WITHHELD,
        "6.属于四类过程性信息",
        outcomes=outcomes("withheld_process_info"),
    ),
    _r(
        "withheld_law_enforcement_file",
        "三(三)7 属于行政执法案卷",
        C,
        S3,
        G_WITHHELD,
        "7.属于行政执法案卷",
        outcomes=outcomes("withheld_law_enforcement_file"),
    ),
    _r(
        "withheld_administrative_query",
        "三(三)8 属于行政查询事项",
        C,
        S3,
        G_WITHHELD,
        "8.属于行政查询事项",
        outcomes=outcomes("withheld_administrative_query"),
    ),
    _r(
        "unable_not_held",
        "三(四)1 本机关不掌握相关政府信息",
        C,
        S3,
        G_UNABLE,
        "1.本机关不掌握相关政府信息",
        outcomes=outcomes("not_exist", "not_this_agency"),
    ),
    _r(
        "unable_needs_creation",
        "三(四)2 没有现成信息需要另行制作",
        C,
        S3,
        G_UNABLE,
        "2.没有现成信息需要另行制作",
        outcomes=outcomes("needs_creation"),
    ),
    _r(
        "unable_unclear",
        "三(四)3 补正后申请内容仍不明确",
        C,
        S3,
        G_UNABLE,
        "3.补正后申请内容仍不明确",
        outcomes=outcomes("unclear_after_supplement"),
    ),
    _r(
        "not_processed_petition",
        "三(五)1 信访举报投诉类申请",
        C,
        S3,
        G_NOT_PROCESSED,
        "1.信访举报投诉类申请",
        outcomes=outcomes("petition_complaint"),
    ),
    _r(
        "not_processed_duplicate",
        "三(五)2 重复申请",
        C,
        S3,
        G_NOT_PROCESSED,
        "2.重复申请",
        outcomes=outcomes("duplicate"),
    ),
    _r(
        "not_processed_publication",
        "三(五)3 要求提供公开出版物",
        C,
        S3,
        G_NOT_PROCESSED,
        "3.要求提供公开出版物",
        outcomes=outcomes("publication"),
    ),
    _r(
        "not_processed_excessive",
        "三(五)4 无正当理由大量反复申请",
        C,
        S3,
        G_NOT_PROCESSED,
        "4.无正当理由大量反复申请",
        outcomes=outcomes("excessive"),
    ),
    _r(
        "not_processed_confirm",
        "三(五)5 要求行政机关确认或重新出具已获取信息",
        C,
        S3,
        G_NOT_PROCESSED,
        "5.要求行政机关确认或重新出具已获取信息",
        outcomes=outcomes("confirm_or_reissue"),
    ),
)

OTHER_ROWS = (
    _r(
        "other_no_supplement",
        "三(六)1 申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        C,
        S3,
        G_OTHER,
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        outcomes=outcomes("abandoned_no_supplement"),
    ),
    _r(
        "other_no_fee",
        "三(六)2 申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        C,
        S3,
        G_OTHER,
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        outcomes=outcomes("abandoned_no_fee"),
    ),
    _r(
        "other_other",
        "三(六)3 其他",
        C,
        S3,
        G_OTHER,
        "3.其他",
        outcomes=outcomes("withdrawn", "other", "withheld_not_government_info"),
    ),
)

TAIL_ROWS = (
    _r("concluded_total", "三(七) 总计", C, S3, "（七）总计"),
    _r("carried_out", "四、结转下年度继续办理", Measure.CARRIED_OUT, "四、结转下年度继续办理"),
)

TABLE4 = (
    Block("review", "行政复议", Measure.REVIEW, section="行政复议"),
    Block(
        "litigation_direct",
        "行政诉讼·未经复议直接起诉",
        Measure.LITIGATION,
        after_review=False,
        section="行政诉讼",
        group="未经复议直接起诉",
    ),
    Block(
        "litigation_after_review",
        "行政诉讼·复议后起诉",
        Measure.LITIGATION,
        after_review=True,
        section="行政诉讼",
        group="复议后起诉",
    ),
)

FORMAT = TableFormat(
    code="gov2021",
    title="政府信息公开工作年度报告（国办公开办函〔2021〕30号格式）",
    source="国办公开办函〔2021〕30号",
    years=(2021, None),
    table3=(*HEAD_ROWS, *RESULT_ROWS_BEFORE_OTHER, *OTHER_ROWS, *TAIL_ROWS),
    table4=TABLE4,
)
