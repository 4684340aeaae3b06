#!/usr/bin/env bash
# Runs keel's tests against a real PostgreSQL: $DATABASE_URL if set, else a
# server on 127.0.0.1:5432, else one this script starts or installs
# (scripts/pg.sh). Each test creates its own database there and drops it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh
KEEL_TEST_DATABASE_URL=$(keel_pg_url)
export KEEL_TEST_DATABASE_URL
go vet ./...
go test -count=1 "$@" ./...
