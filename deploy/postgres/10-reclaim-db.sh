#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# Temporal's two databases are created by the temporal-admin-tools job; Reclaim gets its own
# role and database here so its tables never share a schema with Temporal's.
set -eu

: "${RECLAIM_DB_USER:=reclaim}"
: "${RECLAIM_DB_NAME:=reclaim}"
: "${RECLAIM_DB_PASSWORD:?RECLAIM_DB_PASSWORD must be set for the postgresql service}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v db_user="$RECLAIM_DB_USER" -v db_name="$RECLAIM_DB_NAME" \
  -v db_password="$RECLAIM_DB_PASSWORD" <<'SQL'
CREATE ROLE :"db_user" LOGIN PASSWORD :'db_password';
CREATE DATABASE :"db_name" OWNER :"db_user";
SQL

echo "created database $RECLAIM_DB_NAME owned by $RECLAIM_DB_USER"
