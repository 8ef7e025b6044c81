#!/bin/sh
# The database's two roles, made once when the postgres container creates an empty data
# directory (docker-compose.yml mounts this file into /docker-entrypoint-initdb.d/; the image
# runs it as the superuser, POSTGRES_USER, against POSTGRES_DB):
#
# - ZHONGDU_DB_OWNER owns the database, its schema and every table; `migrate` runs as it, then
#   `manage.py db_grant_app_role` (zhongdu/dbroles.py), which sets the application role's
#   privileges on the tables that exist, append-only ones included;
# - ZHONGDU_DB_APP is what web, worker and beat connect as: neither owner nor superuser, so it
#   cannot alter, disable the triggers of, drop or empty a table it was not given.
#
# The owner's default privileges give the application role SELECT, INSERT, UPDATE and DELETE on
# every table a later migration creates (the same lists as zhongdu/dbroles.py: keep them equal;
# tests/zhongdu/test_compose.py compares them). Never TRUNCATE.
#
# A data directory made before this script existed is not touched by it: recreate the volume,
# or run this script once by hand (README.md, "Production").
set -e
: "${POSTGRES_USER:?}" "${POSTGRES_DB:?}"
: "${ZHONGDU_DB_OWNER:?set ZHONGDU_DB_OWNER}" "${ZHONGDU_DB_OWNER_PASSWORD:?set ZHONGDU_DB_OWNER_PASSWORD}"
: "${ZHONGDU_DB_APP:?set ZHONGDU_DB_APP}" "${ZHONGDU_DB_APP_PASSWORD:?set ZHONGDU_DB_APP_PASSWORD}"

# psql fills in :"name" (an identifier) and :'name' (a literal) from the -v variables; the
# quoted here-document keeps the shell from touching the SQL.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" \
    -v owner="$ZHONGDU_DB_OWNER" -v owner_password="$ZHONGDU_DB_OWNER_PASSWORD" \
    -v app="$ZHONGDU_DB_APP" -v app_password="$ZHONGDU_DB_APP_PASSWORD" <<'SQL'
BEGIN;
CREATE ROLE :"owner" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_password';

-- The owner owns the database and, through pg_database_owner (Postgres 15 and later), its
-- public schema: it creates the tables. Nobody else may create anything in it.
ALTER DATABASE :"db" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO :"app";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";

-- Tables and sequences the owner creates from now on (every migration).
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"app";
COMMIT;
SQL
