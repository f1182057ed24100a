"""Chinese everywhere a caseworker or an applicant reads (issue 11 §4): the admin's language
rule, labels instead of codes, dates instead of timestamps, 避头尾 in letters, Chinese --help."""

import re

import pytest
from django.urls import reverse

from requests_app.choices import CaseState, Channel
from tests.factories import case_in_state

S = CaseState


# --- the language rule --------------------------------------------------------------------
def test_an_english_browser_still_gets_the_chinese_admin(client, handler):
    client.force_login(handler)
    response = client.get(reverse("admin:index"), headers={"accept-language": "en-US,en;q=0.9"})
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert "欢迎" in page and "Welcome" not in page


def test_english_only_when_chosen_with_the_language_switch(client, handler):
    client.force_login(handler)
    index = reverse("admin:index")
    switched = client.post(reverse("set_language"), {"language": "en", "next": index})
    assert switched.status_code == 302
    page = client.get(index).content.decode()
    assert "Welcome" in page
    # …and back to Chinese, whatever the browser says.
    client.post(reverse("set_language"), {"language": "zh-hans", "next": index})
    page = client.get(index, headers={"accept-language": "en"}).content.decode()
    assert "欢迎" in page and "Welcome" not in page


def test_the_api_still_answers_in_the_language_a_program_asks_for(client):
    response = client.get("/api/v1/nowhere/", headers={"accept-language": "en"})
    assert response["Content-Language"] == "en"
    response = client.get("/api/v1/nowhere/")
    assert response["Content-Language"] == "zh-hans"


# --- the case page and its action forms ---------------------------------------------------
def act_url(case, action):
    return reverse("admin:requests_app_case_act", args=[case.pk, action])


def submit_buttons(page: str) -> list[str]:
    return re.findall(r'<input type="submit" class="default" value="([^"]*)"', page)


@pytest.mark.parametrize(
    ("action", "button"),
    [
        ("confirm_receipt", "确认接收"),
        ("record_fee_payment", "确认缴费"),
        ("extend", "确认延期答复"),
    ],
)
def test_the_submit_button_says_confirm_once(client, office, approver, action, button):
    state = {
        "confirm_receipt": S.SUBMITTED,
        "record_fee_payment": S.AWAITING_FEE,
        "extend": S.PROCESSING,
    }[action]
    case = case_in_state(state, agency=office, actor=approver)
    client.force_login(approver)
    page = client.get(act_url(case, action)).content.decode()
    assert submit_buttons(page) == [button]
    assert "确认确认" not in page


def test_the_case_page_does_not_show_the_internal_version(client, office, approver):
    case = case_in_state(S.PROCESSING, agency=office, actor=approver)
    client.force_login(approver)
    page = client.get(reverse("admin:requests_app_case_change", args=[case.pk])).content.decode()
    assert "版本" not in page
    # The action forms keep it, hidden, for the stale-page check.
    form = client.get(act_url(case, "note")).content.decode()
    assert f'<input type="hidden" name="expected_version" value="{case.version}"' in form


@pytest.mark.parametrize(
    ("action", "state"),
    [("submit_for_approval", S.PROCESSING), ("reply_on_spot", S.REGISTERED)],
)
def test_no_outcome_is_chosen_for_the_caseworker(client, office, approver, action, state):
    case = case_in_state(state, agency=office, actor=approver, channel=Channel.IN_PERSON)
    client.force_login(approver)
    page = client.get(act_url(case, action)).content.decode()
    select = re.search(r'<select name="outcome".*?</select>', page, re.S).group(0)
    assert re.findall(r"<option [^>]*selected", select) == ['<option value="" selected']
    before = (case.state, case.version)
    response = client.post(act_url(case, action), {"expected_version": case.version})
    assert response.status_code == 200
    assert response.context["form"].errors == {"outcome": ["该字段是必填项。"]}
    case.refresh_from_db()
    assert (case.state, case.version) == before
