-- The rights of the application's database role: what web, workers and beat need, nothing more.
--
-- Run by the owner of the tables (the role that runs `manage.py migrate`) after every migrate:
--   manage.py grant_app_role disclosure_app          (the `migrate` job in docker/compose.yaml)
-- The app role owns nothing, so it can neither ALTER (DISABLE TRIGGER) nor DROP a table or a
-- trigger, nor create one. :"app_role" is replaced by the role's quoted name.

GRANT USAGE ON SCHEMA public TO :"app_role";
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app_role";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app_role";

-- The migrations are the owner's: the app reads the record only.
REVOKE INSERT, UPDATE, DELETE ON django_migrations FROM :"app_role";
-- A case's history is append-only: read and add, never change or remove (the trigger of
-- audit 0001/0002 refuses UPDATE, DELETE and TRUNCATE even to the owner, as a second guard).
REVOKE UPDATE, DELETE, TRUNCATE ON requests_app_caseevent FROM :"app_role";
-- Cases are referenced by their history (PROTECT): the app never deletes one.
REVOKE DELETE, TRUNCATE ON requests_app_case FROM :"app_role";
