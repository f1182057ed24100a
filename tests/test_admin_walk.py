"""Every admin page of the demo, as each demo role, in Chinese: no raw code, no English.

The demo is loaded once for the module (as tests/test_demo.py loads it); each role then
follows every link that stays in the admin, from the index and from the case pages: change
lists, change and add forms, the custom pages (counter intake, the calendar, the annual
reports) and every action form a case page offers. Pages that differ only by an object's id
are read once per role — except the case pages, read once per state, and every one of them
for the superuser, whose history rows hold every kind of event the demo wrote."""

from __future__ import annotations

from collections import deque
from io import StringIO

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hashers
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from reporting.services import report_generate
from requests_app.admin.display import DATA_LABELS
from requests_app.models import Agency, Case, Letter, Record, Release, ReleaseFile
from tests.admin_walk import Reader, admin_links, page_shapes, read_page

# One account of each role the demo creates (the superuser first: it sees every page).
ROLES = [
    "admin",
    "office-registrar",
    "office-handler",
    "office-approver",
    "city-supervisor",
    "city-admin",
    "city-auditor",
]
CASE_PAGE = "/admin/requests_app/case/<id>/change/"
MAX_PAGES = 1500  # per role; a walk that keeps finding new pages is itself a bug


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data, loaded once, rolled back after the module."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            call_command("load_demo", stdout=StringIO(), stderr=StringIO())
            # This year's annual reports of the city and of its office, so that the report
            # pages (tables, checks, the text sections' form) are walked too.
            year = timezone.localdate().year
            for code in ("anshun", "anshun-gov-office"):
                report_generate(agency=Agency.objects.get(code=code), year=year)
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def reader(demo, db):
    """What may hold Latin letters because it is data, not text of the admin."""
    data = set(get_user_model().objects.values_list("username", flat=True))
    data |= set(Agency.objects.values_list("code", flat=True))
    data |= set(Letter.objects.values_list("number", flat=True))
    data |= set(Case.objects.values_list("tracking_number", flat=True))
    # The fingerprints of records and release copies (SHA-256, shown to be checked).
    for model in (Record, Release, ReleaseFile):
        data |= set(model.objects.values_list("sha256", flat=True))
    # The user page names the password's hash algorithm (md5 in the tests' settings).
    data |= {hasher.algorithm for hasher in get_hashers()}
    return Reader(data={value for value in data if value})


def walk(client: Client, reader: Reader, *, every_case: bool):
    """Follow the admin's links breadth-first from its index; returns (pages read, findings,
    broken: pages that answered with an error)."""
    queue = deque([("/admin/", "")])
    seen_shapes: set[str] = set()
    seen_urls: set[str] = set()
    findings, broken, pages, visited = [], [], 0, []
    while queue and pages < MAX_PAGES:
        url, referrer = queue.popleft()
        if url in seen_urls:
            continue
        seen_urls.add(url)
        response = client.get(url)
        if response.status_code in (301, 302):
            target = response["Location"]
            if target.startswith("/admin/") and not target.startswith("/admin/login/"):
                queue.append((target, referrer))
            continue
        if response.status_code != 200:
            broken.append(f"{url} ({response.status_code}, linked from {referrer})")
            continue
        if not response.get("Content-Type", "").startswith("text/html") or response.get(
            "Content-Disposition", ""
        ).startswith("attachment"):
            continue  # a download (a letter's PDF, a report's export)
        pages += 1
        visited.append(url)
        texts, links = read_page(response.content.decode())
        findings += reader.findings(url, texts)
        for link in admin_links(url, links):
            # Each page bare, and once with each set of parameters its links use (a filter,
            # a sort, the list's filters carried to a change page).
            for target in dict.fromkeys([link.split("?")[0], link]):
                shapes = page_shapes(target)
                if shapes == {CASE_PAGE}:
                    case = Case.objects.filter(pk=int(target.split("/")[4])).first()
                    shapes = {CASE_PAGE + (target if every_case else case.state)}
                if shapes <= seen_shapes or "/logout/" in target:
                    continue
                seen_shapes |= shapes
                queue.append((target, url))
    walk.visited = visited
    return pages, findings, broken


@pytest.mark.slow
@pytest.mark.parametrize("username", ROLES)
def test_every_admin_page_is_in_chinese(reader, username):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    pages, findings, broken = walk(client, reader, every_case=username == "admin")
    assert pages < MAX_PAGES
    assert broken == []
    assert [str(f) for f in findings] == []


# --- the walk catches what it is there for ----------------------------------------------------
@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Welcome, 张伟", [("English", "Welcome")]),
        ("deadline_escalation", [("raw code", "deadline_escalation")]),
        (
            "letter_id：1 number：安府公开〔2026〕1号",
            [("raw code", "letter_id"), ("English", "number")],
        ),
        ("状态：submitted", [("English", "submitted")]),
        ("联系人 a***@example.com，网站 https://anshun.example.gov.cn/", []),
        ("申请编号 GK20261204ABCDEF，信用代码 91520400XQTX9RAEY7", []),
        ("下载 PDF · DOCX；模板可用 {tracking_number}", []),
        ("按住 Control 键或 Mac 上的 Command 键来选择多项。", []),
    ],
)
def test_the_reader_finds_english_and_raw_codes(text, found):
    assert [(f.kind, f.word) for f in Reader().findings("/admin/", [text])] == found


def test_the_reader_reads_what_is_on_the_screen_only():
    texts, links = read_page(
        '<html><head><title>办理工作台</title><script>var x = "Hidden";</script></head>'
        '<body><a href="/admin/x/" title="View site">查看</a>'
        '<input type="submit" value="Save"><input type="hidden" value="secret">'
        '<img alt="True"><p>正文</p></body></html>'
    )
    assert texts == ["办理工作台", "View site", "查看", "Save", "正文"]
    assert links == ["/admin/x/"]


@pytest.mark.slow
def test_the_walk_catches_a_planted_english_word_and_a_raw_code(reader, monkeypatch):
    """Plant an English title on the index and drop a label of the history rows: the walk
    must report both (one deep in the case pages)."""
    monkeypatch.setattr(admin.site, "index_title", "Dashboard")
    monkeypatch.delitem(DATA_LABELS, "received_on")
    client = Client()
    client.force_login(get_user_model().objects.get(username="office-handler"))
    _pages, findings, _broken = walk(client, reader, every_case=False)
    words = {(f.kind, f.word) for f in findings}
    assert ("English", "Dashboard") in words
    assert ("raw code", "received_on") in words


def test_the_login_page_is_in_chinese_for_an_english_browser(reader):
    response = Client().get("/admin/login/", headers={"accept-language": "en-US,en;q=0.9"})
    texts, _links = read_page(response.content.decode())
    assert response.status_code == 200
    assert [str(f) for f in reader.findings("/admin/login/", texts)] == []
    assert "登录" in " ".join(texts)
