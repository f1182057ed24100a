#!/bin/sh
# Run once by the postgres image on a fresh data volume (/docker-entrypoint-initdb.d/): the two
# roles of the application. The owner owns the database (and so its public schema) and runs
# the migrations; the app role owns nothing and gets its rights from `manage.py
# grant_app_role`, which the migrate job runs after each `migrate`.
# An existing volume: run this once by hand (docs/operations.md "Database roles").
set -eu
: "${DB_OWNER_PASSWORD:?set DB_OWNER_PASSWORD}"
: "${DB_APP_PASSWORD:?set DB_APP_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v db="$POSTGRES_DB" -v owner=disclosure_owner -v app=disclosure_app \
  -v owner_password="$DB_OWNER_PASSWORD" -v app_password="$DB_APP_PASSWORD" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN PASSWORD :'app_password';
ALTER DATABASE :"db" OWNER TO :"owner";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app";
SQL
