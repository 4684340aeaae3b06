#!/usr/bin/env bash
# Runs scripts/bench.sh against a throwaway PostgreSQL cluster whose data
# directory is in memory (/dev/shm, fsync off): the same benchmark with no
# disk and no file system cost, to tell the server's CPU from its file
# system's (creating a table's files is most of an empty-cache plan on some
# disks; see the README's Performance). Usage: `scripts/bench-memory.sh [N]`,
# as scripts/bench.sh, whose KEEL_BENCH_* variables it passes on. The cluster
# is made from the newest local server binaries, listens on
# 127.0.0.1:$KEEL_BENCH_MEMORY_PORT (default 54330) and is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/pg.sh
say() { printf 'bench-memory: %s\n' "$*" >&2; }
bin=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
[[ -x $bin ]] || bin=$(command -v initdb 2>/dev/null) || true
[[ -n $bin && -x $bin ]] || { say "no PostgreSQL server binaries (initdb) on this machine"; exit 1; }
bin=${bin%/initdb}
[[ -d /dev/shm && -w /dev/shm ]] || { say "/dev/shm is not writable here"; exit 1; }
port=${KEEL_BENCH_MEMORY_PORT:-54330}
if _keel_pg_ready "$port"; then
  say "a server already listens on 127.0.0.1:$port (set KEEL_BENCH_MEMORY_PORT)"; exit 1
fi
user=$(id -un) owner=$(id -un)
if [[ $(id -u) == 0 ]]; then # initdb and postgres refuse to run as root
  owner=postgres
  id postgres >/dev/null 2>&1 || { say "running as root needs a postgres user to own the cluster"; exit 1; }
fi
base=$(mktemp -d /dev/shm/keel-bench-pg.XXXXXX)
[[ $owner == "$user" ]] || chown "$owner:" "$base"
stop() {
  _keel_pg_as "$owner" "$bin/pg_ctl" -D "$base/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$base"
}
trap stop EXIT
say "initialising a cluster in $base ($bin)"
_keel_pg_as "$owner" "$bin/initdb" -D "$base/data" --auth=trust --username="$user" -E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 ||
  _keel_pg_as "$owner" "$bin/initdb" -D "$base/data" --auth=trust --username="$user" -E UTF8 --locale=C >"$base/initdb.log" 2>&1 ||
  { cat "$base/initdb.log" >&2; say "initdb failed"; exit 1; }
_keel_pg_as "$owner" "$bin/pg_ctl" -D "$base/data" -l "$base/log" \
  -o "-p $port -k '$base' -c listen_addresses=127.0.0.1 -c fsync=off" -w start >/dev/null ||
  { cat "$base/log" >&2; say "pg_ctl start failed"; exit 1; }
DATABASE_URL="postgres://$user@127.0.0.1:$port/postgres" bash scripts/bench.sh "$@"
