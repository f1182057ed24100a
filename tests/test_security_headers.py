"""With the production settings (in a subprocess, as the service starts): the security headers,
HSTS on https, Secure + HttpOnly session and CSRF cookies, and a CSRF-protected admin login."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from django.contrib.auth import get_user_model
from django.test import Client
get_user_model().objects.create_user("probe-admin", password="pass-123456", is_staff=True,
                                     is_superuser=True)
out = {}
def headers(response):
    return {k: response.headers.get(k) for k in (
        "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options",
        "Strict-Transport-Security", "Cross-Origin-Opener-Policy", "Location")}
def cookies(response):
    return {name: {"secure": bool(c["secure"]), "httponly": bool(c["httponly"]),
                   "samesite": c["samesite"]} for name, c in response.cookies.items()}
host = {"HTTP_HOST": "gongkai.example.gov.cn"}
client = Client(enforce_csrf_checks=True)
r = client.get("/admin/login/", secure=True, **host)
out["login_get"] = {"status": r.status_code, "headers": headers(r), "cookies": cookies(r)}
token = r.cookies["csrftoken"].value
r = client.post("/admin/login/", {"username": "probe-admin", "password": "pass-123456"},
                secure=True, **host)
out["login_without_token"] = {"status": r.status_code}
r = client.post("/admin/login/", {"username": "probe-admin", "password": "pass-123456",
                "csrfmiddlewaretoken": token, "next": "/admin/"}, secure=True,
                HTTP_REFERER="https://gongkai.example.gov.cn/admin/login/", **host)
out["login_with_token"] = {"status": r.status_code, "headers": headers(r), "cookies": cookies(r)}
r = Client().get("/api/v1/agencies/", secure=True, **host)
out["api_https"] = {"status": r.status_code, "headers": headers(r)}
r = Client().get("/api/v1/agencies/", **host)
out["api_http"] = {"status": r.status_code, "headers": headers(r)}
print("PROBE " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    var = tmp_path_factory.mktemp("prod-var")
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)  # a database of its own (SQLite under VAR_DIR)
    env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="x" * 20 + "-a-long-random-production-secret-key-value",
        DJANGO_ALLOWED_HOSTS="gongkai.example.gov.cn",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://gongkai.example.gov.cn",
        VAR_DIR=str(var),
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("PROBE "))
    return json.loads(line.removeprefix("PROBE "))


def test_security_headers_on_https(probe):
    for name in ("login_get", "api_https"):
        headers = probe[name]["headers"]
        assert probe[name]["status"] == 200, name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert headers["X-Frame-Options"] == "DENY", name
        assert headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains; preload"
        ), name
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", name


def test_plain_http_is_redirected_to_https(probe):
    assert probe["api_http"]["status"] == 301
    assert probe["api_http"]["headers"]["Location"] == (
        "https://gongkai.example.gov.cn/api/v1/agencies/"
    )
    assert probe["api_http"]["headers"]["Strict-Transport-Security"] is None  # https only


def test_session_and_csrf_cookies_are_secure_and_httponly(probe):
    csrf = probe["login_get"]["cookies"]["csrftoken"]
    assert csrf == {"secure": True, "httponly": True, "samesite": "Lax"}
    login = probe["login_with_token"]
    assert login["status"] == 302 and login["headers"]["Location"] == "/admin/"
    assert login["cookies"]["sessionid"] == {"secure": True, "httponly": True, "samesite": "Lax"}


def test_admin_login_is_csrf_protected(probe):
    assert probe["login_without_token"] == {"status": 403}
