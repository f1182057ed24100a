"""统计看板 in a real browser: the charts draw from the project's own ECharts, a bar clicked
opens the list of exactly the cases it counts, and each chart offers its SVG and PNG.

With ``E2E_SCREENSHOT_DIR=docs`` the page is saved as ``docs/admin-dashboard.png``.
"""

from __future__ import annotations

import os
from io import StringIO
from pathlib import Path

from django.core.management import call_command
from django.urls import reverse
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402, I001
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from reporting.dashboard import build_dashboard, today
from requests_app.models import Agency
from tests.test_browser_e2e import WAIT, Admin, browser, pytestmark  # noqa: F401

DEMO_PASSWORD = "gongkai-demo-2024"


def test_dashboard_chart_drills_down(browser, live_server, tmp_path):  # noqa: F811
    call_command("load_demo", stdout=StringIO(), stderr=StringIO())
    city = Agency.objects.get(code="anshun")
    board = build_dashboard(city, year=today().year)
    group = max(board.outcome_mix, key=lambda g: g["count"])
    assert group["count"] > 0

    admin = Admin(browser, live_server.url)
    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    admin.find("#id_username").send_keys("city-supervisor")
    admin.find("#id_password").send_keys(DEMO_PASSWORD)
    admin.click(admin.find("#login-form input[type=submit]"))
    browser.get(f"{live_server.url}{reverse('admin:reporting_dashboard')}")
    admin.find(".chart[data-chart=mix] svg")
    # Every chart drew and offers both downloads.
    charts = browser.find_elements(By.CSS_SELECTOR, ".chart[data-chart]")
    assert len(charts) == 5  # volume, on time, days, mix, handlers (a supervisor leads)
    for chart in charts:
        assert chart.find_elements(By.CSS_SELECTOR, "svg")
    assert len(browser.find_elements(By.CSS_SELECTOR, "button[data-download=svg]")) == 5
    assert len(browser.find_elements(By.CSS_SELECTOR, "button[data-download=png]")) == 5
    svg = browser.execute_script(
        "var el = document.querySelector('.chart[data-chart=volume]');"
        "return echarts.getInstanceByDom(el).renderToSVGString();"
    )
    assert svg.startswith("<svg")
    shots = os.environ.get("E2E_SCREENSHOT_DIR")
    if shots:
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(1400, height + 40)
        browser.save_screenshot(str(Path(shots) / "admin-dashboard.png"))

    # Click the outcome-mix bar of the biggest group: the list shows exactly its cases.
    index = [g["key"] for g in board.outcome_mix].index(group["key"])
    chart = browser.find_element(By.CSS_SELECTOR, ".chart[data-chart=mix]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", chart)
    x, y = browser.execute_script(
        "var el = document.querySelector('.chart[data-chart=mix]');"
        "return echarts.getInstanceByDom(el).convertToPixel({seriesIndex: 0}, [arguments[0] / 2,"
        " arguments[1]]);",
        group["count"],
        index,
    )
    rect = chart.rect
    browser.execute_script("window.e2eOldPage = true")
    ActionChains(browser).move_to_element_with_offset(
        chart, int(x - rect["width"] / 2), int(y - rect["height"] / 2)
    ).click().perform()
    WebDriverWait(browser, WAIT).until(
        lambda d: d.execute_script(
            "return window.e2eOldPage === undefined && document.readyState === 'complete'"
        )
    )
    assert f"group={group['key']}" in browser.current_url
    assert admin.find("#dashboard-count").text == str(group["count"])
    rows = browser.find_elements(By.CSS_SELECTOR, "#dashboard-records tbody tr")
    assert len(rows) == group["count"]


def test_workbench_item_opens_its_cases(browser, live_server):  # noqa: F811
    """The approver's workbench in a browser: each item's count is the rows of the list its
    title opens."""
    call_command("load_demo", stdout=StringIO(), stderr=StringIO())
    admin = Admin(browser, live_server.url)
    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    admin.find("#id_username").send_keys("office-approver")
    admin.find("#id_password").send_keys(DEMO_PASSWORD)
    admin.click(admin.find("#login-form input[type=submit]"))
    admin.find("#workbench")
    counts = {
        section.get_attribute("id"): int(
            section.find_element(By.CSS_SELECTOR, ".workbench-count").text
        )
        for section in browser.find_elements(By.CSS_SELECTOR, "#workbench section")
    }
    busy = [key for key, n in counts.items() if n]
    assert busy
    for key in busy:
        browser.get(f"{live_server.url}/admin/")
        admin.click(admin.find(f"#{key} h2 a"))
        rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
        assert len(rows) == counts[key], key
