"""Give the application's database role exactly the rights it needs (audit/sql/app_role.sql).

    manage.py grant_app_role disclosure_app      # as the owner, after every `migrate`

Run by the owner of the tables (the ``migrate`` job of docker/compose.yaml does it after
``migrate``), so tables a migration just created are covered. Idempotent. PostgreSQL only.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

SQL = Path(__file__).resolve().parents[2] / "sql" / "app_role.sql"
ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def app_role_sql(role: str) -> str:
    """The grants of audit/sql/app_role.sql for ``role`` (a plain lower-case role name)."""
    if not ROLE_NAME.match(role):
        raise CommandError(f"角色名不合法 / not a plain role name: {role!r}")
    return SQL.read_text().replace(':"app_role"', connection.ops.quote_name(role))


class Command(BaseCommand):
    help = (
        "授予应用数据库角色所需的最小权限（迁移后由表的所有者运行）。/ Grant the application's "
        "database role exactly what it needs (run by the tables' owner after migrate)."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="应用角色名 / the app role, e.g. disclosure_app")

    def handle(self, *args, role, **options):
        if connection.vendor != "postgresql":
            raise CommandError("仅适用于 PostgreSQL / PostgreSQL only")
        sql = app_role_sql(role)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                raise CommandError(f"角色不存在 / no such role: {role}")
            cursor.execute(
                f"GRANT CONNECT ON DATABASE {connection.ops.quote_name(connection.settings_dict['NAME'])} "
                f"TO {connection.ops.quote_name(role)}"
            )
            cursor.execute(sql)
        self.stdout.write(f"granted the app role's rights to {role}")
