"""The append-only trigger also refuses TRUNCATE of ``requests_app_caseevent`` (directly or by
``TRUNCATE requests_app_case CASCADE``), for every role, the owner included.

A database that is meant to be emptied — the test runner's, a benchmark's own — says so for its
session with ``SET disclosure.allow_truncate = 'on'`` (config/settings/test.py does it on
PostgreSQL). That is no way around the guard for the app: its role has no TRUNCATE right at all
(``manage.py grant_app_role``), and a role that can TRUNCATE owns the table and could drop the
trigger anyway; the trigger stops a mistaken ``TRUNCATE`` or ``manage.py flush`` by the owner."""

from django.db import migrations

FUNCTION = "requests_app_caseevent_no_truncate"
TRIGGER = "caseevent_no_truncate"

CREATE = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('disclosure.allow_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'requests_app_caseevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'The history of a case cannot be changed or deleted.';
END
$$;
DROP TRIGGER IF EXISTS {TRIGGER} ON requests_app_caseevent;
CREATE TRIGGER {TRIGGER}
    BEFORE TRUNCATE ON requests_app_caseevent
    FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}();
"""

DROP = f"""
DROP TRIGGER IF EXISTS {TRIGGER} ON requests_app_caseevent;
DROP FUNCTION IF EXISTS {FUNCTION}();
"""


def _run_on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)  # no placeholders: RAISE uses %

    return run


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_caseevent_append_only")]

    operations = [
        migrations.RunPython(_run_on_postgresql(CREATE), _run_on_postgresql(DROP)),
    ]
