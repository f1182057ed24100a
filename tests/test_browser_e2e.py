"""A real browser through the caseworkers' admin (issue 6, item 8).

Headless Chromium (Debian's ``chromium`` and ``chromium-driver``, installed by ``.ci/run``)
drives the admin served by pytest-django's ``live_server`` through a counter application's
whole life, clicking the page's own buttons and filling its forms as a caseworker would:

registrar: 登记当面/书面申请 → handler: 告知补正, 收到补正 → approver: 延期答复 →
handler: 提交审核 → approver: 审核通过, 送达答复 → approver: 生成年度报告, open it.

After each step the case page must show the new state and the step's history row. The case
page at the end and the report page are saved as screenshots: in the test's temporary
folder, or, with ``E2E_SCREENSHOT_DIR=docs``, as ``docs/e2e-case-page.png`` and
``docs/e2e-report-page.png`` (that is how the checked-in images are made). Explicit waits
only; no sleeps.
"""

from __future__ import annotations

import os
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from reporting.models import AnnualReport
from requests_app.calendars import calendar_for_agency
from requests_app.choices import CaseState, Role
from requests_app.models import Case
from tests.factories import AgencyFactory, caseworker, valid_id_number

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "pass-123456"  # tests.factories.UserFactory
WAIT = 15  # seconds, the longest any single page may take

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the dev extras")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
        reason=(
            f"needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}); "
            "`apt-get install -y chromium chromium-driver` (.ci/run does it)"
        ),
    ),
]

from selenium.common.exceptions import TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--lang=zh-CN",
        "--window-size=1400,1000",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(
        service=Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log")),
        options=options,
    )
    driver.set_page_load_timeout(WAIT)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


class Admin:
    """The caseworkers' admin as a user sees it: pages, links, buttons, forms."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url
        self.wait = WebDriverWait(driver, WAIT)

    # --- navigation ---------------------------------------------------------------------------
    def find(self, css: str):
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def click(self, element) -> None:
        """Click something that loads a new page, and wait until the new page is there.

        The old page is marked in its window; the new page has no mark. (Waiting for the old
        ``<html>`` element to go stale raced with the navigation: ChromeDriver sometimes
        answers "Node with given id does not belong to the document" instead of "stale".)
        Errors while the page changes under the check are retried."""
        self.driver.execute_script("window.e2eOldPage = true")
        element.click()
        WebDriverWait(self.driver, WAIT, ignored_exceptions=(WebDriverException,)).until(
            lambda d: d.execute_script(
                "return window.e2eOldPage === undefined && document.readyState === 'complete'"
            )
        )

    def click_link(self, text: str) -> None:
        self.click(self.wait.until(EC.element_to_be_clickable((By.LINK_TEXT, text))))

    def login(self, user) -> None:
        self.driver.delete_all_cookies()
        self.driver.get(f"{self.base_url}/admin/login/?next=/admin/")
        self.find("#id_username").send_keys(user.username)
        self.find("#id_password").send_keys(PASSWORD)
        self.click(self.find("#login-form input[type=submit]"))
        user_tools = self.find("#user-tools")
        assert (user.get_full_name() or user.username) in user_tools.text

    def open_case(self, tracking_number: str) -> None:
        """From the admin index to the case page, through the list and its search box."""
        self.driver.get(f"{self.base_url}/admin/")
        self.click(self.find("a[href$='/admin/requests_app/case/']"))
        box = self.find("#searchbar")
        box.send_keys(tracking_number)
        self.click(self.find("#changelist-search input[type=submit]"))
        self.click_link(tracking_number)
        assert tracking_number in self.find("#content").text

    # --- the case page ------------------------------------------------------------------------
    def actions(self) -> list[str]:
        return [
            a.get_attribute("data-action")
            for a in self.driver.find_elements(By.CSS_SELECTOR, "#case-actions a.case-action")
        ]

    def act(self, action: str, fill=None) -> None:
        """Click an action button, fill its form, confirm; back on the case page with success."""
        self.click(self.find(f"#case-actions a.case-action[data-action='{action}']"))
        assert f"/act/{action}/" in self.driver.current_url
        if fill:
            fill(self)
        self.click(self.find("#content-main form .submit-row input[type=submit]"))
        errors = self.driver.find_elements(By.CSS_SELECTOR, ".errornote, .errorlist, .error")
        assert not errors, [e.text for e in errors]
        assert self.driver.current_url.endswith("/change/"), self.driver.current_url
        assert "已完成" in self.find(".messagelist .success").text

    def type(self, name: str, text: str, *, clear: bool = False) -> None:
        field = self.find(f"[name='{name}']")
        if clear:
            field.clear()
        field.send_keys(text)

    def choose(self, name: str, value: str) -> None:
        Select(self.find(f"select[name='{name}']")).select_by_value(value)

    def state(self) -> str:
        return self.find(".case-summary .case-state").text

    def history_row(self, kind: str):
        """The last history row of an event kind (it is the newest: rows are in time order)."""
        rows = self.driver.find_elements(By.CSS_SELECTOR, f"#case-history tr.event-{kind}")
        assert rows, f"no history row {kind!r} in: {self.find('#case-history').text}"
        return rows[-1]

    def assert_step(self, state: CaseState, kind: str, *texts: str) -> None:
        assert self.state() == state.label
        row = self.history_row(kind)
        for text in texts:
            assert text in row.text, (text, row.text)

    # --- screenshots --------------------------------------------------------------------------
    def screenshot(self, path: Path, width: int = 1400) -> None:
        """The whole page: the window made as tall as the page, then one screenshot."""
        height = self.driver.execute_script(
            "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
        )
        self.driver.set_window_size(width, min(height + 150, 16000))
        self.driver.execute_script("window.scrollTo(0, 0)")
        path.parent.mkdir(parents=True, exist_ok=True)
        assert self.driver.save_screenshot(str(path)), path
        self.driver.set_window_size(width, 1000)


def test_a_counter_application_through_its_whole_life_in_a_browser(browser, live_server, tmp_path):
    shots = (
        ROOT / os.environ["E2E_SCREENSHOT_DIR"]
        if os.environ.get("E2E_SCREENSHOT_DIR")
        else tmp_path
    )
    year = timezone.localdate().year
    # The working-day calendar as an agency would have it (the clock warns of a missing year).
    call_command("load_calendar", "--years", str(year), str(year + 1), stdout=StringIO())
    office = AgencyFactory(code="city-office", name="安顺市人民政府办公室", kind="office")
    registrar = caseworker(office, Role.REGISTRAR)
    handler = caseworker(office, Role.HANDLER)
    approver = caseworker(office, Role.APPROVER)
    for user, name in ((registrar, "李登记"), (handler, "王承办"), (approver, "赵审核")):
        user.first_name = name
        user.save(update_fields=["first_name"])

    ui = Admin(browser, live_server.url)

    # 1. The registrar enters an application handed in at the counter.
    ui.login(registrar)
    ui.click(ui.find("a[href$='/admin/requests_app/case/']"))
    ui.click_link("登记当面/书面申请")
    assert Select(ui.find("select[name='agency']")).first_selected_option.text == office.name
    ui.choose("channel", "in_person")
    ui.choose("applicant_type", "natural_person")
    ui.type("applicant_name", "张三")
    ui.choose("id_type", "mainland_id")
    ui.type("id_number", valid_id_number(7))
    ui.type("phone", "13800138000")
    ui.type("address", "贵州省安顺市西秀区南华路2号")
    ui.type("postal_code", "561000")
    ui.type("description", "申请公开2024年本机关“三公”经费预算执行情况。")
    ui.choose("information_form", "paper")
    ui.choose("delivery_method", "collect")
    ui.click(ui.find("#content-main form .submit-row input[type=submit]"))
    assert "已登记申请" in ui.find(".messagelist .success").text
    receipt = ui.find(".case-receipt")
    tracking_number = receipt.find_elements(By.CSS_SELECTOR, ".receipt-code")[0].text
    assert tracking_number and "查询码" in receipt.text
    ui.assert_step(CaseState.REGISTERED, "register", "李登记")
    ui.assert_step(CaseState.REGISTERED, "submitted", "当面")
    case = Case.objects.get(tracking_number=tracking_number)
    assert case.state == CaseState.REGISTERED and case.received_on == timezone.localdate()

    # 2. The handler asks for 补正, all items at once (Art 30), then records the reply.
    ui.login(handler)
    ui.open_case(tracking_number)
    assert "request_supplement" in ui.actions() and "extend" not in ui.actions()
    items = "请提供所需信息的文件名称或文号，并说明所需年度。"
    ui.act(
        "request_supplement",
        lambda p: (p.type("items", items), p.type("period_days", "10", clear=True)),
    )
    ui.assert_step(CaseState.AWAITING_SUPPLEMENT, "request_supplement", items, "王承办")

    ui.act("receive_supplement")
    ui.assert_step(CaseState.PROCESSING, "receive_supplement", "待补正 → 办理中")
    assert "extend" not in ui.actions()  # Art 33 ¶2: only the office head extends

    # 3. The approver extends the reply deadline (once, with a reason).
    ui.login(approver)
    ui.open_case(tracking_number)
    due_before = Case.objects.get(pk=case.pk).reply_due_on
    reason = "需要调取多个科室的档案，无法在法定期限内答复。"
    ui.act("extend", lambda p: (p.type("days", "15", clear=True), p.type("reason", reason)))
    ui.assert_step(CaseState.PROCESSING, "extend", "15", reason, "赵审核")
    case.refresh_from_db()
    # Art 33 ¶2: the extension adds its working days to the current deadline.
    assert case.is_extended
    assert case.reply_due_on == calendar_for_agency(case.agency).add_working_days(due_before, 15)
    due = case.reply_due_on
    assert f"答复期限：{due.year}年{due.month}月{due.day}日" in ui.find(".case-summary").text
    assert "extend" not in ui.actions()  # once only
    # The clock's own row: which deadline, from, to, in that order on every database.
    moved = ui.history_row("due_changed").text
    assert moved.index("期限：") < moved.index("原日期：") < moved.index("新日期："), moved

    # 4. The handler drafts the reply and submits it for approval.
    ui.login(handler)
    ui.open_case(tracking_number)
    ui.act("submit_for_approval", lambda p: p.choose("outcome", "disclosed"))
    ui.assert_step(CaseState.PENDING_APPROVAL, "submit_for_approval", "予以公开")
    assert "approve" not in ui.actions()

    # 5. The approver signs it off and serves the reply.
    ui.login(approver)
    ui.open_case(tracking_number)
    ui.act("approve", lambda p: p.type("comment", "同意。"))
    ui.assert_step(CaseState.APPROVED, "approve", "待审核 → 已审核待送达", "赵审核")
    ui.act("serve_reply", lambda p: p.choose("service_method", "direct"))
    ui.assert_step(CaseState.REPLIED, "serve_reply", "已审核待送达 → 已答复", "直接送达")

    case.refresh_from_db()
    assert case.state == CaseState.REPLIED and case.outcome == "disclosed"
    assert case.concluded_on == timezone.localdate()
    kinds = list(case.events.order_by("effective_at", "pk").values_list("kind", flat=True))
    steps = [k for k in kinds if k not in ("due_changed", "assign")]
    assert steps == [
        "submitted",
        "register",
        "request_supplement",
        "receive_supplement",
        "extend",
        "submit_for_approval",
        "approve",
        "serve_reply",
    ], kinds
    # Every stored event is a row on the page, in the same order.
    rows = browser.find_elements(By.CSS_SELECTOR, "#case-history tbody tr")
    assert [r.get_attribute("class") for r in rows] == [f"event-{k}" for k in kinds]
    ui.screenshot(shots / "e2e-case-page.png")

    # 6. The annual report for this year: generate it in the report admin, then open it.
    ui.driver.get(f"{live_server.url}/admin/")
    ui.click(ui.find("a[href$='/admin/reporting/annualreport/']"))
    ui.click_link("生成年度报告")
    ui.type("year", str(year), clear=True)
    assert Select(ui.find("select[name='agency']")).first_selected_option.text.strip() == (
        office.name
    )
    ui.click(ui.find("#content-main form .submit-row input[type=submit]"))
    assert "已生成" in ui.find(".messagelist .success").text
    report = AnnualReport.objects.get(agency=office, year=year)
    assert report.cells, "the report has no cells"

    ui.driver.get(f"{live_server.url}/admin/reporting/annualreport/")
    ui.click(ui.find(f"#result_list a[href$='/{report.pk}/change/']"))
    assert str(year) in ui.find(".report-summary").text
    tables = ui.find("#report-tables")
    assert tables.find_elements(By.TAG_NAME, "table"), tables.text
    # The case counts as new (一) and as concluded 予以公开: cells with 1 link to it.
    ones = [
        a
        for a in tables.find_elements(By.CSS_SELECTOR, "a")
        if a.text.strip() == "1" and "/cell/" in (a.get_attribute("href") or "")
    ]
    assert ones, tables.text
    try:
        ui.find("#report-checks")
    except TimeoutException:  # pragma: no cover - a message that says what was missing
        pytest.fail("the report page has no checks section")
    ui.screenshot(shots / "e2e-report-page.png")

    # One of those numbers opens the case counted in it.
    ui.click(ones[0])
    assert tracking_number in ui.find("#content-main").text
