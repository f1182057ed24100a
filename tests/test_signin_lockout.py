"""Guessing passwords (issue 13 §1): lock-out by user name and by client, on the admin's
sign-in form and the staff API's HTTP Basic alike; an administrator lifts it in the admin."""

import base64
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import check_password as real_check_password
from django.test import Client
from rest_framework.test import APIClient

from requests_app.choices import Role
from tests.factories import UserFactory, caseworker

PASSWORD = "pass-123456"  # tests.factories.UserFactory's
LIMIT = settings.AXES_FAILURE_LIMIT
LIST = "/api/v1/staff/cases/"
LOGIN = "/admin/login/?next=/admin/"


def admin_login(username, password, ip="10.0.0.1", client=None):
    client = client or Client(REMOTE_ADDR=ip)
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def basic(username, password, ip="10.0.0.1", **extra):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return APIClient().get(LIST, HTTP_AUTHORIZATION=f"Basic {token}", REMOTE_ADDR=ip, **extra)


@pytest.fixture
def staff(office):
    user = caseworker(office, Role.APPROVER, username="wang")
    user.is_staff = True
    user.save()
    return user


def test_the_limit_is_a_few():
    assert LIMIT == 5


def test_admin_guessing_locks_the_user_name_and_the_right_password_then_fails(staff):
    for _ in range(LIMIT - 1):
        response = admin_login("wang", "wrong")
        assert response.status_code == 200  # the form again, with its error
    locked = admin_login("wang", "wrong")
    assert locked.status_code == 429
    right = admin_login("wang", PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in right.client.session
    # The same answer whether the password was right or wrong.
    assert right.content == locked.content
    assert right["Retry-After"] == locked["Retry-After"] == "1800"
    assert "登录失败次数过多" in right.content.decode()
    # From another client too: the user name is locked, wherever the guesses come from.
    elsewhere = admin_login("wang", PASSWORD, ip="10.9.9.9")
    assert elsewhere.status_code == 429


def test_the_guessed_user_name_is_locked_from_many_clients(staff):
    for n in range(LIMIT):
        admin_login("wang", "wrong", ip=f"10.0.1.{n}")
    assert admin_login("wang", PASSWORD, ip="10.0.2.1").status_code == 429


def test_a_client_guessing_many_user_names_is_locked_out(staff, office):
    other = caseworker(office, Role.HANDLER, username="li")
    other.is_staff = True
    other.save()
    for n in range(LIMIT):
        admin_login(f"nobody{n}", "wrong", ip="10.0.0.7")
    # Its own right password does not help the guessing client ...
    assert admin_login("li", PASSWORD, ip="10.0.0.7").status_code == 429
    # ... while the same person from their own desk signs in.
    response = admin_login("li", PASSWORD, ip="10.0.0.8")
    assert response.status_code == 302


def test_a_success_before_the_limit_resets_the_count(staff):
    for _ in range(LIMIT - 1):
        admin_login("wang", "wrong")
    assert admin_login("wang", PASSWORD).status_code == 302
    for _ in range(LIMIT - 1):
        admin_login("wang", "wrong")
    assert admin_login("wang", PASSWORD).status_code == 302


def test_api_basic_guessing_locks_out_the_same_way(staff):
    for _ in range(LIMIT - 1):
        response = basic("wang", "wrong")
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"
    locked = basic("wang", "wrong")
    right = basic("wang", PASSWORD)
    assert locked.status_code == right.status_code == 429
    assert right.json() == locked.json()
    assert right.json() == {
        "code": "locked_out",
        "message": "登录失败次数过多，已暂时锁定。请 30 分钟后再试，或请管理员解锁。",
        "message_en": (
            "Too many failed sign-ins: locked for now. Retry in 30 minutes or ask an "
            "administrator to unlock."
        ),
        "fields": {},
    }
    assert right["Retry-After"] == "1800"
    # The admin's form is locked for that name too: one count for both ways in.
    assert admin_login("wang", PASSWORD, ip="10.0.0.2").status_code == 429


def test_admin_and_api_failures_add_up(staff):
    for _ in range(LIMIT - 2):
        admin_login("wang", "wrong")
    basic("wang", "wrong")
    basic("wang", "wrong")
    assert basic("wang", PASSWORD).status_code == 429


def test_a_forwarded_for_header_from_the_client_does_not_make_a_new_client(staff):
    # NUM_PROXIES is 0 here: X-Forwarded-For is the client's own word and is ignored.
    for n in range(LIMIT):
        basic(f"nobody{n}", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    response = basic("wang", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.200")
    assert response.status_code == 429


def test_a_locked_out_guess_costs_no_password_hash(staff):
    for _ in range(LIMIT):
        basic("wang", "wrong")
    with mock.patch(
        "django.contrib.auth.base_user.check_password", side_effect=real_check_password
    ) as checked:
        assert basic("wang", "wrong").status_code == 429
        assert basic("wang", PASSWORD).status_code == 429
    assert checked.call_count == 0


def test_the_admin_lists_lock_outs_and_an_administrator_lifts_one(staff):
    for _ in range(LIMIT):
        admin_login("wang", "wrong", ip="10.0.0.3")
    assert admin_login("wang", PASSWORD, ip="10.0.0.3").status_code == 429
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(superuser)
    listing = admin.get("/admin/signin/signinfailure/?locked_out=yes")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "登录失败与锁定" in page and "wang" in page and "10.0.0.3" in page
    attempt = AccessAttempt.objects.get(username="wang")
    detail = admin.get(f"/admin/signin/signinfailure/{attempt.pk}/change/").content.decode()
    for label in ("用户名", "客户端地址", "浏览器", "失败次数", "已锁定"):
        assert label in detail
    assert "User Agent" not in detail and "IP Address" not in detail
    response = admin.post(
        "/admin/signin/signinfailure/",
        {"action": "unlock", "_selected_action": [attempt.pk]},
        follow=True,
    )
    assert "已解锁 1 条记录。" in response.content.decode()
    assert not AccessAttempt.objects.exists()
    assert admin_login("wang", PASSWORD, ip="10.0.0.3").status_code == 302
    assert basic("wang", PASSWORD, ip="10.0.0.3").status_code == 200


def test_a_caseworker_without_the_permission_cannot_lift_a_lock_out(staff, office):
    for _ in range(LIMIT):
        admin_login("wang", "wrong", ip="10.0.0.4")
    other = caseworker(office, Role.HANDLER, username="zhao")
    other.is_staff = True
    other.save()
    client = Client()
    client.force_login(other)
    assert client.get("/admin/signin/signinfailure/").status_code == 403
    assert AccessAttempt.objects.filter(username="wang").count() == 1
