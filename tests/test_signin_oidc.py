"""Sign-in through the agency's identity provider (issue 13 §1): OpenID Connect against a fake
provider in the suite — its token, userinfo and JWKS endpoints answered in-process, its ID
tokens signed with a key of its own — mapping a person to an agency and role by claims or by the
table an administrator keeps. Local passwords stay."""

import json
import time
import urllib.parse
from unittest import mock

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.test import Client

from requests_app.choices import Role
from requests_app.models import Caseworker
from signin.models import OidcAssignment
from tests.factories import caseworker

ISSUER = "https://idp.example.gov.cn"
CLIENT_ID = "gongkai"


class FakeProvider:
    """The identity provider's endpoints the library calls with ``requests``."""

    def __init__(self):
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.claims: dict = {}
        self.nonce = ""
        self.audience = CLIENT_ID
        self.sign_with_other_key = False
        self.token_requests: list[dict] = []

    def jwks(self) -> dict:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": "k1", "alg": "RS256", "use": "sig"}]}

    def id_token(self) -> str:
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": self.audience,
            "sub": self.claims["sub"],
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonce,
        }
        key = self.other_key if self.sign_with_other_key else self.key
        return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})

    def post(self, url, data=None, **kwargs):
        assert url == f"{ISSUER}/token"
        self.token_requests.append(data)
        return Answer({"access_token": "at-1", "id_token": self.id_token(), "token_type": "Bearer"})

    def get(self, url, headers=None, **kwargs):
        if url == f"{ISSUER}/jwks":
            return Answer(self.jwks())
        assert url == f"{ISSUER}/userinfo"
        assert headers == {"Authorization": "Bearer at-1"}
        return Answer(self.claims)


class Answer:
    def __init__(self, body):
        self.body = body
        self.text = json.dumps(body)
        self.headers = {"content-type": "application/json"}
        self.status_code = 200

    def json(self):
        return self.body

    def raise_for_status(self):
        return None


@pytest.fixture
def provider(settings):
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_OP_ISSUER = ISSUER
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{ISSUER}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{ISSUER}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{ISSUER}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{ISSUER}/jwks"
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "signin.oidc.AgencyOIDCBackend",
    ]
    fake = FakeProvider()
    with (
        mock.patch("mozilla_django_oidc.auth.requests.post", fake.post),
        mock.patch("mozilla_django_oidc.auth.requests.get", fake.get),
    ):
        yield fake


def sign_in(provider, claims, client=None):
    """The browser's round trip: our redirect to the provider, the provider's back to us."""
    client = client or Client()
    provider.claims = claims
    start = client.get("/oidc/authenticate/?next=/admin/")
    assert start.status_code == 302
    target = urllib.parse.urlsplit(start["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{ISSUER}/authorize"
    query = dict(urllib.parse.parse_qsl(target.query))
    assert query["client_id"] == CLIENT_ID and query["code_challenge_method"] == "S256"
    provider.nonce = query["nonce"]
    back = client.get(f"/oidc/callback/?code=c-1&state={query['state']}")
    return client, back


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=user_id) if user_id else None


def test_claims_place_the_person_in_an_agency_and_role(provider, office):
    claims = {
        "sub": "u-1001",
        "email": "li@example.gov.cn",
        "name": "李四",
        "agency_code": office.code,
        "disclosure_role": "handler",
    }
    client, back = sign_in(provider, claims)
    assert back.status_code == 302 and back["Location"] == "/admin/"
    user = signed_in_user(client)
    assert user.username == "oidc:u-1001" and user.email == "li@example.gov.cn"
    assert user.is_staff and not user.has_usable_password()
    assert (user.caseworker.agency, user.caseworker.role) == (office, Role.HANDLER)
    assert client.get("/admin/").status_code == 200
    assert provider.token_requests[0]["code"] == "c-1"
    assert provider.token_requests[0]["code_verifier"]  # PKCE
    # Signing in again is the same user; a new role at the provider takes effect.
    client, _ = sign_in(provider, {**claims, "disclosure_role": "approver"})
    assert get_user_model().objects.filter(username="oidc:u-1001").count() == 1
    assert Caseworker.objects.get(user__username="oidc:u-1001").role == Role.APPROVER


def test_the_administrators_table_wins_over_claims(provider, tree):
    OidcAssignment.objects.create(
        match="wang@example.gov.cn",
        agency=tree["dept"],
        role=Role.AUDITOR,
        can_view_personal_data=True,
    )
    claims = {
        "sub": "u-2002",
        "email": "Wang@Example.gov.cn",
        "agency_code": tree["office"].code,
        "disclosure_role": "administrator",
    }
    client, back = sign_in(provider, claims)
    worker = signed_in_user(client).caseworker
    assert (worker.agency, worker.role, worker.can_view_personal_data) == (
        tree["dept"],
        Role.AUDITOR,
        True,
    )
    # A row by subject beats one by e-mail.
    OidcAssignment.objects.create(match="u-2002", agency=tree["street"], role=Role.REGISTRAR)
    client, _ = sign_in(provider, claims)
    worker = signed_in_user(client).caseworker
    assert (worker.agency, worker.role) == (tree["street"], Role.REGISTRAR)


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "u-3003", "email": "x@example.gov.cn"},  # no claims, no row
        {"sub": "u-3003", "agency_code": "no-such-agency", "disclosure_role": "handler"},
        {"sub": "u-3003", "agency_code": "city-office", "disclosure_role": "emperor"},
    ],
)
def test_a_person_with_no_agency_and_role_is_refused(provider, office, claims):
    client, back = sign_in(provider, claims)
    assert back["Location"] == "/admin/login/?oidc=failed"
    assert signed_in_user(client) is None
    assert not get_user_model().objects.filter(username="oidc:u-3003").exists()
    page = client.get(back["Location"]).content.decode()
    assert "统一身份认证登录未成功" in page


def test_a_switched_off_row_refuses_the_next_sign_in(provider, office):
    row = OidcAssignment.objects.create(match="u-4004", agency=office, role=Role.HANDLER)
    client, _ = sign_in(provider, {"sub": "u-4004"})
    assert signed_in_user(client) is not None
    row.is_active = False
    row.save()
    client, back = sign_in(
        provider, {"sub": "u-4004", "agency_code": office.code, "disclosure_role": "handler"}
    )
    assert back["Location"] == "/admin/login/?oidc=failed" and signed_in_user(client) is None


@pytest.mark.parametrize("forgery", ["other_key", "audience"])
def test_a_token_not_signed_by_the_provider_or_not_for_us_is_refused(provider, office, forgery):
    if forgery == "other_key":
        provider.sign_with_other_key = True
    else:
        provider.audience = "another-client"
    claims = {"sub": "u-5005", "agency_code": office.code, "disclosure_role": "handler"}
    client = Client(raise_request_exception=False)
    client, back = sign_in(provider, claims, client)
    assert signed_in_user(client) is None
    assert not get_user_model().objects.filter(username="oidc:u-5005").exists()


def test_the_login_page_offers_the_provider_and_local_passwords_stay(provider, office):
    page = Client().get("/admin/login/").content.decode()
    assert "使用统一身份认证登录" in page and 'name="password"' in page
    local = caseworker(office, Role.HANDLER, username="local")
    local.is_staff = True
    local.save()
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "local", "password": "pass-123456"}
    )
    assert response.status_code == 302 and signed_in_user(client) == local


def test_without_configuration_there_is_no_provider(db):
    assert Client().get("/oidc/authenticate/").status_code == 404
    assert Client().get("/oidc/callback/?code=x&state=y").status_code == 404
    assert "统一身份认证" not in Client().get("/admin/login/").content.decode()
