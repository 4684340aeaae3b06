#!/usr/bin/env bash
# Plans and applies the example schema.hcl to a local dev database, then
# plans again to show that nothing is left to do. The database is
# $DATABASE_URL if set, else "keel_dev" on the server scripts/pg.sh finds or
# starts (created if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh
if [[ -z "${DATABASE_URL:-}" ]]; then
  server=$(keel_pg_url)
  psql "$server" -qAtc "SELECT 1 FROM pg_database WHERE datname = 'keel_dev'" | grep -q 1 ||
    psql "$server" -qc "CREATE DATABASE keel_dev"
  # The same URL with the database "keel_dev" instead of "postgres".
  DATABASE_URL=$(printf '%s' "$server" | sed -E 's#/postgres(\?|$)#/keel_dev\1#')
  export DATABASE_URL
fi
mkdir -p bin
go build -o bin/keel ./cmd/keel
echo "+ keel plan --env dev"
bin/keel plan --env dev
echo "+ keel apply --env dev"
bin/keel apply --env dev
echo "+ keel plan --env dev --detailed-exitcode"
bin/keel plan --env dev --detailed-exitcode
