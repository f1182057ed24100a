"""Shared bench setup: Django against DATABASE_URL (PostgreSQL), migrated."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "0")  # no query log
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "set DATABASE_URL to a PostgreSQL database (e.g. postgres://postgres@127.0.0.1:5432/report_dev)"
        )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
