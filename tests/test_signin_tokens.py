"""Integration tokens on the staff API (issue 13 §1): per user, revocable, shown once, hashed
at rest."""

import base64
import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from requests_app.choices import CaseState, Role
from signin.models import ApiToken
from tests.factories import UserFactory, case_in_state, caseworker

TOKENS = "/api/v1/staff/tokens/"
LIST = "/api/v1/staff/cases/"


def basic(user):
    value = base64.b64encode(f"{user.username}:pass-123456".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {value}"}


def with_token(token):
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


@pytest.fixture
def approver(office):
    return caseworker(office, Role.APPROVER, username="wang")


def create(user, **data):
    return APIClient().post(TOKENS, {"name": "档案系统同步", **data}, format="json", **basic(user))


def test_a_caseworker_creates_a_token_shown_once_and_uses_it(approver):
    response = create(approver)
    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    assert body["token_key"] == token[:15]
    assert body["name"] == "档案系统同步"
    expiry = dt.datetime.fromisoformat(body["expiry"])
    assert (expiry - timezone.now()).days == 364  # API_TOKEN_TTL_DAYS: 365 days from now
    assert APIClient().get(LIST, **with_token(token)).status_code == 200
    # Listed without the token itself.
    listing = APIClient().get(TOKENS, **basic(approver)).json()
    assert listing == [
        {
            "token_key": token[:15],
            "name": "档案系统同步",
            "created": body["created"],
            "expiry": body["expiry"],
        }
    ]
    assert token not in str(APIClient().get(TOKENS, **with_token(token)).content)


def test_the_token_is_stored_only_as_a_digest(approver):
    token = create(approver).json()["token"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM signin_apitoken")
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert all(token not in str(value) for value in rows[0])
    stored = ApiToken.objects.get()
    assert len(stored.digest) == 128 and stored.digest != token


def test_revoked_token_is_refused(approver):
    token = create(approver).json()["token"]
    response = APIClient().delete(f"{TOKENS}{token[:15]}/", **basic(approver))
    assert response.status_code == 204
    refused = APIClient().get(LIST, **with_token(token))
    assert refused.status_code == 401
    assert refused.json()["code"] == "authentication_failed"
    assert not ApiToken.objects.exists()


def test_a_token_can_revoke_itself_but_not_another_users(approver, office):
    other = caseworker(office, Role.HANDLER, username="li")
    mine = create(approver).json()["token"]
    theirs = create(other).json()["token"]
    response = APIClient().delete(f"{TOKENS}{theirs[:15]}/", **with_token(mine))
    assert response.status_code == 404
    assert ApiToken.objects.count() == 2
    assert APIClient().delete(f"{TOKENS}{mine[:15]}/", **with_token(mine)).status_code == 204
    assert list(ApiToken.objects.values_list("user__username", flat=True)) == ["li"]


def test_a_token_cannot_make_another_token(approver):
    token = create(approver).json()["token"]
    response = APIClient().post(TOKENS, {"name": "x"}, format="json", **with_token(token))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert ApiToken.objects.count() == 1


def test_an_expired_token_is_refused(approver):
    token = create(approver, expires_in_days=1).json()["token"]
    ApiToken.objects.update(expiry=timezone.now() - dt.timedelta(seconds=1))
    assert APIClient().get(LIST, **with_token(token)).status_code == 401
    assert not ApiToken.objects.exists()


def test_a_wrong_token_and_a_non_caseworker_are_refused(approver):
    assert APIClient().get(LIST, **with_token("0" * 64)).status_code == 401
    nobody = UserFactory(username="nobody")
    token, secret = ApiToken.objects.create(user=nobody, name="x")
    assert APIClient().get(LIST, **with_token(secret)).status_code == 403


def test_a_token_acts_with_its_users_agency_only(approver, tree):
    token = create(approver).json()["token"]
    stranger = caseworker(tree["other"], Role.APPROVER, username="zhou")
    own = case_in_state(CaseState.PROCESSING, agency=tree["office"], actor=approver)
    case_in_state(CaseState.PROCESSING, agency=tree["other"], actor=stranger)
    listed = APIClient().get(LIST, **with_token(token)).json()
    assert [row["id"] for row in listed["results"]] == [own.pk]


@pytest.mark.parametrize("data", [{"name": ""}, {"name": "x", "expires_in_days": 0}])
def test_bad_input_is_a_400(approver, data):
    response = APIClient().post(TOKENS, data, format="json", **basic(approver))
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_an_administrator_creates_a_token_in_the_admin_and_sees_it_once(approver):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(root)
    response = admin.post(
        "/admin/signin/apitoken/add/",
        {"user": approver.pk, "name": "OA 对接", "expires_in_days": "30"},
        follow=True,
    )
    page = response.content.decode()
    shown = re.search(r"请立即复制：([0-9a-f]{64})", page).group(1)
    stored = ApiToken.objects.get()
    assert stored.name == "OA 对接" and stored.user == approver
    assert APIClient().get(LIST, **with_token(shown)).status_code == 200
    listing = admin.get("/admin/signin/apitoken/").content.decode()
    assert "OA 对接" in listing and shown[:15] in listing and shown not in listing
    detail = admin.get(f"/admin/signin/apitoken/{stored.pk}/change/").content.decode()
    for label in ("用途", "用户", "令牌开头", "创建时间", "到期时间"):
        assert label in detail
    assert shown not in detail and "Token key" not in detail
    # Revoking is deleting.
    admin.post(
        "/admin/signin/apitoken/",
        {"action": "delete_selected", "_selected_action": [stored.pk], "post": "yes"},
    )
    assert not ApiToken.objects.exists()
    assert APIClient().get(LIST, **with_token(shown)).status_code == 401


def test_a_name_that_is_not_text_is_a_400(approver):
    response = APIClient().post(TOKENS, {"name": 0}, format="json", **basic(approver))
    assert response.status_code == 400
    assert response.json()["fields"] == {"name": ["须为文本。"]}
