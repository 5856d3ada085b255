#!/bin/bash
# Runs once, when the postgres container starts on an empty volume: a database and
# an owner of the same name for each service. No service can read another's tables.
set -euo pipefail

create() {
  local name=$1 password=$2
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v name="$name" -v password="$password" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
}

create account "$ACCOUNT_DB_PASSWORD"
create order "$ORDER_DB_PASSWORD"
create invoicing "$INVOICING_DB_PASSWORD"
create shipping "$SHIPPING_DB_PASSWORD"
