"""Report output: json (the report JSON of docs/reporting.md), csv, xlsx and html.

The xlsx and html outputs lay the tables out as the official formats do — the three label
columns with merged section/group cells, the 申请人情况 header over 自然人 / 法人或其他组织
(five kinds) / 总计, and table 四's 行政复议 / 行政诉讼 blocks — from one *grid* description,
so the two stay identical.

Every exporter takes a *document*: the contract's JSON object (``format``, ``year``,
``agency``, ``include_descendants``, ``cutoff``, ``cells``), optionally with ``agency_name``
and ``sections`` (the office's text) — see :func:`document_from_result` and
:func:`document_from_report`.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
from dataclasses import dataclass

from django.utils import timezone

from .formats import FlatFormat, TableFormat, get_format
from .formats.base import TABLE3_COLUMN_LABELS, TABLE4_COLUMN_LABELS, TOTAL

OUTPUTS = ("json", "csv", "xlsx", "html")
CONTENT_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
}
CONTRACT_KEYS = ("format", "year", "agency", "include_descendants", "cutoff", "cells")
TABLE3_TITLE = "三、收到和处理政府信息公开申请情况"
TABLE4_TITLE = "四、政府信息公开行政复议、行政诉讼情况"
TABLE3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


def document_from_result(result, agency_name: str | None = None) -> dict:
    doc = result.as_json()
    doc["agency_name"] = agency_name or result.inputs.agency.name
    return doc


def document_from_report(report) -> dict:
    return {
        "format": report.format,
        "year": report.year,
        "agency": report.agency.code,
        "include_descendants": report.include_descendants,
        # Local time, as the engine writes it (the database hands back UTC).
        "cutoff": timezone.localtime(report.cutoff).isoformat(),
        "cells": report.cells,
        "agency_name": report.agency.name,
        "sections": {
            "一、总体情况": report.overview,
            "二、主动公开政府信息情况": report.proactive_text,
            "五、存在的主要问题及改进情况": report.problems_and_improvements,
            "六、其他需要报告的事项": report.other_matters
            + (f"\n本年度收取信息处理费 {report.fees_collected_yuan} 元。"),
        },
    }


def cutoff_label(cutoff: str) -> str:
    """The cut-off as a reader says it: ``2026年12月31日`` for the end of a day (the default,
    ``YEAR-12-31T23:59:59.999999+08:00``), with the minute otherwise (``2026年6月30日 18:00``).
    The JSON and CSV keep the exact ISO time for programs."""
    moment = timezone.localtime(dt.datetime.fromisoformat(cutoff))
    day = f"{moment.year}年{moment.month}月{moment.day}日"
    if moment.time() >= dt.time(23, 59, 59):
        return day
    return f"{day} {moment:%H:%M}"


def file_name(document: dict, output: str) -> str:
    """``annual-report-CODE-YEAR-FORMAT[-alone].EXT`` (ASCII: agency codes are slugs)."""
    scope = "" if document["include_descendants"] else "-alone"
    return (
        f"annual-report-{document['agency']}-{document['year']}-{document['format']}"
        f"{scope}.{output}"
    )


def export(document: dict, output: str) -> bytes:
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; choose one of {', '.join(OUTPUTS)}")
    return {"json": to_json, "csv": to_csv, "xlsx": to_xlsx, "html": to_html}[output](document)


def to_json(document: dict) -> bytes:
    contract = {key: document[key] for key in CONTRACT_KEYS}
    return (json.dumps(contract, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# --- csv: one line per cell -------------------------------------------------------------------


def to_csv(document: dict) -> bytes:
    """Long form, one cell per line: table,row,label,column,column_label,value (UTF-8, BOM)."""
    fmt = get_format(document["format"])
    cells = document["cells"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["table", "row", "label", "column", "column_label", "value"])
    if isinstance(fmt, TableFormat):
        for row in fmt.table3:
            for col in fmt.columns:
                writer.writerow(
                    [
                        "table3",
                        row.key,
                        row.label,
                        col,
                        TABLE3_COLUMN_LABELS[col],
                        cells["table3"][row.key][col],
                    ]
                )
        for block in fmt.table4:
            for col in fmt.table4_columns:
                writer.writerow(
                    [
                        "table4",
                        block.key,
                        block.label,
                        col,
                        TABLE4_COLUMN_LABELS[col],
                        cells["table4"][block.key][col],
                    ]
                )
    else:
        for row in fmt.rows:
            writer.writerow([fmt.code, row.key, row.label, TOTAL, "统计数", cells[row.key]])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- the official layout as a grid --------------------------------------------------------------


@dataclass(frozen=True)
class GridCell:
    row: int
    col: int
    text: str | int
    rowspan: int = 1
    colspan: int = 1
    header: bool = False
    align: str = "center"
    # For a number: the (row or block key, column) it is, so a page can link it to its cases.
    cell: tuple[str, str] | None = None


@dataclass
class Grid:
    title: str
    width: int
    cells: list[GridCell]

    @property
    def height(self) -> int:
        return max(c.row + c.rowspan for c in self.cells)


def _runs(values: list[str]) -> list[tuple[int, int, str]]:
    """(start, length, value) for each run of equal consecutive values."""
    runs: list[tuple[int, int, str]] = []
    for i, value in enumerate(values):
        if runs and runs[-1][2] == value:
            start, length, _ = runs[-1]
            runs[-1] = (start, length + 1, value)
        else:
            runs.append((i, 1, value))
    return runs


def table3_grid(fmt: TableFormat, table3: dict) -> Grid:
    cols = list(fmt.columns)
    org_cols = cols[1:-1]
    cells = [
        GridCell(0, 0, TABLE3_NOTE, rowspan=3, colspan=3, header=True),
        GridCell(0, 3, "申请人情况", colspan=len(cols), header=True),
        GridCell(1, 3, TABLE3_COLUMN_LABELS[cols[0]], rowspan=2, header=True),
        GridCell(1, 4, "法人或其他组织", colspan=len(org_cols), header=True),
        GridCell(1, 3 + len(cols) - 1, TABLE3_COLUMN_LABELS[TOTAL], rowspan=2, header=True),
    ]
    cells += [
        GridCell(2, 4 + i, TABLE3_COLUMN_LABELS[c], header=True) for i, c in enumerate(org_cols)
    ]
    top = 3
    rows = list(fmt.table3)
    for start, length, section in _runs([r.section for r in rows]):
        block = rows[start : start + length]
        if length == 1 and not block[0].group:
            cells.append(GridCell(top + start, 0, section, colspan=3, header=True, align="left"))
            continue
        cells.append(GridCell(top + start, 0, section, rowspan=length, header=True))
        for g_start, g_len, group in _runs([r.group for r in block]):
            items = block[g_start : g_start + g_len]
            at = top + start + g_start
            if g_len == 1 and not items[0].item:
                cells.append(GridCell(at, 1, group, colspan=2, header=True, align="left"))
            else:
                cells.append(GridCell(at, 1, group, rowspan=g_len, header=True))
                for i, r in enumerate(items):
                    cells.append(GridCell(at + i, 2, r.item, header=True, align="left"))
    for i, row in enumerate(rows):
        for j, col in enumerate(cols):
            cells.append(GridCell(top + i, 3 + j, table3[row.key][col], cell=(row.key, col)))
    return Grid(TABLE3_TITLE, 3 + len(cols), cells)


def table4_grid(fmt: TableFormat, table4: dict) -> Grid:
    width = len(fmt.table4_columns)
    cells: list[GridCell] = []
    col = 0
    for start, length, section in _runs([b.section for b in fmt.table4]):
        blocks = fmt.table4[start : start + length]
        cells.append(
            GridCell(
                0,
                col,
                section,
                colspan=width * length,
                header=True,
                rowspan=1 if blocks[0].group else 2,
            )
        )
        for i, block in enumerate(blocks):
            if block.group:
                cells.append(GridCell(1, col + i * width, block.group, colspan=width, header=True))
        col += width * length
    for b, block in enumerate(fmt.table4):
        for j, key in enumerate(fmt.table4_columns):
            cells.append(GridCell(2, b * width + j, TABLE4_COLUMN_LABELS[key], header=True))
            cells.append(GridCell(3, b * width + j, table4[block.key][key], cell=(block.key, key)))
    return Grid(TABLE4_TITLE, width * len(fmt.table4), cells)


def flat_grid(fmt: FlatFormat, cells_in: dict) -> Grid:
    cells = [
        GridCell(0, 0, "统计指标", header=True),
        GridCell(0, 1, "单位", header=True),
        GridCell(0, 2, "统计数", header=True),
    ]
    for i, row in enumerate(fmt.rows, start=1):
        indent = "    " if row.item else ("  " if row.group else "")
        label = row.item.strip() if row.item else (row.group or row.section)
        if row.item.startswith("    "):
            indent = "        "
        cells.append(GridCell(i, 0, indent + label, header=True, align="left"))
        cells.append(GridCell(i, 1, row.unit))
        cells.append(GridCell(i, 2, cells_in[row.key], cell=(row.key, TOTAL)))
    return Grid(fmt.title, 3, cells)


def grids(document: dict) -> list[Grid]:
    fmt = get_format(document["format"])
    cells = document["cells"]
    if isinstance(fmt, TableFormat):
        return [table3_grid(fmt, cells["table3"]), table4_grid(fmt, cells["table4"])]
    return [flat_grid(fmt, cells)]


def _heading(document: dict) -> str:
    name = document.get("agency_name") or document["agency"]
    scope = "（含下级机关）" if document["include_descendants"] else "（本机关）"
    return f"{name}{scope}{document['year']}年度政府信息公开工作年度报告"


# --- xlsx ----------------------------------------------------------------------------------------


def to_xlsx(document: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = str(document["year"])
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.cell(1, 1, _heading(document)).font = Font(bold=True, size=14)
    ws.cell(
        2,
        1,
        f"统计截止时间：{cutoff_label(document['cutoff'])}"
        f"　格式：{get_format(document['format']).source}",
    )
    top = 4
    widest = 0
    for grid in grids(document):
        ws.cell(top, 1, grid.title).font = Font(bold=True)
        origin = top + 1
        for c in grid.cells:
            cell = ws.cell(origin + c.row, 1 + c.col, c.text)
            cell.alignment = Alignment(horizontal=c.align, vertical="center", wrap_text=True)
            if c.header:
                cell.font = Font(bold=c.row < 3 and c.align == "center")
            for r in range(c.rowspan):
                for k in range(c.colspan):
                    ws.cell(origin + c.row + r, 1 + c.col + k).border = border
            if c.rowspan > 1 or c.colspan > 1:
                ws.merge_cells(
                    start_row=origin + c.row,
                    start_column=1 + c.col,
                    end_row=origin + c.row + c.rowspan - 1,
                    end_column=1 + c.col + c.colspan - 1,
                )
        widest = max(widest, grid.width)
        top = origin + grid.height + 1
    for col in range(1, widest + 1):
        ws.column_dimensions[get_column_letter(col)].width = 14
    if get_format(document["format"]).kind == "flat":
        ws.column_dimensions["A"].width = 48
    else:
        ws.column_dimensions["C"].width = 36
    for title, text in (document.get("sections") or {}).items():
        ws.cell(top, 1, title).font = Font(bold=True)
        ws.cell(top + 1, 1, text)
        top += 3
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# --- html ----------------------------------------------------------------------------------------


def grid_html(grid: Grid, link=None) -> str:
    """The grid as an HTML table; ``link(key, column)``, when given, returns the URL a number
    links to (or ``None`` for none)."""
    by_row: dict[int, list[GridCell]] = {}
    for c in grid.cells:
        by_row.setdefault(c.row, []).append(c)
    lines = [f'<table class="report-table"><caption>{html.escape(grid.title)}</caption>']
    for r in range(grid.height):
        lines.append("<tr>")
        for c in sorted(by_row.get(r, []), key=lambda c: c.col):
            tag = "th" if c.header else "td"
            span = ""
            if c.rowspan > 1:
                span += f' rowspan="{c.rowspan}"'
            if c.colspan > 1:
                span += f' colspan="{c.colspan}"'
            # A class, not a style attribute: the Content-Security-Policy allows no inline style.
            style = f' class="align-{c.align}"' if c.align != "center" else ""
            text = html.escape(str(c.text))
            url = link(*c.cell) if link is not None and c.cell is not None else None
            if url:
                text = f'<a href="{html.escape(url)}">{text}</a>'
            lines.append(f"<{tag}{span}{style}>{text}</{tag}>")
        lines.append("</tr>")
    lines.append("</table>")
    return "\n".join(lines)


STYLE = """
body { font-family: "SimSun", "Songti SC", serif; margin: 2em; }
table.report-table { border-collapse: collapse; margin: 1em 0; }
table.report-table th, table.report-table td { border: 1px solid #000; padding: 4px 8px;
  text-align: center; font-weight: normal; }
table.report-table td { min-width: 3em; }
caption { font-weight: bold; text-align: left; padding: 0.5em 0; }
table.report-table .align-left { text-align: left; }
table.report-table .align-right { text-align: right; }
"""


def tables_html(document: dict, link=None) -> str:
    return "\n".join(grid_html(g, link) for g in grids(document))


def to_html(document: dict) -> bytes:
    heading = html.escape(_heading(document))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{heading}</title><style>{STYLE}</style></head><body>",
        f"<h1>{heading}</h1>",
        f"<p>统计截止时间：{html.escape(cutoff_label(document['cutoff']))}；格式："
        f"{html.escape(get_format(document['format']).source)}</p>",
        tables_html(document),
    ]
    for title, text in (document.get("sections") or {}).items():
        parts.append(f"<h2>{html.escape(title)}</h2><p>{html.escape(text)}</p>")
    parts.append("</body></html>")
    return ("\n".join(parts) + "\n").encode("utf-8")
