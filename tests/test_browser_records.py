"""The review screen in a real browser (issue 14): a handler uploads a record on the case's
records page, finds and accepts the suggested personal data, draws a box on the page image
with the mouse and chooses its basis, withholds the second page, and builds the release copy.

Headless Chromium as in ``test_browser_e2e.py`` (its fixture and page helpers). The review
screen is saved as a screenshot: in the test's temporary folder, or, with
``E2E_SCREENSHOT_DIR=docs``, as ``docs/e2e-review-screen.png``.
"""

from __future__ import annotations

import os

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from requests_app.choices import CaseState, PageDecision
from requests_app.management.sample_records import THIRD_PARTY, sample_pdf
from requests_app.models import Record, RecordPage, Region, Release
from tests.factories import case_in_state

# The fixture, and the marks that skip the test where Chromium is missing.
from tests.test_browser_e2e import ROOT, Admin, browser, pytestmark  # noqa: F401


@pytest.fixture(autouse=True)
def records_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "records": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "records")},
        },
    }


def test_a_handler_reviews_a_record_in_the_browser(browser, live_server, tmp_path, office, handler):  # noqa: F811
    shots = (
        ROOT / os.environ["E2E_SCREENSHOT_DIR"]
        if os.environ.get("E2E_SCREENSHOT_DIR")
        else tmp_path / "shots"
    )
    case = case_in_state(CaseState.PROCESSING, agency=office, actor=handler)
    pdf = tmp_path / "征收补偿情况说明.pdf"
    pdf.write_bytes(sample_pdf())
    admin = Admin(browser, live_server.url)
    admin.login(handler)
    admin.open_case(case.tracking_number)
    admin.click_link("文件记录与审查")

    # Upload.
    admin.find("#upload-form input[name='file']").send_keys(str(pdf))
    admin.type("title", "征收补偿情况说明")
    admin.type("document_number", "安住建函〔2025〕18号")
    admin.click(admin.find("#upload-form button[type=submit]"))
    assert "已完成“上传文件”" in admin.find(".messagelist .success").text
    record = Record.objects.get(case=case)
    assert record.page_count == 2
    admin.click(admin.find("a.review-link"))

    # The suggested personal data: find, then accept each.
    admin.type("names", THIRD_PARTY)
    admin.click(admin.find("#suggest-form button[type=submit]"))
    while browser.find_elements(By.CSS_SELECTOR, "li.suggestion"):
        admin.click(admin.find("li.suggestion form button[type=submit]"))  # 采纳, 个人隐私
    assert Region.objects.filter(page__record=record).count() >= 3

    # Draw a box on the first page with the mouse, choose its basis, save.
    canvas = admin.find("#page-1 .page-canvas")
    image = admin.find("#page-1 .page-canvas img")
    admin.wait.until(lambda d: d.execute_script("return arguments[0].naturalWidth > 0", image))
    width = canvas.size["width"]
    ActionChains(browser).move_to_element_with_offset(
        canvas, -width // 2 + 60, -canvas.size["height"] // 2 + 80
    ).click_and_hold().move_by_offset(200, 30).release().perform()
    form = admin.find("#region-form-0")
    assert float(form.find_element(By.NAME, "x1").get_attribute("value")) > float(
        form.find_element(By.NAME, "x0").get_attribute("value")
    )
    from selenium.webdriver.support.ui import Select

    Select(form.find_element(By.NAME, "basis")).select_by_value("withheld_commercial_secret")
    form.find_element(By.NAME, "reason").send_keys("合同金额涉及商业秘密")
    admin.click(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert "已完成“标注不予公开区域”" in admin.find(".messagelist .success").text
    drawn = Region.objects.get(page__record=record, basis="withheld_commercial_secret")
    # 200×30 pixels of a 600-pixel-wide image of a 595-point page: about 198×30 points.
    points_per_pixel = 595.28 / width
    assert abs((drawn.x1 - drawn.x0) - 200 * points_per_pixel) < 3
    assert abs((drawn.y1 - drawn.y0) - 30 * points_per_pixel) < 3
    boxes = browser.find_elements(By.CSS_SELECTOR, "#page-1 .page-canvas .region")
    assert len(boxes) == Region.objects.filter(page__record=record, page__index=0).count()

    # Withhold the second page whole.
    Select(admin.find("select[name='p1-decision']")).select_by_value("withhold")
    Select(admin.find("select[name='p1-basis']")).select_by_value("withheld_process_info")
    admin.type("p1-reason", "内部讨论意见")
    admin.click(admin.find("#page-2 .decision-form button[type=submit]"))
    second = RecordPage.objects.get(record=record, index=1)
    assert second.decision == PageDecision.WITHHOLD
    admin.screenshot(shots / "e2e-review-screen.png")

    # Build the release copy on the records page.
    admin.click_link("返回文件记录")
    admin.click(admin.find("#build-release"))
    assert "已完成“生成公开文本”" in admin.find(".messagelist .success").text
    assert Release.objects.filter(case=case).count() == 1
    assert "第十五条 个人隐私" in admin.find("#review-summary").text
    admin.screenshot(shots / "e2e-records-page.png")
    # The case's history says each step in Chinese.
    admin.click_link("返回申请")
    history = admin.find("#case-history").text
    for label in ("添加文件", "采纳遮盖建议", "标注不予公开区域", "页面审查决定", "生成公开文本"):
        assert label in history, label
    assert "第十六条第二款 过程性信息" in history
