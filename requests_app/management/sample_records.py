"""Sample documents for the demo and the tests: small PDFs with a real text layer (the letters'
CJK font), holding what a review must find — a third party's name, a mainland ID number with
a valid check digit, a mobile number — and an internal page that is withheld whole."""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from requests_app.letters.render import _font
from requests_app.validation import mainland_id_check_digit

THIRD_PARTY = "李四"
MOBILE = "13912345678"


def sample_id_number() -> str:
    first17 = "52040219800101123"
    return first17 + mainland_id_check_digit(first17)


def sample_pdf(
    *,
    title: str = "关于城南棚户区改造项目征收补偿情况的说明",
    pages: int = 2,
    author: str = "内部起草人王五",
) -> bytes:
    """A PDF of ``pages`` A4 pages: page 1 names a third party with an ID and a mobile
    number, the last page (if more than one) is an internal discussion note."""
    font = _font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=True)  # the same bytes every time
    pdf.setAuthor(author)
    pdf.setTitle(title)
    width, height = A4
    for number in range(1, pages + 1):
        pdf.setFont(font, 16)
        pdf.drawString(72, height - 90, title if number == 1 else f"{title}（续{number - 1}）")
        pdf.setFont(font, 12)
        if number == 1:
            lines = [
                "一、项目概况：城南棚户区改造项目共涉及住户 126 户，已签订补偿协议 118 户。",
                "二、补偿标准：按照市人民政府批准的标准执行，货币补偿每平方米 6800 元。",
                f"三、被征收人{THIRD_PARTY}，身份证号 {sample_id_number()}，联系电话 {MOBILE}，",
                "    补偿金额 412,000 元，已于 2025 年 3 月 1 日支付。",
                "四、其余住户的补偿正在按程序办理。",
            ]
        elif number == pages:
            lines = [
                "内部讨论意见（过程性信息）：",
                "经办公会研究，拟对剩余 8 户另行协商，具体方案待定。",
            ]
        else:
            lines = [f"附表{number - 1}：补偿明细（汇总数据）。"]
        for row, line in enumerate(lines):
            pdf.drawString(72, height - 140 - row * 24, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
