-- Keep the application's database role from changing or deleting a case's history.
--
-- Run as the owner of the tables (the role that runs `manage.py migrate`), with the app's
-- role in place of :app_role, e.g.
--   psql -U disclosure_owner -d disclosure -v app_role=disclosure_app -f audit/sql/restrict_app_role.sql
-- The app role keeps SELECT and INSERT (it writes new events); UPDATE, DELETE and TRUNCATE are
-- taken away. The trigger of migration audit 0001 refuses UPDATE and DELETE for every role
-- (the table owner included) as a second guard.

REVOKE UPDATE, DELETE, TRUNCATE ON requests_app_caseevent FROM :"app_role";
GRANT SELECT, INSERT ON requests_app_caseevent TO :"app_role";
GRANT USAGE, SELECT ON SEQUENCE requests_app_caseevent_id_seq TO :"app_role";
-- Cases are referenced by their history (ON DELETE PROTECT in the model, a foreign key in the
-- database): the app never deletes them either.
REVOKE DELETE, TRUNCATE ON requests_app_case FROM :"app_role";
