#!/usr/bin/env bash
# Runs keel's tests against a real PostgreSQL: $DATABASE_URL if set, else a
# server on 127.0.0.1:5432, else one this script starts or installs
# (scripts/pg.sh). Each test creates its own database there and drops it.
# The corpus check (corpus/, results in docs/corpus.md) runs with them, on
# $KEEL_CORPUS, by default ../shared/corpus beside the repository. As root on
# Debian it installs pgbouncer, for the connection-pooler tests, and PostGIS,
# for the extension test, when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh
KEEL_TEST_DATABASE_URL=$(keel_pg_url)
export KEEL_TEST_DATABASE_URL
corpus=${KEEL_CORPUS:-$PWD/../shared/corpus}
unset KEEL_CORPUS
# The connection-pooler tests start their own PgBouncer; without one they are
# skipped, saying why. As root on Debian, install it when it is missing.
if ! command -v pgbouncer >/dev/null 2>&1 && [[ ! -x /usr/sbin/pgbouncer ]] &&
  [[ -f /etc/debian_version && $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "test.sh: pgbouncer not found; installing it with apt-get for the connection-pooler tests" >&2
  aptlog=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer; } >"$aptlog" 2>&1; then
    cat "$aptlog" >&2
    echo "test.sh: warning: installing pgbouncer failed; the connection-pooler tests will be skipped" >&2
  fi
  rm -f "$aptlog"
fi
# The PostGIS test (an extension with hundreds of objects keel must never
# show or plan) needs PostGIS on the server; without it the test is skipped,
# saying why. As root on Debian, with the server on this machine, install it.
if [[ -f /etc/debian_version && $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; then
  pgmajor=$(psql "$KEEL_TEST_DATABASE_URL" -Atc "SELECT current_setting('server_version_num')::int / 10000" 2>/dev/null || true)
  if [[ -n $pgmajor && -d /usr/share/postgresql/$pgmajor/extension && ! -f /usr/share/postgresql/$pgmajor/extension/postgis.control ]]; then
    echo "test.sh: PostGIS not found; installing postgresql-$pgmajor-postgis-3 with apt-get for the extension test" >&2
    aptlog=$(mktemp)
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$pgmajor-postgis-3"; } >"$aptlog" 2>&1; then
      cat "$aptlog" >&2
      echo "test.sh: warning: installing PostGIS failed; the PostGIS test will be skipped" >&2
    fi
    rm -f "$aptlog"
  fi
fi
# The Atlas engine's tests need an Atlas CLI binary: $KEEL_ATLAS_BIN, else
# atlas on PATH, else ~/.cache/keel-atlas/atlas. Without one they are
# skipped, and this says so (docs/atlas-engine.md says how to get one).
atlas_cached=${XDG_CACHE_HOME:-$HOME/.cache}/keel-atlas/atlas
if [[ -z ${KEEL_ATLAS_BIN:-} ]] && ! command -v atlas >/dev/null 2>&1 && [[ -x $atlas_cached ]]; then
  export KEEL_ATLAS_BIN=$atlas_cached
fi
if [[ -z ${KEEL_ATLAS_BIN:-} ]] && ! command -v atlas >/dev/null 2>&1; then
  echo "test.sh: Atlas engine tests SKIPPED: no Atlas binary (KEEL_ATLAS_BIN, atlas on PATH or $atlas_cached)" >&2
else
  echo "test.sh: Atlas engine tests run with ${KEEL_ATLAS_BIN:-$(command -v atlas)}" >&2
fi
go vet ./...
# The tests' normalization cache goes to a directory of their own, not ~/.cache.
KEEL_CACHE_DIR=$(mktemp -d)
export KEEL_CACHE_DIR
trap 'rm -rf "$KEEL_CACHE_DIR"' EXIT
# The corpus check runs with the rest when the corpus is there.
if [ -d "$corpus/migra" ]; then
  export KEEL_CORPUS=$corpus
else
  echo "corpus check skipped: no $corpus/migra (set KEEL_CORPUS to the corpus directory)" >&2
fi
# Most tests wait on PostgreSQL: more run at once than there are cores.
go test -count=1 -timeout 20m -p 2 -parallel 4 "$@" ./...
