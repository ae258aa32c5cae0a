#!/usr/bin/env bash
# Starts/stops the real services the test suites use, on private loopback ports, with
# their data under .cache/services. Idempotent: `start` reuses a running instance.
#   scripts/services.sh start [postgres] [redis]   -> prints export lines for the URLs
#   scripts/services.sh stop
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pg_port="${CODEMIE_TEST_PG_PORT:-55432}"
redis_port="${CODEMIE_TEST_REDIS_PORT:-56379}"
# Outside the checkout on purpose: the postgres user must be able to reach it even when the
# checkout lives under a private (0700) directory, as CI's clone may.
dir="${CODEMIE_SERVICES_DIR:-/tmp/codemie-services-$pg_port}"
mkdir -p "$dir"
[ "$(id -u)" = 0 ] && chmod 755 "$dir"

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_bin() {
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && { echo "$d"; return; }; done
  command -v pg_ctl >/dev/null && dirname "$(command -v pg_ctl)" && return
  return 1
}

start_postgres() {
  local bin; bin="$(pg_bin)" || { echo "postgres not installed" >&2; return 1; }
  local data="$dir/pg"
  if [ ! -s "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$data" && chmod 700 "$data"
    as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$dir/pg-init.log" 2>&1 ||
      { echo "initdb failed:" >&2; tail -5 "$dir/pg-init.log" >&2; return 1; }
  fi
  [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$data"
  if ! as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
      -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" start >/dev/null ||
      { echo "postgres failed to start:" >&2; tail -5 "$data/server.log" >&2; return 1; }
  fi
  echo "export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:$pg_port/postgres"
}

start_redis() {
  command -v redis-server >/dev/null || { echo "redis-server not installed" >&2; return 1; }
  if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    redis-server --port "$redis_port" --bind 127.0.0.1 --daemonize yes --dir "$dir" \
      --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "" --appendonly yes >/dev/null
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "export TEST_REDIS_URL=redis://127.0.0.1:$redis_port"
}

case "${1:-}" in
  start)
    shift
    what=("$@"); [ ${#what[@]} -eq 0 ] && what=(postgres redis)
    for s in "${what[@]}"; do "start_$s"; done
    ;;
  stop)
    bin="$(pg_bin || true)"
    [ -n "$bin" ] && [ -s "$dir/pg/PG_VERSION" ] && as_pg "$bin/pg_ctl" -D "$dir/pg" -m fast stop >/dev/null 2>&1 || true
    command -v redis-cli >/dev/null && redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    ;;
  *) echo "usage: $0 start [postgres] [redis] | stop" >&2; exit 2 ;;
esac
