"""The applicants' pages in a real browser, at phone width (390 px): accessibility (axe-core) on
every public page, the form with the keyboard alone, and the whole journey:

apply with the identity document → a caseworker asks for 补正 in the admin → the applicant
answers online → the record is reviewed and the reply (部分公开) drafted, approved and served
in the admin → the applicant sees it and downloads the letter and the released record.

Headless Chromium as in ``tests/test_browser_e2e.py`` (whose browser fixture and admin helper
this reuses). axe-core comes from npm (``package.json``; ``make test`` installs it into
``node_modules/``); without it the accessibility test is skipped and says why. With
``E2E_SCREENSHOT_DIR=docs`` the pages are saved as ``docs/portal-*.png``.
"""

from __future__ import annotations

import os
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from requests_app.choices import CaseState, Role
from requests_app.models import Case, CaseEvent, EventKind
from tests.factories import AgencyFactory, caseworker, valid_id_number
from tests.test_browser_e2e import CHROMEDRIVER, CHROMIUM, ROOT, WAIT, Admin, browser  # noqa: F401

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the dev extras")

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE_WIDTH = 390
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
        reason=f"needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER})",
    ),
]


class Portal(Admin):
    """The applicants' pages as a person on a phone sees them."""

    def go(self, path: str) -> None:
        self.driver.get(f"{self.base_url}{path}")

    def submit(self, css: str = "main form button[type=submit].primary") -> None:
        self.click(self.find(css))

    def axe(self) -> list[dict]:
        """The serious and critical violations axe-core finds on the current page."""
        self.driver.execute_script(AXE.read_text())
        result = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done({violations: r.violations, passes: r.passes.length}))"
            ".catch(e => done({violations: [{id: 'axe-error', impact: 'critical',"
            " help: String(e), nodes: []}], passes: 0}));"
        )
        assert result["passes"] > 10, result  # axe ran its rules on this page
        violations = result["violations"]
        return [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n.get("target") for n in v.get("nodes", [])][:5],
            }
            for v in violations
            if v.get("impact") in ("serious", "critical")
        ]

    def shot(self, name: str, folder: Path) -> None:
        self.screenshot(folder / f"portal-{name}.png", width=PHONE_WIDTH)

    def fetch(self, url: str) -> dict:
        """GET ``url`` from the page (same origin, with its session): status, type, size."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0]).then(async r => { const b = new Uint8Array(await r.arrayBuffer());"
            " done({status: r.status, type: r.headers.get('content-type'), size: b.length,"
            " head: String.fromCharCode(...b.slice(0, 5))}); });",
            url,
        )


@pytest.fixture
def portal(browser, live_server):  # noqa: F811
    browser.set_window_size(PHONE_WIDTH, 900)
    browser.set_script_timeout(WAIT)
    cache.clear()
    return Portal(browser, live_server.url)


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = os.environ.get("E2E_SCREENSHOT_DIR")
    return ROOT / folder if folder else tmp_path


@pytest.fixture
def office(db):
    year = __import__("django.utils.timezone").utils.timezone.localdate().year
    call_command("load_calendar", "--years", str(year), str(year + 1), stdout=StringIO())
    city = AgencyFactory(code="city", name="安顺市人民政府", kind="government")
    return AgencyFactory(
        code="city-office",
        name="安顺市人民政府办公室",
        kind="office",
        parent=city,
        office_name="安顺市人民政府办公室政务公开科",
        email="gongkai@example.gov.cn",
        office_hours="工作日 9:00–12:00，14:00–17:30",
        not_handled="信访、投诉、举报事项\n户籍、婚姻登记档案查询",
    )


APPLICANT = {
    "applicant_name": "张三",
    "id_number": valid_id_number(7),
    "phone": "13800138000",
    "email": "zhangsan@example.com",
    "address": "贵州省安顺市西秀区南华路2号",
    "postal_code": "561000",
    "description": "申请公开2024年本机关“三公”经费预算执行情况。",
    "document_title": "2024年部门预算公开说明",
}


def _fill_application(portal: Portal) -> None:
    from selenium.webdriver.support.ui import Select

    Select(portal.find("select[name='applicant_type']")).select_by_value("natural_person")
    Select(portal.find("select[name='id_type']")).select_by_value("mainland_id")
    for name, value in APPLICANT.items():
        portal.type(name, value)
    Select(portal.find("select[name='information_form']")).select_by_value("electronic")
    Select(portal.find("select[name='delivery_method']")).select_by_value("email")


def test_every_public_page_passes_axe_at_phone_width(portal, office, shots):
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed ({AXE}): `npm ci` (make test does it)")
    checked: dict[str, list] = {}

    def check(name: str) -> None:
        checked[name] = portal.axe()
        portal.shot(name, shots)

    portal.go("/")
    check("agencies")
    portal.go(f"/agencies/{office.code}/")
    check("guide")
    portal.go(f"/agencies/{office.code}/apply/")
    check("apply")
    portal.submit()  # empty: every required field says so
    assert portal.find(".error-summary")
    check("apply-errors")
    _fill_application(portal)
    portal.submit()
    assert "核对申请" in portal.find("h1").text
    check("confirm")
    portal.submit("button[value=confirm]")
    check("submitted")
    number = portal.find(".codes strong.code").text
    code = portal.driver.find_elements(By.CSS_SELECTOR, ".codes strong.code")[1].text
    portal.go("/track/")
    check("track")
    portal.type("tracking_number", number)
    portal.type("access_code", "WRONGCODE1")
    portal.submit()
    assert "未找到该申请" in portal.find(".error-summary").text
    assert portal.find("img.captcha")
    check("track-wrong-code")
    portal.type("tracking_number", number, clear=True)
    portal.type("access_code", code)
    portal.type("captcha_1", "PASSED")
    portal.submit()
    check("case")
    bad = {name: v for name, v in checked.items() if v}
    assert not bad, bad


def test_the_whole_form_works_with_the_keyboard_alone(portal, office):
    portal.go(f"/agencies/{office.code}/apply/")
    body = portal.find("body")
    body.send_keys(Keys.TAB)
    assert portal.driver.switch_to.active_element.text == "跳到正文"

    def focused():
        return portal.driver.switch_to.active_element

    def press(key) -> None:
        ActionChains(portal.driver).send_keys(key).perform()

    def tab_to(name: str) -> None:
        for _ in range(40):
            if focused().get_attribute("name") == name:
                return
            press(Keys.TAB)
        raise AssertionError(f"Tab never reached {name}")

    def choose(name: str, downs: int) -> None:
        tab_to(name)
        for _ in range(downs):
            press(Keys.ARROW_DOWN)

    choose("applicant_type", 1)  # 自然人
    tab_to("applicant_name")
    focused().send_keys(APPLICANT["applicant_name"])
    choose("id_type", 1)  # 居民身份证
    for name in ("id_number", "phone", "email", "address", "postal_code"):
        tab_to(name)
        focused().send_keys(APPLICANT[name])
    tab_to("sms_opt_in")
    press(Keys.SPACE)
    tab_to("description")
    focused().send_keys(APPLICANT["description"])
    choose("information_form", 2)  # 电子文档
    choose("delivery_method", 2)  # 电子邮件
    press(Keys.TAB)
    assert focused().text == "下一步：核对申请"
    portal.driver.execute_script("window.e2eOldPage = true")
    press(Keys.ENTER)
    WebDriverWait(portal.driver, WAIT).until(
        lambda d: d.execute_script("return window.e2eOldPage === undefined")
    )
    assert "核对申请" in portal.find("h1").text, portal.find("main").text
    confirm = portal.find("button[value=confirm]")
    for _ in range(80):
        if focused() == confirm:
            break
        press(Keys.TAB)
    portal.driver.execute_script("window.e2eOldPage = true")
    press(Keys.ENTER)
    WebDriverWait(portal.driver, WAIT).until(
        lambda d: d.execute_script("return window.e2eOldPage === undefined")
    )
    assert "申请已提交" in portal.find("h1").text
    case = Case.objects.get()
    assert (case.applicant_type, case.id_type, case.information_form, case.delivery_method) == (
        "natural_person",
        "mainland_id",
        "electronic",
        "email",
    )
    assert case.sms_opt_in is True


@pytest.fixture
def records_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "records": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "records")},
        },
    }


def _release(case, handler) -> None:
    """The handler's review of one record, as the review screen does it (its own browser
    test drives that screen): personal data withheld, an internal page withheld, the
    release copy built."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app.choices import PageDecision, WithholdBasis
    from requests_app.management.sample_records import THIRD_PARTY, sample_pdf
    from requests_app.services import records as rec

    record = rec.record_upload(
        case=case,
        actor=handler,
        upload=SimpleUploadedFile("说明.pdf", sample_pdf()),
        title="“三公”经费预算执行情况说明",
    )
    for suggestion in rec.suggestions_find(record=record, actor=handler, names=[THIRD_PARTY]):
        rec.suggestion_accept(
            suggestion=suggestion, actor=handler, basis=WithholdBasis.PERSONAL_PRIVACY
        )
    rec.page_decide(
        page=record.pages.order_by("-index").first(),
        actor=handler,
        decision=PageDecision.WITHHOLD,
        basis=WithholdBasis.PROCESS_INFO,
        reason="内部讨论意见",
    )
    rec.release_build(case=case, actor=handler)


def test_the_journey_apply_supplement_online_reply_download(
    portal, office, shots, records_root, tmp_path
):
    from tests.test_portal import PNG

    registrar = caseworker(office, Role.REGISTRAR)
    handler = caseworker(office, Role.HANDLER)
    approver = caseworker(office, Role.APPROVER)
    id_photo = tmp_path / "id.png"
    id_photo.write_bytes(PNG)

    # 1. The applicant applies on the phone, with a photo of the identity card.
    portal.go("/")
    portal.click_link(office.name)
    portal.click_link("在线申请")
    _fill_application(portal)
    portal.submit()
    portal.find("input[name=id_document]").send_keys(str(id_photo))
    portal.submit("button[value=confirm]")
    codes = portal.driver.find_elements(By.CSS_SELECTOR, ".codes strong.code")
    number, code = codes[0].text, codes[1].text
    receipt = portal.fetch("/submitted/receipt.pdf")
    assert (receipt["status"], receipt["type"], receipt["head"]) == (
        200,
        "application/pdf",
        "%PDF-",
    )
    stored = Case.objects.get(tracking_number=number).attachments.get()
    assert (stored.kind, stored.content_kind, stored.size) == ("id_document", "png", len(PNG))

    # 2. The registrar confirms receipt; the handler asks for 补正 — in the admin.
    portal.driver.set_window_size(1400, 1000)
    portal.login(registrar)
    portal.open_case(number)
    portal.act("confirm_receipt")
    portal.login(handler)
    portal.open_case(number)
    portal.act("start_processing")
    items = "请写明所需经费预算的具体年度和科目。"
    portal.act("request_supplement", lambda p: p.type("items", items))
    assert Case.objects.get(tracking_number=number).state == CaseState.AWAITING_SUPPLEMENT

    # 3. The applicant follows the case and answers the 补正 online.
    portal.driver.delete_all_cookies()
    portal.driver.set_window_size(PHONE_WIDTH, 900)
    portal.go("/track/")
    portal.type("tracking_number", number)
    portal.type("access_code", code)
    portal.submit()
    assert items in portal.find(".task").text
    portal.shot("case-supplement", shots)
    answer = "所需为2024年度“三公”经费预算，包括因公出国（境）费、公务接待费。"
    portal.type("text", answer)
    portal.submit(".task button[type=submit]")
    assert "正在办理" in portal.find(".state").text
    assert answer in portal.find("ol.history").text
    case = Case.objects.get(tracking_number=number)
    assert case.state == CaseState.PROCESSING and case.restarted_on is not None
    assert CaseEvent.objects.filter(case=case, kind=EventKind.RECEIVE_SUPPLEMENT).count() == 1

    # 4. The office reviews the record (区分处理), drafts the reply 部分公开, approves it and
    #    serves the reply letter online.
    _release(case, handler)
    portal.driver.set_window_size(1400, 1000)
    portal.login(handler)
    portal.open_case(number)
    assert "申请人（网上）" in portal.find("#case-history").text
    assert "身份证明" in portal.find("#case-attachments").text
    portal.act("submit_for_approval", lambda p: p.choose("outcome", "partially_disclosed"))
    portal.login(approver)
    portal.open_case(number)
    portal.act("approve", lambda p: p.type("comment", "同意。"))
    portal.click(portal.find("a[data-legal-action='letter_draft']"))
    portal.choose("kind", "reply")
    portal.click(portal.find("#content-main form .submit-row input[type=submit]"))
    portal.click(portal.find("#case-letters a[data-legal-action='letter_serve']"))
    portal.choose("method", "online")
    portal.click(portal.find("#content-main form .submit-row input[type=submit]"))
    case.refresh_from_db()
    assert case.state == CaseState.REPLIED and case.outcome == "partially_disclosed"

    # 5. The applicant sees the reply, the remedies, and downloads the letter and the record.
    portal.driver.delete_all_cookies()
    portal.driver.set_window_size(PHONE_WIDTH, 900)
    portal.go("/track/")
    portal.type("tracking_number", number)
    portal.type("access_code", code)
    portal.submit()
    assert "部分公开" in portal.find(".state").text
    released = portal.find("section[aria-labelledby=release] a")
    record = portal.fetch(released.get_attribute("href"))
    assert (record["status"], record["type"], record["head"]) == (200, "application/pdf", "%PDF-")
    assert "申请行政复议" in portal.find("main").text
    link = portal.find("section[aria-labelledby=letters] a")
    assert "答复书" in link.text
    href = link.get_attribute("href")
    assert number not in href and code not in href
    letter = portal.fetch(href)
    assert (letter["status"], letter["type"], letter["head"]) == (200, "application/pdf", "%PDF-")
    assert letter["size"] > 1000
    portal.shot("case-replied", shots)
    assert re.search(r"最迟 \d{4}年\d{1,2}月\d{1,2}日", portal.find("main").text)


@override_settings()
def test_the_pages_show_no_horizontal_scroll_at_phone_width(portal, office):
    for path in ("/", f"/agencies/{office.code}/", f"/agencies/{office.code}/apply/", "/track/"):
        portal.go(path)
        overflow = portal.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, (path, overflow)
