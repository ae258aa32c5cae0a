#!/usr/bin/env bash
# A real Keycloak for tests and local trials, without docker: the server distribution
# org.keycloak:keycloak-quarkus-dist from Maven Central, run with `kc.sh start-dev` on loopback.
#
#   scripts/keycloak.sh fetch           download + unpack into .cache/keycloak/<version> (once, cached)
#   scripts/keycloak.sh start           start-dev on 127.0.0.1:$KEYCLOAK_PORT, wait until ready, print exports
#   scripts/keycloak.sh stop            stop the Keycloak started by this script
#   scripts/keycloak.sh status          print whether it is running (exit 0) or not (exit 1)
#   scripts/keycloak.sh reset           stop and delete its data (realms, users, clients)
#   eval "$(scripts/keycloak.sh fetch start)"
#
# Every command is idempotent: fetch reuses the cache, start reuses a running instance.
# Stdout carries only `export ...` lines (for eval); progress goes to stderr.
#
# Environment:
#   KEYCLOAK_VERSION        distribution version (default 26.5.6; needs Java 17+)
#   KEYCLOAK_PORT           HTTP port (default 58080); the management port (health) is KEYCLOAK_PORT+1
#   KEYCLOAK_ADMIN_USER     bootstrap admin of the master realm (default admin)
#   KEYCLOAK_ADMIN_PASSWORD bootstrap admin password (default admin)
#   KEYCLOAK_START_TIMEOUT  seconds to wait for readiness (default 300)
#   JAVA_HOME               JDK to run it with (default: `java` on PATH, else a JDK 17+ under /usr/lib/jvm)
#
# Exit codes: 0 ok, 1 failure, 3 Maven Central unreachable (the tests skip on this one only),
#             4 a prerequisite (Java 17+, Maven, tar) is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

VERSION=${KEYCLOAK_VERSION:-26.5.6}
PORT=${KEYCLOAK_PORT:-58080}
MGMT_PORT=$((PORT + 1))
ADMIN_USER=${KEYCLOAK_ADMIN_USER:-admin}
ADMIN_PASSWORD=${KEYCLOAK_ADMIN_PASSWORD:-admin}
TIMEOUT=${KEYCLOAK_START_TIMEOUT:-300}
CACHE=$ROOT/.cache/keycloak
HOME_DIR=$CACHE/$VERSION
KC_DIR=$HOME_DIR/keycloak-$VERSION
RUN_DIR=$CACHE/run-$PORT
PID_FILE=$RUN_DIR/keycloak.pid
LOG_FILE=$RUN_DIR/keycloak.log
ARTIFACT=org.keycloak:keycloak-quarkus-dist:$VERSION:tar.gz
URL=http://127.0.0.1:$PORT

say() { printf '[keycloak] %s\n' "$*" >&2; }
loud() {
  {
    printf '\n%s\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
    for line in "$@"; do printf '!!! %s\n' "$line"; done
    printf '%s\n\n' '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
  } >&2
}

java_major() { # prints the major version of the given java binary
  "$1" -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'
}

find_java() {
  local candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME/bin/java")
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  for d in /usr/lib/jvm/*/bin/java; do [ -x "$d" ] && candidates+=("$d"); done
  for j in "${candidates[@]}"; do
    [ -x "$j" ] || continue
    local major
    major=$(java_major "$j" || true)
    if [ -n "$major" ] && [ "$major" -ge 17 ]; then
      printf '%s\n' "$(cd "$(dirname "$j")/.." && pwd)"
      return 0
    fi
  done
  return 1
}

maven_central_reachable() {
  curl -sS -o /dev/null --max-time 15 -I https://repo.maven.apache.org/maven2/org/keycloak/ 2>/dev/null
}

fetch() {
  if [ -x "$KC_DIR/bin/kc.sh" ]; then
    say "distribution $VERSION already in ${KC_DIR#"$ROOT"/}"
    return 0
  fi
  command -v tar >/dev/null 2>&1 || { loud "tar is not installed"; exit 4; }
  local m2=${MAVEN_REPO:-$HOME/.m2/repository}
  local archive=$m2/org/keycloak/keycloak-quarkus-dist/$VERSION/keycloak-quarkus-dist-$VERSION.tar.gz
  if [ ! -f "$archive" ]; then
    if ! command -v mvn >/dev/null 2>&1; then
      loud "Maven (mvn) is not installed: cannot download $ARTIFACT." \
        "Install it (apt-get install maven) or put the archive at $archive"
      exit 4
    fi
    say "downloading $ARTIFACT from Maven Central (~160 MB)"
    local out
    if ! out=$(mvn -B -q dependency:get -Dartifact="$ARTIFACT" -Dtransitive=false 2>&1); then
      if ! maven_central_reachable; then
        loud "MAVEN CENTRAL IS UNREACHABLE: cannot download $ARTIFACT." \
          "The Keycloak tests cannot run on this machine without it."
        exit 3
      fi
      printf '%s\n' "$out" | tail -20 >&2
      loud "mvn dependency:get failed for $ARTIFACT (Maven Central is reachable; see above)"
      exit 1
    fi
  fi
  say "unpacking into ${HOME_DIR#"$ROOT"/}"
  local tmp=$HOME_DIR.tmp.$$
  rm -rf "$tmp" && mkdir -p "$tmp"
  tar -xzf "$archive" -C "$tmp"
  mkdir -p "$HOME_DIR"
  rm -rf "$KC_DIR"
  mv "$tmp/keycloak-$VERSION" "$KC_DIR"
  rm -rf "$tmp"
  say "distribution $VERSION ready"
}

running_pid() { # prints the pid of our Keycloak if it is alive
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  printf '%s\n' "$pid"
}

ready() { curl -sf --max-time 5 "http://127.0.0.1:$MGMT_PORT/health/ready" >/dev/null 2>&1; }

print_exports() {
  printf 'export KEYCLOAK_URL=%s\n' "$URL"
  printf 'export KEYCLOAK_ADMIN_USER=%s\n' "$ADMIN_USER"
  printf 'export KEYCLOAK_ADMIN_PASSWORD=%s\n' "$ADMIN_PASSWORD"
}

start() {
  [ -x "$KC_DIR/bin/kc.sh" ] || fetch
  if running_pid >/dev/null && ready; then
    say "already running at $URL (pid $(running_pid))"
    print_exports
    return 0
  fi
  if ! running_pid >/dev/null && curl -s -o /dev/null --max-time 3 "$URL/"; then
    loud "port $PORT is already in use by another process; set KEYCLOAK_PORT to a free port"
    exit 1
  fi
  local java_home
  if ! java_home=$(find_java); then
    loud "Keycloak $VERSION needs Java 17 or newer; none found (set JAVA_HOME)"
    exit 4
  fi
  mkdir -p "$RUN_DIR"
  local pid
  if pid=$(running_pid); then
    say "pid $pid is starting; waiting"
  else
    say "starting Keycloak $VERSION (java $(java_major "$java_home/bin/java"), $java_home) on $URL"
    # Data (H2 dev-file: realms, users, clients) lives in $KC_DIR/data and survives restarts;
    # `reset` wipes it.
    # The bootstrap admin is only created when the master realm is first initialised.
    (
      cd "$KC_DIR"
      JAVA_HOME=$java_home \
        KC_BOOTSTRAP_ADMIN_USERNAME=$ADMIN_USER KC_BOOTSTRAP_ADMIN_PASSWORD=$ADMIN_PASSWORD \
        exec setsid nohup bin/kc.sh start-dev \
        --http-host=127.0.0.1 --http-port="$PORT" \
        --http-management-port="$MGMT_PORT" --health-enabled=true \
        >"$LOG_FILE" 2>&1 </dev/null
    ) &
    pid=$!
    echo "$pid" >"$PID_FILE"
  fi
  local t0=$SECONDS
  until ready; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -30 "$LOG_FILE" >&2 || true
      loud "Keycloak exited during startup; log: $LOG_FILE"
      rm -f "$PID_FILE"
      exit 1
    fi
    if [ $((SECONDS - t0)) -ge "$TIMEOUT" ]; then
      tail -30 "$LOG_FILE" >&2 || true
      loud "Keycloak not ready after ${TIMEOUT}s; log: $LOG_FILE"
      exit 1
    fi
    sleep 1
  done
  say "ready at $URL after $((SECONDS - t0))s (log: ${LOG_FILE#"$ROOT"/})"
  print_exports
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    say "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  say "stopping pid $pid"
  # setsid made it a process-group leader: signal the group (kc.sh + its java child).
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  say "stopped"
}

status() {
  if running_pid >/dev/null && ready; then
    say "running at $URL (pid $(running_pid))"
    return 0
  fi
  say "not running"
  return 1
}

reset() {
  stop
  rm -rf "$KC_DIR/data"
  say "data deleted"
}

[ $# -gt 0 ] || { sed -n '2,13p' "$0" >&2; exit 1; }
for cmd in "$@"; do
  case "$cmd" in
    fetch) fetch ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    reset) reset ;;
    *) say "unknown command: $cmd (fetch|start|stop|status|reset)"; exit 1 ;;
  esac
done
