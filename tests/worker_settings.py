"""Settings for the real Celery worker that tests/test_worker.py starts: the local settings,
e-mail written to files (so the test can count what was really sent), a private queue, a
short visibility timeout (so a message whose worker was killed comes back within seconds) and
a quick check for a vanished client on the worker's database connections."""

import os

from config.settings.local import *  # noqa: F403
from config.settings.local import CELERY_BROKER_TRANSPORT_OPTIONS, DATABASES

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["CLOCK_TEST_MAIL_DIR"]
CELERY_TASK_DEFAULT_QUEUE = os.environ["CLOCK_TEST_QUEUE"]
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **CELERY_BROKER_TRANSPORT_OPTIONS,
    "visibility_timeout": 5,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULE = {}
# A killed worker's PostgreSQL backend notices its client is gone while still running a
# statement (the tests pause a batch inside one), rolls back and releases its row locks.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        "-c client_connection_check_interval=500"
    )
