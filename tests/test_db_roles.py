"""The history is immutable only if the app cannot undo it (issue 13 §3): on PostgreSQL, a
connection as the app role (``manage.py grant_app_role``) cannot UPDATE, DELETE or TRUNCATE the
history, nor DISABLE or DROP its trigger or the table; the trigger refuses TRUNCATE to the owner
too; and the app role still does its daily work."""

import uuid

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from requests_app.choices import CaseState
from requests_app.models import CaseEvent
from tests.factories import case_in_state

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"
)
pytestmark = [needs_postgres, pytest.mark.postgres]


@pytest.fixture
def app_role(transactional_db):
    """A login role of its own for this test, given the app's rights; dropped afterwards."""
    role = f"test_app_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} LOGIN")
    try:
        call_command("grant_app_role", role)
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")


def connect_as(role):
    params = connection.get_connection_params()
    return psycopg.connect(
        host=params.get("host") or "127.0.0.1",
        port=params.get("port") or 5432,
        dbname=connection.settings_dict["NAME"],
        user=role,
        autocommit=True,
    )


@pytest.fixture
def case(office, approver):
    return case_in_state(CaseState.PROCESSING, agency=office, actor=approver)


def history(case):
    return list(CaseEvent.objects.filter(case=case).order_by("pk").values())


REFUSED = [
    ("UPDATE requests_app_caseevent SET reason = 'rewritten'", "permission denied"),
    ("DELETE FROM requests_app_caseevent", "permission denied"),
    ("TRUNCATE requests_app_caseevent", "permission denied"),
    ("TRUNCATE requests_app_case CASCADE", "permission denied"),
    ("DELETE FROM requests_app_case", "permission denied"),
    ("ALTER TABLE requests_app_caseevent DISABLE TRIGGER caseevent_append_only", "must be owner"),
    ("ALTER TABLE requests_app_caseevent DISABLE TRIGGER ALL", "must be owner"),
    ("DROP TRIGGER caseevent_append_only ON requests_app_caseevent", "must be owner"),
    ("DROP TRIGGER caseevent_no_truncate ON requests_app_caseevent", "must be owner"),
    ("DROP TABLE requests_app_caseevent", "must be owner"),
    ("DROP FUNCTION requests_app_caseevent_append_only()", "must be owner"),
    ("CREATE TABLE sneaky (id int)", "permission denied"),
    ("INSERT INTO django_migrations (app, name, applied) VALUES ('x', 'y', now())", "denied"),
]


@pytest.mark.parametrize(("statement", "error"), REFUSED, ids=[s for s, _ in REFUSED])
def test_the_app_role_cannot_undo_the_history(app_role, case, statement, error):
    before = history(case)
    with connect_as(app_role) as conn, pytest.raises(psycopg.Error, match=error):
        conn.execute(statement)
    assert history(case) == before
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger "
            "WHERE tgrelid = 'requests_app_caseevent'::regclass AND NOT tgisinternal ORDER BY 1"
        )
        assert cursor.fetchall() == [("caseevent_append_only", "O"), ("caseevent_no_truncate", "O")]


def test_the_app_role_does_its_work(app_role, case, approver):
    with connect_as(app_role) as conn:
        count = conn.execute(
            "SELECT count(*) FROM requests_app_caseevent WHERE case_id = %s", [case.pk]
        ).fetchone()[0]
        assert count == len(history(case))
        conn.execute(
            "INSERT INTO requests_app_caseevent (case_id, kind, actor_id, actor_label, recorded_at, "
            "effective_at, from_state, to_state, data, reason) "
            "SELECT case_id, 'note', actor_id, '', now(), now(), '', '', '{}', 'by the app role' "
            "FROM requests_app_caseevent WHERE case_id = %s LIMIT 1",
            [case.pk],
        )
        conn.execute("UPDATE requests_app_case SET version = version WHERE id = %s", [case.pk])
        conn.execute("DELETE FROM django_session")
    assert history(case)[-1]["reason"] == "by the app role"


def test_the_trigger_refuses_truncate_to_the_owner_too(transactional_db, case):
    # This connection owns the tables (the test settings allow TRUNCATE for the runner's own
    # flush): without that allowance, the owner's TRUNCATE is refused.
    before = history(case)
    for statement in ("TRUNCATE requests_app_caseevent", "TRUNCATE requests_app_case CASCADE"):
        with (
            pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET LOCAL disclosure.allow_truncate = 'off'")
            cursor.execute(statement)
    assert history(case) == before


def test_grant_app_role_refuses_an_odd_or_unknown_role(db):
    with pytest.raises(CommandError, match="not a plain role name"):
        call_command("grant_app_role", 'x"; DROP TABLE requests_app_case; --')
    with pytest.raises(CommandError, match="no such role"):
        call_command("grant_app_role", "no_such_role_here")
