"""Tests: same as local, fast hashing, in-memory mail; services used only when their URL is set."""

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = False
REST_FRAMEWORK = {**REST_FRAMEWORK}
# The captcha accepts "PASSED" (django-simple-captcha's test mode), so tests can answer it.
CAPTCHA_TEST_MODE = True
SMS_BACKEND = "requests_app.sms.ConsoleBackend"

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # The test runner empties its database with TRUNCATE between transactional tests: allow it
    # past the history's TRUNCATE guard (audit migration 0002), for this database only.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (  # noqa: F405
        "-c disclosure.allow_truncate=on"
    )
