"""国办公开办函〔2019〕60号: the format of the 2019 and 2020 reports.

The same as gov2021 except that 三(六) 其他处理 is a single row, ``other``.
"""

from . import gov2021
from .base import Measure, Row, TableFormat, outcomes

OTHER_ROW = Row(
    "other",
    "三(六) 其他处理",
    Measure.CONCLUDED,
    outcomes=outcomes(
        "abandoned_no_supplement",
        "abandoned_no_fee",
        "withdrawn",
        "other",
        "withheld_not_government_info",
    ),
    section=gov2021.S3,
    group=gov2021.G_OTHER,
)

FORMAT = TableFormat(
    code="gov2019",
    title="政府信息公开工作年度报告（国办公开办函〔2019〕60号格式）",
    source="国办公开办函〔2019〕60号",
    years=(2019, 2020),
    table3=(
        *gov2021.HEAD_ROWS,
        *gov2021.RESULT_ROWS_BEFORE_OTHER,
        OTHER_ROW,
        *gov2021.TAIL_ROWS,
    ),
    table4=gov2021.TABLE4,
)
