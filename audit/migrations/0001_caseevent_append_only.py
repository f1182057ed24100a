"""The second guard of the append-only history: on PostgreSQL, a trigger refuses every UPDATE
and DELETE of ``requests_app_caseevent`` whatever the code does (raw SQL, ``save_base``,
``_base_manager``). TRUNCATE: migration 0002 and the app role's grants
(``manage.py grant_app_role``).

Other databases (SQLite in development) have only the model's guards."""

from django.db import migrations

FUNCTION = "requests_app_caseevent_append_only"
TRIGGER = "caseevent_append_only"

CREATE = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'requests_app_caseevent is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'The history of a case cannot be changed or deleted.';
END
$$;
DROP TRIGGER IF EXISTS {TRIGGER} ON requests_app_caseevent;
CREATE TRIGGER {TRIGGER}
    BEFORE UPDATE OR DELETE ON requests_app_caseevent
    FOR EACH ROW EXECUTE FUNCTION {FUNCTION}();
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
    dependencies = [("requests_app", "0002_proceedings")]

    operations = [
        migrations.RunPython(_run_on_postgresql(CREATE), _run_on_postgresql(DROP)),
    ]
