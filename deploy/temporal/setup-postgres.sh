#!/bin/sh
# One-shot job (temporalio/admin-tools): create Temporal's databases on first start and bring
# their schema up to the version this admin-tools image ships, on every start.
set -eu

: "${POSTGRES_SEEDS:?}" "${DB_PORT:=5432}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
: "${DBNAME:=temporal}" "${VISIBILITY_DBNAME:=temporal_visibility}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" \
    -u "$POSTGRES_USER" "$@"
}

echo "waiting for PostgreSQL at $POSTGRES_SEEDS:$DB_PORT"
tries=0
until nc -z "$POSTGRES_SEEDS" "$DB_PORT"; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "PostgreSQL did not open port $DB_PORT" >&2; exit 1; }
  sleep 1
done

# update-schema only succeeds on a database that already has Temporal's version table, so a
# failure here means a fresh database: create it, stamp version 0.0, then update.
prepare() {
  db=$1
  versions=$SCHEMA_ROOT/$2/versioned
  if sql_tool --db "$db" update-schema -d "$versions" >/dev/null 2>&1; then
    echo "database $db: schema is up to date"
    return
  fi
  echo "database $db: first start, creating it and its schema"
  sql_tool --db "$db" create
  sql_tool --db "$db" setup-schema -v 0.0
  sql_tool --db "$db" update-schema -d "$versions"
}

prepare "$DBNAME" temporal
prepare "$VISIBILITY_DBNAME" visibility
echo "Temporal schema ready"
