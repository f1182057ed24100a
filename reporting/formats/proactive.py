"""Section 二 (主动公开政府信息情况) of each report format: the tables the office fills in.

These figures do not come from applications (条例 Art 50): the office types them. The
report stores them as ``{row: {column: number}}`` (``AnnualReport.proactive_figures``), keyed
by the printed labels, so a stored report reads the same whatever the code's names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProactiveTable:
    title: str  # the article of 条例 Art 20 the table reports on
    columns: tuple[str, ...]
    rows: tuple[str, ...]

    def allows_negative(self, column: str) -> bool:
        return "增/减" in column  # a change from last year may be a decrease

    def is_amount(self, column: str) -> bool:
        return "金额" in column  # money, in 万元 or 元, with decimals


# 国办公开办函〔2021〕30号 (reports from 2021).
GOV2021 = (
    ProactiveTable(
        "第二十条第（一）项",
        ("本年制发件数", "本年废止件数", "现行有效件数"),
        ("规章", "行政规范性文件"),
    ),
    ProactiveTable("第二十条第（五）项", ("本年处理决定数量",), ("行政许可",)),
    ProactiveTable("第二十条第（六）项", ("本年处理决定数量",), ("行政处罚", "行政强制")),
    ProactiveTable("第二十条第（八）项", ("本年收费金额（单位：万元）",), ("行政事业性收费",)),
)

# 国办公开办函〔2019〕60号 (reports for 2019 and 2020).
GOV2019 = (
    ProactiveTable(
        "第二十条第（一）项",
        ("本年新制作数量", "本年新公开数量", "对外公开总数量"),
        ("规章", "规范性文件"),
    ),
    ProactiveTable(
        "第二十条第（五）项",
        ("上一年项目数量", "本年增/减", "处理决定数量"),
        ("行政许可", "其他对外管理服务事项"),
    ),
    ProactiveTable(
        "第二十条第（六）项",
        ("上一年项目数量", "本年增/减", "处理决定数量"),
        ("行政处罚", "行政强制"),
    ),
    ProactiveTable("第二十条第（八）项", ("上一年项目数量", "本年增/减"), ("行政事业性收费",)),
    ProactiveTable("第二十条第（九）项", ("采购项目数量", "采购总金额"), ("政府集中采购",)),
)

# The 2014 统计表's 主动公开 part (reports up to 2018).
LEGACY2014 = (
    ProactiveTable(
        "主动公开情况",
        ("数量",),
        (
            "主动公开政府信息数（条）",
            "其中：主动公开规范性文件数（条）",
            "制发规范性文件总数（件）",
        ),
    ),
    ProactiveTable(
        "通过不同渠道和方式公开政府信息的情况",
        ("数量",),
        (
            "政府公报公开政府信息数（条）",
            "政府网站公开政府信息数（条）",
            "政务微博公开政府信息数（条）",
            "政务微信公开政府信息数（条）",
            "其他方式公开政府信息数（条）",
        ),
    ),
)

TABLES = {"gov2021": GOV2021, "gov2019": GOV2019, "legacy2014": LEGACY2014}


def proactive_tables(format_code: str) -> tuple[ProactiveTable, ...]:
    return TABLES[format_code]
