#!/usr/bin/env bash
# Find or start a PostgreSQL server for keel; print ONE line on stdout, a base URL
# to its "postgres" database (progress on stderr). Usage: `. scripts/pg.sh;
# url=$(keel_pg_url)` (sourcing only defines functions) or `bash scripts/pg.sh`.
# Order: 1 $DATABASE_URL; 2 a server on 127.0.0.1:5432; 3 start a Debian cluster;
# 4 throwaway cluster on 127.0.0.1:54329 in ${TMPDIR:-/tmp}/keel-pg; 5 apt-get.
# Testing aid: KEEL_PG_SKIP_SYSTEM=1 skips steps 2, 3 and 5 (5432, Debian
# cluster, apt-get) so the throwaway-cluster path can be tried anywhere.
# Remove the throwaway cluster (as root, via `runuser -u postgres --`) with:
#   /usr/lib/postgresql/15/bin/pg_ctl -D "${TMPDIR:-/tmp}/keel-pg/data" stop; rm -rf "${TMPDIR:-/tmp}/keel-pg"

_keel_pg_log() { printf 'pg.sh: %s\n' "$*" >&2; }
_keel_pg_has() { command -v "$1" >/dev/null 2>&1; }

# _keel_pg_ready PORT: does a server accept connections on 127.0.0.1:PORT?
_keel_pg_ready() {
  if _keel_pg_has pg_isready; then
    pg_isready -q -h 127.0.0.1 -p "$1" -t 3 >/dev/null 2>&1
  elif _keel_pg_has timeout; then
    timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# _keel_pg_wait PORT: wait up to 30 s for the server on PORT.
_keel_pg_wait() {
  local i
  for ((i = 0; i < 30; i++)); do _keel_pg_ready "$1" && return 0; sleep 1; done
  return 1
}

# _keel_pg_as USER CMD...: run CMD as USER (directly if that is us; else from /
# via runuser or su, so the cwd's permissions don't matter).
_keel_pg_as() {
  local u=$1; shift
  if [[ $u == "$(id -un)" ]]; then "$@"
  elif _keel_pg_has runuser; then (cd / && runuser -u "$u" -- "$@")
  else (cd / && su -s /bin/sh -c 'exec "$@"' "$u" -- sh "$@"); fi
}

# _keel_pg_login USER PORT: can USER log in over TCP without a password prompt?
_keel_pg_login() {
  psql -w -X "postgres://$1@127.0.0.1:$2/postgres" -Atc 'select 1' </dev/null >/dev/null 2>&1
}

# _keel_pg_url_for PORT: print the URL for 127.0.0.1:PORT with a role that can log in.
_keel_pg_url_for() {
  local port=$1 user
  user=$(id -un)
  if _keel_pg_has psql && ! _keel_pg_login "$user" "$port"; then
    if [[ $(id -u) == 0 ]] && id postgres >/dev/null 2>&1 &&
      _keel_pg_as postgres psql -X -q -p "$port" -c "CREATE ROLE \"$user\" SUPERUSER LOGIN" >&2 &&
      _keel_pg_login "$user" "$port"; then
      _keel_pg_log "created superuser role $user on port $port"
    elif [[ -d /var/run/postgresql ]] &&
      psql -w -X "postgres://$user@/postgres?host=/var/run/postgresql&port=$port" -Atc 'select 1' </dev/null >/dev/null 2>&1; then
      # A fresh Debian install asks for a password over TCP; its local socket
      # lets an OS user in as the role of the same name.
      _keel_pg_log "role $user cannot log in over TCP on port $port; using the local socket"
      printf 'postgres://%s@/postgres?host=/var/run/postgresql&port=%s\n' "$user" "$port"
      return 0
    else
      _keel_pg_log "role $user cannot log in on port $port; using role postgres"
      _keel_pg_login postgres "$port" || _keel_pg_log "warning: role postgres cannot log in either (check pg_hba.conf)"
      user=postgres
    fi
  fi
  printf 'postgres://%s@127.0.0.1:%s/postgres\n' "$user" "$port"
}

# Step 3: start the highest-version Debian cluster (preferring "main") if it is down.
_keel_pg_cluster() {
  _keel_pg_has pg_lsclusters || return 1
  local line ver name port status
  line=$(pg_lsclusters --no-header 2>/dev/null | awk '{print ($2 == "main"), $0}' |
    sort -k2,2V -k1,1n | tail -n 1) || true
  [[ -n $line ]] || return 1
  read -r _ ver name port status _ <<<"$line"
  if [[ $status != online* ]]; then
    _keel_pg_log "starting Debian cluster $ver/$name (port $port)"
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start >&2 ||
      { _keel_pg_log "could not start cluster $ver/$name"; return 1; }
  fi
  _keel_pg_wait "$port" || { _keel_pg_log "cluster $ver/$name not ready on port $port after 30 s"; return 1; }
  _keel_pg_url_for "$port"
}

# Step 4: throwaway cluster on 127.0.0.1:54329. Returns 2 if there are no server binaries.
_keel_pg_local() {
  local bin base data user owner port=54329
  bin=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1) || true
  [[ -x $bin ]] || bin=$(command -v initdb 2>/dev/null) || true
  [[ -n $bin && -x $bin ]] || return 2
  bin=${bin%/initdb}
  base=${TMPDIR:-/tmp}/keel-pg data=${TMPDIR:-/tmp}/keel-pg/data
  user=$(id -un) owner=$(id -un)
  if [[ $(id -u) == 0 ]]; then  # initdb/postgres refuse to run as root
    owner=postgres
    if ! id postgres >/dev/null 2>&1; then
      owner=keelpg
      id keelpg >/dev/null 2>&1 || useradd --system --user-group --no-create-home \
        --home-dir / --shell /usr/sbin/nologin keelpg >&2 || { _keel_pg_log "cannot create user keelpg"; return 1; }
    fi
  fi
  if ! { mkdir -p "$base" && { [[ $owner == "$user" ]] || chown "$owner:" "$base"; } &&
    _keel_pg_as "$owner" chmod 700 "$base" && _keel_pg_as "$owner" test -w "$base"; }; then
    _keel_pg_log "$owner cannot use $base (try TMPDIR=/tmp, or remove $base)"; return 1
  fi
  if _keel_pg_ready "$port"; then
    _keel_pg_log "reusing the server already on 127.0.0.1:$port"
  else
    if [[ ! -s $data/PG_VERSION ]]; then
      _keel_pg_log "initialising throwaway cluster in $data ($bin)"
      rm -rf "$data"
      # C.UTF-8 like Debian's default cluster; plain C where that locale is missing
      _keel_pg_as "$owner" "$bin/initdb" -D "$data" --auth=trust --username="$user" -E UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 ||
        _keel_pg_as "$owner" "$bin/initdb" -D "$data" --auth=trust --username="$user" -E UTF8 --locale=C >"$base/initdb.log" 2>&1 ||
        { cat "$base/initdb.log" >&2; _keel_pg_log "initdb failed"; return 1; }
    fi
    _keel_pg_log "starting throwaway cluster on 127.0.0.1:$port (log: $base/log)"
    _keel_pg_as "$owner" "$bin/pg_ctl" -D "$data" -l "$base/log" \
      -o "-p $port -k '$base' -c listen_addresses=127.0.0.1" -w start >&2 ||
      { _keel_pg_log "pg_ctl start failed; see $base/log"; return 1; }
  fi
  printf 'postgres://%s@127.0.0.1:%s/postgres\n' "$user" "$port"
}

keel_pg_url() {
  local skip=${KEEL_PG_SKIP_SYSTEM:-} rc=0
  # 1. explicit URL (never echoed to stderr: it may hold a password)
  if [[ -n ${DATABASE_URL:-} ]]; then
    _keel_pg_has pg_isready && ! pg_isready -q -d "$DATABASE_URL" -t 5 >/dev/null 2>&1 &&
      _keel_pg_log "warning: the server in \$DATABASE_URL is not accepting connections"
    printf '%s\n' "$DATABASE_URL"
    return 0
  fi
  # 2. a server already on 127.0.0.1:5432
  if [[ -z $skip ]] && _keel_pg_ready 5432; then _keel_pg_url_for 5432; return; fi
  # 3. a Debian cluster that is down
  if [[ -z $skip ]] && _keel_pg_cluster; then return 0; fi
  # 4. local server binaries: throwaway cluster
  _keel_pg_local || rc=$?
  if ((rc == 0)); then return 0; elif ((rc != 2)); then return 1; fi
  # 5. root on Debian: install PostgreSQL, then retry steps 3 and 4
  if [[ -z $skip && -f /etc/debian_version && $(id -u) == 0 ]] && _keel_pg_has apt-get; then
    _keel_pg_log "PostgreSQL not found; installing it with apt-get"
    if { apt-get update -qq &&
      { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }; } >&2; then
      _keel_pg_cluster && return 0
      _keel_pg_local && return 0
    fi
  fi
  # 6. give up
  _keel_pg_log "error: no PostgreSQL server found. Set DATABASE_URL (e.g. postgres://USER@HOST:5432/postgres)" \
    "or install PostgreSQL 15 (Debian, as root: apt-get install postgresql) and start it."
  return 1
}

# Run directly (not sourced): print the URL and exit with its status.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  keel_pg_url
fi
