"""Settings shared by every environment, read from the environment (django-environ).

Everything has a safe local default: with no environment at all the service runs on an
embedded SQLite database and a server-less Celery broker (kombu's filesystem transport)
under ``var/``. ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    # Swagger UI's own files, served from STATIC_URL: /api/docs/ works without internet.
    "drf_spectacular_sidecar",
    "csp",
    "django_fsm",
    "axes",
    "knox",
    "signin",
    # Before requests_app: its case page template extends requests_app's (the history export).
    "audit",
    "requests_app",
    "reporting",
    # The applicants' own pages (/) and their self-hosted captcha.
    "portal",
    "captcha",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "requests_app.middleware.NulInQueryMiddleware",
    "requests_app.middleware.ChunkedBodyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "requests_app.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "requests_app.middleware.DatabaseUnavailableMiddleware",
    # Last: turns a sign-in refused for a lock-out into its answer (signin.lockout).
    "axes.middleware.AxesMiddleware",
]

# --- Sign-in (signin/, docs/operations.md "Sign-in") ------------------------------------------
# django-axes first: it refuses a locked-out user name or client before any password is
# hashed; ModelBackend then checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Failed sign-ins (the admin's form, the staff API's HTTP Basic) are counted by user name and
# by client address apart: either reaching the limit locks it for SIGNIN_LOCKOUT_MINUTES.
AXES_FAILURE_LIMIT = env.int("SIGNIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SIGNIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "signin.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "signin.lockout.lockout_response"
# The lock-outs are listed (and lifted) in the admin under 登录与令牌 (signin/admin.py).
AXES_ENABLE_ADMIN = False
# Sign-in through the agency's identity provider: OpenID Connect (signin/oidc.py,
# docs/operations.md "Connecting an identity provider"). Off unless OIDC_RP_CLIENT_ID is set;
# local passwords stay either way.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET", default="")
OIDC_OP_ISSUER = env.str("OIDC_OP_ISSUER", default="")
OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT", default="")
OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT", default="")
OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT", default="")
OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
OIDC_AGENCY_CLAIM = env.str("OIDC_AGENCY_CLAIM", default="agency_code")
OIDC_ROLE_CLAIM = env.str("OIDC_ROLE_CLAIM", default="disclosure_role")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
LOGIN_REDIRECT_URL = "/admin/"
LOGIN_REDIRECT_URL_FAILURE = "/admin/login/?oidc=failed"
if OIDC_RP_CLIENT_ID:
    AUTHENTICATION_BACKENDS.append("signin.oidc.AgencyOIDCBackend")

# Integration tokens on the staff API (django-rest-knox; docs/api.md "Tokens").
KNOX_TOKEN_MODEL = "signin.ApiToken"
# knox's own token table would be created by its migrations although the model is swapped for
# signin.ApiToken (and it would hold a foreign key to users that nothing empties): no table.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=365)),
    "AUTO_REFRESH": False,
    "AUTH_HEADER_PREFIX": "Token",
}

# --- Content-Security-Policy (django-csp; docs/operations.md "Headers") ------------------------
# One policy for every page this project serves — the admin, the API's documentation, the API's
# JSON, and any public pages an app adds (they inherit it: no inline scripts, no inline event
# handlers, no inline styles, nothing from other sites). Scripts and styles come from this
# site's static files only. What the admin needs: scripts and styles from STATIC_URL ('self'),
# images also as data: URIs (its icons in CSS), forms posting to itself; it needs no inline
# script and no eval. A view that needs more widens the policy for itself only
# (csp.decorators.csp_update), as the API docs do for Swagger UI's one inline <style>.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "signin.oidc.login_context",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the file: wait for locks, write-ahead log.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
    # The report's covering indexes (INCLUDE columns) are plain indexes on SQLite: the same
    # answers, without the index-only scans PostgreSQL makes of them. Nothing to warn about.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Chinese for everyone; English only when chosen (the admin's language switch, set_language's
# cookie; the API also honours Accept-Language). requests_app.middleware.ChosenLanguageMiddleware.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

# Records (a case's files) and their release copies: never served by URL (no base_url), only
# through views that check who may see the case. RECORDS_STORAGE=s3 keeps them in an
# S3-compatible bucket instead (needs the optional dependency `.[s3]`: django-storages, boto3).
RECORDS_STORAGE = env.str("RECORDS_STORAGE", default="filesystem")
if RECORDS_STORAGE == "s3":
    STORAGES["records"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("RECORDS_S3_BUCKET"),
            "endpoint_url": env.str("RECORDS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("RECORDS_S3_REGION", default=None),
            "access_key": env.str("RECORDS_S3_ACCESS_KEY", default=None),
            "secret_key": env.str("RECORDS_S3_SECRET_KEY", default=None),
            "location": env.str("RECORDS_S3_PREFIX", default="records"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif RECORDS_STORAGE == "filesystem":
    STORAGES["records"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": env.str("RECORDS_ROOT", default=str(VAR_DIR / "records"))},
    }
else:
    raise ValueError(f"RECORDS_STORAGE must be 'filesystem' or 's3', not {RECORDS_STORAGE!r}")
RECORDS = {
    # The largest file a caseworker may upload (bytes; default 100 MiB).
    "MAX_UPLOAD_BYTES": env.int("RECORDS_MAX_UPLOAD_BYTES", default=100 * 1024 * 1024),
    # The most pages one record may have (default 2000).
    "MAX_PAGES": env.int("RECORDS_MAX_PAGES", default=2000),
    # Resolution of the page images of the review screen (default 96 dpi).
    "PAGE_IMAGE_DPI": env.int("RECORDS_PAGE_IMAGE_DPI", default=96),
}
# Where the applicant's e-mail points for downloading the release (the site's public address).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://localhost:8000")

DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Where Django's file-based e-mail backend writes (``make run`` uses it instead of the console).
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "log" / "mail"))

# Text messages to applicants who asked for them (requests_app/sms.py): the console by
# default; requests_app.sms.HttpGatewayBackend posts to an SMS gateway.
SMS_BACKEND = env.str("SMS_BACKEND", default="requests_app.sms.ConsoleBackend")
SMS_GATEWAY_URL = env.str("SMS_GATEWAY_URL", default="")
SMS_GATEWAY_TOKEN = env.str("SMS_GATEWAY_TOKEN", default="")
SMS_SIGN_NAME = env.str("SMS_SIGN_NAME", default="政府信息公开")
SMS_GATEWAY_TIMEOUT = env.float("SMS_GATEWAY_TIMEOUT", default=5.0)
# Attempts per message before it is marked failed (Celery retries with a growing wait).
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=6)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="gongkai@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {
        # A 403 is an answer, not a fault: one line, no traceback (config/logmask.py).
        "permission_denied_one_line": {"()": "config.logmask.PermissionDeniedWithoutTraceback"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"django.request": {"filters": ["permission_denied_one_line"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- REST framework and OpenAPI -------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "signin.authentication.BasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "requests_app.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "submission": env.str("THROTTLE_SUBMISSION", default="30/minute"),
        "tracking": env.str("THROTTLE_TRACKING", default="60/minute"),
        # Wrong access codes per application and client; wrong attempts per client overall.
        "tracking_failure": env.str("THROTTLE_TRACKING_FAILURE", default="10/hour"),
        "tracking_enumeration": env.str("THROTTLE_TRACKING_ENUMERATION", default="100/hour"),
        "agencies": env.str("THROTTLE_AGENCIES", default="120/minute"),
        # Not a refusal: past this many submissions from one IP the page asks for a captcha.
        "submission_captcha": env.str("PORTAL_CAPTCHA_AFTER_SUBMISSIONS", default="3/hour"),
    },
    # The client IP the throttles count by: REMOTE_ADDR unless NUM_PROXIES trusted proxies
    # (gunicorn behind nginx: 1) put it in X-Forwarded-For. Never trust a client's own header.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "政府信息公开申请办理 API / Disclosure request case API",
    "DESCRIPTION": (
        "Public API for applicants and portals (submit, follow) and staff API for caseworkers. "
        "Errors are JSON: {code, message, message_en, fields}."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # /api/docs/ loads Swagger UI from this project's static files, never from a CDN (an
    # intranet has none): drf-spectacular-sidecar.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Stable names for the enums that several fields share (and for the outcome subsets).
    "ENUM_NAME_OVERRIDES": {
        "CaseStateEnum": "requests_app.choices.CaseState",
        "OutcomeEnum": "requests_app.choices.Outcome",
        "OnTheSpotOutcomeEnum": "requests_app.api.serializers.ON_THE_SPOT_OUTCOME_CHOICES",
        "ReplyOutcomeEnum": "requests_app.api.serializers.REPLY_OUTCOME_CHOICES",
        "EventKindEnum": "requests_app.models.event.EventKind",
        "AgencyKindEnum": "requests_app.choices.AgencyKind",
        "FeeMethodEnum": "requests_app.api.serializers.FEE_METHOD_CHOICES",
        "CaseActionEnum": "requests_app.api.serializers.ACTION_CHOICES",
        "TimelinessEnum": "requests_app.choices.Timeliness",
        "RecordKindEnum": "requests_app.choices.RecordKind",
        "PageDecisionEnum": "requests_app.choices.PageDecision",
        "WithholdBasisEnum": "requests_app.choices.WithholdBasis",
        "SuggestionStateEnum": "requests_app.choices.SuggestionState",
        "ReviewDecisionEnum": "requests_app.models.proceedings.ReviewDecision",
    },
}

# Throttling keeps its counters in the cache: the database cache works for every process
# without a server; Redis is used when REDIS_URL is set.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # An unreachable Redis reads as an empty cache (config/cache.py), never a 500.
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery ----------------------------------------------------------------------------------
# Deadlines are data swept by beat, never far-future ETA tasks (docs/adr/0003-deadlines-as-data.md).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery-queue"
    _queue_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {
            "data_folder_in": str(_queue_dir),
            "data_folder_out": str(_queue_dir),
            # Broadcast (pidbox) messages too, or kombu writes them under ./control.
            "control_folder": str(VAR_DIR / "celery-control"),
        }
    )
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 600
CELERY_TASK_SOFT_TIME_LIMIT = 540
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# How long a publish waits for an unreachable broker before giving up (kombu retries until
# then). The web processes only kick tasks whose work the sweep redoes anyway, so a request
# made while Redis is down must not wait on it (issue 6); workers and beat reconnect by
# themselves.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=1.0)
CELERY_TASK_ALWAYS_EAGER = False
SWEEP_INTERVAL_SECONDS = env.int("SWEEP_INTERVAL_SECONDS", default=300)
CELERY_BEAT_SCHEDULE: dict = {
    # The deadline sweep (requests_app.services.sweep): reminders, escalations, closures, and
    # the e-mail left unsent while the broker was down. Expires before the next run is due
    # (never a zero or negative expiry, which would discard every run of a short interval).
    "deadlines-sweep": {
        "task": "requests_app.deadlines_sweep",
        "schedule": SWEEP_INTERVAL_SECONDS,
        # A sweep not started in time is dropped (the next one covers it), but never so soon
        # that a busy worker drops them all: sweeps are idempotent, so overlap is harmless.
        "options": {"expires": max(SWEEP_INTERVAL_SECONDS - 30, 60)},
    },
}

# --- The applicants' pages (portal/) ----------------------------------------------------------
PORTAL = {
    # How long a follow session (tracking number + access code, checked once) stays open.
    "SESSION_MINUTES": env.int("PORTAL_SESSION_MINUTES", default=20),
    # How long after submitting the receipt (with the access code) can still be printed.
    "RECEIPT_MINUTES": env.int("PORTAL_RECEIPT_MINUTES", default=10),
    # The largest file an applicant may upload (identity document, 授权委托书, 补正): 5 MiB.
    "UPLOAD_MAX_BYTES": env.int("PORTAL_UPLOAD_MAX_BYTES", default=5 * 1024 * 1024),
}
CAPTCHA_LENGTH = 4
CAPTCHA_TIMEOUT = 10  # minutes
CAPTCHA_IMAGE_SIZE = (120, 44)

# --- Domain settings (the **Decision** lines of docs/law.md) ---------------------------------
DISCLOSURE = {
    # Art 30: the reasonable period the agency gives for 补正, in working days.
    "SUPPLEMENT_PERIOD_DAYS": env.int("SUPPLEMENT_PERIOD_DAYS", default=15),
    # Reminders before each deadline, in working days.
    "REMINDER_DAYS_BEFORE": env.list("REMINDER_DAYS_BEFORE", cast=int, default=[5, 1]),
    # 期间开始之日不计算在内: the day R itself is not counted.
    "COUNT_RECEIPT_DAY": env.bool("COUNT_RECEIPT_DAY", default=False),
    # Pause the reply clock while a fee notice is outstanding.
    "PAUSE_CLOCK_FOR_FEE": env.bool("PAUSE_CLOCK_FOR_FEE", default=True),
    # Idempotency keys are remembered this many hours.
    "IDEMPOTENCY_TTL_HOURS": env.int("IDEMPOTENCY_TTL_HOURS", default=48),
}

# Art 49: on 1 January, the previous year's annual report of every agency (reporting.tasks).
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["annual-reports-year-end"] = {
    "task": "reporting.generate_year_end_reports_task",
    "schedule": crontab(minute=30, hour=1, day_of_month=1, month_of_year=1),
    "options": {"expires": 20 * 3600},
}
# Next year is known before a deadline reaches it — provisional (statutory holidays only) until
# the State Council's notice is loaded (docs/clock.md, 'Published and provisional years').
# Daily, so a year end never passes without it; a no-op once the year is loaded, and a
# published year is never touched.
CELERY_BEAT_SCHEDULE["calendar-next-year"] = {
    "task": "requests_app.calendar_next_year",
    "schedule": crontab(minute=10, hour=2),
    "options": {"expires": 20 * 3600},
}
